"""Training speed: ms per step per rule, ms per evaluation, ms per save, s per interval.

    python benchmarks/bench_train.py [--n-rnn 256] [--repeats 5]

Compares this suite's network and evaluation with a straightforward baseline written
the way the original suite computes (input concatenated with h inside the loop, noise
drawn inside the loop, 16 evaluation batches of 32 run one by one per rule, checkpoint
with its meta graph). Both use the same tasks, batch sizes and session settings.
A 1,280-trial interval = 20 training steps + one evaluation + one checkpoint save.
"""

import argparse
import os
import tempfile
import time
from collections import defaultdict

import numpy as np
import tensorflow.compat.v1 as tf

import network
import task
import tools
import train
from network import Model, get_perf

tf.disable_v2_behavior()


class BaselineModel(object):
    """Straightforward leaky RNN: [x_t, h] · W inside tf.scan, tf.random_normal per step."""

    def __init__(self, hp):
        tf.reset_default_graph()
        tf.set_random_seed(hp['seed'])
        n_in, n, n_out = hp['n_input'], hp['n_rnn'], hp['n_output']
        alpha = hp['dt'] / hp['tau']
        sigma = np.sqrt(2 / alpha) * hp['sigma_rec']
        rng = np.random.RandomState(hp['seed'])
        w0 = np.concatenate([rng.randn(n_in, n) / np.sqrt(n_in),
                             0.5 * tools.gen_ortho_matrix(n, rng)]).astype(np.float32)
        self.x = tf.placeholder(tf.float32, [None, None, n_in])
        self.y = tf.placeholder(tf.float32, [None, None, n_out])
        self.c_mask = tf.placeholder(tf.float32, [None, n_out])
        with tf.variable_scope('rnn/leaky_rnn_cell'):
            kernel = tf.get_variable('kernel', initializer=w0)
            bias = tf.get_variable('bias', [n], initializer=tf.zeros_initializer())

        def step(h, x_t):
            pre = tf.matmul(tf.concat([x_t, h], 1), kernel) + bias
            pre = pre + tf.random_normal(tf.shape(h), stddev=sigma)
            return (1 - alpha) * h + alpha * tf.nn.softplus(pre)

        h0 = tf.zeros(tf.stack([tf.shape(self.x)[1], n]))
        self.h = tf.scan(step, self.x, initializer=h0)
        with tf.variable_scope('output'):
            w_out = tf.get_variable('weights', [n, n_out])
            b_out = tf.get_variable('biases', [n_out], initializer=tf.zeros_initializer())
        y_flat = tf.sigmoid(tf.matmul(tf.reshape(self.h, (-1, n)), w_out) + b_out)
        self.y_hat = tf.reshape(y_flat, tf.stack([-1, tf.shape(self.h)[1], n_out]))
        self.cost_lsq = tf.reduce_mean(tf.square(
            (tf.reshape(self.y, (-1, n_out)) - y_flat) * self.c_mask))
        self.cost_reg = tf.constant(0.)
        opt = tf.train.AdamOptimizer(hp['learning_rate'])
        gv = opt.compute_gradients(self.cost_lsq)
        self.train_step = opt.apply_gradients([(tf.clip_by_value(g, -1., 1.), v)
                                               for g, v in gv])
        self.saver = tf.train.Saver(max_to_keep=0)
        self.hp = hp

    def do_eval(self, sess, hp):
        for rule in hp['rules']:
            for _ in range(16):
                trial = task.generate_trials(rule, hp, 'random', batch_size=32)
                feed = {self.x: trial.x, self.y: trial.y, self.c_mask: trial.c_mask}
                _, _, y_hat = sess.run([self.cost_lsq, self.cost_reg, self.y_hat], feed)
                get_perf(y_hat, trial.y_loc)

    def save(self, sess, folder):
        self.saver.save(sess, os.path.join(folder, 'model.ckpt'))


def paper_hp(n_rnn):
    return train.prepare_hp(dict(train.PAPER_HP, n_rnn=n_rnn), train.PAPER_RULESET,
                            list(train.PAPER_RULE_TRAINS), seed=0)


