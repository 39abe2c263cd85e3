"""analysis/basic.py: printed summary, growth-of-performance figure, stage selection."""

import copy
import os
import re
import shutil

import numpy as np
import pytest

import tools
from analysis import basic, common


@pytest.fixture(scope='module')
def hp_log(tiny_model_dir):
    return tools.load_hp(tiny_model_dir), tools.load_log(tiny_model_dir)


def _files(root, name):
    return [p for p in root.rglob(name + '.*')]


def _drawn_lines(monkeypatch):
    """Record {label: (x, y)} of every line of the figures saved (then save them)."""
    drawn = {}
    save = common.save_figure

    def recording(fig, path, *args, **kwargs):
        for ax in fig.axes:
            for line in ax.get_lines():
                drawn[line.get_label()] = (np.asarray(line.get_xdata(), dtype=float),
                                           np.asarray(line.get_ydata(), dtype=float))
        return save(fig, path, *args, **kwargs)
    monkeypatch.setattr(common, 'save_figure', recording)
    return drawn


def test_summary_and_figure(tiny_model_dir, hp_log, figure_root, capsys, monkeypatch):
    hp, log = hp_log
    drawn = _drawn_lines(monkeypatch)
    assert basic.print_basic_info(hp, log, tiny_model_dir) is None
    # Each rule's curve: the ramp 0.1 … 1.0 (11 checkpoints) smoothed with window 5 —
    # point i the mean of points i … i + 5 (fewer at the end), written out here; the
    # three stage targets as horizontal lines.
    ramp = np.linspace(0.1, 1.0, 11).round(3)
    smoothed = [ramp[i:i + 6].mean() for i in range(11)]
    for rule in hp['rule_trains']:
        np.testing.assert_allclose(drawn[rule][0], np.arange(0, 1281, 128))
        np.testing.assert_allclose(drawn[rule][1], smoothed, rtol=1e-12)
    for stage, level in (('early', 0.35), ('mid', 0.65), ('mature', 0.95)):
        np.testing.assert_allclose(drawn['{} target {:.2f}'.format(stage, level)][1], level)
    out = capsys.readouterr().out
    assert 'Rules trained: overlap, zero_gap, gap, odr, odrd, gap500' in out
    assert 'Checkpoints: 11 from trial 0 to 1280, every 128' in out
    # The ramp 0.1 … 1.0: early ≤ 0.35 (0.1, 0.19, 0.28), mid ≤ 0.65, mature above.
    assert re.search(r'odr +early +3 +0 – 256 +0.10 – 0.28\n', out)
    assert re.search(r'odr +mature +4 +896 – 1280 +0.73 – 1.00\n', out)
    files = _files(figure_root, 'growth_of_performance')
    assert sorted(p.suffix for p in files) == ['.pdf', '.png']
    assert all(p.stat().st_size > 1000 for p in files)


def test_auto_range_select_known_answer(tiny_model_dir, hp_log, figure_root, capsys):
    hp, log = hp_log
    # The ramp 0.10, 0.19, …, 0.91, 1.00 at checkpoints 0, 128, …, 1280. Windows of
    # avr_window + 1 = 3 checkpoints; their means are 0.19, 0.28, 0.37, 0.46, 0.55, 0.64,
    # 0.73, 0.82, 0.91, 0.955, 1.0 (the last two windows are shorter). Within
    # 0.35 ± 0.075: the windows at 128 (0.28) and 256 (0.37) → early 128 … 512; within
    # 0.65 ± 0.075: the window at 640 (0.64) → mid 640, 768, 896; ≥ 0.95 − 0.075: the
    # windows at 1024, 1152, 1280 → mature 1024, 1152, 1280.
    kw = dict(smooth_growth=False, auto_range_select=True, avr_window=2, perf_margin=0.075)
    sel = basic.print_basic_info(hp, log, tiny_model_dir, **kw)
    expected = {'early': [128, 256, 384, 512], 'mid': [640, 768, 896],
                'mature': [1024, 1152, 1280]}
    assert sel == {rule: expected for rule in hp['rule_trains']}
    out = capsys.readouterr().out
    assert 'Auto-selected checkpoints (at most 30 per stage)' in out
    assert 'mature  performance averaged over 3 checkpoints ≥ 0.88' in out
    assert re.search(r'odr +mid +3 +640 – 896 +0.55 – 0.73\n', out)   # own performance
    # At most 2 per stage: the last early ones, the middle mid ones (start (3 − 2) // 2
    # = 0), the first mature ones.
    sel = basic.print_basic_info(hp, log, tiny_model_dir, max_trial_num_limit=2, **kw)
    assert sel['odr'] == {'early': [384, 512], 'mid': [640, 768], 'mature': [1024, 1152]}
    files = _files(figure_root, 'growth_of_performance_range')
    assert len(files) == 2 and all(p.stat().st_size > 1000 for p in files)


def test_overlapping_selections_and_missing_checkpoints(model_copy, figure_root, capsys):
    hp, log = tools.load_hp(model_copy), tools.load_log(model_copy)
    # Checkpoint 640 (in the mid window) is deleted: one warning names it, and it is not
    # selected. A plateau at 0.5 between the targets makes early and mid windows overlap.
    shutil.rmtree(os.path.join(model_copy, '640'))
    for rule in hp['rule_trains']:
        log['perf_' + rule] = [0.35] * 4 + [0.5] + [0.65] * 6
    sel = basic.print_basic_info(hp, log, model_copy, auto_range_select=True, avr_window=1,
                                 perf_margin=0.1)
    # windows of 2: means 0.35 ×3, 0.425 (384, 512), 0.575 (512, 640), 0.65 ×5, 0.65
    assert sel['odr'] == {'early': [0, 128, 256, 384, 512],
                          'mid': [512, 768, 896, 1024, 1152, 1280], 'mature': []}
    out, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if 'no folder' in line]
    assert len(warnings) == 1 and '640' in warnings[0]
    assert 'Selected for two stages' in out and 'odr early/mid: [512]' in out


def test_empty_stage_is_reported(tiny_model_dir, hp_log, figure_root, capsys):
    hp, log = hp_log
    log = copy.deepcopy(log)
    for rule in hp['rule_trains']:
        log['perf_' + rule] = list(np.linspace(0.1, 0.5, len(log['trials'])))
    sel = basic.print_basic_info(hp, log, tiny_model_dir, auto_range_select=True,
                                 avr_window=1)
    assert sel['odr']['mature'] == []
    err = capsys.readouterr().err
    assert "rule 'odr' has no checkpoint in the mature stage" in err
    assert "rule 'odr' has no checkpoint in the early stage" not in err
    basic.print_basic_info(hp, log, tiny_model_dir)
    assert "rule 'gap' has no checkpoint in the mature stage (performance > 0.65)" in \
        capsys.readouterr().err


def test_missing_rule_names_the_logged_rules(tiny_model_dir, hp_log, figure_root):
    hp, log = hp_log
    log = {k: v for k, v in log.items() if k != 'perf_odr'}
    with pytest.raises(common.DataUnavailable, match="'odr'.*logged rules.*'gap'"):
        basic.print_basic_info(hp, log, tiny_model_dir)
