"""File I/O and small helpers shared by training and analysis.

Everything that touches disk goes through here so that hp.json, log.json and the
pickles are written atomically (temporary file in the same folder + os.replace): an
interrupted run never leaves a half-written file behind. The errors a user can fix (an
unusable hp, a corrupt file, a model folder that is not one) are defined here too, so
that every script reports them the same way (see run_script).

This module imports no TensorFlow: the scripts use it before parsing their arguments.
Importing it hooks TensorFlow's later import so that its start-up notices stay off the
console (tf_quiet.py): every entry point imports tools first.
"""

import argparse
import contextlib
import errno
import json
import logging
import os
import pickle
import shutil
import sys
import tempfile

import numpy as np

import tf_quiet

tf_quiet.install()

HP_FILE = 'hp.json'
LOG_FILE = 'log.json'
CKPT_NAME = 'model.ckpt'
RNG_FILE = 'train_rng.json'


# ----------------------------------------------------------------------------------------
# Errors a user can fix: scripts print them as one line and exit with status 2
# ----------------------------------------------------------------------------------------
class UserError(Exception):
    """Base of the errors caused by the input (an hp, a model folder or a file in it), not
    by a bug in the code. ``run_script`` prints the message as one line, exit status 2."""


class InvalidHpError(UserError, ValueError):
    """An hp key or value the code cannot use; the message names the valid choices."""


class ModelFolderError(UserError):
    """A model folder, or a file in it, cannot be used as asked. Attribute ``path``."""

    def __init__(self, path, message):
        super().__init__(message)
        self.path = path


class ModelNotFoundError(ModelFolderError, FileNotFoundError):
    """No model folder, or no hp.json / log.json in it."""


class NotAModelFolderError(ModelFolderError, NotADirectoryError):
    """The path given as a model folder is a regular file."""

    def __init__(self, path):
        super().__init__(path, '{!r} is a file, not a model folder; give a folder (it is '
                               'created if it does not exist)'.format(path))


class CorruptFileError(ModelFolderError, ValueError):
    """A file of a model folder (hp.json, log.json, train_rng.json, a pickle) cannot be
    read. Attributes ``path`` and ``reason`` (what is wrong)."""

    def __init__(self, path, reason):
        super().__init__(path, 'Corrupt file {}: {}'.format(path, reason))
        self.reason = reason


class DamagedCheckpointError(ModelFolderError, ValueError):
    """A checkpoint folder whose files do not restore (truncated, overwritten, a file
    missing). Attributes ``path`` (the checkpoint folder) and ``reason``."""

    def __init__(self, path, reason):
        super().__init__(path, 'Checkpoint {} does not restore: {}'.format(path, reason))
        self.reason = reason


class HpMismatchError(ModelFolderError, ValueError):
    """A model folder holds a run whose hp.json differs from the hp asked for.

    Attribute ``differences``: [(key, saved value, new value)] sorted by key.
    """

    def __init__(self, model_dir, differences):
        diffs = '; '.join('{}: saved {!r}, new {!r}'.format(k, old, new)
                          for k, old, new in differences)
        super().__init__(model_dir, 'Model folder {!r} already holds a run with different '
                                    'hyper-parameters ({}). Use another model folder, or '
                                    'the same hp to resume it.'.format(model_dir, diffs))
        self.differences = list(differences)


# What to do about a storage error, by errno (StorageError).
STORAGE_ADVICE = {
    errno.ENOSPC: 'free some space on that disk',
    errno.EDQUOT: 'free some space or ask for a larger quota',
    errno.EFBIG: 'free some space or use a file system that takes larger files',
    errno.EACCES: 'make the folder writable for you (or use another folder)',
    errno.EPERM: 'make the folder writable for you (or use another folder)',
    errno.EROFS: 'use a folder on a writable file system (or remount it read-write)',
}


