"""Training speed of this suite against a straightforward baseline, per 1,280-trial interval.

    python benchmarks/bench_train.py [--n-rnn 256] [--repeats 5] [--intervals 5]
                                     [--rounds 2] [--gradient-only] [--noise-only]

The baseline is the original suite's computation written straightforwardly in the same
TensorFlow: input concatenated with h and tf.random_normal inside tf.scan, TensorFlow's
automatic gradient, 16 evaluation batches of 32 run one by one per rule, checkpoints with
their meta graph, default session settings, and everything one after the other in one
thread (draw a batch, run the step, ...). The suite is train.train() as users run it.
Both train the paper's network from seed 0 on the same trials in the same order.

A 1,280-trial interval = 20 training steps + one evaluation + one checkpoint save. The
interval rows are measured in the two training loops: the mean time between checkpoints
over --intervals intervals after the first (which holds TensorFlow's one-off graph
optimisations); with --rounds R the loops run R times, alternately, and each interval
counts with its fastest round (the same interval does the same work in every round, so
this filters out other processes). The component rows are single session calls as each
loop makes them; the suite's trials and recurrent noise are drawn ahead by its background
thread (rows "draws ...", off the critical path). Also printed: the CPU work of an
interval, piece by piece on one thread (its sum over the cores bounds the interval from
below), the time of an interval's matrix products alone on this machine's BLAS (the
physical limit) and the load average. The last line is `interval ratio: X.XX`
(baseline / suite interval).

Every measurement runs in a new Python process: TensorFlow sizes its per-operation thread
pool once per process, from the first session's config, so a process that had run another
measurement first would run the next one with the wrong threads (the baseline's are
TensorFlow's defaults, the suite's train.session_config()).
"""

import argparse
import multiprocessing
import os
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import tensorflow.compat.v1 as tf
from threadpoolctl import threadpool_limits

import network
import task
import tools
import train
from network import Model, get_perf

tf.disable_v2_behavior()

INTERVAL_STEPS = 20  # the paper run: a checkpoint every 20 steps of 64 trials
TRAIN_BATCH, EVAL_BATCH = 64, 512


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
        tools.mkdir_p(folder)
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


def _suite_session():
    """A session configured as train() configures its own."""
    return tf.Session(config=train.session_config())


def _fresh(fn, *args):
    """fn(*args) run in a new Python process (see the module docstring)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as pool:
        return pool.submit(fn, *args).result()


def measure(kind, n_rnn, repeats, workdir):
    """{row name: seconds} of the component rows for 'suite' or 'baseline'."""
    hp = paper_hp(n_rnn)
    model = Model(workdir, hp=hp) if kind == 'suite' else BaselineModel(hp)
    hp = model.hp
    res = {}
    with (_suite_session() if kind == 'suite' else tf.Session()) as sess:
        sess.run(tf.global_variables_initializer())
        step_times, draw_times = {}, {}
        for rule in hp['rules']:
            def draw():
                trial = task.generate_trials(rule, hp, 'random', batch_size=TRAIN_BATCH)
                feed = {model.x: trial.x, model.y: trial.y, model.c_mask: trial.c_mask}
                if kind == 'suite':
                    seed = train._train_noise_seed(hp, 1)
                    feed[model.noise] = model.draw_noise(trial.x, seed)
                return trial, feed

            trial, feed = draw()
            step_times[rule] = _time(lambda: sess.run(model.train_step, feed), repeats)
            draw_times[rule] = _time(draw, repeats)
            res['train step {} (T={})'.format(rule, trial.x.shape[0])] = step_times[rule]
        res['train step, mean over rules'] = float(np.mean(list(step_times.values())))
        res['draws of a step (suite: background)'] = float(np.mean(list(
            draw_times.values())))
        n_eval = max(1, repeats // 2)
        if kind == 'suite':
            model.eval_slots(len(hp['rules']))

            def draw_eval():
                return train.draw_eval_noise(model, train.eval_batches(hp, 0))

            batches = draw_eval()
            options = train.eval_run_options()
            res['evaluation (6 rules x 512 trials)'] = _time(
                lambda: train.do_eval(sess, model, defaultdict(list), hp['rules'],
                                      batches=batches, options=options), n_eval)
            res['draws of an evaluation (suite: background)'] = _time(draw_eval, n_eval)
            save_fn = lambda: model.save(os.path.join(workdir, 'ckpt'))
        else:
            # The baseline draws its evaluation trials inside its evaluation.
            res['evaluation (6 rules x 512 trials)'] = _time(lambda: model.do_eval(sess, hp),
                                                             n_eval)
            res['draws of an evaluation (suite: background)'] = _time(
                lambda: [task.generate_trials(rule, hp, 'random', batch_size=32)
                         for rule in hp['rules'] for _ in range(16)], n_eval)
            save_fn = lambda: model.save(sess, os.path.join(workdir, 'ckpt_base'))
        res['checkpoint save'] = _time(save_fn, repeats)
    return res


def baseline_loop(n_rnn, n_intervals, workdir):
    """Seconds between the checkpoints of the baseline's training loop, (n_intervals,)."""
    hp = paper_hp(n_rnn)
    model = BaselineModel(hp)
    starts = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(INTERVAL_STEPS * n_intervals + 1):
            if step % INTERVAL_STEPS == 0:
                starts.append(time.perf_counter())
                if step == INTERVAL_STEPS * n_intervals:
                    break
                model.do_eval(sess, hp)
                model.save(sess, os.path.join(workdir, 'baseline_loop', str(step)))
            rule = hp['rng'].choice(hp['rule_trains'], p=hp['rule_probs'])
            trial = task.generate_trials(rule, hp, 'random', batch_size=TRAIN_BATCH)
            sess.run(model.train_step, {model.x: trial.x, model.y: trial.y,
                                        model.c_mask: trial.c_mask})
    return np.diff(starts)


