"""Demixed PCA (Kobak et al. 2016) of RNN units (Fig 5E) and of monkey units.

Uses the ``dPCA`` package (pip name ``dpca``, import name ``dPCA``) through one adapter,
``fit_dpca``, which fixes what the package leaves loose:

* labels 'st' (s = stimulus location, t = time), regularizer 'auto' (cross-validated
  over the trial-by-trial data), protect ['t'] (time points are never shuffled apart);
* reproducible: the package draws from NumPy's global generator (train/test splits,
  randomized SVD) and from numba's generator (label shuffles); both are seeded, and
  NumPy's global state is restored afterwards so the caller's stream is untouched;
* fast: BLAS is held to one thread while it runs (its matrices are small);
* quiet: its banner and progress prints are swallowed (contextlib.redirect_stdout);
* explained variance recomputed: the package's ``explained_variance_ratio_`` is the
  variance of each projection D_kᵀX, not the variance the component explains; here the
  fraction of the total variance of the centred data X explained by component k of
  marginalisation φ is 1 − ‖X − P_k D_kᵀ X‖² / ‖X‖² (as the authors' MATLAB code).

Arrays: trial-by-trial data (n_trials, n_units, n_locations, n_steps); trial-averaged,
per-unit centred data R (n_units, n_locations, n_steps); components Z[φ]
(n_components, n_locations, n_steps).
"""

import contextlib
import io

import numpy as np
from threadpoolctl import threadpool_limits

import stages
import tools
from analysis import activity, common, monkey, session
from analysis.blocks import block

MARGINALIZATIONS = ('t', 's', 'st')
TITLES = {'t': 'time', 's': 'stimulus', 'st': 'mixing'}


_NUMBA_SEEDER = []


def _seed_numba(seed):
    """Seed numba's own generator (used by dPCA's jitted label shuffles).

    numba keeps a generator of its own, seeded only from inside jitted code; the tiny
    seeding function is compiled on first use and kept.
    """
    if not _NUMBA_SEEDER:
        import numba

        @numba.njit
        def _seed(s):
            np.random.seed(s)

        _NUMBA_SEEDER.append(_seed)
    _NUMBA_SEEDER[0](int(seed))


def _import_dpca():
    try:
        from dPCA import dPCA
    except ImportError as exc:
        raise ImportError('dPCA analyses need the dpca package and its undeclared '
                          'dependencies: pip install dpca==1.0.5 numba numexpr '
                          '({})'.format(exc)) from None
    return dPCA


def trial_average(trialR):
    """Trial mean (NaN-aware: conditions may have fewer trials, padded with NaN), centred
    per unit over locations and time: (n_trials, n_units, n_loc, T) → (n_units, n_loc, T)."""
    R = np.nanmean(trialR, axis=0)
    return R - R.reshape(R.shape[0], -1).mean(axis=1)[:, None, None]


def explained_variance(R, P, D):
    """{φ: (n_components,)} fraction of ‖R‖² explained by each component,
    1 − ‖R − P_k D_kᵀ R‖² / ‖R‖²; and {φ: fraction of ‖R‖² in the marginalisation φ}."""
    X = R.reshape(R.shape[0], -1)
    total = np.sum(X ** 2)
    comp = {}
    for key in P:
        Z = D[key].T @ X                                   # (n_comp, conditions)
        comp[key] = np.array([1 - np.sum((X - np.outer(P[key][:, k], Z[k])) ** 2) / total
                              for k in range(Z.shape[0])])
    X_t = R.mean(axis=1, keepdims=True)                    # time marginalisation
    X_s = R.mean(axis=2, keepdims=True)                    # stimulus marginalisation
    marg = {'t': np.sum(np.broadcast_to(X_t, R.shape) ** 2) / total,
            's': np.sum(np.broadcast_to(X_s, R.shape) ** 2) / total,
            'st': np.sum((R - X_t - X_s) ** 2) / total}
    return comp, marg


