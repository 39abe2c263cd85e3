"""Helpers shared by every analysis: trial lists, rules and epochs, neuron types, files
and figures, and the one exception of the analysis layer.

Vocabulary:
    trial number   checkpoint name = number of training trials (e.g. 1280, 2560, ...)
    trial list     a list / range / array of trial numbers, or a stage dict
                   {rule: {'early': [...], 'mid': [...], 'mature': [...]}} as returned by
                   print_basic_info(auto_range_select=True)
    stage          'early', 'mid', 'mature': defined in stages.py (the one home of the
                   stage words, thresholds and selections)
    epoch          an epoch name of a rule (its task_info 'epoch_info', in time steps), or
                   an explicit (start, end) pair (epoch_bounds)

DataUnavailable (stages.DataUnavailable, the same class) is raised when the model does
not hold what was asked: a rule it was not trained on, a checkpoint it does not have, a
stage without checkpoints, a pickle not written yet. Main_analysis skips such a block;
any other exception is a bug and stops the run.
"""

import os

import numpy as np

import stages
import tools
from analysis import figsave
from stages import STAGES, DataUnavailable  # noqa: F401  (the analysis layer's names)

# The paper's two task families (Main_analysis and the notebook analyse them by family).
WM_RULES = ['odr', 'odrd']                                    # working memory
ANTI_RULES = ['overlap', 'zero_gap', 'gap', 'gap500']         # anti-saccades

# The lists of a neuron_info pickle, and the types the figures select by default.
NEURON_TYPES = ('active_neurons', 'selective_neurons', 'exh_neurons', 'inh_neurons',
                'mix_neurons')
N_TYPES = ('exh_neurons', 'mix_neurons')


def note(msg):
    """A user-facing notice (skipped figure, missing data) on stderr (tools.note)."""
    tools.note(msg)


# ----------------------------------------------------------------------------------------
# Trial lists
# ----------------------------------------------------------------------------------------
def checked_trials(log, trial_list, rule=None):
    """Sorted trial numbers of a list / range / stage dict (the stages of ``rule``, a rule
    or a list of rules), each checked against log['trials'].

    Raises DataUnavailable naming the model's checkpoint range for a trial number that is
    not a checkpoint of the log (or for a rule the stage dict does not hold).
    """
    trials = stages.expand_trial_list(trial_list, rule)
    known = set(int(t) for t in log['trials'])
    bad = [t for t in trials if t not in known]
    if bad:
        t = log['trials']
        raise DataUnavailable('Trial(s) {} are not checkpoints of this model (first {}, last '
                              '{}, {} in all)'.format(bad, t[0] if t else '-',
                                                      t[-1] if t else '-', len(t)))
    return trials


def range_tag(trial_list, trials):
    """'auto_choose' for a stage dict, else '<first>-<last>_step_<step|None>' of the list."""
    if stages.is_stage_dict(trial_list):
        return 'auto_choose'
    if not trials:
        return 'empty'
    step = 'None' if len(trials) < 2 else str(trials[1] - trials[0])
    return '{}-{}_step_{}'.format(trials[0], trials[-1], step)


# ----------------------------------------------------------------------------------------
# Stage dicts: which checkpoints an analysis uses
# ----------------------------------------------------------------------------------------
def stage_groups(hp, log, trial_list, rule, what):
    """{stage: [trials]} for ``rule`` (stages.group_by_stage); a note for empty stages.
    Callers return early (no figure) when every stage is empty."""
    groups = stages.group_by_stage(hp, log, trial_list, rule)
    empty = [s for s in STAGES if not groups[s]]
    if len(empty) == len(STAGES):
        note('{}: the trial list holds no checkpoint of rule {!r}; nothing to draw'
             .format(what, rule))
    elif empty:
        note('{}: rule {!r} has no checkpoint in stage(s) {}; drawing the others'
             .format(what, rule, ', '.join(empty)))
    return groups


def trial_stage_map(groups):
    """{trial: stage} of a {stage: [trials]} grouping."""
    return {t: s for s, ts in groups.items() for t in ts}


def stage_words(hp, log, trials, rule, stage, n_units=None):
    """Legend text of a stage in words: 'early: 3 checkpoints, mean perf 0.33, 226 units'
    (n_units: mean number of units per checkpoint, left out if None)."""
    perf = np.mean([stages.perf_at(log, rule, t) for t in trials]) if trials else float('nan')
    text = '{}: {} checkpoint{}, mean perf {:.2f}'.format(
        stage, len(trials), '' if len(trials) == 1 else 's', perf)
    return text if n_units is None else '{}, {} units'.format(text, n_units)


