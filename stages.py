"""Training stages: the one home of the words early, mid and mature.

Training is cut into three stages by task performance (the fraction of correct test
trials of one rule). The thresholds are hp['early_target_perf'], hp['mid_target_perf']
and hp['mature_target_perf'] (defaults 0.35, 0.65, 0.95; ``targets``).

Vocabulary — each word has one meaning:

stage of a performance value p (``stage_of_perf``)
    early   p ≤ early_target_perf
    mid     early_target_perf < p ≤ mid_target_perf
    mature  p > mid_target_perf
    The stage of a checkpoint in a plain trial list is the stage of its rule's logged
    performance at that checkpoint (``stage_of``, ``group_by_stage``; SPEC §7).

stage selection (a "stage dict" {rule: {'early': [...], 'mid': [...], 'mature': [...]}})
    Checkpoints chosen as typical of each stage, by ``range_auto_select`` (what
    print_basic_info(auto_range_select=True) returns; SPEC §7): the performance curve of
    each rule is smoothed forward over avr_window + 1 checkpoints (value i is the mean of
    the checkpoints i … i + avr_window). Wherever that smoothed value lies within
    ±perf_margin of early_target_perf, the avr_window + 1 checkpoints it averages join
    the early selection; else within ±perf_margin of mid_target_perf: the mid selection;
    else at least mature_target_perf − perf_margin: the mature selection. Each selection
    is then cut to max_trial_num_limit checkpoints (the last early ones, the middle mid
    ones, the first mature ones).
    Because a whole window joins a stage, a selected checkpoint's OWN performance may lie
    outside its stage (a dip to 0.51 inside a window whose mean is ≥ 0.90 is selected as
    mature), and a checkpoint may sit in two stages' selections (windows overlap). In a
    stage dict a checkpoint belongs to its latest stage: ``stage_of`` tests mature, then
    mid, then early.

growth label (log['growth'], written at every evaluation of training; SPEC §6)
    '=>E'     p ≤ early_target_perf          (heading for the early target)
    'E=>MID'  early_target_perf < p ≤ mid_target_perf
    'MID=>A'  mid_target_perf < p ≤ mature_target_perf
    'MATURE'  p > mature_target_perf         (the mature target is passed)
    The first two labels are the early and mid stages; the mature stage is 'MID=>A' or
    'MATURE'. The label 'MATURE' is about the mature TARGET, not the mature stage.

``DataUnavailable`` is the one exception of the analyses for "this model does not hold
what was asked" (a rule it was not trained on, a checkpoint it does not have, a stage
without checkpoints, a pickle not written yet). It is defined here, the lowest module
that raises it; analysis code uses it as ``analysis.common.DataUnavailable`` (the same
class). Main_analysis reports such a block as skipped; any other exception is a bug.

This module needs only numpy and tools (training imports it for the growth labels).
"""

import numpy as np

import tools

STAGES = ('early', 'mid', 'mature')
STAGE_COLORS = {'early': 'green', 'mid': 'blue', 'mature': 'red'}
TARGET_KEYS = {'early': 'early_target_perf', 'mid': 'mid_target_perf',
               'mature': 'mature_target_perf'}
GROWTH_LABELS = ('=>E', 'E=>MID', 'MID=>A', 'MATURE')

# The automatic stage selection's settings (the original's defaults of print_basic_info):
# windows of AVR_WINDOW + 1 checkpoints, ±PERF_MARGIN around a target, at most
# MAX_PER_STAGE checkpoints per stage. Every script, the notebook and the report use these
# names, so that one model gets the same stages in every command.
AVR_WINDOW = 9
PERF_MARGIN = 0.05
MAX_PER_STAGE = 30


class DataUnavailable(ValueError):
    """The model does not hold the data an analysis asks for; the message says what is
    missing and what there is."""


