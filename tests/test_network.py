"""network.py: initial weights, checkpoint names, the recurrence, save/restore, errors."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import network
import tools
import train
from network import Model, get_perf, popvec


def tiny_hp(**overrides):
    hp = train.get_default_hp('all_new')
    hp.update(n_rnn=24, activation='softplus', seed=3, rng=np.random.RandomState(3))
    hp.update(overrides)
    return hp


def random_batch(hp, T=12, B=5, seed=0):
    rs = np.random.RandomState(seed)
    x = rs.rand(T, B, hp['n_input']).astype(np.float32)
    y = rs.rand(T, B, hp['n_output']).astype(np.float32)
    c = np.ones((T * B, hp['n_output']), np.float32)
    return x, y, c


# -- initial weights (SPEC §5) ------------------------------------------------------------
def householder_reference(dim, rng):
    """The Householder product written out plainly, as SPEC §5 states it."""
    H = np.eye(dim)
    for n in range(1, dim):
        v = rng.normal(size=dim - n + 1)
        s = np.sign(v[0])
        v[0] += s * np.linalg.norm(v)
        block = -s * (np.eye(dim - n + 1) - 2 * np.outer(v, v) / v.dot(v))
        M = np.eye(dim)
        M[n - 1:, n - 1:] = block
        H = H @ M
    return H


def test_ortho_matrix_is_orthogonal_and_follows_recipe():
    M = tools.gen_ortho_matrix(16, rng=np.random.RandomState(7))
    np.testing.assert_allclose(M @ M.T, np.eye(16), atol=1e-12)
    ref = householder_reference(16, np.random.RandomState(7))
    np.testing.assert_allclose(M, ref, rtol=0, atol=1e-12)


def original_output_weights(seed, n_rnn, n_output, random_ops_before):
    """output/weights as the original's graph initialised them (SPEC §5).

    Every unseeded random op or initializer of the original took the next op seed of the
    graph; ``random_ops_before`` unseeded ops precede the output layer (1 for the fused
    LeakyRNN: its recurrent-noise tf.random_normal).
    """
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(seed)
        for _ in range(random_ops_before):
            tf.random_normal([2, 3])
        with tf.variable_scope('output'):
            w = tf.get_variable('weights', [n_rnn, n_output])  # the original's default
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(w)


def initial_variable(hp, name):
    Model('unused', hp=hp)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(tf.global_variables(name)[0])


# Known values of the original's output/weights for n_rnn 16 (graph seed, op seed 1),
# taken from its construction order in a plain graph (original_output_weights).
OUTPUT_WEIGHTS_KNOWN = {
    0: ([0.03892746567726135, -0.3870784640312195, -0.29278087615966797],
        [-0.47284701466560364, 0.0766589343547821, -0.17005863785743713]),
    3: ([0.2724510133266449, 0.005181640386581421, 0.12251034379005432],
        [0.12132647633552551, 0.047214359045028687, -0.08014005422592163]),
}


@pytest.mark.parametrize('seed', sorted(OUTPUT_WEIGHTS_KNOWN))
def test_output_weights_equal_the_originals_checkpoint_0(seed):
    w_out = initial_variable(tiny_hp(n_rnn=16, seed=seed), 'output/weights')
    first_row, last_row_tail = OUTPUT_WEIGHTS_KNOWN[seed]
    np.testing.assert_array_equal(w_out[0, :3], np.float32(first_row))
    np.testing.assert_array_equal(w_out[15, 6:], np.float32(last_row_tail))
    np.testing.assert_array_equal(w_out, original_output_weights(seed, 16, 9, 1))


def test_output_weights_follow_the_noise_op_even_without_noise():
    # The original built its noise op whatever sigma_rec was.
    w_out = initial_variable(tiny_hp(n_rnn=16, seed=0, sigma_rec=0), 'output/weights')
    np.testing.assert_array_equal(w_out, original_output_weights(0, 16, 9, 1))


@pytest.mark.parametrize('init, activation, start', [
    ('randortho', 'softplus', 0.5), ('diag', 'tanh', 1.0), ('randgauss', 'power', 0.01),
    ('randortho', 'relu', 0.5), ('diag', 'elu', 0.5)])
def test_initial_kernel_matches_spec_draw_order(init, activation, start):
    hp = tiny_hp(w_rec_init=init, activation=activation)
    model = Model('unused', hp=hp)
    rng = np.random.RandomState(hp['seed'])
    n_in, n = hp['n_input'], hp['n_rnn']
    w_in0 = rng.randn(n_in, n) / np.sqrt(n_in)
    if init == 'randortho':
        w_rec0 = start * householder_reference(n, rng)
    elif init == 'diag':
        w_rec0 = start * np.eye(n)
    else:
        w_rec0 = start * rng.randn(n, n) / np.sqrt(n)
    expected = np.concatenate([w_in0, w_rec0]).astype(np.float32)
    with tf.Session() as sess:
        model.initialize()
        kernel = sess.run(tf.global_variables('rnn/leaky_rnn_cell/kernel')[0])
        bias = sess.run(tf.global_variables('rnn/leaky_rnn_cell/bias')[0])
    np.testing.assert_array_equal(kernel, expected)
    assert not bias.any()


def test_checkpoint_variable_names():
    model = Model('unused', hp=tiny_hp())
    names = {v.op.name for v in tf.global_variables()}
    assert {'rnn/leaky_rnn_cell/kernel', 'rnn/leaky_rnn_cell/bias', 'output/weights',
            'output/biases'} <= names
    # Adam slots are saved too, as in the original.
    assert 'rnn/leaky_rnn_cell/kernel/Adam' in names and 'beta1_power' in names
    assert tf.global_variables('output/weights')[0].shape.as_list() == [24, 9]
    assert model.h.shape.as_list() == [None, None, 24]


def test_separate_input_variable_names():
    Model('unused', hp=tiny_hp(use_separate_input=True, mix_rule=True))
    names = {v.op.name for v in tf.global_variables() if '/Adam' not in v.op.name}
    assert {'sen_input/kernel', 'sen_input/bias', 'mix_rule/kernel', 'rule_input/kernel',
            'rnn/leaky_rnn_cell_separate_input/kernel',
            'rnn/leaky_rnn_cell_separate_input/bias', 'output/kernel', 'output/bias'} <= names
    trainable = {v.op.name for v in tf.trainable_variables()}
    assert 'mix_rule/kernel' not in trainable


# -- the recurrence -------------------------------------------------------------------------
def numpy_leaky_rnn(x, kernel, bias, alpha, f):
    """Straightforward loop of SPEC §5 without noise: h_t from [x_t, h_{t-1}]·W + b."""
    T, B, _ = x.shape
    h = np.zeros((B, kernel.shape[1]))
    out = []
    for t in range(T):
        pre = np.concatenate([x[t], h], axis=1) @ kernel + bias
        h = (1 - alpha) * h + alpha * f(pre)
        out.append(h)
    return np.stack(out)


@pytest.mark.parametrize('activation, f', [
    ('softplus', lambda v: np.log1p(np.exp(v))), ('relu', lambda v: np.maximum(v, 0)),
    ('tanh', np.tanh), ('power', lambda v: np.maximum(v, 0) ** 2),
    ('retanh', lambda v: np.tanh(np.maximum(v, 0))),
    ('elu', lambda v: np.where(v > 0, v, np.expm1(np.minimum(v, 0))))])
def test_recurrence_matches_plain_loop(activation, f):
    hp = tiny_hp(activation=activation, sigma_rec=0.0)
    model = Model('unused', hp=hp)
    x, y, c = random_batch(hp)
    with tf.Session() as sess:
        model.initialize()
        h, y_hat, kernel, bias = sess.run(
            [model.h, model.y_hat, tf.global_variables('rnn/leaky_rnn_cell/kernel')[0],
             tf.global_variables('rnn/leaky_rnn_cell/bias')[0]], {model.x: x})
        w_out, b_out = sess.run([tf.global_variables('output/weights')[0],
                                 tf.global_variables('output/biases')[0]])
    ref = numpy_leaky_rnn(x.astype(np.float64), kernel, bias, 0.2, f)
    np.testing.assert_allclose(h, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y_hat, 1 / (1 + np.exp(-(ref @ w_out + b_out))), atol=1e-5)


def test_recurrent_noise_scale_and_seed():
    hp = tiny_hp(sigma_rec=0.05, n_rnn=256)
    model = Model('unused', hp=hp)
    x = np.zeros((1, 64, hp['n_input']), np.float32)
    with tf.Session() as sess:
        model.initialize()
        h1 = sess.run(model.h, {model.x: x})
        h1_again = sess.run(model.h, {model.x: x})
        h2 = sess.run(model.h, {model.x: x, model.noise_seed: [3, 1]})
    # One step from h=0 with zero input: h = alpha·softplus(ξ); invert to get ξ back.
    xi = np.log(np.expm1(h1 / 0.2))
    assert abs(xi.std() - np.sqrt(2 / 0.2) * 0.05) < 0.01
    np.testing.assert_array_equal(h1, h1_again)   # same seed, same noise
    assert not np.array_equal(h1, h2)


def test_noise_drawn_ahead_equals_the_noise_drawn_in_the_graph():
    """train() fetches Model.noise ahead and feeds it back: same activity, same gradient."""
    hp = tiny_hp(sigma_rec=0.05)
    model = Model('unused', hp=hp)
    slot = model.eval_slots(1)[0]
    x, y, c = random_batch(hp)
    seed = np.array([3, 7], np.int64)
    sigma = np.sqrt(2 / 0.2) * 0.05
    reference = tf.random.stateless_normal(x.shape[:2] + (24,), seed=seed, stddev=sigma)
    grads = [g for g, _ in model.grads_and_vars]
    feed = {model.x: x, model.y: y, model.c_mask: c}
    with tf.Session() as sess:
        model.initialize()
        ahead = sess.run(model.noise, {model.x: x, model.noise_seed: seed})
        ahead_slot = sess.run(slot['noise'], {slot['x']: x, slot['noise_seed']: seed})
        other_seed = sess.run(model.noise, {model.x: x, model.noise_seed: [3, 8]})
        in_graph = sess.run([model.h] + grads, {**feed, model.noise_seed: seed})
        # The seed fed with the noise is ignored: the fed noise replaces the draw.
        fed = sess.run([model.h] + grads, {**feed, model.noise: ahead,
                                           model.noise_seed: [9, 9]})
        np.testing.assert_array_equal(ahead, sess.run(reference))
    np.testing.assert_array_equal(ahead_slot, ahead)
    assert not np.array_equal(other_seed, ahead)
    for a, b in zip(fed, in_graph):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('overrides', [dict(sigma_rec=0.0), dict(rnn_type='GRU'),
                                       dict(rnn_type='LSTM')])
def test_no_noise_tensor_where_the_cell_takes_no_noise(overrides):
    model = Model('unused', hp=tiny_hp(**overrides))
    assert model.noise is None and model.eval_slots(1)[0]['noise'] is None


def test_softplus_equals_tensorflows_bit_for_bit():
    """network.softplus (used in the recurrence) gives tf.nn.softplus's float32 values."""
    rs = np.random.RandomState(0)
    any_float = rs.randint(0, 2 ** 32, size=300000, dtype=np.uint64).astype(np.uint32)
    near_thresholds = []
    for t in (network._SOFTPLUS_THRESHOLD, -network._SOFTPLUS_THRESHOLD):
        # 300 floats either side of each switch between the kernel's branches.
        below = t - np.arange(1, 301) * np.spacing(t)
        near_thresholds += [below, [t], t + np.arange(1, 301) * np.spacing(t)]
    z = np.concatenate([any_float.view(np.float32),
                        np.linspace(-30, 30, 200001, dtype=np.float32),
                        np.concatenate(near_thresholds).astype(np.float32),
                        np.float32([0., -0., np.inf, -np.inf, np.nan, 1e-30, -1e-30, 88.8,
                                    -104.])])
    z_in = tf.placeholder(tf.float32, [None])
    with tf.Session() as sess:
        ours, theirs = sess.run([network.softplus(z_in), tf.nn.softplus(z_in)], {z_in: z})
    np.testing.assert_array_equal(ours.view(np.uint32)[~np.isnan(theirs)],
                                  theirs.view(np.uint32)[~np.isnan(theirs)])
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))


