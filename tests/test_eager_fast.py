"""The eager fast paths of issue 20.7 agree with the general paths they short-cut.

- jnp's elementwise functions and Array's operators on Arrays (numpy/_eager_fast.py) against
  the same calls with the fast paths off (`core.PLAIN_TRACE` cleared: every call binds its
  primitive and runs the generic eager impl): values, dtypes, weak types, errors, read-only
  results, x64 on and off.
- eager `grad`/`value_and_grad` on the tape (interpreters/tape.py) against linearize +
  transpose (`_autodiff_api._vjp_flat`): bit-identical values, dtypes, weak types and errors
  over many primitives, every grad option, custom derivatives, nesting, jit, random programs.
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


_SCALARS = [2, -3, 0, 300, -129, 2**31, 2**40, 0.1, -2.5, 1e30, 1e300, float("nan"),
            float("inf"), True, 1j]  # fmt: skip


@pytest.mark.parametrize("x64", [True, False])
@pytest.mark.parametrize("dtype", _DTYPES)
def test_python_scalar_operands_match_general_path(x64, dtype):
    with jaxlite.enable_x64(x64):
        for shape in [(3,), ()]:
            for weak in [False, True]:
                x = _array(dtype, shape, weak)
                for s in _SCALARS:
                    for fn in _BINARY:
                        _check(fn, x, s)
                        _check(fn, s, x)


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


# --- eager grad on a tape (interpreters/tape.py) against linearize + transpose ----------------

from jaxlite import _autodiff_api as _ad_api  # noqa: E402
from jaxlite import lax  # noqa: E402
from jaxlite.interpreters import tape  # noqa: E402


@contextlib.contextmanager
def _no_tape():
    """grad and value_and_grad take linearize + transpose (the general path)."""
    saved = tape.vjp_flat
    tape.vjp_flat = _ad_api._vjp_flat
    try:
        yield
    finally:
        tape.vjp_flat = saved


def _same_tree(got, want):
    gl, gt = jaxlite.tree_util.tree_flatten(got)
    wl, wt = jaxlite.tree_util.tree_flatten(want)
    assert gt == wt
    for g, w in zip(gl, wl):
        if isinstance(w, jaxlite.Array):
            assert type(g) is jaxlite.Array
            assert g.dtype == w.dtype and g.weak_type == w.weak_type and g.shape == w.shape
        else:
            assert type(g) is type(w) and np.shape(g) == np.shape(w)
            assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def _check_grad(make, *args):
    """`make()` returns a transformed function; the tape's result (or error) and the general
    path's agree."""
    calls = []
    real = tape.vjp_flat

    def spy(*a):
        calls.append(1)
        return real(*a)

    tape.vjp_flat = spy
    try:
        got, got_err = _outcome(make(), *args)
    finally:
        tape.vjp_flat = real
    with _no_tape():
        want, want_err = _outcome(make(), *args)
    assert got_err == want_err
    if want_err is None:
        _same_tree(got, want)
    return bool(calls)


def _vec(dtype=np.float32, n=4, seed=0):
    return jnp.asarray(np.random.default_rng(seed).uniform(0.2, 1.5, n).astype(dtype))


