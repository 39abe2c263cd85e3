"""PSTHs of selective units across training stages (Fig 3B, 4E–G, S2B of the paper).

A PSTH log is ``{trial number: array (n_units, T)}``: for every checkpoint, one row per
selected unit (units of the requested types in neuron_info_<rule>_<epoch>.pkl, sorted by
unit index), holding that unit's activity averaged over the 16 'test' trials at its
preferred location (or at the opposite location), per time step of hp['dt'] ms.
With ``norm`` a row is divided by the unit's mean fix1 activity at that same location and
1 is subtracted (relative change from the fixation baseline; 0 = baseline).

Every function takes the trial list as a list / range of checkpoint trial numbers or as the
stage dict of print_basic_info(auto_range_select=True); the stage of a checkpoint comes
from stages.py (never recomputed here). Figures go to
figure/figure_<model>/<rule>/<epoch>/... as PNG and PDF.

Epochs are given by name (the task's epoch_info, in steps) or, for the analysed period of
neuron_period_activity_analysis / plot_epoch_mean_growth / plot_period_ttest_heatmap, as a
(start, end) pair in ms (converted with int(ms / dt), as the original suite did).

Call forms are the original's: plot_PSTH(hp, log, model_dir, rule, epoch, trial_list, ...),
gen_PSTH_log(hp, trial_list, model_dir, rule, seltive_epoch, ...) and
plot_epoch_mean_growth / neuron_period_activity_analysis / plot_period_ttest_heatmap
(hp, log, trial_list, model_dir, rule, seltive_epoch, analy_epoch, ...).
"""

import numpy as np
from tqdm.auto import tqdm

import stages
import tools
from analysis import activity, cache, common, session
from analysis.blocks import block
from analysis.stats import oneway_anova, ttest_ind
from analysis.unit_figures import GRID_CELLS, unit_grid_figure, unit_polar_figure
from analysis.common import (N_TYPES, check_n_types, checked_trials, epoch_bounds,
                             epoch_label, epoch_tag, location_means, mark_epochs, pyplot,
                             range_tag, selected_units, stage_groups, time_axis,
                             trial_stage_map, type_tag)
from analysis.activity import rule_task_info
from analysis.neuron_info import ensure_neuron_info


# ----------------------------------------------------------------------------------------
# PSTH rows of one checkpoint
# ----------------------------------------------------------------------------------------
def psth_from_H(H, info, units, prefs, norm=True, oppo_sel_dir=False):
    """PSTH rows (n_units, T) of ``units`` at their preferred locations ``prefs``.

    oppo_sel_dir: use location (pref + n//2) mod n instead (averaged with the next
    location when n is odd). norm: divide by the mean fix1 activity (over steps and
    trials) at the location used — for odd n the first of the two, as the original —
    and subtract 1.
    """
    M = location_means(H, info['in_loc'], len(info['in_loc_set']))   # (T, n, N)
    return psth_from_means(M, info, units, prefs, norm=norm, oppo_sel_dir=oppo_sel_dir)