def _time(fn, repeats):
    fn()  # warm-up: graph optimisation, first allocation
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def measure(kind, n_rnn, repeats, workdir):
    """{row name: seconds} for 'suite' or 'baseline'."""
    hp = paper_hp(n_rnn)
    model = Model(workdir, hp=hp) if kind == 'suite' else BaselineModel(hp)
    hp = model.hp
    res = {}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        step_times = {}
        for rule in hp['rules']:
            trial = task.generate_trials(rule, hp, 'random', batch_size=64)
            feed = {model.x: trial.x, model.y: trial.y, model.c_mask: trial.c_mask}
            step_times[rule] = _time(lambda: sess.run(model.train_step, feed), repeats)
            res['train step {} (T={})'.format(rule, trial.x.shape[0])] = step_times[rule]
        mean_step = float(np.mean(list(step_times.values())))
        res['train step, mean over rules'] = mean_step
        if kind == 'suite':
            eval_fn = lambda: train.do_eval(sess, model, defaultdict(list), hp['rules'])
            save_fn = lambda: model.save(os.path.join(workdir, 'ckpt'))
        else:
            eval_fn = lambda: model.do_eval(sess, hp)
            save_fn = lambda: model.save(sess, os.path.join(workdir, 'ckpt_base'))
        res['evaluation (6 rules x 512 trials)'] = _time(eval_fn, max(1, repeats // 2))
        res['checkpoint save'] = _time(save_fn, repeats)
        gen = _time(lambda: task.generate_trials('odr', hp, 'random', batch_size=64), repeats)
        res['interval (20 steps + eval + save)'] = (
            20 * (mean_step + gen) + res['evaluation (6 rules x 512 trials)'] +
            res['checkpoint save'])
    return res


def autodiff_recurrence(drive, w_rec, alpha, activation, with_gradient=True):
    """network.leaky_recurrence, its gradient left to TensorFlow (tf.scan, back_prop)."""
    f = network.get_activation(activation)

    def step(h, d):
        return h + alpha * (f(d + tf.matmul(h, w_rec)) - h)

    return tf.scan(step, drive, initializer=tf.zeros_like(drive[0]),
                   back_prop=with_gradient, name='leaky_rnn_scan')


def compare_gradients(n_rnn, repeats, rounds=5):
    """Training step (ms, mean over the six rules, batch 64) with the hand-written backward
    pass of network.leaky_recurrence and with TensorFlow's automatic gradient.

    Both networks start from the same weights and see the same batches; the two are
    timed in alternating rounds (a change of machine load hits both) and the fastest
    round counts. Returns {'hand-written': s, 'autodiff': s, 'max grad diff': float}.
    """
    hp = paper_hp(n_rnn)
    rng = np.random.RandomState(1)
    feeds, nets = [], {}
    for kind, recurrence in (('hand-written', network.leaky_recurrence),
                             ('autodiff', autodiff_recurrence)):
        original, network.leaky_recurrence = network.leaky_recurrence, recurrence
        try:
            model = Model('unused', hp=hp)  # a graph of its own (reset_default_graph)
        finally:
            network.leaky_recurrence = original
        sess = tf.Session(graph=tf.get_default_graph(), config=tf.ConfigProto(
            intra_op_parallelism_threads=0, inter_op_parallelism_threads=0))
        with sess.graph.as_default():
            sess.run(tf.global_variables_initializer())
        nets[kind] = (model, sess)
    first_model, first_sess = nets['hand-written']
    values = {v.op.name: first_sess.run(v) for v in first_model.var_list}
    for model, sess in nets.values():
        for v in model.var_list:
            v.load(values[v.op.name], sess)
    for rule in hp['rules']:
        hp['rng'] = rng
        trial = task.generate_trials(rule, hp, 'random', batch_size=64)
        feeds.append(lambda m, t=trial: {m.x: t.x, m.y: t.y, m.c_mask: t.c_mask})
    grads = {kind: sess.run([g for g, _ in model.grads_and_vars], feeds[0](model))
             for kind, (model, sess) in nets.items()}
    diff = max(float(np.max(np.abs(a - b)) / (np.max(np.abs(a)) + 1e-12))
               for a, b in zip(grads['hand-written'], grads['autodiff']))
    times = {kind: [] for kind in nets}
    for _ in range(rounds):
        for kind, (model, sess) in nets.items():
            per_rule = [_time(lambda: sess.run(model.train_step, feed(model)), repeats)
                        for feed in feeds]
            times[kind].append(float(np.mean(per_rule)))
    out = {kind: min(t) for kind, t in times.items()}
    out['max grad diff'] = diff
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--n-rnn', type=int, default=256)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--gradient-only', action='store_true',
                        help='only the row: hand-written backward pass vs TensorFlow '
                             'autodiff')
    args = parser.parse_args(argv)
    grad = compare_gradients(args.n_rnn, args.repeats)
    print('\nn_rnn {}, batch 64: train step, mean over rules: hand-written backward {:.1f} '
          'ms, TensorFlow autodiff {:.1f} ms ({:+.0f} %); largest gradient difference '
          '{:.1e} (relative)'.format(args.n_rnn, 1e3 * grad['hand-written'],
                                     1e3 * grad['autodiff'],
                                     100 * (grad['autodiff'] / grad['hand-written'] - 1),
                                     grad['max grad diff']))
    if args.gradient_only:
        return
    with tempfile.TemporaryDirectory() as workdir:
        base = measure('baseline', args.n_rnn, args.repeats, workdir)
        suite = measure('suite', args.n_rnn, args.repeats, workdir)
    print('\nn_rnn {}, batch 64 (train) / 512 (eval), {} cores'.format(
        args.n_rnn, os.cpu_count()))
    print('{:<40s} {:>12s} {:>12s} {:>8s}'.format('', 'baseline ms', 'suite ms', 'ratio'))
    for key in base:
        print('{:<40s} {:>12.1f} {:>12.1f} {:>7.2f}x'.format(
            key, 1e3 * base[key], 1e3 * suite[key], base[key] / suite[key]))
    interval = suite['interval (20 steps + eval + save)']
    print('\npaper run (491 intervals = 628,480 trials): suite {:.1f} min, baseline {:.1f} '
          'min'.format(491 * interval / 60,
                       491 * base['interval (20 steps + eval + save)'] / 60))


if __name__ == '__main__':
    main()
