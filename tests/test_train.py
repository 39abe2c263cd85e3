"""train.py: defaults, evaluation draw order, files on disk, resume, Ctrl-C, errors."""

import errno
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import Main_training
import task
import tools
import train

TINY = {'n_rnn': 16, 'activation': 'softplus', 'batch_size_test': 32}
LOG_KEYS = {'trials', 'times', 'perf_avg', 'perf_min', 'growth', 'model_dir'} | {
    '{}_{}'.format(k, r) for k in ('cost', 'creg', 'perf') for r in task.rules_dict['all_new']}


def run(model_dir, max_trials, **kw):
    kw.setdefault('hp', TINY)
    kw.setdefault('display_step', 2)
    return train.train(str(model_dir), max_steps=max_trials, seed=5, verbose=False, **kw)


@pytest.fixture(scope='module')
def finished_runs(tmp_path_factory):
    """{trials: (folder, log)} of run(folder, trials) for 128 and 512 trials, trained once
    for the tests that read a finished run or work on a copy of it (copy_run)."""
    root = tmp_path_factory.mktemp('finished')
    return {n: (root / str(n), run(root / str(n), n)) for n in (128, 512)}


def copy_run(finished_runs, trials, dst):
    """Copy the finished run of ``trials`` trials to dst (a new folder); returns its log."""
    src, log = finished_runs[trials]
    shutil.copytree(str(src), str(dst))
    return log


def test_default_hp_matches_spec():
    hp = train.get_default_hp('all_new')
    assert hp['n_input'] == 1 + 8 + 6 and hp['n_output'] == 9 and hp['rule_start'] == 9
    assert (hp['alpha'], hp['dt'], hp['tau']) == (0.2, 20, 100)
    assert hp['activation'] == 'relu' and hp['n_rnn'] == 256
    assert (hp['sigma_rec'], hp['sigma_x'], hp['target_perf']) == (0.05, 0.01, 0.95)
    assert train.get_default_hp('mix_p_MoN_6tasks')['n_rule'] == 9
    with pytest.raises(ValueError, match="all_new"):
        train.get_default_hp('six_tasks')


def test_growth_labels():
    hp = train.get_default_hp('all_new')
    assert [train.growth_label(p, hp) for p in (0.2, 0.35, 0.5, 0.9, 0.95, 0.99)] == [
        '=>E', '=>E', 'E=>MID', 'MID=>A', 'MID=>A', 'MATURE']


def test_files_on_disk(tmp_path):
    log = run(tmp_path, 256)
    assert log['trials'] == [0, 128, 256]
    assert tools.list_checkpoints(str(tmp_path)) == [0, 128, 256]
    hp = json.load(open(tmp_path / 'hp.json'))
    assert 'rng' not in hp and hp['seed'] == 5 and hp['n_rnn'] == 16
    assert hp['rule_trains'] == task.rules_dict['all_new']
    assert np.isclose(sum(hp['rule_probs']), 1)
    saved = json.load(open(tmp_path / 'log.json'))
    assert LOG_KEYS <= set(saved)
    assert all(len(saved[k]) == 3 for k in LOG_KEYS if k != 'model_dir')
    assert set(saved['growth'][0]) == set(task.rules_dict['all_new'])
    assert (tmp_path / '128' / tools.RNG_FILE).exists()
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]


