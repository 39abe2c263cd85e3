"""The recurrent network: TF1-style graph built with public tf.compat.v1 ops only.

Arrays are time-major: inputs x (T, B, n_input), targets y (T, B, n_output), hidden
activity h (T, B, n_rnn); the cost mask is flattened to (T*B, n_output).

The leaky RNN follows SPEC §5:

    pre_t = [x_t, h_{t-1}] · W + b + ξ_t,   ξ ~ N(0, (sqrt(2/alpha)·sigma_rec)²)
    h_t   = (1 − alpha)·h_{t−1} + alpha·f(pre_t),  h_0 = 0

W is one fused kernel ``rnn/leaky_rnn_cell/kernel`` of shape (n_input + n_rnn, n_rnn)
so that the authors' checkpoints load. For speed the input rows of W are applied to the
whole sequence with one matmul before the time loop, and the recurrent noise for all
steps is drawn by one stateless random op (seeded by ``noise_seed``) — the loop body is
then a single (B, n_rnn)·(n_rnn, n_rnn) matmul and the element-wise update. The noise
depends on its seed and shape only, so train() draws it ahead in a background thread and
feeds it in (``Model.noise``).
"""

import os

import numpy as np

import tf_quiet

tf_quiet.install()  # before TensorFlow's first import: its start-up notices stay off
import tensorflow.compat.v1 as tf  # noqa: E402

import noise  # noqa: E402
import tools  # noqa: E402

tf.logging.set_verbosity(tf.logging.ERROR)  # no deprecation notices for users
tf.disable_v2_behavior()

ACTIVATIONS = ('softplus', 'relu', 'tanh', 'power', 'retanh', 'elu')
RNN_TYPES = ('LeakyRNN', 'LeakyGRU', 'GRU', 'LSTM')
W_REC_INITS = ('diag', 'randortho', 'randgauss')
OPTIMIZERS = ('adam', 'sgd')
LOSS_TYPES = ('lsq',)

# Initial recurrent gain per activation (SPEC §5); w_in_start is 1 for all of them.
W_REC_START = {'softplus': 0.5, 'relu': 0.5, 'retanh': 0.5, 'elu': 0.5,
               'tanh': 1.0, 'power': 0.01}


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError('Unknown {} {!r}; valid choices: {}'.format(
            name, value, ', '.join(repr(c) for c in choices)))


def get_activation(name):
    """The activation function f named in hp['activation']."""
    _check_choice('activation', name, ACTIVATIONS)
    return {
        'softplus': softplus,
        'relu': tf.nn.relu,
        'tanh': tf.tanh,
        'power': lambda v: tf.square(tf.nn.relu(v)),
        'retanh': lambda v: tf.tanh(tf.nn.relu(v)),
        'elu': tf.nn.elu,
    }[name]


# TensorFlow's float32 Softplus kernel returns x above -threshold and exp(x) below it:
# threshold = log(machine epsilon) + 2 (Eigen's float log, then a float addition).
_SOFTPLUS_THRESHOLD = np.float32(np.log(np.finfo(np.float32).eps)) + np.float32(2)


def softplus(z):
    """log(1 + exp(z)) of a float32 tensor: tf.nn.softplus bit for bit, but faster on CPU.

    The same branches and the same Eigen exp and log1p as TensorFlow's kernel, as separate
    element-wise operations: that kernel evaluates exp twice per element, and the
    activation is the costliest element-wise step of the recurrence. Checked bit for bit
    against tf.nn.softplus in the tests (random bit patterns, both thresholds, ±inf, NaN).
    """
    e = tf.exp(z)
    return tf.where(z > -_SOFTPLUS_THRESHOLD, z,
                    tf.where(z < _SOFTPLUS_THRESHOLD, e, tf.math.log1p(e)))


def is_weight(v):
    """True for connection-weight variables (kernels), False for biases."""
    return 'kernel' in v.name or 'weight' in v.name


# ----------------------------------------------------------------------------------------
# Read-out
# ----------------------------------------------------------------------------------------
def popvec(y):
    """Population-vector angle in [0, 2π) of ring activity y (..., n_ring) (numpy)."""
    y = np.asarray(y)
    pref = np.arange(0, 2 * np.pi, 2 * np.pi / y.shape[-1])
    temp_sum = y.sum(axis=-1)
    temp_cos = np.sum(y * np.cos(pref), axis=-1) / temp_sum
    temp_sin = np.sum(y * np.sin(pref), axis=-1) / temp_sum
    return np.mod(np.arctan2(temp_sin, temp_cos), 2 * np.pi)


def tf_popvec(y):
    """Population-vector angle in [0, 2π) of a ring tensor y (..., n_ring)."""
    n = y.get_shape().as_list()[-1]
    pref = np.arange(0, 2 * np.pi, 2 * np.pi / n)
    temp_sum = tf.reduce_sum(y, axis=-1)
    temp_cos = tf.reduce_sum(y * np.cos(pref).astype(np.float32), axis=-1) / temp_sum
    temp_sin = tf.reduce_sum(y * np.sin(pref).astype(np.float32), axis=-1) / temp_sum
    return tf.mod(tf.atan2(temp_sin, temp_cos), 2 * np.pi)