@pytest.mark.parametrize('rnn_type', ['LeakyGRU', 'GRU', 'LSTM'])
def test_other_cells_build_and_learn(rnn_type):
    hp = tiny_hp(rnn_type=rnn_type, sigma_rec=0.0)
    model = Model('unused', hp=hp)
    x, y, c = random_batch(hp)
    feed = {model.x: x, model.y: y, model.c_mask: c}
    with tf.Session() as sess:
        model.initialize()
        before = sess.run(model.cost_lsq, feed)
        for _ in range(20):
            sess.run(model.train_step, feed)
        after = sess.run(model.cost_lsq, feed)
        h = sess.run(model.h, feed)
    assert h.shape == (12, 5, 24)
    assert after < before
    if rnn_type == 'LeakyGRU':
        assert 'rnn/leaky_gru_cell/gates/kernel' in {v.op.name for v in tf.global_variables()}


def test_optimizer_steps_lower_cost():
    hp = tiny_hp(sigma_rec=0.0)
    model = Model('unused', hp=hp)
    x, y, c = random_batch(hp, T=20, B=8)
    feed = {model.x: x, model.y: y, model.c_mask: c}
    with tf.Session() as sess:
        model.initialize()
        costs = [sess.run(model.cost_lsq, feed)]
        for _ in range(10):
            sess.run(model.train_step, feed)
            costs.append(sess.run(model.cost_lsq, feed))
    assert costs[-1] < costs[0]


