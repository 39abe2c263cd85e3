"""The example-unit figures of Fig 3B, drawn on figures that are built once and re-used.

sample_neuron_by_trial (analysis/psth.py) writes two figures per unit and checkpoint —
Main_analysis about 160 of them — that differ only in their data, limits, colour and
titles. Building a 3×3 figure (nine axes, their ticks and tick labels) is a third of the
cost of writing it, so each process keeps one figure per layout (number of time steps,
time axis, number of locations) and redraws it for the next unit: the lines get the new
data and colour, the panels their limits and titles. A figure redrawn this way is the
one a new figure would give, pixel for pixel (tests/test_figures.py checks it).

This module imports only numpy and matplotlib: it runs in figsave's worker process
(figsave.save_drawn), which starts without TensorFlow.

Arrays: M (T, n_loc) a unit's mean activity at each location; radial (n_loc + 1,) the
polar curve closed on its first point; t_axis (T,) in s.
"""

import numpy as np

# Location index → cell (row*3 + column) of the 3×3 grid: location 0 (angle 0) at the
# top centre, then clockwise; the centre cell holds the polar plot.
GRID_CELLS = [1, 2, 5, 8, 7, 6, 3, 0]

# layout key → (figure, its artists); oldest first. The figures are matplotlib Figure
# objects outside pyplot: nothing else holds or closes them.
_TEMPLATES = {}
_MAX_TEMPLATES = 4


def _figure(figsize):
    from matplotlib.figure import Figure
    return Figure(figsize=figsize)


def _polar_axes(ax):
    """Polar panel: 0 at North, clockwise, no radial ticks; a curve and the preferred
    direction as a black radius (their data are set by _set_polar)."""
    ax.set_theta_zero_location('N')
    ax.set_theta_direction(-1)
    ax.set_yticks([])
    curve, = ax.plot([0.0, 0.0], [0.0, 0.0])
    radius, = ax.plot([0.0, 0.0], [0.0, 1.0], color='black')
    return curve, radius


def _set_polar(ax, curve, radius, theta, radial, pref_angle, color):
    curve.set_data(theta, radial)
    curve.set_color(color)
    radius.set_data([pref_angle, pref_angle], [0, 1])
    # the radial limit follows the data, as it would for lines plotted on new axes
    ax.relim()
    ax.autoscale_view()


def _template(key, build):
    if key not in _TEMPLATES:
        if len(_TEMPLATES) >= _MAX_TEMPLATES:
            del _TEMPLATES[next(iter(_TEMPLATES))]
        _TEMPLATES[key] = build()
    return _TEMPLATES[key]


def unit_grid_figure(t_axis, M, lo, hi, radial, pref_angle, color, title):
    """The 3×3 example-unit figure (10 × 10 in): panel GRID_CELLS[loc] shows M[:, loc]
    against t_axis, y from lo to hi (the unit's range, padded by the caller); the centre
    panel is the polar plot of radial (angles 2π·k/n_loc) with the preferred direction
    pref_angle (rad). Returns the figure (re-used by the next call: write it before
    calling again, do not close it)."""
    t_axis = np.asarray(t_axis, dtype=float)
    M = np.asarray(M)
    n = M.shape[1]
    if n != len(GRID_CELLS):
        raise ValueError('the 3x3 grid draws {} locations, got {}'.format(len(GRID_CELLS), n))
    key = ('grid', t_axis.size, float(t_axis[0]), float(t_axis[-1]), n)

    def build():
        fig = _figure((10, 10))
        lines, axes = [], []
        for loc in range(n):
            ax = fig.add_subplot(3, 3, GRID_CELLS[loc] + 1)
            lines += ax.plot(t_axis, np.zeros(t_axis.size))
            ax.set_title('loc {}'.format(loc), fontsize=8)
            if loc in (1, 2, 3):
                ax.yaxis.set_ticks_position('right')
            if loc in (7, 0, 1):
                ax.xaxis.set_ticks_position('top')
            axes.append(ax)
        axp = fig.add_subplot(3, 3, 5, projection='polar')
        parts = dict(lines=lines, axes=axes, polar=(axp,) + _polar_axes(axp))
        # matplotlib places each panel's title above its tick labels at every draw (a
        # sixth of the figure's cost); with the time axis and the tick sides fixed, the
        # places are the same for every unit: measured once here, then fixed.
        fig.draw_without_rendering()
        for ax in axes:
            ax.set_title(ax.get_title(), fontsize=8, y=ax.title.get_position()[1])
        return fig, parts

    fig, parts = _template(key, build)
    for loc, (ax, line) in enumerate(zip(parts['axes'], parts['lines'])):
        line.set_ydata(M[:, loc])
        line.set_color(color)
        ax.set_ylim(lo, hi)
    theta = 2 * np.pi * np.arange(n + 1) / n
    _set_polar(*parts['polar'], theta, radial, pref_angle, color)
    fig.suptitle(title)
    return fig


def unit_polar_figure(radial, pref_angle, color, title):
    """The polar-only example-unit figure (6 × 6.6 in) of unit_grid_figure's centre panel,
    title in 9 pt. Returns the figure (re-used by the next call, as unit_grid_figure's)."""
    radial = np.asarray(radial)
    n = radial.size - 1

    def build():
        fig = _figure((6, 6.6))
        axp = fig.add_subplot(projection='polar')
        return fig, dict(polar=(axp,) + _polar_axes(axp))

    fig, parts = _template(('polar', n), build)
    theta = 2 * np.pi * np.arange(n + 1) / n
    _set_polar(*parts['polar'], theta, radial, pref_angle, color)
    fig.suptitle(title, fontsize=9)
    return fig


def forget_templates():
    """Forget the figures kept for re-use (the next call builds new ones)."""
    _TEMPLATES.clear()
