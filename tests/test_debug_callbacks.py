"""debug.print, debug.callback, pure_callback and experimental.io_callback: the printed output
against JAX's (eager, jit, vmap, grad, scan, while), results of callbacks under jit and vmap
(every vmap_method) against a loop, what differentiation does with them, that effectful
callbacks survive dead-code elimination, and that a raising callback raises its own exception
from compiled code (never a crash)."""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax


def _jax():
    jax = pytest.importorskip("jax", reason="JAX is the test oracle: pip install 'jax[cpu]'")
    jax.config.update("jax_enable_x64", True)
    return jax


def _programs(L, jnp_, lax_):
    """The same programs written against jaxlite or JAX. NB: `ordered=True`, as XLA may reorder
    JAX's unordered prints; jaxlite always prints in program order."""

    def f(x):
        L.debug.print("x = {}", x, ordered=True)
        y = jnp_.sin(x)
        L.debug.print("y = {y:.3f} and {}", x * 2, y=y, ordered=True)
        L.debug.print("no fields", y, skip_format_check=True, ordered=True)
        return y * 2

    def body(c, x):
        L.debug.print("step {} {}", c, x)
        return c + x, c

    def loop(n):
        def cond(s):
            return s[0] < n

        def step(s):
            L.debug.print("i={i} s={s:.1f}", i=s[0], s=s[1])
            return s[0] + 1, s[1] * 2.0

        return lax_.while_loop(cond, step, (0, 1.0))

    return {
        "eager": lambda: f(1.0),
        "jit": lambda: L.jit(f)(1.0),
        "vmap": lambda: L.vmap(f)(jnp_.arange(3.0)),
        "grad": lambda: L.grad(f)(1.0),
        "jit-grad": lambda: L.jit(L.grad(f))(0.5),
        "vmap-jit": lambda: L.vmap(L.jit(f))(jnp_.array([0.25, 0.5])),
        "scan": lambda: L.jit(lambda xs: lax_.scan(body, 0.0, xs))(jnp_.arange(3.0)),
        "while": lambda: L.jit(loop)(3),
        "array": lambda: L.jit(lambda x: L.debug.print("{}", x * 2))(jnp_.arange(4.0)),
        "grad-scan": lambda: L.grad(lambda c: lax_.scan(body, c, jnp_.arange(1.0, 3.0))[0])(1.0),
        "grad-cond": lambda: L.jit(L.grad(lambda x: lax_.cond(x > 0, f, jnp_.cos, x)))(3.0),
        "remat": lambda: L.grad(L.checkpoint(f))(1.0),  # prints in both passes, as JAX
    }


def _printed(capsys, fn, barrier=None):
    fn()
    if barrier:
        barrier()
    return capsys.readouterr().out


@pytest.mark.parametrize("route", list(_programs(jaxlite, jnp, lax)))
def test_debug_print_matches_jax(capsys, route):
    jax = _jax()
    ours = _printed(capsys, _programs(jaxlite, jnp, lax)[route])
    theirs = _printed(capsys, _programs(jax, jax.numpy, jax.lax)[route], jax.effects_barrier)
    assert ours == theirs and ours


def test_debug_print_format_errors_and_forms(capsys):
    with pytest.raises(ValueError, match="Unused positional"):
        jaxlite.debug.print("{}", 1.0, 2.0)
    with pytest.raises(ValueError, match="f-string"):
        jaxlite.debug.print("x", x=1.0)
    jaxlite.debug.print(ordered=True)("two-call {}", 3)
    jaxlite.debug.print("{a} {b}", a="text", b=np.float32(1.5))
    assert capsys.readouterr().out == "two-call 3\ntext 1.5\n"


def test_debug_callback_values_and_pytrees():
    seen = []

    def f(x):
        jaxlite.debug.callback(lambda d, tag: seen.append((tag, float(d["a"]))), {"a": x}, "t")
        return x + 1

    jaxlite.jit(f)(2.0)
    f(3.0)
    jaxlite.vmap(f)(jnp.array([4.0, 5.0]))
    assert seen == [("t", 2.0), ("t", 3.0), ("t", 4.0), ("t", 5.0)]
    with pytest.raises(TypeError, match="callable"):
        jaxlite.debug.callback(3)


def test_effectful_callbacks_survive_dce_and_cse():
    calls = []

    def f(x):
        jaxlite.debug.callback(lambda v: calls.append(float(v)), x)
        jaxlite.debug.callback(lambda v: calls.append(float(v)), x)  # the same: not merged
        jaxlite.experimental.io_callback(lambda v: calls.append(-1.0) or v, x, x)  # unused
        unused = jaxlite.pure_callback(lambda v: calls.append(-2.0) or v, x, x)  # dropped
        del unused
        return x * 2

    jaxlite.jit(f)(1.5)
    assert calls == [1.5, 1.5, -1.0]
    jaxpr = jaxlite.make_jaxpr(jaxlite.jit(f))(1.5)
    assert str(jaxpr).count("debug_callback") == 2


def _sine(x):
    return np.sin(np.asarray(x))


