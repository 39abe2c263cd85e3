"""PCA of the population activity per cue location, across training stages."""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

import stages
from analysis import activity, common, session
from analysis.blocks import block
from analysis.common import (checked_trials, location_means, mark_epochs, pyplot, range_tag,
                             stage_groups, time_axis)
from analysis.activity import rule_task_info


def location_pca(H, info, n_components=2):
    """PCA of the standardised location-averaged activity of one checkpoint.

    H (T, B, N) → the mean over the trials of each location, stacked location by
    location into (n_loc·T, N); each unit is standardised (zero mean, unit variance over
    those rows; StandardScaler) and projected on the first n_components principal axes.
    Returns (scores (n_loc, T, n_components), explained_variance_ratio (n_components,)).
    """
    M = location_means(H, info['in_loc'], len(info['in_loc_set']))   # (T, n, N)
    return location_pca_from_means(M, n_components)


def location_pca_from_means(M, n_components=2):
    """location_pca from the location means M (T, n_loc, N) of H."""
    T, n = M.shape[0], M.shape[1]
    X = M.transpose(1, 0, 2).reshape(n * T, -1)                  # location-major rows
    pca = PCA(n_components=n_components)
    scores = pca.fit_transform(StandardScaler().fit_transform(X))
    return scores.reshape(n, T, n_components), pca.explained_variance_ratio_


def _chosen(groups, last_step):
    """{stage: checkpoints drawn}: the last of each stage (last_step) or all of them."""
    return {s: (ts[-1:] if last_step else ts) for s, ts in groups.items() if ts}


def _pca_needs(need, a):
    try:
        groups = stages.group_by_stage(a.hp, a.log, a.trial_num, a.rule)
    except stages.DataUnavailable:
        return                              # the call says so when it runs
    need.means(a.model_dir, a.rule, [t for ts in _chosen(groups, a.last_step).values()
                                      for t in ts])


@block(needs=_pca_needs)
def neuron_PCA(hp, log, model_dir, trial_num, rule, task_mode='test', n_components=2,
               last_step=True, verbose=True):
    """PCA trajectories per cue location (colour) for each stage.

    trial_num: one checkpoint (the original's form) or a trial list (list / range / stage
    dict): then per stage the last checkpoint (last_step) or all of them. task_mode must
    be 'test' (the trials of the H pickles), as in the original's calls. For each
    checkpoint, location_pca of its H (a pickle if present, else computed, not written);
    one figure with a column per checkpoint (stages in order): rows 1..n_components = component against time (s, epochs
    marked), last row = trajectory PC1 × PC2 (dot = trial start).
    File <rule>/<rule>_comp<n>_neuron_pca_<trials>_std.
    Returns {'trials': {stage: [...]}, 'scores': {trial: (n_loc, T, n_components)},
    'explained_variance_ratio': {trial: (n_components,)}, 'figures': [...]}.
    """
    what = 'neuron_PCA'
    if task_mode != 'test':
        raise ValueError("neuron_PCA analyses the 'test' trials of the H pickles; "
                         "task_mode {!r} is not supported".format(task_mode))
    if n_components < 1:
        raise ValueError('n_components must be ≥ 1, got {}'.format(n_components))
    trial_list = trial_num
    info = rule_task_info(hp, model_dir, rule)
    trials = checked_trials(log, trial_list, rule)
    groups = stage_groups(hp, log, trial_list, rule, what)
    chosen = _chosen(groups, last_step)
    columns = [(s, t) for s in stages.STAGES for t in chosen.get(s, [])]
    result = {'trials': chosen, 'scores': {}, 'explained_variance_ratio': {}, 'figures': []}
    if not columns:
        return result                      # stage_groups has said so
    means = activity.location_means_at(hp, model_dir, rule, [t for _, t in columns],
                                       verbose=verbose)

    plt = pyplot()
    n_rows = n_components + (1 if n_components >= 2 else 0)
    fig, axes = plt.subplots(n_rows, len(columns), figsize=(4.5 * len(columns), 3 * n_rows),
                             squeeze=False)
    n = len(info['in_loc_set'])
    colors = plt.get_cmap('hsv')(np.arange(n) / n)               # circular colour map
    for col, (stage, t) in enumerate(columns):
        scores, evr = location_pca_from_means(means[t], n_components)
        result['scores'][t] = scores
        result['explained_variance_ratio'][t] = evr
        t_axis = time_axis(hp, scores.shape[1])
        head = '{} {} ({}, perf {:.2f})'.format(rule, t, stage, stages.perf_at(log, rule, t))
        for c in range(n_components):
            ax = axes[c, col]
            for loc in range(n):
                ax.plot(t_axis, scores[loc, :, c], color=colors[loc], label='loc {}'.format(loc))
            mark_epochs(ax, hp, info['epoch_info'], scores.shape[1])
            ax.set_title('{}\nPC{} ({:.0%} var.)'.format(head, c + 1, evr[c]) if c == 0
                         else 'PC{} ({:.0%} var.)'.format(c + 1, evr[c]), fontsize=9)
            ax.set_xlabel('time (s)')
        if n_components >= 2:
            ax = axes[-1, col]
            for loc in range(n):
                ax.plot(scores[loc, :, 0], scores[loc, :, 1], color=colors[loc], linewidth=1)
                ax.plot(scores[loc, 0, 0], scores[loc, 0, 1], 'o', color=colors[loc],
                        markersize=3)
            ax.set_xlabel('PC1')
            ax.set_ylabel('PC2')
            ax.set_title('trajectories ({})'.format(stage), color=stages.STAGE_COLORS[stage],
                         fontsize=9)
    axes[0, -1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc='upper left')
    fig.suptitle('PCA of location-averaged activity (standardised units), rule {}'.format(rule))
    fig.tight_layout()
    tag = range_tag(trial_list, trials)
    path = session.figure_path(model_dir, rule, '{}_comp{}_neuron_pca_{}{}_std'.format(
        rule, n_components, tag, '' if last_step else '_all'))
    result['figures'] = common.save_figure(fig, path)
    return result
