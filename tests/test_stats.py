"""analysis/stats.py: known answers worked by hand, parity with scipy called one unit /
one pair at a time, the undefined cases, and its place as the bottom layer."""

import ast
import math
import os
import warnings

import numpy as np
import pytest
from scipy import stats as sps

from analysis import stats


def _scipy_quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return fn(*args, **kw)


# ----------------------------------------------------------------------------------------
# One-way ANOVA
# ----------------------------------------------------------------------------------------
def test_anova_known_answer():
    # Groups 1 2 3 | 4 5 6 | 7 8 9: grand mean 5, SS_between = 3·(9 + 0 + 9) = 54 on 2 df,
    # SS_within = 3 · 2 = 6 on 6 df, F = (54 / 2) / (6 / 6) = 27. For 2 numerator df the
    # F tail has the closed form p = (1 + 2F / df2)^(−df2 / 2) = (1 + 9)^−3 = 0.001.
    # The empty fourth group is left out.
    res = stats.oneway_anova([[1, 2, 3], [4, 5, 6], [7, 8, 9], []])
    assert res.F == pytest.approx(27.0, rel=1e-12)
    assert res.p == pytest.approx(0.001, rel=1e-9)
    assert (res.df_between, res.df_within) == (2, 6)
    one = stats.oneway_anova([[1.0, 2.0]])
    assert math.isnan(one.F) and math.isnan(one.p) and one.df_between == 0


def test_anova_per_unit_matches_scipy_loop():
    """Groups of different sizes, units on two axes, NaN / inf here and there: each unit
    equals scipy.stats.f_oneway on its finite values, groups left without one dropped."""
    rng = np.random.default_rng(3)
    groups = [rng.normal(loc=i * 0.3, size=(n, 3, 4)) for i, n in enumerate((5, 7, 4, 6))]
    groups[0][1, 0, 1] = np.nan
    groups[2][:, 1, 2] = np.inf             # a whole group non-finite for unit (1, 2)
    groups[3][0, 2, 3] = -np.inf
    res = stats.oneway_anova(groups)
    assert res.F.shape == res.p.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            kept = [g[:, i, j][np.isfinite(g[:, i, j])] for g in groups]
            kept = [v for v in kept if v.size]
            ref = sps.f_oneway(*kept)
            assert res.F[i, j] == pytest.approx(ref.statistic, rel=1e-12)
            assert res.p[i, j] == pytest.approx(ref.pvalue, rel=1e-10)
            assert res.df_between[i, j] == len(kept) - 1
            assert res.df_within[i, j] == sum(v.size for v in kept) - len(kept)
    assert res.df_between[1, 2] == 2        # the non-finite group is not counted


def test_anova_propagate_and_undefined_cases():
    # 'propagate': a non-finite value makes that unit's F and p NaN; the dfs count it.
    a = np.array([[1., 5.], [2., np.nan], [3., 7.]])
    b = np.array([[4., 1.], [5., 2.], [6., 3.]])
    res = stats.oneway_anova([a, b], nonfinite='propagate')
    assert res.F[0] == pytest.approx(13.5, rel=1e-12)   # SS_b 13.5 / (SS_w 4 / 4)
    assert np.isnan(res.F[1]) and np.isnan(res.p[1]) and res.df_within[1] == 4
    # constant within the groups, the groups differ: F = inf, p = 0
    res = stats.oneway_anova([[1., 1.], [2., 2.]])
    assert res.F == math.inf and res.p == 0.0
    # every value equal: F = 0/0
    assert math.isnan(stats.oneway_anova([[3., 3.], [3., 3.]]).p)
    # one value per group: no within-group df
    res = stats.oneway_anova([[1.], [2.], [4.]])
    assert math.isnan(res.p) and (res.df_between, res.df_within) == (2, 0)
    # no group at all
    assert math.isnan(stats.oneway_anova([]).p)


def test_anova_errors():
    with pytest.raises(ValueError, match="'omit', 'propagate'"):
        stats.oneway_anova([[1., 2.], [3., 4.]], nonfinite='drop')
    with pytest.raises(ValueError, match='units'):
        stats.oneway_anova([np.zeros((3, 2)), np.zeros((3, 4))])


# ----------------------------------------------------------------------------------------
# Independent t-test
# ----------------------------------------------------------------------------------------
def test_ttest_known_answer():
    # [0, 2] vs [3, 4, 5]: means 1 and 4, variances 2 and 1, pooled variance
    # (1·2 + 2·1) / 3 = 4/3, t = −3 / √(4/3 · (1/2 + 1/3)) = −9 / √10 on 3 df. For 3 df
    # the two-sided p is 1 − (2/π)·(x / (1 + x²) + atan x) with x = |t| / √3 = 9 / √30.
    t, p = stats.ttest_ind([[0., 2.]], [[3., 4., 5.], [7.]])
    assert t.shape == p.shape == (1, 2)
    assert t[0, 0] == pytest.approx(-9 / math.sqrt(10), rel=1e-12)
    x = 9 / math.sqrt(30)
    assert p[0, 0] == pytest.approx(1 - 2 / math.pi * (x / (1 + x * x) + math.atan(x)),
                                    rel=1e-9)
    assert np.isnan(t[0, 1]) and np.isnan(p[0, 1])        # one value: no variance


def test_ttest_every_pair_matches_scipy_loop():
    rng = np.random.default_rng(5)
    samples = [rng.normal(loc=m, size=n) for m, n in ((0, 4), (0.5, 9), (2, 3), (0.1, 6))]
    samples.append(np.array([1.0, np.nan, 2.0]))
    t, p = stats.ttest_ind(samples, samples)
    for i, a in enumerate(samples):
        for j, b in enumerate(samples):
            ref = _scipy_quiet(sps.ttest_ind, a, b)
            np.testing.assert_allclose([t[i, j], p[i, j]], [ref.statistic, ref.pvalue],
                                       rtol=1e-10, equal_nan=True)
    assert np.isnan(p[4]).all()              # NaN propagates, as in ttest_ind


def test_ttest_constant_samples():
    t, p = stats.ttest_ind([[1., 1., 1.]], [[2., 2.], [1., 1.]])
    assert t[0, 0] == -math.inf and p[0, 0] == 0.0      # no spread, means differ
    assert np.isnan(t[0, 1]) and np.isnan(p[0, 1])       # 0/0


# ----------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------
def test_stats_is_the_bottom_layer():
    """analysis/stats.py imports nothing from analysis/ (every analysis module may use it)."""
    path = os.path.join(os.path.dirname(stats.__file__), 'stats.py')
    tree = ast.parse(open(path, encoding='utf-8').read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add('.' * node.level + (node.module or ''))
    assert not [m for m in imported if m.startswith(('analysis', '.'))], imported