def test_evaluation_draws_trials_in_original_order(tmp_path):
    """After the first evaluation the trial RNG is where the original's would be."""
    run(tmp_path, 0)
    rng = np.random.RandomState(5)
    hp = train.get_default_hp('all_new')
    hp.update(TINY, rng=rng)
    for rule in task.rules_dict['all_new']:
        for _ in range(16):
            task.generate_trials(rule, hp, 'random', batch_size=32 // 16)
    saved = tools.load_rng_state(str(tmp_path / '0' / tools.RNG_FILE))
    assert saved.randint(1 << 30) == rng.randint(1 << 30)


def test_max_trials_not_multiple_of_interval(tmp_path):
    log = run(tmp_path, 192)
    assert log['trials'] == [0, 128, 192]


def test_resume_continues_without_gaps_and_identically(tmp_path, finished_runs):
    _, straight = finished_runs[512]
    run(tmp_path / 'b', 256)
    resumed = run(tmp_path / 'b', 512)
    assert resumed['trials'] == [0, 128, 256, 384, 512]
    on_disk = tools.load_log(str(tmp_path / 'b'))
    assert on_disk['trials'] == resumed['trials']
    for key in LOG_KEYS - {'times', 'model_dir'}:
        assert on_disk[key] == straight[key], key


# 96 draws per evaluation, 2 training steps between checkpoints: the 195th draw is a
# training batch after checkpoint 128, the 199th lies inside the evaluation at 256.
@pytest.mark.parametrize('interrupt_at', [6 * 16 * 2 + 3, 6 * 16 * 2 + 7])
def test_ctrl_c_stops_cleanly_and_resumes(tmp_path, monkeypatch, capsys, interrupt_at):
    original = task.generate_trials
    calls = {'n': 0}

    def interrupt_after_a_while(rule, hp, mode, **kw):
        calls['n'] += 1
        if calls['n'] == interrupt_at:
            raise KeyboardInterrupt
        return original(rule, hp, mode, **kw)

    monkeypatch.setattr(task, 'generate_trials', interrupt_after_a_while)
    # The caller learns that the run is unfinished: train re-raises after its message.
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, 512)
    assert 'resume' in capsys.readouterr().out
    assert tools.load_log(str(tmp_path))['trials'] == [0, 128]
    monkeypatch.setattr(task, 'generate_trials', original)
    log = run(tmp_path, 512)
    assert log['trials'] == [0, 128, 256, 384, 512]


def folder_snapshot(folder):
    """{relative path: (bytes, mode)} of every file under folder."""
    out = {}
    for dirpath, _, files in os.walk(str(folder)):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, 'rb') as f:
                out[os.path.relpath(path, str(folder))] = (f.read(), os.stat(path).st_mode)
    return out


def test_changed_hp_is_refused_with_the_keys(tmp_path, finished_runs):
    model_dir = tmp_path / 'm'
    copy_run(finished_runs, 128, model_dir)
    before = folder_snapshot(model_dir)
    with pytest.raises(tools.HpMismatchError, match=r'learning_rate: saved 0.001, new 0.01; n_rnn: saved 16, new 32') as err:
        run(model_dir, 256, hp=dict(TINY, n_rnn=32, learning_rate=0.01))
    assert 'sigma_x' not in str(err.value) and str(model_dir) in str(err.value)
    assert err.value.differences[1] == ('n_rnn', 16, 32)
    assert folder_snapshot(model_dir) == before


@pytest.mark.parametrize('name, content, reason', [
    ('hp.json', '{"n_rnn": 16', 'not valid JSON'),
    ('log.json', '', 'not valid JSON'),
    ('log.json', '[0, 128]', 'expected a JSON object'),
    ('log.json', '{"trials": "0"}', "'trials' is not a list"),
    (os.path.join('128', tools.RNG_FILE), '{"name": "MT19937"}', 'not a saved random state'),
])
def test_corrupt_files_are_named_and_nothing_changes(tmp_path, finished_runs, name, content,
                                                    reason):
    model_dir = tmp_path / 'm'
    copy_run(finished_runs, 128, model_dir)
    (model_dir / name).write_text(content)
    before = folder_snapshot(model_dir)
    with pytest.raises(tools.CorruptFileError, match=reason) as err:
        run(model_dir, 256)
    assert err.value.path == str(model_dir / name)
    assert str(err.value).startswith('Corrupt file {}: '.format(model_dir / name))
    assert folder_snapshot(model_dir) == before


