"""Recurrent noise drawn on the CPU exactly as ``tf.random.stateless_normal`` draws it.

The network's recurrent noise ξ (T, B, n_rnn) is a stateless draw (network.Model.noise):
``tf.random.stateless_normal(shape, seed, stddev=sigma)``. TensorFlow's CPU kernel turns the
int64 (2,) seed into a Philox-4x32-10 key and counter; group g of four outputs is Philox of
(counter + g), four uint32 words w0..w3; each pair (wa, wb) becomes two normals by
Box–Muller in float32,

    u1 = max(m(wa) · 2⁻²³, 1e-7),  r = sqrt(-2 · logf(u1)),  v = (float)(2π · m(wb) · 2⁻²³),
    (n_a, n_b) = (sinf(v) · r, cosf(v) · r),

with m(w) the low 23 bits of w and logf / sinf / cosf the C library's scalar functions;
then ξ = n · stddev + 0. That kernel costs ≈ 17 ns per value on this project's machine, and
was 42 % of a training interval's CPU work (docs/PERFORMANCE.md).

This module computes the same float32 numbers five times faster (3.0–3.1 ns per value
against TensorFlow's 15.2–16.6 on one thread, a (175, 512, 256) draw, four runs of
``python benchmarks/bench_train.py``):

- Philox in a loop the compiler vectorises (numba);
- r and (sinf, cosf)(v) by the algorithms of glibc's logf, sinf and cosf (a 16-entry
  table and polynomials in double precision; its constants are the data of glibc ≥ 2.28),
  written as loops that vectorise instead of one scalar call per value.

r and (sin, cos)(v) are functions of 23 bits each (a float32 uniform takes 2²³ values), so
the fast path is compared with the C library's own scalar calls — the ones TensorFlow
makes — over both whole domains once per process (0.24 s). With glibc they agree on
every input. Any input where they differ (another C library, another glibc algorithm) is
flagged in a bit per input and takes the C library's value, so every value equals the
C-library path whatever the machine; the tests compare with TensorFlow's own kernel
(tests/test_noise.py).
"""

import math
import threading

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

import tools

__all__ = ['stateless_normal', 'key_counter', 'recurrent_sigma']

_U64 = np.uint64
# Philox-4x32-10 (Salmon et al. 2011): round multipliers and Weyl key increments.
_M0, _M1 = _U64(0xD2511F53), _U64(0xCD9E8D57)
_W0, _W1 = _U64(0x9E3779B9), _U64(0xBB67AE85)
_LO32, _SH32 = _U64(0xFFFFFFFF), _U64(32)
_MANTISSA = _U64(0x7FFFFF)
# TensorFlow's fixed key for scrambling a stateless seed into a key and a counter.
_SEED_KEY = (0x3EC8F720, 0x02461E29)

_TWO_PI = 2.0 * math.pi                     # double, as the kernel's 2.0f * M_PI
_U1_MIN = np.float32(1.0e-7)                # the kernel keeps log() away from 0
_ULP23 = np.float32(2.0 ** -23)
# glibc's logf (glibc ≥ 2.28, from ARM's optimized routines): x = 2^k · z with z in
# [0x3f330000, 2 · that] (as float32 bits), 16 subintervals i with c_i near the centre of
# each, log x = k · ln 2 + log c_i + log1p(z / c_i − 1) by a polynomial of degree 4.
# (1/c_i, log c_i) for subinterval i.
_LOGF_INVC, _LOGF_LOGC = np.array([[float.fromhex(h) for h in pair] for pair in (
    ('0x1.661ec79f8f3bep+0', '-0x1.57bf7808caadep-2'),
    ('0x1.571ed4aaf883dp+0', '-0x1.2bef0a7c06ddbp-2'),
    ('0x1.49539f0f010bp+0', '-0x1.01eae7f513a67p-2'),
    ('0x1.3c995b0b80385p+0', '-0x1.b31d8a68224e9p-3'),
    ('0x1.30d190c8864a5p+0', '-0x1.6574f0ac07758p-3'),
    ('0x1.25e227b0b8eap+0', '-0x1.1aa2bc79c81p-3'),
    ('0x1.1bb4a4a1a343fp+0', '-0x1.a4e76ce8c0e5ep-4'),
    ('0x1.12358f08ae5bap+0', '-0x1.1973c5a611cccp-4'),
    ('0x1.0953f419900a7p+0', '-0x1.252f438e10c1ep-5'),
    ('0x1p+0', '0x0p+0'),
    ('0x1.e608cfd9a47acp-1', '0x1.aa5aa5df25984p-5'),
    ('0x1.ca4b31f026aap-1', '0x1.c5e53aa362eb4p-4'),
    ('0x1.b2036576afce6p-1', '0x1.526e57720db08p-3'),
    ('0x1.9c2d163a1aa2dp-1', '0x1.bc2860d22477p-3'),
    ('0x1.886e6037841edp-1', '0x1.1058bc8a07ee1p-2'),
    ('0x1.767dcf5534862p-1', '0x1.4043057b6ee09p-2'))]).T.copy()