def trials_words(hp, log, trial_list, rule):
    """Which checkpoints a figure used, for its title: 'early 3 (1280–3840), mid 5
    (…), mature 30 (…)' for a stage dict, '<n> checkpoints <first>–<last>' otherwise."""
    if not stages.is_stage_dict(trial_list):
        trials = stages.expand_trial_list(trial_list)
        if not trials:
            return 'no checkpoint'
        return '{} checkpoint{} {}–{}'.format(len(trials), '' if len(trials) == 1 else 's',
                                              trials[0], trials[-1])
    groups = stages.group_by_stage(hp, log, trial_list, rule)
    parts = []
    for s in STAGES:
        ts = groups[s]
        parts.append('{} {}'.format(s, '{} ({}–{})'.format(len(ts), ts[0], ts[-1]) if ts
                                    else 'none'))
    return 'checkpoints ' + ', '.join(parts)


def stage_label(hp, log, trials, rule, stage, n_units=None):
    """'<stage>_<mean perf>_<n units>' legend label of a stage."""
    perf = np.mean([stages.perf_at(log, rule, t) for t in trials]) if trials else float('nan')
    label = '{}_{:.2f}'.format(stage, perf)
    return label if n_units is None else '{}_{}'.format(label, n_units)


# ----------------------------------------------------------------------------------------
# Rules, epochs, task info
# ----------------------------------------------------------------------------------------
def as_list(x, what='names'):
    """[x] for one name (str), else list(x); an empty list is an error naming ``what``."""
    out = [x] if isinstance(x, str) else list(x)
    if not out:
        raise ValueError('No {} given'.format(what))
    return out


def check_rule(hp, rule):
    """Raise DataUnavailable naming the model's rules if ``rule`` is not one of them."""
    rules = hp.get('rule_trains') or hp.get('rules') or []
    if rule not in rules:
        raise DataUnavailable('This model was not trained on rule {!r}; its rules: {}'.format(
            rule, list(rules)))


def epoch_bounds(epoch_info, epoch, dt=None, rule=None):
    """(start, end) step bounds of an epoch (None = open end), for slicing H[start:end].

    epoch: a name of epoch_info ({name: (start, end)} in steps), or an explicit
    (start, end) pair — in ms when ``dt`` (ms per step) is given, converted with
    int(ms / dt) as the original suite did, else in steps. ValueError naming the valid
    epochs (of ``rule`` if given) for an unknown name.
    """
    if isinstance(epoch, (tuple, list)):
        if len(epoch) != 2:
            raise ValueError('An epoch is a name or a (start, end) pair; got {!r}'.format(epoch))
        if dt is None:
            return tuple(epoch)
        return tuple(None if e is None else int(e / dt) for e in epoch)
    if not isinstance(epoch, str):
        raise ValueError('An epoch is a name or a (start, end) pair; got {!r}'.format(epoch))
    if epoch not in epoch_info:
        owner = 'Rule {!r}'.format(rule) if rule is not None else 'The task'
        raise ValueError('{} has no epoch {!r}; its epochs: {}'.format(
            owner, epoch, list(epoch_info)))
    return tuple(epoch_info[epoch])


def epoch_tag(epoch):
    """File-name form of an epoch: its name, or '<start>_<end>' (ms) for a pair."""
    if isinstance(epoch, (tuple, list)):
        return '{}_{}'.format(*epoch)
    return str(epoch)


def epoch_label(epoch):
    """Human form of an epoch for titles: its name, or '<start>–<end> ms' for a pair."""
    if isinstance(epoch, (tuple, list)):
        return '{}–{} ms'.format(*epoch)
    return str(epoch)


# ----------------------------------------------------------------------------------------
# Neuron types and unit activity
# ----------------------------------------------------------------------------------------
def check_n_types(n_types):
    """Tuple of neuron types; ValueError naming the valid ones for an unknown type."""
    n_types = (n_types,) if isinstance(n_types, str) else tuple(n_types)
    bad = [t for t in n_types if t not in NEURON_TYPES]
    if bad or not n_types:
        raise ValueError('Unknown neuron type(s) {}; choose from {}'.format(
            bad or n_types, list(NEURON_TYPES)))
    return n_types


def type_tag(n_types):
    return '_'.join(check_n_types(n_types))


def selected_units(neuron_info, n_types=N_TYPES):
    """(units, preferred location indices) of the given types, int arrays sorted by unit.

    A unit listed under several of the types is taken once (the original joined the
    lists through a set, in arbitrary order; sorting makes the rows reproducible).
    """
    pref = {}
    for n_type in check_n_types(n_types):
        for entry in neuron_info[n_type]:
            pref.setdefault(int(entry[0]), int(entry[2]))
    units = np.array(sorted(pref), dtype=int)
    return units, np.array([pref[u] for u in units], dtype=int)


