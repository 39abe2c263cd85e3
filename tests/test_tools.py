"""tools.py: atomic files, pickles from the original suite, model folders, helpers."""

import os
import pickle

import numpy as np
import pytest

import tools


def test_atomic_json_and_pickle_leave_no_temp_files(tmp_path):
    tools.save_json({'a': np.float32(1.5), 'b': np.arange(3), 'c': np.int64(4)},
                    str(tmp_path / 'x.json'))
    tools.save_pickle({'k': [1, 2]}, str(tmp_path / 'x.pkl'))
    assert sorted(os.listdir(tmp_path)) == ['x.json', 'x.pkl']
    assert tools.load_pickle(str(tmp_path / 'x.pkl')) == {'k': [1, 2]}


def test_failed_write_keeps_the_old_file(tmp_path):
    path = str(tmp_path / 'log.json')
    tools.save_json({'trials': [0]}, path)
    with pytest.raises(TypeError):
        tools.save_json({'trials': [object()]}, path)
    assert tools.load_log(str(tmp_path)) == {'trials': [0]}
    assert os.listdir(tmp_path) == ['log.json']


def test_load_pickle_latin1_fallback(tmp_path):
    # A Python 2 pickle of the byte string '\xe9t\xe9' (protocol 2, SHORT_BINSTRING).
    path = tmp_path / 'py2.pkl'
    path.write_bytes(b'\x80\x02U\x03\xe9t\xe9q\x00.')
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(path.read_bytes())
    assert tools.load_pickle(str(path)) == '\xe9t\xe9'
    with pytest.raises(FileNotFoundError, match='nope.pkl'):
        tools.load_pickle(str(tmp_path / 'nope.pkl'))


def test_hp_round_trip_drops_rng_and_reseeds(tmp_path):
    hp = {'seed': 3, 'rng': np.random.RandomState(3), 'rule_probs': [np.float64(0.5)] * 2}
    tools.save_hp(hp, str(tmp_path))
    loaded = tools.load_hp(str(tmp_path))
    assert loaded['rule_probs'] == [0.5, 0.5]
    assert loaded['rng'].rand() == np.random.RandomState(1003).rand()


def test_missing_model_messages_name_the_choices(tmp_path):
    (tmp_path / 'good').mkdir()
    tools.save_json({}, str(tmp_path / 'good' / 'hp.json'))
    tools.save_json({}, str(tmp_path / 'good' / 'log.json'))
    with pytest.raises(FileNotFoundError, match='does not exist.*good'):
        tools.load_hp(str(tmp_path / 'bad'))
    assert tools.valid_model_dirs(str(tmp_path)) == [str(tmp_path / 'good')]


def test_find_model(tmp_path):
    for name, n_rnn, perf in (('a', 64, 0.5), ('b', 256, 0.99)):
        tools.save_json({'n_rnn': n_rnn, 'seed': 0}, str(tmp_path / name / 'hp.json'))
        tools.save_json({'perf_min': [perf]}, str(tmp_path / name / 'log.json'))
    assert tools.find_model(str(tmp_path), {'n_rnn': 256}) == str(tmp_path / 'b')
    with pytest.raises(FileNotFoundError, match='looked at'):
        tools.find_model(str(tmp_path), {'n_rnn': 64}, perf_min=0.9)


def test_rng_state_round_trip(tmp_path):
    rng = np.random.RandomState(9)
    rng.randn(7)   # leaves a cached gaussian
    tools.save_rng_state(rng, str(tmp_path / 'r.json'))
    back = tools.load_rng_state(str(tmp_path / 'r.json'))
    np.testing.assert_array_equal(back.randn(5), rng.randn(5))


def test_smooth_is_forward_window_mean():
    x = np.array([0., 1, 2, 3, 4])
    np.testing.assert_allclose(tools.smooth(x, 2), [1, 2, 3, 3.5, 4])
    np.testing.assert_allclose(tools.smooth(x, 0), x)