# ----------------------------------------------------------------------------------------
# Thresholds and the stage of a performance value
# ----------------------------------------------------------------------------------------
def targets(hp):
    """{'early': hp['early_target_perf'], 'mid': ..., 'mature': ...} as floats."""
    missing = [k for k in TARGET_KEYS.values() if k not in hp]
    if missing:
        raise KeyError('hp lacks the stage target(s) {}; train.get_default_hp() has them '
                       '(0.35, 0.65, 0.95)'.format(missing))
    return {s: float(hp[k]) for s, k in TARGET_KEYS.items()}


def stage_of_perf(perf, hp):
    """'early' (perf ≤ early target), 'mid' (≤ mid target) or 'mature' (above it)."""
    t = targets(hp)
    if perf <= t['early']:
        return 'early'
    if perf <= t['mid']:
        return 'mid'
    return 'mature'


def growth_label(perf, hp):
    """Growth label of one rule's performance at one evaluation (log['growth'], SPEC §6):
    '=>E', 'E=>MID', 'MID=>A' or 'MATURE' (see the module docstring)."""
    t = targets(hp)
    if perf <= t['early']:
        return GROWTH_LABELS[0]
    if perf <= t['mid']:
        return GROWTH_LABELS[1]
    if perf <= t['mature']:
        return GROWTH_LABELS[2]
    return GROWTH_LABELS[3]


def criteria(hp, auto=False, avr_window=AVR_WINDOW, perf_margin=PERF_MARGIN):
    """{stage: one-line text of what puts a checkpoint in it} for summaries: the stage of
    a checkpoint's own performance, or (auto) range_auto_select's rule."""
    t = targets(hp)
    if auto:
        smoothed = 'performance averaged over {} checkpoints'.format(avr_window + 1)
        return {'early': '{} within {:.2f} ± {:.2f}'.format(smoothed, t['early'], perf_margin),
                'mid': '{} within {:.2f} ± {:.2f}'.format(smoothed, t['mid'], perf_margin),
                'mature': '{} ≥ {:.2f}'.format(smoothed, t['mature'] - perf_margin)}
    return {'early': 'performance ≤ {:.2f}'.format(t['early']),
            'mid': '{:.2f} < performance ≤ {:.2f}'.format(t['early'], t['mid']),
            'mature': 'performance > {:.2f}'.format(t['mid'])}


# ----------------------------------------------------------------------------------------
# Performance in the log
# ----------------------------------------------------------------------------------------
def logged_rules(log):
    """Sorted rules whose performance the log holds (log['perf_<rule>'])."""
    return sorted(k[5:] for k in log if k.startswith('perf_')
                  and k not in ('perf_avg', 'perf_min'))


def perf_curve(log, rule):
    """log['perf_<rule>'] as a float array (one value per log['trials'] entry)."""
    key = 'perf_' + rule
    if key not in log:
        raise DataUnavailable('No performance of rule {!r} in the log; logged rules: '
                              '{}'.format(rule, logged_rules(log)))
    return np.asarray(log[key], dtype=float)


def perf_at(log, rule, trial):
    """Performance of ``rule`` at checkpoint ``trial`` (looked up in log['trials'])."""
    curve = perf_curve(log, rule)
    try:
        i = list(log['trials']).index(int(trial))
    except ValueError:
        t = log['trials']
        raise DataUnavailable('Trial {} is not a checkpoint of this model (first {}, last {}, '
                              '{} in all)'.format(trial, t[0] if t else '-',
                                                  t[-1] if t else '-', len(t))) from None
    return float(curve[i])


# ----------------------------------------------------------------------------------------
# Trial lists and stage dicts
# ----------------------------------------------------------------------------------------
def is_stage_dict(trial_list):
    return isinstance(trial_list, dict)


def stage_dict_for_rule(stage_dict, rule):
    """The {'early', 'mid', 'mature'} dict of ``rule`` in a stage dict."""
    if rule not in stage_dict:
        raise DataUnavailable('Rule {!r} is not in the stage selection; it holds: {}'.format(
            rule, sorted(stage_dict)))
    return stage_dict[rule]


