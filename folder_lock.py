"""One writer per model folder: the lock a training run holds on its folder.

The lock is <model_dir>/train.lock, locked with flock (fcntl; msvcrt on Windows) while a
run writes the folder, and holding who holds it: {"pid", "host", "started", "command"}.
The kernel releases such a lock when its process ends in any way — kill -9 included —
and an NFS server when the client that held it is gone (power loss, after its lease). So
a lock file that can be locked is free by definition: if it still names a process (which
never released it), that process is gone and the lock is taken over, with one line
saying so. A finished run removes the file.

Where the file system has no locks (flock fails with ENOLCK / EOPNOTSUPP), the file is
created with O_EXCL instead and a lock of this host whose process is gone is stale; a
lock from another host then blocks until removed by hand (the message says so).

Analyses never take the lock: they read only complete checkpoints (train.py saves a
checkpoint into a temporary folder and renames it; log.json is written after it).
"""

import errno
import json
import os
import socket
import sys
import time

import tools

try:
    import fcntl
except ImportError:            # Windows
    fcntl = None
    import msvcrt

LOCK_FILE = 'train.lock'
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


class FolderLockedError(tools.UserError):
    """The model folder is being written by another live process (exit status 2).
    Attributes ``path`` (the folder) and ``holder`` (the lock's dict, maybe empty)."""

    def __init__(self, path, holder, hint=''):
        who = describe(holder) if holder else 'another process (starting up)'
        super().__init__('Model folder {!r} is being trained by {}. Wait for it to finish, '
                         'or stop it, or use another folder.{}'.format(path, who, hint))
        self.path = path
        self.holder = holder


def describe(holder):
    """'process 1234 on host lab-3 (started 2025-01-02 10:11:12: python Main_training.py)'"""
    started = holder.get('started')
    when = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started)) if started else '?'
    command = holder.get('command')
    return 'process {} on host {} (started {}{})'.format(
        holder.get('pid', '?'), holder.get('host', '?'), when,
        ': ' + command if command else '')


def _me():
    return {'pid': os.getpid(), 'host': socket.gethostname(), 'started': time.time(),
            'command': ' '.join([os.path.basename(sys.argv[0] or 'python')] + sys.argv[1:])
            [:200]}


def _read(fd):
    """The holder dict written in the open lock file ({} if empty or unreadable)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = b''
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        holder = json.loads(data.decode('utf-8')) if data.strip() else {}
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}


def _write(fd, holder):
    data = json.dumps(holder).encode('utf-8')
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.fsync(fd)


def _try_lock(fd):
    """True if this process now holds the kernel lock on fd, False if another does;
    OSError if the file system has no locks."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK):
            return False
        raise
    return True


class FolderLock(object):
    """The lock of one model folder, held until release() (or the end of a with-block)."""

    def __init__(self, model_dir, fd, path, previous=None):
        self.model_dir = model_dir
        self.path = path
        self._fd = fd
        self.previous = previous   # the stale holder taken over, or None

    def release(self):
        """Remove the lock file and unlock (idempotent)."""
        if self.path is None:
            return
        path, self.path = self.path, None
        fd, self._fd = self._fd, None
        try:
            if fd is not None and fcntl is not None:
                if _same_file(fd, path):
                    os.remove(path)        # while locked: nobody takes a removed file
                os.close(fd)
            else:
                if fd is not None:
                    os.close(fd)
                os.remove(path)
        except OSError:
            pass                           # a full disk or read-only folder: the kernel
            #                                lock is gone anyway; the file is stale

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False


def _same_file(fd, path):
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def acquire(model_dir, verbose=True):
    """Take the lock of model_dir (which must exist) for this process.

    Raises FolderLockedError naming the process and host that hold it. A stale lock (left
    by a process killed or a machine that lost power) is taken over; with verbose one line
    on stderr says whose it was. Returns a FolderLock.
    """
    path = os.path.join(model_dir, LOCK_FILE)
    for _ in range(10):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise tools.storage_error(model_dir, exc) or exc
        try:
            locked = _try_lock(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in _NO_LOCKS:
                return _acquire_without_locks(model_dir, path, verbose)
            raise
        if not locked:
            holder = _read(fd)
            os.close(fd)
            raise FolderLockedError(model_dir, holder)
        if fcntl is not None and not _same_file(fd, path):
            os.close(fd)          # the holder removed it as we opened it: take the new one
            continue
        previous = _read(fd) or None
        try:
            _write(fd, _me())
        except OSError as exc:
            os.close(fd)
            raise tools.storage_error(model_dir, exc) or exc
        lock = FolderLock(model_dir, fd, path, previous)
        if previous and verbose:
            _say_taken_over(model_dir, previous)
        return lock
    raise FolderLockedError(model_dir, {})


def _say_taken_over(model_dir, previous):
    print('Note: {} had a stale lock of {}, which no longer runs; taken over.'.format(
        model_dir, describe(previous)), file=sys.stderr, flush=True)


def _alive_here(holder):
    """Whether the holder is a live process of this host (True when unsure)."""
    if holder.get('host') != socket.gethostname():
        return True
    pid = holder.get('pid')
    if not isinstance(pid, int) or os.name == 'nt':
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _acquire_without_locks(model_dir, path, verbose):
    """O_EXCL fallback for file systems without flock."""
    for _ in range(10):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            holder = _read(fd)
            os.close(fd)
            if holder and not _alive_here(holder):
                if verbose:
                    _say_taken_over(model_dir, holder)
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass
                continue
            raise FolderLockedError(model_dir, holder, hint=' (This file system has no '
                                    'locks: if no such process runs, remove {}.)'.format(path))
        _write(fd, _me())
        os.close(fd)
        return FolderLock(model_dir, None, path)
    raise FolderLockedError(model_dir, {})


def holder(model_dir):
    """The holder dict of a live lock on model_dir, or None if it is free (nothing is
    changed; for checks before starting work, such as a sweep's)."""
    path = os.path.join(model_dir, LOCK_FILE)
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        try:
            locked = _try_lock(fd)
        except OSError:
            holder = _read(fd)
            return holder if holder and _alive_here(holder) else None
        if locked:
            return None            # closing fd releases it again
        return _read(fd)
    finally:
        os.close(fd)


def check_free(model_dir):
    """Raise FolderLockedError if a live process holds model_dir's lock."""
    found = holder(model_dir)
    if found is not None:
        raise FolderLockedError(model_dir, found)