# ----------------------------------------------------------------------------------------
# File modes, corrupt files, missing checkpoints, script helpers
# ----------------------------------------------------------------------------------------
@pytest.fixture
def umask():
    """Set the process umask for one test (restored afterwards)."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


@pytest.mark.parametrize('mask', [0o022, 0o077, 0o002])
def test_atomic_files_get_the_mode_of_a_plain_open(tmp_path, umask, mask):
    umask(mask)
    with open(str(tmp_path / 'plain.txt'), 'w') as f:
        f.write('x')
    expected = os.stat(str(tmp_path / 'plain.txt')).st_mode & 0o777
    assert expected == 0o666 & ~mask
    tools.save_json({'a': 1}, str(tmp_path / 'hp.json'))
    tools.save_pickle([1], str(tmp_path / 'H.pkl'))
    tools.save_rng_state(np.random.RandomState(0), str(tmp_path / tools.RNG_FILE))
    for name in ('hp.json', 'H.pkl', tools.RNG_FILE):
        assert os.stat(str(tmp_path / name)).st_mode & 0o777 == expected, name


def test_rewriting_a_file_keeps_its_mode(tmp_path, umask):
    path = str(tmp_path / 'log.json')
    tools.save_json({'trials': [0]}, path)
    os.chmod(path, 0o640)
    tools.save_json({'trials': [0, 1280]}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_corrupt_model_files_name_the_file(tmp_path):
    (tmp_path / 'hp.json').write_text('{"n_rnn": ')
    (tmp_path / 'log.json').write_text('"trials"')
    with pytest.raises(tools.CorruptFileError, match='hp.json: not valid JSON') as err:
        tools.load_hp(str(tmp_path))
    assert err.value.path == str(tmp_path / 'hp.json')
    assert isinstance(err.value, ValueError) and isinstance(err.value, tools.UserError)
    with pytest.raises(tools.CorruptFileError, match='log.json: expected a JSON object, '
                                                     'found str'):
        tools.load_log(str(tmp_path))
    (tmp_path / 'H.pkl').write_bytes(pickle.dumps(list(range(100)))[:20])
    with pytest.raises(tools.CorruptFileError, match='H.pkl: not a complete pickle'):
        tools.load_pickle(str(tmp_path / 'H.pkl'))


def test_missing_model_is_a_file_not_found_error(tmp_path):
    with pytest.raises(tools.ModelNotFoundError) as err:
        tools.load_log(str(tmp_path))
    assert isinstance(err.value, FileNotFoundError) and 'No log.json' in str(err.value)


def test_missing_checkpoints(tmp_path):
    for trial in (0, 1280, 3840):
        folder = tmp_path / str(trial)
        folder.mkdir()
        (folder / (tools.CKPT_NAME + '.index')).write_bytes(b'')
    (tmp_path / '2560').mkdir()  # a folder without its checkpoint files
    log = {'trials': [0, 1280, 2560, 3840, 5120, 6400]}
    assert tools.missing_checkpoints(str(tmp_path), log) == [2560, 5120, 6400]
    assert tools.missing_checkpoints(str(tmp_path), {'trials': [0, 3840]}) == []
    message = tools.missing_checkpoints_message(str(tmp_path), [2560, 5120])
    assert '\n' not in message and message.endswith('trials 2560, 5120. Analyses of these '
                                                    'checkpoints will fail.')


def test_run_script_turns_user_errors_into_one_line_and_status_2(capsys):
    def corrupt(argv):
        raise tools.CorruptFileError('m/hp.json', 'not valid JSON (Expecting value)')

    def bug(argv):
        raise KeyError('a bug keeps its traceback')

    assert tools.run_script(corrupt) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.endswith(
        'error: Corrupt file m/hp.json: not valid JSON (Expecting value)\n')
    with pytest.raises(KeyError):
        tools.run_script(bug)
    assert tools.run_script(lambda argv: 130) == 130
    assert tools.run_script(lambda argv: {'figures': 3}) == 0


@pytest.mark.parametrize('fn, text, value', [
    (tools.positive_int, '3', 3), (tools.non_negative_int, '0', 0)])
def test_argparse_integer_types(fn, text, value):
    import argparse
    assert fn(text) == value
    with pytest.raises(argparse.ArgumentTypeError, match='is not'):
        fn('-1')
    with pytest.raises(argparse.ArgumentTypeError, match="'x' is not an integer"):
        fn('x')