def psth_from_means(M, info, units, prefs, norm=True, oppo_sel_dir=False):
    """psth_from_H from the location means M (T, n_loc, N) of H (common.location_means)."""
    n = len(info['in_loc_set'])
    units = np.asarray(units, dtype=int)
    loc = np.asarray(prefs, dtype=int)
    if oppo_sel_dir:
        loc = (loc + n // 2) % n
        trace = M[:, loc, units]
        if n % 2:
            trace = (trace + M[:, (loc + 1) % n, units]) / 2.0
    else:
        trace = M[:, loc, units]                                     # (T, n_units)
    if norm:
        f0, f1 = info['epoch_info']['fix1']
        fix_level = M[f0:f1].mean(axis=0)[loc, units]              # (n_units,)
        # A zero baseline (possible with relu) gives inf/NaN rows, as in the original.
        with np.errstate(invalid='ignore', divide='ignore'):
            trace = trace / fix_level - 1.0
    return np.ascontiguousarray(trace.T)


def _empty_rows(log_, trials):
    return [t for t in trials if t in log_ and log_[t].shape[0] == 0]


# ----------------------------------------------------------------------------------------
# PSTH log
# ----------------------------------------------------------------------------------------
def _gen_psth_needs(need, a):
    need.psth(a.model_dir, a.rule, a.seltive_epoch, a.trial_list, a.n_types, a.norm,
              a.oppo_sel_dir)

@block(needs=_gen_psth_needs)
def gen_PSTH_log(hp, trial_list, model_dir, rule, seltive_epoch, n_types=N_TYPES, norm=True,
                 oppo_sel_dir=False, log=None, verbose=True):
    """PSTH log {trial: array (n_units, T)} of the units of ``n_types`` selective in
    ``seltive_epoch`` of ``rule`` (see the module docstring).

    Missing neuron_info pickles are written (generate_neuron_info defaults); H is read
    from an H pickle if present, else computed and not written (rows and location means
    are kept in the analysis session's memory). A checkpoint without such units gets a (0, T)
    array. ``log`` checks the trial list (loaded from model_dir when None).
    """
    log = tools.load_log(model_dir) if log is None else log
    info = rule_task_info(hp, model_dir, rule)
    epoch_bounds(info['epoch_info'], seltive_epoch, rule=rule)   # unknown epoch → error
    n_types = check_n_types(n_types)
    trials = checked_trials(log, trial_list, rule)
    if not trials:
        common.note('gen_PSTH_log: empty trial list for rule {!r}'.format(rule))
        return {}
    ensure_neuron_info(hp, model_dir, rule, seltive_epoch, trials, verbose=verbose)
    # Rows already made (by a plan's activity pass or an earlier call) come from memory;
    # the others from the location means (H read from a pickle or computed, not written).
    psth_log, keys = {}, {}
    for t in trials:
        keys[t] = cache.psth_key(model_dir, t, rule, seltive_epoch, n_types, norm, oppo_sel_dir)
        rows = session.current().psth.get(keys[t])
        if rows is not None:
            psth_log[t] = rows
    missing = [t for t in trials if t not in psth_log]
    means = activity.location_means_at(hp, model_dir, rule, missing, verbose=verbose)
    for t in missing:
        units, prefs = selected_units(common.load_neuron_info(model_dir, t, rule, seltive_epoch),
                                      n_types)
        psth_log[t] = session.current().psth.put(keys[t], psth_from_means(
            means[t], info, units, prefs, norm=norm, oppo_sel_dir=oppo_sel_dir))
    return {t: psth_log[t] for t in trials}


def _psth_for(hp, log, model_dir, rule, epoch, trial_list, n_types, norm, PSTH_log,
              oppo=False):
    if PSTH_log is None:
        return gen_PSTH_log(hp, trial_list, model_dir, rule, epoch, n_types=n_types, norm=norm,
                            oppo_sel_dir=oppo, log=log)
    return PSTH_log


def _stage_trials_with_psth(groups, psth_log, what, rule):
    """Per stage, the checkpoints with a PSTH row; notes for the dropped ones."""
    out = {}
    for stage in stages.STAGES:
        trials = [t for t in groups[stage] if t in psth_log]
        lost = [t for t in groups[stage] if t not in psth_log]
        if lost:
            common.note('{}: no PSTH for checkpoint(s) {} of rule {!r}'.format(what, lost, rule))
        empty = _empty_rows(psth_log, trials)
        if empty:
            common.note('{}: checkpoint(s) {} of rule {!r} have no selected unit; left out'
                        .format(what, empty, rule))
        out[stage] = [t for t in trials if t not in empty]
    return out


# ----------------------------------------------------------------------------------------
# Fig 4E–G: PSTH per stage
# ----------------------------------------------------------------------------------------
def _plot_psth_needs(need, a):
    if a.PSTH_log is None:
        need.psth(a.model_dir, a.rule, a.epoch, a.trial_list, a.n_types, a.norm)
    if a.plot_oppo_dir and a.PSTH_log_oppo is None:
        need.psth(a.model_dir, a.rule, a.epoch, a.trial_list, a.n_types, a.norm, oppo=True)

@block(needs=_plot_psth_needs)
def plot_PSTH(hp, log, model_dir, rule, epoch, trial_list, n_types=N_TYPES, plot_oppo_dir=False,
              norm=True, PSTH_log=None, PSTH_log_oppo=None):
    """Population PSTH per stage (Fig 4E–G).

    Per checkpoint the mean over its selected units of the PSTH log (units of ``n_types``
    selective in ``epoch``), then the mean over the stage's checkpoints: one line per stage
    labelled <stage>_<mean perf>_<mean number of units>; with plot_oppo_dir a dashed line
    for the opposite location. Time axis in s, epoch boundaries dotted.
    Returns {'psth': {stage: (T,)}, 'psth_oppo': {stage: (T,)}, 'n_units': {stage: float},
    'trials': {stage: [...]}, 'figures': [png, pdf]} (figures [] if no stage has data).
    """
    what = 'plot_PSTH'
    info = rule_task_info(hp, model_dir, rule)
    epoch_bounds(info['epoch_info'], epoch, rule=rule)
    trials_all = checked_trials(log, trial_list, rule)
    groups = stage_groups(hp, log, trial_list, rule, what)
    result = {'psth': {}, 'psth_oppo': {}, 'n_units': {}, 'trials': {}, 'figures': []}
    if not trials_all:
        return result
    PSTH_log = _psth_for(hp, log, model_dir, rule, epoch, trial_list, n_types, norm, PSTH_log)
    if plot_oppo_dir:
        PSTH_log_oppo = _psth_for(hp, log, model_dir, rule, epoch, trial_list, n_types, norm,
                                  PSTH_log_oppo, oppo=True)
    used = _stage_trials_with_psth(groups, PSTH_log, what, rule)
    for stage in stages.STAGES:
        trials = used[stage]
        if not trials:
            continue
        result['trials'][stage] = trials
        result['psth'][stage] = np.mean([PSTH_log[t].mean(axis=0) for t in trials], axis=0)
        result['n_units'][stage] = float(np.mean([PSTH_log[t].shape[0] for t in trials]))
        if plot_oppo_dir:
            result['psth_oppo'][stage] = np.mean([PSTH_log_oppo[t].mean(axis=0)
                                                  for t in trials], axis=0)
    if not result['psth']:
        common.note('{}: nothing to draw for rule {!r} epoch {!r}'.format(what, rule, epoch))
        return result

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 6))
    T = 0
    for stage, psth in result['psth'].items():
        t_axis = time_axis(hp, len(psth))
        T = max(T, len(psth))
        label = common.stage_words(hp, log, result['trials'][stage], rule, stage,
                                   int(round(result['n_units'][stage])))
        ax.plot(t_axis, psth, color=stages.STAGE_COLORS[stage],
                label=label + (', preferred location' if plot_oppo_dir else ''))
        if plot_oppo_dir:
            ax.plot(t_axis, result['psth_oppo'][stage], color=stages.STAGE_COLORS[stage],
                    linestyle='--', label='{}: opposite location'.format(stage))
    mark_epochs(ax, hp, info['epoch_info'], T)
    ax.set_xlabel('time (s)')
    ax.set_ylabel('activity / fix1 − 1' if norm else 'activity')
    tag = range_tag(trial_list, trials_all)
    ax.set_title('Rule: {}  units selective in {}: {}\n{}'.format(
        rule, epoch, ' + '.join(n_types), common.trials_words(hp, log, trial_list, rule)),
        pad=16, fontsize=10)
    ax.legend(bbox_to_anchor=(1.02, 0), loc='lower left', borderaxespad=0,
              title='stage: checkpoints, mean performance,\nunits per checkpoint (mean)',
              title_fontsize=8)
    path = session.figure_path(model_dir, rule, epoch, type_tag(n_types),
                              '{}_{}_{}_PSTH'.format(rule, epoch, tag))
    result['figures'] = common.save_figure(fig, path)
    return result


