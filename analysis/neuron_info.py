"""Responsive, selective, excitatory / inhibitory / mixed units of each checkpoint.

For one checkpoint, rule and analysed epoch, every unit is classified from its hidden
activity H (T, 128, n_rnn) on the rule's 'test' trials (16 trials per cue location):

    fix      per-trial mean over fix1                     (trials, units)
    cue      per-trial mean over stim1 (the cue epoch, whatever epoch is analysed)
    raw      per-trial mean over the analysed epoch
    baseline per location: mean over its trials of fix   (locations, units)
    norm     raw / baseline(location of the trial) − 1
    value    norm if ``norm`` else raw                    (the analysed value)
    firerate per location: mean over its trials of value

    responsive location   paired t-test fix vs cue over that location's trials, p ≤
                          paired_ttest_p
    active                max over locations of the RAW firerate > abs_active_thresh and
                          at least one responsive location
    selective             active and one-way ANOVA of value across locations, p ≤
                          annova_p_value
    inh / exh / mix       selective and all norm firerates < 0 / all ≥ 0 / otherwise
    preferred location    first argmax over locations of firerate (index into in_loc_set)

A NaN p-value never passes a threshold. Everything is computed for all units and all
locations at once (the ANOVA loops only over units with non-finite values). The paired
t-test is written from its sums of squares, with the p-value from scipy.special (Student
t survival function): the statistic of scipy.stats.ttest_rel. The F test is
analysis.stats.oneway_anova (scipy.stats.f_oneway): the statistic of statsmodels'
``anova_lm(ols('value ~ C(location)'), typ=2)``. The original suite called both one unit
at a time.

Zero baseline (possible with relu: a unit silent through fix1 at a location): the norm
values of that location are inf (raw > 0) or NaN (raw = 0). Non-finite analysed values
are ignored: the location's firerate is NaN (no finite value), the ANOVA uses the finite
values only (fewer groups), the preferred location is the first argmax over the finite
firerates (over the raw firerates if none is finite), and the inh / exh / mix test uses
the finite norm firerates only — a unit with none is in none of those three lists.

Results are written to <model_dir>/<trial>/neuron_info_<rule>_<epoch>.pkl in the original
format: a dict with lists 'active_neurons', 'selective_neurons', 'exh_neurons',
'inh_neurons', 'mix_neurons' of tuples (unit, anova_p — None in 'active_neurons' —,
preferred location index) and 'firerate_loc_order', an array (n_rnn, n_locations).
"""

import os

import numpy as np
from scipy import special

import stages
import tools
from analysis import common
from analysis.blocks import block
from analysis.stats import oneway_anova

# The paired t-test always compares the fixation epoch with the cue epoch.
BASELINE_EPOCH = 'fix1'
CUE_EPOCH = 'stim1'


# ----------------------------------------------------------------------------------------
# Vectorised statistics
# ----------------------------------------------------------------------------------------
def _epoch_mean(H, bounds, name):
    """Per-trial mean over the steps of an epoch, float64 (trials, units)."""
    start, end = bounds
    block = H[start:end]
    if block.shape[0] == 0:
        raise ValueError('Epoch {!r} = steps {} holds no time step of H (T = {})'.format(
            name, bounds, H.shape[0]))
    # float64 accumulation: H is float32 and the t / F statistics need the precision.
    return block.mean(axis=0, dtype=np.float64)


def _group_index(in_loc, in_loc_set):
    """Padded trial indices per location.

    Returns idx (L, n_max) int (padding points at trial 0) and mask (L, n_max) bool
    (True for real trials), L = len(in_loc_set), n_max = most trials at one location.
    Indexing a (trials, units) array with idx gives (L, n_max, units): all locations at
    once even when they hold different numbers of trials or are not contiguous.
    """
    in_loc = np.asarray(in_loc).ravel()
    members = [np.flatnonzero(in_loc == loc) for loc in in_loc_set]
    empty = [loc for loc, m in zip(in_loc_set, members) if m.size == 0]
    if empty:
        raise ValueError('Locations {} of in_loc_set have no trial in in_loc'.format(empty))
    n_max = max(m.size for m in members)
    idx = np.zeros((len(members), n_max), dtype=np.intp)
    mask = np.zeros((len(members), n_max), dtype=bool)
    for i, m in enumerate(members):
        idx[i, :m.size] = m
        mask[i, :m.size] = True
    return idx, mask


