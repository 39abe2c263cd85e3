"""The paper's six maturation signatures (../PAPER.md) as numbers with their tests.

Pure statistics on arrays — no TensorFlow, no files — so that each can be checked on
synthetic inputs with a known answer. ``analysis.report`` feeds them from the suite's own
analyses and writes the tables.

Stages are the suite's ('early', 'mid', 'mature'); a statistic that needs a stage the
data does not have returns None for it, and the caller says "not available".
"""

import math

import numpy as np
from scipy import stats

from analysis.stats import oneway_anova, ttest_ind

ALPHA = 0.05          # significance level of every verdict
LEARNED_PERF = 0.95   # signature 1: a task is learned when its performance exceeds this
CORRECT_DEG = 36.0    # signature 4: a saccade within 36° (get_perf's 0.2π) is correct
DECODE_MIN = 0.9      # signature 5: mean diagonal accuracy over the delay at least this
# Signature 5: before the cue the eight locations are indistinguishable; "near chance"
# means a mean diagonal accuracy at most this many times chance (1/8 → 0.25).
NEAR_CHANCE_FACTOR = 2.0


# ----------------------------------------------------------------------------------------
# 1. Learning order
# ----------------------------------------------------------------------------------------
def first_crossing(trials, perf, threshold=LEARNED_PERF):
    """First trial number whose performance exceeds ``threshold`` (None if never).

    trials, perf: (n_checkpoints,) checkpoint trial numbers and the performance there.
    """
    perf = np.asarray(perf, dtype=float)
    above = np.flatnonzero(perf > threshold)
    return int(np.asarray(trials)[above[0]]) if above.size else None


def learning_order(crossings, early_rules, late_rules):
    """Are all ``early_rules`` learned before every one of ``late_rules``?

    crossings: {rule: first_crossing trial or None}. A late rule that is never learned
    counts as later than any learned one; an early rule that is never learned breaks the
    order. Returns {'holds': bool, 'gap': trials between the last early rule's crossing
    and the first late rule's (None when a late rule is not learned or an early one is
    not), 'last_early', 'first_late'}.
    """
    early = [crossings[r] for r in early_rules]
    late = [crossings[r] for r in late_rules]
    if any(c is None for c in early):
        return {'holds': False, 'gap': None, 'last_early': None,
                'first_late': min((c for c in late if c is not None), default=None)}
    last_early = max(early)
    learned_late = [c for c in late if c is not None]
    first_late = min(learned_late) if learned_late else None
    holds = all(c > last_early for c in learned_late)
    gap = (first_late - last_early) if (first_late is not None and
                                        len(learned_late) == len(late)) else None
    return {'holds': bool(holds), 'gap': gap, 'last_early': last_early,
            'first_late': first_late}


# ----------------------------------------------------------------------------------------
# 2, 4. Activity across stages
# ----------------------------------------------------------------------------------------
def stage_anova(values):
    """One-way ANOVA of per-unit values across stages, with η².

    values: {stage: (n_units,) array}; stages with no finite value are left out.
    Returns {'means': {stage: mean}, 'n': {stage: count}, 'F', 'p', 'df_between',
    'df_within', 'eta2'} — η² = SS_between / SS_total, the share of the variance of the
    units' values that the stage explains. F, p, η² are NaN with fewer than two stages.
    """
    groups = {s: np.asarray(v, dtype=float) for s, v in values.items()}
    groups = {s: v[np.isfinite(v)] for s, v in groups.items()}
    groups = {s: v for s, v in groups.items() if v.size}
    out = {'means': {s: float(v.mean()) for s, v in groups.items()},
           'n': {s: int(v.size) for s, v in groups.items()},
           'F': float('nan'), 'p': float('nan'), 'eta2': float('nan'),
           'df_between': max(len(groups) - 1, 0),
           'df_within': max(sum(v.size for v in groups.values()) - len(groups), 0)}
    if len(groups) < 2 or out['df_within'] < 1:
        return out
    res = oneway_anova(list(groups.values()))
    F = float(res.F)
    if np.isfinite(F):
        out['F'], out['p'] = F, float(res.p)
        # η² = SS_between / SS_total = F·df_between / (F·df_between + df_within)
        out['eta2'] = F * out['df_between'] / (F * out['df_between'] + out['df_within'])
    elif F == math.inf:
        # No spread within any stage, the stages differ: η² = 1; F and p are left NaN
        # ("not available" in the report). F = 0/0 (all values equal) leaves all three NaN.
        out['eta2'] = 1.0
    return out


def rises(result, low='early', high='mature', alpha=ALPHA):
    """True when ``high``'s mean exceeds ``low``'s and the test's p < alpha; None when a
    stage or the p-value is missing."""
    means, p = result.get('means', {}), result.get('p')
    if low not in means or high not in means or p is None or not np.isfinite(p):
        return None
    return bool(means[high] > means[low] and p < alpha)