def suite_loop(n_rnn, n_intervals, workdir):
    """Seconds between the checkpoints of train.train(), (n_intervals,)."""
    folder = tempfile.mkdtemp(dir=workdir)
    log = train.train(folder, hp=dict(train.PAPER_HP, n_rnn=n_rnn),
                      max_steps=INTERVAL_STEPS * TRAIN_BATCH * n_intervals,
                      display_step=INTERVAL_STEPS, ruleset=train.PAPER_RULESET,
                      rule_trains=list(train.PAPER_RULE_TRAINS), seed=0, verbose=False)
    return np.diff(log['times'])


def matmul_limit(n_rnn, repeats):
    """Seconds the matrix products of one interval take alone (numpy's BLAS).

    A training step on T steps: T products (64, N)·(N, N) forward and T backward, the
    recurrent-weight gradient (N, 64T)·(64T, N), the input projection and its gradient,
    the read-out and its two gradients; 20 steps with the mean T of the six rules. An
    evaluation: per rule T products (512, N)·(N, N), the input projection and the
    read-out. Each product is timed alone, on warm caches, with one BLAS thread and with
    all cores, and the faster counts: a lower bound for the network.
    """
    hp = paper_hp(n_rnn)
    n, n_in, n_out = n_rnn, hp['n_input'], hp['n_output']
    rs = np.random.RandomState(0)
    cache = {}

    def product(m, k, p):
        """Seconds of one (m, k)·(k, p) float32 product."""
        if (m, k, p) not in cache:
            a = rs.randn(m, k).astype(np.float32)
            b = rs.randn(k, p).astype(np.float32)
            calls = max(1, int(2e8 // (m * k * p)))  # ≈ 0.4 GFLOP per timing
            best = np.inf
            for threads in (1, os.cpu_count()):
                with threadpool_limits(threads, user_api='blas'):
                    for _ in range(repeats):
                        t0 = time.perf_counter()
                        for _ in range(calls):
                            np.dot(a, b)
                        best = min(best, (time.perf_counter() - t0) / calls)
            cache[m, k, p] = best
        return cache[m, k, p]

    steps = [task.generate_trials(r, hp, 'random', batch_size=1).x.shape[0]
             for r in hp['rules']]
    train_s = np.mean([
        2 * T * product(TRAIN_BATCH, n, n) + product(n, TRAIN_BATCH * T, n) +
        product(TRAIN_BATCH * T, n_in, n) + product(n_in, TRAIN_BATCH * T, n) +
        product(TRAIN_BATCH * T, n, n_out) + product(TRAIN_BATCH * T, n_out, n) +
        product(n, TRAIN_BATCH * T, n_out) for T in steps])
    eval_s = sum(T * product(EVAL_BATCH, n, n) + product(EVAL_BATCH * T, n_in, n) +
                 product(EVAL_BATCH * T, n, n_out) for T in steps)
    return INTERVAL_STEPS * train_s + eval_s


def cpu_work(n_rnn, repeats):
    """{piece: CPU seconds} of one interval of the suite, each piece alone on one thread.

    Pieces: the recurrent noise and the trials of 20 training steps (mean over the six
    rules) and of an evaluation, the 20 session calls of the training steps and the
    evaluation's (noise fed). Their sum over the number of cores is the least time an
    interval can take with this computation, however well the threads overlap.
    """
    hp = paper_hp(n_rnn)
    model = Model('unused', hp=hp)
    hp = model.hp
    model.eval_slots(len(hp['rules']))

    def cpu(fn):
        fn()
        best = np.inf
        for _ in range(repeats):
            t0 = time.process_time()
            fn()
            best = min(best, time.process_time() - t0)
        return best

    res = {}
    with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1,
                                          inter_op_parallelism_threads=1)) as sess:
        sess.run(tf.global_variables_initializer())
        trials = {r: task.generate_trials(r, hp, 'random', batch_size=TRAIN_BATCH)
                  for r in hp['rules']}
        seed = train._train_noise_seed(hp, 1)

        noise = {r: model.draw_noise(t.x, seed) for r, t in trials.items()}
        res['noise of 20 steps'] = INTERVAL_STEPS * np.mean(
            [cpu(lambda: model.draw_noise(t.x, seed)) for t in trials.values()])
        res['trials of 20 steps'] = INTERVAL_STEPS * np.mean(
            [cpu(lambda: task.generate_trials(r, hp, 'random', batch_size=TRAIN_BATCH))
             for r in hp['rules']])
        res['20 training steps'] = INTERVAL_STEPS * np.mean(
            [cpu(lambda: sess.run(model.train_step, {
                model.x: t.x, model.y: t.y, model.c_mask: t.c_mask, model.noise: noise[r]}))
             for r, t in trials.items()])
        batches = train.eval_batches(hp, 0)
        res['noise of an evaluation'] = cpu(
            lambda: train.draw_eval_noise(model, batches))
        res['trials of an evaluation'] = cpu(lambda: train.eval_batches(hp, 0))
        res['evaluation'] = cpu(lambda: train.do_eval(sess, model, defaultdict(list),
                                                      hp['rules'], batches=batches))
    return res