# ----------------------------------------------------------------------------------------
# Fig S2B: epoch mean over training
# ----------------------------------------------------------------------------------------
def _selective_psth_needs(need, a):
    """Needs of the figures drawn from the PSTH log of (rule, seltive_epoch)."""
    if a.PSTH_log is None:
        need.psth(a.model_dir, a.rule, a.seltive_epoch, a.trial_list, a.n_types, a.norm)

@block(needs=_selective_psth_needs)
def plot_epoch_mean_growth(hp, log, trial_list, model_dir, rule, seltive_epoch, analy_epoch,
                           n_types=N_TYPES, norm=True, PSTH_log=None):
    """Fig S2B: per checkpoint, the mean of its PSTH log over its units and the steps of
    ``analy_epoch`` (name or (start, end) ms), against the trial number, coloured by stage.

    Returns {'epoch_mean': {trial: float}, 'figures': [...]}.
    """
    what = 'plot_epoch_mean_growth'
    info = rule_task_info(hp, model_dir, rule)
    start, end = epoch_bounds(info['epoch_info'], analy_epoch, hp['dt'], rule)
    groups = stage_groups(hp, log, trial_list, rule, what)
    result = {'epoch_mean': {}, 'figures': []}
    if not checked_trials(log, trial_list, rule):
        return result
    PSTH_log = _psth_for(hp, log, model_dir, rule, seltive_epoch, trial_list, n_types, norm,
                         PSTH_log)
    used = _stage_trials_with_psth(groups, PSTH_log, what, rule)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    for stage in stages.STAGES:
        trials = used[stage]
        if not trials:
            continue
        values = [float(PSTH_log[t][:, start:end].mean()) for t in trials]
        result['epoch_mean'].update(zip(trials, values))
        ax.scatter(trials, values, marker='+', color=stages.STAGE_COLORS[stage],
                   label=common.stage_words(hp, log, trials, rule, stage))
    if not result['epoch_mean']:
        plt.close(fig)
        common.note('{}: nothing to draw for rule {!r}'.format(what, rule))
        return result
    ax.set_xlabel('trials trained')
    ax.set_ylabel('mean {} activity{}'.format(epoch_label(analy_epoch),
                                               ' / fix1 − 1' if norm else ''))
    ax.set_title('Rule: {}  selective epoch: {}  analysed: {}  ({})'.format(
        rule, seltive_epoch, epoch_label(analy_epoch), type_tag(n_types)))
    ax.legend()
    path = session.figure_path(model_dir, rule, seltive_epoch,
                              '{}_epoch_mean_growth'.format(epoch_tag(analy_epoch)))
    result['figures'] = common.save_figure(fig, path)
    return result


