"""analysis.signatures: each statistic on inputs whose answer is known by hand."""

import math

import numpy as np
import pytest

from analysis import signatures as sig


# -- 1. learning order ----------------------------------------------------------------------
def test_first_crossing_is_strictly_above_the_threshold():
    trials = [0, 1280, 2560, 3840]
    assert sig.first_crossing(trials, [0.1, 0.95, 0.5, 0.97]) == 3840
    assert sig.first_crossing(trials, [0.1, 0.96, 0.5, 0.97]) == 1280
    assert sig.first_crossing(trials, [0.1, 0.2, 0.3, 0.4]) is None


def test_learning_order_anti_first():
    res = sig.learning_order({'gap': 100, 'overlap': 200, 'odr': 500, 'odrd': 300},
                             ['gap', 'overlap'], ['odr', 'odrd'])
    assert res == {'holds': True, 'gap': 100, 'last_early': 200, 'first_late': 300}


def test_learning_order_breaks_when_a_wm_task_is_learned_first_or_anti_never():
    assert not sig.learning_order({'gap': 100, 'overlap': 400, 'odr': 300},
                                  ['gap', 'overlap'], ['odr'])['holds']
    res = sig.learning_order({'gap': None, 'odr': 300}, ['gap'], ['odr'])
    assert not res['holds'] and res['gap'] is None


def test_learning_order_holds_while_wm_is_still_unlearned_but_has_no_gap():
    res = sig.learning_order({'gap': 100, 'odr': None, 'odrd': 900}, ['gap'],
                             ['odr', 'odrd'])
    assert res['holds'] and res['gap'] is None and res['first_late'] == 900


# -- 2, 4. ANOVA across stages --------------------------------------------------------------
def test_stage_anova_known_answer():
    # Means 2, 3, 6; grand mean 11/3; SS_between = 26, SS_within = 6 on (2, 6) dfs.
    res = sig.stage_anova({'early': [1, 2, 3], 'mid': [2, 3, 4], 'mature': [5, 6, 7]})
    assert res['means'] == {'early': 2, 'mid': 3, 'mature': 6}
    assert (res['df_between'], res['df_within']) == (2, 6)
    assert res['F'] == pytest.approx(13.0)
    assert res['eta2'] == pytest.approx(26 / 32)
    # With 2 numerator dfs the F tail is (1 + 2F/df2) ** (-df2/2).
    assert res['p'] == pytest.approx((1 + 2 * 13 / 6) ** -3)
    assert sig.rises(res)


def test_stage_anova_ignores_non_finite_values_and_empty_stages():
    res = sig.stage_anova({'early': [1, 2, 3, np.nan], 'mid': [], 'mature': [5, 6, np.inf]})
    assert res['n'] == {'early': 3, 'mature': 2}
    assert res['df_between'] == 1 and res['df_within'] == 3


def test_stage_anova_without_spread_within_the_stages():
    # Each stage constant, the stages differ: SS_within = 0, so η² = 1; F = inf is left
    # out (F, p NaN: "not available"). Every value equal: all three NaN.
    res = sig.stage_anova({'early': [1, 1, 1], 'mature': [2, 2]})
    assert res['eta2'] == 1.0 and math.isnan(res['F']) and math.isnan(res['p'])
    res = sig.stage_anova({'early': [3, 3], 'mature': [3, 3]})
    assert math.isnan(res['eta2']) and math.isnan(res['F']) and math.isnan(res['p'])


def test_planted_stage_effect_is_found_and_its_absence_is_not():
    rs = np.random.RandomState(0)
    base = {s: rs.normal(1.0, 0.5, 80) for s in ('early', 'mid', 'mature')}
    planted = dict(base, mature=base['mature'] + 0.6)
    assert sig.rises(sig.stage_anova(planted))
    null = sig.stage_anova(base)
    assert null['p'] > 0.05 and not sig.rises(null)
    # a significant effect the wrong way round is not a rise
    assert not sig.rises(sig.stage_anova(dict(base, mature=base['mature'] - 0.6)))


def test_rises_needs_both_stages():
    assert sig.rises(sig.stage_anova({'mid': [1, 2], 'mature': [3, 4]})) is None


# -- 3. distractor ----------------------------------------------------------------------------
def test_distance_slopes_recover_a_planted_linear_trend():
    d = np.array([0, 45, 90, 135, 180.])
    mature = 0.5 + 0.4 * d / 180              # +0.4 per 180°
    early = np.full(5, 0.3)
    perf = np.vstack([early, early, mature, mature])
    out = sig.distance_slopes(perf, ['early', 'early', 'mature', 'mature'], d)
    assert out['mature']['slope'] == pytest.approx(0.4)
    assert out['mature']['p'] < 1e-6
    assert out['early']['slope'] == pytest.approx(0.0, abs=1e-12)
    assert out['early']['p'] == pytest.approx(1.0)
    assert out['mature']['n_checkpoints'] == 2
    np.testing.assert_allclose(sig.stage_difference(out), mature - early)
    assert sig.stage_difference({'mature': out['mature']}) is None


# -- 4. saccade errors ------------------------------------------------------------------------
def test_fraction_within_36_degrees():
    assert sig.fraction_within([0, 10, 35.9, 36, 170, np.nan]) == (0.6, 5)


def test_two_proportion_test_known_answer():
    res = sig.two_proportion_test(80, 100, 50, 100)
    se = math.sqrt(0.65 * 0.35 * (2 / 100))
    assert res['diff'] == pytest.approx(0.3)
    assert res['z'] == pytest.approx(0.3 / se)
    assert res['p'] == pytest.approx(math.erfc(0.3 / se / math.sqrt(2)))
    assert sig.two_proportion_test(5, 10, 5, 10)['p'] == pytest.approx(1.0)


# -- 5. decoding ------------------------------------------------------------------------------
def test_decoding_summary_averages_the_diagonal_of_windows_inside_each_period():
    starts = np.arange(20)
    acc = np.full((20, 20), 0.5)
    acc[np.diag_indices(20)] = np.arange(20) / 100.0
    s = sig.decoding_summary(acc, starts, 2, delay=(10, 16), pre_cue=(0, 3), n_classes=8)
    # windows [s, s+2) inside [10, 16): s = 10..14; inside [0, 3): s = 0, 1
    assert s['delay'] == pytest.approx(np.mean([.10, .11, .12, .13, .14]))
    assert s['pre_cue'] == pytest.approx(0.005)
    assert (s['n_delay'], s['n_pre_cue'], s['chance']) == (5, 2, 0.125)


def test_decodes_thresholds():
    ok = {'delay': 0.95, 'pre_cue': 0.2, 'chance': 0.125}
    assert sig.decodes(ok)
    assert not sig.decodes(dict(ok, delay=0.85))
    assert not sig.decodes(dict(ok, pre_cue=0.3))
    assert sig.decodes(dict(ok, pre_cue=float('nan'))) is None


# -- 6. tuning --------------------------------------------------------------------------------
def test_height_test_known_answer():
    res = sig.height_test([1, 2, 3], [0, 1, 2])
    assert res['d'] == pytest.approx(1.0)             # difference 1, pooled sd 1
    assert res['t'] == pytest.approx(1 / math.sqrt(2 / 3))
    assert (res['mean_high'], res['mean_low']) == (2.0, 1.0)
    assert math.isnan(sig.height_test([1], [0, 1])['p'])
