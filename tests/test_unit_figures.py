"""analysis/unit_figures.py: the example-unit figures of Fig 3B, drawn on re-used figures.

A figure re-used for a second unit must show that unit exactly as a new figure would:
nothing of the first unit (its limits, colour, scale, title) may remain.
"""

import io

import matplotlib
import numpy as np
import pytest

from analysis import common, figsave
from analysis import unit_figures as uf

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

T_AXIS = np.arange(60) * 0.02


def unit(seed, scale):
    """(M (T, 8), lo, hi, radial (9,)) of a made-up unit whose activity is ~scale."""
    rng = np.random.RandomState(seed)
    M = scale * rng.rand(T_AXIS.size, 8)
    lo, hi = M.min(), M.max()
    pad = 0.1 * max(abs(lo), abs(hi))
    radial = M[20:30].mean(axis=0) / M[20:30].mean(axis=0).max()
    return M, lo - pad, hi + pad, np.append(radial, radial[0])


def new_grid_figure(M, lo, hi, radial, pref_angle, color, title):
    """The 3×3 figure built from scratch with pyplot (how it was drawn before templates)."""
    fig = plt.figure(figsize=(10, 10))
    for loc in range(8):
        ax = fig.add_subplot(3, 3, uf.GRID_CELLS[loc] + 1)
        ax.plot(T_AXIS, M[:, loc], color=color)
        ax.set_ylim(lo, hi)
        ax.set_title('loc {}'.format(loc), fontsize=8)
        if loc in (1, 2, 3):
            ax.yaxis.set_ticks_position('right')
        if loc in (7, 0, 1):
            ax.xaxis.set_ticks_position('top')
    new_polar(fig.add_subplot(3, 3, 5, projection='polar'), radial, pref_angle, color)
    fig.suptitle(title)
    return fig


def new_polar(ax, radial, pref_angle, color):
    ax.set_theta_zero_location('N')
    ax.set_theta_direction(-1)
    ax.set_yticks([])
    ax.plot(2 * np.pi * np.arange(9) / 8, radial, color=color)
    ax.plot([pref_angle, pref_angle], [0, 1], color='black')


def pixels(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=50)
    plt.close(fig)
    buf.seek(0)
    return plt.imread(buf)


@pytest.fixture(autouse=True)
def no_templates():
    uf.forget_templates()
    yield
    uf.forget_templates()


# values below 1e-5 or above 1e6 put an offset text ('1e−6', '1e6') above the y axis,
# next to the panel titles
@pytest.mark.parametrize('first_scale, second_scale', [(1e-6, 20.0), (1.0, 1e7), (1e7, 1e-6)])
def test_grid_figure_reused_for_a_second_unit_is_a_new_figure(first_scale, second_scale):
    M, lo, hi, radial = unit(0, first_scale)
    first = uf.unit_grid_figure(T_AXIS, M, lo, hi, radial, 0.5, 'green', 'first unit')
    pixels(first)
    M, lo, hi, radial = unit(1, second_scale)
    second = uf.unit_grid_figure(T_AXIS, M, lo, hi, radial, 2.0, 'red', 'second unit')
    assert second is first                      # the same figure, redrawn
    np.testing.assert_array_equal(
        pixels(second), pixels(new_grid_figure(M, lo, hi, radial, 2.0, 'red', 'second unit')))


def test_polar_figure_reused_follows_the_new_radial_range():
    _, _, _, radial = unit(0, 1.0)
    pixels(uf.unit_polar_figure(radial, 0.5, 'green', 'first unit'))
    # a unit whose activity changes sign (tanh units): the radial axis starts below 0
    signed = radial - 0.6
    fig, ax = plt.subplots(figsize=(6, 6.6), subplot_kw=dict(projection='polar'))
    new_polar(ax, signed, 4.0, 'blue')
    fig.suptitle('second unit', fontsize=9)
    np.testing.assert_array_equal(
        pixels(uf.unit_polar_figure(signed, 4.0, 'blue', 'second unit')), pixels(fig))


def test_another_time_axis_gets_its_own_figure():
    M, lo, hi, radial = unit(0, 1.0)
    a = uf.unit_grid_figure(T_AXIS, M, lo, hi, radial, 0.0, 'red', 'a')
    b = uf.unit_grid_figure(T_AXIS[:40], M[:40], lo, hi, radial, 0.0, 'red', 'b')
    assert a is not b
    assert b.axes[0].get_xlim()[1] < a.axes[0].get_xlim()[1]


def test_drawn_in_the_worker_equals_drawn_here(tmp_path):
    M, lo, hi, radial = unit(2, 3.0)
    kwargs = [dict(t_axis=T_AXIS, M=M * (k + 1), lo=lo * (k + 1), hi=hi * (k + 1),
                   radial=radial, pref_angle=k, color='blue', title='unit {}'.format(k))
              for k in range(2)]
    here = [common.save_drawn(uf.unit_grid_figure, kw, str(tmp_path / 'here{}'.format(k)),
                              tight=False) for k, kw in enumerate(kwargs)]
    with figsave.in_background() as saver:
        there = [common.save_drawn(uf.unit_grid_figure, kw, str(tmp_path / 'bg{}'.format(k)),
                                   tight=False) for k, kw in enumerate(kwargs)]
    assert saver.written == 2
    for h, t in zip(here, there):
        assert [p.rsplit('.', 1)[1] for p in t] == ['png', 'pdf']
        assert open(h[0], 'rb').read() == open(t[0], 'rb').read()