# ----------------------------------------------------------------------------------------
# Fig 3B: single units
# ----------------------------------------------------------------------------------------
def _sample_needs(need, a):
    need.neuron_info(a.model_dir, a.rule, a.epoch, a.trial_list)
    need.means(a.model_dir, a.rule, a.trial_list)

@block(needs=_sample_needs)
def sample_neuron_by_trial(hp, log, model_dir, rule, epoch, trial_list, n_type='mix_neurons',
                           max_neurons=None, verbose=True):
    """Fig 3B: one figure per selected unit and checkpoint.

    3×3 grid: the unit's mean activity (over the trials of a location; raw, time in s) at
    each location, location index → grid cell GRID_CELLS; centre: polar plot of the raw
    mean over ``epoch`` at each location divided by the largest (0 at North, clockwise),
    the preferred direction (from neuron_info) as a black radius. A second, polar-only
    figure per unit. Units of ``n_type`` (a type or a tuple of types) selective in
    ``epoch``; at most max_neurons per checkpoint (lowest unit indices) if given.
    Files: <rule>/<epoch>/sample_neuron/<trial>_<stage>/<n_type>/<unit>[_polar].
    Returns {'units': {trial: [units]}, 'figures': [...]}.
    """
    what = 'sample_neuron_by_trial'
    info = rule_task_info(hp, model_dir, rule)
    start, end = epoch_bounds(info['epoch_info'], epoch, hp['dt'], rule)
    n_types = check_n_types(n_type)
    n = len(info['in_loc_set'])
    if n != len(GRID_CELLS):
        raise ValueError('{} draws a 3x3 grid of {} locations; rule {!r} has {}'.format(
            what, len(GRID_CELLS), rule, n))
    trials = checked_trials(log, trial_list, rule)
    # stages only colour the figures here: no note for stages without checkpoints
    stage_map = trial_stage_map(stages.group_by_stage(hp, log, trial_list, rule))
    result = {'units': {}, 'figures': []}
    if not trials:
        common.note('{}: the trial list holds no checkpoint of rule {!r}; nothing to draw'
                    .format(what, rule))
        return result
    ensure_neuron_info(hp, model_dir, rule, epoch, trials, verbose=verbose)
    means = activity.location_means_at(hp, model_dir, rule, trials, verbose=verbose)
    for t in tqdm(trials, desc=what, unit='ckpt', disable=not verbose, leave=False):
        units, prefs = selected_units(common.load_neuron_info(model_dir, t, rule, epoch), n_types)
        if max_neurons is not None:
            units, prefs = units[:max_neurons], prefs[:max_neurons]
        result['units'][t] = units.tolist()
        if units.size == 0:
            common.note('{}: checkpoint {} of rule {!r} has no {} unit'.format(
                what, t, rule, '/'.join(n_types)))
            continue
        stage = stage_map[t]
        color = stages.STAGE_COLORS[stage]
        M = means[t][:, :, units]                                   # (T, n, k)
        period = M[start:end].mean(axis=0)                          # (n, k) raw epoch means
        with np.errstate(invalid='ignore', divide='ignore'):
            period = period / period.max(axis=0, keepdims=True)
        t_axis = time_axis(hp, M.shape[0])
        perf = stages.perf_at(log, rule, t)
        for j, (unit, pref) in enumerate(zip(units, prefs)):
            title = 'Rule: {} Epoch: {} Neuron: {} SelectDir: {} Perf: {:.2f} ({})'.format(
                rule, epoch, unit, pref, perf, stage)
            radial = np.append(period[:, j], period[0, j])
            folder = (rule, epoch, 'sample_neuron', '{}_{}'.format(t, stage), '_'.join(n_types))
            lo, hi = float(np.nanmin(M[:, :, j])), float(np.nanmax(M[:, :, j]))
            pad = 0.1 * max(abs(hi), abs(lo), 1e-12)
            pref_angle = 2 * np.pi * pref / n
            # Drawn by the hundred, on one re-used figure (analysis/unit_figures.py; in
            # Main_analysis by the figure worker); the whole page, as the original: its
            # layout fits, no tight box to measure.
            result['figures'] += common.save_drawn(
                unit_grid_figure, dict(t_axis=t_axis, M=M[:, :, j], lo=lo - pad, hi=hi + pad,
                                       radial=radial, pref_angle=pref_angle, color=color,
                                       title=title),
                session.figure_path(model_dir, *folder, str(unit)), tight=False)
            result['figures'] += common.save_drawn(
                unit_polar_figure, dict(radial=radial, pref_angle=pref_angle, color=color,
                                        title=title),
                session.figure_path(model_dir, *folder, '{}_polar'.format(unit)), tight=False)
    return result


