"""Helpers shared by every analysis: trial lists and stages, figure paths, loading pickles.

Vocabulary:
    trial number   checkpoint name = number of training trials (e.g. 1280, 2560, ...)
    trial list     a list / range / array of trial numbers, or the stage dict returned by
                   print_basic_info(auto_range_select=True): {rule: {'early': [...],
                   'mid': [...], 'mature': [...]}}
    stage          'early' (≤ early_target_perf), 'mid' (≤ mid_target_perf), 'mature'
"""

import os
import sys

import numpy as np

import tools

STAGES = ('early', 'mid', 'mature')
STAGE_COLORS = {'early': 'green', 'mid': 'blue', 'mature': 'red'}
# Root folder of every figure; figures of a model go to FIGURE_ROOT/figure_<model name>/.
FIGURE_ROOT = 'figure'


# ----------------------------------------------------------------------------------------
# Trial lists and stages
# ----------------------------------------------------------------------------------------
def is_stage_dict(trial_list):
    return isinstance(trial_list, dict)


def expand_trial_list(trial_list, rule=None):
    """Sorted, de-duplicated list of int trial numbers.

    trial_list: an int, a list / tuple / range / array of ints, or a stage dict. For a
    stage dict the stages of ``rule`` are joined (of every rule if rule is None).
    """
    if is_stage_dict(trial_list):
        if rule is not None:
            stages = [stage_dict_for_rule(trial_list, rule)]
        else:
            stages = list(trial_list.values())
        trials = [t for s in stages for name in STAGES for t in s.get(name, [])]
    elif np.isscalar(trial_list):
        trials = [trial_list]
    else:
        trials = list(trial_list)
    return sorted({int(t) for t in trials})


def stage_dict_for_rule(stage_dict, rule):
    """The {'early', 'mid', 'mature'} dict of ``rule`` in a stage dict."""
    if rule not in stage_dict:
        raise KeyError('Rule {!r} is not in the stage selection; it holds: {}'.format(
            rule, sorted(stage_dict)))
    return stage_dict[rule]


def perf_at(log, rule, trial):
    """log['perf_<rule>'] at checkpoint ``trial`` (looked up in log['trials'])."""
    key = 'perf_' + rule
    if key not in log:
        raise KeyError('No performance of rule {!r} in the log; logged rules: {}'.format(
            rule, logged_rules(log)))
    try:
        i = list(log['trials']).index(int(trial))
    except ValueError:
        raise KeyError('Trial {} is not a checkpoint of this model (first {}, last {}, '
                       'every {})'.format(trial, log['trials'][0], log['trials'][-1],
                                          _interval(log))) from None
    return log[key][i]


def _interval(log):
    t = log['trials']
    return t[1] - t[0] if len(t) > 1 else 'n/a'


def logged_rules(log):
    return sorted(k[5:] for k in log if k.startswith('perf_')
                  and k not in ('perf_avg', 'perf_min'))


def stage_of(hp, log, trial, rule, trial_list=None):
    """Stage ('early' | 'mid' | 'mature') of checkpoint ``trial`` for ``rule``.

    From a stage dict: membership, tested mature first, then mid, then early. Otherwise
    from performance: > mid_target_perf → mature, > early_target_perf → mid, else early.
    """
    if is_stage_dict(trial_list):
        stages = stage_dict_for_rule(trial_list, rule)
        for name in ('mature', 'mid', 'early'):
            if int(trial) in stages.get(name, []):
                return name
        raise KeyError('Trial {} is in no stage of rule {!r}'.format(trial, rule))
    perf = perf_at(log, rule, trial)
    if perf > hp['mid_target_perf']:
        return 'mature'
    if perf > hp['early_target_perf']:
        return 'mid'
    return 'early'


def group_by_stage(hp, log, trial_list, rule):
    """{stage: [trial numbers]} (stages in STAGES order; empty stages are kept)."""
    groups = {s: [] for s in STAGES}
    for t in expand_trial_list(trial_list, rule):
        groups[stage_of(hp, log, t, rule, trial_list)].append(t)
    return groups


STAGE_TARGET_KEYS = {'early': 'early_target_perf', 'mid': 'mid_target_perf',
                     'mature': 'mature_target_perf'}


def representative_checkpoint(hp, log, trial_list, rule, stage):
    """The checkpoint of ``stage`` whose performance on ``rule`` is closest to that
    stage's target (hp['<stage>_target_perf']); None if the stage has no checkpoint.

    Used to pick one network per stage for decoding and dPCA.
    """
    trials = group_by_stage(hp, log, trial_list, rule)[stage]
    if not trials:
        return None
    target = hp[STAGE_TARGET_KEYS[stage]]
    return min(trials, key=lambda t: abs(perf_at(log, rule, t) - target))


def thin_stages(stage_dict, n_per_stage):
    """Stage dict keeping at most n_per_stage evenly spaced checkpoints of every stage
    (first and last included), for analyses that are costly per checkpoint."""
    out = {}
    for rule, stages in stage_dict.items():
        out[rule] = {}
        for name, trials in stages.items():
            trials = sorted(trials)
            if len(trials) > n_per_stage:
                idx = np.unique(np.linspace(0, len(trials) - 1, n_per_stage).round().astype(int))
                trials = [trials[i] for i in idx]
            out[rule][name] = trials
    return out


