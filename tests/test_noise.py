"""noise.py draws the recurrent noise bit for bit as TensorFlow's stateless_normal."""

import math
import platform

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import noise
from network import Model
from train import get_default_hp

tf.disable_v2_behavior()

SIGMA = float(np.sqrt(2 / 0.2) * 0.05)      # the paper's recurrent noise per step


def tf_stateless_normal(shape, seed, stddev):
    """TensorFlow's own draw, one thread."""
    with tf.Graph().as_default():
        drawn = tf.random.stateless_normal(shape, seed=tf.constant(seed, tf.int64),
                                           stddev=stddev)
        config = tf.ConfigProto(intra_op_parallelism_threads=1,
                                inter_op_parallelism_threads=1)
        with tf.Session(config=config) as sess:
            return sess.run(drawn)


def philox_reference(counter, key):
    """Philox-4x32-10 written out with Python integers (Salmon et al. 2011)."""
    c, (k0, k1) = list(counter), key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & 0xFFFFFFFF, (p0 >> 32) ^ c[3] ^ k1, p0 & 0xFFFFFFFF]
        k0, k1 = (k0 + 0x9E3779B9) & 0xFFFFFFFF, (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return c


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize('shape, seed', [
    ((80, 512, 256), [0, 64 * 7 + 3]),       # an evaluation's rule, step 7
    ((175, 64, 16), [3, 128]),               # a training step
    ((7, 3, 5), [-3, 2 ** 40 + 5]),          # odd size: the last group is partial
    ((1,), [2 ** 62, -1]),
    ((3,), [1, 2]),
    ((0, 4), [5, 6]),
])
def test_equals_tensorflow_bit_for_bit(shape, seed):
    ours = noise.stateless_normal(shape, seed, SIGMA)
    assert ours.dtype == np.float32
    assert same_bits(ours, tf_stateless_normal(shape, seed, SIGMA))


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc',
                    reason="the fast path follows glibc's logf/sinf/cosf")
def test_with_glibc_the_fast_path_is_the_c_library_on_every_input():
    # The exhaustive comparison over both 2^23-value domains finds no difference, so the
    # draw never takes the flagged (scalar) path; a wrong coefficient would flag inputs.
    radius_bits, sincos_bits, any_flagged = noise._bitmaps()
    assert not any_flagged
    assert not radius_bits.any() and not sincos_bits.any()