class StorageError(UserError, OSError):
    """Saving into a folder failed for a reason of the storage, not of the code: no space
    left, quota, permission denied, read-only file system. Exit status 1 (the run may be
    resumed once the reason is gone). Attributes ``folder``, ``errno``, ``strerror``."""

    status = 1

    def __init__(self, folder, code, detail=''):
        OSError.__init__(self, code, os.strerror(code))
        self.folder = folder
        self.message = ('Cannot save in {}: {}{}. {}, then run the same command again: it '
                        'continues from the last complete checkpoint.'.format(
                            folder, os.strerror(code), ' ({})'.format(detail) if detail
                            else '', STORAGE_ADVICE[code].capitalize()))

    def __str__(self):
        return self.message


def storage_error(folder, exc):
    """StorageError for an OSError whose errno is a storage problem (STORAGE_ADVICE), else
    None; an existing StorageError is returned as is."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError) and exc.errno in STORAGE_ADVICE:
        return StorageError(folder, exc.errno)
    return None


def run_script(main, argv=None):
    """Exit status of a script's ``main(argv)``.

    An int returned by main is the status (None or any other value: 0). A UserError is
    printed as one line '<script>: error: <message>' on stderr (no traceback): status 2,
    as argparse gives for bad arguments (or the error's ``status``: 1 for a StorageError).
    """
    try:
        status = main(argv)
    except UserError as exc:
        prog = os.path.basename(sys.argv[0]) or 'python'
        print('{}: error: {}'.format(prog, ' '.join(str(exc).split('\n'))),
              file=sys.stderr)
        return getattr(exc, 'status', 2)
    return status if isinstance(status, int) and not isinstance(status, bool) else 0


def positive_int(text):
    """argparse type: an integer ≥ 1."""
    return _bounded_int(text, 1, 'a positive integer')


def non_negative_int(text):
    """argparse type: an integer ≥ 0."""
    return _bounded_int(text, 0, 'an integer ≥ 0')


def _bounded_int(text, low, what):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('{!r} is not an integer'.format(text)) from None
    if value < low:
        raise argparse.ArgumentTypeError('{} is not {}'.format(value, what))
    return value


# ----------------------------------------------------------------------------------------
# Atomic writes
# ----------------------------------------------------------------------------------------
def _current_umask():
    """The process umask. Read from /proc where possible: setting and restoring it (the
    only portable way) would briefly change it for the other threads too."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_file_mode(path):
    """The mode a plain open(path, 'w') would leave: the existing file's, else 0666 &
    ~umask (mkstemp creates its temporary file with 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_current_umask()


def _atomic_write(path, write, mode='w'):
    """Write a file through ``write(fileobj)`` into a temp file, then os.replace it.

    The file gets the mode a plain open() would give it (see _new_file_mode). A storage
    problem (full disk, permission denied, read-only file system) raises StorageError
    naming the folder; the file is then as it was and no temporary file is left.
    """
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mkdir_p(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.',
                                   suffix='.tmp')
    except OSError as exc:
        raise storage_error(folder, exc) or exc
    try:
        with os.fdopen(fd, mode) as f:
            os.chmod(tmp, _new_file_mode(path))
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(exc, OSError) and storage_error(folder, exc) is not None:
            raise storage_error(folder, exc) from None
        raise


def _json_default(obj):
    """json.dump fallback for numpy scalars and arrays."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError('Object of type {} is not JSON serialisable'.format(type(obj).__name__))


def save_json(obj, path):
    """Atomically write ``obj`` as JSON (numpy scalars/arrays converted)."""
    _atomic_write(path, lambda f: json.dump(obj, f, default=_json_default))


def save_text(text, path):
    """Atomically write a text file (UTF-8, '\n' line ends)."""
    _atomic_write(path, lambda f: f.write(text.encode('utf-8')), mode='wb')


def save_pickle(obj, path):
    """Atomically pickle ``obj`` to ``path``."""
    _atomic_write(path, lambda f: pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL),
                  mode='wb')