def test_a_file_as_model_folder_is_refused(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    for model_dir in (tmp_path / 'notes.txt', tmp_path / 'notes.txt' / 'run'):
        with pytest.raises(tools.NotAModelFolderError, match='notes.txt.*is a file'):
            run(model_dir, 128)
    assert os.listdir(tmp_path) == ['notes.txt']
    assert (tmp_path / 'notes.txt').read_text() == 'mine'


def test_hp_json_holds_the_alpha_the_network_uses(tmp_path):
    """alpha = dt / tau: with dt = 10 ms and tau = 100 ms the network integrates with 0.1,
    and hp.json (read by the analyses to scale input noise) says so."""
    run(tmp_path, 0, hp=dict(TINY, dt=10))
    assert tools.load_hp(str(tmp_path))['alpha'] == 0.1
    assert train.prepare_hp({'tau': 50})['alpha'] == 0.4
    with pytest.raises(tools.InvalidHpError, match='alpha is dt / tau = 10 / 100 = 0.1'):
        train.prepare_hp({'dt': 10, 'alpha': 0.2})


def test_finished_run_is_not_retrained(tmp_path, finished_runs):
    first = copy_run(finished_runs, 128, tmp_path / 'm')
    again = run(tmp_path / 'm', 128)
    assert again['trials'] == first['trials'] == [0, 128]


@pytest.mark.parametrize('kwargs, match', [
    (dict(ruleset='nope'), 'valid rulesets'),
    (dict(rule_trains=['odr', 'dms']), "Rules \\['dms'\\] are not in ruleset"),
    (dict(rule_prob_map={'dms': 2}), "not trained: \\['dms'\\]"),
    (dict(trainables='output'), "Unknown trainables"),
    (dict(display_step=0), 'display_step must be at least 1'),
    (dict(hp=dict(TINY, n_rn=8)), "Unknown hp key\\(s\\) \\['n_rn'\\]; valid keys: .*n_rnn"),
    (dict(hp=dict(TINY, batch_size_test=8)), 'batch_size_test.*16'),
    (dict(hp=dict(TINY, activation='sigmoid')), 'Unknown activation.*softplus'),
    (dict(hp=dict(TINY, rnn_type='Vanilla')), 'Unknown rnn_type.*LeakyRNN'),
    (dict(hp=dict(TINY, w_rec_init='zeros')), 'Unknown w_rec_init.*randortho'),
    (dict(hp=dict(TINY, loss_type='cross_entropy')), 'Unknown loss_type.*lsq'),
    (dict(hp=dict(TINY, optimizer='rmsprop')), 'Unknown optimizer.*adam'),
    (dict(trainables='rule'), 'selects no variable'),
    (dict(load_dir='no/such/checkpoint'), 'No checkpoint'),
])
def test_bad_arguments_write_nothing(tmp_path, kwargs, match):
    """Everything is checked before the first write: a failed first run leaves no model
    folder, and the corrected command then trains (no 'different hyper-parameters')."""
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        run(tmp_path / 'm', 128, **kwargs)
    assert not (tmp_path / 'm').exists()


def test_a_failed_first_run_does_not_block_the_corrected_one(tmp_path):
    with pytest.raises(ValueError, match='Unknown activation'):
        run(tmp_path, 0, hp=dict(TINY, activation='sigmoid'))
    assert os.listdir(tmp_path) == []
    assert run(tmp_path, 0)['trials'] == [0]


def test_resume_names_every_missing_checkpoint_in_one_warning(tmp_path, capsys,
                                                              finished_runs):
    model_dir = tmp_path / 'm'
    copy_run(finished_runs, 512, model_dir)
    for trial in ('128', '256'):
        shutil.rmtree(str(model_dir / trial))
    capsys.readouterr()
    log = run(model_dir, 640)
    assert log['trials'] == [0, 128, 256, 384, 512, 640]
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1
    assert err[0].startswith('Warning: 2 checkpoint(s) listed in log.json are missing from')
    assert 'trials 128, 256.' in err[0] and str(model_dir) in err[0]


def test_rule_subset_and_probabilities(tmp_path):
    log = run(tmp_path, 128, rule_trains=['odr', 'gap'], rule_prob_map={'odr': 3})
    hp = tools.load_hp(str(tmp_path))
    assert hp['rule_probs'] == [0.75, 0.25]
    assert 'perf_overlap' not in log and len(log['perf_odr']) == 2


def checkpoint_values(model_dir, trial):
    """{variable name: value} of a checkpoint, without the optimizer's slots."""
    reader = tf.train.load_checkpoint(os.path.join(str(model_dir), str(trial),
                                                   tools.CKPT_NAME))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if 'Adam' not in name and 'power' not in name}


