"""Monkey prefrontal recordings: file readers, a synthetic recording, and real_neuron_PCA.

The recordings of the paper (adolescent and adult monkeys, Zhou et al. 2016) are not
public. This module reads them in the two text formats of the original suite, and writes
synthetic recordings in the same format for tests and examples.

Trial format (``read_recording``; used by real_neuron_dPCA and realneuron_Decoder_analysis)::

    <location>,<rate unit 1>,<rate unit 2>,...        one line per time bin

    location   1-based location index of the trial (1 .. n_loc)
    rates      firing rate of every unit in that bin (spikes/s; any unit works)
    order      lines ordered by location, then trial, then time bin: the first n_bins
               lines are trial 1 of location 1, the next n_bins trial 2 of location 1, ...
    default    8 locations × 8 trials × 176 bins of 20 ms (3.52 s per trial)

Unit format (``read_unit_file``; used by real_neuron_PCA)::

    <rate>,<rate>,...        one line per unit: its trial-averaged rate at location 1 for
                             every bin, then at location 2, ... (n_loc × n_bins values)

Arrays: a recording is (n_loc, n_trials, n_bins, n_units) float64; location index 0 in the
arrays is location 1 in the file.
"""

import os

import numpy as np

from analysis import common, session
from analysis.blocks import block

N_LOC = 8
N_TRIALS = 8
N_BINS = 176
BIN_MS = 20
# Figures of monkey files go to <figure root of the session>/figure_real_neuron/...
FIGURE_FOLDER = 'real_neuron'


class MonkeyFileError(ValueError):
    """A recording file that does not follow the expected format (message names the
    file, the line number and the reason)."""


def _error(path, lineno, reason):
    where = '{}, line {}'.format(path, lineno) if lineno is not None else str(path)
    return MonkeyFileError('{}: {}'.format(where, reason))


def _data_lines(path):
    """(line number, stripped text) of every line; blank lines only allowed at the end."""
    if not os.path.isfile(path):
        raise FileNotFoundError('No recording file {!r}'.format(path))
    with open(path, 'r') as f:
        lines = [(i + 1, line.strip()) for i, line in enumerate(f)]
    while lines and not lines[-1][1]:
        lines.pop()
    for lineno, text in lines:
        if not text:
            raise _error(path, lineno, 'empty line inside the data (only trailing empty '
                                       'lines are allowed)')
    return lines


def _parse_values(path, lineno, text):
    values = []
    for k, field in enumerate(text.split(',')):
        try:
            value = float(field)
        except ValueError:
            raise _error(path, lineno, 'value {} ({!r}) is not a number'.format(
                k + 1, field.strip())) from None
        if not np.isfinite(value):
            raise _error(path, lineno, 'value {} ({!r}) is not a finite number'.format(
                k + 1, field.strip()))
        values.append(value)
    return values


def read_recording(path, n_loc=N_LOC, n_trials=N_TRIALS, n_bins=N_BINS):
    """Read a trial-format recording → float64 array (n_loc, n_trials, n_bins, n_units).

    Every line must hold the same number of comma-separated numbers (1 location + one rate
    per unit), the location must be an integer in 1..n_loc equal to the location that the
    line's position implies (lines ordered by location, trial, bin), and the file must
    have exactly n_loc × n_trials × n_bins lines. Otherwise MonkeyFileError names the line
    and the reason.
    """
    lines = _data_lines(path)
    expected = n_loc * n_trials * n_bins
    if not lines:
        raise _error(path, None, 'the file is empty; expected {} lines ({} locations × {} '
                                 'trials × {} bins)'.format(expected, n_loc, n_trials, n_bins))
    per_loc = n_trials * n_bins
    n_values = None
    rows = []
    for i, (lineno, text) in enumerate(lines):
        values = _parse_values(path, lineno, text)
        if n_values is None:
            n_values = len(values)
            if n_values < 2:
                raise _error(path, lineno, 'a line needs the location and at least one '
                                           'rate; found {} value(s)'.format(n_values))
        elif len(values) != n_values:
            raise _error(path, lineno, 'wrong number of values: {} (the first line has {}: '
                                       'the location and {} unit rates)'.format(
                                           len(values), n_values, n_values - 1))
        loc = values[0]
        if loc != int(loc) or not 1 <= loc <= n_loc:
            raise _error(path, lineno, 'location {!r} is not an integer in 1..{}'.format(
                loc, n_loc))
        if i < expected and int(loc) != i // per_loc + 1:
            raise _error(path, lineno, 'location {} out of order: line {} of the data must '
                                       'belong to location {} (lines are ordered by '
                                       'location, then {} trials × {} bins each)'.format(
                                           int(loc), i + 1, i // per_loc + 1, n_trials,
                                           n_bins))
        rows.append(values[1:])
    if len(lines) != expected:
        raise _error(path, None, 'wrong total line count: {} data lines, expected {} '
                                 '({} locations × {} trials × {} bins); pass n_loc, '
                                 'n_trials and n_bins matching the recording'.format(
                                     len(lines), expected, n_loc, n_trials, n_bins))
    data = np.asarray(rows, dtype=np.float64)
    return data.reshape(n_loc, n_trials, n_bins, n_values - 1)