_LOGF_LN2 = float.fromhex('0x1.62e42fefa39efp-1')
_LOGF_A0, _LOGF_A1, _LOGF_A2 = (float.fromhex(h) for h in (
    '-0x1.00ea348b88334p-2', '0x1.5575b0be00b6ap-2', '-0x1.ffffef20a4123p-2'))
_LOGF_OFF = 0x3f330000
# glibc's sinf / cosf (same origin): below 0.75 (their `abstop12 < abstop12(π/4)` test)
# the polynomials directly, else x reduced by n · π/2, n from x · (2/π · 2²⁴) truncated.
_SINCOSF_HPI_INV = float.fromhex('0x1.45F306DC9C883p+23')
_SINCOSF_HPI = float.fromhex('0x1.921FB54442D18p0')
_SINCOSF_C = (1.0,) + tuple(float.fromhex(h) for h in (
    '-0x1.ffffffd0c621cp-2', '0x1.55553e1068f19p-5', '-0x1.6c087e89a359dp-10',
    '0x1.99343027bf8c3p-16'))
_SINCOSF_S = tuple(float.fromhex(h) for h in (
    '-0x1.555545995a603p-3', '0x1.1107605230bc4p-7', '-0x1.994eb3774cf24p-13'))
_SINCOSF_DIRECT = np.float32(0.75)
_SINCOSF_TINY = np.float32(2.0 ** -12)        # below: sinf(x) = x, cosf(x) = 1
_DOMAIN = 1 << 23                           # values of a 23-bit mantissa
_CHUNK = 4096                               # Philox groups per pass (16,384 values, in L1/L2)

_JIT = dict(nogil=True, error_model='numpy', cache=True)


@intrinsic
def _bits_of(typingctx, x):
    """The IEEE bits of a float32 as an int32."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _float_of(typingctx, bits):
    """The float32 whose IEEE bits are the int32 `bits`."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@numba.njit(inline='always', **_JIT)
def _philox(c0, c1, c2, c3, k0, k1):
    """Philox-4x32-10 of counter (c0..c3) under key (k0, k1); uint32 values in uint64."""
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        n0 = (p1 >> _SH32) ^ c1 ^ k0
        n2 = (p0 >> _SH32) ^ c3 ^ k1
        c1 = p1 & _LO32
        c3 = p0 & _LO32
        c0 = n0
        c2 = n2
        k0 = (k0 + _W0) & _LO32
        k1 = (k1 + _W1) & _LO32
    return c0, c1, c2, c3


