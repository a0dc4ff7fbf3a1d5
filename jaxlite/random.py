"""`jaxlite.random`: JAX's functional, counter-based PRNG (threefry-2x32), bit for bit.

A key is a plain `uint32[2]` array. Everything is written with `lax` ops on uint32 words, so the
same code runs eagerly, under `jit` (it lowers to C) and under `vmap` (a batch of keys is a
`uint32[n, 2]` array), and gives JAX's bits for its default ("partitionable") threefry mode.

Both of JAX's modes are followed: with x64 off (the default) the defaults are float32, int32 and
uint32 and nothing 64-bit is ever made (seeds, bounds and all arithmetic are 32-bit, as in JAX);
with x64 on they are float64, int64 and uint64, and 64-bit draws use uint64 arithmetic.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from jaxlite import core, dtypes
from jaxlite import numpy as jnp
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer, get_aval

__all__ = [
    "PRNGKey", "key", "key_data", "wrap_key_data", "split", "fold_in", "bits", "uniform",
    "normal", "randint", "bernoulli", "categorical", "choice", "permutation",
    "truncated_normal", "gumbel", "orthogonal",
]  # fmt: skip

_U32 = dtypes.uint32
_MASK32 = 0xFFFFFFFF

# ------------------------------------------------------------------------------------------
# The threefry-2x32 block cipher (Salmon et al. 2011, 20 rounds) on uint32 words
# ------------------------------------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _u32(v: int) -> Array:
    return _wrap(np.asarray(v, _U32))


# uint32 constants made once: Python ints would be converted on every eager op
_CONST = {v: _u32(v) for v in range(33)}
_PARITY = _u32(0x1BD11BDA)


def _rotate_left(x, d: int):
    return lax.bitwise_or(lax.shift_left(x, _CONST[d]), lax.shift_right_logical(x, _CONST[32 - d]))


def _threefry2x32(k1, k2, x1, x2):
    """Encrypts the counter pairs `(x1, x2)` under the key `(k1, k2)`; returns two words.

    `k1`, `k2` are uint32 scalars; `x1`, `x2` are uint32 arrays (or scalars, which broadcast).
    """
    ks = (k1, k2, lax.bitwise_xor(lax.bitwise_xor(k1, k2), _PARITY))
    x1 = lax.add(x1, ks[0])
    x2 = lax.add(x2, ks[1])
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x1 = lax.add(x1, x2)
            x2 = lax.bitwise_xor(x1, _rotate_left(x2, r))
        # key injection; the round counter is added to the (scalar) key word, not the array
        x1 = lax.add(x1, ks[(i + 1) % 3])
        x2 = lax.add(x2, lax.add(ks[(i + 2) % 3], _CONST[i + 1]))
    return x1, x2


def _counters(shape: tuple[int, ...]):
    """The low words of a 64-bit iota of `shape` (the high words are 0 below 2**32 elements)."""
    n = math.prod(shape)
    if n >= 2**32:
        raise NotImplementedError(f"jaxlite.random: {n} values is more than 2**32 per call")
    return lax.reshape(lax.iota(_U32, n), shape)


def _hash(words, shape):
    """Both output words of threefry over the counters of `shape` (JAX's partitionable mode)."""
    k1, k2 = words
    return _threefry2x32(k1, k2, _CONST[0], _counters(shape))


# ------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------


def _is_array(x) -> bool:
    return isinstance(x, (Array, Tracer, np.ndarray))


def _key_words(name: str, key):
    """Checks that `key` is one uint32[2] key and returns its two words as uint32 scalars."""
    if not _is_array(key):
        raise TypeError(
            f"jaxlite.random.{name}: expected a PRNG key (a uint32[2] array from "
            f"jaxlite.random.PRNGKey(seed)), got {type(key).__name__}"
        )
    aval = get_aval(key)
    if aval.shape != (2,) or aval.dtype != _U32:
        batch = " To use a batch of keys, map over it with jaxlite.vmap." if aval.ndim > 1 else ""
        raise TypeError(
            f"jaxlite.random.{name}: expected a single PRNG key of type u32[2] (from "
            f"jaxlite.random.PRNGKey(seed) or split), got {aval.str_short()}.{batch}"
        )
    return _word(key, 0), _word(key, 1)


def _word(key, i: int):
    return lax.reshape(lax.slice(key, (i,), (i + 1,)), ())


def _make_key(w1, w2):
    return lax.concatenate([lax.reshape(w1, (1,)), lax.reshape(w2, (1,))], 0)


def PRNGKey(seed) -> Array:  # noqa: N802 - JAX's name
    """Creates a PRNG key from an integer seed, as `jax.random.PRNGKey`.

    The key is the seed's bits split into two uint32 words `[high, low]`: a 64-bit seed (x64
    on) gives both words, a seed of 32 bits or fewer a zero high word. A Python int must fit in
    int64; with x64 off it is taken modulo 2**32, as JAX does.

    Args:
      seed: a Python int or an integer scalar array (may be traced).

    Returns:
      A `uint32[2]` array.

    Example:
      >>> jaxlite.random.PRNGKey(0)
      Array([0, 0], dtype=uint32)
    """
    if isinstance(seed, bool) or isinstance(seed, (float, complex)):
        raise TypeError(f"PRNGKey: the seed must be an integer, got {seed!r}")
    if isinstance(seed, int):
        if not -(2**63) <= seed < 2**63:
            raise OverflowError(f"PRNGKey: seed {seed} does not fit in int64")
        high = (seed >> 32) & _MASK32 if dtypes.x64_enabled() else 0
        return _wrap(np.array([high, seed & _MASK32], _U32))
    if isinstance(seed, (np.ndarray, np.generic)):
        seed = _wrap(dtypes.narrow_value(np.asarray(seed)))
    if not _is_array(seed):
        raise TypeError(f"PRNGKey: the seed must be an integer, got {type(seed).__name__}")
    aval = get_aval(seed)
    if aval.shape != ():
        raise TypeError(
            f"PRNGKey: the seed must be a scalar, got an array of shape {aval.shape}. "
            "Use jaxlite.vmap(PRNGKey) to make a batch of keys."
        )
    if aval.dtype.kind not in "iu":
        raise TypeError(f"PRNGKey: the seed must be an integer, got dtype {aval.dtype.name}")
    low = lax.convert_element_type(seed, _U32)  # wraps modulo 2**32
    if aval.dtype.itemsize == 8:
        high = lax.shift_right_logical(seed, _wrap(np.asarray(32, aval.dtype)))
        high = lax.convert_element_type(high, _U32)
    else:
        high = _CONST[0]
    return _make_key(high, low)


def key(seed) -> Array:
    """Creates a PRNG key from an integer seed (`jax.random.key`).

    NB: JAX returns a typed scalar key (dtype `key<fry>`); jaxlite has no key dtypes and returns
    the same raw `uint32[2]` key as `PRNGKey`, so `key_data(key(s))` is just `key(s)`.
    """
    return PRNGKey(seed)


def key_data(keys):
    """The uint32 data of (a batch of) keys: keys are raw data in jaxlite, so this is identity."""
    aval = get_aval(keys)
    if aval.ndim == 0 or aval.shape[-1] != 2 or aval.dtype != _U32:
        raise TypeError(f"key_data: expected PRNG keys of type u32[..., 2], got {aval.str_short()}")
    return keys


def wrap_key_data(key_bits_array):
    """Inverse of `key_data`: checks the shape and dtype and returns the keys unchanged."""
    return key_data(key_bits_array)


def _canonical_shape(name: str, shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(
            f"jaxlite.random.{name}: shape must be a tuple of Python ints, got {shape!r}"
        ) from None
    if any(d < 0 for d in shape):
        raise ValueError(f"jaxlite.random.{name}: negative dimension in shape {shape}")
    return shape


def split(key, num: int | Sequence[int] = 2) -> Array:
    """Splits a key into `num` new keys (a leading axis, or a shape if `num` is a tuple).

    Args:
      key: a PRNG key.
      num: the number of keys, or the shape of the array of keys. Default 2.

    Returns:
      A `uint32[*num, 2]` array of keys.

    Example:
      >>> k1, k2 = jaxlite.random.split(jaxlite.random.PRNGKey(0))
    """
    shape = _canonical_shape("split", num)
    w1, w2 = _hash(_key_words("split", key), shape)
    nd = len(shape)
    return lax.concatenate([lax.expand_dims(w1, (nd,)), lax.expand_dims(w2, (nd,))], nd)


def _split_words(words, n: int = 2):
    """`split` returning `n` keys as `(word1, word2)` scalar pairs (for use inside samplers)."""
    w1, w2 = _hash(words, (n,))
    return [(_word(w1, i), _word(w2, i)) for i in range(n)]


def fold_in(key, data) -> Array:
    """Folds an integer into a key, giving a new key (`jax.random.fold_in`).

    Args:
      key: a PRNG key.
      data: an integer scalar: a Python int in `[0, 2**32)`, or an integer array or NumPy
        scalar (taken modulo 2**32).

    Returns:
      A new key that is a deterministic function of `key` and `data`.
    """
    k1, k2 = _key_words("fold_in", key)
    if isinstance(data, bool) or not isinstance(data, (int, np.integer)) and not _is_array(data):
        raise TypeError(f"fold_in: data must be an integer, got {type(data).__name__}")
    if isinstance(data, int) and not 0 <= data < 2**32:
        raise OverflowError(f"fold_in: Python int {data} is out of bounds for uint32")
    if isinstance(data, (int, np.integer)):
        d = _u32(int(data) & _MASK32)
    else:
        aval = get_aval(data)
        if aval.shape != () or aval.dtype.kind not in "iu":
            raise TypeError(
                f"fold_in: data must be an integer scalar, got {aval.str_short()}. "
                "Use jaxlite.vmap to fold in a batch."
            )
        d = lax.convert_element_type(data, _U32)
    w1, w2 = _threefry2x32(k1, k2, _CONST[0], d)
    return _make_key(w1, w2)


# ------------------------------------------------------------------------------------------
# Random bits
# ------------------------------------------------------------------------------------------


_UINT = {8: dtypes.uint8, 16: dtypes.uint16, 32: _U32, 64: dtypes.uint64}


def _random_bits(words, bit_width: int, shape):
    """Random bits of `shape` as `uint{bit_width}` (64 only while x64 is on), as JAX builds them."""
    w1, w2 = _hash(words, shape)
    if bit_width == 64:
        u64 = dtypes.uint64
        hi = lax.shift_left(lax.convert_element_type(w1, u64), _wrap(np.asarray(32, u64)))
        return lax.bitwise_or(hi, lax.convert_element_type(w2, u64))
    b = lax.bitwise_xor(w1, w2)
    return b if bit_width == 32 else lax.convert_element_type(b, np.dtype(f"uint{bit_width}"))


def bits(key, shape=(), dtype=None) -> Array:
    """Uniform random bits as unsigned integers (`jax.random.bits`).

    Args:
      key: a PRNG key.
      shape: the result shape.
      dtype: an unsigned integer dtype. Default uint64 with x64 on, uint32 with it off.

    Returns:
      An array of `shape` and `dtype`.
    """
    words = _key_words("bits", key)
    if dtype is None:
        dt = dtypes.uint64 if dtypes.x64_enabled() else _U32
    else:
        dt = dtypes.user_dtype(dtype, "jaxlite.random.bits")
    if dt.kind != "u":
        raise ValueError(f"bits: dtype must be an unsigned integer dtype, got {dt.name}")
    return _random_bits(words, dt.itemsize * 8, _canonical_shape("bits", shape))


# ------------------------------------------------------------------------------------------
# Parameters
# ------------------------------------------------------------------------------------------


def _float_dtype(name: str, dtype) -> np.dtype:
    if dtype is None:
        return dtypes.default_float_dtype()
    dt = dtypes.user_dtype(dtype, f"jaxlite.random.{name}")
    if not dtypes.is_float(dt):
        raise ValueError(f"jaxlite.random.{name}: dtype must be a float dtype, got {dt.name}")
    return dt


def _shape_of(x) -> tuple[int, ...]:
    return get_aval(x).shape if _is_array(x) else np.shape(x)


def _check_param_shape(name: str, shape, *param_shapes) -> None:
    """Parameters must broadcast to `shape` without changing it (JAX's rule)."""
    try:
        out = np.broadcast_shapes(shape, *param_shapes)
    except ValueError:
        out = None
    if out != tuple(shape):
        raise ValueError(
            f"jaxlite.random.{name}: parameter shapes {list(param_shapes)} must broadcast to the "
            f"shape argument {tuple(shape)}, but they broadcast to {out}"
        )


def _param(x, dtype: np.dtype):
    """A parameter (Python scalar, NumPy or jaxlite array, tracer) as an array of `dtype`."""
    if _is_array(x):
        return x if get_aval(x).dtype == dtype else lax.convert_element_type(x, dtype)
    if not isinstance(x, (bool, int, float)):
        get_aval(x)  # a TypeError naming the function called and the bad type
    return _wrap(np.asarray(x, dtype))


def _int_arg(name: str, what: str, x) -> int:
    try:
        return operator.index(x)
    except TypeError:
        raise TypeError(f"jaxlite.random.{name}: {what} must be an int, got {x!r}") from None


def _broadcast(x, shape):
    """Broadcasts `x` (rank <= len(shape), NumPy rules) to `shape`."""
    xs = get_aval(x).shape
    if xs == tuple(shape):
        return x
    lead = len(shape) - len(xs)
    keep = [i for i, d in enumerate(xs) if d == shape[lead + i]]
    if len(keep) != len(xs):
        x = lax.reshape(x, tuple(xs[i] for i in keep))
    return lax.broadcast_in_dim(x, tuple(shape), tuple(lead + i for i in keep))


def _is_const(x, v: float) -> bool:
    return type(x) in (int, float) and x == v


# ------------------------------------------------------------------------------------------
# Continuous distributions
# ------------------------------------------------------------------------------------------


def _unit_floats(words, shape, dtype: np.dtype):
    """Floats uniform in [0, 1) from the top mantissa bits, exactly as JAX builds them: random
    mantissa bits under the exponent of 1.0 give [1, 2); subtract 1."""
    info = dtypes.finfo(dtype)
    udt = _UINT[info.bits]
    # JAX draws 8 bits for a float with fewer than 8 mantissa bits (bfloat16)
    rng_bits = 8 if info.nmant < 8 else info.bits
    b = _random_bits(words, rng_bits, shape)
    if rng_bits != info.bits:
        b = lax.convert_element_type(b, udt)
    b = lax.shift_right_logical(b, _wrap(np.asarray(rng_bits - info.nmant, udt)))
    one = lax.bitwise_or(b, _wrap(np.array(1.0, dtype).view(udt)))
    return lax.sub(lax.bitcast_convert_type(one, dtype), _wrap(np.asarray(1.0, dtype)))


def _uniform(words, shape, dtype, minval, maxval):
    floats = _unit_floats(words, shape, dtype)
    if _is_const(minval, 0.0) and _is_const(maxval, 1.0):
        return floats  # floats * 1 + 0 and max(0, floats) are exact no-ops
    _check_param_shape("uniform", shape, _shape_of(minval), _shape_of(maxval))
    lo = _broadcast(_param(minval, dtype), shape)
    hi = _broadcast(_param(maxval, dtype), shape)
    span = lax.sub(hi, lo)
    # floats * span exact: no fma needed; 16-bit floats: XLA's CPU rounds the product (in
    # float32, stored as 16 bits) before the sum, as two operations
    if _power_of_two_span(minval, maxval, dtype) or dtype in dtypes.HALF_DTYPES:
        return lax.max(lo, lax.add(lax.mul(floats, span), lo))
    return lax.max(lo, _fma(floats, span, lo))


def _power_of_two_span(minval, maxval, dtype) -> bool:
    """Whether the bounds are Python scalars `maxval - minval` of which is a power of two in
    `dtype` (normal's and gumbel's): then the product is exact and no fma needs emulating."""
    if type(minval) not in (int, float) or type(maxval) not in (int, float):
        return False
    span = np.asarray(maxval, dtype) - np.asarray(minval, dtype)
    return bool(np.isfinite(span) and np.frexp(span)[0] == 0.5)


def _two_sum(a, b):
    """`s, e` with `s = fl(a + b)` and `s + e == a + b` exactly (Knuth)."""
    s = lax.add(a, b)
    bb = lax.sub(s, a)
    return s, lax.add(lax.sub(a, lax.sub(s, bb)), lax.sub(b, bb))


def _two_prod(a, b, dtype: np.dtype):
    """`p, e` with `p = fl(a * b)` and `p + e == a * b` exactly (Dekker, no FMA needed)."""
    split = _wrap(np.asarray(2.0 ** ((np.finfo(dtype).nmant + 2) // 2) + 1, dtype))

    def halves(x):
        t = lax.mul(split, x)
        hi = lax.sub(t, lax.sub(t, x))
        return hi, lax.sub(x, hi)

    (ah, al), (bh, bl) = halves(a), halves(b)
    p = lax.mul(a, b)
    e = lax.add(lax.add(lax.sub(lax.mul(ah, bh), p), lax.mul(ah, bl)), lax.mul(al, bh))
    return p, lax.add(e, lax.mul(al, bl))


def _fma(a, b, c):
    """`a * b + c` rounded once, as XLA's CPU backend computes JAX's `x * scale + shift` (it
    contracts the two ops into a fused multiply-add; jaxlite's C is built without contraction).

    Boldo & Melquiond's emulation: with `a * b = p + e` and `c + p = s + t` exact, the result
    is `fl(s + ro(t + e))`, `ro` rounding to odd. Exact barring overflow and underflow.
    """
    dtype = get_aval(a).dtype
    p, e = _two_prod(a, b, dtype)
    s, t = _two_sum(c, p)
    v, err = _two_sum(t, e)
    # round to odd: an inexact sum whose last mantissa bit is 0 moves one ulp toward the error
    udt = _UINT[np.finfo(dtype).bits]
    even = lax.eq(lax.bitwise_and(lax.bitcast_convert_type(v, udt), _const(1, udt)), 0)
    inf = _full(np.inf, err)
    toward = lax.select(lax.gt(err, 0), inf, lax.neg(inf))
    # v + (next(v) - v) is next(v) exactly, and differentiates as v (nextafter has no derivative)
    sv = lax.stop_gradient(v)
    step = lax.sub(lax.nextafter(sv, lax.stop_gradient(toward)), sv)
    v = lax.select(lax.bitwise_and(even, lax.ne(err, 0)), lax.add(v, step), v)
    return lax.add(s, v)


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0) -> Array:
    """Uniform random floats in `[minval, maxval)` (`jax.random.uniform`).

    Args:
      key: a PRNG key.
      shape: the result shape. Default `()`.
      dtype: a float dtype. Default float32 with x64 off, float64 with it on.
      minval, maxval: bounds, broadcast-compatible with `shape`.

    Returns:
      An array of `shape` and `dtype`.

    Example:
      >>> k1, _ = jaxlite.random.split(jaxlite.random.PRNGKey(0))
      >>> jaxlite.random.uniform(k1, (2,), jnp.float32)
      Array([0.8423141 , 0.18237865], dtype=float32)
    """
    words = _key_words("uniform", key)
    return _uniform(
        words, _canonical_shape("uniform", shape), _float_dtype("uniform", dtype), minval, maxval
    )


def _normal(words, shape, dtype):
    lo = float(np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype)))
    u = _uniform(words, shape, dtype, lo, 1.0)
    return lax.mul(lax.erf_inv(u), _wrap(np.asarray(np.sqrt(2), dtype)))


def normal(key, shape=(), dtype=None) -> Array:
    """Standard normal random floats (`jax.random.normal`), by inverting erf on `(-1, 1)`.

    Args:
      key: a PRNG key.
      shape: the result shape. Default `()`.
      dtype: a float or complex dtype (complex: parts of variance 1/2, as JAX). Default float32
        with x64 off, float64 with it on.

    Returns:
      An array of `shape` and `dtype`.
    """
    words = _key_words("normal", key)
    shape = _canonical_shape("normal", shape)
    if dtype is not None and dtypes.user_dtype(dtype, "jaxlite.random.normal").kind == "c":
        return _complex_normal(words, shape, dtypes.user_dtype(dtype, "jaxlite.random.normal"))
    return _normal(words, shape, _float_dtype("normal", dtype))


def _complex_normal(words, shape, dtype):
    """JAX's: real and imaginary parts from two split keys, each of variance 1/2."""
    w_re, w_im = _split_words(words, 2)
    real = dtypes.to_real(dtype)
    z = lax.complex(_normal(w_re, shape, real), _normal(w_im, shape, real))
    return lax.div(z, _wrap(np.asarray(np.sqrt(2), dtype)))


def truncated_normal(key, lower, upper, shape=None, dtype=None) -> Array:
    """Standard normal floats truncated to the open interval `(lower, upper)`.

    Args:
      key: a PRNG key.
      lower, upper: bounds (scalars or arrays broadcast-compatible with `shape`).
      shape: the result shape; default: the broadcast shape of `lower` and `upper`.
      dtype: a float dtype. Default float32 with x64 off, float64 with it on.

    Returns:
      An array of `shape` and `dtype` with values strictly between the bounds.
    """
    words = _key_words("truncated_normal", key)
    dtype = _float_dtype("truncated_normal", dtype)
    if shape is None:
        shape = np.broadcast_shapes(_shape_of(lower), _shape_of(upper))
    else:
        shape = _canonical_shape("truncated_normal", shape)
        _check_param_shape("truncated_normal", shape, _shape_of(lower), _shape_of(upper))
    lower = _broadcast(_param(lower, dtype), shape)
    upper = _broadcast(_param(upper, dtype), shape)
    sqrt2 = _wrap(np.asarray(np.sqrt(2), dtype))
    a = lax.erf(lax.div(lower, sqrt2))
    b = lax.erf(lax.div(upper, sqrt2))
    out = lax.mul(sqrt2, lax.erf_inv(_uniform(words, shape, dtype, a, b)))
    # Rounding (or drawing exactly `a`) may land on a bound: clamp into the open interval.
    lo = lax.nextafter(lax.stop_gradient(lower), np.inf)
    hi = lax.nextafter(lax.stop_gradient(upper), -np.inf)
    return lax.min(lax.max(out, lo), hi)


def gumbel(key, shape=(), dtype=None, mode: str | None = None) -> Array:
    """Standard Gumbel random floats, `-log(-log(u))` (`jax.random.gumbel`).

    Args:
      key: a PRNG key.
      shape: the result shape. Default `()`.
      dtype: a float dtype. Default float32 with x64 off, float64 with it on.
      mode: `"low"` (one uniform per value; the default, also for None) or `"high"` (two
        uniforms per value, for a larger dynamic range, as in JAX). JAX's `"highest"` mode is
        not supported.

    Returns:
      An array of `shape` and `dtype`.
    """
    words = _key_words("gumbel", key)
    return _gumbel(words, _canonical_shape("gumbel", shape), _float_dtype("gumbel", dtype), mode)


def _gumbel(words, shape, dtype, mode):
    info = np.finfo(dtype)
    if mode is None or mode == "low":
        u = _uniform(words, shape, dtype, float(info.tiny), 1.0)
        return lax.neg(lax.log(lax.neg(lax.log(u))))
    if mode != "high":
        raise ValueError(f"gumbel: mode must be 'low' or 'high', got {mode!r}")
    u = _uniform(words, (2, *shape), dtype, 0.0, 1.0)
    high = lax.reshape(lax.slice(u, (0,) * (len(shape) + 1), (1, *shape)), shape)
    low = lax.reshape(lax.slice(u, (1,) + (0,) * len(shape), (2, *shape)), shape)
    low = lax.mul(low, _wrap(np.asarray(2.0**-info.nmant, dtype)))
    x = lax.select(
        lax.ge(high, 0.5), high, lax.add(lax.add(high, low), _wrap(np.asarray(info.tiny, dtype)))
    )
    return lax.neg(lax.log(lax.neg(lax.log1p(lax.neg(x)))))


# ------------------------------------------------------------------------------------------
# Discrete distributions
# ------------------------------------------------------------------------------------------


def bernoulli(key, p=0.5, shape=None, mode: str = "low") -> Array:
    """Bernoulli random booleans with mean `p` (`jax.random.bernoulli`).

    Args:
      key: a PRNG key.
      p: the probability of True: a float or a float array (a Python float is weakly typed:
        float32 with x64 off, float64 with it on).
      shape: the result shape; default: the shape of `p`.
      mode: `"low"` (one uniform per value) or `"high"` (two, exact for tiny `p`).

    Returns:
      A boolean array of `shape`.
    """
    words = _key_words("bernoulli", key)
    if isinstance(p, np.generic):
        p = np.asarray(p)
    if not _is_array(p) and not isinstance(p, (bool, int, float)):
        raise TypeError(
            f"jaxlite.random.bernoulli: value {p!r} of type {type(p).__name__} is not a valid p: "
            "expected a float or an array of floats"
        )
    dtype = get_aval(p).dtype if _is_array(p) else dtypes.dtype_of_scalar(p)
    if not dtypes.is_float(dtype):
        raise TypeError(f"bernoulli: the probability p must be a float, got dtype {dtype.name}")
    shape = _shape_of(p) if shape is None else _canonical_shape("bernoulli", shape)
    _check_param_shape("bernoulli", shape, _shape_of(p))
    p = _broadcast(_param(p, dtype), shape)
    if mode == "low":
        return lax.lt(_uniform(words, shape, dtype, 0.0, 1.0), p)
    if mode != "high":
        raise ValueError(f"bernoulli: mode must be 'low' or 'high', got {mode!r}")
    u = _uniform(words, (2, *shape), dtype, 0.0, 1.0)
    u1 = lax.reshape(lax.slice(u, (0,) * (len(shape) + 1), (1, *shape)), shape)
    u2 = lax.reshape(lax.slice(u, (1,) + (0,) * len(shape), (2, *shape)), shape)
    u2 = lax.mul(u2, 2.0 ** -np.finfo(dtype).nmant)
    return lax.lt(u2, lax.sub(p, u1))


def _const(v, dtype: np.dtype) -> Array:
    return _wrap(np.asarray(v, dtype))


def _int_bound(what: str, x):
    """A randint bound as JAX takes it: `jnp.asarray(x)`, then non-integers `astype(int)`.

    Python ints are of the default int dtype (and raise if they do not fit, as in JAX); arrays
    keep their integer dtype (NumPy ones are narrowed while x64 is off).
    """
    if isinstance(x, (np.ndarray, np.generic)):
        x = _wrap(dtypes.narrow_value(np.asarray(x)))
    if not _is_array(x):
        if not isinstance(x, (bool, int, float)):
            raise TypeError(
                f"jaxlite.random.randint: {what} must be an integer, got {type(x).__name__}"
            )
        dt = dtypes.dtype_of_scalar(x)
        if dt.kind in "iu":
            info = np.iinfo(dt)
            if not info.min <= x <= info.max:
                raise OverflowError(
                    f"jaxlite.random.randint: {what}={x} does not fit in {dt.name}, the default "
                    "int dtype (turn on x64 for int64 bounds, or pass a bound in range)"
                )
        x = _const(x, dt)
    if get_aval(x).dtype.kind not in "iu":
        x = lax.convert_element_type(x, dtypes.default_int_dtype())
    return x


def _convert_and_clip(x, dtype: np.dtype):
    """Integer `x` converted to integer `dtype`, clipped into its range instead of wrapping."""
    src = get_aval(x).dtype
    if src == dtype:
        return x
    si, di = np.iinfo(src), np.iinfo(dtype)
    lo, hi = max(int(si.min), int(di.min)), min(int(si.max), int(di.max))
    if (lo, hi) != (int(si.min), int(si.max)):
        x = lax.clamp(_const(lo, src), x, _const(hi, src))
    return lax.convert_element_type(x, dtype)


def _randint(words, shape, lo, hi, dtype):
    """JAX's randint: 2 * nbits random bits reduced modulo the span (slightly biased).

    `lo`, `hi` are integer arrays of any integer dtypes; `dtype` has 32 or 64 bits. All the
    arithmetic is in `uint{nbits}` (which wraps, as XLA's does).
    """
    nbits = np.iinfo(dtype).bits
    udt = _UINT[nbits]
    # maxval past the dtype's maximum allows the maximum: the span is one larger
    hi_dt = get_aval(hi).dtype
    top = min(int(np.iinfo(dtype).max), int(np.iinfo(hi_dt).max))
    out_of_range = _broadcast(lax.gt(hi, _const(top, hi_dt)), shape)
    lo = _broadcast(_convert_and_clip(lo, dtype), shape)
    hi = _broadcast(_convert_and_clip(hi, dtype), shape)
    ulo = lax.convert_element_type(lo, udt)
    span = lax.sub(lax.convert_element_type(hi, udt), ulo)
    empty = lax.le(hi, lo)
    span = lax.select(empty, _full(1, span), span)
    span = lax.select(lax.bitwise_and(out_of_range, lax.bitwise_not(empty)), lax.add(span, 1), span)
    # a span of 0 (wrapped around) means every value: XLA's `x % 0 == x` leaves the bits as is
    wraps = lax.eq(span, 0)
    safe = lax.select(wraps, _full(1, span), span)
    mult = lax.rem(_full(2 ** (nbits // 2), safe), safe)
    mult = lax.rem(lax.mul(mult, mult), safe)
    kh, kl = _split_words(words)
    hb, lb = _random_bits(kh, nbits, shape), _random_bits(kl, nbits, shape)
    off = lax.add(lax.mul(lax.rem(hb, safe), mult), lax.rem(lb, safe))
    off = lax.select(wraps, lb, lax.rem(off, safe))
    return lax.convert_element_type(lax.add(ulo, off), dtype)


def _full(v, like):
    aval = get_aval(like)
    return lax.broadcast_in_dim(_const(v, aval.dtype), aval.shape, ())


def randint(key, shape, minval, maxval, dtype=None) -> Array:
    """Uniform random integers in `[minval, maxval)` (`jax.random.randint`).

    As in JAX, twice the dtype's bits are reduced modulo `maxval - minval`, which is very
    slightly biased when the span is not a power of two; `maxval <= minval` gives `minval`.

    Args:
      key: a PRNG key.
      shape: the result shape.
      minval, maxval: integer bounds, broadcast-compatible with `shape`; they are clipped to
        the dtype's range (`maxval` one past the maximum allows the maximum). Python ints are
        of the default int dtype (int32 with x64 off: larger ones raise `OverflowError`).
      dtype: an integer dtype. Default int32 with x64 off, int64 with it on.

    Returns:
      An integer array of `shape` and `dtype`.
    """
    words = _key_words("randint", key)
    shape = _canonical_shape("randint", shape)
    if dtype is None:
        dt = dtypes.default_int_dtype()
    else:
        dt = dtypes.user_dtype(dtype, "jaxlite.random.randint")
    if dt.kind not in "iu":
        raise TypeError(f"randint: dtype must be an integer dtype, got {dt.name}")
    _check_param_shape("randint", shape, _shape_of(minval), _shape_of(maxval))
    lo, hi = _int_bound("minval", minval), _int_bound("maxval", maxval)
    if dt.itemsize >= 4:
        return _randint(words, shape, lo, hi, dt)
    # Narrow dtypes are sampled in 32 bits, as JAX does, to keep the modulo bias small; as in
    # JAX the bounds are converted to int32 (wrapping) before they are clipped.
    info, i32 = np.iinfo(dt), dtypes.int32
    lo = lax.clamp(_const(info.min, i32), lax.convert_element_type(lo, i32), _const(info.max, i32))
    hi = lax.convert_element_type(hi, i32)
    hi = lax.clamp(_const(info.min, i32), hi, _const(int(info.max) + 1, i32))
    return lax.convert_element_type(_randint(words, shape, lo, hi, i32), dt)


# ------------------------------------------------------------------------------------------
# Permutations and sampling from arrays
# ------------------------------------------------------------------------------------------


def _shuffle(words, x, axis: int, independent: bool):
    """Sorts by fresh random 32-bit keys, in as many rounds as make collisions negligible.

    With `independent=False` every slice along `axis` gets the same permutation (the keys are
    broadcast), which is `take(x, shuffled_arange, axis)` without a gather.
    """
    shape = get_aval(x).shape
    n = math.prod(shape) if independent else shape[axis]
    rounds = math.ceil(3 * math.log(max(1, n)) / math.log(2**32 - 1))
    for _ in range(rounds):
        words, sub = _split_words(words)
        if independent:
            sort_keys = _random_bits(sub, 32, shape)
        else:
            sort_keys = _random_bits(sub, 32, (shape[axis],))
            sort_keys = lax.broadcast_in_dim(sort_keys, shape, (axis,))
        x = lax.sort((sort_keys, x), dimension=axis, num_keys=1)[1]
    return x


def _check_axis(name: str, axis, ndim: int) -> int:
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"jaxlite.random.{name}: axis {axis} is out of range for rank {ndim}")
    return axis % ndim


def _as_array(name: str, x):
    if _is_array(x):
        return x
    if isinstance(x, (list, tuple)):
        raise TypeError(f"jaxlite.random.{name}: pass an array, not a {type(x).__name__}")
    return _wrap(np.asarray(x))


def permutation(key, x, axis: int = 0, independent: bool = False) -> Array:
    """A random permutation of `arange(x)` (x an int) or of `x` along `axis`.

    Args:
      key: a PRNG key.
      x: an int `n` (permute `arange(n)`, of the default int dtype) or an array of rank >= 1.
      axis: the axis to permute along. Default 0.
      independent: if True, permute each slice along `axis` independently.

    Returns:
      The permuted array.

    Example:
      >>> idx = jaxlite.random.permutation(jaxlite.random.PRNGKey(0), 10)
    """
    words = _key_words("permutation", key)
    if not _is_array(x) or get_aval(x).ndim == 0:
        if isinstance(x, (bool, float)) or _is_array(x) and get_aval(x).dtype.kind not in "iu":
            raise TypeError("permutation: x must be an integer or an array of rank >= 1")
        n = _int_arg("permutation", "x", x)
        return _shuffle(words, lax.iota(dtypes.default_int_dtype(), n), 0, True)
    aval = get_aval(x)
    axis = _check_axis("permutation", axis, aval.ndim)
    return _shuffle(words, x, axis, independent or aval.ndim == 1)


def _top_k_indices(x, k: int):
    """Indices of the `k` largest values along the last axis, ties to the lower index."""
    shape = get_aval(x).shape
    nd = len(shape)
    idx = lax.broadcasted_iota(dtypes.int32, shape, nd - 1)
    _, order = lax.sort((lax.neg(x), idx), dimension=nd - 1, num_keys=1)
    return lax.slice(order, (0,) * nd, (*shape[:-1], k))


def _take(arr, ind, axis: int):
    return jnp.take(arr, ind, axis=axis)


def _searchsorted_left(sorted_1d, v):
    """For each value of `v`, the number of entries of `sorted_1d` strictly below it."""
    n = get_aval(sorted_1d).shape[0]
    vs = get_aval(v).shape
    full = (*vs, n)
    below = lax.lt(lax.broadcast_in_dim(sorted_1d, full, (len(vs),)), _broadcast_trailing(v, full))
    return lax.reduce_sum(lax.convert_element_type(below, dtypes.default_int_dtype()), (len(vs),))


def _broadcast_trailing(v, full):
    nd = len(full) - 1
    return lax.broadcast_in_dim(v, full, tuple(range(nd)))


def choice(key, a, shape: Sequence[int] = (), replace: bool = True, p=None, axis: int = 0):
    """Random samples from an array or from `arange(a)` (`jax.random.choice`).

    Args:
      key: a PRNG key.
      a: an int (sample from `arange(a)`) or an array (sample slices along `axis`).
      shape: the shape of the samples. Default `()`.
      replace: sample with replacement. Default True.
      p: optional probabilities of each entry (a 1-D array of length `a.shape[axis]`).
      axis: the axis of `a` to sample along.

    Returns:
      `shape` samples: an array of the default int dtype if `a` is an int, else slices of `a`
      whose `axis` is replaced by `shape`. NB: as in JAX, no samples (a `shape` of size 0)
      give `zeros(shape)` of `a`'s dtype, without `a`'s other axes.
    """
    words = _key_words("choice", key)
    if not isinstance(shape, Sequence):
        raise TypeError(f"choice: shape must be a sequence of ints, got {shape!r}")
    shape = _canonical_shape("choice", shape)
    arr = a if _is_array(a) and get_aval(a).ndim > 0 else None
    if arr is None:
        n = _int_arg("choice", "a", a)
    else:
        arr_shape = get_aval(arr).shape
        axis = _check_axis("choice", axis, len(arr_shape))
        n = arr_shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        dt = dtypes.default_int_dtype() if arr is None else get_aval(arr).dtype
        return _wrap(np.zeros(shape, dt))
    if n <= 0:
        raise ValueError("choice: a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n:
        raise ValueError(
            f"choice: cannot take a larger sample (size {n_draws}) than the population "
            f"(size {n}) when replace=False"
        )
    if p is None and not replace:
        pool = lax.iota(dtypes.default_int_dtype(), n) if arr is None else arr
        ax = 0 if arr is None else axis
        perm = _shuffle(words, pool, ax, get_aval(pool).ndim == 1)
        pshape = get_aval(perm).shape
        stop = tuple(n_draws if i == ax else d for i, d in enumerate(pshape))
        result = lax.slice(perm, (0,) * len(pshape), stop)
    else:
        if p is None:
            dt = dtypes.default_int_dtype()
            ind = _randint(words, shape, _const(0, dt), _int_bound("a", n), dt)
        else:
            ind = _choice_index_p(words, p, n, shape, n_draws, replace)
        result = ind if arr is None else _take(arr, ind, axis)
    out_shape = shape if arr is None else arr_shape[:axis] + shape + arr_shape[axis + 1 :]
    return lax.reshape(result, out_shape)


def _choice_index_p(words, p, n: int, shape, n_draws: int, replace: bool):
    p = _as_array("choice", p)
    pa = get_aval(p)
    if not dtypes.is_float(pa.dtype):
        p = lax.convert_element_type(p, dtypes.to_inexact(pa.dtype))
    dtype = get_aval(p).dtype
    if pa.shape != (n,):
        raise ValueError(
            f"choice: p must be None or a 1-D array of length {n} (a.shape[axis]), got shape "
            f"{pa.shape}"
        )
    if replace:  # inverse CDF
        p_cuml = lax.cumsum(p, 0)
        total = lax.reshape(lax.slice(p_cuml, (n - 1,), (n,)), ())
        u = _uniform(words, shape, dtype, 0.0, 1.0)
        r = lax.mul(total, lax.sub(_wrap(np.asarray(1, dtype)), u))
        return _searchsorted_left(p_cuml, r)
    # Gumbel top-k trick
    g = lax.add(_gumbel(words, (n,), dtype, "low"), lax.log(p))
    return lax.convert_element_type(_top_k_indices(g, n_draws), dtypes.default_int_dtype())


def categorical(key, logits, axis: int = -1, shape=None, replace: bool = True) -> Array:
    """Samples from categorical distributions given by `logits` (the Gumbel-max trick).

    Args:
      key: a PRNG key.
      logits: unnormalized log-probabilities; `softmax(logits, axis)` are the probabilities.
      axis: the axis of the categories. Default -1.
      shape: the result shape, broadcast-compatible with the logits' shape without `axis`
        (its default).
      replace: sample with replacement (default); without uses the Gumbel top-k trick.

    Returns:
      An integer array of category indices (of the default int dtype; int32 when
      `replace=False`, as JAX).
    """
    words = _key_words("categorical", key)
    logits = _as_array("categorical", logits)
    aval = get_aval(logits)
    if not dtypes.is_float(aval.dtype):
        raise ValueError(
            f"categorical: logits must be a float array (the Gumbel noise added to them is of "
            f"their dtype, as in JAX), got dtype {aval.dtype.name}; convert them with astype"
        )
    dtype = aval.dtype
    ax = _check_axis("categorical", axis, aval.ndim)
    batch_shape = aval.shape[:ax] + aval.shape[ax + 1 :]
    if shape is None:
        shape = batch_shape
    else:
        shape = _canonical_shape("categorical", shape)
        _check_param_shape("categorical", shape, batch_shape)
    prefix = shape[: len(shape) - len(batch_shape)]
    if replace:
        logits_shape = list(shape[len(prefix) :])
        logits_shape.insert(ax, aval.shape[ax])
        full = (*prefix, *logits_shape)
        noisy = lax.add(_gumbel(words, full, dtype, "low"), _broadcast(logits, full))
        return lax.argmax(noisy, len(prefix) + ax, index_dtype=dtypes.default_int_dtype())
    k = math.prod(prefix)
    if k > aval.shape[ax]:
        raise ValueError(
            f"categorical: cannot take {k} samples without replacement from "
            f"{aval.shape[ax]} categories"
        )
    noisy = lax.add(logits, _gumbel(words, aval.shape, dtype, "low"))
    perm = tuple(i for i in range(aval.ndim) if i != ax) + (ax,)
    idx = _top_k_indices(lax.transpose(noisy, perm), k)  # batch_shape + (k,)
    nb = len(batch_shape)
    idx = lax.transpose(idx, (nb, *range(nb)))  # (k, *batch_shape)
    return lax.reshape(idx, shape)


def orthogonal(key, n: int, shape=(), dtype=None, m: int | None = None) -> Array:
    """Uniformly distributed orthogonal matrices (`jax.random.orthogonal`), by the QR of a normal
    matrix with the signs of R's diagonal moved into Q (Mezzadri 2007).

    Args:
      key: a PRNG key.
      n: the number of rows.
      shape: the batch dimensions of the result. Default `()`.
      dtype: a float dtype. Default: the default float dtype.
      m: the number of columns; default `n`. For `n != m` the result is semi-orthogonal:
        orthonormal rows if `n < m`, orthonormal columns if `n > m`.

    Returns:
      An array of shape `(*shape, n, m)`.
    """
    m = n if m is None else m
    n, m = operator.index(n), operator.index(m)
    z = normal(key, (*_canonical_shape("orthogonal", shape), max(n, m), min(n, m)), dtype)
    q, r = jnp.linalg.qr(z)
    d = jnp.diagonal(r, axis1=-2, axis2=-1)
    x = q * jnp.expand_dims(jnp.sign(d), -2)
    return jnp.swapaxes(x, -1, -2) if n < m else x


core.name_api("jaxlite.random.", {name: globals()[name] for name in __all__})  # error messages