def stages_with_fallback(hp, log, selection, limit=30):
    """Stage dict for every trained rule, from an automatic selection when it found any.

    selection: the stage dict of print_basic_info(auto_range_select=True) (or {}). A rule
    for which it found no checkpoint at all (a run that has not come near any target yet)
    gets each checkpoint's own performance instead (≤ early target: early, ≤ mid target:
    mid, else mature), at most ``limit`` per stage (tools.limit_stage), with a note.
    """
    out = {}
    for rule in hp['rule_trains']:
        auto = selection.get(rule, {})
        if any(auto.get(s) for s in STAGES):
            out[rule] = {s: sorted(auto.get(s, [])) for s in STAGES}
            continue
        own = group_by_stage(hp, log, log['trials'], rule)
        out[rule] = {s: tools.limit_stage(own[s], s, limit) for s in STAGES}
        note("{}: no checkpoint near a stage target; using each checkpoint's own "
             "performance instead ({})".format(rule, ', '.join(
                 '{} {}'.format(s, len(out[rule][s])) for s in STAGES)))
    return out


def stage_label(hp, log, trials, rule, stage, n_units=None):
    """'<stage>_<mean perf>_<n units>' legend label of a stage."""
    perf = np.mean([perf_at(log, rule, t) for t in trials]) if trials else float('nan')
    label = '{}_{:.2f}'.format(stage, perf)
    return label if n_units is None else '{}_{}'.format(label, n_units)


# ----------------------------------------------------------------------------------------
# Rules and epochs
# ----------------------------------------------------------------------------------------
def as_list(x, what='names'):
    """[x] for one name (str), else list(x); an empty list is an error naming ``what``."""
    out = [x] if isinstance(x, str) else list(x)
    if not out:
        raise ValueError('No {} given'.format(what))
    return out


def check_rule(hp, rule):
    """Raise ValueError naming the model's rules if ``rule`` is not one of them."""
    rules = hp.get('rule_trains') or hp.get('rules') or []
    if rule not in rules:
        raise ValueError('This model was not trained on rule {!r}; its rules: {}'.format(
            rule, list(rules)))


def epoch_steps(task_info, rule, epoch):
    """(start, end) step slice bounds of an epoch name, or of an explicit (start, end)
    pair of steps. None ends are allowed (open start / end)."""
    if isinstance(epoch, (tuple, list)):
        return tuple(epoch)
    epochs = task_info[rule]['epoch_info']
    if epoch not in epochs:
        raise ValueError('Rule {!r} has no epoch {!r}; its epochs: {}'.format(
            rule, epoch, list(epochs)))
    return tuple(epochs[epoch])


# ----------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------
def model_name(model_dir):
    return os.path.basename(os.path.normpath(model_dir))


def figure_path(model_dir, *parts):
    """Path (without extension) FIGURE_ROOT/figure_<model>/<parts...>; folders created."""
    path = os.path.join(FIGURE_ROOT, 'figure_' + model_name(model_dir), *[str(p) for p in parts])
    tools.mkdir_p(os.path.dirname(path))
    return path


def save_figure(fig, path, formats=('png', 'pdf'), dpi=150):
    """Save a matplotlib figure as <path>.png and <path>.pdf, close it, return the paths."""
    import matplotlib.pyplot as plt
    paths = []
    for ext in formats:
        p = '{}.{}'.format(path, ext)
        fig.savefig(p, dpi=dpi, bbox_inches='tight')
        paths.append(p)
    plt.close(fig)
    return paths


def H_path(model_dir, trial, rule):
    return os.path.join(tools.checkpoint_dir(model_dir, trial), 'H_{}.pkl'.format(rule))


def neuron_info_path(model_dir, trial, rule, epoch):
    return os.path.join(tools.checkpoint_dir(model_dir, trial),
                        'neuron_info_{}_{}.pkl'.format(rule, epoch))


def task_info_path(model_dir):
    return os.path.join(model_dir, 'task_info.pkl')


def load_H(model_dir, trial, rule):
    """H (T, 128, n_rnn) float32 of a checkpoint and rule, from H_<rule>.pkl."""
    path = H_path(model_dir, trial, rule)
    if not os.path.isfile(path):
        raise FileNotFoundError('No {} — run compute_H(hp, log, model_dir, rules=[{!r}], '
                                'trial_list=[{}]) first'.format(path, rule, trial))
    return np.asarray(tools.load_pickle(path))


def load_task_info(model_dir):
    path = task_info_path(model_dir)
    if not os.path.isfile(path):
        raise FileNotFoundError('No {} — run gen_task_info or compute_H first'.format(path))
    return tools.load_pickle(path)


def load_neuron_info(model_dir, trial, rule, epoch):
    path = neuron_info_path(model_dir, trial, rule, epoch)
    if not os.path.isfile(path):
        raise FileNotFoundError('No {} — run generate_neuron_info first'.format(path))
    return tools.load_pickle(path)


def note(msg):
    """A user-facing notice (skipped figure, missing data) on stderr."""
    print('[analysis] ' + msg, file=sys.stderr)