def get_perf(y_hat, y_loc):
    """Per-trial performance (B,) from the last time step of y_hat (T, B, n_output).

    Fixating means y_hat_fix > 0.5. Where y_loc < 0 the network must fixate; elsewhere it
    must break fixation and its population-vector angle must lie within 0.2π of y_loc.
    """
    if len(y_hat.shape) != 3:
        raise ValueError('y_hat must have shape (T, B, n_output), got {}'.format(
            y_hat.shape))
    y_loc = y_loc[-1]
    y_hat = y_hat[-1]
    fixating = y_hat[..., 0] > 0.5
    dist = np.abs(y_loc - popvec(y_hat[..., 1:]))
    dist = np.minimum(dist, 2 * np.pi - dist)
    corr_loc = dist < 0.2 * np.pi
    should_fix = y_loc < 0
    return should_fix * fixating + (1 - should_fix) * corr_loc * (1 - fixating)


# ----------------------------------------------------------------------------------------
# Leaky recurrence with a hand-written backward pass
# ----------------------------------------------------------------------------------------
def activation_derivative(name):
    """f'(z) of the activation named in hp['activation']."""
    _check_choice('activation', name, ACTIVATIONS)
    return {
        'softplus': tf.sigmoid,
        'relu': lambda z: tf.cast(z > 0, z.dtype),
        'tanh': lambda z: 1 - tf.square(tf.tanh(z)),
        'power': lambda z: 2 * tf.nn.relu(z),
        'retanh': lambda z: tf.cast(z > 0, z.dtype) * (1 - tf.square(tf.tanh(z))),
        'elu': lambda z: tf.where(z > 0, tf.ones_like(z), tf.exp(tf.minimum(z, 0.))),
    }[name]


def _time_loop(body, n_steps, carry, n_outputs, reverse=False, name=None):
    """Outputs of body over time, each stacked to (T, ...): like tf.scan, minus a copy.

    body(t, carry) returns (carry, a tuple of n_outputs tensors shaped like carry), for
    t = 0 … T−1 (reverse: T−1 … 0). tf.scan would first copy its (T, B, N) inputs into a
    TensorArray; the body here indexes them itself, and a slice along the first axis is a
    view, not a copy (about 5 % of a training step and of an evaluation).
    """
    outputs = tuple(tf.TensorArray(carry.dtype, size=n_steps, element_shape=carry.shape)
                    for _ in range(n_outputs))

    def cond(t, *_):
        return t >= 0 if reverse else t < n_steps

    def step(t, c, *outputs):
        c, values = body(t, c)
        return (t - 1 if reverse else t + 1, c) + tuple(
            ta.write(t, v) for ta, v in zip(outputs, values))

    start = n_steps - 1 if reverse else 0
    final = tf.while_loop(cond, step, (start, carry) + outputs, back_prop=False, name=name)
    return tuple(ta.stack() for ta in final[2:])


class StepDrive(object):
    """The drive of the leaky RNN computed step by step: (x_t·W_in + b) + ξ_t for step t.

    The same numbers as the (T, B, N) drive ``_time_matmul(x, W_in) + b + ξ`` (each row of
    the product is the same n_input-term dot product; tests/test_network.py checks the
    outputs bit for bit), without writing and reading three (T, B, n_rnn) arrays. Measured
    on the paper model, one TensorFlow thread (2026-11-29, quiet machine, best of three):
    the distractor analysis's 8,192 last-step trials 3.46–3.54 s of CPU instead of
    3.69–3.90 s; H of the six tasks' test trials at five checkpoints 1.06–1.09 s instead of
    1.20–1.24 s. (The drive alone, as one (T, B, N) graph, took 0.24 s of a 2,048-trial
    pass.) Training keeps the whole-array drive: its gradient needs it.
    x (T, B, n_input); w_in (n_input, N); bias (N,); noise (T, B, N) or None.
    """

    def __init__(self, x, w_in, bias, noise):
        self.x, self.w_in, self.bias, self.noise = x, w_in, bias, noise

    def at(self, t):
        d = tf.matmul(self.x[t], self.w_in) + self.bias
        return d if self.noise is None else d + self.noise[t]

    def n_steps(self):
        return tf.shape(self.x)[0]

    def h0(self):
        return tf.zeros(tf.stack([tf.shape(self.x)[1], tf.shape(self.w_in)[1]]),
                        dtype=tf.float32)


