"""Differential fuzzing: random jnp/lax/nn programs, every route checked against every other.

A program is a few inputs (broadcastable shapes with size-0 and size-1 dimensions, mixed dtypes,
C-ordered, Fortran-ordered, strided, negative-stride or zero-stride NumPy layouts, NaN/inf and
integer extremes) and a chain of steps drawn from the OPS table. Routes: NumPy (the reference,
with jaxlite's documented semantics where NumPy's differ), eager jaxlite, `jit`, `vmap` against a
loop, `jit(vmap)`, `grad` against central differences and `jit(grad)` against `grad`.
Values computed only with correctly rounded operations must agree bit for bit between eager and
`jit`; the others within a tolerance scaled by the program's largest intermediate value.

The default run draws 60 programs per test (~10 s); JAXLITE_FUZZ_EXAMPLES=N (`make
fuzz`) draws N per test. Every bug this found is a test in tests/test_regressions.py.
"""

from __future__ import annotations

import math
import os
import types
import warnings
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.test_jax_promotion import jax_inexact, jax_promote

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax, nn
from jaxlite import primitives as lax_p

_EXAMPLES = int(os.environ.get("JAXLITE_FUZZ_EXAMPLES", "0") or 0)
FUZZ = settings(
    max_examples=_EXAMPLES or 60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)  # fmt: skip

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
I32, I64 = np.dtype(np.int32), np.dtype(np.int64)
U8, U32, BOOL = np.dtype(np.uint8), np.dtype(np.uint32), np.dtype(np.bool_)
I8, I16, U16, U64 = map(np.dtype, [np.int8, np.int16, np.uint16, np.uint64])
DTYPES = [F32, F64, I32, I64, U8, U32, BOOL, I8, I16, U16, U64]
# NumPy dtypes jaxlite does not hold, as jaxlite maps them (the reference follows jaxlite here).
NARROW = {np.dtype(np.float16): F32}


class Skip(Exception):
    """The drawn op does not apply to these operands."""


# ------------------------------------------------------------------------------------------
# The two namespaces a program runs against: jaxlite, and NumPy with jaxlite's semantics
# ------------------------------------------------------------------------------------------


def _np_astype(x, dtype):
    """NumPy's astype with XLA's float -> int rule (saturate, NaN -> 0), as jaxlite documents."""
    x, dtype = np.asarray(x), np.dtype(dtype)
    if x.dtype.kind != "f" or dtype.kind not in "iu":
        return x.astype(dtype)
    info = np.iinfo(dtype)
    t = np.trunc(np.where(np.isnan(x), 0, x)).astype(np.float64)
    out = np.where(t >= 2.0 ** (info.bits - (dtype.kind == "i")), info.max, 0).astype(dtype)
    inside = (t > float(info.min) - 1) & (t < 2.0 ** (info.bits - (dtype.kind == "i")))
    out[inside] = t[inside].astype(dtype)
    out[t <= float(info.min) - 1] = info.min  # NB: float(int64 min) is exact
    return out


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros((), x.dtype)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _np_logistic(x):
    return (1 / (1 + np.exp(-x))).astype(x.dtype)


def _np_softplus(x):
    return np.logaddexp(x, np.zeros((), x.dtype))


def _jnp_like(f, inexact: bool):
    """`f` with jnp's rules where NumPy's differ: a Python int out of the integer array's range
    raises OverflowError (NumPy compares it), arrays of different dtypes promote on JAX's lattice
    (int32 with float32 is float32), and (`inexact`) a float function of integers or bools
    computes in JAX's `to_inexact` dtype (float32 up to 32 bits; NumPy: float16 for uint8)."""

    def g(*xs):
        xs = [np.asarray(x) if isinstance(x, np.generic) else x for x in xs]
        arrays = [x for x in xs if isinstance(x, np.ndarray)]
        for x in xs:
            if type(x) is int and not -(2**63) <= x < 2**63:
                raise OverflowError(f"Python int {x} is out of bounds for int64")  # as jnp
        if not arrays:
            if inexact and all(type(x) in (bool, int) for x in xs):
                xs = [float(x) for x in xs]  # (NumPy: np.cos(True) is a float16)
            return f(*xs)
        dtype = arrays[0].dtype
        for a in arrays[1:]:
            dtype = jax_promote(dtype, a.dtype)
        if dtype.kind in "iu":
            for x in xs:
                if type(x) is int:
                    np.asarray(x, dtype)  # OverflowError, as jnp
        if any(type(x) is float for x in xs) and dtype.kind != "f":
            dtype = np.dtype(F64)  # a Python float takes JAX's default float
        elif any(type(x) is int for x in xs) and dtype.kind == "b":
            dtype = np.dtype(np.int64)
        if inexact and dtype.kind in "biu":
            dtype = jax_inexact(dtype)
        return f(*[x.astype(dtype) if isinstance(x, np.ndarray) else x for x in xs])

    return g


_INEXACT = ["exp", "exp2", "expm1", "log", "log1p", "log2", "sin", "cos", "tan", "tanh", "arcsin",
            "arctan", "sinh", "cosh", "arcsinh", "cbrt", "sqrt", "arctan2", "hypot", "logaddexp",
            "divide", "copysign"]  # fmt: skip
_BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "floor_divide", "remainder", "fmod",
           "power", "fmax", "fmin", "bitwise_and", "bitwise_or", "bitwise_xor", "logical_and",
           "logical_xor", "equal", "not_equal", "less", "greater_equal", "clip"]  # fmt: skip
NP = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("_")})
for _name in _INEXACT + _BINARY:
    setattr(NP, _name, _jnp_like(getattr(np, _name), _name in _INEXACT))
NP.astype = _np_astype
NP.sigmoid, NP.softplus, NP.relu = _np_logistic, _np_softplus, lambda x: np.maximum(x, 0)
NP.softmax, NP.logsumexp = _np_softmax, _np_logsumexp
NP.argsort = lambda x, axis=-1: np.argsort(x, axis=axis, kind="stable")
NP.lax_sub = np.subtract
# The arrays of a list promote on JAX's lattice too (np.stack of float32 and int32 is float64)
NP.stack = lambda xs, axis=0: _jnp_like(lambda *a: np.stack(a, axis=axis), False)(*xs)


def _in_inexact(f):
    """NumPy's reduction `f` in JAX's dtype: integers and bools give their `to_inexact` float."""

    def g(x, *args, **kwargs):
        x = np.asarray(x)
        return f(x.astype(jax_inexact(x.dtype)) if x.dtype.kind in "biu" else x, *args, **kwargs)

    return g


