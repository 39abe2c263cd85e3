"""Fixtures shared by the analysis tests: one tiny trained model per test session."""

import shutil

import numpy as np
import pytest

import tools
import train
from analysis import session

TINY_HP = {'n_rnn': 32, 'activation': 'softplus', 'batch_size_test': 64}


@pytest.fixture(scope='session')
def tiny_model_dir(tmp_path_factory):
    """A tiny all_new model: n_rnn 32, checkpoints 0, 128, ..., 1280 (display_step 2).

    Twenty steps cannot train a network, so log['perf_<rule>'] is replaced by a ramp from
    0.1 to 1.0 over the checkpoints: the analyses then see early (≤ 0.35), mid (≤ 0.65)
    and mature checkpoints. Everything else (weights, H, behaviour) is real.
    Treat it as read-only; use ``model_copy`` to write into a model folder.
    """
    model_dir = str(tmp_path_factory.mktemp('models') / 'tiny')
    log = train.train(model_dir, hp=TINY_HP, max_steps=1280, display_step=2, seed=0,
                      verbose=False)
    ramp = np.linspace(0.1, 1.0, len(log['trials'])).round(3).tolist()
    for rule in log['rules'] if 'rules' in log else tools.load_hp(model_dir)['rule_trains']:
        log['perf_' + rule] = ramp
    log['perf_min'] = ramp
    log['perf_avg'] = ramp
    tools.save_log(log, model_dir)
    return model_dir


# The performance curve the small model's log gets for every rule.
SMALL_PERF = [0.05, 0.4, 0.9, 1.0, 1.0, 1.0]


@pytest.fixture(scope='session')
def small_model_dir(tmp_path_factory):
    """A smaller all_new model: n_rnn 16, dt 50 ms (70 steps per ODR trial instead of 175:
    the cross-temporal decoder's cost grows with the square of the steps, the behaviour
    analyses' with the steps), checkpoints 0, 32, ..., 160 (6).

    Its log's performance is SMALL_PERF for every rule: checkpoint 0 is early (0.05), 32
    mid (0.4), 64 … 160 mature. Treat it as read-only.
    """
    model_dir = str(tmp_path_factory.mktemp('models') / 'small')
    log = train.train(model_dir, hp={'n_rnn': 16, 'activation': 'softplus', 'dt': 50,
                                     'batch_size_train': 32, 'batch_size_test': 32},
                      max_steps=160, display_step=1, seed=0, verbose=False)
    assert log['trials'] == [0, 32, 64, 96, 128, 160]
    for rule in tools.load_hp(model_dir)['rule_trains']:
        log['perf_' + rule] = SMALL_PERF
    log['perf_min'] = log['perf_avg'] = SMALL_PERF
    tools.save_log(log, model_dir)
    return model_dir


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path):
    """A private copy of the tiny model that a test may write pickles into."""
    dst = str(tmp_path / 'tiny')
    shutil.copytree(tiny_model_dir, dst)
    return dst


@pytest.fixture
def figure_root(tmp_path):
    """Run the test in an analysis session of its own whose figures go to a temporary
    folder; returns that folder."""
    root = tmp_path / 'figure'
    with session.Session(figure_root=str(root)):
        yield root
