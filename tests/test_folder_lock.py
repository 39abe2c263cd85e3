"""folder_lock: one writer per model folder (the training side is in test_train.py)."""

import errno
import os
import socket
import subprocess
import sys

import pytest

import folder_lock
import sweep


def test_a_held_lock_refuses_a_second_one_and_names_the_holder(tmp_path):
    with folder_lock.acquire(str(tmp_path)):
        # another open file description: refused as another process would be
        with pytest.raises(folder_lock.FolderLockedError,
                           match=r'process {} on host {} '.format(os.getpid(),
                                                                 socket.gethostname())):
            folder_lock.acquire(str(tmp_path))
        assert folder_lock.holder(str(tmp_path))['pid'] == os.getpid()
    assert folder_lock.holder(str(tmp_path)) is None
    assert not (tmp_path / folder_lock.LOCK_FILE).exists()


def _no_flock(monkeypatch):
    def fails(fd):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
    monkeypatch.setattr(folder_lock, '_try_lock', fails)


def test_without_flock_a_dead_process_lock_is_stale_and_a_live_one_blocks(
        tmp_path, monkeypatch, capsys):
    _no_flock(monkeypatch)
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    path = tmp_path / folder_lock.LOCK_FILE
    path.write_text('{{"pid": {}, "host": "{}", "started": 0}}'.format(
        dead.pid, socket.gethostname()))
    lock = folder_lock.acquire(str(tmp_path))
    assert 'had a stale lock of process {}'.format(dead.pid) in capsys.readouterr().err
    with pytest.raises(folder_lock.FolderLockedError, match='has no locks: if no such '
                                                            'process runs, remove'):
        folder_lock.acquire(str(tmp_path))          # this (live) process holds it
    lock.release()
    assert not path.exists()
    # a lock of another host: cannot be checked, so it blocks
    path.write_text('{"pid": 1, "host": "another-host", "started": 0}')
    with pytest.raises(folder_lock.FolderLockedError, match='process 1 on host another-host'):
        folder_lock.acquire(str(tmp_path))


def test_a_sweep_refuses_a_folder_in_training_before_it_starts(tmp_path):
    exp = sweep.Experiment('lr', 'a faster learning rate', {'learning_rate': 0.01},
                           'all_new')
    model_dir = exp.model_dir(str(tmp_path))
    os.makedirs(model_dir)
    with folder_lock.acquire(model_dir):
        with pytest.raises(folder_lock.FolderLockedError, match='is being trained by'):
            sweep.run_many([exp], root=str(tmp_path), max_trials=64, verbose=False)
    assert os.listdir(model_dir) == []
