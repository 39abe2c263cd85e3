"""Main_analysis end to end on a small model, and the shared runner (analysis.runner):
only DataUnavailable is skipped, checkpoints missing on disk are named once and left out."""

import os
import shutil

import pytest

import tools
from analysis import basic, common, runner

# The small model (conftest.small_model_dir): checkpoints 0, 32, …, 160, performance
# 0.05, 0.4, 0.9, 1.0, 1.0, 1.0 for every rule. Main_analysis's selection (windows of 10
# checkpoints, here the rest of the run) finds: mean of all = 0.67 → mid (within
# 0.65 ± 0.05), windows from 64 on ≥ 0.90 → mature. In the stage dict 0 and 32 are mid,
# 64 … 160 mature.
DELETED = 96      # a checkpoint folder removed from the middle of the run


def _quick_save(saved):
    def save(fig, path, formats=('png', 'pdf'), dpi=150):
        # Rendering ~90 figures would dominate the test time; each figure function is
        # rendered for real by its own tests. Here the orchestration is under test.
        import matplotlib.pyplot as plt
        plt.close(fig)
        with open(path + '.png', 'wb') as f:
            f.write(b'figure')
        saved.append(path)
        return [path + '.png']
    return save


def test_main_analysis_end_to_end(small_model_dir, tmp_path, figure_root, monkeypatch, capsys):
    import Main_analysis
    model_dir = str(tmp_path / 'small')
    shutil.copytree(small_model_dir, model_dir)
    shutil.rmtree(os.path.join(model_dir, str(DELETED)))
    saved = []
    monkeypatch.setattr(common, 'save_figure', _quick_save(saved))
    out = Main_analysis.main(['--model-dir', model_dir, '--sample-neurons', '1',
                              '--behaviour-checkpoints', '1'])
    stdout, stderr = capsys.readouterr()
    assert out['skipped'] == []
    assert out['figures'] == len(set(saved)) > 50
    assert stdout.strip().splitlines()[-1].startswith(
        'Main_analysis: {} figure(s) written'.format(out['figures']))
    # The deleted checkpoint: named in one warning line, then never asked for.
    warnings = [line for line in stderr.splitlines() if 'no folder' in line]
    assert len(warnings) == 1 and str(DELETED) in warnings[0]
    assert not os.path.exists(os.path.join(model_dir, str(DELETED)))
    assert os.path.isfile(common.H_path(model_dir, 128, 'odr'))
    made = {os.path.relpath(p, str(figure_root)) for p in saved}
    for rule, epoch in [('odr', 'stim1'), ('odr', 'delay1'), ('odrd', 'stim1'),
                        ('odrd', 'delay1'), ('odrd', 'delay2'), ('overlap', 'stim1'),
                        ('zero_gap', 'stim1'), ('gap', 'stim1'), ('gap500', 'stim1')]:
        mine = [p for p in made if p.split(os.sep)[1:3] == [rule, epoch]]
        for kind in ('_PSTH', '_tuning_analysis', '_epoch_mean_growth',
                     '_activity_oneway_anova_analysis', '_heatmap', 'sample_neuron'):
            assert any(kind in p for p in mine), (rule, epoch, kind)
    for kind in ('odr/dPCA/odr_32_dPCA', 'odr/odr_64_w500ms_s50ms',
                 'odrd/distractor/odrd_distractor_analysis_by_growth',
                 'overlap/saccade_distribut_analysis_by_growth'):
        assert any(p.endswith(kind) for p in made), kind


def test_a_bug_in_an_analysis_is_not_a_skipped_block(small_model_dir, figure_root, monkeypatch):
    import Main_analysis

    def broken(*args, **kwargs):
        raise KeyError('perf_odr')          # a bug, not missing data

    monkeypatch.setattr(basic, 'print_basic_info', broken)
    with pytest.raises(KeyError, match='perf_odr'):
        Main_analysis.main(['--model-dir', small_model_dir])


def test_block_runner_skips_only_data_unavailable(capsys):
    run = runner.BlockRunner()

    def missing(rule, n=1):
        raise common.DataUnavailable('This model was not trained on rule {!r}'.format(rule))

    def bug(rule):
        raise ValueError('bad arithmetic')

    assert run(missing, 'odr', n=2) is None
    assert run(lambda: 7) == 7
    for exc, fn in ((ValueError, bug), (KeyError, lambda r: {}[r]),
                    (FileNotFoundError, lambda r: open(os.path.join('/nonexistent', r)))):
        with pytest.raises(exc):
            run(fn, 'odr')
    assert run.skipped == ['missing odr n=2'] and run.done == 1
    err = capsys.readouterr().err
    assert "[skipped] missing odr n=2: This model was not trained on rule 'odr'" in err
    assert err.count('[skipped]') == 1


def test_log_on_disk_drops_missing_checkpoints(small_model_dir, tmp_path, capsys):
    model_dir = str(tmp_path / 'small')
    shutil.copytree(small_model_dir, model_dir)
    log = tools.load_log(model_dir)
    assert runner.log_on_disk(model_dir, log) is log and capsys.readouterr().err == ''
    for t in (32, 128):
        shutil.rmtree(os.path.join(model_dir, str(t)))
    kept = runner.log_on_disk(model_dir, log)
    assert kept['trials'] == [0, 64, 96, 160]
    assert kept['perf_odr'] == [0.05, 0.9, 1.0, 1.0]
    assert len(kept['growth']) == 4 and kept['model_dir'] == log['model_dir']
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and '2 checkpoint(s)' in err[0] and '32, 128' in err[0]