def _group_mean(values, mask):
    """Mean over the trials of each location, ignoring masked-out and non-finite entries.

    values (L, n, N), mask (L, n, 1) or (L, n, N) bool. Returns mean (L, N) (NaN where a
    location has no usable value), count (L, N) and the usable mask (L, n, N).
    """
    ok = mask & np.isfinite(values)
    count = ok.sum(axis=1)
    total = np.where(ok, values, 0.).sum(axis=1)
    with np.errstate(invalid='ignore', divide='ignore'):
        mean = total / count
    return mean, count, ok


def paired_ttest_pvalues(fix_g, cue_g, mask):
    """Two-sided paired t-test p per location and unit (scipy.stats.ttest_rel's).

    fix_g, cue_g (L, n, N) per-trial means grouped by location, mask (L, n, 1).
    Returns p (L, N); NaN where undefined (all differences equal zero, < 2 trials).
    Zero variance with a non-zero mean difference gives t = ±inf, p = 0, as scipy does.
    """
    d = cue_g - fix_g
    w = np.broadcast_to(mask, d.shape)
    n = w.sum(axis=1).astype(np.float64)                      # (L, N)
    with np.errstate(invalid='ignore', divide='ignore'):
        mean = np.where(w, d, 0.).sum(axis=1) / n
        dev = np.where(w, d - mean[:, None, :], 0.)
        var = (dev * dev).sum(axis=1) / (n - 1)
        t = mean / np.sqrt(var / n)
        p = 2. * special.stdtr(n - 1, -np.abs(t))
    return p


def _first_argmax_finite(rates, fallback):
    """Index of the first maximum over axis 0 of the finite entries of rates (L, N);
    columns with no finite entry take fallback's (L, N) first finite argmax instead."""
    def masked(a):
        return np.where(np.isfinite(a), a, -np.inf)
    idx = np.argmax(masked(rates), axis=0)
    none = ~np.isfinite(rates).any(axis=0)
    if none.any():
        idx[none] = np.argmax(masked(fallback[:, none]), axis=0)
    return idx


