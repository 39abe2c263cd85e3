"""analysis.runner.ParallelBlocks: blocks run in a second process are shown, counted and
their failures stop the caller. (The module imports no TensorFlow, so the spawned process
starts in about a second.)"""

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
