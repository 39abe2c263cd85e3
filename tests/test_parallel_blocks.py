"""analysis.runner.ParallelBlocks: blocks run in a second process are shown, counted and
their failures stop the caller. (The module imports no TensorFlow, so the spawned process
starts in about a second.)"""

import os
import time

import pytest

from analysis import common, runner


def _block_ok():
    print('hello from the other process')
    return {'figures': ['a.png']}


def _block_unavailable():
    raise common.DataUnavailable('no mid checkpoint')


def _blocks(run, fail):
    run(_block_ok)
    run(_block_unavailable)
    if fail:
        raise ValueError('a bug in a parallel block')
    return 42


def test_output_counts_and_result_come_back():
    run = runner.BlockRunner()
    run(_block_ok)
    with runner.ParallelBlocks(_blocks, False) as other:
        assert other.join(run) == 42
    assert run.done == 2
    assert run.skipped == ['_block_unavailable']
    assert run.reasons['_block_unavailable'] == 'no mid checkpoint'
    assert set(run.seconds) == {'_block_ok', '_block_unavailable'}


def test_output_is_shown_and_a_failure_is_raised(capsys):
    with runner.ParallelBlocks(_blocks, True) as other:
        with pytest.raises(RuntimeError, match='exit status 1'):
            other.join(runner.BlockRunner())
    out = capsys.readouterr().out
    assert out.index('== output of the blocks run in parallel:') < out.index(
        'hello from the other process')
    assert '[skipped] _block_unavailable: no mid checkpoint' in out    # its stderr, too
    assert 'ValueError: a bug in a parallel block' in out


def _session_threads(run):
    return common.SESSION_THREADS


def test_both_processes_use_one_tensorflow_thread_while_they_share_the_cores():
    assert common.SESSION_THREADS is None                  # TensorFlow's default
    with runner.ParallelBlocks(_session_threads) as other:
        assert common.SESSION_THREADS == 1
        assert other.join(runner.BlockRunner()) == 1
    assert common.SESSION_THREADS is None


def _shared_block(k, log_path):
    with open(log_path, 'a') as f:
        f.write('{} {}\n'.format(k, os.getpid()))


def _wait_for(run, path):
    while not os.path.exists(path):
        time.sleep(0.05)
    return 'waited'


def _ran(log_path):
    """[(block k, pid of the process that ran it)] in the order they ran."""
    return [line.split() for line in open(log_path)] if os.path.exists(log_path) else []


def test_shared_blocks_run_once_each_by_the_process_free_first(tmp_path):
    """The other process is held by its own block: this one takes every shared block;
    released, the other finds none left. Each shared block is counted once."""
    log_path, go = str(tmp_path / 'ran.txt'), str(tmp_path / 'go')
    shared = runner.BlockQueue()
    for k in range(3):
        shared(_shared_block, k, log_path)
    run = runner.BlockRunner()
    with runner.ParallelBlocks(_wait_for, go, shared=shared.blocks) as other:
        assert other.run_shared(run) == 3
        open(go, 'w').close()
        assert other.join(run) == 'waited'
    assert _ran(log_path) == [[str(k), str(os.getpid())] for k in range(3)]
    assert run.done == 3 and list(run.seconds) == ['_shared_block 0', '_shared_block 1',
                                                   '_shared_block 2']


def test_shared_blocks_left_to_the_other_process_run_there(tmp_path):
    log_path = str(tmp_path / 'ran.txt')
    shared = runner.BlockQueue()
    for k in range(2):
        shared(_shared_block, k, log_path)
    run = runner.BlockRunner()
    with runner.ParallelBlocks(_session_threads, shared=shared.blocks) as other:
        other.join(run)                      # this process takes none: the other runs both
        assert other.run_shared(run) == 0
    ran = _ran(log_path)
    assert [k for k, _ in ran] == ['0', '1'] and all(pid != str(os.getpid()) for _, pid in ran)
    assert run.done == 2


def test_a_queue_run_here_keeps_its_order():
    calls = []
    queue = runner.BlockQueue()
    queue(calls.append, 'a')
    queue(calls.append, 'b')
    assert len(queue) == 2 and calls == []
    run = runner.BlockRunner()
    queue.run_all(run)
    assert calls == ['a', 'b'] and run.done == 2