def write_recording(path, data, fmt='%.4f'):
    """Write (n_loc, n_trials, n_bins, n_units) rates in the trial format (1-based
    locations)."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 4:
        raise ValueError('data must be (n_loc, n_trials, n_bins, n_units), got shape '
                         '{}'.format(data.shape))
    n_loc, n_trials, n_bins, n_units = data.shape
    locs = np.repeat(np.arange(1, n_loc + 1), n_trials * n_bins)
    rows = data.reshape(-1, n_units)
    with open(path, 'w') as f:
        for loc, row in zip(locs, rows):
            f.write('{},{}\n'.format(loc, ','.join(fmt % v for v in row)))
    return path


def read_unit_file(path, n_loc=N_LOC, n_bins=None):
    """Read a unit-format file → float64 array (n_units, n_loc, n_bins).

    One line per unit with n_loc × n_bins numbers (n_bins inferred from the first line if
    None). MonkeyFileError names the line and the reason if a line is malformed.
    """
    lines = _data_lines(path)
    if not lines:
        raise _error(path, None, 'the file is empty; expected one line per unit')
    rows = []
    for lineno, text in lines:
        values = _parse_values(path, lineno, text)
        if n_bins is None:
            if len(values) % n_loc:
                raise _error(path, lineno, 'wrong number of values: {} is not a multiple '
                                           'of n_loc = {}'.format(len(values), n_loc))
            n_bins = len(values) // n_loc
        if len(values) != n_loc * n_bins:
            raise _error(path, lineno, 'wrong number of values: {}, expected {} ({} '
                                       'locations × {} bins)'.format(
                                           len(values), n_loc * n_bins, n_loc, n_bins))
        rows.append(values)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), n_loc, n_bins)


def write_unit_file(path, psth, fmt='%.4f'):
    """Write (n_units, n_loc, n_bins) location-averaged rates in the unit format."""
    psth = np.asarray(psth, dtype=np.float64)
    if psth.ndim != 3:
        raise ValueError('psth must be (n_units, n_loc, n_bins), got shape {}'.format(
            psth.shape))
    with open(path, 'w') as f:
        for row in psth.reshape(psth.shape[0], -1):
            f.write(','.join(fmt % v for v in row) + '\n')
    return path


def location_psth(data):
    """Trial-averaged rates (n_units, n_loc, n_bins) of a recording (n_loc, n_trials,
    n_bins, n_units) — the content of a unit-format file."""
    return np.asarray(data).mean(axis=1).transpose(2, 0, 1)


def synthetic_rates(n_units=40, n_loc=N_LOC, n_trials=N_TRIALS, n_bins=N_BINS,
                    bin_ms=BIN_MS, seed=0, tuned=True, noise=2.0):
    """Synthetic ODR-like rates (n_loc, n_trials, n_bins, n_units), spikes/s.

    Timing as the monkey ODR task: fixation 0–1 s, cue 1–1.5 s, delay 1.5–3 s, response
    after 3 s. Every unit has a baseline (5–15 spikes/s) and a cue-locked transient shared
    by all locations; if ``tuned`` it also has a von Mises tuning to a random preferred
    location, strong during the cue and weaker (persistent) during the delay, and none
    before the cue. Gaussian trial noise of s.d. ``noise``; rates are clipped at 0.
    """
    rng = np.random.RandomState(seed)
    t = (np.arange(n_bins) + 0.5) * bin_ms / 1000.  # bin centres, s
    cue = ((t >= 1.0) & (t < 1.5)).astype(float)
    delay = ((t >= 1.5) & (t < 3.0)).astype(float)
    baseline = rng.uniform(5, 15, n_units)
    transient = rng.uniform(2, 6, n_units)
    rates = baseline[None, :] + transient[None, :] * cue[:, None]       # (n_bins, n_units)
    rates = np.broadcast_to(rates, (n_loc, n_bins, n_units)).copy()
    if tuned:
        theta = 2 * np.pi * np.arange(n_loc) / n_loc
        pref = rng.uniform(0, 2 * np.pi, n_units)
        gain = rng.uniform(10, 20, n_units)
        tuning = np.exp(2.0 * (np.cos(theta[:, None] - pref[None, :]) - 1))  # (n_loc, units)
        profile = cue + 0.6 * delay                                           # (n_bins,)
        rates += gain[None, None, :] * tuning[:, None, :] * profile[None, :, None]
    trials = rates[:, None] + noise * rng.randn(n_loc, n_trials, n_bins, n_units)
    return np.clip(trials, 0, None)


def make_synthetic_recording(path, n_units=40, n_loc=N_LOC, n_trials=N_TRIALS,
                             n_bins=N_BINS, seed=0, tuned=True):
    """Write a synthetic recording (see synthetic_rates) in the trial format; returns
    the path. The real recordings are not public: this is for tests and examples."""
    data = synthetic_rates(n_units=n_units, n_loc=n_loc, n_trials=n_trials, n_bins=n_bins,
                           seed=seed, tuned=tuned)
    return write_recording(path, data)


def sample_name(path):
    """File name without folder and extension (used in figure names)."""
    return os.path.splitext(os.path.basename(path))[0]


def figure_path(*parts):
    """Figure path <session figure root>/figure_real_neuron/<parts...> (folders created)."""
    return session.figure_path(FIGURE_FOLDER, *parts)


@block()
def real_neuron_PCA(neuron_file='data/adultneuron.txt', time_len=N_BINS, direc_num=N_LOC,
                    n_components=2, dt=BIN_MS, plot=True):
    """PCA of a unit-format file (one line per unit: direc_num locations × time_len bins
    of dt ms of location-averaged rates; time_len None: inferred from the first line).

    The (direc_num × time_len, n_units) matrix of rates (rows = location-major time bins)
    is standardised per unit (StandardScaler) and projected on its first n_components
    principal components; each component is plotted against time (s), one line per
    location.

    Returns {'pcs': (n_components, n_loc, n_bins) projections, 'explained_variance_ratio':
    (n_components,), 'times': (n_bins,) s, 'figures': [paths]}.
    """
    path, n_loc, n_bins = neuron_file, direc_num, time_len
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler
    psth = read_unit_file(path, n_loc=n_loc, n_bins=n_bins)       # (units, loc, bins)
    n_units, n_loc, n_bins = psth.shape
    if n_components > min(n_units, n_loc * n_bins):
        raise ValueError('n_components = {} is more than the {} units of {}'.format(
            n_components, n_units, path))
    X = psth.reshape(n_units, -1).T                                  # (loc*bins, units)
    pca = PCA(n_components=n_components)
    proj = pca.fit_transform(StandardScaler().fit_transform(X))
    pcs = proj.T.reshape(n_components, n_loc, n_bins)
    times = np.arange(n_bins) * dt / 1000.
    res = {'pcs': pcs, 'explained_variance_ratio': pca.explained_variance_ratio_,
           'times': times, 'figures': []}
    if plot:
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(n_components, 1, figsize=(8, 3.2 * n_components),
                                 squeeze=False, sharex=True)
        for c, ax in enumerate(axes[:, 0]):
            for loc in range(n_loc):
                ax.plot(times, pcs[c, loc], label='loc {}'.format(loc + 1))
            ax.set_title('PC {} ({:.1f}% of variance)'.format(
                c + 1, 100 * pca.explained_variance_ratio_[c]))
            ax.set_ylabel('projection (a.u.)')
        axes[-1, 0].set_xlabel('time (s)')
        axes[0, 0].legend(fontsize=7, ncol=4)
        fig.suptitle('{}: PCA of {} standardised units'.format(sample_name(path), n_units))
        res['figures'] = common.save_figure(fig, figure_path(
            'pca', '{}_comp{}_by_location'.format(sample_name(path), n_components)))
    return res