# ----------------------------------------------------------------------------------------
# Period activity across stages
# ----------------------------------------------------------------------------------------
def _anova_summary(groups):
    """{'F', 'p', 'df_group', 'df_residual'} of the one-way ANOVA across the stages'
    per-unit values; a non-finite value (zero baseline) makes F and p NaN, as in the
    original (scipy.stats.f_oneway on the raw groups)."""
    res = oneway_anova(groups, nonfinite='propagate')
    return {'F': float(res.F), 'p': float(res.p), 'df_group': int(res.df_between),
            'df_residual': int(res.df_within)}


@block(needs=_selective_psth_needs)
def neuron_period_activity_analysis(hp, log, trial_list, model_dir, rule, seltive_epoch,
                                    analy_epoch, n_types=N_TYPES, norm=True, PSTH_log=None,
                                    last_step=True, bin_wid=None):
    """Per stage, the per-unit mean of the PSTH log over ``analy_epoch`` (name, or
    (start, end) in ms), pooled over the stage's checkpoints — by default (last_step) only
    the last checkpoint of each stage; one-way ANOVA across the stages; histogram
    (bin width bin_wid, automatic if None) and box plot, p and dfs in the title.

    Returns {'fire_rate': {stage: (n_units,) array}, 'trials': {stage: [...]},
    'anova': {'F', 'p', 'df_group', 'df_residual'}, 'figures': [...]}; stages without data
    are left out of every entry.
    """
    what = 'neuron_period_activity_analysis'
    info = rule_task_info(hp, model_dir, rule)
    start, end = epoch_bounds(info['epoch_info'], analy_epoch, hp['dt'], rule)
    groups = stage_groups(hp, log, trial_list, rule, what)
    fire_rate, stage_trials = {}, {}
    if not checked_trials(log, trial_list, rule):
        return {'fire_rate': fire_rate, 'trials': stage_trials,
                'anova': _anova_summary([]), 'figures': []}
    PSTH_log = _psth_for(hp, log, model_dir, rule, seltive_epoch, trial_list, n_types, norm,
                         PSTH_log)
    used = _stage_trials_with_psth(groups, PSTH_log, what, rule)
    for stage in stages.STAGES:
        trials = used[stage][-1:] if last_step else used[stage]
        if not trials:
            continue
        stage_trials[stage] = trials
        fire_rate[stage] = np.concatenate([PSTH_log[t][:, start:end].mean(axis=1)
                                           for t in trials])
    anova = _anova_summary(list(fire_rate.values()))
    result = {'fire_rate': fire_rate, 'trials': stage_trials, 'anova': anova, 'figures': []}
    if not fire_rate:
        common.note('{}: nothing to draw for rule {!r}'.format(what, rule))
        return result
    if len(fire_rate) < 2:
        common.note('{}: only stage {} has data for rule {!r}; no ANOVA'.format(
            what, list(fire_rate), rule))

    plt = pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(9, 10))
    values = np.concatenate(list(fire_rate.values()))
    values = values[np.isfinite(values)]
    if bin_wid is None or values.size == 0 or values.max() == values.min():
        bins = np.histogram_bin_edges(values if values.size else [0.0], bins='auto')
    else:
        bins = np.arange(values.min(), values.max() + bin_wid, bin_wid)
    for stage, fr in fire_rate.items():
        axes[0].hist(fr[np.isfinite(fr)], bins=bins, histtype='step', density=True,
                     color=stages.STAGE_COLORS[stage],
                     label='{} (n={}) mean: {:.3f}'.format(stage, fr.size, np.nanmean(fr)))
    axes[0].set_xlabel('mean activity over {}{}'.format(epoch_label(analy_epoch),
                                                        ' (/ fix1 − 1)' if norm else ''))
    axes[0].set_ylabel('density')
    axes[0].legend()
    present = list(fire_rate)
    box = axes[1].boxplot([fire_rate[s][np.isfinite(fire_rate[s])] for s in present],
                          patch_artist=False)
    axes[1].set_xticks(range(1, len(present) + 1), present)
    for s, line in zip(present, box['boxes']):
        line.set_color(stages.STAGE_COLORS[s])
    fig.suptitle('rule: {}  selective epoch: {}  analysis epoch: {}\none-way ANOVA F: {:.3f}  '
                 'p value: {:.3e}  group df: {}  residual df: {}'.format(
                     rule, seltive_epoch, epoch_label(analy_epoch), anova['F'], anova['p'],
                     anova['df_group'], anova['df_residual']))
    path = session.figure_path(model_dir, rule, seltive_epoch, type_tag(n_types),
                              '{}_{}_activity_oneway_anova_analysis'.format(
                                  rule, epoch_tag(analy_epoch)))
    result['figures'] = common.save_figure(fig, path)
    return result