NP.median, NP.mean, NP.var = _in_inexact(np.median), _in_inexact(np.mean), _in_inexact(np.var)


def _np_gather(x, idx):
    """`x[idx]` with JAX's rule for out-of-bounds indices: negative ones wrap once, then clamp."""
    n = x.shape[0]
    return x[np.clip(np.where(idx < 0, idx + n, idx), 0, n - 1)]


def _np_scatter(x, idx, v, how):
    """`x.at[idx].set(v)` / `.add(v)` with JAX's rule: out-of-bounds updates are dropped."""
    n = x.shape[0]
    i = np.where(idx < 0, idx + n, idx)
    i = i[(i >= 0) & (i < n)]
    out = x.copy()
    if how == "set":
        out[i] = v
    else:
        np.add.at(out, i, np.asarray(v, x.dtype))
    return out


def _clamped_starts(x, starts, sizes):
    # lax's (JAX's): a negative start counts from the end, then it is clamped so the slice fits
    return [int(np.clip(s + n * (s < 0), 0, n - k)) for s, n, k in zip(starts, x.shape, sizes)]


def _np_dynamic_slice(x, starts, sizes):
    st_ = _clamped_starts(x, starts, sizes)
    return x[tuple(slice(s, s + k) for s, k in zip(st_, sizes))]


def _np_dynamic_update_slice(x, u, starts):
    st_ = _clamped_starts(x, starts, u.shape)
    out = x.copy()
    out[tuple(slice(s, s + k) for s, k in zip(st_, u.shape))] = u
    return out


def _lax_args(x, y):
    """lax's rule: equal dtypes (a Python scalar takes the other's) and equal shapes (or 0-d)."""
    x = np.asarray(x)
    y = np.asarray(y, x.dtype) if type(y) in (bool, int, float) else np.asarray(y)
    if x.dtype != y.dtype or (x.shape != y.shape and x.ndim and y.ndim):
        raise TypeError("lax: operands of different dtypes or shapes")
    return x, y


def _np_lax_div(x, y):
    x, y = _lax_args(x, y)
    if x.dtype.kind == "f":
        return x / y
    safe = np.where(y == 0, 1, y)
    q = x // safe
    q = np.where((q * safe != x) & ((x < 0) != (safe < 0)), q + 1, q)  # toward zero, as C
    return np.where(y == 0, 0, q).astype(x.dtype)


def _np_lax_rem(x, y):
    x, y = _lax_args(x, y)
    if x.dtype.kind == "f":
        return np.fmod(x, y)
    return np.where(y == 0, 0, x - _np_lax_div(x, y) * np.where(y == 0, 1, y)).astype(x.dtype)


def _np_scan(f, init, xs, reverse=False):
    carry, ys = init, []
    for r in xs[::-1] if reverse else xs:
        carry, y = f(carry, r)
        ys.append(y)
    if not ys:
        return carry, np.zeros((0,) + np.shape(init), np.asarray(init).dtype)
    ys = np.stack(ys[::-1] if reverse else ys)
    return carry, ys


def _np_while(cond, body, val):
    while cond(val):
        val = body(val)
    return val


def _np_fori(lo, hi, body, val):
    for i in range(lo, hi):
        val = body(i, val)
    return val


def _np_one_hot(x, k):
    return (np.asarray(x)[..., None] == np.arange(k)).astype(F64)


NP.gather, NP.scatter = _np_gather, _np_scatter
NP.dynamic_slice, NP.dynamic_update_slice = _np_dynamic_slice, _np_dynamic_update_slice
NP.lax_div, NP.lax_rem = _np_lax_div, _np_lax_rem


def _np_cumulative(fn):
    """JAX's dtype rule: integers keep their dtype (wrapping), bools count in int64 (x64 on)."""

    def f(x, axis=None):
        x = np.asarray(x)
        dt = np.dtype(np.int64) if x.dtype == np.bool_ else x.dtype
        return fn(x, axis=axis, dtype=dt)

    return f


NP.cumsum, NP.cumprod = _np_cumulative(np.cumsum), _np_cumulative(np.cumprod)
NP.cummax = lambda x, axis: np.maximum.accumulate(x, axis=axis)
NP.cummin = lambda x, axis: np.minimum.accumulate(x, axis=axis)
NP.cond = lambda p, t, f, x: t(x) if p else f(x)
NP.switch = lambda i, bs, x: bs[int(np.clip(i, 0, len(bs) - 1))](x)
NP.fori_loop, NP.while_loop, NP.scan = _np_fori, _np_while, _np_scan
NP.bitcast = lambda x, dtype: np.asarray(x).view(dtype)
NP.one_hot = _np_one_hot

JNP = types.SimpleNamespace(**{k: getattr(jnp, k) for k in dir(jnp) if not k.startswith("_")})
JNP.sigmoid, JNP.softplus, JNP.relu = nn.sigmoid, nn.softplus, nn.relu
JNP.softmax, JNP.logsumexp = nn.softmax, nn.logsumexp
# The primitives' wrappers, which promote a Python scalar to the array's dtype (the public lax
# requires one dtype, as JAX: a Python int is int64 with x64 on).
JNP.lax_sub = lax_p.sub


def _jnp_scatter(x, idx, v, how):
    x = jnp.asarray(x)
    return x.at[idx].set(v) if how == "set" else x.at[idx].add(v)


JNP.gather, JNP.scatter = (lambda x, idx: jnp.asarray(x)[idx]), _jnp_scatter
JNP.dynamic_slice, JNP.dynamic_update_slice = lax.dynamic_slice, lax.dynamic_update_slice
JNP.lax_div, JNP.lax_rem = lax_p.div, lax_p.rem
JNP.cummax = lambda x, axis: lax.cummax(x, axis=axis % x.ndim)
JNP.cummin = lambda x, axis: lax.cummin(x, axis=axis % x.ndim)
JNP.cond, JNP.switch = lax.cond, lax.switch
JNP.fori_loop, JNP.while_loop, JNP.scan = lax.fori_loop, lax.while_loop, lax.scan
JNP.bitcast = lax.bitcast_convert_type
JNP.one_hot = nn.one_hot


def canonical(x) -> np.ndarray:
    """A reference value with jaxlite's dtypes (uint64 -> int64, ...)."""
    x = np.asarray(x)
    return x.astype(NARROW[x.dtype]) if x.dtype in NARROW else x


