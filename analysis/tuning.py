"""Tuning curves of selective units across training stages (Fig S3B).

The tuning curve of a unit is its row of neuron_info['firerate_loc_order'] (n_rnn,
n_locations): its mean analysed value per cue location (relative change from fix1 if the
neuron_info was built with norm=True, else raw activity).
"""

import math
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

import stages
from analysis import common, session
from analysis.blocks import block
from analysis.stats import ttest_ind
from analysis.common import (N_TYPES, check_n_types, checked_trials, epoch_bounds, pyplot,
                             range_tag, selected_units, stage_groups, type_tag)
from analysis.activity import rule_task_info
from analysis.neuron_info import ensure_neuron_info


def max_central(max_dir, tuning):
    """Rotate tuning curve(s) so the preferred location sits at index n//2.

    tuning: (n,) or (k, n); max_dir: int or (k,) preferred location indices. Value at
    location i moves to index (i − max_dir + n//2) mod n. For even n the curve is wrapped
    to n+1 points (last = first) so it is symmetric around the centre.
    Returns (n',) or (k, n') with n' = n + 1 for even n, else n.
    """
    tuning = np.asarray(tuning, dtype=float)
    single = tuning.ndim == 1
    rates = np.atleast_2d(tuning)
    prefs = np.broadcast_to(np.asarray(max_dir, dtype=int), (rates.shape[0],))
    n = rates.shape[1]
    # new index j holds old location (j + pref − n//2) mod n
    src = (np.arange(n)[None, :] + prefs[:, None] - n // 2) % n
    out = np.take_along_axis(rates, src, axis=1)
    if n % 2 == 0:
        out = np.concatenate([out, out[:, :1]], axis=1)
    return out[0] if single else out


def gaussian(x, a, u, sig):
    """a·exp(−(x−u)²/2σ²)/(σ√(2π))."""
    return a * np.exp(-(x - u) ** 2 / (2 * sig ** 2)) / (sig * math.sqrt(2 * math.pi))


def fit_gaussian(tuning):
    """Fit ``gaussian`` to tuning − min(tuning) over x = 0..len−1 with
    p0 = [max(tuning) + 1, len//2, 1]. Returns (a, u, sigma), or None if the fit fails."""
    tuning = np.asarray(tuning, dtype=float)
    if not np.all(np.isfinite(tuning)):
        return None
    x = np.arange(tuning.size, dtype=float)
    try:
        with warnings.catch_warnings():
            # covariance not estimable: the parameters are still the least-squares fit
            warnings.simplefilter('ignore', OptimizeWarning)
            params, _ = curve_fit(gaussian, x, tuning - tuning.min(),
                                  p0=[tuning.max() + 1, tuning.size // 2, 1])
    except (RuntimeError, ValueError):
        return None
    return tuple(float(p) for p in params) if np.all(np.isfinite(params)) else None


def _tuning_needs(need, a):
    need.neuron_info(a.model_dir, a.rule, a.epoch, a.trial_list)

@block(needs=_tuning_needs)
def tunning_analysis(hp, log, model_dir, rule, epoch, trial_list, n_types=N_TYPES,
                     gaussion_fit=True, height_ttest=True, verbose=True):
    """Fig S3B: tuning curves per stage, Gaussian fits and height t-tests.

    Per checkpoint: the tuning rows of the units of ``n_types`` selective in ``epoch``
    (neuron_info generated if missing), each rotated by max_central around its preferred
    location, averaged over the units; per stage the mean over its checkpoints (a
    checkpoint without units is left out, with a note). The Gaussian is fitted to each
    stage curve (fit_gaussian; width = 2σ in location steps; a failed fit is noted and
    only the points are drawn). Heights (max − min of each unit's raw tuning row, pooled
    over the stage's checkpoints) are compared between every pair of stages with
    independent t-tests; the p-values go into the title.

    Returns {'tuning': {stage: (n+1,) for even n, else (n,)}, 'n_units': {stage: mean count},
    'heights': {stage: array}, 'fit': {stage: (a, u, sigma) or None},
    'width': {stage: 2σ or NaN}, 'ttest_p': {'<stage1>-<stage2>': p},
    'trials': {stage: [...]}, 'figures': [...]}.
    """
    what = 'tunning_analysis'
    info = rule_task_info(hp, model_dir, rule)
    epoch_bounds(info['epoch_info'], epoch, rule=rule)
    n_types = check_n_types(n_types)
    trials = checked_trials(log, trial_list, rule)
    groups = stage_groups(hp, log, trial_list, rule, what)
    result = {'tuning': {}, 'n_units': {}, 'heights': {}, 'fit': {}, 'width': {},
              'ttest_p': {}, 'trials': {}, 'figures': []}
    if not trials:
        return result
    ensure_neuron_info(hp, model_dir, rule, epoch, trials, verbose=verbose)
    empty = []
    for stage in stages.STAGES:
        curves, counts, heights, used = [], [], [], []
        for t in groups[stage]:
            ninfo = common.load_neuron_info(model_dir, t, rule, epoch)
            units, prefs = selected_units(ninfo, n_types)
            if units.size == 0:
                empty.append(t)
                continue
            rates = np.asarray(ninfo['firerate_loc_order'], dtype=float)[units]   # (k, n)
            curves.append(np.nanmean(max_central(prefs, rates), axis=0))
            heights.append(np.nanmax(rates, axis=1) - np.nanmin(rates, axis=1))
            counts.append(units.size)
            used.append(t)
        if not used:
            continue
        result['trials'][stage] = used
        result['tuning'][stage] = np.mean(curves, axis=0)
        result['n_units'][stage] = float(np.mean(counts))
        result['heights'][stage] = np.concatenate(heights)
    if empty:
        common.note('{}: checkpoint(s) {} of rule {!r} have no {} unit; left out'.format(
            what, empty, rule, '/'.join(n_types)))
    if not result['tuning']:
        common.note('{}: nothing to draw for rule {!r} epoch {!r}'.format(what, rule, epoch))
        return result

    title = 'Rule: {}  units selective in {}: {}\n{}'.format(
        rule, epoch, ' + '.join(n_types), common.trials_words(hp, log, trial_list, rule))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 6))
    for stage, curve in result['tuning'].items():
        color = stages.STAGE_COLORS[stage]
        x = np.arange(curve.size)
        label = common.stage_words(hp, log, result['trials'][stage], rule, stage,
                                   int(round(result['n_units'][stage])))
        ax.scatter(x, curve, marker='+', s=70, color=color, label=label)
        params = fit_gaussian(curve) if gaussion_fit else None
        result['fit'][stage] = params
        result['width'][stage] = float('nan') if params is None else 2 * abs(params[2])
        if gaussion_fit and params is None:
            common.note('{}: Gaussian fit failed for stage {} of rule {!r} epoch {!r}; '
                        'points drawn without a curve'.format(what, stage, rule, epoch))
        elif params is not None:
            xs = np.arange(-0.1, curve.size - 0.9, 0.1)
            ax.plot(xs, gaussian(xs, *params) + curve.min(), color=color,
                    label='{} curve width: {:.2f}'.format(stage, 2 * abs(params[2])))
    if height_ttest:
        names = list(result['heights'])
        heights = [h[np.isfinite(h)] for h in result['heights'].values()]
        p_pairs = ttest_ind(heights, heights).p
        parts = []
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                p = float(p_pairs[i, j])
                key = '{}-{}'.format(names[i], names[j])
                result['ttest_p'][key] = p
                parts.append('{}: {:.1e}'.format(key, p))
        if parts:
            title += '\nHeight independent t-test p-value  ' + '  '.join(parts)
        else:
            common.note('{}: fewer than two stages for rule {!r}; no height t-test'.format(
                what, rule))
    n = len(info['in_loc_set'])
    size = next(iter(result['tuning'].values())).size
    ax.set_xticks(np.arange(size))
    ax.set_xticklabels(['{:g}'.format((j - n // 2) * 360.0 / n) for j in range(size)])
    ax.set_xlabel('location relative to the preferred one (deg)')
    ax.set_ylabel('firing rate (neuron_info firerate_loc_order)')
    fig.suptitle(title)
    ax.legend(bbox_to_anchor=(1.02, 0), loc='lower left', borderaxespad=0)
    path = session.figure_path(model_dir, rule, epoch, type_tag(n_types), '{}_{}_{}_tuning_analysis'
                              .format(rule, epoch, range_tag(trial_list, trials)))
    result['figures'] = common.save_figure(fig, path)
    return result
