"""Damaged checkpoints in the analyses: left out with one line each, counted in the
summary, nothing moved (the training side is in test_train.py)."""

import os

import pytest

import tools
from analysis import activity, damage, session
from analysis.runner import BlockRunner, log_on_disk

DATA = tools.CKPT_NAME + '.data-00000-of-00001'


@pytest.fixture
def fresh_registry():
    """An analysis session of the test's own: its list of damaged checkpoints."""
    with session.Session() as s:
        yield s.damaged


def test_a_truncated_checkpoint_is_left_out_of_the_log_with_one_line(
        model_copy, fresh_registry, capsys):
    log = tools.load_log(model_copy)
    with open(os.path.join(model_copy, '256', DATA), 'r+b') as f:
        f.truncate(100)
    with open(os.path.join(model_copy, '512', tools.CKPT_NAME + '.index'), 'r+b') as f:
        f.truncate(10)
    kept = log_on_disk(model_copy, log)
    assert 256 not in kept['trials'] and 512 not in kept['trials']
    assert len(kept['trials']) == len(log['trials']) - 2
    assert len(kept['perf_odr']) == len(kept['trials'])
    err = capsys.readouterr().err.splitlines()
    assert err == [
        '[skipped] checkpoint 256 of {} does not restore ({} holds 100 bytes, its index '
        'lists {} (truncated)); the analyses leave it out'.format(
            model_copy, DATA, os.path.getsize(os.path.join(model_copy, '0', DATA))),
        '[skipped] checkpoint 512 of {} does not restore (model.ckpt.index unreadable: '
        'file is too short to be an sstable); the analyses leave it out'.format(model_copy)]
    # the summary counts them; nothing was moved
    assert BlockRunner().summary().splitlines()[-1] == (
        '  2 damaged checkpoint(s) left out: {} 256, 512'.format(os.path.normpath(model_copy)))
    assert os.path.isdir(os.path.join(model_copy, '256'))
    log_on_disk(model_copy, log)
    assert capsys.readouterr().err == ''          # named once per process


def test_a_checkpoint_that_fails_its_checksum_is_skipped_where_it_is_restored(
        model_copy, fresh_registry, capsys):
    hp = tools.load_hp(model_copy)
    path = os.path.join(model_copy, '128', DATA)
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:                  # same size: only restoring tells
        f.seek(16)
        f.write(b'\xff' * (size - 32))
    assert damage.screen(model_copy, [0, 128, 256], fresh_registry) == []
    got = [t for t, _ in activity.iter_H(hp, model_copy, {0: ['odr'], 128: ['odr'],
                                                          256: ['odr']},
                                         verbose=False, keep=False)]
    assert got == [0, 256]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith('[skipped] checkpoint 128 of')
    assert 'Checksum does not match' in err[0]
    assert fresh_registry.trials(model_copy) == [128]
    with pytest.raises(activity.DamagedCheckpoint, match='Checkpoint 128 of .* does not '
                                                          'restore'):
        activity.Get_H(hp, model_copy, 128, 'odr')
