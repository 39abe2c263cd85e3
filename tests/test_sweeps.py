"""Training_with_diff_HyperParameters.py and sweep.py: the experiment table, the CLI,
resumable sweeps in worker processes and on a local Ray instance.

Every configuration trains for real, with a tiny network (16 units, 2 steps of 32 trials,
test batches of 2 trials) so that the whole file stays short.
"""

import json
import logging
import os

import numpy as np
import pytest

import Main_training
import network
import sweep
import task
import tools
import train
import Training_with_diff_HyperParameters as thp

# batch_size_test 32 = 16 batches of 2 trials per rule: enough for the 850-step odr15000.
TINY = {'n_rnn': 16, 'batch_size_test': 32, 'batch_size_train': 32}
TINY_ARGS = ['--max-trials', '64', '--display-step', '2', '--set', 'n_rnn=16',
             'batch_size_test=32', 'batch_size_train=32']
REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# SPEC.md: "The paper run (Main_training.py) overrides: ..." — the base of every row.
SPEC_PAPER_HP = {
    'activation': 'softplus', 'n_rnn': 256, 'learning_rate': 0.001, 'mix_rule': True,
    'l1_h': 0, 'use_separate_input': False, 'target_perf': 0.995,
    'mature_target_perf': 0.95, 'mid_target_perf': 0.65, 'early_target_perf': 0.35}
SIX_RULES = ['overlap', 'zero_gap', 'gap', 'odr', 'odrd', 'gap500']


def check_complete_log(model_dir, rules, trials=(0, 64)):
    """log.json has every evaluation: trials, times and the per-rule / summary keys."""
    log = tools.load_log(model_dir)
    assert log['trials'] == list(trials)
    keys = ['times', 'perf_avg', 'perf_min', 'growth'] + [
        '{}_{}'.format(k, r) for k in ('perf', 'cost', 'creg') for r in rules]
    for key in keys:
        assert len(log[key]) == len(trials), key
    assert tools.list_checkpoints(model_dir) == list(trials)
    return log


# ----------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------
def test_table_has_the_original_families():
    names = list(thp.EXPERIMENTS)
    assert names[:6] == ['indi_odr', 'indi_odrd', 'indi_odr_odrd', 'indi_gap',
                         'indi_zero_gap', 'indi_overlap']
    assert [thp.EXPERIMENTS['set1_exp%d' % i].overrides['n_rnn'] for i in (1, 2, 3, 4)] == [
        64, 128, 512, 1024]
    assert [thp.EXPERIMENTS['set2_exp%d' % i].overrides['activation']
            for i in (1, 2, 3, 4)] == ['tanh', 'relu', 'elu', 'power']
    assert thp.EXPERIMENTS['set3_exp1'].overrides == {'w_rec_init': 'diag'}
    assert thp.EXPERIMENTS['set3_exp2'].overrides == {'w_rec_init': 'randgauss'}
    assert [thp.EXPERIMENTS['set4_exp%d' % i].overrides['learning_rate']
            for i in (1, 2, 3)] == [1e-4, 1e-2, 1e-1]
    assert thp.EXPERIMENTS['set5_exp2'].rules == [
        'match_or_non', 'match_or_non_easy', 'match_or_non_passive', 'overlap', 'zero_gap',
        'gap', 'odr', 'odrd', 'gap500']
    assert [thp.EXPERIMENTS['set6_exp%d' % i].ruleset for i in (1, 2, 3)] == [
        'all_new_odr3000', 'all_new_odr6000', 'all_new_odr15000']
    assert thp.EXPERIMENTS['set7_exp1'].overrides == {'rnn_type': 'LeakyGRU'}
    assert thp.EXPERIMENTS['indi_odr_odrd'].rules == ['odr', 'odrd']


def test_build_hp_starts_from_the_paper_hp(monkeypatch):
    hp = thp.build_hp('set1_exp1', seed=3)
    for key, value in train.PAPER_HP.items():
        assert hp[key] == (64 if key == 'n_rnn' else value), key
    assert hp['seed'] == 3
    assert hp['rules'] == hp['rule_trains'] == list(train.PAPER_RULE_TRAINS)
    assert hp['rng'].rand() == np.random.RandomState(3).rand()
    # The paper hp is imported, not copied: a change there reaches every experiment.
    monkeypatch.setitem(train.PAPER_HP, 'sigma_x', 0.02)
    assert thp.build_hp('set6_exp1')['sigma_x'] == 0.02
    assert thp.build_hp('set2_exp1', hp_overrides={'n_rnn': 8})['n_rnn'] == 8


