"""Cross-temporal decoding of the cue location (Fig S5E) from RNN units and monkey units.

For windows of ``window_size`` time steps moved by ``stride`` steps, the feature of a
trial is its mean activity over the window (one value per unit). A support-vector
classifier (sklearn SVC, default settings: RBF kernel, C = 1, gamma 'scale') is trained
per window on all but the first ``test_num`` trials of each location, and scored

* on the diagonal (train window = test window): on those held-out trials;
* off the diagonal (test window ≠ train window): on all trials of the test window
  (Decoder_analysis, as the original) or on the test window's held-out trials
  (realneuron_Decoder_analysis, as the original).

Accuracy matrices are (n_windows, n_windows): row = training window, column = test window;
chance is 1 / n_locations. Window times are the window start in seconds.

Speed: each window's classifier is fitted once and predicts every test window in one
vectorised pass (RBF kernel by one matrix product, then libsvm's one-vs-one vote), which
gives the same labels as SVC.predict (tests check this).
"""

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

import stages
import tools
from analysis import activity, common, monkey, session
from analysis.blocks import block

OFFDIAG_MODES = ('all', 'held_out')


# ----------------------------------------------------------------------------------------
# Features and splits
# ----------------------------------------------------------------------------------------
# Classifiers whose kernel products with the scored trials are taken in one matrix product.
PRODUCT_WINDOWS = 8


