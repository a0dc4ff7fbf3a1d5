"""The eager fast paths of issue 20.7 agree with the general paths they short-cut.

- jnp's elementwise functions and Array's operators on Arrays (numpy/_eager_fast.py) against
  the same calls with the fast paths off (`core.PLAIN_TRACE` cleared: every call binds its
  primitive and runs the generic eager impl): values, dtypes, weak types, errors, read-only
  results, x64 on and off.
"""

from __future__ import annotations

import contextlib
import operator

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core

try:
    from ml_dtypes import bfloat16
except ImportError:  # pragma: no cover
    bfloat16 = None


@contextlib.contextmanager
def _general_paths():
    """jnp's eager fast paths off: every call takes bind and the generic eager impl."""
    saved = core.PLAIN_TRACE[0]
    core.PLAIN_TRACE[0] = None
    try:
        yield
    finally:
        core.PLAIN_TRACE[0] = saved


@contextlib.contextmanager
def _debug_nans():
    jaxlite.config.update("jax_debug_nans", True)
    try:
        yield
    finally:
        jaxlite.config.update("jax_debug_nans", False)


def _same(got, want):
    assert type(got) is type(want) is jaxlite.Array
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.weak_type == want.weak_type
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert not np.asarray(got).flags.writeable


def _outcome(fn, *args):
    try:
        return fn(*args), None
    except Exception as e:  # noqa: BLE001 (compared below)
        return None, (type(e), str(e))


def _check(fn, *args):
    got, got_err = _outcome(fn, *args)
    with _general_paths():
        want, want_err = _outcome(fn, *args)
    assert got_err == want_err
    if want_err is None:
        _same(got, want)


_UNARY = ["sin", "cos", "tan", "tanh", "exp", "expm1", "log", "log1p", "sqrt", "cbrt", "arctan"]
_BINARY = [
    jnp.add, jnp.subtract, jnp.multiply, jnp.true_divide, jnp.maximum, jnp.minimum,
    jnp.bitwise_and, jnp.bitwise_xor, operator.add, operator.sub, operator.mul,
    operator.truediv, operator.and_, operator.or_,
]  # fmt: skip
_DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int32, np.uint8, np.uint32,
           np.bool_, np.complex64] + ([bfloat16] if bfloat16 else [])  # fmt: skip


def _array(dtype, shape, weak=False, seed=0):
    v = np.random.default_rng(seed).uniform(0.5, 3.0, size=shape)
    if np.dtype(dtype).kind == "c":
        v = v + 0.5j * v
    a = jaxlite.Array(np.asarray(v).astype(dtype), weak)
    return a


@pytest.mark.parametrize("x64", [True, False])
@pytest.mark.parametrize("dtype", _DTYPES)
def test_unary_matches_general_path(x64, dtype):
    with jaxlite.enable_x64(x64):
        for shape in [(5,), (), (2, 3)]:
            for weak in [False, True]:
                x = _array(dtype, shape, weak)
                for name in _UNARY:
                    _check(getattr(jnp, name), x)


@pytest.mark.parametrize("x64", [True, False])
@pytest.mark.parametrize("dtype", _DTYPES)
def test_binary_matches_general_path(x64, dtype):
    with jaxlite.enable_x64(x64):
        shapes = [
            ((4,), (4,)),
            ((), ()),
            ((2, 3), (3,)),
            ((1, 3), (2, 1)),
            ((), (2,)),
            ((2,), (3,)),
        ]  # fmt: skip  (the last pair does not broadcast: an error)
        for sx, sy in shapes:
            for wx, wy in [(False, False), (True, True), (True, False)]:
                x, y = _array(dtype, sx, wx, 1), _array(dtype, sy, wy, 2)
                for fn in _BINARY:
                    _check(fn, x, y)


def test_mixed_dtypes_and_non_arrays_take_the_general_path():
    x = jnp.asarray(np.arange(3, dtype=np.float32))
    i = jnp.asarray(np.arange(3, dtype=np.int32))
    for fn in _BINARY[:8]:
        _check(fn, x, i)
        _check(fn, x, 2.0)
        _check(fn, 3, x)
        _check(fn, x, np.ones(3, np.float64))
    assert (x == None) is False  # noqa: E711 (NotImplemented: Python's answer)
    with pytest.raises(TypeError):
        x + "a"


def test_results_are_fresh_and_read_only_and_operands_untouched():
    buf = np.arange(4.0)
    x = jaxlite.Array(buf)
    for out in (jnp.sin(x), x + x, x * x, jnp.maximum(x, x)):
        v = np.asarray(out)
        assert not v.flags.writeable and not np.shares_memory(v, np.asarray(x))
    assert buf.flags.writeable  # the caller's buffer was copied, never marked


def test_fast_paths_stand_aside_under_traces_and_debug_options():
    x = jnp.asarray(np.array([-1.0, 4.0], np.float32))
    jaxpr = jaxlite.make_jaxpr(lambda v: jnp.sin(v) * x + x)(x)
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ["sin", "mul", "add"]
    with _debug_nans():
        assert core.PLAIN_TRACE[0] is None
        with pytest.raises(FloatingPointError):
            jnp.sqrt(x)
        with pytest.raises(FloatingPointError):
            jnp.zeros(2, np.float32) / jnp.zeros(2, np.float32)
    assert core.PLAIN_TRACE[0] is core.eval_trace