def location_means(H, in_loc, n_loc):
    """Mean activity per location: (T, n_loc, N) float64 from H (T, B, N) and in_loc (B,).

    One matrix product with the (B, n_loc) averaging matrix instead of a loop over units
    and locations; a location without trials gives NaN.
    """
    in_loc = np.asarray(in_loc)
    onehot = (in_loc[:, None] == np.arange(n_loc)[None, :]).astype(np.float64)
    counts = onehot.sum(axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        weights = onehot / counts
    weights[:, counts == 0] = np.nan
    # (n_loc, B) @ (T, B, N) broadcasts over time → (T, n_loc, N); float64 weights make
    # the sums float64 (H is float32), so statistics downstream see exact means.
    return np.matmul(weights.T, H)


# ----------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------
def model_name(model_dir):
    return os.path.basename(os.path.normpath(model_dir))


def save_figure(fig, path, formats=('png', 'pdf'), dpi=150, tight=True):
    """Save a matplotlib figure as <path>.png and <path>.pdf, cropped to its tight bounding
    box (tight=False: the whole figure), close it, return the paths. Inside
    figsave.in_background() (Main_analysis, Main_report) the files are written by a worker
    process and exist when that block ends."""
    return figsave.save(fig, path, formats, dpi, tight)


def save_drawn(draw, kwargs, path, formats=('png', 'pdf'), dpi=150, tight=True):
    """As save_figure, for the figure ``draw(**kwargs)`` returns: drawn here, or by the
    background worker inside figsave.in_background() (figsave.save_drawn)."""
    return figsave.save_drawn(draw, kwargs, path, formats, dpi, tight)


def H_path(model_dir, trial, rule):
    return os.path.join(tools.checkpoint_dir(model_dir, trial), 'H_{}.pkl'.format(rule))


def neuron_info_path(model_dir, trial, rule, epoch):
    return os.path.join(tools.checkpoint_dir(model_dir, trial),
                        'neuron_info_{}_{}.pkl'.format(rule, epoch))


def task_info_path(model_dir):
    return os.path.join(model_dir, 'task_info.pkl')


def warn_missing_checkpoints(model_dir, log):
    """Sorted trial numbers that log.json lists but whose checkpoint folder is missing
    (tools.missing_checkpoints), named in one warning line on stderr when there are any."""
    missing = tools.missing_checkpoints(model_dir, log)
    if missing:
        shown = ', '.join(str(t) for t in missing[:10]) + (' …' if len(missing) > 10 else '')
        note('WARNING: {} checkpoint(s) listed in log.json have no folder in {}: {}; the '
             'analyses leave them out'.format(len(missing), model_dir, shown))
    return missing


def _load_existing(path, hint):
    if not os.path.isfile(path):
        raise DataUnavailable('No {} — {}'.format(path, hint))
    return tools.load_pickle(path)


def load_H(model_dir, trial, rule):
    """H (T, 128, n_rnn) float32 of a checkpoint and rule, from H_<rule>.pkl."""
    return np.asarray(_load_existing(
        H_path(model_dir, trial, rule),
        'run compute_H(hp, log, model_dir, rules=[{!r}], trial_list=[{}]) first'.format(
            rule, trial)))


def load_task_info(model_dir):
    return _load_existing(task_info_path(model_dir), 'run gen_task_info or compute_H first')


def load_neuron_info(model_dir, trial, rule, epoch):
    return _load_existing(neuron_info_path(model_dir, trial, rule, epoch),
                          'run generate_neuron_info first')


# ----------------------------------------------------------------------------------------
# Plot helpers
# ----------------------------------------------------------------------------------------
def pyplot():
    # Imported on use: scripts choose the backend (Main_analysis uses Agg; notebooks keep
    # theirs); figures are always saved to files and closed.
    import matplotlib.pyplot as plt
    return plt


def time_axis(hp, T):
    """Time of each step in seconds (step i ↦ i·dt/1000)."""
    return np.arange(T) * hp['dt'] / 1000.0


def mark_epochs(ax, hp, epoch_info, T):
    """Dotted vertical lines at the epoch boundaries and the epoch names (time in s)."""
    bounds = set()
    for name, (start, end) in sorted(epoch_info.items(),
                                     key=lambda kv: -1 if kv[1][0] is None else kv[1][0]):
        s = 0 if start is None else start
        e = T if end is None else end
        bounds.update(b for b in (start, end) if b is not None)
        ax.text((s + e) / 2.0 * hp['dt'] / 1000.0, 1.0, name, transform=ax.get_xaxis_transform(),
                ha='center', va='bottom', fontsize=9, color='dimgray')
    for b in sorted(bounds):
        ax.axvline(b * hp['dt'] / 1000.0, color='gray', linestyle=':', linewidth=0.8)
