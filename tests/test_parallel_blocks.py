"""analysis.runner.ParallelBlocks: blocks run in a second process are shown, counted, send
their results back, and their failures stop the caller. (These blocks import no
TensorFlow, so the spawned process starts in about a second.)"""

import os
import time

import pytest

from analysis import common, runner, session


def _block_ok():
    print('hello from the other process')
    return {'figures': ['a.png']}


def _block_unavailable():
    raise common.DataUnavailable('no mid checkpoint')


def _block_fail():
    raise ValueError('a bug in a parallel block')


def test_output_counts_and_results_come_back():
    run = runner.BlockRunner()
    run(_block_ok)
    with runner.ParallelBlocks([(_block_ok, (), {}), (_block_unavailable, (), {})]) as other:
        assert other.join(run) == {'blocks': [{'figures': ['a.png']}, None], 'shared': {}}
    assert run.done == 2
    assert run.skipped == ['_block_unavailable']
    assert run.reasons['_block_unavailable'] == 'no mid checkpoint'
    assert set(run.seconds) == {'_block_ok', '_block_unavailable'}


def test_output_is_shown_and_a_failure_is_raised(capsys):
    blocks = [(_block_ok, (), {}), (_block_unavailable, (), {}), (_block_fail, (), {})]
    with runner.ParallelBlocks(blocks) as other:
        with pytest.raises(RuntimeError, match='exit status 1'):
            other.join(runner.BlockRunner())
    out = capsys.readouterr().out
    assert out.index('== output of the blocks run in parallel:') < out.index(
        'hello from the other process')
    assert '[skipped] _block_unavailable: no mid checkpoint' in out    # its stderr, too
    assert 'ValueError: a bug in a parallel block' in out


def _session_settings():
    s = session.current()
    return (s.threads, s.figure_root)


def test_the_other_process_runs_in_a_session_of_one_thread_and_the_same_figure_folder(
        tmp_path):
    with runner.ParallelBlocks([(_session_settings, (), {})],
                               figure_root=str(tmp_path)) as other:
        assert other.join(runner.BlockRunner())['blocks'] == [(1, str(tmp_path))]


def _shared_block(k, log_path):
    with open(log_path, 'a') as f:
        f.write('{} {}\n'.format(k, os.getpid()))
    return k


def _wait_for(path):
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
    shared = [(_shared_block, (k, log_path), {}) for k in range(3)]
    run = runner.BlockRunner()
    with runner.ParallelBlocks([(_wait_for, (go,), {})], shared=shared) as other:
        assert other.run_shared(run) == {0: 0, 1: 1, 2: 2}
        open(go, 'w').close()
        assert other.join(run) == {'blocks': ['waited'], 'shared': {}}
    assert _ran(log_path) == [[str(k), str(os.getpid())] for k in range(3)]
    assert run.done == 4 and list(run.seconds) == [
        '_shared_block 0', '_shared_block 1', '_shared_block 2', '_wait_for']


def test_shared_blocks_left_to_the_other_process_run_there(tmp_path):
    log_path = str(tmp_path / 'ran.txt')
    shared = [(_shared_block, (k, log_path), {}) for k in range(2)]
    run = runner.BlockRunner()
    with runner.ParallelBlocks([], shared=shared) as other:
        # this process takes none: the other runs both, and sends their results back
        assert other.join(run) == {'blocks': [], 'shared': {0: 0, 1: 1}}
        assert other.run_shared(run) == {}
    ran = _ran(log_path)
    assert [k for k, _ in ran] == ['0', '1'] and all(pid != str(os.getpid()) for _, pid in ran)
    assert run.done == 2