def test_gradients_are_clipped_to_plus_minus_one():
    """One SGD step with learning rate 1 moves every variable by exactly −clip(g, −1, 1).
    A large L2 weight penalty makes many gradients exceed 1, so wider clip bounds (or no
    clipping) would move those weights further."""
    hp = tiny_hp(sigma_rec=0.0, optimizer='sgd', learning_rate=1.0, l2_weight=10.0)
    model = Model('unused', hp=hp)
    x, y, c = random_batch(hp)
    feed = {model.x: x, model.y: y, model.c_mask: c}
    variables = [v for _, v in model.grads_and_vars]
    with tf.Session() as sess:
        model.initialize()
        grads = sess.run([g for g, _ in model.grads_and_vars], feed)
        before = sess.run(variables)
        sess.run(model.train_step, feed)
        after = sess.run(variables)
    assert max(np.abs(g).max() for g in grads) > 2  # clipping matters here
    for g, b, a in zip(grads, before, after):
        np.testing.assert_allclose(b - a, np.clip(g, -1, 1), rtol=1e-5, atol=1e-6)


def trained_checkpoint(tmp_path, hp, name, fetch):
    """One optimizer step on a random batch, saved to tmp_path/name; returns the batch's
    x and the model's ``fetch`` output ('h' or 'y_hat') on it after the step."""
    x, y, c = random_batch(hp)
    model = Model(str(tmp_path), hp=hp)
    with tf.Session() as sess:
        model.initialize()
        sess.run(model.train_step, {model.x: x, model.y: y, model.c_mask: c})
        model.save(str(tmp_path / name))
        return x, sess.run(getattr(model, fetch), {model.x: x})