def noise_speed(repeats, shape=(175, EVAL_BATCH, 256)):
    """ns per value of the recurrent noise of one evaluation rule, drawn by TensorFlow's
    stateless_normal op (one thread) and by noise.stateless_normal (into a preallocated
    array, as fast as it goes), best of `repeats`; and whether the bits are the same."""
    import noise
    sigma = float(np.sqrt(2 / 0.2) * 0.05)
    seed = np.array([0, 64 * 7 + 1], dtype=np.int64)
    with tf.Graph().as_default():
        drawn = tf.random.stateless_normal(shape, seed=tf.constant(seed), stddev=sigma)
        config = tf.ConfigProto(intra_op_parallelism_threads=1,
                                inter_op_parallelism_threads=1)
        with tf.Session(config=config) as sess:
            reference = sess.run(drawn)
            t_tf = min(_time(lambda: sess.run(drawn), 1) for _ in range(repeats))
    out = noise.stateless_normal(shape, seed, sigma)
    t_np = min(_time(lambda: noise.stateless_normal(shape, seed, sigma, out=out), 1)
               for _ in range(repeats))
    n = int(np.prod(shape))
    return 1e9 * t_tf / n, 1e9 * t_np / n, bool(np.array_equal(out.view(np.uint32),
                                                               reference.view(np.uint32)))


