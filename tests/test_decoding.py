"""analysis.decoding: cross-temporal decoding of the cue location (Fig S5E)."""

import os

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import tools
from analysis import activity, common, decoding, monkey


def test_svc_predict_matches_sklearn():
    rng = np.random.RandomState(0)
    for _ in range(3):
        centres = rng.randn(8, 30) * 0.4
        y = np.repeat(np.arange(8), 12)
        X = centres[y] + rng.randn(len(y), 30)
        clf = decoding.fit_svc(X, y)
        default = SVC().fit(X, y)
        Xt = rng.randn(2000, 30)
        np.testing.assert_array_equal(decoding.svc_predict(clf, Xt), default.predict(Xt))


def test_scale_gamma_known_answer():
    # gamma 'scale' = 1 / (n_features · variance of all entries): the entries 0, 4 (four
    # of each) have variance 4, so 1 / (2 · 4) = 0.125.
    X = np.array([[0., 0.], [4., 0.], [0., 4.], [4., 4.]])
    clf = decoding.fit_svc(X, np.array([0, 1, 0, 1]))
    assert clf.gamma == 0.125
    # a constant X (variance 0): sklearn's fallback 1.0
    assert decoding.fit_svc(np.ones((4, 2)), np.array([0, 1, 0, 1])).gamma == 1.0


def test_window_features_and_held_out_mask():
    H = np.random.RandomState(1).rand(23, 6, 4)
    F, starts = decoding.window_features(H, window_size=5, stride=3)
    assert starts.tolist() == [0, 3, 6, 9, 12, 15, 18]
    for k, s in enumerate(starts):
        np.testing.assert_allclose(F[k], H[s:s + 5].mean(axis=0))
    mask = decoding.held_out_mask(np.array([0, 1, 0, 1, 0, 1]), 2)
    assert mask.tolist() == [True, True, True, True, False, False]
    with pytest.raises(ValueError, match='leaves none to train on'):
        decoding.held_out_mask(np.array([0, 0, 1, 1]), 2)
    with pytest.raises(ValueError, match='longer than the 23 time steps'):
        decoding.window_features(H, 30, 1)


def _naive(F, labels, test_num, offdiag, scale):
    """The original's loops: per row one fit, per cell one score (and one scaler refit)."""
    n_w = F.shape[0]
    test = decoding.held_out_mask(labels, test_num)
    acc = np.empty((n_w, n_w))
    prep = (lambda f: StandardScaler().fit_transform(f)) if scale else (lambda f: f)
    for i in range(n_w):
        Fi = prep(F[i])
        clf = SVC().fit(Fi[~test], labels[~test])
        for j in range(n_w):
            Fj = prep(F[j])
            if i == j or offdiag == 'held_out':
                acc[i, j] = clf.score(Fj[test], labels[test])
            else:
                acc[i, j] = clf.score(Fj, labels)
    return acc


@pytest.mark.parametrize('offdiag, scale, product_windows',
                         [('all', False, 8), ('held_out', True, 8), ('all', False, 2)])
def test_matrix_equals_naive_loops(offdiag, scale, product_windows, monkeypatch):
    # product_windows 2: the 5 windows' classifiers in products of 2, 2 and 1
    monkeypatch.setattr(decoding, 'PRODUCT_WINDOWS', product_windows)
    rec = monkey.synthetic_rates(n_units=10, n_trials=6, n_bins=40, seed=4)
    H = rec.transpose(2, 0, 1, 3).reshape(40, 48, 10)
    labels = np.repeat(np.arange(8), 6)
    F, _ = decoding.window_features(H, 8, 8)
    Fs = decoding.standardize_windows(F) if scale else F
    acc = decoding.cross_temporal_accuracy(Fs, labels, test_num=2, offdiag=offdiag)
    np.testing.assert_allclose(acc, _naive(F, labels, 2, offdiag, scale))


def test_tuned_units_decode_after_cue_and_untuned_at_chance(tmp_path, figure_root):
    tuned = monkey.make_synthetic_recording(str(tmp_path / 'tuned.txt'), n_units=30, seed=0)
    flat = monkey.make_synthetic_recording(str(tmp_path / 'flat.txt'), n_units=30, seed=0,
                                           tuned=False)
    kw = dict(window_size=10, stride=10, verbose=False)
    res = decoding.realneuron_Decoder_analysis(tuned, **kw)
    acc, times = res['accuracy'], res['times']
    assert acc.shape == (17, 17) and times[1] == pytest.approx(0.2)
    diag = np.diag(acc)
    after_cue = (times >= 1.0) & (times + 0.2 <= 3.0)     # windows in cue + delay
    before_cue = times + 0.2 <= 1.0
    assert diag[after_cue].mean() > 0.9
    assert diag[before_cue].mean() < 0.35
    # the delay code generalises across delay windows
    delay = np.flatnonzero((times >= 1.6) & (times + 0.2 <= 3.0))
    assert acc[np.ix_(delay, delay)].mean() > 0.8
    assert all(os.path.isfile(f) for f in res['figures'])
    chance = decoding.realneuron_Decoder_analysis(flat, plot=False, **kw)['accuracy']
    assert abs(np.diag(chance).mean() - 1 / 8) < 0.08
    assert abs(chance.mean() - 1 / 8) < 0.05


def test_Decoder_analysis_on_tiny_model(model_copy, figure_root):
    hp = tools.load_hp(model_copy)
    res = decoding.Decoder_analysis(hp, model_copy, 1280, rule='odr', window_size=10,
                                    stride=10, verbose=False)
    T = 175  # odr: 3500 ms / 20 ms
    n_w = (T - 10) // 10 + 1
    assert res['accuracy'].shape == (n_w, n_w)
    # Oracle for what the decoder is given: window means of the checkpoint's H written as
    # a loop, labelled by the trials' cue locations (the matrix itself: the naive-loop test).
    H = activity.Get_H(hp, model_copy, 1280, 'odr')
    F = np.array([H[s:s + 10].astype(np.float64).mean(axis=0) for s in range(0, T - 9, 10)])
    labels = np.asarray(common.load_task_info(model_copy)['odr']['in_loc'])
    np.testing.assert_array_equal(
        res['accuracy'], decoding.cross_temporal_accuracy(F, labels, test_num=2,
                                                          verbose=False))
    np.testing.assert_allclose(res['times'], np.arange(n_w) * 0.2)
    assert res['window_ms'] == 200 and res['stride_ms'] == 200
    assert any(f.endswith('odr_1280_w200ms_s200ms.png') for f in res['figures'])
    assert all(os.path.isfile(f) for f in res['figures'])
    with pytest.raises(ValueError, match="task_mode must be 'test'"):
        decoding.Decoder_analysis(hp, model_copy, 1280, task_mode='random')
    with pytest.raises(ValueError, match='not trained on rule'):
        decoding.Decoder_analysis(hp, model_copy, 1280, rule='match_or_non')