# ------------------------------------------------------------------------------------------
# The op table
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One step kind. `fn(m, *operands, **params)` with `m` = JNP or NP; `params(draw, *xs)`
    draws static parameters from the NumPy operand values (raises Skip when it cannot apply)."""

    name: str
    arity: int
    fn: Callable
    kinds: str = "biuf"  # dtype kinds of the operands it accepts
    params: Callable = lambda draw, *xs: {}
    exact: bool = False  # correctly rounded: eager and C agree bit for bit on exact operands
    smooth: bool = False  # differentiable everywhere (for grad programs)
    needs_exact: bool = False  # discontinuous in its operands: only on exact values
    scalar_ok: bool = True  # a binary op whose second operand may be a Python scalar


def dtype_of(x) -> np.dtype:
    """The dtype of an array, a tracer or a Python scalar (which stays one under `x ** 3`)."""
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


def axis_param(draw, x, allow_none=True):
    if x.ndim == 0:
        if allow_none:
            return None
        raise Skip
    choices = list(range(-x.ndim, x.ndim)) + ([None] if allow_none else [])
    return draw(st.sampled_from(choices))


def axes_param(draw, x):
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or x.ndim == 0:
        return None
    if kind == "int":
        return axis_param(draw, x, allow_none=False)
    axes = draw(st.lists(st.integers(0, x.ndim - 1), unique=True, max_size=x.ndim))
    return tuple(a - x.ndim if draw(st.booleans()) else a for a in axes)


def reduce_params(draw, x):
    return dict(axis=axes_param(draw, x), keepdims=draw(st.booleans()))


def unary(name, kinds="biuf", **kw) -> Op:
    return Op(name, 1, lambda m, x, _n=name: getattr(m, _n)(x), kinds, **kw)


def binary(name, kinds="biuf", **kw) -> Op:
    return Op(name, 2, lambda m, x, y, _n=name: getattr(m, _n)(x, y), kinds, **kw)


def reduction(name, kinds="biuf", **kw) -> Op:
    return Op(name, 1, lambda m, x, _n=name, **p: getattr(m, _n)(x, **p), kinds, reduce_params,
              **kw)  # fmt: skip


def _perm(draw, x):
    return dict(axes=tuple(draw(st.permutations(range(x.ndim)))))


def _reshape(draw, x):
    n = x.size
    if draw(st.booleans()) or n == 0:
        return dict(shape=(-1,))
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    return dict(shape=(draw(st.sampled_from(divisors)), -1))


def _slices(draw, x):
    if x.ndim == 0:
        raise Skip
    k = draw(st.integers(1, x.ndim))
    return dict(idx=tuple(draw(st.slices(n)) for n in x.shape[:k]))


def _int_index(draw, x):
    if x.ndim == 0 or x.shape[0] == 0:
        raise Skip
    n = x.shape[0]
    if draw(st.booleans()):
        return dict(idx=draw(st.integers(-n, n - 1)))
    size = draw(st.integers(0, 4))
    return dict(idx=np.array(draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size)),
                             dtype=draw(st.sampled_from([I32, I64]))))  # fmt: skip


def _expand(draw, x):
    return dict(axis=draw(st.integers(-x.ndim - 1, x.ndim)))


def _swap(draw, x):
    if x.ndim < 2:
        raise Skip
    return dict(a=draw(st.integers(-x.ndim, x.ndim - 1)), b=draw(st.integers(-x.ndim, x.ndim - 1)))


def _bcast(draw, x):
    return dict(shape=(draw(st.integers(0, 3)),) + x.shape)


def _roll(draw, x):
    return dict(shift=draw(st.integers(-5, 5)), axis=axis_param(draw, x))


def _repeat(draw, x):
    return dict(repeats=draw(st.integers(0, 3)), axis=axis_param(draw, x))


def _tile(draw, x):
    return dict(reps=tuple(draw(st.lists(st.integers(0, 2), min_size=1, max_size=2))))


def _pad(draw, x):
    width = st.integers(0, 2)
    return dict(pad_width=tuple((draw(width), draw(width)) for _ in x.shape))


def _matmul_const(draw, x):
    if x.ndim == 0:
        raise Skip
    k = draw(st.integers(0, 3))
    seed = draw(st.integers(0, 2**16))
    w = np.random.default_rng(seed).uniform(-1, 1, (x.shape[-1], k))
    return dict(w=w.astype(x.dtype if x.dtype.kind == "f" else F64))


def _where_const(draw, x):
    seed = draw(st.integers(0, 2**16))
    return dict(mask=np.random.default_rng(seed).random(x.shape) < 0.5)


def _astype(draw, x):
    return dict(dtype=draw(st.sampled_from(DTYPES)))


def _clip(draw, x):
    lo = draw(st.integers(-2, 1))
    return dict(lo=lo, hi=lo + draw(st.integers(0, 3)))


def _cum(draw, x):
    return dict(axis=axis_param(draw, x, allow_none=x.ndim <= 1))


def _arg(draw, x):
    return dict(axis=axis_param(draw, x), keepdims=draw(st.booleans()))


def _sort_axis(draw, x):
    return dict(axis=axis_param(draw, x, allow_none=False))


def _shift_amount(draw, x):
    return dict(s=draw(st.integers(0, 40)))


def _oob_index(draw, x):
    if x.ndim == 0 or x.shape[0] == 0:
        raise Skip
    n = x.shape[0]
    size = draw(st.integers(0, 5))
    idx = draw(st.lists(st.integers(-2 * n - 1, 2 * n), min_size=size, max_size=size))
    return dict(idx=np.array(idx, dtype=draw(st.sampled_from([I32, I64]))))


def _scatter(draw, x):
    p = _oob_index(draw, x)
    how = draw(st.sampled_from(["set", "add"]))
    if how == "set":  # NB: duplicate indices would make `set` order-dependent
        n = x.shape[0]
        wrapped = np.where(p["idx"] < 0, p["idx"] + n, p["idx"])
        _, first = np.unique(wrapped, return_index=True)
        p["idx"] = p["idx"][np.sort(first)]
    return dict(p, v=_scalar_for(draw, x).value, how=how)


def _dyn_slice(draw, x):
    if x.ndim == 0:
        raise Skip
    sizes = tuple(draw(st.integers(0, n)) for n in x.shape)
    starts = tuple(draw(st.integers(-n - 2, n + 2)) for n in x.shape)
    return dict(starts=starts, sizes=sizes)


def _dyn_update(draw, x):
    if x.ndim == 0:
        raise Skip
    return dict(k=draw(st.integers(0, x.shape[0])),
                starts=tuple(draw(st.integers(-n - 2, n + 2)) for n in x.shape))  # fmt: skip


def _bitcast(draw, x):
    targets = {F32: [I32, U32], U32: [F32, I32], I32: [F32, U32], F64: [I64, U64],
               I64: [F64, U64], U64: [F64, I64], I8: [U8], U8: [I8], I16: [U16],
               U16: [I16]}  # fmt: skip
    if x.dtype not in targets or (x.dtype.kind == "f" and np.isnan(x).any()):
        raise Skip  # (NaN payloads may differ: JAX does not promise them either)
    return dict(dtype=draw(st.sampled_from(targets[x.dtype])))


def _loop_count(draw, x):
    return dict(k=draw(st.integers(0, 4)))


def _scan_params(draw, x):
    if x.ndim == 0:
        raise Skip
    return dict(reverse=draw(st.booleans()), out=draw(st.sampled_from(["carry", "ys"])))


def _cond(m, x):
    return m.cond(m.any(x > 1), lambda v: v * 2 + 1, lambda v: v - 3, x)


def _switch(m, x):
    branches = [lambda v: v + 1, lambda v: v * 3, lambda v: -v, lambda v: v // 2]
    return m.switch(m.sum(x > 0) - 1, branches, x)


def _fori(m, x, k):
    def body(i, c):
        return c * 3 + 1 if dtype_of(c).kind in "iu" else c * 0.5 + 1.0

    return m.fori_loop(0, k, body, x)


def _while(m, x, k):
    # NB: a data-dependent predicate: under vmap, each example stops at its own step
    out = m.while_loop(lambda c: (c[0] < k) & m.all(c[1] < 50), lambda c: (c[0] + 1, c[1] * 2 + 1),
                       (0, x))  # fmt: skip
    return out[1]


def _scan(m, x, reverse, out):
    def step(c, r):
        return c + r, c * r - r

    carry, ys = m.scan(step, m.zeros_like(x[0]), x, reverse=reverse)
    return carry if out == "carry" else ys


def _dus(m, x, k, starts):
    return m.dynamic_update_slice(x, m.flip(x[:k], 0) * 2, starts)


# A table, one operation a line:
# fmt: off
OPS: list[Op] = [
    # elementwise, correctly rounded (bit-exact eager vs C)
    binary("add", exact=True, smooth=True),
    binary("subtract", "iuf", exact=True, smooth=True),
    binary("multiply", exact=True, smooth=True),
    binary("divide", exact=True),
    binary("maximum", exact=True),
    binary("minimum", exact=True),
    binary("floor_divide", "iuf", exact=True, needs_exact=True),
    binary("remainder", "iuf", exact=True, needs_exact=True),
    binary("fmod", "iuf", exact=True, needs_exact=True),
    binary("power", "iuf"),
    binary("arctan2", "iuf"),
    binary("hypot", "iuf"),
    binary("logaddexp", "iuf", smooth=True),
    binary("fmax", "iuf", exact=True),
    binary("fmin", "iuf", exact=True),
    binary("copysign", "iuf", exact=True, needs_exact=True),
    binary("nextafter", "f", exact=True, needs_exact=True, scalar_ok=False),
    binary("bitwise_and", "biu", exact=True),
    binary("bitwise_or", "biu", exact=True),
    binary("bitwise_xor", "biu", exact=True),
    binary("logical_and", exact=True, needs_exact=True),
    binary("logical_xor", exact=True, needs_exact=True),
    binary("equal", exact=True, needs_exact=True),
    binary("not_equal", exact=True, needs_exact=True),
    binary("less", exact=True, needs_exact=True),
    binary("greater_equal", exact=True, needs_exact=True),
    Op("lax_sub_self", 1, lambda m, x: m.lax_sub(x, x), "iuf", exact=True, smooth=True),
    Op("left_shift", 1, lambda m, x, s: m.left_shift(x, np.asarray(s, dtype_of(x))), "iu",
       _shift_amount, exact=True),
    Op("right_shift", 1, lambda m, x, s: m.right_shift(x, np.asarray(s, dtype_of(x))), "iu",
       _shift_amount, exact=True),
    unary("negative", "iuf", exact=True, smooth=True),
    unary("abs", "iuf", exact=True),
    unary("square", "iuf", exact=True, smooth=True),
    unary("sign", "iuf", exact=True, needs_exact=True),
    unary("floor", "f", exact=True, needs_exact=True),
    unary("ceil", "f", exact=True, needs_exact=True),
    unary("rint", "f", exact=True, needs_exact=True),
    unary("trunc", "f", exact=True, needs_exact=True),
    unary("sqrt", "f", exact=True),
    unary("isnan", exact=True, needs_exact=True),
    unary("isinf", exact=True, needs_exact=True),
    unary("isfinite", exact=True, needs_exact=True),
    unary("logical_not", exact=True, needs_exact=True),
    unary("invert", "biu", exact=True),
    unary("relu", "iuf", exact=True),
    unary("positive", "iuf", exact=True, smooth=True),
    # transcendental: within a tolerance
    unary("exp", smooth=True),
    unary("exp2"),
    unary("expm1", smooth=True),
    unary("log"),
    unary("log1p"),
    unary("log2"),
    unary("sin", smooth=True),
    unary("cos", smooth=True),
    unary("tan"),
    unary("tanh", smooth=True),
    unary("arcsin"),
    unary("arctan", smooth=True),
    unary("sinh", smooth=True),
    unary("cosh", smooth=True),
    unary("arcsinh", smooth=True),
    unary("cbrt"),
    unary("sigmoid", "f", smooth=True),
    unary("softplus", "f", smooth=True),
    Op("smooth_log", 1, lambda m, x: m.log1p(x * x), "f", smooth=True),
    Op("smooth_sqrt", 1, lambda m, x: m.sqrt(x * x + 1.0), "f", smooth=True),
    Op("smooth_div", 1, lambda m, x: x / (x * x + 1.0), "f", smooth=True),
    Op("smooth_pow", 1, lambda m, x: (x * x + 0.5) ** 1.5, "f", smooth=True),
    Op("int_pow", 1, lambda m, x: x**3, "iuf", exact=False, smooth=True),
    Op("clip", 1, lambda m, x, lo, hi: m.clip(x, lo, hi), "iuf", _clip, exact=True),
    Op("astype", 1, lambda m, x, dtype: m.astype(x, dtype), "biuf", _astype, exact=True,
       needs_exact=True),
    Op("where_const", 2, lambda m, x, y, mask: m.where(mask, x, y), "biuf", _where_const,
       exact=True, smooth=True, scalar_ok=True),
    Op("where_self", 1, lambda m, x: m.where(x > 0, x, -x), "iuf", exact=True, needs_exact=True),
    # reductions and scans
    reduction("sum", smooth=True),
    reduction("prod", smooth=True),
    reduction("max", exact=True),
    reduction("min", exact=True),
    reduction("mean", smooth=True),
    reduction("var", "iuf"),
    reduction("any", exact=True, needs_exact=True),
    reduction("all", exact=True, needs_exact=True),
    reduction("count_nonzero", exact=True, needs_exact=True),
    Op("logsumexp", 1, lambda m, x, axis, keepdims: m.logsumexp(x, axis=axis, keepdims=keepdims),
       "f", reduce_params, smooth=True),
    Op("softmax", 1, lambda m, x, axis: m.softmax(x, axis=axis), "f",
       lambda d, x: dict(axis=axis_param(d, x, allow_none=False)), smooth=True),
    Op("argmax", 1, lambda m, x, **p: m.argmax(x, **p), "biuf", _arg, exact=True,
       needs_exact=True),
    Op("argmin", 1, lambda m, x, **p: m.argmin(x, **p), "biuf", _arg, exact=True,
       needs_exact=True),
    Op("cumsum", 1, lambda m, x, axis: m.cumsum(x, axis=axis), "biuf", _cum, smooth=True),
    Op("cumprod", 1, lambda m, x, axis: m.cumprod(x, axis=axis), "iuf", _cum, smooth=True),
    Op("sort", 1, lambda m, x, axis: m.sort(x, axis=axis), "biuf", _sort_axis, exact=True),
    Op("argsort", 1, lambda m, x, axis: m.argsort(x, axis=axis), "biuf", _sort_axis,
       exact=True, needs_exact=True),
    # shapes and indexing (exact, linear)
    Op("transpose", 1, lambda m, x, axes: m.transpose(x, axes), params=_perm, exact=True,
       smooth=True),
    Op("reshape", 1, lambda m, x, shape: m.reshape(x, shape), params=_reshape, exact=True,
       smooth=True),
    Op("slice", 1, lambda m, x, idx: x[idx], params=_slices, exact=True, smooth=True),
    Op("index", 1, lambda m, x, idx: x[idx], params=_int_index, exact=True, smooth=True),
    Op("expand_dims", 1, lambda m, x, axis: m.expand_dims(x, axis), params=_expand, exact=True,
       smooth=True),
    Op("squeeze", 1, lambda m, x: m.squeeze(x), exact=True, smooth=True),
    Op("flip", 1, lambda m, x, axis: m.flip(x, axis),
       params=lambda d, x: dict(axis=axis_param(d, x)),
       exact=True, smooth=True),
    Op("swapaxes", 1, lambda m, x, a, b: m.swapaxes(x, a, b), params=_swap, exact=True,
       smooth=True),
    Op("broadcast_to", 1, lambda m, x, shape: m.broadcast_to(x, shape), params=_bcast,
       exact=True, smooth=True),
    Op("roll", 1, lambda m, x, shift, axis: m.roll(x, shift, axis), params=_roll, exact=True,
       smooth=True),
    Op("repeat", 1, lambda m, x, repeats, axis: m.repeat(x, repeats, axis), params=_repeat,
       exact=True, smooth=True),
    Op("tile", 1, lambda m, x, reps: m.tile(x, reps), params=_tile, exact=True, smooth=True),
    Op("pad", 1, lambda m, x, pad_width: m.pad(x, pad_width), params=_pad, exact=True,
       smooth=True),
    Op("concat_self", 1, lambda m, x, axis: m.concatenate([x, -x], axis=axis), "iuf",
       lambda d, x: dict(axis=axis_param(d, x, allow_none=False)), exact=True, smooth=True),
    Op("stack", 2, lambda m, x, y, axis: m.stack([x, y], axis=axis), "biuf",
       lambda d, x, y: dict(axis=d(st.integers(-x.ndim - 1, x.ndim))), exact=True, smooth=True,
       scalar_ok=False),
    Op("matmul_const", 1, lambda m, x, w: m.matmul(x, w), "iuf", _matmul_const, smooth=True),
    # indexing out of bounds, dynamic slices, lax arithmetic
    # NB: not `smooth`: as in JAX (mode promise_in_bounds), the gradient of a clamped index is 0
    Op("gather_oob", 1, lambda m, x, idx: m.gather(x, idx), params=_oob_index, exact=True),
    Op("scatter_oob", 1, lambda m, x, idx, v, how: m.scatter(x, idx, v, how), "iuf", _scatter,
       exact=True, smooth=True),
    Op("dynamic_slice", 1, lambda m, x, starts, sizes: m.dynamic_slice(x, starts, sizes),
       params=_dyn_slice, exact=True, smooth=True),
    Op("dynamic_update_slice", 1, _dus, "iuf", _dyn_update, exact=True, smooth=True),
    Op("lax_div", 2, lambda m, x, y: m.lax_div(x, y), "iuf", exact=True, needs_exact=True),
    Op("lax_rem", 2, lambda m, x, y: m.lax_rem(x, y), "iuf", exact=True, needs_exact=True),
    Op("cummax", 1, lambda m, x, axis: m.cummax(x, axis), "iuf",
       lambda d, x: dict(axis=axis_param(d, x, allow_none=False)), exact=True),
    Op("cummin", 1, lambda m, x, axis: m.cummin(x, axis), "iuf",
       lambda d, x: dict(axis=axis_param(d, x, allow_none=False)), exact=True),
    Op("bitcast", 1, lambda m, x, dtype: m.bitcast(x, dtype), "iuf", _bitcast, exact=True,
       needs_exact=True),
    Op("one_hot", 1, lambda m, x, k: m.one_hot(x, k), "iu",
       lambda d, x: dict(k=d(st.integers(0, 4))), exact=True, needs_exact=True),
    Op("diff", 1, lambda m, x, axis: m.diff(x, axis=axis), "iuf",
       lambda d, x: dict(axis=axis_param(d, x, allow_none=False)), exact=True, smooth=True),
    Op("tril", 1, lambda m, x, k: m.tril(x, k), params=lambda d, x: dict(k=d(st.integers(-2, 2)))
       if x.ndim >= 2 else (_ for _ in ()).throw(Skip()), exact=True, smooth=True),
    Op("diagonal", 1, lambda m, x, k: m.diagonal(x, k), params=lambda d, x: dict(
       k=d(st.integers(-2, 2))) if x.ndim >= 2 else (_ for _ in ()).throw(Skip()), exact=True,
       smooth=True),
    Op("outer", 2, lambda m, x, y: m.outer(x, y), "iuf", exact=True, smooth=True,
       scalar_ok=False),
    reduction("nansum", "iuf"),
    reduction("nanmax", "iuf", exact=True),
    reduction("nanmean", "f"),
    Op("median", 1, lambda m, x, axis: m.median(x, axis=axis), "iuf",
       lambda d, x: dict(axis=axis_param(d, x))),
    # control flow
    Op("cond", 1, _cond, "iuf", exact=True, needs_exact=True, smooth=True),
    Op("switch", 1, _switch, "iuf", exact=True, needs_exact=True),
    Op("fori_loop", 1, _fori, "iuf", _loop_count, exact=True, smooth=True),
    Op("while_loop", 1, _while, "iuf", _loop_count, exact=True, needs_exact=True),
    Op("scan", 1, _scan, "iuf", _scan_params, exact=True, smooth=True),
    Op("gram", 1, lambda m, x: m.matmul(x, m.swapaxes(x, -1, -2)) if x.ndim >= 2 else m.dot(x, x),
       "iuf", lambda d, x: {} if x.ndim else (_ for _ in ()).throw(Skip()), smooth=True),
]
# fmt: on
OPS_BY_NAME = {op.name: op for op in OPS}
assert len(OPS_BY_NAME) == len(OPS)


# ------------------------------------------------------------------------------------------
# Programs
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """A Python scalar operand (weakly typed)."""

    value: Any


@dataclass
class Step:
    op: Op
    args: list  # value indices or Scalars
    params: dict

    def __repr__(self) -> str:
        args = ", ".join(f"v{a}" if isinstance(a, int) else repr(a.value) for a in self.args)
        ps = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.op.name}({args}{', ' if ps else ''}{ps})"


def _short(v) -> str:
    if isinstance(v, np.ndarray):
        return f"array({v.dtype}{list(v.shape)})"
    return repr(v)


@dataclass
class Program:
    inputs: list[np.ndarray]  # the NumPy inputs, in their drawn layouts
    steps: list[Step] = field(default_factory=list)
    outs: tuple[int, ...] = ()
    exact: list[bool] = field(default_factory=list)  # per value: computed bit-exactly
    scale: float = 1.0  # the largest finite intermediate magnitude (for tolerances)
    rtol: float = 1e-9  # float32 anywhere in the program: float32's tolerance
    max_size: int = 4096  # steps making larger values are not drawn

    def __call__(self, m, *xs):
        vals = list(xs)
        for s in self.steps:
            args = [a.value if isinstance(a, Scalar) else vals[a] for a in s.args]
            out = s.op.fn(m, *args, **s.params)
            vals.append(canonical(out) if m is NP else out)  # (as when the step was drawn)
        return tuple(vals[i] for i in self.outs)

    def value_scale(self, *xs) -> float:
        """The largest finite magnitude among all values of the NumPy run on `xs`."""
        vals = list(xs)
        for s in self.steps:
            args = [a.value if isinstance(a, Scalar) else vals[a] for a in s.args]
            try:
                vals.append(canonical(np_eval(s.op.fn, NP, *args, **s.params)))
            except Exception:  # noqa: BLE001 - NumPy refuses these values (int ** -1, ...)
                break
        arrays = [np.asarray(v) for v in vals]
        return float(max([np.abs(v[np.isfinite(v)]).max(initial=0) for v in arrays
                          if v.dtype.kind == "f"], default=1.0))  # fmt: skip

    def __repr__(self) -> str:
        ins = "; ".join(f"v{i}: {_layout_str(x)}" for i, x in enumerate(self.inputs))
        body = "; ".join(f"v{len(self.inputs) + k} = {s!r}" for k, s in enumerate(self.steps))
        return f"inputs {ins}\n  {body}\n  -> {', '.join(f'v{i}' for i in self.outs)}"


def _layout_str(x) -> str:
    if not isinstance(x, np.ndarray):
        return f"{type(x).__name__} {x!r}"
    return f"{x.dtype}{list(x.shape)} strides={x.strides}"


def np_eval(fn, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# --- inputs -----------------------------------------------------------------------------


@st.composite
def base_shapes(draw, max_rank=3):
    dim = st.sampled_from([0, 1, 1, 2, 2, 3, 3, 4]) if draw(st.integers(0, 5)) == 0 else \
        st.integers(1, 4)  # fmt: skip
    rank = draw(st.sampled_from([0, 1, 2, 2, 3, 3][: max_rank * 2]))
    return tuple(draw(dim) for _ in range(rank))


@st.composite
def sub_shapes(draw, base):
    """A shape that broadcasts against `base`: a suffix of it with some dimensions set to 1."""
    k = len(base) if draw(st.booleans()) else draw(st.integers(0, len(base)))
    return tuple(1 if draw(st.integers(0, 3)) == 0 else n for n in base[len(base) - k :])


def elements(dtype: np.dtype, specials: bool):
    if dtype.kind == "f":
        finite = st.floats(-3, 3, width=dtype.itemsize * 8)
        if not specials:
            return finite
        odd = st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e30, -1e-30, 88.5, 710.0])
        return st.one_of(finite, finite, finite, odd)
    if dtype.kind == "b":
        return st.booleans()
    info = np.iinfo(dtype)
    small = st.integers(max(info.min, -8), min(info.max, 8))
    if not specials:
        return small
    extremes = st.sampled_from([info.min, info.max, info.min + 1, info.max - 1])
    return st.one_of(small, small, extremes)


def with_layout(draw, v: np.ndarray) -> np.ndarray:
    """`v`'s values in a drawn memory layout: C, Fortran, strided, reversed or zero-stride."""
    layout = draw(st.sampled_from(["c", "c", "f", "strided", "reversed", "zero_stride"]))
    if v.ndim == 0 or layout == "c":
        return v
    if layout == "f":
        return np.asfortranarray(v)
    if layout == "strided":
        big = np.zeros(tuple(2 * n for n in v.shape), v.dtype)
        big[(slice(None, None, 2),) * v.ndim] = v
        return big[(slice(None, None, 2),) * v.ndim]
    if layout == "reversed":
        flipped = np.ascontiguousarray(v[(slice(None, None, -1),) * v.ndim])
        return flipped[(slice(None, None, -1),) * v.ndim]
    if v.shape[0] == 0:
        return v
    return np.broadcast_to(v[:1], v.shape)  # read-only, stride 0 on the first axis


