"""analysis/basic.py: printed summary, growth-of-performance figure, stage selection."""

import copy
import re

import numpy as np
import pytest

import tools
from analysis import basic


@pytest.fixture(scope='module')
def hp_log(tiny_model_dir):
    return tools.load_hp(tiny_model_dir), tools.load_log(tiny_model_dir)


def _files(root, name):
    return [p for p in root.rglob(name + '.*')]


def test_summary_and_figure(tiny_model_dir, hp_log, figure_root, capsys):
    hp, log = hp_log
    assert basic.print_basic_info(hp, log, tiny_model_dir) is None
    out = capsys.readouterr().out
    assert 'Rules trained: overlap, zero_gap, gap, odr, odrd, gap500' in out
    assert 'Checkpoints: 11 from trial 0 to 1280, every 128' in out
    # The ramp 0.1 … 1.0: early ≤ 0.35 (0.1, 0.19, 0.28), mid ≤ 0.65, mature above.
    assert re.search(r'odr +early +3 +0 – 256 +0.10 – 0.28\n', out)
    assert re.search(r'odr +mature +4 +896 – 1280 +0.73 – 1.00\n', out)
    files = _files(figure_root, 'growth_of_performance')
    assert sorted(p.suffix for p in files) == ['.pdf', '.png']
    assert all(p.stat().st_size > 1000 for p in files)


def test_auto_range_select_matches_tools(tiny_model_dir, hp_log, figure_root, capsys):
    hp, log = hp_log
    kw = dict(avr_window=2, perf_margin=0.1, max_trial_num_limit=3)
    sel = basic.print_basic_info(hp, log, tiny_model_dir, smooth_growth=False,
                                 auto_range_select=True, **kw)
    assert sel == tools.range_auto_select(hp, log, hp['rule_trains'], **kw)
    assert all(sel['odr'][s] for s in ('early', 'mid', 'mature'))
    assert all(len(v) <= 3 for stages in sel.values() for v in stages.values())
    out = capsys.readouterr().out
    assert 'Auto-selected checkpoints (at most 3 per stage)' in out
    files = _files(figure_root, 'growth_of_performance_range')
    assert len(files) == 2 and all(p.stat().st_size > 1000 for p in files)


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
    with pytest.raises(KeyError, match="'odr'.*logged rules.*'gap'"):
        basic.print_basic_info(hp, log, tiny_model_dir)