def load_pickle(path):
    """Load a pickle; falls back to latin-1 decoding for pickles written by Python 2.

    Raises FileNotFoundError with the path if the file does not exist, CorruptFileError
    if it is not a complete pickle.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError('No such pickle: {}'.format(path))
    with open(path, 'rb') as f:
        try:
            try:
                return pickle.load(f)
            except UnicodeDecodeError:
                f.seek(0)
                return pickle.load(f, encoding='latin1')
        except (EOFError, pickle.UnpicklingError) as exc:
            raise CorruptFileError(path, 'not a complete pickle ({})'.format(
                exc or type(exc).__name__)) from None


def replace_dir(src, dst):
    """Rename folder src to dst. An existing dst is moved to a hidden name first and
    removed after the rename (so that dst is at every moment either the old folder or the
    new one). A storage problem raises StorageError."""
    parent = os.path.dirname(os.path.abspath(dst))
    old = None
    try:
        if os.path.isdir(dst):
            old = os.path.join(parent, '.{}.replaced.{}'.format(os.path.basename(dst),
                                                                 os.getpid()))
            os.rename(dst, old)
        os.rename(src, dst)
    except OSError as exc:
        raise storage_error(parent, exc) or exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def move_aside(path, suffix):
    """Rename path to path + suffix (+ '.2', '.3', … if taken); returns the new name.
    A storage problem raises StorageError."""
    target, n = path + suffix, 1
    while os.path.exists(target):
        n += 1
        target = '{}{}.{}'.format(path, suffix, n)
    try:
        os.rename(path, target)
    except OSError as exc:
        raise storage_error(os.path.dirname(os.path.abspath(path)), exc) or exc
    return target


def mkdir_p(path):
    """Create a folder and its parents; no error if it exists."""
    try:
        os.makedirs(path)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(path):
            raise


# ----------------------------------------------------------------------------------------
# hp and log
# ----------------------------------------------------------------------------------------
def hp_to_json(hp):
    """The JSON-able form of hp as saved in hp.json (no 'rng')."""
    hp_copy = {k: v for k, v in hp.items() if k != 'rng'}
    return json.loads(json.dumps(hp_copy, default=_json_default))


def save_hp(hp, model_dir):
    """Save hp (without the RandomState) to model_dir/hp.json atomically."""
    save_json(hp_to_json(hp), os.path.join(model_dir, HP_FILE))


def load_hp(model_dir):
    """Load model_dir/hp.json and add ``rng = RandomState(seed + 1000)``.

    The +1000 keeps analyses from replaying the training draws. Raises
    ModelNotFoundError (a FileNotFoundError) naming the trained models nearby if there is
    no hp.json, CorruptFileError if it is not a JSON object.
    """
    fname = os.path.join(model_dir, HP_FILE)
    if not os.path.isfile(fname):
        raise ModelNotFoundError(model_dir, _missing_model_message(model_dir, HP_FILE))
    hp = _load_json_object(fname)
    hp['rng'] = np.random.RandomState(hp.get('seed', 0) + 1000)
    return hp


def save_log(log, model_dir=None):
    """Save the training log to <model_dir or log['model_dir']>/log.json atomically."""
    model_dir = log['model_dir'] if model_dir is None else model_dir
    save_json(dict(log), os.path.join(model_dir, LOG_FILE))


def load_log(model_dir):
    """Load model_dir/log.json (dict of lists).

    Raises ModelNotFoundError (a FileNotFoundError) if there is none, CorruptFileError if
    it is not a JSON object or its 'trials' is not a list of trial numbers.
    """
    fname = os.path.join(model_dir, LOG_FILE)
    if not os.path.isfile(fname):
        raise ModelNotFoundError(model_dir, _missing_model_message(model_dir, LOG_FILE))
    log = _load_json_object(fname)
    trials = log.get('trials', [])
    if not (isinstance(trials, list) and all(
            isinstance(t, int) and not isinstance(t, bool) for t in trials)):
        raise CorruptFileError(fname, "'trials' is not a list of trial numbers")
    return log


def _load_json_object(path):
    """The JSON object (dict) in path; CorruptFileError naming the file otherwise."""
    try:
        with open(path, 'r') as f:
            obj = json.load(f)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise CorruptFileError(path, 'not valid JSON ({})'.format(exc)) from None
    if not isinstance(obj, dict):
        raise CorruptFileError(path, 'expected a JSON object, found {}'.format(
            type(obj).__name__))
    return obj


def _missing_model_message(model_dir, what):
    parent = os.path.dirname(os.path.normpath(model_dir)) or '.'
    found = valid_model_dirs(parent) if os.path.isdir(parent) else []
    msg = 'No {} in model folder {!r}.'.format(what, model_dir)
    if not os.path.isdir(model_dir):
        msg = 'Model folder {!r} does not exist.'.format(model_dir)
    if found:
        msg += ' Trained models under {!r}: {}.'.format(parent, ', '.join(found))
    else:
        msg += ' Train one first with `python Main_training.py --modeldir {}`.'.format(
            model_dir)
    return msg


def save_rng_state(rng, path):
    """Save a numpy RandomState's full state as JSON (atomic)."""
    name, keys, pos, has_gauss, cached = rng.get_state()
    save_json({'name': name, 'keys': keys.tolist(), 'pos': int(pos),
               'has_gauss': int(has_gauss), 'cached_gaussian': float(cached)}, path)