def autodiff_recurrence(drive, w_rec, alpha, activation, with_gradient=True,
                        final_only=False):
    """network.leaky_recurrence, its gradient left to TensorFlow (tf.scan, back_prop)."""
    if final_only:      # only the analyses' last-step pass asks for it
        raise ValueError('the automatic-gradient recurrence has no final_only pass')
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
    parser.add_argument('--intervals', type=int, default=5,
                        help='intervals timed in each training loop, after the first')
    parser.add_argument('--rounds', type=int, default=2,
                        help='times each training loop runs (each interval: fastest round)')
    parser.add_argument('--gradient-only', action='store_true',
                        help='only the row: hand-written backward pass vs TensorFlow '
                             'autodiff')
    parser.add_argument('--noise-only', action='store_true',
                        help='only the row: recurrent noise by TensorFlow vs noise.py')
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    # First, while no TensorFlow thread pool exists to disturb the BLAS threads.
    limit = None if args.noise_only else matmul_limit(args.n_rnn, args.repeats)
    t_tf, t_np, same = _fresh(noise_speed, args.repeats)
    print('recurrent noise of an evaluation rule (175 x 512 x 256): TensorFlow\'s '
          'stateless_normal {:.1f} ns per value (one thread), noise.stateless_normal {:.1f} '
          'ns ({:.1f}x); same bits: {}'.format(t_tf, t_np, t_tf / t_np, same))
    if args.noise_only:
        return
    grad = _fresh(compare_gradients, args.n_rnn, args.repeats)
    print('\nn_rnn {}, batch 64: train step, mean over rules: hand-written backward {:.1f} '
          'ms, TensorFlow autodiff {:.1f} ms ({:+.0f} %); largest gradient difference '
          '{:.1e} (relative)'.format(args.n_rnn, 1e3 * grad['hand-written'],
                                     1e3 * grad['autodiff'],
                                     100 * (grad['autodiff'] / grad['hand-written'] - 1),
                                     grad['max grad diff']))
    if args.gradient_only:
        return
    loops = {'baseline': [], 'suite': []}
    with tempfile.TemporaryDirectory() as workdir:
        base = _fresh(measure, 'baseline', args.n_rnn, args.repeats, workdir)
        suite = _fresh(measure, 'suite', args.n_rnn, args.repeats, workdir)
        work = _fresh(cpu_work, args.n_rnn, args.repeats)
        for _ in range(args.rounds):
            # One interval more than timed: the first holds the one-off graph optimisations.
            loops['baseline'].append(_fresh(baseline_loop, args.n_rnn, args.intervals + 1,
                                            workdir))
            loops['suite'].append(_fresh(suite_loop, args.n_rnn, args.intervals + 1,
                                         workdir))
    for res, kind in ((base, 'baseline'), (suite, 'suite')):
        res['interval (training loop, measured)'] = float(np.mean(
            np.min(loops[kind], axis=0)[1:]))
    print('\nn_rnn {}, batch {} (train) / {} (eval), {} cores, load average {:.1f} at the '
          'start'.format(args.n_rnn, TRAIN_BATCH, EVAL_BATCH, os.cpu_count(), load))
    print('{:<44s} {:>12s} {:>12s} {:>8s}'.format('', 'baseline ms', 'suite ms', 'ratio'))
    for key in base:
        print('{:<44s} {:>12.1f} {:>12.1f} {:>7.2f}x'.format(
            key, 1e3 * base[key], 1e3 * suite[key], base[key] / suite[key]))
    for kind in ('baseline', 'suite'):
        print('{} intervals, s (fastest of {} rounds): {}'.format(
            kind, args.rounds, ' '.join('{:.2f}'.format(t)
                                        for t in np.min(loops[kind], axis=0)[1:])))
    total = sum(work.values())
    print('CPU work of an interval, each piece alone on one thread: {:.0f} ms ({}); on {} '
          'cores at least {:.0f} ms'.format(
              1e3 * total, ', '.join('{} {:.0f} %'.format(k, 100 * v / total)
                                     for k, v in work.items()),
              os.cpu_count(), 1e3 * total / os.cpu_count()))
    interval = suite['interval (training loop, measured)']
    base_interval = base['interval (training loop, measured)']
    print('matrix products of an interval alone (this machine\'s BLAS): {:.0f} ms — the '
          'suite takes {:.1f}x that'.format(1e3 * limit, interval / limit))
    print('paper run (491 intervals = 628,480 trials): suite {:.1f} min, baseline {:.1f} '
          'min'.format(491 * interval / 60, 491 * base_interval / 60))
    print('interval ratio: {:.2f}'.format(base_interval / interval))


if __name__ == '__main__':
    main()