def fit_dpca(trialR, n_components=10, regularizer='auto', seed=0, n_cv_trials=3):
    """dPCA with labels 'st' on trial-by-trial data.

    trialR: (n_trials, n_units, n_locations, n_steps); NaN marks missing trials.
    Returns {'Z': {φ: (n_components, n_locations, n_steps)} projections of the centred
    trial mean R, 'R': R (n_units, n_locations, n_steps), 'explained_variance':
    {φ: (n_components,)} fractions of the variance of R, 'marginal_variance':
    {φ: fraction}, 'regularizer': λ used, 'P', 'D': {φ: (n_units, n_components)}
    encoder / decoder, 'model': the fitted dPCA object}.
    """
    trialR = np.asarray(trialR, dtype=np.float64)
    if trialR.ndim != 4:
        raise ValueError('trialR must be (n_trials, n_units, n_locations, n_steps), got '
                         'shape {}'.format(trialR.shape))
    n_trials, n_units, n_loc, n_steps = trialR.shape
    if n_loc < 2:
        raise ValueError('dPCA needs at least 2 locations, got {}'.format(n_loc))
    if regularizer == 'auto' and n_trials < 2:
        raise ValueError("regularizer 'auto' cross-validates over trials: it needs at "
                         "least 2 trials per location, got {}".format(n_trials))
    n_components = int(min(n_components, n_units))
    dPCA = _import_dpca()
    R = trial_average(trialR)
    state = np.random.get_state()
    np.random.seed(seed)
    _seed_numba(seed)
    try:
        # The package does thousands of small matrix products and QR decompositions:
        # one BLAS thread is faster for those, and much faster on a busy machine, where
        # multi-threaded BLAS on small matrices spends its time waiting for cores.
        with contextlib.redirect_stdout(io.StringIO()), threadpool_limits(1, 'blas'):
            model = dPCA.dPCA(labels='st', regularizer=regularizer,
                              n_components=n_components)
            model.protect = ['t']
            if regularizer == 'auto':
                model.n_trials = n_cv_trials
            Z = model.fit_transform(R, trialR)
    finally:
        np.random.set_state(state)
    comp, marg = explained_variance(R, model.P, model.D)
    return {'Z': Z, 'R': R, 'explained_variance': comp, 'marginal_variance': marg,
            'regularizer': float(model.regularizer), 'P': model.P, 'D': model.D,
            'model': model}


def trial_tensor(H, in_loc, locs=None):
    """Trial-by-trial tensor (n_trials_per_loc, n_units, n_locs, T) of H (T, B, N).

    in_loc: (B,) location index of each trial; trials of a location keep their order.
    locs: the locations to keep (default all, sorted). Every kept location needs the
    same number of trials.
    """
    H = np.asarray(H)
    in_loc = np.asarray(in_loc)
    available = sorted(set(in_loc.tolist()))
    locs = available if locs is None else list(locs)
    missing = [l for l in locs if l not in available]
    if missing:
        raise ValueError('Location(s) {} not in the trials; locations: {}'.format(
            missing, available))
    groups = [np.flatnonzero(in_loc == l) for l in locs]
    counts = {len(g) for g in groups}
    if len(counts) != 1:
        raise ValueError('Locations have different numbers of trials: {}'.format(
            {l: len(g) for l, g in zip(locs, groups)}))
    idx = np.stack(groups, axis=1)                     # (n_per_loc, n_locs)
    # H[:, idx] is (T, n_per_loc, n_locs, N) → (n_per_loc, N, n_locs, T)
    return H[:, idx].transpose(1, 3, 2, 0)


def _plot_components(res, locs, times, title, path, invert=None, ylims=None,
                     smooth_window=0, loc_offset=0):
    import matplotlib.pyplot as plt
    invert = invert or {}
    ylims = ylims or {}
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.5), sharex=True)
    for ax, key in zip(axes, MARGINALIZATIONS):
        comp = res['Z'][key][0]                              # (n_locs, T)
        for k, loc in enumerate(locs):
            curve = tools.smooth(comp[k], smooth_window) if smooth_window else comp[k]
            ax.plot(times, curve, label='loc {}'.format(loc + loc_offset))
        ax.set_title('1st {} component ({:.1f}% of variance)'.format(
            TITLES[key], 100 * res['explained_variance'][key][0]))
        ax.set_xlabel('time (s)')
        if ylims.get(key) is not None:
            ax.set_ylim(*ylims[key])
        if invert.get(key):
            ax.invert_yaxis()
    axes[0].set_ylabel('projection (a.u.)')
    axes[-1].legend(fontsize=7, ncol=2)
    fig.suptitle(title)
    return common.save_figure(fig, path)


def _chosen_locs(appoint_loc_analysis, appoint_locs, all_locs):
    """The locations analysed: appoint_locs if appoint_loc_analysis, else all_locs."""
    return list(appoint_locs) if appoint_loc_analysis else list(all_locs)


def _loc_suffix(appoint_loc_analysis, locs):
    return '_locs_' + '_'.join(str(l) for l in locs) if appoint_loc_analysis else ''


def _dpca_needs(need, a):
    if a.trial_num is not None:
        need.H(a.model_dir, a.rule, [a.trial_num])