def load_rng_state(path):
    """Return a RandomState whose state was saved by save_rng_state.

    Raises CorruptFileError naming the file if it does not hold such a state.
    """
    s = _load_json_object(path)
    rng = np.random.RandomState()
    try:
        rng.set_state((s['name'], np.array(s['keys'], dtype=np.uint32), s['pos'],
                       s['has_gauss'], s['cached_gaussian']))
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptFileError(path, 'not a saved random state ({}: {})'.format(
            type(exc).__name__, exc)) from None
    return rng


# ----------------------------------------------------------------------------------------
# Model folders and checkpoints
# ----------------------------------------------------------------------------------------
def checkpoint_dir(model_dir, trial):
    """Folder of the checkpoint saved after ``trial`` training trials."""
    return os.path.join(model_dir, str(int(trial)))


def has_checkpoint(folder):
    return os.path.isfile(os.path.join(folder, CKPT_NAME + '.index'))


def list_checkpoints(model_dir):
    """Sorted trial numbers of the checkpoint folders in model_dir."""
    if not os.path.isdir(model_dir):
        return []
    trials = [int(d) for d in os.listdir(model_dir)
              if d.isdigit() and has_checkpoint(os.path.join(model_dir, d))]
    return sorted(trials)


def missing_checkpoints(model_dir, log):
    """Sorted trial numbers of log['trials'] whose checkpoint folder holds no checkpoint
    (deleted or never completed): analyses of them would fail."""
    return sorted({int(t) for t in log.get('trials', [])
                   if not has_checkpoint(checkpoint_dir(model_dir, t))})


def missing_checkpoints_message(model_dir, missing):
    """The one-line warning naming the missing checkpoints (from missing_checkpoints)."""
    return ('Warning: {} checkpoint(s) listed in {} are missing from {}: trials {}. '
            'Analyses of these checkpoints will fail.'.format(
                len(missing), LOG_FILE, model_dir, ', '.join(str(t) for t in missing)))


def is_valid_model_dir(model_dir):
    """A model folder holds hp.json and log.json."""
    return (os.path.isfile(os.path.join(model_dir, HP_FILE)) and
            os.path.isfile(os.path.join(model_dir, LOG_FILE)))


def valid_model_dirs(root_dir):
    """Sorted paths of the model folders directly under root_dir."""
    if not os.path.isdir(root_dir):
        return []
    dirs = [os.path.join(root_dir, d) for d in sorted(os.listdir(root_dir))]
    return [d for d in dirs if os.path.isdir(d) and is_valid_model_dir(d)]


def find_model(root_dir, hp_target, perf_min=None):
    """First model folder under root_dir whose hp matches every item of hp_target.

    perf_min: if given, the model's final log['perf_min'] must be at least this.
    Raises FileNotFoundError naming the models that were looked at if none matches.
    """
    candidates = valid_model_dirs(root_dir)
    for d in candidates:
        hp = load_hp(d)
        if all(hp.get(k) == v for k, v in hp_target.items()):
            if perf_min is not None:
                log = load_log(d)
                if not log.get('perf_min') or log['perf_min'][-1] < perf_min:
                    continue
            return d
    raise FileNotFoundError('No model under {!r} matches {} (looked at: {})'.format(
        root_dir, hp_target, ', '.join(candidates) or 'none'))