def test_save_restore_round_trip(tmp_path):
    hp = tiny_hp(sigma_rec=0.0)
    x, expected = trained_checkpoint(tmp_path, hp, '1280', 'y_hat')
    assert tools.has_checkpoint(str(tmp_path / '1280'))
    assert not (tmp_path / '1280' / 'model.ckpt.meta').exists()
    model = Model(str(tmp_path), hp=hp)
    with tf.Session() as sess:
        model.initialize()
        model.restore(str(tmp_path / '1280'))
        got = sess.run(model.y_hat, {model.x: x})
    np.testing.assert_array_equal(got, expected)


def test_restore_checkpoint_without_optimizer_slots(tmp_path):
    """Checkpoints holding trainable variables only still load."""
    hp = tiny_hp(sigma_rec=0.0)
    x, _, _ = random_batch(hp)
    model = Model(str(tmp_path), hp=hp)
    with tf.Session() as sess:
        model.initialize()
        tf.train.Saver(model.var_list).save(sess, str(tmp_path / 'old' / 'model.ckpt'),
                                            write_meta_graph=False)
        expected = sess.run(model.y_hat, {model.x: x})
    model = Model(str(tmp_path), hp=hp)
    with tf.Session() as sess:
        model.initialize()
        model.restore(str(tmp_path / 'old'))
        np.testing.assert_array_equal(sess.run(model.y_hat, {model.x: x}), expected)