@block(needs=_selective_psth_needs)
def plot_period_ttest_heatmap(hp, log, trial_list, model_dir, rule, seltive_epoch, analy_epoch,
                              n_types=N_TYPES, norm=True, PSTH_log=None):
    """Heatmap of independent t-test p-values between every pair of checkpoints' per-unit
    means of the PSTH log over ``analy_epoch`` (name or (start, end) ms). Tick labels
    <trial>_<perf>, coloured by stage.
    Returns {'trials': [...], 'p_values': (n, n) array, 'figures': [...]}.
    """
    what = 'plot_period_ttest_heatmap'
    info = rule_task_info(hp, model_dir, rule)
    start, end = epoch_bounds(info['epoch_info'], analy_epoch, hp['dt'], rule)
    stage_map = trial_stage_map(stages.group_by_stage(hp, log, trial_list, rule))
    if not checked_trials(log, trial_list, rule):
        common.note('{}: the trial list holds no checkpoint of rule {!r}; nothing to draw'
                    .format(what, rule))
        return {'trials': [], 'p_values': np.zeros((0, 0)), 'figures': []}
    PSTH_log = _psth_for(hp, log, model_dir, rule, seltive_epoch, trial_list, n_types, norm,
                         PSTH_log)
    trials = [t for t in checked_trials(log, trial_list, rule) if t in PSTH_log]
    few = [t for t in trials if PSTH_log[t].shape[0] < 2]
    if few:
        common.note('{}: checkpoint(s) {} of rule {!r} have < 2 selected units (NaN cells)'
                    .format(what, few, rule))
    means = [PSTH_log[t][:, start:end].mean(axis=1) for t in trials]
    p = ttest_ind(means, means).p
    # Two constant samples of one value (the diagonal of a constant one) are 0/0 for the
    # t-test: no difference, drawn as p = 1.
    usable = np.array([m.size > 1 and np.isfinite(m).all() for m in means], dtype=bool)
    p[np.isnan(p) & usable[:, None] & usable[None, :]] = 1.0
    result = {'trials': trials, 'p_values': p, 'figures': []}
    if not trials:
        common.note('{}: nothing to draw for rule {!r}'.format(what, rule))
        return result
    plt = pyplot()
    size = min(4 + 0.25 * len(trials), 40)
    fig, ax = plt.subplots(figsize=(size * 1.2, size))
    im = ax.imshow(np.ma.masked_invalid(p), cmap='viridis', vmin=0, vmax=1,
                   interpolation='nearest')
    fig.colorbar(im, ax=ax, label='p value (independent t-test, per-unit means)')
    labels = ['{}_{:.2f}'.format(t, stages.perf_at(log, rule, t)) for t in trials]
    fontsize = 8 if len(trials) <= 60 else 6
    ax.set_xticks(range(len(trials)), labels, rotation=90, fontsize=fontsize)
    ax.set_yticks(range(len(trials)), labels, fontsize=fontsize)
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        for lab, t in zip(ticks, trials):
            lab.set_color(stages.STAGE_COLORS[stage_map[t]])
    ax.set_xlabel('checkpoint (trials trained)_performance')
    ax.set_ylabel('checkpoint (trials trained)_performance')
    # Tick labels take their stage's colour; white lines separate the stages.
    for i in range(1, len(trials)):
        if stage_map[trials[i]] != stage_map[trials[i - 1]]:
            ax.axvline(i - 0.5, color='white', linewidth=1.5)
            ax.axhline(i - 0.5, color='white', linewidth=1.5)
    present = [s for s in stages.STAGES if any(stage_map[t] == s for t in trials)]
    ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=stages.STAGE_COLORS[s],
                                     label='{} ({} checkpoints)'.format(
                                         s, sum(stage_map[t] == s for t in trials)))
                       for s in present],
              title='stage (tick label colour)', loc='upper left', bbox_to_anchor=(1.3, 1.0),
              fontsize=9)
    ax.set_title('Rule: {}  units selective in {}: per-unit mean over {}\n'
                 'p value of independent t-tests between checkpoints'.format(
                     rule, seltive_epoch, epoch_label(analy_epoch)))
    path = session.figure_path(model_dir, rule, seltive_epoch, 'rule_{}_sel_{}_analy_{}_heatmap'
                              .format(rule, seltive_epoch, epoch_tag(analy_epoch)))
    result['figures'] = common.save_figure(fig, path)
    return result