def test_the_flagged_path_takes_the_c_library_value():
    # Every input flagged: each value comes from the scalar C-library calls, and the draw
    # still equals TensorFlow's (what a libm unlike glibc would rely on).
    shape, seed = (40, 64, 16), [2, 7 * 64 + 1]
    everything = np.full(2 ** 23 // 32, -1, np.int32)
    key, counter = noise.key_counter(seed)
    out = np.empty(shape, np.float32)
    noise._fill(out.reshape(-1), *key, *counter, np.float32(SIGMA), everything, everything,
                True)
    assert same_bits(out, tf_stateless_normal(shape, seed, SIGMA))
    m = np.arange(0, 2 ** 23, 9973, dtype=np.int32)
    radius, sin_v, cos_v = (np.empty(m.size, np.float32) for _ in range(3))
    noise._radius_fast(m, radius)
    noise._sincos_fast(m, sin_v, cos_v)
    exact = np.array([noise._sincos_exact(k) for k in m], np.float32)
    assert same_bits(radius, np.array([noise._radius_exact(k) for k in m], np.float32))
    assert same_bits(sin_v, exact[:, 0]) and same_bits(cos_v, exact[:, 1])


def test_key_and_counter_as_tensorflow_derives_them():
    for seed in ([0, 0], [7, 123456789], [-1, 2 ** 63 - 1]):
        with tf.Graph().as_default(), tf.Session() as sess:
            key, counter = sess.run(tf.raw_ops.StatelessRandomGetKeyCounter(
                seed=tf.constant(seed, tf.int64)))
        ours_key, ours_counter = (np.asarray(a, dtype=object) for a in
                                  noise.key_counter(seed))
        assert int(key[0]) == int(ours_key[0]) | int(ours_key[1]) << 32
        assert [int(counter[0]), int(counter[1])] == [
            int(ours_counter[0]) | int(ours_counter[1]) << 32,
            int(ours_counter[2]) | int(ours_counter[3]) << 32]


def test_philox_words_against_a_reference_with_128_bit_carries():
    key = (0x12345678, 0x9ABCDEF0)
    counter = [0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF, 7]   # carries through three words
    n = 5
    radius_m, angle_m = np.empty(2 * n, np.int32), np.empty(2 * n, np.int32)
    noise._philox_words(*(np.uint64(v) for v in key + tuple(counter)), 0, radius_m, angle_m)
    value = sum(w << (32 * i) for i, w in enumerate(counter))
    for g in range(n):
        c = value + g
        words = philox_reference([(c >> (32 * i)) & 0xFFFFFFFF for i in range(4)], key)
        m = [w & 0x7FFFFF for w in words]
        assert [radius_m[2 * g], angle_m[2 * g], radius_m[2 * g + 1], angle_m[2 * g + 1]] == m


def test_box_muller_of_one_pair_by_hand():
    # The kernel's formula for the first pair of seed [0, 1], from Philox's words.
    key, counter = noise.key_counter([0, 1])
    w = philox_reference([int(c) for c in counter], [int(k) for k in key])
    u1 = max(np.float32((w[0] & 0x7FFFFF) * 2.0 ** -23), np.float32(1e-7))
    v = np.float32(2 * math.pi * float(np.float32((w[1] & 0x7FFFFF) * 2.0 ** -23)))
    radius = math.sqrt(-2 * math.log(u1))
    drawn = noise.stateless_normal((2,), [0, 1])
    np.testing.assert_allclose(drawn, [math.sin(v) * radius, math.cos(v) * radius],
                               rtol=1e-6)


def test_model_draw_noise_equals_the_graph_noise():
    hp = get_default_hp('all_new')
    hp.update(n_rnn=16, seed=4)
    model = Model('unused', hp=hp)
    x = np.zeros((30, 8, hp['n_input']), np.float32)
    seed = np.array([4, 640], np.int64)
    with tf.Session() as sess:
        graph_noise = sess.run(model.noise, {model.x: x, model.noise_seed: seed})
    assert same_bits(model.draw_noise(x, seed), graph_noise)


def test_no_noise_without_sigma_rec():
    hp = get_default_hp('all_new')
    hp.update(n_rnn=16, sigma_rec=0)
    model = Model('unused', hp=hp)
    assert model.noise is None and model.noise_stddev is None
    assert model.draw_noise(np.zeros((3, 2, hp['n_input']), np.float32), [0, 0]) is None


def test_out_must_match():
    with pytest.raises(ValueError, match='float32 array of shape'):
        noise.stateless_normal((4, 2), [0, 0], out=np.empty((4, 2)))
    out = np.empty((4, 2), np.float32)
    assert noise.stateless_normal((4, 2), [0, 0], out=out) is out


def test_checkpoint_runner_feeds_the_noise_the_graph_would_draw(small_model_dir,
                                                                monkeypatch):
    """Analyses run with the noise drawn in numpy and kept across checkpoints: the same
    activity as letting the graph draw it, and one draw per seed and shape."""
    from analysis import activity
    import task
    draws = []
    original = Model.draw_noise
    monkeypatch.setattr(Model, 'draw_noise',
                        lambda self, x, seed: draws.append(1) or original(self, x, seed))
    with activity.CheckpointRunner(small_model_dir) as runner:
        trial = task.generate_trials('odr', runner.hp, 'test', noise_on=False)
        seed = np.array([0, -1], np.int64)
        for ckpt in (32, 160):
            runner.restore(ckpt)
            (h,) = runner.run(trial, ['h'], noise_seed=seed)
            (h_graph,) = runner.sess.run([runner.model.h], {runner.model.x: trial.x,
                                                             runner.model.noise_seed: seed})
            np.testing.assert_array_equal(h, h_graph)
            (h_concurrent,) = runner.run_concurrently([trial], [seed])
            np.testing.assert_array_equal(h_concurrent, h_graph)
    assert len(draws) == 1