# ----------------------------------------------------------------------------------------
# Small numerical helpers
# ----------------------------------------------------------------------------------------
# TensorFlow feeds an array without copying it only if its data is aligned to 64 bytes
# (Eigen's alignment); numpy's large allocations are aligned to 16.
FEED_ALIGNMENT = 64


def aligned_empty(shape, dtype=np.float32):
    """An uninitialised C-contiguous array whose data starts on a FEED_ALIGNMENT boundary,
    so that Session.run feeds it in place (a misaligned 90-MB evaluation batch costs a
    15-ms copy per feed)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    spare = FEED_ALIGNMENT // dtype.itemsize
    buffer = np.empty(n + spare, dtype)
    start = (-buffer.ctypes.data % FEED_ALIGNMENT) // dtype.itemsize
    return buffer[start:start + n].reshape(shape)


def gen_feed_dict(model, trial, hp):
    """Feed dict {x, y, c_mask} for a Trial (only in_type 'normal' is supported)."""
    if hp.get('in_type', 'normal') != 'normal':
        raise ValueError("Unknown in_type {!r}; valid choices: ['normal']".format(
            hp['in_type']))
    return {model.x: trial.x, model.y: trial.y, model.c_mask: trial.c_mask}


def gen_ortho_matrix(dim, rng=None):
    """Random orthogonal (dim, dim) matrix as a product of Householder reflections.

    The recipe of the old scipy.stats.ortho_group; the draws (rng.normal of sizes dim,
    dim-1, ..., 2) and the float64 arithmetic are kept so that the same rng state gives
    the same matrix as the original suite.
    """
    normal = np.random.normal if rng is None else rng.normal
    H = np.eye(dim)
    for n in range(1, dim):
        v = normal(size=(dim - n + 1,))
        s = np.sign(v[0])
        v[0] += s * np.sqrt((v * v).sum())
        block = -s * (np.eye(dim - n + 1) - 2. * np.outer(v, v) / (v * v).sum())
        mat = np.eye(dim)
        mat[n - 1:, n - 1:] = block
        H = np.dot(H, mat)
    return H


def smooth(x, window):
    """Forward moving average: value i is mean(x[i : i + window + 1]) (same length)."""
    x = np.asarray(x, dtype=float)
    if window <= 0 or x.size == 0:
        return x.copy()
    csum = np.concatenate([[0.], np.cumsum(x)])
    idx = np.arange(x.size)
    end = np.minimum(idx + window + 1, x.size)
    return (csum[end] - csum[idx]) / (end - idx)



# ----------------------------------------------------------------------------------------
# Notices to the user
# ----------------------------------------------------------------------------------------
# A notice (a figure without data, a stage filled another way, checkpoints missing on
# disk) goes through the standard logging module: printed on stderr as '[analysis] ...'
# by the handler below, and seen by whoever listens (collect_notes), e.g. the block
# runner, which quotes a block's notices as the reason it drew nothing.
NOTICE_LOGGER = logging.getLogger('rnn_brain_maturation.notice')


class _StderrHandler(logging.Handler):
    """Prints to the sys.stderr of the moment (a notebook's or pytest's replaced stream
    included), not the one there was when the handler was made."""

    def emit(self, record):
        print('[analysis] ' + record.getMessage(), file=sys.stderr, flush=True)


if not NOTICE_LOGGER.handlers:
    NOTICE_LOGGER.addHandler(_StderrHandler(logging.INFO))
    NOTICE_LOGGER.setLevel(logging.INFO)
    NOTICE_LOGGER.propagate = False


def note(msg):
    """A user-facing notice on stderr, '[analysis] <msg>' (see collect_notes)."""
    NOTICE_LOGGER.info(msg)


class _NoteList(logging.Handler):
    def __init__(self, notes):
        super().__init__(logging.INFO)
        self.notes = notes

    def emit(self, record):
        self.notes.append(record.getMessage())


@contextlib.contextmanager
def collect_notes():
    """Within the block, the notices given (note) are also appended to the list yielded."""
    notes = []
    handler = _NoteList(notes)
    NOTICE_LOGGER.addHandler(handler)
    try:
        yield notes
    finally:
        NOTICE_LOGGER.removeHandler(handler)