@numba.njit(**_JIT)
def _philox_words(k0, k1, c0, c1, c2, c3, g0, radius_m, angle_m):
    """The Box–Muller inputs of groups g0 … g0 + n - 1, as 23-bit mantissas: int32
    radius_m (2n,) and angle_m (2n,), pair p = 2i + j of group g0 + i being words (2j, 2j+1).

    (k0, k1) the key, (c0..c3) the counter, least significant word first (uint32 values in
    uint64); group g uses counter + g (128-bit addition)."""
    for i in range(radius_m.shape[0] // 2):
        g = _U64(g0) + _U64(i)
        s = c0 + (g & _LO32)
        d0 = s & _LO32
        s = c1 + (g >> _SH32) + (s >> _SH32)
        d1 = s & _LO32
        s = c2 + (s >> _SH32)
        d2 = s & _LO32
        d3 = (c3 + (s >> _SH32)) & _LO32
        d0, d1, d2, d3 = _philox(d0, d1, d2, d3, k0, k1)
        radius_m[2 * i] = np.int32(d0 & _MANTISSA)
        angle_m[2 * i] = np.int32(d1 & _MANTISSA)
        radius_m[2 * i + 1] = np.int32(d2 & _MANTISSA)
        angle_m[2 * i + 1] = np.int32(d3 & _MANTISSA)


@numba.njit(**_JIT)
def _radius_exact(m):
    """sqrt(-2 logf(u1)) for mantissa m, with the C library's logf (float32)."""
    u1 = np.float32(m) * _ULP23
    if u1 < _U1_MIN:
        u1 = _U1_MIN
    return math.sqrt(np.float32(-2.0) * math.log(u1))


@numba.njit(**_JIT)
def _angle(m):
    """v = (float)(2π · u2) for mantissa m, the product taken in double."""
    return np.float32(_TWO_PI * np.float64(np.float32(m) * _ULP23))


@numba.njit(**_JIT)
def _sincos_exact(m):
    """(sinf(v), cosf(v)) for mantissa m, with the C library's float32 functions."""
    v = _angle(m)
    return math.sin(v), math.cos(v)


@numba.njit(**_JIT)
def _radius_fast(m, out):
    """sqrt(-2 · logf(u1)) for int32 mantissas m (n,) into float32 out (n,), logf computed
    by glibc's algorithm (its table and polynomial, in double) in a loop that vectorises."""
    for p in range(m.shape[0]):
        u1 = np.float32(m[p]) * _ULP23
        u1 = _U1_MIN if u1 < _U1_MIN else u1
        ix = _bits_of(u1)
        tmp = ix - np.int32(_LOGF_OFF)
        i = (tmp >> np.int32(19)) & np.int32(15)
        z = np.float64(_float_of(ix - (tmp & np.int32(-0x800000))))
        r = z * _LOGF_INVC[i] - 1.0
        y0 = _LOGF_LOGC[i] + np.float64(tmp >> np.int32(23)) * _LOGF_LN2
        r2 = r * r
        y = _LOGF_A0 * r2 + (_LOGF_A1 * r + _LOGF_A2)
        y = y * r2 + (y0 + r)
        out[p] = math.sqrt(np.float32(-2.0) * np.float32(y))


@numba.njit(**_JIT)
def _sincos_fast(m, sin_out, cos_out):
    """(sinf v, cosf v) for int32 mantissas m (n,) into float32 sin_out, cos_out (n,), by
    glibc's algorithm (reduction and polynomials in double) in a loop that vectorises.

    v = n · π/2 + x with |x| <= π/4 (n = 0 below 0.75); the sine polynomial of ±x and the
    cosine polynomial of x², negated when n & 2 (rounding to nearest is symmetric, so the
    negation is exact), are the two results, swapped when n is odd."""
    c0, c1, c2, c3, c4 = _SINCOSF_C
    s1, s2, s3 = _SINCOSF_S
    for p in range(m.shape[0]):
        v = _angle(m[p])
        x = np.float64(v)
        n = np.int32(0)
        if v >= _SINCOSF_DIRECT:
            n = (np.int32(x * _SINCOSF_HPI_INV) + 0x800000) >> 24
            x = x - n * _SINCOSF_HPI
        x2 = x * x
        xs = -x if ((n + 1) & 2) != 0 else x       # glibc's signs for n & 3: +, −, −, +
        x3 = xs * x2
        sin_x = (xs + x3 * s1) + (x3 * x2) * (s2 + x2 * s3)
        x4 = x2 * x2
        cos_x = ((c0 + x2 * c1) + x4 * c2) + (x4 * x2) * (c3 + x2 * c4)
        cos_x = -cos_x if (n & 2) != 0 else cos_x
        odd = (n & 1) != 0
        sin_v = np.float32(cos_x if odd else sin_x)
        cos_v = np.float32(sin_x if odd else cos_x)
        tiny = v < _SINCOSF_TINY
        sin_out[p] = v if tiny else sin_v
        cos_out[p] = np.float32(1.0) if tiny else cos_v


@numba.njit(**_JIT)
def _flag(bitmap, m):
    """Bit m of an int32 bitmap (0 or 1)."""
    return (bitmap[m >> 5] >> (m & 31)) & 1


@numba.njit(**_JIT)
def _flags(radius_bits, sincos_bits):
    """Set bit m of the uint32 bitmaps for every mantissa m where the fast path differs
    from the C library: radius_bits for sqrt(-2 logf(u1)), sincos_bits for (sinf, cosf)(v)."""
    m = np.empty(_CHUNK, np.int32)
    radius = np.empty(_CHUNK, np.float32)
    sin_v = np.empty(_CHUNK, np.float32)
    cos_v = np.empty(_CHUNK, np.float32)
    for start in range(0, _DOMAIN, _CHUNK):
        for i in range(_CHUNK):
            m[i] = start + i
        _radius_fast(m, radius)
        _sincos_fast(m, sin_v, cos_v)
        for i in range(_CHUNK):
            k = start + i
            bit = np.int32(1) << np.int32(k & 31)
            if radius[i] != _radius_exact(k):
                radius_bits[k >> 5] |= bit
            s, c = _sincos_exact(k)
            if sin_v[i] != s or cos_v[i] != c:
                sincos_bits[k >> 5] |= bit


@numba.njit(**_JIT)
def _fill(out, k0, k1, c0, c1, c2, c3, stddev, radius_bits, sincos_bits, any_flagged):
    """The normals of groups 0, 1, … into float32 out (n,), times stddev, plus 0.

    Per chunk of groups: the Philox words, the fast radius and (sin, cos) of every pair;
    if any_flagged (some input of the bitmaps is set), one flag per pair (either input
    flagged) and the C library's values for the flagged inputs; then the pair's two
    outputs (sin · radius, cos · radius)."""
    n = out.shape[0]
    n_pairs = (n + 1) // 2
    radius_m = np.empty(2 * _CHUNK, np.int32)
    angle_m = np.empty(2 * _CHUNK, np.int32)
    radius = np.empty(2 * _CHUNK, np.float32)
    sin_v = np.empty(2 * _CHUNK, np.float32)
    cos_v = np.empty(2 * _CHUNK, np.float32)
    flagged = np.empty(2 * _CHUNK, np.int32)
    zero = np.float32(0.0)
    for p0 in range(0, n_pairs, 2 * _CHUNK):
        size = min(2 * _CHUNK, n_pairs - p0)
        groups = (size + 1) // 2
        _philox_words(k0, k1, c0, c1, c2, c3, p0 // 2,
                      radius_m[:2 * groups], angle_m[:2 * groups])
        _radius_fast(radius_m[:size], radius[:size])
        _sincos_fast(angle_m[:size], sin_v[:size], cos_v[:size])
        if any_flagged:
            for p in range(size):
                flagged[p] = (_flag(radius_bits, radius_m[p]) |
                              _flag(sincos_bits, angle_m[p]))
            for p in range(size):
                if flagged[p]:
                    m = radius_m[p]
                    if _flag(radius_bits, m):
                        radius[p] = _radius_exact(m)
                    m = angle_m[p]
                    if _flag(sincos_bits, m):
                        sin_v[p], cos_v[p] = _sincos_exact(m)
        base = 2 * p0
        if base + 2 * size <= n:
            for p in range(size):
                out[base + 2 * p] = sin_v[p] * radius[p] * stddev + zero
                out[base + 2 * p + 1] = cos_v[p] * radius[p] * stddev + zero
        else:                               # an odd n: the last pair's sine only
            for p in range(size - 1):
                out[base + 2 * p] = sin_v[p] * radius[p] * stddev + zero
                out[base + 2 * p + 1] = cos_v[p] * radius[p] * stddev + zero
            out[n - 1] = sin_v[size - 1] * radius[size - 1] * stddev + zero


_flags_lock = threading.Lock()
_flag_bitmaps = []


def _bitmaps():
    """(radius_bits, sincos_bits, any_flagged): int32 (2²³ / 32,) bitmaps of the inputs
    where the fast path differs from the C library, and whether there is any (none with
    glibc), built once per process."""
    with _flags_lock:
        if not _flag_bitmaps:
            radius_bits = np.zeros(_DOMAIN // 32, np.int32)
            sincos_bits = np.zeros(_DOMAIN // 32, np.int32)
            _flags(radius_bits, sincos_bits)
            any_flagged = bool(radius_bits.any() or sincos_bits.any())
            _flag_bitmaps.extend([radius_bits, sincos_bits, any_flagged])
        return tuple(_flag_bitmaps)


def key_counter(seed):
    """Philox key (2,) and counter (4,) (uint32 values in uint64, least significant word
    first) that TensorFlow derives from a stateless seed: the seed's two int64 as the
    counter, Philox under a fixed key; its words 0, 1 are the key and 2, 3 the counter's
    high half."""
    s0, s1 = (int(v) & 0xFFFFFFFFFFFFFFFF for v in np.asarray(seed).reshape(2))
    words = [s0 & 0xFFFFFFFF, s0 >> 32, s1 & 0xFFFFFFFF, s1 >> 32]
    mixed = _philox(*(_U64(v) for v in words), _U64(_SEED_KEY[0]), _U64(_SEED_KEY[1]))
    key = np.array(mixed[:2], dtype=np.uint64)
    counter = np.array([0, 0, mixed[2], mixed[3]], dtype=np.uint64)
    return key, counter


def stateless_normal(shape, seed, stddev=1.0, out=None):
    """float32 array of `shape` equal, bit for bit, to
    ``tf.random.stateless_normal(shape, seed=seed, stddev=stddev)`` (mean 0) on this machine.

    seed: two integers (int64 (2,)); stddev is rounded to float32 as TensorFlow does.
    out: optional C-contiguous float32 array of `shape` to write into; by default a new one,
    aligned for TensorFlow to feed it without a copy. Releases the GIL.
    """
    shape = tuple(int(d) for d in np.atleast_1d(shape))
    if out is None:
        out = tools.aligned_empty(shape, np.float32)
    elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError('out must be a C-contiguous float32 array of shape {}, got {} {}'
                         .format(shape, out.dtype, out.shape))
    key, counter = key_counter(seed)
    _fill(out.reshape(-1), *key, *counter, np.float32(stddev), *_bitmaps())
    return out


def recurrent_sigma(hp):
    """Standard deviation of the recurrent noise per step, sqrt(2/α) · sigma_rec (SPEC §5:
    the continuous-time noise of the leaky RNN discretised with α = dt/τ)."""
    return np.sqrt(2.0 / hp['alpha']) * hp['sigma_rec']