def test_trainables_rule_trains_only_the_rule_weights(tmp_path):
    """With trainables='rule' (and the weight anchors of l2_weight_init and
    p_weight_train in the cost) only rule_input/kernel moves; an optimizer over every
    variable would move the others too."""
    hp = dict(TINY, use_separate_input=True, l2_weight_init=1e-3, p_weight_train=0.5)
    log = run(tmp_path, 128, hp=hp, trainables='rule')
    assert log['trials'] == [0, 128]
    start, end = checkpoint_values(tmp_path, 0), checkpoint_values(tmp_path, 128)
    assert 'rule_input/kernel' in start and len(start) > 4
    moved = sorted(name for name in start if not np.array_equal(start[name], end[name]))
    assert moved == ['rule_input/kernel']


def test_load_dir_starts_from_a_checkpoint(tmp_path, finished_runs):
    folder, first = finished_runs[128]
    log = run(tmp_path / 'b', 0, load_dir=str(folder / '128'))
    assert log['cost_odr'][0] != first['cost_odr'][0]


def test_main_training_is_the_paper_run():
    # SPEC.md: "The paper run (Main_training.py) overrides: ..." — the values, written out.
    assert Main_training.hp == {
        'activation': 'softplus', 'n_rnn': 256, 'learning_rate': 0.001, 'mix_rule': True,
        'l1_h': 0, 'use_separate_input': False, 'target_perf': 0.995,
        'mature_target_perf': 0.95, 'mid_target_perf': 0.65, 'early_target_perf': 0.35}
    assert Main_training.hp is not train.PAPER_HP     # a user's edit stays in the script
    assert Main_training.rule_trains == ['overlap', 'zero_gap', 'gap', 'odr', 'odrd',
                                         'gap500']
    assert (Main_training.ruleset, Main_training.display_step) == ('all_new', 20)


def test_main_training_cli_trains_its_hp(tmp_path, capsys, monkeypatch):
    # Main_training trains with its module-level hp, the dict users edit.
    monkeypatch.setattr(Main_training, 'hp',
                        dict(Main_training.hp, n_rnn=16, batch_size_test=32, sigma_x=0.02))
    assert Main_training.main(['--modeldir', str(tmp_path / 'demo'), '--max-trials',
                               '1280', '--seed', '2']) == 0
    out = capsys.readouterr()
    assert 'trial     1280' in out.out and 'Done: 1280 trials' in out.out
    assert tools.list_checkpoints(str(tmp_path / 'demo')) == [0, 1280]
    saved = tools.load_hp(str(tmp_path / 'demo'))
    assert (saved['n_rnn'], saved['sigma_x'], saved['seed']) == (16, 0.02, 2)
    assert saved['target_perf'] == 0.995