def test_table_errors():
    with pytest.raises(ValueError, match='valid names: indi_odr, indi_odrd'):
        thp.build_hp('set9_exp1')
    with pytest.raises(ValueError, match="'nope'.*set2_exp1"):
        thp.select(['set2_*', 'nope'])
    with pytest.raises(ValueError, match='n_rn.*valid keys'):
        thp.build_hp('indi_odr', hp_overrides={'n_rn': 16})
    with pytest.raises(ValueError, match='declared twice'):
        sweep.registry([thp.EXPERIMENTS['indi_odr']] * 2)
    with pytest.raises(ValueError, match='not in ruleset'):
        sweep.registry([sweep.Experiment('x', 'x', {}, 'ozg', ('odr',))])
    assert thp.select(['set4_exp3', 'set4_*']) == ['set4_exp1', 'set4_exp2', 'set4_exp3']


# ----------------------------------------------------------------------------------------
# Every configuration is valid; every code path trains
# ----------------------------------------------------------------------------------------
# hp keys whose value is only a number in the same graph and the same training loop:
# experiments that differ in nothing else train through the same code (set1_* differ in
# n_rnn, which TINY overrides anyway, set4_* in learning_rate, the seed family in seed).
SAME_CODE_KEYS = ('n_rnn', 'learning_rate')


def code_path(exp):
    """What decides the code an experiment's training runs: its ruleset (tasks, input
    units), the rules trained (evaluation slots), every hp override but SAME_CODE_KEYS
    (activation, w_rec_init, rnn_type, or whatever key a new row changes), and whether
    the row fixes its own seed and folder (Experiment.run_seed, Experiment.dirname)."""
    overrides = tuple(sorted((k, repr(v)) for k, v in exp.overrides.items()
                             if k not in SAME_CODE_KEYS))
    return (exp.ruleset, tuple(exp.rules), overrides, exp.seed is not None,
            exp.folder is not None)


def trained_representatives(table):
    """One experiment per code path of the table, the last of each in table order (for
    the seed family seed4: its own seed differs from the launch's 0, so its hp.json shows
    that the row's seed reached training)."""
    last = {code_path(exp): name for name, exp in table.items()}
    return [name for name in table if name in last.values()]


TRAINED = trained_representatives(thp.EXPERIMENTS)


def test_every_code_path_of_the_table_is_trained():
    """Every value of a code-path key in the table reaches a trained experiment, and the
    grouping merges only rows that differ in SAME_CODE_KEYS or in the seed alone."""
    trained = [thp.EXPERIMENTS[name] for name in TRAINED]
    for exp in thp.EXPERIMENTS.values():
        assert code_path(exp) in {code_path(t) for t in trained}, exp.name
    hps = [thp.build_hp(name, hp_overrides=TINY) for name in TRAINED]
    for key in ('activation', 'w_rec_init', 'rnn_type', 'ruleset'):
        assert {hp[key] for hp in hps} == {
            thp.build_hp(name)[key] for name in thp.EXPERIMENTS}, key
    assert {tuple(hp['rule_trains']) for hp in hps} == {
        tuple(exp.rules) for exp in thp.EXPERIMENTS.values()}
    assert code_path(thp.EXPERIMENTS['set1_exp1']) == code_path(thp.EXPERIMENTS['set4_exp3'])
    assert code_path(thp.EXPERIMENTS['set2_exp1']) != code_path(thp.EXPERIMENTS['set2_exp2'])
    assert code_path(thp.EXPERIMENTS['seed0']) != code_path(thp.EXPERIMENTS['set1_exp1'])
    assert 'seed4' in TRAINED and 'seed0' not in TRAINED
    assert len(TRAINED) < len(thp.EXPERIMENTS)


