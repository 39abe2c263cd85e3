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
    def save(fig, path, formats=('png', 'pdf'), dpi=150, tight=True):
        # Rendering ~90 figures would dominate the test time; each figure function is
        # rendered for real by its own tests. Here the orchestration is under test.
        import matplotlib.pyplot as plt
        plt.close(fig)
        with open(path + '.png', 'wb') as f:
            f.write(b'figure')
        saved.append(path)
        return [path + '.png']
    return save


# ODR never leaves chance in the end-to-end test's model: the automatic selection finds
# no ODR checkpoint at all (no window near 0.35, 0.65 or ≥ 0.90), and every checkpoint's
# own performance is early.
ODR_AT_CHANCE = [0.05, 0.12, 0.1, 0.12, 0.1, 0.11]


def test_main_analysis_end_to_end(small_model_dir, tmp_path, figure_root, monkeypatch, capsys):
    import Main_analysis
    model_dir = str(tmp_path / 'small')
    shutil.copytree(small_model_dir, model_dir)
    shutil.rmtree(os.path.join(model_dir, str(DELETED)))
    log = tools.load_log(model_dir)
    log['perf_odr'] = ODR_AT_CHANCE
    tools.save_log(log, model_dir)
    saved = []
    monkeypatch.setattr(common, 'save_figure', _quick_save(saved))
    out = Main_analysis.main(['--model-dir', model_dir, '--sample-neurons', '1',
                              '--behaviour-checkpoints', '1'])
    stdout, stderr = capsys.readouterr()
    # ODR never leaves chance: it has no mid or mature network; ODRD's checkpoint 0 is mid
    # in its selection, so it has no early one. The dPCA and decoding lines given such a
    # network say so; nothing else is skipped.
    none = ['neuron_dPCA trial_num=None rule=odr task_mode=test',
            'Decoder_analysis trial_num=None rule=odr window_size=10 test_num=2']
    assert sorted(out['skipped']) == sorted(none * 2 + [
        'Decoder_analysis trial_num=None rule=odrd window_size=10 test_num=2']), out['reasons']
    assert set(out['reasons'].values()) == {
        "no checkpoint given for rule {!r} (trial_num=None: the stage has no checkpoint)"
        .format(r) for r in ('odr', 'odrd')}
    # Figures of this process (quick files) and of the behaviour / decoding / dPCA blocks,
    # which ran in a second process (rendered there): the summary counts them all.
    pngs = [os.path.join(d, f) for d, _, files in os.walk(str(figure_root))
            for f in files if f.endswith('.png')]
    assert len(set(saved)) > 50 and len(pngs) > len(set(saved))
    assert out['figures'] == len(pngs)
    assert any(os.sep + 'distractor' + os.sep in p for p in pngs)          # behaviour
    assert any(os.sep + 'dPCA' + os.sep in p for p in pngs)                # population
    assert '== output of the blocks run in parallel:' in stdout
    # ODR: one line says which stages were empty and what was used instead.
    fallback = [line for line in stderr.splitlines() if 'automatic selection has no' in line]
    odr_lines = [line for line in fallback if line.startswith('[analysis] odr: ')]
    assert len(odr_lines) == 1, odr_lines
    assert 'no early/mid/mature checkpoint' in odr_lines[0]
    assert 'early: 5 checkpoint(s)' in odr_lines[0] and 'mid: none' in odr_lines[0]
    # The other rules' selection has no early stage (the run starts near 0.4): filled
    # from the checkpoints' own performance where one is not already mid.
    odrd_lines = [line for line in fallback if line.startswith('[analysis] odrd: ')]
    assert len(odrd_lines) == 1 and 'no early checkpoint' in odrd_lines[0]
    # The closing summary ends the output: its first line counts what was drawn, then
    # only its own indented lines (skipped blocks by reason, slowest blocks) follow.
    lines = stdout.strip().splitlines()
    head = max(i for i, line in enumerate(lines) if line.startswith('Main_analysis: '))
    assert lines[head].startswith('Main_analysis: {} figure(s) written'.format(out['figures']))
    assert all(line.startswith('  ') for line in lines[head + 1:])
    # The deleted checkpoint: named in one warning line, then never asked for.
    warnings = [line for line in stderr.splitlines() if 'no folder' in line]
    assert len(warnings) == 1 and str(DELETED) in warnings[0]
    assert not os.path.exists(os.path.join(model_dir, str(DELETED)))
    # H is computed in memory, never written unless asked (compute_H / Get_H(save_H=True));
    # the small products are kept: neuron_info pickles and task_info.pkl.
    written = [f for _, _, files in os.walk(model_dir) for f in files]
    assert not [f for f in written if f.startswith('H_')]
    assert os.path.isfile(common.neuron_info_path(model_dir, 128, 'odrd', 'delay2'))
    assert os.path.isfile(common.task_info_path(model_dir))
    made = {os.path.relpath(p, str(figure_root))[:-len('.png')] for p in pngs}
    for rule, epoch in [('odr', 'stim1'), ('odr', 'delay1'), ('odrd', 'stim1'),
                        ('odrd', 'delay1'), ('odrd', 'delay2'), ('overlap', 'stim1'),
                        ('zero_gap', 'stim1'), ('gap', 'stim1'), ('gap500', 'stim1')]:
        mine = [p for p in made if p.split(os.sep)[1:3] == [rule, epoch]]
        for kind in ('_PSTH', '_tuning_analysis', '_epoch_mean_growth',
                     '_activity_oneway_anova_analysis', '_heatmap', 'sample_neuron'):
            assert any(kind in p for p in mine), (rule, epoch, kind)
    for kind in ('odr/dPCA/odr_32_dPCA', 'odr/odr_32_w500ms_s50ms', 'odrd/odrd_64_w500ms_s50ms',
                 'odrd/distractor/odrd_distractor_analysis_by_growth',
                 'overlap/saccade_distribut_analysis_by_growth'):
        assert any(p.endswith(kind) for p in made), kind