def expand_trial_list(trial_list, rule=None):
    """Sorted, de-duplicated list of int trial numbers.

    trial_list: an int, a list / tuple / range / array of ints, or a stage dict. For a
    stage dict the stages of ``rule`` (a rule or a list of rules) are joined; of every
    rule if rule is None.
    """
    if is_stage_dict(trial_list):
        if rule is None:
            per_rule = list(trial_list.values())
        else:
            rules = [rule] if isinstance(rule, str) else list(rule)
            per_rule = [stage_dict_for_rule(trial_list, r) for r in rules]
        trials = [t for s in per_rule for name in STAGES for t in s.get(name, [])]
    elif np.isscalar(trial_list):
        trials = [trial_list]
    else:
        trials = list(trial_list)
    return sorted({int(t) for t in trials})


def stage_of(hp, log, trial, rule, trial_list=None):
    """Stage of checkpoint ``trial`` for ``rule``: from a stage dict by membership (tested
    mature, then mid, then early), else stage_of_perf of the logged performance."""
    if is_stage_dict(trial_list):
        selected = stage_dict_for_rule(trial_list, rule)
        for name in reversed(STAGES):
            if int(trial) in selected.get(name, []):
                return name
        raise DataUnavailable('Trial {} is in no stage of rule {!r}'.format(trial, rule))
    return stage_of_perf(perf_at(log, rule, trial), hp)


def group_by_stage(hp, log, trial_list, rule):
    """{stage: [trial numbers]} of a trial list for ``rule`` (STAGES order; empty stages
    kept); each checkpoint in one stage (stage_of)."""
    groups = {s: [] for s in STAGES}
    for t in expand_trial_list(trial_list, rule):
        groups[stage_of(hp, log, t, rule, trial_list)].append(t)
    return groups


# ----------------------------------------------------------------------------------------
# Automatic selection (print_basic_info(auto_range_select=True))
# ----------------------------------------------------------------------------------------
def limit_stage(trials, stage, limit):
    """At most ``limit`` of a stage's sorted trials: the last ones of 'early', the middle
    ones of 'mid', the first ones of 'mature' (the checkpoints nearest the other stages
    are the least typical of their own)."""
    trials = list(trials)
    if len(trials) <= limit:
        return trials
    if stage == 'early':
        return trials[-limit:]
    if stage == 'mature':
        return trials[:limit]
    start = (len(trials) - limit) // 2
    return trials[start:start + limit]


def range_auto_select(hp, log, rules=None, avr_window=AVR_WINDOW, perf_margin=PERF_MARGIN,
                      max_trial_num_limit=MAX_PER_STAGE, exclude=()):
    """Checkpoints typical of each stage, per rule (see "stage selection" in the module
    docstring): windows of avr_window + 1 checkpoints whose mean performance lies within
    ±perf_margin of the early target (tested first), of the mid target, or is at least
    mature target − perf_margin; at most max_trial_num_limit per stage.

    exclude: trial numbers never selected (checkpoints missing on disk); they still count
    in the averages. Returns {rule: {'early': [...], 'mid': [...], 'mature': [...]}}.
    """
    rules = hp['rule_trains'] if rules is None else rules
    rules = [rules] if isinstance(rules, str) else list(rules)
    t = targets(hp)
    trials = np.asarray(log['trials'])
    exclude = {int(x) for x in exclude}
    out = {}
    for rule in rules:
        smoothed = tools.smooth(perf_curve(log, rule), avr_window)
        picked = {s: set() for s in STAGES}
        for i, p in enumerate(smoothed):
            window = trials[i:i + avr_window + 1].tolist()
            if abs(p - t['early']) <= perf_margin:
                picked['early'].update(window)
            elif abs(p - t['mid']) <= perf_margin:
                picked['mid'].update(window)
            elif p >= t['mature'] - perf_margin:
                picked['mature'].update(window)
        out[rule] = {s: [int(x) for x in limit_stage(sorted(picked[s] - exclude), s,
                                                      max_trial_num_limit)]
                     for s in STAGES}
    return out