@pytest.mark.parametrize('name', list(thp.EXPERIMENTS))
def test_every_experiment_has_valid_hp_from_its_row(name):
    """Without training: the hp an experiment trains with (TINY on top) is the paper hp
    with the row's changes, passes the checks train.train makes before writing anything
    (train.prepare_hp inside build_hp; the names network.Model accepts), and a launch
    trains into the row's folder."""
    exp = thp.EXPERIMENTS[name]
    hp = thp.build_hp(name, hp_overrides=TINY)
    paper = train.prepare_hp(dict(train.PAPER_HP, **TINY), exp.ruleset, exp.rules,
                             seed=exp.run_seed(0))
    saved, expected = tools.hp_to_json(hp), tools.hp_to_json(paper)
    assert set(saved) == set(expected)
    changed = {k for k in expected if saved[k] != expected[k]}
    assert changed == {k for k, v in exp.overrides.items()
                       if k not in TINY and v != paper[k]}, changed
    for key, value in exp.overrides.items():
        assert hp[key] == (TINY[key] if key in TINY else value), key
    assert hp['ruleset'] == exp.ruleset and hp['rule_trains'] == hp['rules'] == exp.rules
    assert hp['seed'] == (0 if exp.seed is None else exp.seed)
    assert hp['activation'] in network.ACTIVATIONS
    assert hp['rnn_type'] in network.RNN_TYPES
    assert hp['w_rec_init'] in network.W_REC_INITS
    assert exp.model_dir('root') == os.path.join('root', exp.folder or name)


# set4_exp3's learning rate of 0.1 blows the tiny network up (the original's run failed
# too): its outputs are then NaN and get_perf warns.
@pytest.mark.filterwarnings('ignore:invalid value encountered:RuntimeWarning')
@pytest.mark.parametrize('name', TRAINED)
def test_every_code_path_trains(name, tmp_path):
    exp = thp.EXPERIMENTS[name]
    summary = thp.run_experiment(name, str(tmp_path), max_trials=64, hp_overrides=TINY,
                                 display_step=2)
    model_dir = exp.model_dir(str(tmp_path))
    assert summary['status'] == 'stopped' and not summary['already']
    assert summary['model_dir'] == model_dir and summary['trials'] == 64
    check_complete_log(model_dir, exp.rules)
    # hp.json: SPEC's paper hp, the row's overrides on top, TINY on top of those.
    saved = tools.hp_to_json(tools.load_hp(model_dir))
    for key, value in dict(SPEC_PAPER_HP, **exp.overrides, **TINY).items():
        assert saved[key] == value, key
    assert saved['ruleset'] == exp.ruleset and saved['rule_trains'] == exp.rules
    assert saved['seed'] == (0 if exp.seed is None else exp.seed)


def test_seed_family_is_the_paper_run_with_its_own_seed():
    paper = train.prepare_hp(Main_training.hp, Main_training.ruleset,
                             Main_training.rule_trains, None, 0)
    # seed0 is `python Main_training.py`: same hp, same folder
    seed0 = tools.hp_to_json(thp.build_hp('seed0'))
    assert seed0 == tools.hp_to_json(paper)
    assert {k: seed0[k] for k in SPEC_PAPER_HP} == SPEC_PAPER_HP
    assert (seed0['seed'], seed0['ruleset'], seed0['rule_trains']) == (0, 'all_new', SIX_RULES)
    assert thp.EXPERIMENTS['seed0'].model_dir('data') == os.path.join('data', '6tasks')
    assert thp.build_hp('seed0', seed=7)['seed'] == 0
    for k in range(1, 5):
        hp = thp.build_hp('seed{}'.format(k), seed=7)     # the launch's --seed is ignored
        assert hp['seed'] == k
        assert tools.hp_to_json(dict(hp, seed=0)) == tools.hp_to_json(paper)
    assert thp.select(['seed*']) == ['seed{}'.format(k) for k in range(5)]


# ----------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------
def test_cli_list(capsys):
    assert thp.main(['--list']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:3] == ['name', 'what', 'model']
    assert [ln.split()[0] for ln in lines[1:]] == list(thp.EXPERIMENTS)
    row = next(ln for ln in lines if ln.startswith('set1_exp3 '))
    assert 'n_rnn=512' in row and 'all_new' in row and 'gap500' in row
    assert 'all_new_odr15000' in next(ln for ln in lines if ln.startswith('set6_exp3 '))


def test_cli_only_pattern(capsys):
    assert thp.main(['--list', '--only', 'set2_*', 'indi_gap']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split()[0] for ln in lines[1:]] == [
        'indi_gap', 'set2_exp1', 'set2_exp2', 'set2_exp3', 'set2_exp4']


