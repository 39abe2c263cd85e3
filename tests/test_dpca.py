"""analysis.dpca_analysis: the dPCA adapter, neuron_dPCA and real_neuron_dPCA (Fig 5E)."""

import os

import numpy as np
import pytest

import tools
from analysis import activity, common, dpca_analysis as da, monkey


@pytest.fixture(scope='module')
def planted():
    """Synthetic recording (8 trials, 24 units, 8 locations, 176 bins) and its dPCA."""
    rec = monkey.synthetic_rates(n_units=24, seed=5)          # (loc, trial, bin, unit)
    trialR = rec.transpose(1, 3, 0, 2)                          # (trial, unit, loc, bin)
    return trialR, da.fit_dpca(trialR, seed=0)


def test_stimulus_signal_lands_in_the_stimulus_component(planted):
    _, res = planted
    n_loc = 8
    times = (np.arange(176) + 0.5) * 0.02
    Zt, Zs = res['Z']['t'][0], res['Z']['s'][0]                # (loc, bins)
    assert Zt.shape == Zs.shape == (n_loc, 176)
    # time component: the same curve at every location, large changes over time
    assert Zt.std(axis=0).mean() < 0.1 * Zt.mean(axis=0).std()
    # stimulus component: locations separate after the cue, not before it
    cue_delay, before = (times > 1.0) & (times < 3.0), times < 1.0
    after_spread = Zs[:, cue_delay].mean(axis=1)
    assert after_spread.std() > 5 * Zs[:, before].std(axis=0).mean()
    # ... and the separation is the planted (cosine) tuning of the ring of locations
    theta = 2 * np.pi * np.arange(n_loc) / n_loc
    basis = np.column_stack([np.ones(n_loc), np.cos(theta), np.sin(theta)])
    fit = basis @ np.linalg.lstsq(basis, after_spread, rcond=None)[0]
    r2 = 1 - np.sum((after_spread - fit) ** 2) / np.sum((after_spread -
                                                         after_spread.mean()) ** 2)
    assert r2 > 0.9
    ev = res['explained_variance']
    assert all(np.all((v >= -1e-9) & (v <= 1)) for v in ev.values())
    assert ev['t'][0] > 0.3 and ev['s'][0] > 0.05
    assert sum(res['marginal_variance'].values()) == pytest.approx(1.0)


def test_reproducible_quiet_and_leaves_global_rng_alone(planted, capsys):
    trialR, res = planted
    np.random.seed(123)
    expected_next = np.random.RandomState(123).rand()
    again = da.fit_dpca(trialR, seed=0)
    assert np.random.rand() == expected_next
    assert capsys.readouterr().out == ''
    for key in da.MARGINALIZATIONS:
        np.testing.assert_allclose(again['Z'][key], res['Z'][key], atol=1e-9)
    assert again['regularizer'] == res['regularizer']


def test_explained_variance_is_pca_eigenvalue_fraction_for_orthonormal_axes():
    rng = np.random.RandomState(0)
    R = rng.randn(6, 3, 20)
    R -= R.reshape(6, -1).mean(axis=1)[:, None, None]
    X = R.reshape(6, -1)
    evals, evecs = np.linalg.eigh(X @ X.T)
    P = {'t': evecs[:, ::-1][:, :2]}
    comp, marg = da.explained_variance(R, P, P)
    np.testing.assert_allclose(comp['t'], evals[::-1][:2] / evals.sum())


def test_trial_tensor_layout():
    rng = np.random.RandomState(2)
    H = rng.rand(7, 12, 5)                              # (T, B, N)
    in_loc = np.array([2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1])
    tr = da.trial_tensor(H, in_loc)
    assert tr.shape == (4, 5, 3, 7)
    # second trial of location 1 is trial index 5
    np.testing.assert_array_equal(tr[1, :, 1, :], H[:, 5, :].T)
    assert da.trial_tensor(H, in_loc, [2, 0]).shape == (4, 5, 2, 7)
    with pytest.raises(ValueError, match=r'Location\(s\) \[7\] not in the trials'):
        da.trial_tensor(H, in_loc, [7])
    with pytest.raises(ValueError, match='different numbers of trials'):
        da.trial_tensor(H, np.array([0] * 7 + [1] * 5))


def test_neuron_dPCA_on_tiny_model(model_copy, figure_root):
    hp, log = tools.load_hp(model_copy), tools.load_log(model_copy)
    res = da.neuron_dPCA(hp, log, model_copy, 1280, rule='odr', appoint_loc_analysis=True,
                         appoint_locs=[0, 2, 4, 6], invert_tcomp_y=True, tcomp_ylim=(-5, 5),
                         verbose=False)
    assert res['Z']['s'].shape == (10, 4, 175)
    assert res['locs'] == [0, 2, 4, 6]
    # Oracle for what dPCA is given: the checkpoint's H averaged by a loop over the
    # trials of each chosen location, each unit centred over locations and time.
    H = activity.Get_H(hp, model_copy, 1280, 'odr').astype(np.float64)
    in_loc = np.asarray(common.load_task_info(model_copy)['odr']['in_loc'])
    R = np.stack([H[:, in_loc == loc, :].mean(axis=1).T for loc in (0, 2, 4, 6)], axis=1)
    R -= R.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(res['R'], R, rtol=1e-5, atol=1e-6)
    assert res['times'][-1] == pytest.approx(174 * 0.02)
    assert any(f.endswith('odr_1280_dPCA_locs_0_2_4_6.png') for f in res['figures'])
    assert all(os.path.isfile(f) for f in res['figures'])


def test_real_neuron_dPCA_input_and_errors(tmp_path, figure_root):
    path = monkey.make_synthetic_recording(str(tmp_path / 'young.txt'), n_units=15, seed=1)
    res = da.real_neuron_dPCA(path, appoint_loc_analysis=True, appoint_locs=[1, 3, 5, 7],
                              verbose=False)
    assert res['Z']['st'].shape == (10, 4, 176)
    assert res['locs'] == [1, 3, 5, 7]
    # Oracle for what dPCA is given: the file's rates (location, trial, bin, unit) averaged
    # by a loop over the trials of the 1-based locations 1 3 5 7, each unit centred.
    rec = monkey.read_recording(path)
    R = np.array([[[rec[loc - 1, :, b, u].mean() for b in range(176)] for loc in (1, 3, 5, 7)]
                  for u in range(15)])
    R -= R.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(res['R'], R, rtol=1e-9, atol=1e-9)
    assert all(os.path.isfile(f) for f in res['figures'])
    with pytest.raises(ValueError, match='1-based locations in 1..8'):
        da.real_neuron_dPCA(path, appoint_loc_analysis=True, appoint_locs=[0, 4], plot=False)