def window_starts(n_steps, window_size, stride):
    """Start steps (n_windows,) of the windows [start, start + window_size) that fit in
    n_steps (n_windows = (n_steps − window_size) // stride + 1)."""
    window_size, stride = int(window_size), int(stride)
    if window_size < 1 or stride < 1:
        raise ValueError('window_size and stride must be ≥ 1 step, got {} and {}'.format(
            window_size, stride))
    if window_size > n_steps:
        raise ValueError('window_size {} is longer than the {} time steps'.format(
            window_size, n_steps))
    return np.arange((n_steps - window_size) // stride + 1) * stride


def window_features(H, window_size, stride):
    """Mean over each window: H (T, B, N) time-major → (n_windows, B, N) float64, and the
    start steps (n_windows,). Computed from one cumulative sum over time."""
    H = np.asarray(H, dtype=np.float64)
    starts = window_starts(H.shape[0], window_size, stride)
    csum = np.concatenate([np.zeros((1,) + H.shape[1:]), np.cumsum(H, axis=0)], axis=0)
    return (csum[starts + window_size] - csum[starts]) / window_size, starts


def held_out_mask(labels, test_num):
    """(B,) bool: True for the first ``test_num`` trials (in trial order) of each label.

    Every label needs more than test_num trials (the rest train the classifier).
    """
    labels = np.asarray(labels)
    mask = np.zeros(labels.shape, dtype=bool)
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        if len(idx) <= test_num:
            raise ValueError('Location {} has {} trial(s); test_num = {} leaves none to train '
                             'on'.format(lab, len(idx), test_num))
        mask[idx[:test_num]] = True
    return mask


# ----------------------------------------------------------------------------------------
# SVC prediction, vectorised
# ----------------------------------------------------------------------------------------
def _scale_gamma(X):
    """gamma of SVC(gamma='scale') for training data X: 1 / (n_features · X.var())."""
    var = X.var()
    return 1.0 / (X.shape[1] * var) if var != 0 else 1.0


def fit_svc(X, y):
    """sklearn SVC with default settings fitted on X (n, N), labels y (n,).

    gamma 'scale' is written out as its value, computed the way sklearn does, so the
    fitted classifier is the default one and its gamma is a public attribute.
    """
    from sklearn.svm import SVC
    X = np.asarray(X, dtype=np.float64)
    return SVC(gamma=_scale_gamma(X)).fit(X, y)


def _pair_matrices(clf):
    """The one-vs-one structure of a fitted SVC as matrices.

    Returns C (n_SV, n_pairs): pair p = (i, j), i < j in libsvm's order, has the dual
    coefficients dual[j − 1] on class i's support vectors and dual[i] on class j's (zero
    elsewhere), so that the decision values of every pair are K @ C + intercept_; and
    E_i, E_j (n_pairs, n_class): one-hot rows of each pair's first and second class.
    """
    n_class = len(clf.classes_)
    n_sup = clf.n_support_
    start = np.concatenate([[0], np.cumsum(n_sup)[:-1]])
    dual = clf.dual_coef_
    pairs = [(i, j) for i in range(n_class) for j in range(i + 1, n_class)]
    C = np.zeros((dual.shape[1], len(pairs)))
    E_i = np.zeros((len(pairs), n_class))
    E_j = np.zeros((len(pairs), n_class))
    for p, (i, j) in enumerate(pairs):
        si = slice(start[i], start[i] + n_sup[i])
        sj = slice(start[j], start[j] + n_sup[j])
        C[si, p] = dual[j - 1, si]
        C[sj, p] = dual[i, sj]
        E_i[p, i] = E_j[p, j] = 1.0
    return C, E_i, E_j


def svc_predict(clf, X, x_sq=None, products=None):
    """Labels (M,) that ``clf.predict(X)`` gives, for a fitted RBF SVC, computed with
    matrix products: kernel K (M, n_SV) = exp(−gamma·‖x − sv‖²), the decision values of
    all class pairs (i < j) at once from the dual coefficients (_pair_matrices), a vote
    for i if a pair's value is > 0 else for j (libsvm's rule), and the first class with
    the most votes.

    X: (M, N); x_sq: optional (M,) squared norms of the rows of X (reused across
    classifiers); products: optional X · support_vectors_ᵀ (M, n_SV), if already
    computed (cross_temporal_accuracy computes several classifiers' in one product).
    Float64 throughout, as libsvm.
    """
    X = np.asarray(X, dtype=np.float64)
    sv = clf.support_vectors_
    if x_sq is None:
        x_sq = np.einsum('ij,ij->i', X, X)
    # −gamma·‖x − sv‖² built in place in one (M, n_SV) buffer, then exponentiated
    K = X @ sv.T if products is None else np.array(products, dtype=np.float64)
    K *= 2.0
    K -= x_sq[:, None]
    K -= np.einsum('ij,ij->i', sv, sv)[None, :]
    K *= clf.gamma
    np.exp(K, out=K)
    C, E_i, E_j = _pair_matrices(clf)
    win = (K @ C + clf.intercept_) > 0                         # (M, n_pairs)
    # vote counts are small integers: exact in float64 products
    votes = win @ E_i + (~win) @ E_j
    return clf.classes_[np.argmax(votes, axis=1)]


# ----------------------------------------------------------------------------------------
# The cross-temporal matrix
# ----------------------------------------------------------------------------------------
def standardize_windows(F):
    """Each window's features standardised over trials (StandardScaler refit per window):
    F (n_windows, B, N) → same shape."""
    from sklearn.preprocessing import StandardScaler
    return np.stack([StandardScaler().fit_transform(f) for f in F])


def cross_temporal_accuracy(F, labels, test_num=2, offdiag='all', verbose=False,
                            desc='decoding'):
    """Cross-temporal decoding accuracy (n_windows, n_windows) of window features.

    F: (n_windows, B, N) features (e.g. window_features(H)[0]); labels: (B,) location of
    each trial. Row i: SVC fitted on the training trials (all but the first test_num of
    each location) of window i. Cell (i, i): accuracy on window i's held-out trials.
    Cell (i, j ≠ i): accuracy on all trials of window j (offdiag='all') or on window j's
    held-out trials (offdiag='held_out').
    """
    if offdiag not in OFFDIAG_MODES:
        raise ValueError('offdiag must be one of {}, got {!r}'.format(OFFDIAG_MODES, offdiag))
    F = np.asarray(F, dtype=np.float64)
    labels = np.asarray(labels)
    if F.ndim != 3 or F.shape[1] != labels.shape[0]:
        raise ValueError('F must be (n_windows, B, N) with B = len(labels) = {}, got '
                         'shape {}'.format(labels.shape[0], F.shape))
    n_w, B, N = F.shape
    test = held_out_mask(labels, test_num)
    train = ~test
    scored = slice(None) if offdiag == 'all' else test
    targets = labels[scored]
    X_all = F[:, scored].reshape(-1, N)
    x_sq = np.einsum('ij,ij->i', X_all, X_all)
    acc = np.empty((n_w, n_w))
    # One BLAS thread: the products are mid-sized, and on a machine whose cores are
    # busy (e.g. with training) multi-threaded BLAS mostly waits for them.
    with threadpool_limits(1, 'blas'):
        bar = tqdm(total=n_w, desc=desc, unit='window', disable=not verbose, leave=False)
        for i0 in range(0, n_w, PRODUCT_WINDOWS):
            clfs = [fit_svc(F[i, train], labels[train])
                    for i in range(i0, min(i0 + PRODUCT_WINDOWS, n_w))]
            # X_all against the support vectors of several classifiers in one product:
            # a product with ~60 columns runs at a third of the machine's float64 speed
            products = X_all @ np.concatenate([c.support_vectors_ for c in clfs]).T
            ends = np.cumsum([len(c.support_vectors_) for c in clfs])
            for i, clf, end in zip(range(i0, n_w), clfs, ends):
                start = end - len(clf.support_vectors_)
                pred = svc_predict(clf, X_all, x_sq, products[:, start:end]).reshape(n_w, -1)
                acc[i] = (pred == targets).mean(axis=1)
                if offdiag == 'all':
                    acc[i, i] = (pred[i, test] == labels[test]).mean()
                bar.update()
        bar.close()
    return acc


def _plot_matrix(acc, times, step_s, n_classes, title, path, epochs_s=None):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 6))
    # Each cell spans one stride; its left/bottom edge is the window start.
    extent = (times[0], times[-1] + step_s, times[0], times[-1] + step_s)
    im = ax.imshow(acc, origin='lower', extent=extent, cmap='rainbow', aspect='equal',
                   vmin=1.0 / n_classes, vmax=1.0, interpolation='nearest')
    for t in (epochs_s or []):
        ax.axvline(t, color='k', lw=0.6, ls='--')
        ax.axhline(t, color='k', lw=0.6, ls='--')
    ax.set_xlabel('test window start (s)')
    ax.set_ylabel('training window start (s)')
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label='decoding accuracy (chance = 1/{})'.format(n_classes))
    return common.save_figure(fig, path)