def test_main_training_ctrl_c_exits_130(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Main_training, 'hp', dict(Main_training.hp, n_rnn=16,
                                                  batch_size_test=32))
    original = task.generate_trials
    calls = {'n': 0}

    def interrupt_in_the_second_interval(rule, hp, mode, **kw):
        calls['n'] += 1
        if calls['n'] == 6 * 16 + 25:  # a training batch after checkpoint 0
            raise KeyboardInterrupt
        return original(rule, hp, mode, **kw)

    monkeypatch.setattr(task, 'generate_trials', interrupt_in_the_second_interval)
    status = Main_training.main(['--modeldir', str(tmp_path / 'demo'), '--max-trials',
                                 '2560'])
    assert status == 130
    out = capsys.readouterr().out
    assert 'Training interrupted at trial' in out and 'Last checkpoint: 0' in out
    assert 'Done' not in out


@pytest.mark.parametrize('argv, message', [
    (['--max-trials', '-5'], '-5 is not a positive integer'),
    (['--max-trials', '0'], '0 is not a positive integer'),
    (['--max-trials', 'many'], "'many' is not an integer"),
    (['--seed', '-1'], '-1 is not an integer ≥ 0'),
])
def test_main_training_bad_arguments(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        Main_training.main(['--modeldir', str(tmp_path / 'demo')] + argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'demo').exists()


# ----------------------------------------------------------------------------------------
# A model folder on a lab machine: damaged checkpoints, full disks, a second writer
# ----------------------------------------------------------------------------------------
def assert_log_equals_straight(model_dir, straight):
    on_disk = tools.load_log(str(model_dir))
    assert on_disk['trials'] == straight['trials']
    for key in LOG_KEYS - {'times', 'model_dir'}:
        assert on_disk[key] == straight[key], key
    # nothing lost: every entry of log.json has its checkpoint
    assert tools.missing_checkpoints(str(model_dir), on_disk) == []


@pytest.mark.parametrize('damaged_file, size', [
    ('model.ckpt.data-00000-of-00001', 1000), ('model.ckpt.index', 100)])
def test_a_damaged_newest_checkpoint_is_moved_aside_and_training_resumes_before_it(
        tmp_path, capsys, finished_runs, damaged_file, size):
    model_dir = tmp_path / 'm'
    copy_run(finished_runs, 512, model_dir)
    with open(str(model_dir / '512' / damaged_file), 'r+b') as f:
        f.truncate(size)
    capsys.readouterr()
    run(model_dir, 512)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert err[0].startswith('Checkpoint {} does not restore ('.format(model_dir / '512'))
    assert damaged_file in err[0]
    assert err[0].endswith('moved to {}; resuming from trial 384.'.format(
        model_dir / '512.damaged'))
    # moved aside as it was, nothing deleted
    assert os.path.getsize(str(model_dir / '512.damaged' / damaged_file)) == size
    # the continued run equals the uninterrupted one (384 → 512 trained again)
    assert_log_equals_straight(model_dir, finished_runs[512][1])


class FullDisk(object):
    """Makes the checkpoint save of `trials` fail as TensorFlow does on a full disk."""

    def __init__(self, monkeypatch, trials):
        import network
        original = network.tf.train.Saver.save

        def save(saver, sess, path, *args, **kwargs):
            if os.path.basename(os.path.dirname(path)) == '.{}.saving'.format(trials):
                # a first file written, then the disk is full
                open(path + '.data-00000-of-00001', 'wb').close()
                raise tf.errors.ResourceExhaustedError(
                    None, None, '{}.data-00000-of-00001.tempstate1; No space left on '
                                'device'.format(path))
            return original(saver, sess, path, *args, **kwargs)

        monkeypatch.setattr(network.tf.train.Saver, 'save', save)


def test_a_full_disk_while_saving_is_one_line_and_the_resume_loses_nothing(
        tmp_path, capsys, monkeypatch, finished_runs):
    model_dir = tmp_path / 'm'
    patch = pytest.MonkeyPatch()
    FullDisk(patch, 256)
    status = tools.run_script(lambda argv: run(model_dir, 512))
    patch.undo()
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 1
    assert err == ['{}: error: Cannot save in {}: No space left on device. Free some '
                   'space on that disk, then run the same command again: it continues '
                   'from the last complete checkpoint.'.format(
                       os.path.basename(os.sys.argv[0]), model_dir)]
    # nothing half-written: no checkpoint 256, no temporary folder, no lock
    assert sorted(os.listdir(str(model_dir))) == ['0', '128', 'hp.json', 'log.json']
    assert tools.load_log(str(model_dir))['trials'] == [0, 128]
    run(model_dir, 512)
    assert_log_equals_straight(model_dir, finished_runs[512][1])


def test_a_read_only_log_json_leaves_the_log_at_the_last_complete_checkpoint(
        tmp_path, capsys, monkeypatch, finished_runs):
    model_dir = tmp_path / 'm'
    copy_run(finished_runs, 128, model_dir)
    replace = os.replace

    def read_only(src, dst):
        if os.path.basename(dst) == 'log.json':
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), dst)
        return replace(src, dst)

    monkeypatch.setattr(os, 'replace', read_only)
    with pytest.raises(tools.StorageError, match='Cannot save in {}: Read-only file '
                                                 'system. Use a folder on a writable'.format(
                                                     model_dir)):
        run(model_dir, 512)
    monkeypatch.setattr(os, 'replace', replace)
    # checkpoint 256 was saved, log.json (still at 128) never listed it
    assert tools.load_log(str(model_dir))['trials'] == [0, 128]
    assert not [f for f in os.listdir(str(model_dir)) if f.startswith('.')]
    run(model_dir, 512)      # saves 256 again over the unlisted folder
    assert_log_equals_straight(model_dir, finished_runs[512][1])