BIG_SHAPES = [(300_000,), (520, 520), (64, 64, 64)]
PY_SCALAR = {"f": float, "i": int, "u": int, "b": bool}


def big_value(draw, shape, dtype, specials) -> np.ndarray:
    """A large array from a drawn seed (hypothesis would be slow), specials sprinkled in."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind == "f":
        v = rng.uniform(-3, 3, shape).astype(dtype)
    elif dtype.kind == "b":
        v = rng.random(shape) < 0.5
    else:
        v = rng.integers(0 if dtype.kind == "u" else -8, 9, shape).astype(dtype)
    if specials and v.size and dtype.kind != "b":
        odd = [np.nan, np.inf, -np.inf, -0.0] if dtype.kind == "f" else [np.iinfo(dtype).max]
        at = rng.integers(0, v.size, max(1, v.size // 100))
        v.reshape(-1)[at] = rng.choice(np.array(odd, dtype), at.size)
    return v


def draw_value(draw, shape, dtype, specials, layout=True) -> np.ndarray:
    v = draw(hnp.arrays(dtype, shape, elements=elements(dtype, specials)))
    return with_layout(draw, v) if layout else v


# --- steps --------------------------------------------------------------------------------


def _operand_ok(op: Op, x, exact: bool) -> bool:
    # NB: as in JAX, lax ops do not promote: under jit a Python scalar input is a weakly typed
    # float64/int64 tracer, which lax.div(float32, it) rejects.
    if op.name.startswith("lax_") and type(x) in PY_SCALAR.values():
        return False
    return np.asarray(x).dtype.kind in op.kinds and (exact or not op.needs_exact)


def _scalar_for(draw, x) -> Scalar:
    k = np.asarray(x).dtype.kind
    if k == "f":
        return Scalar(draw(st.sampled_from([0.5, -1.5, 2.0, 0.0, 3.0, -0.0])))
    if k == "b":
        return Scalar(draw(st.booleans()))
    return Scalar(draw(st.sampled_from([0, 1, -1, 2, 3, 7])))


def draw_step(draw, prog: Program, vals: list, ops: list[Op]):
    """Draws one step that NumPy can evaluate; appends it and its reference value."""
    for _ in range(8):
        op = draw(st.sampled_from(ops))
        cands = [i for i, v in enumerate(vals) if _operand_ok(op, v, prog.exact[i])]
        if not cands:
            continue
        x = draw(st.sampled_from(cands))
        args = [x]
        if op.arity == 2:
            if op.scalar_ok and draw(st.integers(0, 3)) == 0:
                args.append(_scalar_for(draw, vals[x]))
            else:
                ys = [i for i in cands if _broadcasts(vals[i], vals[x])]
                args.append(draw(st.sampled_from(ys)))
                if draw(st.booleans()):
                    args.reverse()
        arrays = [a.value if isinstance(a, Scalar) else vals[a] for a in args]
        try:
            params = op.params(draw, *[np.asarray(a) for a in arrays])
            out = np_eval(op.fn, NP, *arrays, **params)
        except Skip:
            continue
        except Exception:  # NumPy rejects this combination: draw another step
            continue
        out = canonical(out)
        if out.size > prog.max_size or out.ndim > 5:
            continue
        exact = op.exact and all(prog.exact[a] for a in args if isinstance(a, int))
        if out.dtype.kind in "biu":
            exact = exact or all(prog.exact[a] for a in args if isinstance(a, int))
        prog.steps.append(Step(op, args, params))
        prog.exact.append(exact)
        vals.append(out)
        return True
    return False


def _broadcasts(a, b) -> bool:
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
        return True
    except ValueError:
        return False


@st.composite
def programs(draw, ops=OPS, dtypes=DTYPES, specials=None, max_steps=6, max_inputs=3,
             scalars=True):  # fmt: skip
    specials = draw(st.integers(0, 4)).__eq__(0) if specials is None else specials
    big = draw(st.integers(0, 9)) == 0  # large enough for OpenMP loops and BLAS
    base = draw(st.sampled_from(BIG_SHAPES)) if big else draw(base_shapes())
    n_in = draw(st.integers(1, max_inputs))
    inputs = []
    for _ in range(n_in):
        shape, dtype = draw(sub_shapes(base)), draw(st.sampled_from(dtypes))
        if big:
            inputs.append(with_layout(draw, big_value(draw, shape, dtype, specials)))
        elif shape == () and scalars and draw(st.integers(0, 2)) == 0:  # a weakly typed input
            inputs.append(PY_SCALAR[dtype.kind](draw(elements(dtype, specials))))
        else:
            inputs.append(draw_value(draw, shape, dtype, specials))
    prog = Program(inputs, exact=[True] * n_in)
    vals = list(inputs)
    prog.max_size = max(4096, 2 * max(np.size(x) for x in inputs))
    for _ in range(draw(st.sampled_from([1, 2, 3] + [max_steps] * 3))):
        draw_step(draw, prog, vals, ops)
    assume(prog.steps)
    n = len(vals)
    last = (n - 1,)
    extra = draw(st.sampled_from([(), (draw(st.integers(0, n - 1)),)]))
    prog.outs = last + extra
    arrays = [np.asarray(v) for v in vals]
    finite = [np.abs(v[np.isfinite(v)]).max(initial=0) for v in arrays if v.dtype.kind == "f"]
    prog.scale = float(max(finite, default=1.0))
    prog.rtol = RTOL[F32] if any(v.dtype == F32 for v in arrays) else RTOL[F64]
    note(f"program: {prog!r}")
    return prog


# ------------------------------------------------------------------------------------------
# Comparisons
# ------------------------------------------------------------------------------------------

RTOL = {F32: 1e-4, F64: 1e-9}


def assert_same(got, want, *, exact: bool, scale: float, rtol: float, what: str, check_dtype=True):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if check_dtype:
        assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind != "f" or got.dtype.kind != "f":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    if exact:
        np.testing.assert_array_equal(got, want, err_msg=f"{what} (bit-exact)")
        zeros = (want == 0) & (got == 0)
        assert np.array_equal(np.signbit(got[zeros]), np.signbit(want[zeros])), f"{what}: -0.0"
        return
    same_inf = np.isinf(want) & (got == want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaN positions")
    ok = np.isfinite(want) & np.isfinite(got)
    assert np.all(ok | same_inf | np.isnan(want)), f"{what}: inf {got} vs {want}"
    atol = rtol * max(1.0, scale)
    np.testing.assert_allclose(got[ok], want[ok], rtol=rtol, atol=atol, err_msg=what)


def check_outputs(got, want, prog: Program, what: str, exact_ok=True, check_dtype=True):
    assert len(got) == len(want), what
    for k, (g, w, i) in enumerate(zip(got, want, prog.outs)):
        exact = exact_ok and prog.exact[i]
        assert_same(g, w, exact=exact, scale=prog.scale, rtol=prog.rtol, what=f"{what}, output {k}",
                    check_dtype=check_dtype)  # fmt: skip


# ------------------------------------------------------------------------------------------
# The routes
# ------------------------------------------------------------------------------------------


def eager(prog: Program, *xs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prog(JNP, *xs)


@FUZZ
@given(programs())
def test_numpy_eager_and_jit_agree(prog):
    want = [canonical(w) for w in np_eval(prog, NP, *prog.inputs)]
    got = eager(prog, *prog.inputs)
    # The NumPy reference rounds like eager jaxlite (same NumPy kernels), except reductions
    # whose order differs: compare within the tolerance. NB: NumPy has no weakly typed values
    # but Python scalars (np.sin(2.0) is a strong float64), so with Python scalar inputs only
    # the values are compared.
    weak = any(type(x) in PY_SCALAR.values() for x in prog.inputs)
    check_outputs(got, want, prog, "eager vs NumPy", exact_ok=False, check_dtype=not weak)
    jitted = jaxlite.jit(lambda *xs: prog(JNP, *xs))
    out = jitted(*prog.inputs)
    check_outputs(out, got, prog, "jit vs eager")
    scalars = tuple(PY_SCALAR.values())
    contiguous = [x if type(x) in scalars else np.array(x, order="C") for x in prog.inputs]
    again = jitted(*contiguous)  # the same signature, another memory layout
    check_outputs(again, out, prog, "jit (contiguous inputs) vs jit")


@st.composite
def batched_programs(draw):
    prog = draw(programs(max_steps=5))
    size = draw(st.integers(1, 3))
    batched, axes = [], []
    for x in prog.inputs:
        if type(x) in PY_SCALAR.values() or draw(st.integers(0, 2)) == 0 and batched:
            batched.append(x)
            axes.append(None)
            continue
        ax = draw(st.integers(0, x.ndim))
        specials = draw(st.booleans())
        xs = draw_value(draw, (size,) + x.shape, x.dtype, specials, layout=False)
        batched.append(with_layout(draw, np.moveaxis(xs, 0, ax)))
        axes.append(ax)
    assume(any(a is not None for a in axes))
    return prog, size, batched, tuple(axes)


@FUZZ
@given(batched_programs())
def test_vmap_matches_a_loop(case):
    prog, size, xs, axes = case
    note(f"vmap size {size}, in_axes {axes}")
    f = lambda *a: prog(JNP, *a)  # noqa: E731
    rows = []
    for i in range(size):
        args = [x if ax is None else np.take(x, i, axis=ax) for x, ax in zip(xs, axes)]
        try:
            rows.append(eager(prog, *args))
        except OverflowError:  # a Python int beyond int64 (drawn from uint64): jnp refuses it
            with pytest.raises(OverflowError):
                jaxlite.vmap(f, in_axes=axes)(*xs)
            return
        prog.scale = max(prog.scale, prog.value_scale(*args))  # (the batch has its own values)
    want = [np.stack([np.asarray(r[k]) for r in rows]) for k in range(len(prog.outs))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = jaxlite.vmap(f, in_axes=axes)(*xs)
    # NB: the batch rules may pick other (equally valid) algorithms: compare within tolerance.
    check_outputs(got, want, prog, "vmap vs loop", exact_ok=False)
    jitted = jaxlite.jit(jaxlite.vmap(f, in_axes=axes))(*xs)
    check_outputs(jitted, got, prog, "jit(vmap) vs vmap", exact_ok=False)


SMOOTH = [op for op in OPS if op.smooth]


@st.composite
def grad_cases(draw):
    prog = draw(programs(ops=SMOOTH, dtypes=[F64], specials=False, max_steps=5, scalars=False))
    # NB: generic values (not hypothesis' favourite 0.0 and 1.0): no ties, no kinks.
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    prog.inputs = [with_layout(draw, rng.uniform(-1.5, 1.5, x.shape)) for x in prog.inputs]
    vals = list(prog.inputs)
    for s in prog.steps:
        args = [a.value if isinstance(a, Scalar) else vals[a] for a in s.args]
        vals.append(np_eval(s.op.fn, NP, *args, **s.params))
    assume(all(np.all(np.isfinite(np.asarray(v))) for v in vals))
    assume(max(float(np.abs(np.asarray(v)).max(initial=0)) for v in vals) < 1e6)
    weights = [rng.standard_normal(np.shape(vals[i])) for i in prog.outs]
    directions = [rng.standard_normal(x.shape) for x in prog.inputs]
    return prog, weights, directions


@FUZZ
@given(grad_cases())
def test_grad_matches_finite_differences(case):
    prog, weights, directions = case

    def loss(m, *xs):
        return sum(m.sum(o * w) for o, w in zip(prog(m, *xs), weights))

    argnums = tuple(range(len(prog.inputs)))
    grads = jaxlite.grad(lambda *xs: loss(JNP, *xs), argnums=argnums)(*prog.inputs)
    eps = 1e-6
    plus = np_eval(loss, NP, *[x + eps * d for x, d in zip(prog.inputs, directions)])
    minus = np_eval(loss, NP, *[x - eps * d for x, d in zip(prog.inputs, directions)])
    fd = (plus - minus) / (2 * eps)
    ad = sum(float(np.sum(np.asarray(g) * d)) for g, d in zip(grads, directions))
    value = abs(float(np_eval(loss, NP, *prog.inputs)))
    assert math.isclose(ad, fd, rel_tol=1e-5, abs_tol=1e-6 * (1 + value)), (ad, fd)
    for g, x in zip(grads, prog.inputs):
        assert np.shape(g) == x.shape and np.asarray(g).dtype == F64
    jit_grads = jaxlite.jit(jaxlite.grad(lambda *xs: loss(JNP, *xs), argnums=argnums))(*prog.inputs)
    for g, jg in zip(grads, jit_grads):
        np.testing.assert_allclose(np.asarray(jg), np.asarray(g), rtol=1e-9,
                                   atol=1e-9 * (1 + prog.scale), err_msg="jit(grad)")  # fmt: skip


def test_the_op_table_covers_every_kind_of_route():
    assert len(OPS) >= 100
    assert {op.name for op in SMOOTH} >= {"add", "sum", "transpose", "matmul_const", "logsumexp"}


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
