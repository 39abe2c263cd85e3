"""train.py: defaults, evaluation draw order, files on disk, resume, Ctrl-C, errors."""

import json
import os

import numpy as np
import pytest

import Main_training
import task
import tools
import train

TINY = {'n_rnn': 16, 'activation': 'softplus', 'batch_size_test': 32}
LOG_KEYS = {'trials', 'times', 'perf_avg', 'perf_min', 'growth', 'model_dir'} | {
    '{}_{}'.format(k, r) for k in ('cost', 'creg', 'perf') for r in task.rules_dict['all_new']}


def run(model_dir, max_trials, **kw):
    kw.setdefault('hp', TINY)
    return train.train(str(model_dir), max_steps=max_trials, display_step=2, seed=5,
                       verbose=False, **kw)


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


def test_resume_continues_without_gaps_and_identically(tmp_path):
    straight = run(tmp_path / 'a', 512)
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
    log = run(tmp_path, 512)
    assert 'resume' in capsys.readouterr().out
    assert log['trials'] == [0, 128]
    monkeypatch.setattr(task, 'generate_trials', original)
    log = run(tmp_path, 512)
    assert log['trials'] == [0, 128, 256, 384, 512]


def test_changed_hp_is_refused_with_the_keys(tmp_path):
    run(tmp_path, 128)
    with pytest.raises(ValueError, match=r'learning_rate: saved 0.001, new 0.01; n_rnn: saved 16, new 32') as err:
        run(tmp_path, 256, hp=dict(TINY, n_rnn=32, learning_rate=0.01))
    assert 'sigma_x' not in str(err.value)


def test_finished_run_is_not_retrained(tmp_path):
    first = run(tmp_path, 128)
    again = run(tmp_path, 128)
    assert again['trials'] == first['trials'] == [0, 128]


@pytest.mark.parametrize('kwargs, match', [
    (dict(ruleset='nope'), 'valid rulesets'),
    (dict(rule_trains=['odr', 'dms']), "Rules \\['dms'\\] are not in ruleset"),
    (dict(trainables='output'), "Unknown trainables"),
    (dict(hp=dict(TINY, activation='sigmoid')), 'Unknown activation'),
])
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(tmp_path, 128, **kwargs)


def test_rule_subset_and_probabilities(tmp_path):
    log = run(tmp_path, 128, rule_trains=['odr', 'gap'], rule_prob_map={'odr': 3})
    hp = tools.load_hp(str(tmp_path))
    assert hp['rule_probs'] == [0.75, 0.25]
    assert 'perf_overlap' not in log and len(log['perf_odr']) == 2


def test_trainables_rule_and_weight_anchors(tmp_path):
    hp = dict(TINY, use_separate_input=True, l2_weight_init=1e-3, p_weight_train=0.5)
    log = run(tmp_path, 128, hp=hp, trainables='rule')
    assert log['trials'] == [0, 128]
    with pytest.raises(ValueError, match='selects no variable'):
        run(tmp_path / 'fused', 128, trainables='rule')


def test_load_dir_starts_from_a_checkpoint(tmp_path):
    run(tmp_path / 'a', 128)
    log = run(tmp_path / 'b', 0, load_dir=str(tmp_path / 'a' / '128'))
    first = tools.load_log(str(tmp_path / 'a'))
    assert log['cost_odr'][0] != first['cost_odr'][0]


def test_main_training_cli(tmp_path, capsys):
    Main_training.hp = dict(Main_training.hp, n_rnn=16, batch_size_test=32)
    Main_training.main(['--modeldir', str(tmp_path / 'demo'), '--max-trials', '1280',
                        '--seed', '2'])
    out = capsys.readouterr()
    assert 'trial     1280' in out.out and 'Done: 1280 trials' in out.out
    assert tools.list_checkpoints(str(tmp_path / 'demo')) == [0, 1280]
    assert tools.load_hp(str(tmp_path / 'demo'))['target_perf'] == 0.995