def neuron_stats(H, in_loc, epochs_dict, epoch, in_loc_set=None, norm=True,
                 annova_p_value=0.05, paired_ttest_p=0.05, abs_active_thresh=1e-3):
    """Every per-unit quantity behind the classification, as arrays.

    H: (T, B, N) hidden activity, time-major (steps of dt ms), B test trials.
    in_loc: (B,) location index of each trial; in_loc_set: sorted locations (default: the
    distinct values of in_loc). epochs_dict: {name: (start_step, end_step)} (None = open
    end), must hold 'fix1' and 'stim1'; epoch: analysed epoch name or (start, end) steps.

    Returns a dict of arrays (L = number of locations, in in_loc_set order):
        'paired_p'      (N, L) paired t-test p, fix1 vs stim1 per-trial means
        'anova_p'       (N,)   one-way ANOVA p of the analysed values across locations
        'baseline'      (N, L) fix1 mean per location
        'firerate_raw'  (N, L) mean raw epoch value per location
        'firerate_norm' (N, L) mean norm value per location (NaN: zero baseline)
        'firerate'      (N, L) the analysed one ('firerate_loc_order' of neuron_info)
        'preferred'     (N,)   preferred location index (into in_loc_set)
        'active', 'selective', 'exh', 'inh', 'mix'  (N,) bool
    """
    H = np.asarray(H)
    if H.ndim != 3:
        raise ValueError('H must be (T, trials, units), got shape {}'.format(H.shape))
    in_loc = np.asarray(in_loc).ravel()
    if in_loc.size != H.shape[1]:
        raise ValueError('in_loc has {} trials but H has {} (axis 1 of (T, B, N))'.format(
            in_loc.size, H.shape[1]))
    if in_loc_set is None:
        in_loc_set = np.unique(in_loc)
    for name in (BASELINE_EPOCH, CUE_EPOCH):
        if name not in epochs_dict:
            raise ValueError('The classification needs epochs {!r} and {!r}; this task has '
                             '{}'.format(BASELINE_EPOCH, CUE_EPOCH, list(epochs_dict)))
    idx, mask = _group_index(in_loc, in_loc_set)
    m3 = mask[:, :, None]                                      # (L, n, 1)

    def grouped(name_or_bounds):
        bounds = common.epoch_bounds(epochs_dict, name_or_bounds)
        return _epoch_mean(H, bounds, name_or_bounds)[idx]     # (L, n, N)

    fix_g = grouped(BASELINE_EPOCH)
    cue_g = grouped(CUE_EPOCH)
    raw_g = grouped(epoch)

    p_t = paired_ttest_pvalues(fix_g, cue_g, m3)             # (L, N)
    baseline, _, _ = _group_mean(fix_g, m3)                   # (L, N)
    with np.errstate(invalid='ignore', divide='ignore'):
        norm_g = raw_g / baseline[:, None, :] - 1.
    value_g = norm_g if norm else raw_g

    rate_raw, _, _ = _group_mean(raw_g, m3)
    rate_norm, _, _ = _group_mean(norm_g, m3)
    rate = rate_norm if norm else rate_raw
    # Non-finite values (zero baseline) are left out, and so is a location left without
    # any for a unit.
    p_f = oneway_anova([v[m] for v, m in zip(value_g, mask)]).p       # (N,)

    # Comparisons with NaN are False, so a NaN p-value never passes a threshold.
    responsive = (p_t <= paired_ttest_p).any(axis=0)
    with np.errstate(invalid='ignore'):
        max_raw = np.max(np.where(np.isfinite(rate_raw), rate_raw, -np.inf), axis=0)
    active = (max_raw > abs_active_thresh) & responsive
    selective = active & (p_f <= annova_p_value)
    finite_norm = np.isfinite(rate_norm)
    has_norm = finite_norm.any(axis=0)
    all_neg = np.where(finite_norm, rate_norm < 0, True).all(axis=0)
    all_pos = np.where(finite_norm, rate_norm >= 0, True).all(axis=0)
    inh = selective & has_norm & all_neg
    exh = selective & has_norm & all_pos & ~all_neg
    mix = selective & has_norm & ~all_pos & ~all_neg

    return {'paired_p': p_t.T, 'anova_p': p_f, 'baseline': baseline.T,
            'firerate_raw': rate_raw.T, 'firerate_norm': rate_norm.T, 'firerate': rate.T,
            'preferred': _first_argmax_finite(rate, rate_raw),
            'active': active, 'selective': selective, 'exh': exh, 'inh': inh, 'mix': mix,
            'in_loc_set': list(in_loc_set)}


def info_from_stats(stats):
    """The neuron_info dict (original pickle format) from neuron_stats' arrays."""
    pref = stats['preferred']
    p = stats['anova_p']

    def tuples(flags, with_p=True):
        return [(int(u), float(p[u]) if with_p else None, int(pref[u]))
                for u in np.flatnonzero(flags)]

    return {'active_neurons': tuples(stats['active'], with_p=False),
            'selective_neurons': tuples(stats['selective']),
            'exh_neurons': tuples(stats['exh']),
            'inh_neurons': tuples(stats['inh']),
            'mix_neurons': tuples(stats['mix']),
            'firerate_loc_order': np.asarray(stats['firerate'])}


def neuron_info_from_H(H, in_loc, epochs_dict, epoch, in_loc_set=None, norm=True,
                       annova_p_value=0.05, paired_ttest_p=0.05, abs_active_thresh=1e-3):
    """neuron_info dict of one checkpoint, rule and epoch, computed and not written.

    Arguments as neuron_stats (H (T, B, N); in_loc (B,); epochs_dict of the rule, e.g.
    task_info[rule]['epoch_info']). Returns {'active_neurons': [(unit, None, pref)],
    'selective_neurons' / 'exh_neurons' / 'inh_neurons' / 'mix_neurons':
    [(unit, anova_p, pref)], 'firerate_loc_order': (N, L) float64}.
    """
    return info_from_stats(neuron_stats(
        H, in_loc, epochs_dict, epoch, in_loc_set=in_loc_set, norm=norm,
        annova_p_value=annova_p_value, paired_ttest_p=paired_ttest_p,
        abs_active_thresh=abs_active_thresh))