@pytest.mark.parametrize('overrides', [{}, {'use_separate_input': True}])
def test_restore_only_model_runs_checkpoints_like_the_training_model(tmp_path, monkeypatch,
                                                                     overrides):
    """The analyses' Model(restore_only=True) draws no initial weights and builds no
    optimizer, yet a restored checkpoint gives the training graph's outputs."""
    hp = tiny_hp(sigma_rec=0.05, **overrides)
    x, expected = trained_checkpoint(tmp_path, hp, '32', 'h')

    def no_draw(*args, **kwargs):
        raise AssertionError('restore_only drew initial weights')
    monkeypatch.setattr(tools, 'gen_ortho_matrix', no_draw)
    analysis = Model(str(tmp_path), hp=hp, restore_only=True)
    assert analysis.train_step is None and analysis.opt is None
    with pytest.raises(ValueError, match='restore_only'):
        analysis.set_optimizer()
    with tf.Session() as sess:
        analysis.initialize()
        analysis.restore(str(tmp_path / '32'))
        np.testing.assert_array_equal(sess.run(analysis.h, {analysis.x: x}), expected)


def test_restore_errors_name_what_is_missing(tmp_path):
    hp = tiny_hp()
    model = Model(str(tmp_path), hp=hp)
    with tf.Session() as sess:
        model.initialize()
        model.save(str(tmp_path / '0'))
        with pytest.raises(FileNotFoundError, match=r'Checkpoints of this model.*\[0\]'):
            model.restore(str(tmp_path / '640'))
    bigger = Model(str(tmp_path), hp=tiny_hp(use_separate_input=True))
    with tf.Session():
        bigger.initialize()
        with pytest.raises(ValueError, match='sen_input/kernel'):
            bigger.restore(str(tmp_path / '0'))


@pytest.mark.parametrize('key, value, valid', [
    ('activation', 'sigmoid', 'softplus'), ('rnn_type', 'Vanilla', 'LeakyRNN'),
    ('w_rec_init', 'zeros', 'randortho'), ('optimizer', 'rmsprop', 'adam')])
def test_bad_hp_raises_with_choices(key, value, valid):
    with pytest.raises(ValueError, match=r"Unknown {}.*{}".format(key, valid)):
        Model('unused', hp=tiny_hp(**{key: value}))


def test_model_without_hp_reports_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        Model(str(tmp_path / 'nope'))


def test_lesion_units_zeroes_outgoing_weights():
    hp = tiny_hp()
    model = Model('unused', hp=hp)
    with tf.Session() as sess:
        model.initialize()
        model.lesion_units(sess, [2, 5])
        kernel = sess.run(tf.global_variables('rnn/leaky_rnn_cell/kernel')[0])
        w_out = sess.run(tf.global_variables('output/weights')[0])
    n_in = hp['n_input']
    assert not kernel[n_in + 2].any() and not kernel[n_in + 5].any()
    assert kernel[n_in + 3].any()
    assert not w_out[[2, 5]].any() and w_out[3].any()


# -- read-out -------------------------------------------------------------------------------
def test_popvec_known_angles_and_tf_parity():
    pref = np.arange(8) * 2 * np.pi / 8
    for k in range(8):
        d = np.abs(pref - pref[k])
        d = np.minimum(d, 2 * np.pi - d)
        y = np.exp(-d ** 2)
        err = abs(popvec(y) - pref[k])
        assert min(err, 2 * np.pi - err) < 1e-9
    y = np.random.RandomState(0).rand(4, 3, 8).astype(np.float32)
    with tf.Session() as sess:
        tf_val = sess.run(network.tf_popvec(tf.constant(y)))
    np.testing.assert_allclose(tf_val, popvec(y), atol=1e-5)


def test_get_perf_known_answers():
    pref = np.arange(8) * 2 * np.pi / 8
    ring = np.exp(-np.minimum(np.abs(pref - pref[2]), 2 * np.pi - np.abs(pref - pref[2])) ** 2)
    y_hat = np.zeros((3, 4, 9))
    y_hat[-1, 0] = np.r_[0.9, ring]   # should fixate and does
    y_hat[-1, 1] = np.r_[0.1, ring]   # should fixate, breaks
    y_hat[-1, 2] = np.r_[0.1, ring]   # saccade to the right place
    y_hat[-1, 3] = np.r_[0.1, ring]   # saccade to the wrong place
    y_loc = np.zeros((3, 4))
    y_loc[-1] = [-1, -1, pref[2], pref[6]]
    np.testing.assert_array_equal(get_perf(y_hat, y_loc), [1, 0, 1, 0])
    with pytest.raises(ValueError, match='shape'):
        get_perf(y_hat[-1], y_loc)