def test_h_pickles_only_when_asked(model_copy):
    """H pickles are written by compute_H (save_H_pickle=True, its default) and
    Get_H(save_H=True) only, in the original's format: a pickled numpy float32 array
    (T, 128 test trials, n_rnn); Get_H without save_H and the analyses write none."""
    import pickle

    import numpy as np

    from analysis import activity
    hp, log = tools.load_hp(model_copy), tools.load_log(model_copy)
    H = activity.Get_H(hp, model_copy, 1280, 'odr')
    assert not os.path.exists(common.H_path(model_copy, 1280, 'odr'))
    activity.compute_H(hp, log, model_copy, rules=['odr', 'overlap'], trial_list=[1280],
                       verbose=False)
    for rule in ('odr', 'overlap'):
        with open(common.H_path(model_copy, 1280, rule), 'rb') as f:
            saved = pickle.load(f)
        assert type(saved) is np.ndarray and saved.dtype == np.float32
        assert saved.shape[1:] == (128, hp['n_rnn'])
    # the same activity as the one computed in memory (same trials and noise streams)
    np.testing.assert_array_equal(common.load_H(model_copy, 1280, 'odr'), H)
    assert activity.compute_H(hp, log, model_copy, rules=['odr'], trial_list=[1280],
                              save_H_pickle=False, verbose=False)[1280]['odr'].shape == H.shape
    activity.Get_H(hp, model_copy, 0, 'odrd', save_H=True)
    assert os.path.isfile(common.H_path(model_copy, 0, 'odrd'))
    assert sorted(f for _, _, fs in os.walk(model_copy) for f in fs if f.startswith('H_')) \
        == ['H_odr.pkl', 'H_odrd.pkl', 'H_overlap.pkl']


def test_a_block_that_draws_nothing_is_skipped_with_its_reason(capsys):
    run = runner.BlockRunner()

    def empty_figure(rule):
        common.note('plot_x: rule {!r} has no checkpoint in any stage'.format(rule))
        return {'psth': {}, 'figures': []}

    assert run(empty_figure, 'odr') is None
    assert run(empty_figure, 'odrd') is None
    assert run(lambda: {'figures': ['a.png']}) == {'figures': ['a.png']}
    assert run.done == 1 and run.skipped == ['empty_figure odr', 'empty_figure odrd']
    assert run.reasons['empty_figure odr'] == (
        "nothing to draw — plot_x: rule 'odr' has no checkpoint in any stage")
    summary = run.summary(3, 'figure/x', 1.0)
    assert summary.splitlines()[0] == ('3 figure(s) written to figure/x in 1.0 s; 1 block(s) '
                                       'done, 2 skipped')
    assert summary.splitlines()[1:3] == [
        "  skipped 1 × nothing to draw — plot_x: rule 'odr' has no checkpoint in any stage: "
        "empty_figure odr",
        "  skipped 1 × nothing to draw — plot_x: rule 'odrd' has no checkpoint in any stage: "
        "empty_figure odrd"]
    assert summary.splitlines()[3].startswith('  slowest blocks (wall s / CPU s): ')
    assert capsys.readouterr().err.count('[skipped]') == 2


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