def _perf_text(model_dir, rule, trial_num):
    """'0.87': the logged performance of a checkpoint for figure titles ('n/a' when the
    log does not hold it)."""
    try:
        return '{:.2f}'.format(stages.perf_at(tools.load_log(model_dir), rule, trial_num))
    except (common.DataUnavailable, FileNotFoundError):
        return 'n/a'


def _epoch_edges_s(epochs, dt):
    """Sorted inner epoch boundaries (s) of an epochs dict {name: (start, end)} (steps)."""
    edges = {v for se in epochs.values() for v in se if v is not None and v > 0}
    return sorted(e * dt / 1000. for e in edges)


# ----------------------------------------------------------------------------------------
# RNN units
# ----------------------------------------------------------------------------------------
def _decoder_needs(need, a):
    if a.trial_num is not None:
        need.H(a.model_dir, a.rule, [a.trial_num])

@block(kind='shared', needs=_decoder_needs)
def Decoder_analysis(hp, model_dir, trial_num, rule='odr', task_mode='test', window_size=2,
                     stride=1, test_num=2, offdiag='all', plot=True, verbose=True):
    """Cross-temporal decoding of the cue location from the units of one checkpoint.

    H (T, 128, n_rnn) of 'test' trials (16 per location) comes from activity.Get_H
    (cached in <trial_num>/H_<rule>.pkl), the cue locations from task_info (in_loc).
    Features: mean H over windows of window_size steps moved by stride steps, unscaled.
    SVC per window trained on all but the first test_num trials of each location;
    diagonal scored on those held-out trials, off-diagonal on all trials of the other
    window (offdiag='all', the original's choice; as most of those trials trained the
    classifier, cells next to the diagonal, whose windows overlap, score high even where
    the diagonal is at chance — offdiag='held_out' scores them on the held-out trials
    only). Heatmap (time in s, colour range 1/n_locations … 1) into
    figure/figure_<model>/<rule>/<rule>_<trial>_w<ms>ms_s<ms>ms; its title gives the
    checkpoint's performance, read from model_dir/log.json (the original's call form
    takes no log).

    Returns {'accuracy': (n_windows, n_windows) row = train window, column = test window,
    'times': (n_windows,) window starts in s, 'window_ms', 'stride_ms', 'figures'}.
    """
    H, labels = activity.H_and_locations(hp, model_dir, trial_num, rule, task_mode)
    F, starts = window_features(H, window_size, stride)
    acc = cross_temporal_accuracy(F, labels, test_num=test_num, offdiag=offdiag,
                                  verbose=verbose, desc='decoder {}'.format(trial_num))
    dt = hp['dt']
    res = {'accuracy': acc, 'times': starts * dt / 1000., 'window_ms': window_size * dt,
           'stride_ms': stride * dt, 'figures': []}
    diag = np.diag(acc)
    if plot:
        name = '{}_{}_w{}ms_s{}ms'.format(rule, trial_num, window_size * dt, stride * dt)
        if offdiag != 'all':
            name += '_' + offdiag
        perf = _perf_text(model_dir, rule, trial_num)
        title = '{} checkpoint {} (perf {}), window {} ms, stride {} ms'.format(
            rule, trial_num, perf, window_size * dt, stride * dt)
        res['figures'] = _plot_matrix(acc, res['times'], stride * dt / 1000.,
                                      len(np.unique(labels)), title,
                                      session.figure_path(model_dir, rule, name),
                                      _epoch_edges_s(activity.task_info_for(
                                          hp, model_dir, [rule])[rule]['epoch_info'], dt))
    if verbose:
        print('Decoder_analysis {} {}: {} windows, diagonal accuracy mean {:.2f} '
              '(max {:.2f}), chance {:.3f}'.format(rule, trial_num, len(starts), diag.mean(),
                                                   diag.max(), 1 / len(np.unique(labels))))
    return res