@pytest.mark.parametrize('activation', network.ACTIVATIONS)
def test_hand_written_gradient_equals_automatic(activation):
    """The custom backward pass of leaky_recurrence equals TF's gradient of a plain loop."""
    rs = np.random.RandomState(1)
    drive = tf.constant(rs.randn(9, 4, 6).astype(np.float32))
    w_rec = tf.constant(0.5 * rs.randn(6, 6).astype(np.float32))
    target = rs.rand(9, 4, 6).astype(np.float32)
    f = network.get_activation(activation)
    plain = tf.scan(lambda h, d: h + 0.2 * (f(d + tf.matmul(h, w_rec)) - h), drive,
                    initializer=tf.zeros_like(drive[0]))
    custom = network.leaky_recurrence(drive, w_rec, 0.2, activation)
    grads = [tf.gradients(tf.reduce_sum(tf.square(h - target)), [drive, w_rec])
             for h in (plain, custom)]
    with tf.Session() as sess:
        (gd_p, gw_p), (gd_c, gw_c) = sess.run(grads)
        h_p, h_c = sess.run([plain, custom])
    np.testing.assert_allclose(h_c, h_p, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gd_c, gd_p, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gw_c, gw_p, rtol=1e-4, atol=1e-5)


def randomise_variables(sess, seed=0):
    """Every trainable variable set to small random values (a bias of zero, as initialised,
    would hide the order in which the drive's terms are added)."""
    rs = np.random.RandomState(seed)
    for v in tf.trainable_variables():
        shape = v.get_shape().as_list()
        sess.run(v.assign((0.3 * rs.randn(*shape)).astype(np.float32)))


@pytest.mark.parametrize('rnn_type, B', [('LeakyRNN', 5), ('LeakyRNN', 300), ('LeakyGRU', 5)])
def test_last_step_slot_equals_the_last_step_of_y_hat(rnn_type, B):
    """The forward pass that keeps only the last step gives y_hat[-1:] bit for bit (the
    behaviour analyses score it); the noise fed is the graph's."""
    hp = tiny_hp(sigma_rec=0.05, rnn_type=rnn_type, n_rnn=64)
    model = Model('unused', hp=hp)
    x, _, _ = random_batch(hp, T=40, B=B)
    seed = np.array([3, 9], dtype=np.int64)
    noise = model.draw_noise(x, seed)
    slot = model.last_step_slot()
    assert model.last_step_slot() is slot                      # built once
    with tf.Session() as sess:
        model.initialize()
        randomise_variables(sess)
        y_hat = sess.run(model.y_hat, {model.x: x, model.noise_seed: seed})
        last = sess.run(slot['y_hat_last'], {slot['x']: x, slot['noise']: noise})
    assert last.shape == (1, B, hp['n_output'])
    np.testing.assert_array_equal(last, y_hat[-1:])


def test_eval_slots_equal_the_main_graph():
    """The concurrent forward passes give the activity of the main (trainable) graph, bit
    for bit (their drive is computed step by step: network.StepDrive)."""
    hp = tiny_hp(sigma_rec=0.05)
    model = Model('unused', hp=hp)
    x, y, c = random_batch(hp)
    slots = model.eval_slots(2)
    seed = np.array([3, 7], dtype=np.int64)
    with tf.Session() as sess:
        model.initialize()
        randomise_variables(sess)
        h_main = sess.run(model.h, {model.x: x, model.noise_seed: seed})
        h_slots = sess.run([s['h'] for s in slots], {slots[0]['x']: x, slots[1]['x']: x[:5],
                                                     slots[0]['noise_seed']: seed,
                                                     slots[1]['noise_seed']: seed})
    np.testing.assert_array_equal(h_slots[0], h_main)
    assert h_slots[1].shape == (5,) + h_main.shape[1:]
