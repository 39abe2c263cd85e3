"""analysis/neuron_info.py: the vectorised classification against a per-unit oracle,
pickles on disk, trial lists, recompute, errors.

The oracle below is the straightforward per-unit, per-location loop of the original
suite (scipy.stats.ttest_rel for fix1 vs stim1, statsmodels ols + anova_lm(typ=2) across
locations), with the suite's rule for non-finite normalised values (zero fix1 baseline):
they are left out of the firerate, the ANOVA, the preferred location and the exc/inh test.
"""

import os
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ttest_rel
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm

import tools
from analysis import activity, common
from analysis import neuron_info as ni

P_TOL = 1e-9


# ----------------------------------------------------------------------------------------
# Oracle: one unit and one location at a time
# ----------------------------------------------------------------------------------------
def _oracle_anova(data):
    """statsmodels one-way ANOVA p of {location: finite values}; NaN when undefined."""
    data = {loc: v for loc, v in data.items() if len(v)}
    values = np.concatenate(list(data.values())) if data else np.array([])
    if len(data) < 2 or values.size - len(data) < 1:
        return np.nan
    if np.all(values == values[0]):
        # F = 0/0; statsmodels would return a p-value made of round-off.
        return np.nan
    frame = pd.DataFrame({'Location': np.concatenate([[loc] * len(v) for loc, v in data.items()]),
                          'Fire_rate': values})
    model = ols('Fire_rate~C(Location)', data=frame).fit()
    return float(anova_lm(model, typ=2)['PR(>F)'].iloc[0])


def _finite_mean(v):
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else np.nan


def oracle(H, in_loc, in_loc_set, epochs, epoch, units=None, norm=True,
           annova_p_value=0.05, paired_ttest_p=0.05, abs_active_thresh=1e-3):
    """(neuron_info restricted to ``units``, paired p (units, L), anova p {unit: p})."""
    H = np.asarray(H, dtype=np.float64)
    in_loc = np.asarray(in_loc)
    units = range(H.shape[2]) if units is None else units

    def steps(name):
        start, end = epochs[name]
        return slice(start, end)

    info = {k: [] for k in common.NEURON_TYPES}
    rates, paired, anova = [], [], {}
    for neuron in units:
        data, rate_abs, rate_norm, rate, p_row = {}, [], [], [], []
        n_responsive = 0
        for loc in in_loc_set:
            sel = in_loc == loc
            fix_level = H[steps('fix1'), sel, neuron].mean(axis=0)
            stim1_level = H[steps('stim1'), sel, neuron].mean(axis=0)
            with np.errstate(invalid='ignore', divide='ignore'), warnings.catch_warnings():
                warnings.simplefilter('ignore', RuntimeWarning)
                p = ttest_rel(fix_level, stim1_level)[1]
            p_row.append(p)
            if p <= paired_ttest_p:
                n_responsive += 1
            raw = H[steps(epoch), sel, neuron].mean(axis=0)
            with np.errstate(invalid='ignore', divide='ignore'):
                normed = raw / fix_level.mean(axis=0) - 1
            value = normed if norm else raw
            data[loc] = value[np.isfinite(value)]
            rate_abs.append(raw.mean())
            rate_norm.append(_finite_mean(normed))
            rate.append(_finite_mean(value))
        finite = [i for i, r in enumerate(rate) if np.isfinite(r)]
        if finite:
            max_index = max(finite, key=lambda i: rate[i])  # first of equal maxima
        else:
            max_index = rate_abs.index(max(rate_abs))
        if max(rate_abs) > abs_active_thresh and n_responsive > 0:
            info['active_neurons'].append((neuron, None, max_index))
            p = _oracle_anova(data)
            anova[neuron] = p
            if p <= annova_p_value:
                info['selective_neurons'].append((neuron, p, max_index))
                finite_norm = [r for r in rate_norm if np.isfinite(r)]
                if not finite_norm:
                    pass
                elif max(finite_norm) < 0:
                    info['inh_neurons'].append((neuron, p, max_index))
                elif min(finite_norm) >= 0:
                    info['exh_neurons'].append((neuron, p, max_index))
                else:
                    info['mix_neurons'].append((neuron, p, max_index))
        rates.append(rate)
        paired.append(p_row)
    info['firerate_loc_order'] = np.array(rates)
    return info, np.array(paired), anova


