"""Figure analyses (psth, tuning, seldir, pca) on the tiny model.

The tiny model's log is a performance ramp 0.1 → 1.0 over checkpoints 0, 128, ..., 1280,
so with the default targets 128 is early (0.19), 640 mid (0.55) and 1280 mature (1.0).
"""

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ttest_ind

import stages
import tools
from analysis import common, pca, psth, seldir, tuning, unit_figures
from analysis.activity import Get_H, compute_H

TRIALS = [128, 640, 1280]          # one early, one mid, one mature checkpoint


@pytest.fixture(scope='module')
def analysed(tiny_model_dir, tmp_path_factory):
    """A module-private copy of the tiny model with H of three rules at TRIALS."""
    model_dir = str(tmp_path_factory.mktemp('figures') / 'tiny')
    shutil.copytree(tiny_model_dir, model_dir)
    hp, log = tools.load_hp(model_dir), tools.load_log(model_dir)
    compute_H(hp, log, model_dir, rules=['odr', 'odrd', 'overlap'], trial_list=TRIALS,
              verbose=False)
    return model_dir, hp, log


def _written(result):
    """Every returned figure path exists, is non-empty, and comes as PNG and PDF."""
    paths = result['figures']
    assert paths, 'no figure written'
    for p in paths:
        assert os.path.getsize(p) > 0, p
    stems = {os.path.splitext(p)[0] for p in paths}
    for stem in stems:
        assert os.path.getsize(stem + '.png') > 0 and os.path.getsize(stem + '.pdf') > 0
    return stems


