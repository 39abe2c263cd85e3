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

This module computes the same float32 numbers 2.2–2.5 times faster (6.5–10 ns per value
against TensorFlow's 16.5–22.5 on one thread, a (175, 512, 256) draw;
``python benchmarks/bench_train.py --noise-only``):

- Philox in a loop the compiler vectorises (numba);
- r and (sinf, cosf)(v) are functions of 23 bits each, i.e. of a finite domain of 2²³
  values. Both are computed in double precision with polynomials the compiler vectorises
  and rounded to float32. That agrees with the C library except where the library's own
  float32 result is not the correctly rounded one (0.4 % of the domain for r, 2.6 % for
  the pair (sin, cos) with glibc). Those inputs are found once per process by evaluating
  both over the whole domain (≈ 0.5 s) and kept in a bit per input; a flagged input takes
  the C library's value, computed by the same scalar calls TensorFlow makes.

Because the flags come from an exhaustive comparison on the machine itself, every value
equals the C-library path whatever the CPU or the polynomials' last bits; the tests compare
with TensorFlow's own kernel (tests/test_noise.py).
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
_LN2 = math.log(2.0)
_SQRT2 = math.sqrt(2.0)
# π/2 in two parts for the reduction of v (|v| < 2π, so k·_PIO2_HI is exact).
_PIO2_HI = float(np.float32(math.pi / 2))
_PIO2_LO = math.pi / 2 - _PIO2_HI
_F = tuple(1.0 / math.factorial(k) for k in range(17))      # 1/k!
_DOMAIN = 1 << 23                           # values of a 23-bit mantissa
_CHUNK = 4096                               # Philox groups per pass (16,384 values, in L1/L2)

_JIT = dict(nogil=True, error_model='numpy', cache=True)


@intrinsic
def _bits_of(typingctx, x):
    """The IEEE bits of a float64 as an int64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _float_of(typingctx, bits):
    """The float64 whose IEEE bits are the int64 `bits`."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


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
    """sqrt(-2 · (float)log(u1)) for int32 mantissas m (n,) into float32 out (n,): log in
    double (u1 = 2^e · x, x in [√½, √2), log x = 2 atanh((x-1)/(x+1)) by its series)."""
    for p in range(m.shape[0]):
        u1 = np.float32(m[p]) * _ULP23
        u1 = _U1_MIN if u1 < _U1_MIN else u1
        bits = _bits_of(np.float64(u1))
        e = np.float64(((bits >> 52) & 0x7FF) - 1023)
        x = _float_of((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)   # in [1, 2)
        high = x > _SQRT2
        x = x * 0.5 if high else x
        e = e + 1.0 if high else e
        t = (x - 1.0) / (x + 1.0)           # |t| <= 0.172: 9 odd terms reach 1e-15
        t2 = t * t
        s = ((((((((1 / 17 * t2 + 1 / 15) * t2 + 1 / 13) * t2 + 1 / 11) * t2 + 1 / 9)
                 * t2 + 1 / 7) * t2 + 1 / 5) * t2 + 1 / 3) * t2 + 1)
        log_u1 = e * _LN2 + 2.0 * t * s
        out[p] = math.sqrt(np.float32(-2.0) * np.float32(log_u1))


@numba.njit(inline='always', **_JIT)
def _taylor_tail(r2, first):
    """1/first! − r²/(first+2)! + r⁴/(first+4)! − … (seven terms, Horner): with first = 3
    the series of (r − sin r)/r³, with first = 4 that of (cos r − 1 + r²/2)/r⁴."""
    s = _F[first + 12]
    for n in range(first + 10, first - 1, -2):
        s = _F[n] - r2 * s
    return s


@numba.njit(**_JIT)
def _sincos_fast(m, sin_out, cos_out):
    """(sin v, cos v) in double, rounded to float32, for int32 mantissas m (n,): v reduced
    by the nearest multiple k of π/2 to |r| <= π/4, Taylor series to r¹⁵ / r¹⁶."""
    for p in range(m.shape[0]):
        v = np.float64(_angle(m[p]))
        k = math.floor(v * (2.0 / math.pi) + 0.5)
        r = (v - k * _PIO2_HI) - k * _PIO2_LO
        r2 = r * r
        sin_r = r - r * r2 * _taylor_tail(r2, 3)
        cos_r = 1.0 - 0.5 * r2 + r2 * r2 * _taylor_tail(r2, 4)
        q = np.int64(k) & 3
        a = sin_r if (q & 1) == 0 else cos_r
        b = cos_r if (q & 1) == 0 else sin_r
        sin_out[p] = np.float32(-a if (q & 2) != 0 else a)
        cos_out[p] = np.float32(-b if ((q + 1) & 2) != 0 else b)


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
def _fill(out, k0, k1, c0, c1, c2, c3, stddev, radius_bits, sincos_bits):
    """The normals of groups 0, 1, … into float32 out (n,), times stddev, plus 0.

    Per chunk of groups: the Philox words, the fast radius and (sin, cos) of every pair,
    one flag per pair (either input flagged), the C library's values for the flagged
    inputs, then the pair's two outputs (sin · radius, cos · radius)."""
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
        for p in range(size):
            flagged[p] = _flag(radius_bits, radius_m[p]) | _flag(sincos_bits, angle_m[p])
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
    """(radius_bits, sincos_bits), int32 (2²³ / 32,) each, built once per process."""
    with _flags_lock:
        if not _flag_bitmaps:
            radius_bits = np.zeros(_DOMAIN // 32, np.int32)
            sincos_bits = np.zeros(_DOMAIN // 32, np.int32)
            _flags(radius_bits, sincos_bits)
            _flag_bitmaps.extend([radius_bits, sincos_bits])
        return _flag_bitmaps[0], _flag_bitmaps[1]


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
    radius_bits, sincos_bits = _bitmaps()
    _fill(out.reshape(-1), *key, *counter, np.float32(stddev), radius_bits, sincos_bits)
    return out


def recurrent_sigma(hp):
    """Standard deviation of the recurrent noise per step, sqrt(2/α) · sigma_rec (SPEC §5:
    the continuous-time noise of the leaky RNN discretised with α = dt/τ)."""
    return np.sqrt(2.0 / hp['alpha']) * hp['sigma_rec']