def test_permission_denied_for_a_new_folder_is_a_storage_error(tmp_path, monkeypatch):
    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(os, 'makedirs', denied)
    with pytest.raises(tools.StorageError, match='Permission denied. Make the folder '
                                                 'writable') as info:
        run(tmp_path / 'new', 0)
    assert info.value.status == 1 and info.value.errno == errno.EACCES


LOCK_HOLDER = '''
import sys, time
import folder_lock
lock = folder_lock.acquire(sys.argv[1])
print('locked', flush=True)
time.sleep(120)
'''


def test_a_second_writer_is_refused_and_a_killed_ones_lock_is_taken_over(
        tmp_path, capsys, monkeypatch):
    import signal
    import socket
    import subprocess
    import sys
    import time
    model_dir = tmp_path / 'm'
    model_dir.mkdir()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    holder = subprocess.Popen([sys.executable, '-c', LOCK_HOLDER, str(model_dir)], cwd=repo,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'locked\n'
        monkeypatch.setattr(Main_training, 'hp', dict(Main_training.hp, n_rnn=16,
                                                      batch_size_test=32))
        capsys.readouterr()
        start = time.time()
        status = tools.run_script(Main_training.main, ['--modeldir', str(model_dir),
                                                       '--max-trials', '64'])
        assert time.time() - start < 10
        out = capsys.readouterr()
        err = [line for line in out.err.splitlines() if line.strip()]
        assert status == 2 and len(err) == 1
        assert 'is being trained by process {} on host {}'.format(
            holder.pid, socket.gethostname()) in err[0]
        assert os.listdir(str(model_dir)) == ['train.lock']      # nothing written
    finally:
        holder.send_signal(signal.SIGKILL)       # kill -9: no chance to release the lock
        holder.wait()
    # the lock file still names the dead process: stale, taken over with one line
    assert (model_dir / 'train.lock').exists()
    assert tools.run_script(Main_training.main, ['--modeldir', str(model_dir),
                                                 '--max-trials', '64']) == 0
    assert tools.load_log(str(model_dir))['trials'] == [0, 64]
    err = [line for line in capsys.readouterr().err.splitlines()
           if line.strip() and not line.startswith('training')]
    assert len(err) == 1 and err[0].startswith('Note: {} had a stale lock of process {} '
                                               'on host'.format(model_dir, holder.pid))
    assert not (model_dir / 'train.lock').exists()          # released at the end