def leaky_recurrence(drive, w_rec, alpha, activation, with_gradient=True, final_only=False):
    """h (T, B, N) of h_t = h_{t-1} + alpha·(f(z_t) − h_{t-1}), z_t = drive_t + h_{t-1}·w_rec.

    drive (T, B, N) already holds the input projection, the bias and the noise; or, without
    gradient, a StepDrive that computes each step's drive inside the loop. h_0 = 0.
    final_only (no gradient): h_T alone, as (1, B, N) — nothing stacked over time (the
    behaviour analyses score the last step only).
    With with_gradient, backpropagation through time is written out by hand: the reverse
    loop carries only the gradient w.r.t. h (one matmul per step) and the recurrent
    weight gradient is one (N, T·B)·(T·B, N) matmul after the loop. TensorFlow's
    automatic gradient of the loop instead pushes and pops every intermediate and
    accumulates T small weight gradients. Measured with
    ``benchmarks/bench_train.py --gradient-only`` (same weights and batches, gradients
    equal to 6e-7 relative): a training step with the automatic gradient took 9–56 %
    longer at n_rnn 256, batch 64 (six runs; 2 cores shared with other jobs, load ≈ 10,
    hence the spread) and ~50 % longer at n_rnn 32–64 (one run each).
    """
    f = get_activation(activation)
    if isinstance(drive, StepDrive):
        if with_gradient:
            raise ValueError('a StepDrive is for the loops without gradient')
        h0, n_steps, drive_at = drive.h0(), drive.n_steps(), drive.at
    else:
        h0, n_steps = tf.zeros_like(drive[0]), tf.shape(drive)[0]

        def drive_at(t):
            return drive[t]

    def advance(t, h):
        return h + alpha * (f(drive_at(t) + tf.matmul(h, w_rec)) - h)

    if final_only:
        _, h = tf.while_loop(lambda t, h: t < n_steps, lambda t, h: (t + 1, advance(t, h)),
                             (0, h0), back_prop=False, name='leaky_rnn_final')
        return h[None]
    if not with_gradient:
        def step(t, h):
            h = advance(t, h)
            return h, (h,)
        return _time_loop(step, n_steps, h0, 1, name='leaky_rnn')[0]
    df = activation_derivative(activation)

    @tf.custom_gradient
    def recurrence(drive, w_rec):
        def step(t, h):
            z = drive[t] + tf.matmul(h, w_rec)
            h = h + alpha * (f(z) - h)
            return h, (h, z)

        h, z = _time_loop(step, n_steps, h0, 2, name='leaky_rnn')

        def grad(dh):
            # g_t = ∂L/∂h_t = dh_t + (1 − alpha)·g_{t+1} + δ_{t+1}·w_recᵀ,
            # δ_t = ∂L/∂z_t = alpha·f'(z_t)·g_t; the carry holds the last two terms.
            w_t = tf.transpose(w_rec)
            # alpha·f'(z) for every step at once: one large element-wise op instead of
            # several small ones inside the loop.
            gain = alpha * df(z)

            def back(t, carry):
                g = dh[t] + carry
                delta = gain[t] * g
                return (1 - alpha) * g + tf.matmul(delta, w_t), (delta,)

            delta, = _time_loop(back, n_steps, h0, 1, reverse=True,
                                name='leaky_rnn_backward')
            n = tf.shape(w_rec)[0]
            h_prev = tf.concat([h0[None], h[:-1]], axis=0)
            d_w = tf.matmul(tf.reshape(h_prev, tf.stack([-1, n])),
                            tf.reshape(delta, tf.stack([-1, n])), transpose_a=True)
            return delta, d_w

        return h, grad

    return recurrence(drive, w_rec)