# ----------------------------------------------------------------------------------------
# Stage dicts the analyses are given
# ----------------------------------------------------------------------------------------
def stages_with_fallback(hp, log, selection, limit=MAX_PER_STAGE):
    """Stage dict for every trained rule: the automatic selection, with each stage it left
    empty filled from the checkpoints' own performance. Main_analysis, the notebook and
    the reports use this one rule.

    selection: the stage dict of print_basic_info(auto_range_select=True) (or {}). For a
    rule whose selection has an empty stage (a model still learning the rule, a short
    demo run), that stage gets the checkpoints whose own logged performance puts them in
    it (stage_of_perf) and that the selection did not place in another stage, at most
    ``limit`` (limit_stage). One note per such rule (tools.note) says which stages were
    empty and what was used instead (or that nothing was).
    """
    out = {}
    for rule in hp['rule_trains']:
        auto = selection.get(rule, {})
        out[rule] = {s: sorted(auto.get(s, [])) for s in STAGES}
        empty = [s for s in STAGES if not out[rule][s]]
        if not empty:
            continue
        taken = {t for s in STAGES for t in out[rule][s]}
        own = group_by_stage(hp, log, log['trials'], rule)
        used = []
        for s in empty:
            out[rule][s] = limit_stage([t for t in own[s] if t not in taken], s, limit)
            crit = criteria(hp)[s]
            used.append('{}: {}'.format(s, '{} checkpoint(s) with {}'.format(
                len(out[rule][s]), crit) if out[rule][s] else 'none ({})'.format(crit)))
        tools.note('{}: automatic selection has no {} checkpoint; using each checkpoint\'s '
                   'own performance instead — {}'.format(rule, '/'.join(empty),
                                                         '; '.join(used)))
    return out


def sub_stages(stage_dict, rules):
    """The part of a stage dict about ``rules`` (those the dict holds)."""
    return {r: stage_dict[r] for r in rules if r in stage_dict}


def last_of_each_stage(stage_dict):
    """Stage dict keeping only the last checkpoint of every stage."""
    return {r: {s: list(v)[-1:] for s, v in st.items()} for r, st in stage_dict.items()}


def thin_stages(stage_dict, n_per_stage):
    """Stage dict keeping at most n_per_stage evenly spaced checkpoints of every stage
    (first and last included), for analyses that are costly per checkpoint."""
    out = {}
    for rule, by_stage in stage_dict.items():
        out[rule] = {}
        for name, trials in by_stage.items():
            trials = sorted(trials)
            if len(trials) > n_per_stage:
                idx = np.unique(np.linspace(0, len(trials) - 1, n_per_stage).round().astype(int))
                trials = [trials[i] for i in idx]
            out[rule][name] = trials
    return out


def representative_checkpoint(hp, log, trial_list, rule, stage):
    """The checkpoint of ``stage`` whose performance on ``rule`` is closest to that
    stage's target (targets); None if the stage has no checkpoint.

    Used to pick one network per stage for decoding and dPCA.
    """
    trials = group_by_stage(hp, log, trial_list, rule)[stage]
    if not trials:
        return None
    target = targets(hp)[stage]
    return min(trials, key=lambda t: abs(perf_at(log, rule, t) - target))


def representative_checkpoints(hp, log, trial_list, rule):
    """{stage: representative_checkpoint or None} of ``rule``; every stage None for a
    rule the trial list (a stage dict) does not hold. A figure given None for its
    checkpoint says the stage has none."""
    try:
        return {s: representative_checkpoint(hp, log, trial_list, rule, s) for s in STAGES}
    except DataUnavailable:
        return {s: None for s in STAGES}