def _loop_psth(H, info, units, prefs, norm, oppo):
    """The original per-unit loop, as reference."""
    n = len(info['in_loc_set'])
    in_loc = np.asarray(info['in_loc'])
    f0, f1 = info['epoch_info']['fix1']
    rows = []
    for u, pref in zip(units, prefs):
        loc = (pref + n // 2) % n if oppo else pref
        trace = H[:, in_loc == loc, u].mean(axis=1)
        if oppo and n % 2:
            trace = (trace + H[:, in_loc == (loc + 1) % n, u].mean(axis=1)) / 2.0
        fix = H[f0:f1, in_loc == loc, u].mean(axis=1).mean(axis=0)
        rows.append(trace / fix - 1 if norm else trace)
    return np.array(rows)


def _reference_rows(hp, model_dir, t, rule, epoch, norm=True, oppo=False):
    """The loop PSTH rows of checkpoint t: units of N_TYPES listed in its neuron_info
    pickle for (rule, epoch), sorted, at their preferred (or opposite) location."""
    ninfo = common.load_neuron_info(model_dir, t, rule, epoch)
    prefs = {e[0]: e[2] for k in common.N_TYPES for e in ninfo[k]}
    units = sorted(prefs)
    return _loop_psth(Get_H(hp, model_dir, t, rule), common.load_task_info(model_dir)[rule],
                      units, [prefs[u] for u in units], norm, oppo)


# ----------------------------------------------------------------------------------------
# PSTH log
# ----------------------------------------------------------------------------------------
def test_gen_PSTH_log_shapes_and_loop_parity(analysed):
    model_dir, hp, _ = analysed
    # a range (the original crashed on one); checkpoint 0 has no H pickle: H is computed
    # on demand and not written (as the original's gen_PSTH_log: Get_H(save_H=False))
    out = psth.gen_PSTH_log(hp, range(0, 1281, 640), model_dir, 'odr', 'stim1',
                            verbose=False)
    assert sorted(out) == [0, 640, 1280]
    assert not os.path.exists(common.H_path(model_dir, 0, 'odr'))
    info = common.load_task_info(model_dir)['odr']
    for t in sorted(out):
        ninfo = common.load_neuron_info(model_dir, t, 'odr', 'stim1')
        units = sorted({e[0] for k in common.N_TYPES for e in ninfo[k]})
        H = Get_H(hp, model_dir, t, 'odr')
        assert out[t].shape == (len(units), H.shape[0])
        prefs = {e[0]: e[2] for k in common.N_TYPES for e in ninfo[k]}
        ref = _loop_psth(H, info, units, [prefs[u] for u in units], True, False)
        np.testing.assert_allclose(out[t], ref, rtol=1e-4, atol=1e-6)
    oppo = psth.gen_PSTH_log(hp, [1280], model_dir, 'odr', 'stim1', norm=False,
                             oppo_sel_dir=True, verbose=False)[1280]
    np.testing.assert_allclose(oppo, _loop_psth(H, info, units, [prefs[u] for u in units],
                                                False, True), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('norm', [True, False])
def test_psth_from_H_odd_number_of_locations(norm):
    rng = np.random.RandomState(0)
    n, per = 5, 4
    H = rng.rand(12, n * per, 6) + 0.5
    info = {'in_loc': np.arange(n * per) // per, 'in_loc_set': list(range(n)),
            'epoch_info': {'fix1': (None, 4)}}
    units, prefs = np.array([0, 2, 5]), np.array([4, 0, 2])
    for oppo in (False, True):
        np.testing.assert_allclose(psth.psth_from_H(H, info, units, prefs, norm, oppo),
                                   _loop_psth(H, info, units, prefs, norm, oppo), rtol=1e-5)


# ----------------------------------------------------------------------------------------
# Every figure function writes PNG + PDF
# ----------------------------------------------------------------------------------------
def test_plot_PSTH(analysed, figure_root):
    model_dir, hp, log = analysed
    res = psth.plot_PSTH(hp, log, model_dir, 'odrd', 'stim1', TRIALS, plot_oppo_dir=True)
    _written(res)
    assert list(res['psth']) == ['early', 'mid', 'mature']
    # Oracle: one checkpoint per stage, the mean over its units of the loop PSTH rows.
    for stage, t in zip(stages.STAGES, TRIALS):
        for key, oppo in (('psth', False), ('psth_oppo', True)):
            rows = _reference_rows(hp, model_dir, t, 'odrd', 'stim1', oppo=oppo)
            np.testing.assert_allclose(res[key][stage], rows.mean(axis=0), rtol=1e-4,
                                       atol=1e-6)
        assert res['n_units'][stage] == len(rows)


def test_plot_epoch_mean_growth(analysed, figure_root):
    model_dir, hp, log = analysed
    res = psth.plot_epoch_mean_growth(hp, log, TRIALS, model_dir, 'odr', 'stim1', 'delay1')
    _written(res)
    # Oracle: per checkpoint, the mean of the loop PSTH rows (units selective in stim1)
    # over every unit and the steps of delay1.
    start, end = common.load_task_info(model_dir)['odr']['epoch_info']['delay1']
    for t in TRIALS:
        rows = _reference_rows(hp, model_dir, t, 'odr', 'stim1')
        assert res['epoch_mean'][t] == pytest.approx(rows[:, start:end].mean(), rel=1e-4)
    assert sorted(res['epoch_mean']) == TRIALS


def test_sample_neuron_by_trial(analysed, figure_root, monkeypatch):
    model_dir, hp, log = analysed
    drawn = []

    def polar(**kw):
        drawn.append(kw)
        return unit_figures.unit_polar_figure(**kw)
    monkeypatch.setattr(psth, 'unit_polar_figure', polar)
    res = psth.sample_neuron_by_trial(hp, log, model_dir, 'odr', 'stim1', [1280],
                                      ('exh_neurons', 'mix_neurons'), max_neurons=1)
    stems = _written(res)
    # Oracle: the lowest unit listed as exh or mix in the pickle, its preferred location
    # as the radius, and its raw stim1 mean per location (a loop over H) over the largest.
    ninfo = common.load_neuron_info(model_dir, 1280, 'odr', 'stim1')
    entries = sorted(e for k in ('exh_neurons', 'mix_neurons') for e in ninfo[k])
    unit, pref = entries[0][0], entries[0][2]
    assert res['units'] == {1280: [unit]}
    assert {os.path.basename(s) for s in stems} == {str(unit), '{}_polar'.format(unit)}
    assert all('1280_mature' in s for s in stems)
    H = Get_H(hp, model_dir, 1280, 'odr')
    info = common.load_task_info(model_dir)['odr']
    start, end = info['epoch_info']['stim1']
    in_loc = np.asarray(info['in_loc'])
    level = np.array([H[start:end, in_loc == loc, unit].mean() for loc in range(8)])
    (kw,) = drawn
    np.testing.assert_allclose(kw['radial'], np.append(level, level[0]) / level.max(),
                               rtol=1e-5)
    assert kw['pref_angle'] == pytest.approx(2 * np.pi * pref / 8)


def test_period_activity_anova(analysed, figure_root):
    model_dir, hp, log = analysed
    res = psth.neuron_period_activity_analysis(hp, log, TRIALS, model_dir, 'odr', 'delay1',
                                               'delay1')
    _written(res)
    groups = [res['fire_rate'][s] for s in stages.STAGES]
    # The classic one-way F from its sums of squares.
    values = np.concatenate(groups)
    grand = values.mean()
    between = sum(g.size * (g.mean() - grand) ** 2 for g in groups)
    within = sum(((g - g.mean()) ** 2).sum() for g in groups)
    n_all = values.size
    F = (between / 2) / (within / (n_all - 3))
    assert res['anova']['F'] == pytest.approx(F, rel=1e-9)
    assert (res['anova']['df_group'], res['anova']['df_residual']) == (2, n_all - 3)
    # the last checkpoint of each stage, and the mean over delay1 of its PSTH rows
    assert res['trials'] == {'early': [128], 'mid': [640], 'mature': [1280]}
    start, end = common.load_task_info(model_dir)['odr']['epoch_info']['delay1']
    rows = psth.gen_PSTH_log(hp, [1280], model_dir, 'odr', 'delay1', verbose=False)[1280]
    np.testing.assert_allclose(res['fire_rate']['mature'], rows[:, start:end].mean(axis=1))
    # an explicit (start, end) window in ms: cue onset (1000 ms) + 250 ms
    res = psth.neuron_period_activity_analysis(hp, log, TRIALS, model_dir, 'overlap', 'stim1',
                                               (1000, 1250))
    assert res['figures'][0].endswith('overlap_1000_1250_activity_oneway_anova_analysis.png')


def _flat_rows(values, T=175):
    """A hand-made PSTH log entry: one row per unit, constant over the T steps."""
    return np.repeat(np.asarray(values, dtype=float)[:, None], T, axis=1)


def test_period_statistics_known_answers(analysed, figure_root, monkeypatch):
    """Hand-made PSTH logs (rows constant in time) through the stage ANOVA and the
    checkpoint t-tests (figures not drawn: the numbers are under test)."""
    model_dir, hp, log = analysed

    def no_figure(fig, path, *args, **kwargs):
        import matplotlib.pyplot as plt
        plt.close(fig)
        return []
    monkeypatch.setattr(common, 'save_figure', no_figure)
    # Stage values 1 2 3 | 4 5 6 | 7 8 9: F = 27 on (2, 6) df, p = (1 + 9)^−3 (the ANOVA
    # known answer of test_stats).
    rows = {128: _flat_rows([1, 2, 3]), 640: _flat_rows([4, 5, 6]), 1280: _flat_rows([7, 8, 9])}
    res = psth.neuron_period_activity_analysis(hp, log, TRIALS, model_dir, 'odr', 'stim1',
                                               'stim1', PSTH_log=rows)
    assert res['anova']['F'] == pytest.approx(27.0, rel=1e-12)
    assert res['anova']['p'] == pytest.approx(0.001, rel=1e-9)
    # one non-finite unit value (zero baseline) makes the ANOVA NaN, as in the original;
    # the dfs still count it
    rows[640] = _flat_rows([4, np.nan, 6])
    res = psth.neuron_period_activity_analysis(hp, log, TRIALS, model_dir, 'odr', 'stim1',
                                               'stim1', PSTH_log=rows)
    assert np.isnan(res['anova']['F']) and np.isnan(res['anova']['p'])
    assert (res['anova']['df_group'], res['anova']['df_residual']) == (2, 6)
    # t-tests: two constant checkpoints of one value (and a constant one against itself)
    # are 0/0, drawn as p = 1. 1 2 3 against 5 5 5: pooled variance (2 + 0) / 4, t =
    # −3 / √(1/2 · 2/3) = −3√3 on 4 df, whose two-sided p is 1 − sin θ (1 + cos² θ / 2),
    # θ = atan(|t| / 2). A NaN unit value makes its checkpoint's tests NaN.
    rows = {128: _flat_rows([1, 2, 3]), 640: _flat_rows([5, 5, 5]), 1280: _flat_rows([5, 5])}
    p = psth.plot_period_ttest_heatmap(hp, log, TRIALS, model_dir, 'odr', 'stim1', 'stim1',
                                       PSTH_log=rows)['p_values']
    assert p[1, 2] == p[2, 1] == p[1, 1] == p[2, 2] == 1.0
    theta = np.arctan(3 * np.sqrt(3) / 2)
    assert p[0, 1] == pytest.approx(1 - np.sin(theta) * (1 + np.cos(theta) ** 2 / 2),
                                    rel=1e-9)
    rows[1280] = _flat_rows([5, np.nan])
    p = psth.plot_period_ttest_heatmap(hp, log, TRIALS, model_dir, 'odr', 'stim1', 'stim1',
                                       PSTH_log=rows)['p_values']
    assert np.isnan(p[2]).all() and np.isnan(p[:, 2]).all() and p[1, 1] == 1.0


def test_period_ttest_heatmap(analysed, figure_root):
    model_dir, hp, log = analysed
    res = psth.plot_period_ttest_heatmap(hp, log, TRIALS, model_dir, 'odr', 'stim1', 'stim1')
    _written(res)
    assert res['trials'] == TRIALS and res['p_values'].shape == (3, 3)
    # Oracle: scipy's t-test on each pair of checkpoints' per-unit stim1 means of the
    # PSTH rows (a unit's mean against itself: t = 0, p = 1).
    start, end = common.load_task_info(model_dir)['odr']['epoch_info']['stim1']
    rows = psth.gen_PSTH_log(hp, TRIALS, model_dir, 'odr', 'stim1', verbose=False)
    means = [rows[t][:, start:end].mean(axis=1) for t in TRIALS]
    for i, a in enumerate(means):
        for j, b in enumerate(means):
            assert res['p_values'][i, j] == pytest.approx(ttest_ind(a, b).pvalue, rel=1e-9)


def test_tunning_analysis(analysed, figure_root):
    model_dir, hp, log = analysed
    res = tuning.tunning_analysis(hp, log, model_dir, 'odr', 'stim1', TRIALS)
    _written(res)
    assert set(res['ttest_p']) == {'early-mid', 'early-mature', 'mid-mature'}
    # Oracle, one checkpoint per stage: each exh / mix unit's firerate row rolled so that
    # its preferred location sits at index 4, wrapped to 9 points, averaged over the
    # units; heights max − min of the rows; scipy's t-test on every pair of stages.
    heights = {}
    for stage, t in zip(stages.STAGES, TRIALS):
        ninfo = common.load_neuron_info(model_dir, t, 'odr', 'stim1')
        prefs = {e[0]: e[2] for k in common.N_TYPES for e in ninfo[k]}
        rows = np.array([ninfo['firerate_loc_order'][u] for u in sorted(prefs)])
        rolled = np.array([np.roll(r, 4 - prefs[u]) for r, u in zip(rows, sorted(prefs))])
        curve = np.append(rolled, rolled[:, :1], axis=1).mean(axis=0)
        np.testing.assert_allclose(res['tuning'][stage], curve, rtol=1e-12)
        heights[stage] = rows.max(axis=1) - rows.min(axis=1)
        np.testing.assert_allclose(res['heights'][stage], heights[stage], rtol=1e-12)
    for a, b in [('early', 'mid'), ('early', 'mature'), ('mid', 'mature')]:
        assert res['ttest_p']['{}-{}'.format(a, b)] == pytest.approx(
            ttest_ind(heights[a], heights[b]).pvalue, rel=1e-9)


def test_max_central_and_failed_fit():
    rates = np.array([[0, 1, 2, 3, 4, 5, 6, 7.]])
    out = tuning.max_central(np.array([7]), rates)[0]
    assert out[4] == 7 and out[0] == out[-1] and out.size == 9
    assert tuning.fit_gaussian(np.array([1.0, np.nan, 2.0])) is None


def test_seldir_analysis(analysed, figure_root):
    model_dir, hp, log = analysed
    res = seldir.seldir_analysis(model_dir, 'odr', 'stim1', 'odrd', 'stim1', TRIALS)
    _written(res)
    table = res['table']
    assert list(table.index) == TRIALS
    # Oracle: the pickles' exh / mix lists as {unit: preferred location}, set by set.
    for t in TRIALS:
        pref = [{e[0]: e[2] for k in common.N_TYPES
                 for e in common.load_neuron_info(model_dir, t, rule, 'stim1')[k]}
                for rule in ('odr', 'odrd')]
        both = set(pref[0]) & set(pref[1])
        same = sum(pref[0][u] == pref[1][u] for u in both)
        row = table.loc[t]
        assert (row['n_odr_stim1'], row['n_odrd_stim1']) == (len(pref[0]), len(pref[1]))
        assert (row['inter'], row['samedir'], row['diffdir']) == (
            len(both), same, len(both) - same)
        assert row['perf_odr'] == log['perf_odr'][log['trials'].index(t)]
    assert table['inter'].sum() > 0 and table['diffdir'].sum() > 0   # the test has teeth
    back = pd.read_csv(res['csv'], index_col='trial')
    assert back['samedir'].tolist() == table['samedir'].tolist()


def test_neuron_PCA(analysed, figure_root):
    model_dir, hp, log = analysed
    res = pca.neuron_PCA(hp, log, model_dir, TRIALS, 'odr', n_components=2)
    _written(res)
    # Oracle: location means by a loop over H, each unit standardised by hand (a constant
    # unit stays 0), principal axes from numpy's SVD; a component's sign is arbitrary.
    H = Get_H(hp, model_dir, 1280, 'odr').astype(np.float64)
    in_loc = np.asarray(common.load_task_info(model_dir)['odr']['in_loc'])
    X = np.concatenate([H[:, in_loc == loc, :].mean(axis=1) for loc in range(8)])
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1)
    U, S, _ = np.linalg.svd(Z, full_matrices=False)
    assert res['scores'][1280].shape == (8, H.shape[0], 2)
    scores = res['scores'][1280].reshape(-1, 2)                  # location-major rows
    for c in range(2):
        ref = U[:, c] * S[c]
        sign = np.sign(ref @ scores[:, c])
        np.testing.assert_allclose(sign * scores[:, c], ref, rtol=1e-4, atol=1e-4 * S[c])
    np.testing.assert_allclose(res['explained_variance_ratio'][1280],
                               S[:2] ** 2 / (S ** 2).sum(), rtol=1e-6)


# ----------------------------------------------------------------------------------------
# Trial lists, stages, errors
# ----------------------------------------------------------------------------------------
def test_stage_dict_and_list_give_the_same_grouping(analysed, figure_root):
    model_dir, hp, log = analysed
    as_list = psth.plot_PSTH(hp, log, model_dir, 'odr', 'stim1', TRIALS)
    stage_dict = {'odr': stages.group_by_stage(hp, log, TRIALS, 'odr')}
    as_dict = psth.plot_PSTH(hp, log, model_dir, 'odr', 'stim1', stage_dict)
    assert as_list['trials'] == as_dict['trials'] == {'early': [128], 'mid': [640],
                                                      'mature': [1280]}
    for s in stages.STAGES:
        np.testing.assert_array_equal(as_list['psth'][s], as_dict['psth'][s])
    # membership in a stage dict wins over performance
    moved = {'odr': {'early': [128], 'mid': [], 'mature': [640, 1280]}}
    res = psth.neuron_period_activity_analysis(hp, log, moved, model_dir, 'odr', 'stim1',
                                               'stim1', last_step=False)
    assert res['trials'] == {'early': [128], 'mature': [640, 1280]}


def test_unknown_rule_epoch_and_type_name_the_choices(analysed, figure_root):
    model_dir, hp, log = analysed
    with pytest.raises(ValueError, match="'odrd'"):
        psth.gen_PSTH_log(hp, TRIALS, model_dir, 'odrx', 'stim1', verbose=False)
    with pytest.raises(ValueError, match="'delay1'"):
        psth.plot_PSTH(hp, log, model_dir, 'odr', 'delay9', TRIALS)
    with pytest.raises(ValueError, match="'delay2'"):
        psth.neuron_period_activity_analysis(hp, log, TRIALS, model_dir, 'odrd', 'stim1',
                                             'delay3')
    with pytest.raises(ValueError, match="'stim1'"):
        tuning.tunning_analysis(hp, log, model_dir, 'odr', 'go2', TRIALS)
    with pytest.raises(ValueError, match="'gap500'"):
        pca.neuron_PCA(hp, log, model_dir, TRIALS, 'antisaccade')
    with pytest.raises(ValueError, match='mix_neurons'):
        seldir.seldir_analysis(model_dir, 'odr', 'stim1', 'odrd', 'stim1', TRIALS, ('mixed',))
    with pytest.raises(common.DataUnavailable, match=r'Trial\(s\) \[100\] are not checkpoints'):
        psth.plot_PSTH(hp, log, model_dir, 'odr', 'stim1', [100, 1280])


def test_empty_stage_and_checkpoint_without_units(analysed, figure_root, capsys):
    model_dir, hp, log = analysed
    res = psth.plot_PSTH(hp, log, model_dir, 'odr', 'stim1', [1024, 1280])
    _written(res)
    assert list(res['psth']) == ['mature']
    assert 'no checkpoint in stage(s) early, mid' in capsys.readouterr().err
    # a checkpoint where no unit is selective (hand-made neuron_info)
    empty = {k: [] for k in common.NEURON_TYPES}
    empty['firerate_loc_order'] = np.zeros((hp['n_rnn'], 8))
    tools.save_pickle(empty, common.neuron_info_path(model_dir, 640, 'overlap', 'stim1'))
    log_ = psth.gen_PSTH_log(hp, TRIALS, model_dir, 'overlap', 'stim1', verbose=False)
    assert log_[640].shape[0] == 0
    res = psth.neuron_period_activity_analysis(hp, log, TRIALS, model_dir, 'overlap', 'stim1',
                                               'stim1', PSTH_log=log_)
    _written(res)
    assert 'mid' not in res['fire_rate'] and res['anova']['df_group'] == 1
    res = tuning.tunning_analysis(hp, log, model_dir, 'overlap', 'stim1', TRIALS)
    _written(res)
    assert set(res['tuning']) == {'early', 'mature'}
    err = capsys.readouterr().err
    assert "checkpoint(s) [640] of rule 'overlap' have no selected unit" in err
    assert "checkpoint(s) [640] of rule 'overlap' have no exh_neurons/mix_neurons unit" in err
    res = psth.plot_PSTH(hp, log, model_dir, 'overlap', 'stim1', [640])
    assert res['figures'] == [] and 'nothing to draw' in capsys.readouterr().err
    # a rule whose stages are all empty (e.g. not learned yet): a note, no figure, no error
    nothing = {'odr': {'early': [], 'mid': [], 'mature': []}}
    for fn, args in [
            (psth.plot_PSTH, (hp, log, model_dir, 'odr', 'stim1', nothing)),
            (psth.neuron_period_activity_analysis,
             (hp, log, nothing, model_dir, 'odr', 'stim1', 'stim1')),
            (psth.plot_epoch_mean_growth, (hp, log, nothing, model_dir, 'odr', 'stim1', 'stim1')),
            (psth.plot_period_ttest_heatmap,
             (hp, log, nothing, model_dir, 'odr', 'stim1', 'stim1')),
            (psth.sample_neuron_by_trial, (hp, log, model_dir, 'odr', 'stim1', nothing)),
            (tuning.tunning_analysis, (hp, log, model_dir, 'odr', 'stim1', nothing)),
            (pca.neuron_PCA, (hp, log, model_dir, nothing, 'odr'))]:
        assert fn(*args)['figures'] == []
        assert 'holds no checkpoint of rule' in capsys.readouterr().err, fn.__name__


# ----------------------------------------------------------------------------------------
# Main_analysis
# ----------------------------------------------------------------------------------------
def test_main_analysis_missing_model_names_the_models(tmp_path, capsys):
    import Main_analysis
    with pytest.raises(SystemExit):
        Main_analysis.main(['--model-dir', str(tmp_path / 'nope')])
    assert "is not a trained model folder" in capsys.readouterr().err