# ----------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------
class Model(object):
    """A leaky RNN (or GRU/LSTM) with sigmoid read-out, cost and optimizer.

    Args:
        model_dir: folder of the model (hp.json is loaded from it if hp is None).
        hp: hyper-parameter dict (see train.get_default_hp).
        sigma_rec, dt: optional overrides of hp['sigma_rec'] and hp['dt'].
        restore_only: the network will only run checkpoints restored into it (the
            analyses): its initial weights are not drawn (the Householder product of a
            256-unit orthogonal start takes ~3 s and restore overwrites it) and no optimizer
            is built (train_step, opt and grads_and_vars are None).

    Attributes:
        x (T, B, n_input), y (T, B, n_output), c_mask (T*B, n_output): placeholders.
        noise_seed: int64 (2,) stateless seed of the recurrent noise; defaults to
            [hp['seed'], 0], train() feeds a new value every step.
        noise (T, B, n_rnn): the recurrent noise ξ; by default drawn in the graph from
            noise_seed (for x's T and B), tf.random.stateless_normal with stddev
            noise_stddev. draw_noise() draws the same numbers in numpy, faster (noise.py);
            feed them back to skip the draw (train() does). None when the cell takes no
            noise (sigma_rec 0, GRU, LSTM); noise_stddev is then None too.
        h (T, B, n_rnn), y_hat (T, B, n_output), y_hat_loc (T, B): outputs.
        cost_lsq, cost_reg: scalar costs; train_step: one optimizer step.
    """

    def __init__(self, model_dir, hp=None, sigma_rec=None, dt=None, restore_only=False):
        tf.reset_default_graph()
        if hp is None:
            hp = tools.load_hp(model_dir)
        hp = dict(hp)
        if sigma_rec is not None:
            hp['sigma_rec'] = sigma_rec
        if dt is not None:
            hp['dt'] = dt
        hp['alpha'] = 1.0 * hp['dt'] / hp['tau']
        hp.setdefault('seed', 0)
        _check_choice('activation', hp['activation'], ACTIVATIONS)
        _check_choice('rnn_type', hp['rnn_type'], RNN_TYPES)
        _check_choice('w_rec_init', hp['w_rec_init'], W_REC_INITS)
        _check_choice('loss_type', hp.get('loss_type', 'lsq'), LOSS_TYPES)
        _check_choice('optimizer', hp.get('optimizer', 'adam'), OPTIMIZERS)

        tf.set_random_seed(hp['seed'])
        self.rng = np.random.RandomState(hp['seed'])
        self.model_dir = model_dir
        self.hp = hp

        n_input, n_output = hp['n_input'], hp['n_output']
        self.x = tf.placeholder(tf.float32, [None, None, n_input], name='x')
        self.y = tf.placeholder(tf.float32, [None, None, n_output], name='y')
        self.c_mask = tf.placeholder(tf.float32, [None, n_output], name='c_mask')
        self.noise_seed = tf.placeholder_with_default(
            tf.constant([hp['seed'], 0], dtype=tf.int64), [2], name='noise_seed')
        sigma = noise.recurrent_sigma(hp)
        self.noise_stddev = (sigma if sigma != 0 and hp['rnn_type'] in ('LeakyRNN', 'LeakyGRU')
                             else None)

        # Initial recurrent weights are drawn once, before any graph is built.
        self.restore_only = restore_only
        self.w_rnn0 = self._initial_kernel(hp)
        out = self._forward(self.x, self.noise_seed)
        self.h, self._y_hat_flat, self.y_hat, self.y_hat_loc, self.noise = out
        self.var_list = tf.trainable_variables()
        self.weight_list = [v for v in self.var_list if is_weight(v)]
        self.cost_lsq, self.cost_reg = self._costs(self.h, self._y_hat_flat, self.y,
                                                   self.c_mask)
        self._eval_slots = []
        self._last_step_slot = None

        self.opt = self.grads_and_vars = self.train_step = None
        if not restore_only:
            if hp.get('optimizer', 'adam') == 'adam':
                self.opt = tf.train.AdamOptimizer(learning_rate=hp['learning_rate'])
            else:
                self.opt = tf.train.GradientDescentOptimizer(
                    learning_rate=hp['learning_rate'])
            self.set_optimizer()
        # Every global variable (Adam slots and beta powers included), as the original.
        # Relative paths in the 'checkpoint' file: train.py saves into a temporary folder
        # and renames it, and a model folder copied elsewhere stays valid.
        self.saver = tf.train.Saver(max_to_keep=0, save_relative_paths=True)

    # -- graph pieces ---------------------------------------------------------------------
    def _initial_kernel(self, hp):
        """Initial LeakyRNN kernel from the model's RandomState (None for other cells).

        Fused input: [w_in0; w_rec0] of shape (n_input + n_rnn, n_rnn), w_in0 drawn first;
        separate input: w_rec0 only.
        """
        if hp['rnn_type'] != 'LeakyRNN':
            return None
        n_input, n_rnn = hp['n_input'], hp['n_rnn']
        if self.restore_only:
            rows = n_rnn if hp.get('use_separate_input', False) else n_input + n_rnn
            return np.zeros((rows, n_rnn))
        if hp.get('use_separate_input', False):
            return self._w_rec0(hp, n_rnn)
        w_in0 = self.rng.randn(n_input, n_rnn) / np.sqrt(n_input) * hp.get('w_in_start', 1.0)
        return np.concatenate((w_in0, self._w_rec0(hp, n_rnn)), axis=0)

    def _w_rec0(self, hp, n_rnn):
        """Initial recurrent matrix (n_rnn, n_rnn) drawn from the model's RandomState."""
        start = hp.get('w_rec_start', W_REC_START[hp['activation']])
        if hp['w_rec_init'] == 'diag':
            return start * np.eye(n_rnn)
        if hp['w_rec_init'] == 'randortho':
            return start * tools.gen_ortho_matrix(n_rnn, rng=self.rng)
        return start * self.rng.randn(n_rnn, n_rnn) / np.sqrt(n_rnn)

    def _forward(self, x, noise_seed, with_gradient=True, final_only=False):
        """Network on inputs x (T, B, n_input).

        Returns (h, y_hat flat (T*B, n_out), y_hat, y_hat_loc, noise), noise as described
        for Model.noise; with final_only (no gradient) h and y_hat are those of the last
        step alone, (1, B, ·). Variables are created on the first call and shared by later
        calls.
        """
        hp = self.hp
        with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
            rnn_inputs = (self._build_separate_input(hp, x)
                          if hp.get('use_separate_input', False) else None)
            noise = self._recurrent_noise(hp, x, noise_seed)
            h = self._build_rnn(hp, x, noise, rnn_inputs, with_gradient, final_only)
            return (h,) + self._build_output(hp, h) + (noise,)

    def _recurrent_noise(self, hp, x, noise_seed):
        """ξ for every step, (T, B, n_rnn): a placeholder whose default is the stateless
        draw from noise_seed, or None when sigma_rec is 0 or the cell takes no noise.

        The noise depends on the seed and the shape only, not on the weights: train()
        draws the next step's noise in a background thread and feeds it in.
        """
        if self.noise_stddev is None:
            return None
        shape = tf.concat([tf.shape(x)[:2], [hp['n_rnn']]], axis=0)
        drawn = tf.random.stateless_normal(shape, seed=noise_seed, stddev=self.noise_stddev)
        return tf.placeholder_with_default(drawn, [None, None, hp['n_rnn']], name='noise')

    def _build_separate_input(self, hp, x):
        """Sensory and rule inputs through their own dense layers → (T, B, n_rnn)."""
        n_rnn = hp['n_rnn']
        sensory, rule = tf.split(x, [hp['rule_start'], hp['n_rule']], axis=-1)
        sensory_in = _dense(sensory, n_rnn, 'sen_input', use_bias=True)
        if hp.get('mix_rule', False) is True:
            rule = _dense(rule, hp['n_rule'], 'mix_rule', use_bias=False, trainable=False,
                          initializer=tf.orthogonal_initializer())
        rule_in = _dense(rule, n_rnn, 'rule_input', use_bias=False)
        return sensory_in + rule_in

    def _build_rnn(self, hp, x, noise, rnn_inputs, with_gradient=True, final_only=False):
        """Hidden activity h (T, B, n_rnn); noise (T, B, n_rnn) or None. final_only: h_T
        alone, (1, B, n_rnn) (only the leaky RNN keeps nothing else on the way)."""
        n_input, n_rnn = hp['n_input'], hp['n_rnn']
        alpha = hp['alpha']
        f = get_activation(hp['activation'])
        rnn_type = hp['rnn_type']
        h0 = tf.zeros(tf.stack([tf.shape(x)[1], n_rnn]), dtype=tf.float32)

        if rnn_type == 'LeakyRNN':
            init = tf.constant_initializer(self.w_rnn0.astype(np.float32))
            if rnn_inputs is None:
                with tf.variable_scope('rnn/leaky_rnn_cell'):
                    kernel = tf.get_variable('kernel', [n_input + n_rnn, n_rnn],
                                             initializer=init)
                    bias = tf.get_variable('bias', [n_rnn],
                                           initializer=tf.zeros_initializer())
                w_in, w_rec = kernel[:n_input], kernel[n_input:]
                if with_gradient:
                    drive = _time_matmul(x, w_in) + bias
                else:
                    # computed step by step inside the loop, the noise included
                    drive, noise = StepDrive(x, w_in, bias, noise), None
            else:
                with tf.variable_scope('rnn/leaky_rnn_cell_separate_input'):
                    w_rec = tf.get_variable('kernel', [n_rnn, n_rnn], initializer=init)
                    bias = tf.get_variable('bias', [n_rnn],
                                           initializer=tf.zeros_initializer())
                drive = rnn_inputs + bias
            _take_noise_op_seed()
            if noise is not None:
                drive = drive + noise

            return leaky_recurrence(drive, w_rec, alpha, hp['activation'],
                                    with_gradient=with_gradient, final_only=final_only)

        inputs = x if rnn_inputs is None else rnn_inputs
        n_in = inputs.get_shape().as_list()[-1]
        if rnn_type in ('LeakyGRU', 'GRU'):
            scope = 'rnn/leaky_gru_cell' if rnn_type == 'LeakyGRU' else 'rnn/gru_cell'
            with tf.variable_scope(scope):
                with tf.variable_scope('gates'):
                    w_g = tf.get_variable('kernel', [n_in + n_rnn, 2 * n_rnn])
                    b_g = tf.get_variable('bias', [2 * n_rnn],
                                          initializer=tf.ones_initializer())
                with tf.variable_scope('candidate'):
                    w_c = tf.get_variable('kernel', [n_in + n_rnn, n_rnn])
                    b_c = tf.get_variable('bias', [n_rnn], initializer=tf.zeros_initializer())
            if rnn_type == 'LeakyGRU':
                _take_noise_op_seed()
            g_in = _time_matmul(inputs, w_g[:n_in]) + b_g
            c_in = _time_matmul(inputs, w_c[:n_in]) + b_c
            w_g_h, w_c_h = w_g[n_in:], w_c[n_in:]
            if rnn_type == 'LeakyGRU' and noise is not None:
                c_in = c_in + noise
            leaky = rnn_type == 'LeakyGRU'

            def step(h, elems):
                g_t, c_t = elems
                r, u = tf.split(tf.sigmoid(g_t + tf.matmul(h, w_g_h)), 2, axis=1)
                c = f(c_t + tf.matmul(r * h, w_c_h))
                if leaky:
                    return h + alpha * u * (c - h)
                return u * h + (1 - u) * c

            h = tf.scan(step, (g_in, c_in), initializer=h0, name='gru_scan')
            return h[-1:] if final_only else h

        # LSTM: state is [c, h] stacked on a leading axis so tf.scan carries one tensor.
        with tf.variable_scope('rnn/lstm_cell'):
            w = tf.get_variable('kernel', [n_in + n_rnn, 4 * n_rnn])
            b = tf.get_variable('bias', [4 * n_rnn], initializer=tf.zeros_initializer())
        z_in = _time_matmul(inputs, w[:n_in]) + b
        w_h = w[n_in:]

        def step(state, z_t):
            c, h = state[0], state[1]
            i, j, fg, o = tf.split(z_t + tf.matmul(h, w_h), 4, axis=1)
            c = tf.sigmoid(fg + 1.0) * c + tf.sigmoid(i) * f(j)
            h = tf.sigmoid(o) * f(c)
            return tf.stack([c, h])

        states = tf.scan(step, z_in, initializer=tf.stack([h0, h0]), name='lstm_scan')
        return states[-1:, 1] if final_only else states[:, 1]

    def _build_output(self, hp, h):
        """Sigmoid read-out of h: (y_hat flat (T*B, n_out), y_hat (T, B, n_out), angle)."""
        n_rnn, n_output = hp['n_rnn'], hp['n_output']
        h_flat = tf.reshape(h, (-1, n_rnn))
        if hp.get('use_separate_input', False):
            logits = _dense(h_flat, n_output, 'output', use_bias=True)
        else:
            with tf.variable_scope('output'):
                w_out = tf.get_variable('weights', [n_rnn, n_output])  # Glorot uniform
                b_out = tf.get_variable('biases', [n_output],
                                        initializer=tf.zeros_initializer())
            logits = tf.matmul(h_flat, w_out) + b_out
        y_hat_flat = tf.sigmoid(logits)
        y_hat = tf.reshape(y_hat_flat, tf.stack([-1, tf.shape(h)[1], n_output]))
        _, y_hat_ring = tf.split(y_hat, [1, n_output - 1], axis=-1)
        return y_hat_flat, y_hat, tf_popvec(y_hat_ring)

    def _costs(self, h, y_hat_flat, y, c_mask):
        """(cost_lsq, cost_reg) of SPEC §5 for one forward pass."""
        hp = self.hp
        y_flat = tf.reshape(y, (-1, hp['n_output']))
        cost_lsq = tf.reduce_mean(tf.square((y_flat - y_hat_flat) * c_mask))
        cost_reg = tf.constant(0.)
        if hp.get('l1_h', 0) > 0:
            cost_reg += tf.reduce_mean(tf.abs(h)) * hp['l1_h']
        if hp.get('l2_h', 0) > 0:
            cost_reg += tf.nn.l2_loss(h) * hp['l2_h']
        if hp.get('l1_weight', 0) > 0:
            cost_reg += hp['l1_weight'] * tf.add_n(
                [tf.reduce_mean(tf.abs(v)) for v in self.weight_list])
        if hp.get('l2_weight', 0) > 0:
            cost_reg += hp['l2_weight'] * tf.add_n([tf.nn.l2_loss(v) for v in self.weight_list])
        return cost_lsq, cost_reg

    def draw_noise(self, x, seed):
        """The recurrent noise the graph would draw for input x (T, B, n_input) and int64
        (2,) seed, as float32 (T, B, n_rnn) — the same numbers, drawn in numpy (noise.py,
        five times faster than the graph's op, and without a session). None when the
        cell takes no noise."""
        if self.noise_stddev is None:
            return None
        return noise.stateless_normal((x.shape[0], x.shape[1], self.hp['n_rnn']), seed,
                                      self.noise_stddev)

    def eval_slots(self, n):
        """n independent forward passes in the same graph (built once, then cached).

        Each slot is a dict of placeholders x, y, c_mask, noise_seed, noise (as Model.noise)
        and outputs cost_lsq, cost_reg, h (T, B, n_rnn), y_hat (T, B, n_output),
        y_hat_last (1, B, n_output). Running several slots in one session call lets
        TensorFlow execute them concurrently (the recurrence itself is sequential).
        """
        hp = self.hp
        while len(self._eval_slots) < n:
            k = len(self._eval_slots)
            with tf.name_scope('eval_slot_{}'.format(k)):
                x = tf.placeholder(tf.float32, [None, None, hp['n_input']], name='x')
                y = tf.placeholder(tf.float32, [None, None, hp['n_output']], name='y')
                c_mask = tf.placeholder(tf.float32, [None, hp['n_output']], name='c_mask')
                seed = tf.placeholder(tf.int64, [2], name='noise_seed')
                h, y_hat_flat, y_hat, _, noise = self._forward(x, seed, with_gradient=False)
                cost_lsq, cost_reg = self._costs(h, y_hat_flat, y, c_mask)
            self._eval_slots.append(dict(x=x, y=y, c_mask=c_mask, noise_seed=seed,
                                         noise=noise, cost_lsq=cost_lsq, cost_reg=cost_reg,
                                         h=h, y_hat=y_hat, y_hat_last=y_hat[-1:]))
        return self._eval_slots[:n]

    def last_step_slot(self):
        """A forward pass that computes the output at the last step only (built once):
        dict of placeholders x, noise_seed, noise (as Model.noise) and y_hat_last
        (1, B, n_output) — the same numbers as y_hat[-1:], without stacking h over time
        or reading it out at every step (the behaviour analyses, 8,192 trials per
        checkpoint)."""
        if self._last_step_slot is None:
            hp = self.hp
            with tf.name_scope('last_step'):
                x = tf.placeholder(tf.float32, [None, None, hp['n_input']], name='x')
                seed = tf.placeholder_with_default(
                    tf.constant([hp['seed'], 0], dtype=tf.int64), [2], name='noise_seed')
                _, _, y_hat, _, noise = self._forward(x, seed, with_gradient=False,
                                                      final_only=True)
            self._last_step_slot = dict(x=x, noise_seed=seed, noise=noise, y_hat_last=y_hat)
        return self._last_step_slot

    # -- training, saving -----------------------------------------------------------------
    def set_optimizer(self, extra_cost=None, var_list=None):
        """(Re)build train_step: minimise cost_lsq + cost_reg (+ extra_cost) over var_list,
        every gradient clipped by value to [-1, 1]."""
        if self.restore_only:
            raise ValueError('this Model was built with restore_only=True: it has no '
                             'optimizer; build it with restore_only=False to train')
        if var_list is None:
            var_list = self.var_list
        cost = self.cost_lsq + self.cost_reg
        if extra_cost is not None:
            cost = cost + extra_cost
        self.grads_and_vars = self.opt.compute_gradients(cost, var_list)
        capped = [(tf.clip_by_value(g, -1., 1.), v) for g, v in self.grads_and_vars
                  if g is not None]
        self.train_step = self.opt.apply_gradients(capped)

    def initialize(self):
        """Initialise every variable in the default session."""
        tf.get_default_session().run(tf.global_variables_initializer())

    def save(self, save_dir=None):
        """Save every global variable to <save_dir or model_dir>/model.ckpt.

        A storage problem (full disk, permission denied, read-only file system) raises
        tools.StorageError naming the folder, without TensorFlow's lines about it; what
        the failed save left in the folder is incomplete (train.py saves into a temporary
        folder for that reason).
        """
        save_dir = self.model_dir if save_dir is None else save_dir
        try:
            tools.mkdir_p(save_dir)
        except OSError as exc:
            raise tools.storage_error(save_dir, exc) or exc
        sess = tf.get_default_session()
        with tf_quiet.captured_stderr_fd() as captured:
            try:
                path = self.saver.save(sess, os.path.join(save_dir, tools.CKPT_NAME),
                                       write_meta_graph=False)
            except tf.errors.OpError as exc:
                code = _storage_errno(exc)
                if code is None:
                    raise
                captured.discard = True        # TensorFlow's lines about this failure
                raise tools.StorageError(save_dir, code) from None
        return path

    def restore(self, load_dir=None):
        """Restore the checkpoint in load_dir (default model_dir) into the session.

        Variables absent from the checkpoint (for instance optimizer slots of a checkpoint
        saved with trainable variables only) keep their current values; a missing
        trainable variable is an error that names it. A checkpoint whose files cannot be
        read (truncated, overwritten, a data file missing) raises
        tools.DamagedCheckpointError naming the folder and what is wrong, without
        TensorFlow's lines about it; the session's variables may then be partly restored.
        """
        load_dir = self.model_dir if load_dir is None else load_dir
        path = os.path.join(load_dir, tools.CKPT_NAME)
        if not tools.has_checkpoint(load_dir):
            found = tools.list_checkpoints(os.path.dirname(os.path.normpath(load_dir)))
            raise FileNotFoundError(
                'No checkpoint {}.index. Checkpoints of this model (trials): {}'.format(
                    path, found if found else 'none'))
        sess = tf.get_default_session()
        with tf_quiet.captured_stderr_fd() as captured:
            try:
                in_ckpt = dict(tf.train.list_variables(path))
            except tf.errors.OpError as exc:
                captured.discard = True
                raise tools.DamagedCheckpointError(load_dir, '{} unreadable: {}'.format(
                    tools.CKPT_NAME + '.index', _op_error_cause(exc))) from None
        global_vars = tf.global_variables()
        present = [v for v in global_vars if v.op.name in in_ckpt]
        missing = [v.op.name for v in self.var_list if v.op.name not in in_ckpt]
        if missing:
            raise ValueError('Checkpoint {} lacks the variables {} of this network (it '
                             'holds {}). Was it trained with other hp?'.format(
                                 path, missing, sorted(in_ckpt)))
        wrong = ['{} {} (network {})'.format(v.op.name, in_ckpt[v.op.name],
                                             v.get_shape().as_list())
                 for v in present if list(in_ckpt[v.op.name]) != v.get_shape().as_list()]
        if wrong:
            raise ValueError('Checkpoint {} holds variables of other shapes than this '
                             'network: {}. Was it trained with other hp?'.format(
                                 path, '; '.join(wrong)))
        saver = self.saver if len(present) == len(global_vars) else tf.train.Saver(present)
        with tf_quiet.captured_stderr_fd() as captured:
            try:
                saver.restore(sess, path)
            except tf.errors.OpError as exc:
                captured.discard = True
                raise tools.DamagedCheckpointError(load_dir, '{}: {}'.format(
                    _data_file_name(), _op_error_cause(exc))) from None

    def lesion_units(self, sess, units, verbose=False):
        """Zero the outgoing recurrent and output weights of the given hidden units."""
        if units is None:
            return
        units = np.atleast_1d(np.asarray(units, dtype=int))
        n_input = self.hp['n_input']
        for v in self.var_list:
            if not is_weight(v):
                continue
            val = sess.run(v)
            if v.op.name.startswith('output'):
                val[units, :] = 0
            elif v.op.name == 'rnn/leaky_rnn_cell/kernel':
                val[n_input + units, :] = 0
            elif v.op.name == 'rnn/leaky_rnn_cell_separate_input/kernel':
                val[units, :] = 0
            else:
                continue
            v.load(val, sess)
            if verbose:
                print('Lesioned units {} in {}'.format(units.tolist(), v.op.name))