_FUNS = {
    "bench": lambda x: jnp.sum(jnp.tanh(jnp.sin(x) * x + 1.0) ** 2),
    "elementwise": lambda x: jnp.sum(jnp.exp(-x) / (1.0 + jnp.log1p(x)) - jnp.sqrt(x) * 3),
    "reuse": lambda x: jnp.sum(x * x * x + x - x / 2),
    "maximum": lambda x: jnp.sum(jnp.maximum(x, 0.7) + jnp.minimum(x, 0.5) + jnp.abs(x - 1)),
    "where": lambda x: jnp.sum(jnp.where(x > 0.8, x**2, jnp.cos(x))),
    "reductions": lambda x: jnp.mean(x) * jnp.max(x) + jnp.prod(x) - jnp.std(x),
    "shape": lambda x: jnp.sum(jnp.concatenate([x.reshape(2, 2).T.ravel(), x[1:3] * 2]) ** 2),
    "dot": lambda x: jnp.dot(x, x[::-1]) + (x.reshape(2, 2) @ x.reshape(2, 2)).sum(),
    "index": lambda x: x[2] * x[0] + jnp.take(x, jnp.array([3, 3, 1])).sum(),
    "scatter": lambda x: jnp.sum(x.at[1].set(x[0] * 3).at[2].add(x[3]) ** 2),
    "cumsum_sort": lambda x: jnp.sum(jnp.cumsum(jnp.sort(x * jnp.array([3.0, -1, 2, 0.5])))),
    "softmax": lambda x: jaxlite.nn.softmax(x)[0] + jaxlite.nn.logsumexp(x) * jaxlite.nn.relu(x).sum(),
    "clip_pow": lambda x: jnp.sum(jnp.clip(x, 0.4, 1.2) ** 3.5 + x ** 2),
    "control": lambda x: jnp.sum(x) if float(jnp.sum(x)) > 1 else jnp.sum(x * 2),
    "cond": lambda x: lax.cond(x[0] > 0, lambda v: jnp.sin(v).sum(), lambda v: v.sum(), x),
    "scan": lambda x: lax.scan(lambda c, v: (c * v + 1.0, c), 1.0, x)[0],
    "fori": lambda x: lax.fori_loop(0, 3, lambda i, v: v * 1.5 + jnp.sin(v), x).sum(),
    "jit_inside": lambda x: jaxlite.jit(lambda v: jnp.sum(jnp.tanh(v) * v))(x * 2),
    "stop_gradient": lambda x: jnp.sum(x * lax.stop_gradient(x) + jnp.floor(x) * x),
    "checkpoint": lambda x: jnp.sum(jaxlite.checkpoint(lambda v: jnp.sin(jnp.sin(v)))(x)),
    "constant": lambda x: jnp.float32(2.0),
    "int_ops": lambda x: jnp.sum(x * jnp.argmax(x) + (x > 1).astype(x.dtype) * x),
    "convert": lambda x: jnp.sum(x.astype(jnp.float64) ** 2).astype(jnp.float32),
}  # fmt: skip


@pytest.mark.parametrize("x64", [True, False])
@pytest.mark.parametrize("name", sorted(_FUNS))
def test_grad_on_tape_matches_linearize_transpose(name, x64):
    f = _FUNS[name]
    with jaxlite.enable_x64(x64):
        for dtype in (np.float32, np.float64) if x64 else (np.float32,):
            x = _vec(dtype)
            assert _check_grad(lambda: jaxlite.grad(f), x)
            assert _check_grad(lambda: jaxlite.value_and_grad(f), x)
        _check_grad(lambda: jaxlite.grad(lambda s: f(jnp.full(4, s) * s)), 0.7)  # weak scalar