# ----------------------------------------------------------------------------------------
# 3. Distractor
# ----------------------------------------------------------------------------------------
def distance_slopes(perf, stages, distance_deg):
    """Linear trend of ODRD performance over the cue–distractor distance, per stage.

    perf: (n_checkpoints, n_distances) performance of each checkpoint at each distance;
    stages: (n_checkpoints,) stage names; distance_deg: (n_distances,).
    Each stage pools its checkpoints' points (distance, perf) into one least-squares fit.
    Returns {stage: {'slope' (perf per 180°), 'p' (two-sided, slope ≠ 0), 'n_checkpoints',
    'mean' (n_distances,) mean over the stage's checkpoints}}.
    """
    perf = np.asarray(perf, dtype=float)
    stages = np.asarray(stages)
    d = np.asarray(distance_deg, dtype=float)
    out = {}
    for stage in dict.fromkeys(stages.tolist()):
        rows = perf[stages == stage]
        x = np.tile(d, rows.shape[0])
        y = rows.ravel()
        slope, p = float('nan'), float('nan')
        if np.ptp(x) > 0 and y.size > 2:
            fit = stats.linregress(x, y)
            slope, p = float(fit.slope) * 180.0, float(fit.pvalue)
        out[stage] = {'slope': slope, 'p': p, 'n_checkpoints': int(rows.shape[0]),
                      'mean': rows.mean(axis=0)}
    return out


def stage_difference(slopes, high='mature', low='early'):
    """(n_distances,) mean performance of ``high`` minus ``low`` at every distance, or
    None when either stage is missing."""
    if high not in slopes or low not in slopes:
        return None
    return np.asarray(slopes[high]['mean']) - np.asarray(slopes[low]['mean'])


# ----------------------------------------------------------------------------------------
# 4. Saccade errors
# ----------------------------------------------------------------------------------------
def fraction_within(errors_deg, limit=CORRECT_DEG):
    """(fraction of saccades with error < limit, number of saccades)."""
    e = np.asarray(errors_deg, dtype=float)
    e = e[np.isfinite(e)]
    return (float(np.mean(e < limit)) if e.size else float('nan')), int(e.size)


def two_proportion_test(k_high, n_high, k_low, n_low):
    """Two-sided z-test that two proportions differ (pooled variance).

    Returns {'diff': k_high/n_high − k_low/n_low, 'z', 'p'}; NaN when undefined.
    """
    out = {'diff': float('nan'), 'z': float('nan'), 'p': float('nan')}
    if n_high < 1 or n_low < 1:
        return out
    p1, p2 = k_high / n_high, k_low / n_low
    out['diff'] = p1 - p2
    pooled = (k_high + k_low) / (n_high + n_low)
    se = math.sqrt(pooled * (1 - pooled) * (1.0 / n_high + 1.0 / n_low))
    if se > 0:
        out['z'] = (p1 - p2) / se
        out['p'] = float(2 * stats.norm.sf(abs(out['z'])))
    return out


# ----------------------------------------------------------------------------------------
# 5. Cross-temporal decoding
# ----------------------------------------------------------------------------------------
def windows_inside(starts, window_size, start, end):
    """Boolean mask of the windows [s, s + window_size) lying inside [start, end) steps."""
    s = np.asarray(starts)
    return (s >= start) & (s + window_size <= end)


def decoding_summary(accuracy, starts, window_size, delay, pre_cue, n_classes):
    """Mean diagonal accuracy of a cross-temporal decoding matrix in two periods.

    accuracy: (n_windows, n_windows), row = training window; starts: (n_windows,) first
    step of each window; delay, pre_cue: (start, end) steps. Returns {'delay', 'pre_cue'
    (NaN when no window fits), 'chance' = 1 / n_classes, 'n_delay', 'n_pre_cue'}.
    """
    diag = np.diag(np.asarray(accuracy, dtype=float))
    in_delay = windows_inside(starts, window_size, *delay)
    in_pre = windows_inside(starts, window_size, *pre_cue)
    return {'delay': float(diag[in_delay].mean()) if in_delay.any() else float('nan'),
            'pre_cue': float(diag[in_pre].mean()) if in_pre.any() else float('nan'),
            'chance': 1.0 / n_classes,
            'n_delay': int(in_delay.sum()), 'n_pre_cue': int(in_pre.sum())}


def decodes(summary, minimum=DECODE_MIN, near_chance=NEAR_CHANCE_FACTOR):
    """Signature 5's verdict: delay accuracy ≥ minimum and pre-cue accuracy at most
    near_chance × chance (None when a period has no window)."""
    if not (np.isfinite(summary['delay']) and np.isfinite(summary['pre_cue'])):
        return None
    return bool(summary['delay'] >= minimum and
                summary['pre_cue'] <= near_chance * summary['chance'])


# ----------------------------------------------------------------------------------------
# 6. Tuning height
# ----------------------------------------------------------------------------------------
def cohens_d(high, low):
    """(mean(high) − mean(low)) / pooled standard deviation; NaN when undefined."""
    a = np.asarray(high, dtype=float)
    b = np.asarray(low, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return float('nan')
    pooled = ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (
        a.size + b.size - 2)
    return float((a.mean() - b.mean()) / math.sqrt(pooled)) if pooled > 0 else float('nan')


def height_test(high, low):
    """Independent two-sample t-test (equal variances, as tunning_analysis) of tuning
    heights. Returns {'mean_high', 'mean_low', 't', 'p', 'd'} (NaN when undefined)."""
    a = np.asarray(high, dtype=float)
    b = np.asarray(low, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    out = {'mean_high': float(a.mean()) if a.size else float('nan'),
           'mean_low': float(b.mean()) if b.size else float('nan'),
           't': float('nan'), 'p': float('nan'), 'd': cohens_d(a, b)}
    res = ttest_ind([a], [b])
    out['t'], out['p'] = float(res.t[0, 0]), float(res.p[0, 0])
    return out