def _data_file_name():
    return tools.CKPT_NAME + '.data-00000-of-00001'


# Lines of a TensorFlow error message that say where, not what.
_BOILERPLATE = ('Graph execution error', 'Detected at node', 'File "', 'Node:', '[[',
                'Restoring from checkpoint failed', 'Original error', 'Hint:')


def _op_error_cause(exc):
    """What a tf.errors.OpError says went wrong, in one short line (its last line that is
    not TensorFlow's framing: the node, the Python stack, hints)."""
    lines = [line.strip() for line in (exc.message or '').splitlines()]
    causes = [line for line in lines if line and not line.startswith(_BOILERPLATE)]
    cause = causes[-1] if causes else type(exc).__name__
    return cause[:200]


def _storage_errno(exc):
    """The errno of a tf.errors.OpError caused by the storage (STORAGE_ADVICE's: no space,
    quota, permission, read-only), read from its message; None for other errors."""
    for code in tools.STORAGE_ADVICE:
        if os.strerror(code) in (exc.message or ''):
            return code
    return None


def _time_matmul(x, w):
    """(T, B, n_in) · (n_in, n_out) → (T, B, n_out) as one 2-D matmul."""
    shape = tf.shape(x)
    out = tf.matmul(tf.reshape(x, (-1, x.get_shape().as_list()[-1])), w)
    return tf.reshape(out, tf.stack([shape[0], shape[1], w.get_shape().as_list()[-1]]))


def _take_noise_op_seed():
    """Advance the graph's op-seed counter by one, where the original built its noise op.

    The original's recurrent noise was a stateful ``tf.random_normal`` without an op seed,
    created inside the cell after the cell's kernels, so it took the next value of the
    graph's op-seed counter (0 for the fused LeakyRNN). Ours is stateless and takes none;
    without this the output layer's Glorot initializer would get op seed 0 instead of the
    original's 1 and ``output/weights`` at checkpoint 0 would differ from the original's.
    The original built the noise op whatever sigma_rec was, so this runs even when 0.
    """
    tf.random.get_seed(None)


def _dense(x, units, name, use_bias=True, trainable=True, initializer=None):
    """Dense layer on the last axis with variables <name>/kernel and <name>/bias."""
    n_in = x.get_shape().as_list()[-1]
    with tf.variable_scope(name):
        kernel = tf.get_variable('kernel', [n_in, units], initializer=initializer,
                                 trainable=trainable)
        bias = (tf.get_variable('bias', [units], initializer=tf.zeros_initializer(),
                                trainable=trainable) if use_bias else None)
    if x.get_shape().ndims == 2:
        out = tf.matmul(x, kernel)
    else:
        out = _time_matmul(x, kernel)
    return out if bias is None else out + bias