# ----------------------------------------------------------------------------------------
# Pickles for a model
# ----------------------------------------------------------------------------------------
def _generate_needs(need, a):
    """The pickles of a call with the default classification are made by the plan's pass;
    a call that recomputes or changes a threshold makes its own."""
    if not a.recompute and (a.norm, a.annova_p_value, a.paired_ttest_p,
                            a.abs_active_thresh) == (True, 0.05, 0.05, 1e-3):
        for rule in common.as_list(a.rules, 'rules'):
            need.neuron_info(a.model_dir, rule, a.epochs, a.trial_list)

@block(needs=_generate_needs)
def generate_neuron_info(hp, model_dir, epochs, trial_list, rules, norm=True,
                         annova_p_value=0.05, paired_ttest_p=0.05, abs_active_thresh=1e-3,
                         recompute=False, verbose=True):
    """Write <model_dir>/<trial>/neuron_info_<rule>_<epoch>.pkl for every combination.

    epochs: an epoch name or a list of names (e.g. 'stim1', ['stim1', 'delay1']);
    rules: a rule or a list of rules; trial_list: list / range of checkpoint trial numbers
    or a stage dict {rule: {'early': [...], 'mid': [...], 'mature': [...]}} (each rule
    then uses its own checkpoints). Existing pickles are kept unless recompute.
    H comes from <trial>/H_<rule>.pkl when it exists, else is computed (activity.iter_H:
    one graph, each checkpoint restored once for all its rules) and not written.
    Thresholds and the classification: see the module docstring (and neuron_stats).
    Returns None.
    """
    rules = common.as_list(rules, 'rules')
    epochs = common.as_list(epochs, 'epochs')
    for rule in rules:
        common.check_rule(hp, rule)
    for epoch in epochs:
        if not isinstance(epoch, str):
            raise ValueError('generate_neuron_info takes epoch names (they name the pickle '
                             'files), got {!r}'.format(epoch))
    from analysis import activity  # TensorFlow is only needed to make trials and H
    task_info = activity.task_info_for(hp, model_dir, rules)
    for rule in rules:
        for epoch in epochs:
            common.epoch_bounds(task_info[rule]['epoch_info'], epoch, rule=rule)

    # (rule, trial, [epochs to write]) jobs; existing pickles are skipped.
    jobs, skipped = [], 0
    for rule in rules:
        trials = stages.expand_trial_list(trial_list, rule)
        if not trials:
            common.note('generate_neuron_info: no checkpoint given for rule {!r}'.format(rule))
        for t in trials:
            todo = [e for e in epochs if recompute or
                    not os.path.isfile(common.neuron_info_path(model_dir, t, rule, e))]
            skipped += len(epochs) - len(todo)
            if todo:
                jobs.append((rule, t, todo))

    # H of every job's checkpoint: one pass, each checkpoint restored once with all its
    # rules (an existing H pickle is read instead); H is not written (as in the original,
    # whose generate_neuron_info calls Get_H(..., save_H=False)).
    by_trial = {}
    for rule, t, todo in jobs:
        by_trial.setdefault(t, {})[rule] = todo
    wanted = {t: [r for r in rules if r in todo_by_rule] for t, todo_by_rule in by_trial.items()}
    written = 0
    for t, Hs in activity.iter_H(hp, model_dir, wanted, verbose=verbose, desc='neuron_info',
                                 keep=False):
        for rule, H in Hs.items():
            info = task_info[rule]
            for epoch in by_trial[t][rule]:
                result = neuron_info_from_H(
                    H, info['in_loc'], info['epoch_info'], epoch, in_loc_set=info['in_loc_set'],
                    norm=norm, annova_p_value=annova_p_value, paired_ttest_p=paired_ttest_p,
                    abs_active_thresh=abs_active_thresh)
                tools.save_pickle(result, common.neuron_info_path(model_dir, t, rule, epoch))
                written += 1
    if verbose:
        print('generate_neuron_info: wrote {} pickle(s), kept {} existing; rules {}, '
              'epochs {}, in {}'.format(written, skipped, rules, epochs, model_dir))


def ensure_neuron_info(hp, model_dir, rule, epoch, trials, verbose=True):
    """Generate the missing neuron_info_<rule>_<epoch>.pkl of ``trials`` (defaults of
    generate_neuron_info, which reads or computes H itself and does not write it)."""
    missing = [t for t in trials
               if not os.path.isfile(common.neuron_info_path(model_dir, t, rule, epoch))]
    if missing:
        generate_neuron_info(hp, model_dir, [epoch], missing, [rule], verbose=verbose)