# ----------------------------------------------------------------------------------------
# Monkey units
# ----------------------------------------------------------------------------------------
@block(kind='shared')
def realneuron_Decoder_analysis(neuron_file='data/adultFiringRate8trials.txt', test_size=.25,
                                test_num=4, time_len=monkey.N_BINS, dt=monkey.BIN_MS,
                                loc_num=monkey.N_LOC, trial_per_loc=monkey.N_TRIALS,
                                window_size=2, stride=1, artifact_trial_num_per_loc=0,
                                plot=True, verbose=True):
    """Cross-temporal decoding of the cue location from a monkey recording (trial format,
    see analysis.monkey: loc_num locations × trial_per_loc trials × time_len bins of dt ms).

    As Decoder_analysis, except that each window's features are standardised over trials
    (StandardScaler refit per window) and off-diagonal cells are scored on the other
    window's held-out trials (the first test_num trials of each location).
    test_size is accepted and unused, as in the original (its split was replaced by
    test_num there). artifact_trial_num_per_loc must be 0: the original's artificial
    trials (unit values drawn from NumPy's global generator) are not supported.
    Figure: figure/figure_real_neuron/decoder/realneuron_<file>_w<ms>ms_s<ms>ms.

    Returns {'accuracy': (n_windows, n_windows), 'times': (n_windows,) s, 'window_ms',
    'stride_ms', 'figures'}.
    """
    if artifact_trial_num_per_loc:
        raise ValueError('artifact_trial_num_per_loc must be 0 (artificial trials are not '
                         'supported); got {!r}'.format(artifact_trial_num_per_loc))
    path, n_loc, n_trials, n_bins = neuron_file, loc_num, trial_per_loc, time_len
    data = monkey.read_recording(path, n_loc=n_loc, n_trials=n_trials, n_bins=n_bins)
    # (loc, trial, bin, unit) → time-major (bin, loc·trial, unit), trials grouped by loc.
    H = data.transpose(2, 0, 1, 3).reshape(n_bins, n_loc * n_trials, -1)
    labels = np.repeat(np.arange(1, n_loc + 1), n_trials)
    F, starts = window_features(H, window_size, stride)
    F = standardize_windows(F)
    acc = cross_temporal_accuracy(F, labels, test_num=test_num, offdiag='held_out',
                                  verbose=verbose, desc='decoder ' + monkey.sample_name(path))
    res = {'accuracy': acc, 'times': starts * dt / 1000., 'window_ms': window_size * dt,
           'stride_ms': stride * dt, 'figures': []}
    if plot:
        name = 'realneuron_{}_w{}ms_s{}ms'.format(monkey.sample_name(path),
                                                  window_size * dt, stride * dt)
        title = '{}: {} units, window {} ms, stride {} ms'.format(
            monkey.sample_name(path), data.shape[-1], window_size * dt, stride * dt)
        res['figures'] = _plot_matrix(acc, res['times'], stride * dt / 1000., n_loc, title,
                                      monkey.figure_path('decoder', name))
    if verbose:
        print('realneuron_Decoder_analysis {}: {} windows, diagonal accuracy mean {:.2f}, '
              'chance {:.3f}'.format(monkey.sample_name(path), len(starts),
                                     np.diag(acc).mean(), 1 / n_loc))
    return res
