"""The two statistical tests of the analyses: one-way ANOVA and Student's t-test.

scipy.stats does the arithmetic (f_oneway, ttest_ind_from_stats). This module only
arranges the data: many units or many pairs in one call, groups of different sizes,
non-finite values. It is the bottom layer of analysis/ and imports nothing from it.

Undefined cases follow scipy: NaN when a test has too few values or is 0/0 (all values
equal); F = inf, p = 0 (t = ±inf, p = 0) when the values differ between groups but not
within them.
"""

import warnings
from collections import namedtuple

import numpy as np
from scipy import stats

AnovaResult = namedtuple('AnovaResult', 'F p df_between df_within')
TtestResult = namedtuple('TtestResult', 't p')

NONFINITE_POLICIES = ('omit', 'propagate')


def _f_oneway(groups):
    """scipy.stats.f_oneway over axis 0 of (n_i, U) groups; (F, p) each (U,).
    Its warnings about constant or degenerate groups are silenced: NaN / inf is the
    answer documented above."""
    with warnings.catch_warnings(), np.errstate(invalid='ignore', divide='ignore'):
        warnings.simplefilter('ignore')
        res = stats.f_oneway(*groups, axis=0)
    return np.asarray(res.statistic, dtype=float), np.asarray(res.pvalue, dtype=float)


def oneway_anova(groups, nonfinite='omit'):
    """One-way ANOVA across groups, for every unit at once.

    groups: sequence of k array-likes, group i of shape (n_i,) or (n_i, *units): its n_i
    observations along axis 0 (n_i may differ; the units' shape must not). Groups without
    observations are left out.
    nonfinite: 'omit' — a unit's NaN / ±inf values are left out, and so is a group with
    no finite value for that unit (fewer groups for that unit); 'propagate' — a unit with
    a non-finite value gets F = p = NaN (scipy's nan_policy='propagate'), its dfs count
    every value.

    Returns AnovaResult(F, p, df_between, df_within), each of the units' shape (floats
    and ints for 1-D groups): df_between = groups − 1, df_within = values − groups (both
    ≥ 0). F and p are NaN when df_between < 1 or df_within < 1, and in the cases of the
    module docstring.
    """
    if nonfinite not in NONFINITE_POLICIES:
        raise ValueError('nonfinite must be one of {}, got {!r}'.format(
            NONFINITE_POLICIES, nonfinite))
    arrays = [np.asarray(g, dtype=np.float64) for g in groups]
    arrays = [a for a in arrays if a.ndim >= 1 and a.shape[0] > 0]
    shapes = {a.shape[1:] for a in arrays}
    if len(shapes) > 1:
        raise ValueError('The groups must share the units\' shape (axes after the first); '
                         'got shapes {}'.format([a.shape for a in arrays]))
    unit_shape = shapes.pop() if shapes else ()
    n_units = int(np.prod(unit_shape, dtype=int))
    flat = [a.reshape(a.shape[0], n_units) for a in arrays]           # (n_i, U)

    counts = np.zeros((len(flat), n_units), dtype=int)            # (k, U) values used
    for i, a in enumerate(flat):
        counts[i] = np.isfinite(a).sum(axis=0) if nonfinite == 'omit' else a.shape[0]
    k = (counts > 0).sum(axis=0)
    df_between = np.maximum(k - 1, 0)
    df_within = np.maximum(counts.sum(axis=0) - k, 0)
    F = np.full(n_units, np.nan)
    p = np.full(n_units, np.nan)
    defined = (df_between >= 1) & (df_within >= 1)

    if nonfinite == 'propagate':
        if defined.any():
            F, p = _f_oneway(flat)        # every unit has the same groups: one call
    else:
        clean = np.all([np.isfinite(a).all(axis=0) for a in flat], axis=0) & defined
        if clean.any():
            F[clean], p[clean] = _f_oneway([a[:, clean] for a in flat])
        # Units with a non-finite value each have their own groups: one call per unit.
        for u in np.flatnonzero(defined & ~clean):
            kept = [a[np.isfinite(a[:, u]), u] for a in flat]
            kept = [v for v in kept if v.size]
            F[u], p[u] = (float(x) for x in _f_oneway(kept))
    F[~defined] = np.nan
    p[~defined] = np.nan

    def shaped(x):
        x = x.reshape(unit_shape)
        return x.item() if x.ndim == 0 else x
    return AnovaResult(shaped(F), shaped(p), shaped(df_between), shaped(df_within))


def ttest_ind(a, b):
    """Student's two-sample t-test (pooled variance, two-sided) of every sample in ``a``
    against every sample in ``b``.

    a, b: sequences of k and m 1-D samples (lengths may differ).
    Returns TtestResult(t, p), each (k, m): t > 0 where a's sample has the larger mean.
    scipy.stats.ttest_ind_from_stats works from each sample's mean, standard deviation
    (ddof 1) and size, so the k·m pairs cost one call: the numbers of
    scipy.stats.ttest_ind on each pair. NaN where a sample has fewer than 2 values or a
    non-finite value, or both samples are constant with the same value (t = 0/0).
    """
    def summary(samples):
        samples = [np.asarray(s, dtype=np.float64).ravel() for s in samples]
        n = np.array([s.size for s in samples], dtype=np.float64)
        mean = np.array([s.mean() if s.size else np.nan for s in samples])
        with np.errstate(invalid='ignore'):
            std = np.array([s.std(ddof=1) if s.size > 1 else np.nan for s in samples])
        return mean, std, n

    m1, s1, n1 = summary(a)
    m2, s2, n2 = summary(b)
    with warnings.catch_warnings(), np.errstate(invalid='ignore', divide='ignore'):
        warnings.simplefilter('ignore', RuntimeWarning)
        t, p = stats.ttest_ind_from_stats(m1[:, None], s1[:, None], n1[:, None],
                                          m2[None, :], s2[None, :], n2[None, :],
                                          equal_var=True)
    t, p = np.array(t, dtype=float), np.array(p, dtype=float)
    small = (n1[:, None] < 2) | (n2[None, :] < 2)
    t[small] = np.nan
    p[small] = np.nan
    return TtestResult(t, p)
