"""analysis.monkey: recording readers (clear errors), synthetic recordings, real_neuron_PCA."""

import os

import numpy as np
import pytest

from analysis import monkey
from analysis.monkey import MonkeyFileError

SMALL = dict(n_loc=2, n_trials=2, n_bins=3)  # 12 lines


def _small_lines(n_units=2):
    """Valid lines of a 2 locations × 2 trials × 3 bins recording."""
    lines = []
    for loc in (1, 2):
        for trial in range(2):
            for b in range(3):
                lines.append(','.join([str(loc)] + ['{}.5'.format(loc * 10 + trial + b + u)
                                                   for u in range(n_units)]))
    return lines


def _write(tmp_path, lines, name='rec.txt'):
    path = tmp_path / name
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def test_round_trip_of_a_synthetic_recording(tmp_path):
    path = str(tmp_path / 'adult.txt')
    monkey.make_synthetic_recording(path, n_units=5, seed=3)
    with open(path) as f:
        first = f.readline().rstrip('\n').split(',')
    assert first[0] == '1' and len(first) == 6
    data = monkey.read_recording(path)
    assert data.shape == (8, 8, 176, 5)
    expected = monkey.synthetic_rates(n_units=5, seed=3)
    np.testing.assert_allclose(data, expected, atol=5e-5)


def test_small_valid_file_layout(tmp_path):
    data = monkey.read_recording(_write(tmp_path, _small_lines()), **SMALL)
    assert data.shape == (2, 2, 3, 2)
    # location 2, trial 1, bin 2, unit 1: 2*10 + 1 + 2 + 1 = 24 (+ .5)
    assert data[1, 1, 2, 1] == 24.5
    # trailing empty lines are fine
    path = tmp_path / 'trailing.txt'
    path.write_text('\n'.join(_small_lines()) + '\n\n\n')
    assert monkey.read_recording(str(path), **SMALL).shape == (2, 2, 3, 2)


@pytest.mark.parametrize('edit, message', [
    (lambda L: L.__setitem__(4, L[4] + ',7'), r'line 5: wrong number of values: 4'),
    (lambda L: L.__setitem__(2, '1,abc,2'), r"line 3: value 2 \('abc'\) is not a number"),
    (lambda L: L.__setitem__(0, '0,1,2'), r'line 1: location 0.0 is not an integer in 1..2'),
    (lambda L: L.__setitem__(7, '3,1,2'), r'line 8: location 3.0 is not an integer in 1..2'),
    (lambda L: L.__setitem__(1, '1.5,1,2'), r'line 2: location 1.5 is not an integer'),
    (lambda L: L.__setitem__(5, '2,1,2'), r'line 6: location 2 out of order.*location 1'),
    (lambda L: L.__delitem__(slice(-2, None)), r'wrong total line count: 10 data lines, '
                                                r'expected 12'),
    (lambda L: L.append(L[-1]), r'wrong total line count: 13'),
    (lambda L: L.insert(3, ''), r'line 4: empty line inside the data'),
    (lambda L: L.__setitem__(9, '2,nan,1'), r"line 10: value 2 \('nan'\) is not a finite"),
    (lambda L: L.__setitem__(0, 'inf,1,1'), r"line 1: value 1 \('inf'\) is not a finite"),
])
def test_malformed_recordings_name_line_and_reason(tmp_path, edit, message):
    lines = _small_lines()
    edit(lines)
    path = _write(tmp_path, lines)
    with pytest.raises(MonkeyFileError, match=message) as info:
        monkey.read_recording(path, **SMALL)
    assert 'rec.txt' in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        monkey.read_recording(str(tmp_path / 'nope.txt'))
    empty = tmp_path / 'empty.txt'
    empty.write_text('')
    with pytest.raises(MonkeyFileError, match='empty; expected 11264 lines'):
        monkey.read_recording(str(empty))


def test_unit_file_round_trip_and_errors(tmp_path):
    rec = monkey.synthetic_rates(n_units=4, n_bins=10, seed=1)
    psth = monkey.location_psth(rec)
    assert psth.shape == (4, 8, 10)
    np.testing.assert_allclose(psth[2, 5], rec[5, :, :, 2].mean(axis=0))
    path = monkey.write_unit_file(str(tmp_path / 'units.txt'), psth)
    np.testing.assert_allclose(monkey.read_unit_file(path), psth, atol=5e-5)
    bad = tmp_path / 'bad_units.txt'
    bad.write_text('1,2,3,4,5,6,7,8\n1,2,3\n')
    with pytest.raises(MonkeyFileError, match=r'line 2: wrong number of values: 3, expected 8'):
        monkey.read_unit_file(str(bad))
    bad.write_text('1,2,3\n')
    with pytest.raises(MonkeyFileError, match='not a multiple of n_loc = 8'):
        monkey.read_unit_file(str(bad))


def test_synthetic_tuning_is_planted_only_when_asked():
    tuned = monkey.synthetic_rates(n_units=6, seed=0)
    flat = monkey.synthetic_rates(n_units=6, seed=0, tuned=False)
    delay = slice(80, 140)  # 1.6–2.8 s
    spread = lambda d: d[:, :, delay].mean(axis=(1, 2)).std(axis=0).mean()
    assert spread(tuned) > 5 * spread(flat)
    pre = slice(0, 45)      # before the cue
    assert spread(flat) < 1.0 and tuned[:, :, pre].mean(axis=(1, 2)).std(axis=0).mean() < 1.0


def test_real_neuron_PCA_against_svd(tmp_path, figure_root):
    psth = monkey.location_psth(monkey.synthetic_rates(n_units=12, seed=2))
    path = monkey.write_unit_file(str(tmp_path / 'adultneuron.txt'), psth)
    res = monkey.real_neuron_PCA(path, n_components=3)
    assert res['pcs'].shape == (3, 8, 176)
    assert res['times'][1] == pytest.approx(0.02)
    # Oracle: rows (location, bin) in location-major order built by a loop, each unit
    # standardised by hand, principal axes from numpy's SVD (a component's sign is free).
    rates = monkey.read_unit_file(path)                        # (units, 8, 176)
    X = np.array([rates[:, loc, b] for loc in range(8) for b in range(176)])
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    U, S, _ = np.linalg.svd(Z, full_matrices=False)
    for c in range(3):
        got = res['pcs'][c].ravel()
        ref = U[:, c] * S[c]
        np.testing.assert_allclose(np.sign(ref @ got) * got, ref, rtol=1e-6, atol=1e-6 * S[c])
    np.testing.assert_allclose(res['explained_variance_ratio'], S[:3] ** 2 / (S ** 2).sum(),
                               rtol=1e-9)
    assert all(os.path.isfile(f) for f in res['figures'])
    assert res['figures'][0].startswith(str(figure_root))
    with pytest.raises(ValueError, match='more than the 12 units'):
        monkey.real_neuron_PCA(path, n_components=13, plot=False)