def assert_matches_oracle(H, in_loc, in_loc_set, epochs, epoch, units=None, **kw):
    """Lists, preferred locations, firerates and p-values (to 1e-9) agree."""
    units = list(range(H.shape[2])) if units is None else list(units)
    ref, ref_paired, ref_anova = oracle(H, in_loc, in_loc_set, epochs, epoch, units, **kw)
    stats = ni.neuron_stats(H, in_loc, epochs, epoch, in_loc_set=in_loc_set, **kw)
    got = ni.info_from_stats(stats)
    keep = set(units)
    for key in common.NEURON_TYPES:
        mine = [x for x in got[key] if x[0] in keep]
        assert [(u, pref) for u, _, pref in mine] == [(u, pref) for u, _, pref in ref[key]], key
        for (u, p, _), (_, p_ref, _) in zip(mine, ref[key]):
            if p_ref is None:
                assert p is None
            else:
                assert abs(p - p_ref) <= P_TOL, (key, u, p, p_ref)
    np.testing.assert_allclose(got['firerate_loc_order'][units], ref['firerate_loc_order'],
                               rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(stats['paired_p'][units], ref_paired, rtol=0, atol=P_TOL,
                               equal_nan=True)
    for u, p_ref in ref_anova.items():
        p = stats['anova_p'][u]
        assert (np.isnan(p) and np.isnan(p_ref)) or abs(p - p_ref) <= P_TOL, (u, p, p_ref)
    return got, stats


# ----------------------------------------------------------------------------------------
# Synthetic activity with planted edge cases
# ----------------------------------------------------------------------------------------
EPOCHS = {'fix1': (None, 5), 'stim1': (5, 10), 'delay1': (10, 15), 'go1': (15, None)}
SILENT, CONSTANT, ZERO_BASE, PART_ZERO_BASE, NO_CUE_CHANGE, INHIB, FLAT_VALUE, TINY = range(8)


def synthetic(seed=0, n_units=40, per_loc=6, n_loc=8, T=20, unequal=False):
    """H (T, B, n_units) float32, in_loc (B,) shuffled, in_loc_set; units 0-7 planted."""
    rng = np.random.RandomState(seed)
    in_loc = np.repeat(np.arange(n_loc), per_loc)
    rng.shuffle(in_loc)
    if unequal:  # locations with 2 to per_loc trials
        keep = np.ones(in_loc.size, bool)
        for loc in range(n_loc):
            drop = np.flatnonzero(in_loc == loc)[:rng.randint(0, per_loc - 1)]
            keep[drop] = False
        in_loc = in_loc[keep]
    B = in_loc.size
    base = rng.lognormal(-1, 0.5, n_units)
    # An untuned cue response (fix1 → stim1 change) plus tuning of strength spread over
    # two decades, so that t-test and ANOVA p-values cover the whole (0, 1) range.
    offset = rng.uniform(-0.6, 0.6, n_units)
    gain = rng.choice([-1, 1], n_units) * 10 ** rng.uniform(-2, 0.3, n_units)
    pref = rng.randint(0, n_loc, n_units)
    dist = np.angle(np.exp(1j * 2 * np.pi * (in_loc[:, None] - pref[None, :]) / n_loc))
    tuning = np.exp(-dist ** 2 / 2)                            # (B, N)
    H = np.empty((T, B, n_units))
    H[:] = base
    cue = slice(5, 15)
    H[cue] = base * (1 + offset + gain * tuning)
    H += 0.15 * base * rng.randn(T, B, n_units)
    H = np.maximum(H, 0)

    H[:, :, SILENT] = 0
    H[:, :, CONSTANT] = 0.5
    H[:5, :, ZERO_BASE] = 0
    H[5:, :, ZERO_BASE] = 0.5 + tuning[:, ZERO_BASE] + 0.05 * rng.rand(T - 5, B)
    H[:5, np.isin(in_loc, [0, 1]), PART_ZERO_BASE] = 0
    # Same value at every step of a trial: fix1 and stim1 means are equal (t-test NaN).
    H[:, :, NO_CUE_CHANGE] = rng.uniform(0.5, 1, B)
    H[:5, :, INHIB] = 1 + 0.1 * rng.randn(5, B)
    H[5:, :, INHIB] = 0.3 + 0.2 * tuning[:, INHIB] + 0.05 * rng.randn(T - 5, B)
    H[:5, :, FLAT_VALUE] = 0.2 + 0.05 * rng.rand(5, B) * (in_loc + 1)
    H[5:, :, FLAT_VALUE] = 1.0
    H[:, :, TINY] = 1e-4 * (1 + 0.1 * rng.rand(T, B))
    H[5:10, :, TINY] += 2e-4
    return H.astype(np.float32), in_loc, list(range(n_loc))


@pytest.mark.parametrize('seed, norm, epoch, unequal', [
    (0, True, 'stim1', False), (1, False, 'stim1', False), (2, True, 'delay1', False),
    (3, False, 'go1', True), (4, True, 'delay1', True)])
def test_synthetic_matches_oracle(seed, norm, epoch, unequal):
    H, in_loc, loc_set = synthetic(seed, unequal=unequal)
    got, _ = assert_matches_oracle(H, in_loc, loc_set, EPOCHS, epoch, norm=norm)
    if epoch != 'go1':  # the planted tuning spans stim1 and delay1
        # The random units make every list non-trivial.
        assert len(got['selective_neurons']) > 5 and got['exh_neurons'] and got['mix_neurons']


def test_thresholds_are_honoured():
    H, in_loc, loc_set = synthetic(5)
    assert_matches_oracle(H, in_loc, loc_set, EPOCHS, 'delay1', annova_p_value=1e-3,
                          paired_ttest_p=1e-2, abs_active_thresh=0.3)


def test_planted_edge_cases():
    H, in_loc, loc_set = synthetic(0)
    s = ni.neuron_stats(H, in_loc, EPOCHS, 'stim1', in_loc_set=loc_set)
    active = set(np.flatnonzero(s['active']))
    # Silent, constant, no fix→cue change (NaN t-test), below abs_active_thresh.
    assert not {SILENT, CONSTANT, NO_CUE_CHANGE, TINY} & active
    assert np.isnan(s['paired_p'][[CONSTANT, NO_CUE_CHANGE]]).all()
    assert (s['paired_p'][TINY] <= 0.05).any()
    # Zero baseline everywhere: responsive, but no finite norm value → no ANOVA.
    assert ZERO_BASE in active and np.isnan(s['anova_p'][ZERO_BASE])
    assert not s['selective'][ZERO_BASE]
    assert np.isnan(s['firerate'][ZERO_BASE]).all()
    assert s['preferred'][ZERO_BASE] == np.argmax(s['firerate_raw'][ZERO_BASE])
    # Zero baseline at locations 0 and 1: they are ignored.
    assert np.isnan(s['firerate'][PART_ZERO_BASE, :2]).all()
    assert np.isfinite(s['firerate'][PART_ZERO_BASE, 2:]).all()
    assert s['preferred'][PART_ZERO_BASE] >= 2
    assert s['inh'][INHIB] and not s['exh'][INHIB]

    raw = ni.neuron_stats(H, in_loc, EPOCHS, 'delay1', in_loc_set=loc_set, norm=False)
    # Raw values identical everywhere: F = 0/0 → NaN p, not selective though active.
    assert raw['active'][FLAT_VALUE] and np.isnan(raw['anova_p'][FLAT_VALUE])
    assert not raw['selective'][FLAT_VALUE]
    # Selective on raw values but no finite norm firerate: in no exc/inh/mix list.
    assert raw['selective'][ZERO_BASE]
    assert not (raw['exh'][ZERO_BASE] or raw['inh'][ZERO_BASE] or raw['mix'][ZERO_BASE])
    # With norm the flat raw response differs between locations' baselines: selective.
    normed = ni.neuron_stats(H, in_loc, EPOCHS, 'delay1', in_loc_set=loc_set)
    assert normed['selective'][FLAT_VALUE]


def test_input_errors():
    H, in_loc, loc_set = synthetic(0)
    with pytest.raises(ValueError, match="no epoch 'delay2'; its epochs: .*'fix1'.*'go1'"):
        ni.neuron_info_from_H(H, in_loc, EPOCHS, 'delay2')
    with pytest.raises(ValueError, match='needs epochs'):
        ni.neuron_info_from_H(H, in_loc, {'stim1': (0, 5)}, 'stim1')
    with pytest.raises(ValueError, match='in_loc has 3 trials'):
        ni.neuron_info_from_H(H, in_loc[:3], EPOCHS, 'stim1')
    with pytest.raises(ValueError, match='no time step'):
        ni.neuron_info_from_H(H, in_loc, EPOCHS, (30, 40))


# ----------------------------------------------------------------------------------------
# Real activity and pickles on disk
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def neuron_model(tiny_model_dir, tmp_path_factory):
    """A copy of the tiny model with neuron_info pickles of odr and overlap at 0 and 1280.

    H pickles are missing at first: generate_neuron_info computes H with one graph (one
    CheckpointRunner, each checkpoint restored once for both rules) and writes no H
    pickle (the original's generate_neuron_info calls Get_H(..., save_H=False)). Then
    compute_H writes the H pickles the tests below read.
    """
    model_dir = str(tmp_path_factory.mktemp('neuron_info') / 'tiny')
    shutil.copytree(tiny_model_dir, model_dir)
    hp = tools.load_hp(model_dir)
    restored = []
    original = activity.CheckpointRunner.restore

    def counting(self, trial_num):
        restored.append((id(self), trial_num))
        return original(self, trial_num)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(activity.CheckpointRunner, 'restore', counting)
        ni.generate_neuron_info(hp, model_dir, 'stim1', [0, 1280], ['odr', 'overlap'],
                                verbose=False)
        assert [t for _, t in restored] == [0, 1280]
        assert len({r for r, _ in restored}) == 1            # one graph
    assert not [f for _, _, files in os.walk(model_dir) for f in files
                if f.startswith('H_')]
    ni.generate_neuron_info(hp, model_dir, ['delay1'], [0, 1280], 'odr', verbose=False)
    activity.compute_H(hp, tools.load_log(model_dir), model_dir, rules=['odr', 'overlap'],
                       trial_list=[0, 1280], verbose=False)
    return model_dir


def test_real_tiny_H_matches_oracle(neuron_model):
    task_info = common.load_task_info(neuron_model)
    for rule, epoch, norm in (('odr', 'stim1', True), ('odr', 'delay1', False),
                              ('overlap', 'go1', True)):
        info = task_info[rule]
        H = common.load_H(neuron_model, 1280, rule)
        assert_matches_oracle(H, info['in_loc'], info['in_loc_set'], info['epoch_info'],
                              epoch, norm=norm)


def test_pickle_round_trip(neuron_model):
    task_info = common.load_task_info(neuron_model)
    for trial in (0, 1280):
        for rule, epoch in (('odr', 'stim1'), ('odr', 'delay1'), ('overlap', 'stim1')):
            loaded = common.load_neuron_info(neuron_model, trial, rule, epoch)
            assert set(loaded) == set(common.NEURON_TYPES) | {'firerate_loc_order'}
            info = task_info[rule]
            expected = ni.neuron_info_from_H(common.load_H(neuron_model, trial, rule),
                                             info['in_loc'], info['epoch_info'], epoch,
                                             in_loc_set=info['in_loc_set'])
            for key in common.NEURON_TYPES:
                assert loaded[key] == expected[key]
            assert loaded['firerate_loc_order'].shape == (32, 8)
            np.testing.assert_array_equal(loaded['firerate_loc_order'],
                                          expected['firerate_loc_order'])
    sel = common.load_neuron_info(neuron_model, 1280, 'odr', 'stim1')['selective_neurons']
    assert sel and all(type(u) is int and type(p) is float and type(i) is int
                       for u, p, i in sel)


def test_recompute_and_trial_lists(neuron_model, tmp_path):
    model_dir = str(tmp_path / 'tiny')
    shutil.copytree(neuron_model, model_dir)
    hp = tools.load_hp(model_dir)
    path = common.neuron_info_path(model_dir, 1280, 'odr', 'stim1')
    tools.save_pickle({'sentinel': 1}, path)
    ni.generate_neuron_info(hp, model_dir, 'stim1', [1280], 'odr', verbose=False)
    assert tools.load_pickle(path) == {'sentinel': 1}
    ni.generate_neuron_info(hp, model_dir, 'stim1', [1280], 'odr', recompute=True,
                            verbose=False)
    assert 'active_neurons' in tools.load_pickle(path)

    # A range, and a stage dict (each rule uses its own checkpoints). H of 128 and 256
    # is missing; it gets computed.
    ni.generate_neuron_info(hp, model_dir, 'stim1', range(0, 257, 128), 'odr',
                            verbose=False)
    for t in (0, 128, 256):
        assert os.path.isfile(common.neuron_info_path(model_dir, t, 'odr', 'stim1'))
    stages = {'odr': {'early': [0], 'mid': [256], 'mature': [1280]},
              'overlap': {'early': [], 'mid': [128], 'mature': []}}
    ni.generate_neuron_info(hp, model_dir, 'stim1', stages, ['odr', 'overlap'],
                            verbose=False)
    assert os.path.isfile(common.neuron_info_path(model_dir, 128, 'overlap', 'stim1'))
    assert not os.path.isfile(common.neuron_info_path(model_dir, 256, 'overlap', 'stim1'))


def test_bad_rule_and_epoch_name_the_choices(neuron_model):
    hp = tools.load_hp(neuron_model)
    with pytest.raises(ValueError, match="rule 'odx'.*'odr'"):
        ni.generate_neuron_info(hp, neuron_model, 'stim1', [0], 'odx', verbose=False)
    with pytest.raises(ValueError, match="'overlap' has no epoch 'delay1'.*'go1'"):
        ni.generate_neuron_info(hp, neuron_model, 'delay1', [0], 'overlap', verbose=False)


def test_verbose_summary(neuron_model, capsys):
    hp = tools.load_hp(neuron_model)
    ni.generate_neuron_info(hp, neuron_model, ['stim1', 'delay1'], [0, 1280], 'odr')
    out = capsys.readouterr().out
    assert 'wrote 0 pickle(s), kept 4 existing' in out
