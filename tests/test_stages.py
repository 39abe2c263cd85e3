"""stages.py: the stage words, thresholds, growth labels, the stage of a checkpoint and the
automatic selection — known answers worked out by hand from the definitions."""

import pytest

import stages
from analysis import common

HP = {'early_target_perf': 0.35, 'mid_target_perf': 0.65, 'mature_target_perf': 0.95,
      'rule_trains': ['odr']}


def test_stage_of_a_performance_value_and_growth_labels():
    # early ≤ 0.35 < mid ≤ 0.65 < mature; growth labels split the mature stage at 0.95.
    values = (0.0, 0.35, 0.36, 0.65, 0.66, 0.95, 0.96)
    assert [stages.stage_of_perf(p, HP) for p in values] == [
        'early', 'early', 'mid', 'mid', 'mature', 'mature', 'mature']
    assert [stages.growth_label(p, HP) for p in values] == [
        '=>E', '=>E', 'E=>MID', 'E=>MID', 'MID=>A', 'MID=>A', 'MATURE']
    assert stages.targets(HP) == {'early': 0.35, 'mid': 0.65, 'mature': 0.95}
    with pytest.raises(KeyError, match='mature_target_perf'):
        stages.targets({'early_target_perf': 0.3, 'mid_target_perf': 0.6})


def test_criteria_text_matches_the_rules():
    own = stages.criteria(HP)
    assert own == {'early': 'performance ≤ 0.35', 'mid': '0.35 < performance ≤ 0.65',
                   'mature': 'performance > 0.65'}
    auto = stages.criteria(HP, auto=True, avr_window=9, perf_margin=0.05)
    assert auto['mature'] == 'performance averaged over 10 checkpoints ≥ 0.90'
    assert auto['early'] == 'performance averaged over 10 checkpoints within 0.35 ± 0.05'


def test_range_auto_select_on_plateaus():
    perf = [0.0] * 5 + [0.35] * 5 + [0.65] * 5 + [1.0] * 5
    log = {'trials': [i * 1280 for i in range(20)], 'perf_odr': perf}
    sel = stages.range_auto_select(HP, log, avr_window=0, perf_margin=0.05)['odr']
    assert sel == {'early': log['trials'][5:10], 'mid': log['trials'][10:15],
                   'mature': log['trials'][15:20]}
    lim = stages.range_auto_select(HP, log, avr_window=0, max_trial_num_limit=3)['odr']
    assert lim['early'] == log['trials'][7:10]      # the last ones
    assert lim['mid'] == log['trials'][11:14]       # the middle ones
    assert lim['mature'] == log['trials'][15:18]    # the first ones
    # A window of 2 (avr_window 1) whose mean is 1.0 starts at index 15 only.
    win = stages.range_auto_select(HP, log, avr_window=1, perf_margin=0.0)['odr']
    assert win['mature'] == log['trials'][15:20]
    # Checkpoints missing on disk are never selected, and the limit applies after.
    ex = stages.range_auto_select(HP, log, avr_window=0, max_trial_num_limit=3,
                                  exclude=[log['trials'][15]])['odr']
    assert ex['mature'] == log['trials'][16:19]
    with pytest.raises(common.DataUnavailable, match="logged rules: \\['odr'\\]"):
        stages.range_auto_select(HP, log, rules=['gap'])


def test_a_window_joins_whole_dips_and_overlaps_included():
    # The README's example: mean of 10 checkpoints = (9 · 0.95 + 0.51) / 10 = 0.906 ≥ 0.90,
    # so the dip to 0.51 is selected as mature with its window.
    perf = [0.95] * 4 + [0.51] + [0.95] * 5
    log = {'trials': list(range(0, 12800, 1280)), 'perf_odr': perf}
    sel = stages.range_auto_select(HP, log, avr_window=9)['odr']
    assert 5120 in sel['mature'] and sel['early'] == sel['mid'] == []
    # Overlapping windows put a checkpoint in two stages.
    perf = [0.35, 0.35, 0.5, 0.65, 0.65]
    log = {'trials': [0, 1, 2, 3, 4], 'perf_odr': perf}
    sel = stages.range_auto_select(HP, log, avr_window=1, perf_margin=0.1)['odr']
    # window means: 0.35 (checkpoints 0, 1) and 0.425 (1, 2) are within 0.35 ± 0.1;
    # 0.575 (2, 3), 0.65 (3, 4) and 0.65 (4) within 0.65 ± 0.1.
    assert sel['early'] == [0, 1, 2] and sel['mid'] == [2, 3, 4]
    # In a stage dict a checkpoint belongs to its latest stage.
    assert stages.stage_of(HP, log, 2, 'odr', {'odr': sel}) == 'mid'
    assert stages.group_by_stage(HP, log, {'odr': sel}, 'odr') == {
        'early': [0, 1], 'mid': [2, 3, 4], 'mature': []}


def test_stage_of_checkpoints_and_representative_checkpoint():
    log = {'trials': [0, 1280, 2560, 3840, 5120], 'perf_odr': [0.2, 0.4, 0.6, 0.97, 0.99]}
    groups = stages.group_by_stage(HP, log, range(0, 6400, 1280), 'odr')
    assert groups == {'early': [0], 'mid': [1280, 2560], 'mature': [3840, 5120]}
    stage_dict = {'odr': {'early': [0], 'mid': [1280, 2560], 'mature': [3840, 5120]}}
    assert stages.group_by_stage(HP, log, stage_dict, 'odr') == groups
    assert stages.representative_checkpoint(HP, log, stage_dict, 'odr', 'mid') == 2560
    assert stages.representative_checkpoint(HP, log, stage_dict, 'odr', 'mature') == 3840
    assert stages.representative_checkpoint(HP, log, [0], 'odr', 'mature') is None
    assert stages.perf_at(log, 'odr', 3840) == 0.97
    with pytest.raises(common.DataUnavailable, match='not a checkpoint'):
        stages.stage_of(HP, log, 100, 'odr')
    with pytest.raises(common.DataUnavailable, match="holds: \\['odr'\\]"):
        stages.group_by_stage(HP, log, stage_dict, 'gap')
    # DataUnavailable is a ValueError: callers that caught ValueError still do.
    assert issubclass(common.DataUnavailable, ValueError)


def test_expand_trial_list_forms():
    stage_dict = {'odr': {'early': [0], 'mid': [1280], 'mature': [2560]},
                  'gap': {'early': [], 'mid': [3840], 'mature': [1280]}}
    assert stages.expand_trial_list(range(0, 3000, 1280)) == [0, 1280, 2560]
    assert stages.expand_trial_list(2560) == [2560]
    assert stages.expand_trial_list(stage_dict, 'gap') == [1280, 3840]
    assert stages.expand_trial_list(stage_dict, ['odr', 'gap']) == [0, 1280, 2560, 3840]
    assert stages.expand_trial_list(stage_dict) == [0, 1280, 2560, 3840]