@block(kind='shared', needs=_dpca_needs)
def neuron_dPCA(hp, log, model_dir, trial_num, rule, task_mode='test',
                appoint_loc_analysis=False, appoint_locs=(0, 4), invert_tcomp_y=False,
                invert_scomp_y=False, invert_stcomp_y=False, tcomp_ylim=(None, None),
                scomp_ylim=(None, None), stcomp_ylim=(None, None), n_components=10, seed=0,
                plot=True, verbose=True):
    """dPCA of the units of one checkpoint (Fig 5E).

    H (T, 128, n_rnn) of 'test' trials from activity.Get_H; the trial-by-trial tensor
    (16 trials per location, n_rnn, locations, T) is trial-averaged and centred per unit,
    then demixed with dPCA (labels 'st', regularizer 'auto', protect ['t']). The first
    time, stimulus and mixing components are plotted per location against time (s).
    appoint_loc_analysis: keep only the location indices appoint_locs (0-based), else all
    locations. invert_*_y / *_ylim: per panel y-axis inversion and (bottom, top) limits
    (None = automatic). ``log`` gives the checkpoint's performance for the title.
    Figure: figure/figure_<model>/<rule>/dPCA/<rule>_<trial>_dPCA[_locs_<a>_<b>…].

    Returns fit_dpca's dict plus 'locs', 'times' (T,) s and 'figures'.
    """
    H, in_loc = activity.H_and_locations(hp, model_dir, trial_num, rule, task_mode)
    locs = _chosen_locs(appoint_loc_analysis, appoint_locs, sorted(set(in_loc.tolist())))
    trialR = trial_tensor(H, in_loc, locs)
    res = fit_dpca(trialR, n_components=n_components, seed=seed)
    res['locs'] = locs
    res['times'] = np.arange(H.shape[0]) * hp['dt'] / 1000.
    res['figures'] = []
    if plot:
        try:
            perf = '{:.2f}'.format(stages.perf_at(log, rule, trial_num))
        except common.DataUnavailable:
            perf = 'n/a'
        title = '{} checkpoint {} (perf {}): dPCA of {} units'.format(
            rule, trial_num, perf, H.shape[2])
        res['figures'] = _plot_components(
            res, locs, res['times'], title,
            session.figure_path(model_dir, rule, 'dPCA', '{}_{}_dPCA{}'.format(
                rule, trial_num, _loc_suffix(appoint_loc_analysis, locs))),
            invert={'t': invert_tcomp_y, 's': invert_scomp_y, 'st': invert_stcomp_y},
            ylims={'t': tcomp_ylim, 's': scomp_ylim, 'st': stcomp_ylim})
    if verbose:
        print('neuron_dPCA {} {}: {} units × {} locations × {} steps; 1st components explain '
              '{}'.format(rule, trial_num, H.shape[2], len(locs), H.shape[0], _ev_text(res)))
    return res


def _ev_text(res):
    return ', '.join('{} {:.1f}%'.format(TITLES[k], 100 * res['explained_variance'][k][0])
                     for k in MARGINALIZATIONS)


@block(kind='shared')
def real_neuron_dPCA(neuron_file='data/adultFiringRate8trials.txt', time_len=monkey.N_BINS,
                     trial_per_loc=monkey.N_TRIALS, dt=monkey.BIN_MS,
                     appoint_loc_analysis=False, appoint_locs=(1, 5), invert_tcomp_y=False,
                     invert_scomp_y=False, invert_stcomp_y=False, tcomp_ylim=(None, None),
                     scomp_ylim=(None, None), stcomp_ylim=(None, None), loc_num=monkey.N_LOC,
                     smooth_window=3, n_components=10, seed=0, plot=True, verbose=True):
    """dPCA of a monkey recording (trial format, see analysis.monkey: loc_num locations ×
    trial_per_loc trials × time_len bins of dt ms).

    appoint_loc_analysis: keep only the 1-based locations appoint_locs, else all. The
    plotted first components are smoothed with tools.smooth(window=smooth_window) (value
    i = mean of curve[i : i + window + 1]); the returned Z are not smoothed.
    Figure: figure/figure_real_neuron/dPCA/<file>_dPCA[_locs_<a>_<b>…].

    Returns fit_dpca's dict plus 'locs' (1-based), 'times' (time_len,) s and 'figures'.
    """
    path, n_loc, n_trials, n_bins = neuron_file, loc_num, trial_per_loc, time_len
    data = monkey.read_recording(path, n_loc=n_loc, n_trials=n_trials, n_bins=n_bins)
    locs = _chosen_locs(appoint_loc_analysis, appoint_locs, range(1, n_loc + 1))
    bad = [l for l in locs if not 1 <= l <= n_loc]
    if bad:
        raise ValueError('appoint_locs must be 1-based locations in 1..{}; got {}'.format(
            n_loc, bad))
    # (loc, trial, bin, unit) → (trial, unit, loc, bin)
    trialR = data[np.asarray(locs) - 1].transpose(1, 3, 0, 2)
    res = fit_dpca(trialR, n_components=n_components, seed=seed)
    res['locs'] = locs
    res['times'] = np.arange(n_bins) * dt / 1000.
    res['figures'] = []
    if plot:
        title = '{}: dPCA of {} units'.format(monkey.sample_name(path), data.shape[-1])
        res['figures'] = _plot_components(
            res, locs, res['times'], title,
            monkey.figure_path('dPCA', '{}_dPCA{}'.format(
                monkey.sample_name(path), _loc_suffix(appoint_loc_analysis, locs))),
            invert={'t': invert_tcomp_y, 's': invert_scomp_y, 'st': invert_stcomp_y},
            ylims={'t': tcomp_ylim, 's': scomp_ylim, 'st': stcomp_ylim},
            smooth_window=smooth_window)
    if verbose:
        print('real_neuron_dPCA {}: {} units × {} locations × {} bins; 1st components explain '
              '{}'.format(monkey.sample_name(path), data.shape[-1], len(locs), n_bins,
                          _ev_text(res)))
    return res