def test_grad_options_on_tape():
    x, y = _vec(np.float32, seed=1), _vec(np.float32, seed=2)
    i = jnp.arange(4)
    f2 = lambda a, b: jnp.sum(jnp.sin(a) * b**2)  # noqa: E731
    assert _check_grad(lambda: jaxlite.grad(f2, argnums=(0, 1)), x, y)
    assert _check_grad(lambda: jaxlite.grad(f2, argnums=1), x, y)
    assert _check_grad(lambda: jaxlite.grad(f2, argnums=-1), x, y)
    aux = lambda a: (jnp.sum(a**2), {"s": jnp.sin(a), "n": 3})  # noqa: E731
    assert _check_grad(lambda: jaxlite.grad(aux, has_aux=True), x)
    assert _check_grad(lambda: jaxlite.value_and_grad(aux, has_aux=True), x)
    tree = {"w": x, "b": (y, 2.0)}
    loss = lambda p: jnp.sum(p["w"] * p["b"][0]) * p["b"][1]  # noqa: E731
    assert _check_grad(lambda: jaxlite.grad(loss), tree)
    fi = lambda a, k: jnp.sum(a * k)  # noqa: E731
    assert _check_grad(lambda: jaxlite.grad(fi, argnums=(0, 1), allow_int=True), x, i)
    _check_grad(lambda: jaxlite.grad(fi, argnums=1), x, i)  # an error: integer input
    _check_grad(lambda: jaxlite.grad(lambda a: a * 2), x)  # an error: not a scalar
    _check_grad(lambda: jaxlite.grad(lambda a: jnp.sum(a) + jnp.ones(3)), x)  # shape error
    _check_grad(lambda: jaxlite.grad(lambda a: jnp.sum(a).astype(jnp.int32)), x)  # int output
    # holomorphic and complex inputs: the general path
    z = jnp.asarray(np.array([1 + 2j, 0.5 - 1j], np.complex64))
    assert not _check_grad(lambda: jaxlite.grad(lambda c: jnp.sum(c * c), holomorphic=True), z)
    # nested: the outer grad on the tape, the inner one on linearize over its tracers
    g2 = lambda: jaxlite.grad(lambda a: jaxlite.grad(lambda b: jnp.sum(jnp.sin(b) * b))(a).sum())  # noqa: E731
    assert _check_grad(g2, x)
    assert _check_grad(lambda: jaxlite.grad(jaxlite.grad(lambda s: s**3 * jnp.sin(s))), 0.3)
    # grad of jit, and jit of grad (traced: not the tape)
    assert _check_grad(lambda: jaxlite.grad(jaxlite.jit(lambda a: jnp.sum(jnp.exp(a) * a))), x)
    assert not _check_grad(lambda: jaxlite.jit(jaxlite.grad(lambda a: jnp.sum(a**3))), x)
    assert not _check_grad(lambda: jaxlite.vmap(jaxlite.grad(lambda a: jnp.sin(a) * a)), x)


def test_custom_derivatives_on_tape():
    @jaxlite.custom_jvp
    def f(x):
        return jnp.sin(x)

    f.defjvp(lambda p, t: (f(p[0]), 3.0 * t[0]))

    @jaxlite.custom_vjp
    def g(x):
        return x * 2

    g.defvjp(lambda x: (g(x), x), lambda r, ct: (ct * r * 10,))
    x = _vec()
    assert _check_grad(lambda: jaxlite.grad(lambda v: jnp.sum(f(v) * g(v))), x)
    assert _check_grad(lambda: jaxlite.grad(lambda v: jnp.sum(jaxlite.nn.gelu(v))), x)


def test_tape_debug_nans_and_escaped_tracers():
    bad = lambda a: jnp.sum(jnp.log(a - 1.0))  # noqa: E731 (NaN for a < 1)
    with _debug_nans():
        with pytest.raises(FloatingPointError):
            jaxlite.grad(bad)(_vec())
    leaked = []

    def leak(a):
        leaked.append(a * 2)
        return jnp.sum(a)

    jaxlite.grad(leak)(_vec())
    with pytest.raises(jaxlite.errors.UnexpectedTracerError):
        jnp.sin(leaked[0])


@pytest.mark.parametrize("seed", range(6))
def test_random_programs_on_tape(seed):
    rng = np.random.default_rng(seed)
    unary = [jnp.sin, jnp.tanh, jnp.exp, lambda v: v * 0.5, jnp.cos, lambda v: v**2]
    binary = [jnp.add, jnp.multiply, jnp.subtract, jnp.maximum, lambda a, b: a / (b * b + 1)]
    ops = [(int(rng.integers(2)), int(rng.integers(6)), int(rng.integers(10))) for _ in range(8)]

    def f(x):
        vals = [x, jnp.cos(x)]
        for kind, k, j in ops:
            a = vals[j % len(vals)]
            if kind:
                vals.append(binary[k % len(binary)](a, vals[(j * 7 + 3) % len(vals)]))
            else:
                vals.append(unary[k](a))
        return jnp.sum(vals[-1]) + jnp.sum(vals[-2])

    with jaxlite.enable_x64(bool(seed % 2)):
        assert _check_grad(lambda: jaxlite.grad(f), _vec(np.float32, seed=seed))