def test_pure_callback_jit_eager_and_result_checks():
    x = np.linspace(-1, 1, 5)
    spec = jaxlite.ShapeDtypeStruct(x.shape, x.dtype)
    f = jaxlite.jit(lambda x: jaxlite.pure_callback(_sine, spec, x) * 2)
    np.testing.assert_allclose(f(x), np.sin(x) * 2)
    np.testing.assert_allclose(jaxlite.pure_callback(_sine, spec, x), np.sin(x))
    outs = jaxlite.jit(lambda x: jaxlite.pure_callback(
        lambda v: {"s": np.sin(v), "n": np.int32(v.size)},
        {"s": spec, "n": jaxlite.ShapeDtypeStruct((), np.int32)}, x))(x)  # fmt: skip
    assert int(outs["n"]) == 5 and outs["n"].dtype == np.int32
    bad = jaxlite.ShapeDtypeStruct((4,), x.dtype)
    with pytest.raises(TypeError, match="declares"):
        jaxlite.jit(lambda x: jaxlite.pure_callback(_sine, bad, x))(x)
    with pytest.raises(ValueError, match="vmap_method"):
        jaxlite.pure_callback(_sine, spec, x, vmap_method="fast")


@pytest.mark.parametrize(
    "method", ["sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
               "legacy_vectorized"],
)  # fmt: skip
def test_pure_callback_vmap_methods(method):
    xs, y = np.arange(6.0).reshape(3, 2), np.array([10.0, 20.0])
    shapes = []

    def cb(x, y):
        shapes.append((x.shape, y.shape))
        return np.asarray(x) + np.asarray(y)

    def f(x):
        return jaxlite.pure_callback(cb, jaxlite.ShapeDtypeStruct((2,), xs.dtype), x, y,
                                     vmap_method=method)  # fmt: skip

    out = jaxlite.vmap(f)(xs)
    np.testing.assert_allclose(out, xs + y)
    np.testing.assert_allclose(jaxlite.jit(jaxlite.vmap(f))(xs), xs + y)
    expected = {
        "sequential": ((2,), (2,)), "sequential_unrolled": ((2,), (2,)),
        "expand_dims": ((3, 2), (1, 2)), "broadcast_all": ((3, 2), (3, 2)),
        "legacy_vectorized": ((3, 2), (2,)),
    }[method]  # fmt: skip
    assert shapes[-1] == expected


def test_pure_callback_vmap_without_method_raises():
    f = lambda x: jaxlite.pure_callback(_sine, jaxlite.ShapeDtypeStruct((), x.dtype), x)  # noqa: E731
    with pytest.raises(NotImplementedError, match="vmap_method"):
        jaxlite.vmap(f)(np.arange(3.0))


def test_differentiation_rules():
    spec = jaxlite.ShapeDtypeStruct((), np.float64)
    with pytest.raises(ValueError, match="Pure callbacks do not support JVP"):
        jaxlite.grad(lambda x: jaxlite.pure_callback(_sine, spec, x))(1.0)
    with pytest.raises(ValueError, match="IO callbacks do not support JVP"):
        jaxlite.grad(lambda x: jaxlite.experimental.io_callback(_sine, spec, x))(1.0)

    @jaxlite.custom_jvp
    def sine(x):
        return jaxlite.pure_callback(_sine, spec, x)

    sine.defjvp(lambda p, t: (sine(p[0]), jnp.cos(p[0]) * t[0]))
    np.testing.assert_allclose(jaxlite.grad(sine)(0.3), np.cos(0.3))
    np.testing.assert_allclose(jaxlite.jit(jaxlite.grad(sine))(0.3), np.cos(0.3))
    # A callback on values that carry no tangent is fine.
    g = jaxlite.grad(lambda x: x * jaxlite.pure_callback(_sine, spec, 0.3))(2.0)
    np.testing.assert_allclose(g, np.sin(0.3))


def test_io_callback_order_and_vmap():
    log = []

    def record(v):
        log.append(float(v))
        return np.asarray(v, np.float64) * 2

    spec = jaxlite.ShapeDtypeStruct((), np.float64)

    def f(x):
        a = jaxlite.experimental.io_callback(record, spec, x, ordered=True)
        return jaxlite.experimental.io_callback(record, spec, a + 1, ordered=True)

    assert float(jaxlite.jit(f)(1.0)) == 6.0 and log == [1.0, 3.0]
    with pytest.raises(ValueError, match="Cannot `vmap` ordered IO callback"):
        jaxlite.vmap(f)(np.arange(2.0))
    log.clear()
    g = lambda x: jaxlite.experimental.io_callback(record, spec, x)  # noqa: E731
    np.testing.assert_allclose(jaxlite.vmap(g)(np.arange(3.0)), [0.0, 2.0, 4.0])
    assert log == [0.0, 1.0, 2.0]


class Boom(Exception):
    pass


def _boom(x):
    raise Boom("from the callback")


@pytest.mark.parametrize("where", ["top", "scan"])
def test_callback_errors_propagate_from_compiled_code(where):
    spec = jaxlite.ShapeDtypeStruct((3,), np.float64)
    if where == "top":
        f = jaxlite.jit(lambda x: jaxlite.pure_callback(_boom, spec, x) + jnp.exp(x))
    else:
        f = jaxlite.jit(lambda x: lax.scan(
            lambda c, _: (jaxlite.pure_callback(_boom, spec, c), None), x, None, length=4)[0])  # fmt: skip
    x = np.arange(3.0)
    for _ in range(2):  # the kernel is left usable
        with pytest.raises(Boom, match="from the callback"):
            f(x)
    ok = jaxlite.jit(lambda x: jaxlite.pure_callback(_sine, spec, x) + 1)
    np.testing.assert_allclose(ok(x), np.sin(x) + 1)


def test_debug_print_reaches_the_kernel():
    # Under jit the C kernel itself calls back (no fallback to the interpreter).
    f = jaxlite.jit(lambda x: (jaxlite.debug.print("{}", x), x * 2)[1])
    assert "cb_ins" in f.lower(1.0).as_c()
