"""prefetch.Prefetcher, and train() with its background draws against a serial loop."""

import itertools
import os
import threading
from collections import defaultdict

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import task
import tools
import train
from network import Model
from prefetch import Prefetcher

TINY = {'n_rnn': 16, 'activation': 'softplus', 'batch_size_test': 32}


# -- Prefetcher ---------------------------------------------------------------------------
def test_items_arrive_complete_and_in_order():
    assert list(Prefetcher(iter(range(200)), depth=3)) == list(range(200))


def test_the_producer_runs_at_most_depth_ahead():
    produced = []

    def items():
        for i in range(50):
            produced.append(i)
            yield i

    prefetcher = Prefetcher(items(), depth=4)
    for consumed, item in enumerate(prefetcher, start=1):
        threading.Event().wait(0.002)  # let the producer run ahead as far as it may
        # 4 queued + 1 produced and waiting for room; the consumer holds `consumed`.
        assert len(produced) <= consumed + 4 + 1
        assert item == consumed - 1


@pytest.mark.parametrize('error', [ValueError('bad draw'), KeyboardInterrupt()])
def test_an_error_is_raised_where_the_item_would_have_been(error):
    def items():
        yield from range(3)
        raise error

    prefetcher = Prefetcher(items(), depth=10)
    assert [next(prefetcher) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(type(error)):
        next(prefetcher)
    with pytest.raises(StopIteration):
        next(prefetcher)


def test_close_stops_a_producer_blocked_on_a_full_queue():
    with Prefetcher(itertools.count(), depth=2) as prefetcher:
        assert next(prefetcher) == 0
    assert not prefetcher._thread.is_alive()
    with pytest.raises(ValueError, match='depth'):
        Prefetcher(iter([]), depth=0)


# -- train(): the draws made ahead are the draws a serial loop makes ---------------------
def serial_training(max_trials, display_step, seed):
    """The training loop written plainly: every draw when it is needed, noise in-graph.

    Returns the log, and per checkpoint the weights and the state of hp['rng'].
    """
    hp = train.prepare_hp(TINY, seed=seed)
    model = Model('unused', hp=hp)
    hp, batch = model.hp, hp['batch_size_train']
    log, weights, rng_states = defaultdict(list), [], []
    with tf.Session() as sess:
        model.initialize()
        for step in itertools.count():
            if step % display_step == 0 or step * batch >= max_trials:
                log['trials'].append(step * batch)
                train.do_eval(sess, model, log, hp['rule_trains'], step=step)
                weights.append(sess.run(model.var_list))
                rng_states.append(hp['rng'].get_state())
                if step * batch >= max_trials:
                    break
            rule = hp['rng'].choice(hp['rule_trains'], p=hp['rule_probs'])
            trial = task.generate_trials(rule, hp, 'random', batch_size=batch)
            sess.run(model.train_step, {model.x: trial.x, model.y: trial.y,
                                        model.c_mask: trial.c_mask,
                                        model.noise_seed: train._train_noise_seed(hp, step)})
        names = [v.op.name for v in model.var_list]
    return log, [dict(zip(names, w)) for w in weights], rng_states


def test_training_with_draws_ahead_equals_the_serial_loop(tmp_path):
    """Same trials in the same order, same noise, same RNG state saved: same checkpoints
    and log, bit for bit."""
    log = train.train(str(tmp_path), hp=TINY, max_steps=320, display_step=2, seed=5,
                      verbose=False)
    ref_log, ref_weights, ref_rng = serial_training(320, 2, seed=5)
    assert log['trials'] == ref_log['trials'] == [0, 128, 256, 320]
    for key in ref_log:
        assert log[key] == ref_log[key], key
    for trials, weights, rng_state in zip(log['trials'], ref_weights, ref_rng):
        ckpt = os.path.join(tools.checkpoint_dir(str(tmp_path), trials), tools.CKPT_NAME)
        for name, value in weights.items():
            np.testing.assert_array_equal(tf.train.load_variable(ckpt, name), value)
        saved = tools.load_rng_state(os.path.join(tools.checkpoint_dir(
            str(tmp_path), trials), tools.RNG_FILE)).get_state()
        assert saved[2:] == rng_state[2:]
        np.testing.assert_array_equal(saved[1], rng_state[1])