def test_cli_unknown_name(capsys):
    with pytest.raises(SystemExit) as info:
        thp.main(['--only', 'set2_exp9'])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "'set2_exp9'" in err and 'valid names' in err and 'set7_exp2' in err
    with pytest.raises(SystemExit):
        thp.main(['--only', 'indi_odr', '--set', 'n_rn=16'])
    assert 'n_rn' in capsys.readouterr().err


def test_cli_jobs_then_relaunch_is_a_no_op(tmp_path, capsys):
    """Two tiny runs in two spawned workers; launching again trains nothing."""
    root = str(tmp_path)
    argv = ['--only', 'indi_odr', 'indi_gap', '--root', root, '--jobs', '2'] + TINY_ARGS
    assert thp.main(argv) == 0
    out = capsys.readouterr().out
    assert 'in 2 worker processes' in out and 'Total: 2 experiment(s) — 2 stopped' in out
    check_complete_log(os.path.join(root, 'indi_odr'), ['odr'])
    check_complete_log(os.path.join(root, 'indi_gap'), ['gap'])
    stamp = os.path.getmtime(os.path.join(root, 'indi_odr', tools.LOG_FILE))

    assert thp.main(argv) == 0
    out = capsys.readouterr().out
    assert 'Training' not in out and 'worker' not in out
    assert out.count('already stopped (max trials)') == 4  # skip notice + summary line
    assert os.path.getmtime(os.path.join(root, 'indi_odr', tools.LOG_FILE)) == stamp


def test_finished_run_reports_done_without_training(tmp_path, capsys):
    """A folder whose run reached target_perf is reported 'done', even with a larger
    trial budget, and nothing is built or written."""
    exp = thp.EXPERIMENTS['set4_exp1']
    model_dir = exp.model_dir(str(tmp_path))
    tools.save_hp(thp.build_hp('set4_exp1'), model_dir)
    tools.save_log({'trials': [0, 1280], 'times': [0., 9.], 'perf_min': [0.1, 0.999],
                    'perf_avg': [0.1, 0.999], 'model_dir': model_dir}, model_dir)
    for trial in (0, 1280):  # what training resumes from: a checkpoint and its RNG state
        folder = tools.checkpoint_dir(model_dir, trial)
        tools.save_rng_state(np.random.RandomState(0), os.path.join(folder, tools.RNG_FILE))
        open(os.path.join(folder, tools.CKPT_NAME + '.index'), 'wb').close()
    summaries = thp.run_many(['set4_exp1'], root=str(tmp_path), max_trials=10 ** 6)
    assert summaries == [{'name': 'set4_exp1', 'model_dir': model_dir, 'status': 'done',
                          'already': True, 'trials': 1280, 'perf_min': 0.999,
                          'seconds': 0.0, 'error': None}]
    assert 'already done (target reached)' in capsys.readouterr().out
    assert thp.run_experiment('set4_exp1', str(tmp_path))['already']
    assert sorted(os.listdir(model_dir)) == ['0', '1280', 'hp.json', 'log.json']
    # Other hp in that folder: refused before anything runs.
    with pytest.raises(tools.HpMismatchError, match='n_rnn: saved 256, new 8'):
        thp.run_many(['indi_odr', 'set4_exp1'], root=str(tmp_path),
                     hp_overrides={'n_rnn': 8}, verbose=False)
    assert sorted(os.listdir(str(tmp_path))) == ['set4_exp1']


# ----------------------------------------------------------------------------------------
# Exit statuses of the command line
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize('argv, message', [
    (['--max-trials', '0'], '--max-trials: 0 is not a positive integer'),
    (['--display-step', '-2'], '--display-step: -2 is not a positive integer'),
    (['--jobs', '0'], '--jobs: 0 is not a positive integer'),
    (['--ray-cpus', '0'], '--ray-cpus: 0 is not a positive integer'),
    (['--seed', '-1'], '--seed: -1 is not an integer'),
])
def test_cli_bad_numbers(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        thp.main(['--only', 'indi_odr', '--root', str(tmp_path)] + argv)
    assert info.value.code == 2 and message in capsys.readouterr().err
    assert os.listdir(str(tmp_path)) == []


def write_run(model_dir, hp_json='{}', log_json='{"trials": []}'):
    os.makedirs(model_dir)
    with open(os.path.join(model_dir, tools.HP_FILE), 'w') as f:
        f.write(hp_json)
    with open(os.path.join(model_dir, tools.LOG_FILE), 'w') as f:
        f.write(log_json)


@pytest.mark.parametrize('problem, message', [
    ('mismatch', "already holds a run with different hyper-parameters (activation: saved "
                 "'relu', new 'softplus'"),
    ('corrupt', 'Corrupt file {root}/indi_odrd/log.json: not valid JSON'),
    ('file', "'{root}/indi_odrd' is a file, not a model folder"),
])
def test_cli_refused_folder_is_one_line_and_status_2(tmp_path, capsys, problem, message):
    """A folder training would refuse stops the launch before any training."""
    root = str(tmp_path)
    model_dir = os.path.join(root, 'indi_odrd')
    if problem == 'file':
        with open(model_dir, 'w') as f:
            f.write('not a folder')
    else:
        hp = tools.hp_to_json(thp.build_hp('indi_odrd', hp_overrides=TINY))
        hp['activation'] = 'relu' if problem == 'mismatch' else hp['activation']
        write_run(model_dir, json.dumps(hp), '{"trials": [0' if problem == 'corrupt' else
                  '{"trials": []}')
    argv = ['--only', 'indi_odr', 'indi_odrd', '--root', root] + TINY_ARGS
    assert tools.run_script(thp.main, argv) == 2
    out = capsys.readouterr()
    assert out.err.count('\n') == 1 and message.format(root=root) in out.err
    assert 'Traceback' not in out.err and 'Training' not in out.out
    assert sorted(os.listdir(root)) == ['indi_odrd']


def test_cli_ctrl_c_exits_130(tmp_path, capsys, monkeypatch):
    """Ctrl-C in the first of two runs (in this process): status 130, the run cut short is
    'interrupted' and resumes later, the other one is 'not started'."""
    original = task.generate_trials
    calls = {'n': 0}

    def interrupt_after_checkpoint_0(rule, hp, mode, **kw):
        calls['n'] += 1
        if calls['n'] == 16 + 1:  # the first training batch after checkpoint 0 of odr
            raise KeyboardInterrupt
        return original(rule, hp, mode, **kw)

    monkeypatch.setattr(task, 'generate_trials', interrupt_after_checkpoint_0)
    root = str(tmp_path)
    argv = ['--only', 'indi_odr', 'indi_gap', '--root', root, '--jobs', '1'] + TINY_ARGS
    assert thp.main(argv) == 130
    out = capsys.readouterr().out
    assert 'Training interrupted at trial 0. Last checkpoint: 0.' in out
    assert 'Total: 2 experiment(s) — 1 interrupted, 1 not started' in out
    assert tools.load_log(os.path.join(root, 'indi_odr'))['trials'] == [0]
    assert not os.path.exists(os.path.join(root, 'indi_gap'))


# ----------------------------------------------------------------------------------------
# Ray
# ----------------------------------------------------------------------------------------
@pytest.fixture
def local_ray(monkeypatch):
    import ray  # in requirements.txt: this test must run, not skip
    # A new instance of our own ('local'), never a cluster someone started on this machine.
    monkeypatch.delenv('RAY_ADDRESS', raising=False)
    # Ray workers start in the driver's folder and import the project's modules from it.
    monkeypatch.chdir(REPO_DIR)
    ray.init(address='local', num_cpus=2, include_dashboard=False,
             logging_level=logging.ERROR, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_cli_ray_local(local_ray, tmp_path, capsys):
    root = str(tmp_path)
    argv = ['--only', 'indi_overlap', '--root', root, '--ray', 'local'] + TINY_ARGS
    assert thp.main(argv) == 0
    out = capsys.readouterr().out
    assert 'on Ray (local)' in out and 'Total: 1 experiment(s) — 1 stopped' in out
    assert 'stopped (max trials) on node ' in out      # the Ray node that trained it
    log = check_complete_log(os.path.join(root, 'indi_overlap'), ['overlap'])
    assert log['perf_overlap'][0] >= 0
    assert local_ray.is_initialized()  # a Ray instance the caller started stays up
    hp = json.load(open(os.path.join(root, 'indi_overlap', tools.HP_FILE)))
    assert hp['n_rnn'] == 16 and hp['rule_trains'] == ['overlap']
