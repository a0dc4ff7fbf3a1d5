"""jit's behaviour: JAX's API (static arguments, pytrees, weak types, decorators), the signature
cache and its retracing, lower/as_text/as_c/compile, disable_jit, errors, logging, and the
composition matrix with jit at every position (grad, vmap, jvp, nested jit).
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
from collections import namedtuple

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.backend import runtime
from jaxlite.errors import ConcretizationTypeError

jit = jaxlite.jit
f32, f64 = np.float32, np.float64


def count_calls(fn):
    """`fn`, counting how often its Python body runs (= how often jit traces it)."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        wrapped.calls += 1
        return fn(*args, **kwargs)

    wrapped.calls = 0
    return wrapped


# ------------------------------------------------------------------------------------------
# Calling conventions
# ------------------------------------------------------------------------------------------


def test_jit_returns_arrays_equal_to_eager():
    def f(x, y):
        return jnp.sin(x) * y + 1.0

    x = jnp.array([0.5, 1.0, 2.0], dtype=f32)
    out = jit(f)(x, 2.0)
    assert type(out) is jaxlite.Array and out.dtype == f32 and out.shape == (3,)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(f(x, 2.0)))


def test_decorator_forms():
    @jit
    def a(x):
        return x * 2

    @jit(static_argnums=1)
    def b(x, n):
        return x * n

    @functools.partial(jit, static_argnames="n")
    def c(x, n):
        return x + n

    x = jnp.ones(2, f32)
    np.testing.assert_array_equal(a(x), [2, 2])
    np.testing.assert_array_equal(b(x, 3), [3, 3])
    np.testing.assert_array_equal(c(x, n=4), [5, 5])
    assert a.__name__ == "a" and a.__wrapped__ is not None


def test_pytrees_in_and_out():
    Point = namedtuple("Point", "x y")

    @jit
    def f(params, pt, scale=None):
        w, b = params["w"], params["b"]
        return {"out": (pt.x @ w + b) * scale, "n": [pt.y.sum(), None]}

    params = {"w": jnp.ones((3, 2), f32), "b": jnp.array([1.0, 2.0], f32)}
    pt = Point(jnp.ones((4, 3), f32), jnp.arange(3.0))
    out = f(params, pt, scale=jnp.array(2.0, f32))
    np.testing.assert_allclose(out["out"], np.full((4, 2), 2.0) * (3 + np.array([1, 2])))
    assert out["n"][1] is None
    np.testing.assert_allclose(out["n"][0], 3.0)


def test_weak_typed_python_scalars():
    f = jit(lambda x, s: x * s)
    out = f(jnp.ones(3, f32), 2.0)
    assert out.dtype == f32 and not out.weak_type
    s = jit(lambda s: s * 2)(3.0)
    assert s.dtype == f64 and s.weak_type  # a Python float stays weak, as in JAX
    i = jit(lambda a, b: a + b)(jnp.ones(2, np.int32), 5)
    assert i.dtype == np.int32


def test_numpy_inputs_are_used_in_place():
    x = np.arange(6.0).reshape(2, 3)
    assert runtime.as_input(x, x.dtype) is x
    assert runtime.as_input(x.T, x.dtype) is not x  # not contiguous: a copy
    out = jit(lambda x: x.T + 1)(x.T)  # a non-contiguous input is accepted
    np.testing.assert_array_equal(out, x + 1)


def test_outputs_that_are_inputs_or_constants():
    f = jit(lambda x, y: (x, 2.0, y, y))
    x, y = jnp.arange(3.0), jnp.ones((2, 2), np.int32)
    a, b, c, d = f(x, y)
    np.testing.assert_array_equal(a, x)
    assert float(b) == 2.0
    np.testing.assert_array_equal(c, y)
    np.testing.assert_array_equal(d, y)


def test_closure_over_arrays_is_a_constant_input():
    w = jnp.arange(12.0).reshape(3, 4)
    f = jit(lambda x: x @ w)
    np.testing.assert_allclose(f(jnp.ones(3)), np.ones(3) @ np.arange(12.0).reshape(3, 4))


def test_methods():
    class Model:
        def __init__(self, k):
            self.k = k

        @functools.partial(jit, static_argnums=0)
        def apply(self, x):
            return x * self.k

    m = Model(3.0)
    np.testing.assert_array_equal(m.apply(jnp.ones(2)), [3.0, 3.0])


# ------------------------------------------------------------------------------------------
# The signature cache
# ------------------------------------------------------------------------------------------


def test_same_signature_never_retraces_new_shape_does():
    body = count_calls(lambda x: x * 2.0)
    f = jit(body)
    for _ in range(3):
        f(jnp.ones(3, f32))
    assert body.calls == 1 and f._cache_size() == 1
    f(jnp.ones(4, f32))
    assert body.calls == 2 and f._cache_size() == 2
    f(jnp.ones(4, f64))  # new dtype
    f(np.ones(4, f64))  # a NumPy array of the same type: no new trace
    assert f._cache_size() == 3
    f(2.0)  # weak f64[] differs from strong f64[]
    f(np.float64(2.0))
    assert f._cache_size() == 5


def test_static_arguments_key_the_cache():
    body = count_calls(lambda x, n, mode="a": x * n if mode == "a" else x - n)
    f = jit(body, static_argnums=1, static_argnames="mode")
    x = jnp.ones(2)
    np.testing.assert_array_equal(f(x, 3), [3, 3])
    np.testing.assert_array_equal(f(x, 3), [3, 3])
    np.testing.assert_array_equal(f(x, 4), [4, 4])
    np.testing.assert_array_equal(f(x, 4, mode="b"), [-3, -3])
    np.testing.assert_array_equal(f(x, n=4, mode="b"), [-3, -3])  # static by name too
    assert body.calls == 4


def test_python_control_flow_on_static_arguments():
    @functools.partial(jit, static_argnums=(1,))
    def f(x, n):
        for _ in range(n):
            x = x * 2
        return x

    assert float(f(jnp.array(1.0), 5)) == 32.0


def test_unhashable_static_argument_is_a_clear_error():
    f = jit(lambda x, n: x, static_argnums=1)
    with pytest.raises(ValueError, match="static argument 1 of type list is not hashable"):
        f(jnp.ones(2), [1, 2])


def test_invalid_argument_type_names_the_function():
    def g(x):
        return x

    with pytest.raises(TypeError, match="jit of `g`: argument 'hello' of type str"):
        jit(g)("hello")


def test_concretization_error_names_function_and_fixes():
    def relu(x):
        return x if x > 0 else 0.0

    with pytest.raises(ConcretizationTypeError) as e:
        jit(relu)(jnp.array(1.0))
    msg = str(e.value)
    assert "jit of `relu`" in msg and "static_argnums" in msg and "lax.cond" in msg


def test_log_compiles_explains_cache_misses(caplog, monkeypatch):
    monkeypatch.setenv("JAXLITE_LOG_COMPILES", "1")

    def scaled(x, n):
        return x * n

    f = jit(scaled, static_argnums=1)
    with caplog.at_level(logging.WARNING, logger="jaxlite.jit"):
        f(jnp.ones(3, f32), 2)
        f(jnp.ones(4, f32), 2)
        f(jnp.ones(4, f32), 3)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "tracing jit of `scaled` for (f32[3]) (first call)" in text
    assert "argument 0: f32[3] -> f32[4]" in text
    assert "static arguments changed: ((1, 2),) -> ((1, 3),)" in text
    assert "lowered to C in" in text and ("compiled in" in text or "compile cache" in text)


# ------------------------------------------------------------------------------------------
# Inspecting: lower, as_text, as_c, compile
# ------------------------------------------------------------------------------------------


def test_lower_shows_the_jaxpr_and_the_c():
    def f(x):
        return jnp.exp(x) + 1.0

    lowered = jit(f).lower(jnp.ones(3, f32))
    assert lowered.as_text() == (
        "{ lambda ; a:f32[3]. let b:f32[3] = exp a; c:f32[3] = add b 1.0:f32[] in (c,) }"
    )
    c = lowered.as_c()
    assert "/* b:f32[3] = exp a */" in c and "jl_exp_f32(" in c and "int jl_kernel(" in c
    compiled = lowered.compile()
    np.testing.assert_allclose(compiled(jnp.zeros(3, f32)), [2, 2, 2])
    with pytest.raises(TypeError, match="another signature"):
        compiled(jnp.zeros(4, f32))


def test_nested_jit_prints_like_jax():
    inner = jit(lambda x: jnp.sin(x))
    s = str(jaxlite.make_jaxpr(lambda x: inner(x) * 2)(jnp.ones((), f32)))
    assert s.startswith("{ lambda ; a:f32[]. let\n    b:f32[] = pjit[\n      name=<lambda>\n")
    assert "jaxpr={ lambda ; c:f32[]. let d:f32[] = sin c in (d,) }" in s


# ------------------------------------------------------------------------------------------
# disable_jit
# ------------------------------------------------------------------------------------------


def test_disable_jit_runs_python_eagerly():
    def f(x):
        return x * 2 if float(x.sum()) > 0 else -x  # value-dependent Python control flow

    with jaxlite.disable_jit():
        np.testing.assert_array_equal(jit(f)(jnp.ones(2)), [2, 2])
    with pytest.raises(ConcretizationTypeError):
        jit(f)(jnp.ones(2))


def test_disable_jit_environment_variable():
    code = (
        "import jaxlite, jaxlite.numpy as jnp\n"
        "f = jaxlite.jit(lambda x: x * 2 if float(x) > 0 else x)\n"
        "print(float(f(jnp.array(3.0))))\n"
    )
    env = dict(os.environ, JAXLITE_DISABLE_JIT="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "6.0"


# ------------------------------------------------------------------------------------------
# The composition matrix: jit at every position
# ------------------------------------------------------------------------------------------


def mlp_loss(x):
    w = jnp.reshape(jnp.arange(12.0) / 10.0, (3, 4))
    h = jnp.tanh(x @ w[:, :3] + 0.5)
    return jnp.sum(jnp.log1p(jnp.exp(h)) * x) + jnp.max(h)


BASE = {
    "sin_times_x": lambda x: jnp.sum(jnp.sin(x) * x),
    "poly": lambda x: jnp.sum(x**3 - 2.0 * x**2 + 1.0),
    "softmax_ce": lambda x: -jnp.sum(x[0] - jnp.log(jnp.sum(jnp.exp(x)))),
    "mlp": mlp_loss,
    "where_safe": lambda x: jnp.sum(jnp.where(x > 0.5, jnp.sqrt(jnp.abs(x)), x * x)),
    "slices": lambda x: jnp.sum(x[1:] * x[:-1]) + jnp.sum(jnp.cumsum(x) ** 2),
}
X = np.array([0.3, -1.2, 0.8], f64)
XS = np.stack([X, X * 0.5 + 0.1, -X])


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(BASE))
def test_composition_matrix(name):
    f = BASE[name]
    grad, vmap = jaxlite.grad, jaxlite.vmap
    close(jit(f)(X), f(X))
    close(jit(jit(f))(X), f(X))
    g = grad(f)(X)
    close(grad(jit(f))(X), g)
    close(jit(grad(f))(X), g)
    close(jit(grad(jit(f)))(X), g)
    close(vmap(jit(f))(XS), vmap(f)(XS))
    close(jit(vmap(f))(XS), vmap(f)(XS))
    close(vmap(grad(jit(f)))(XS), vmap(grad(f))(XS))
    close(jit(vmap(grad(f)))(XS), vmap(grad(f))(XS))
    p, t = jaxlite.jvp(jit(f), (X,), (X * 0 + 1,))
    p0, t0 = jaxlite.jvp(f, (X,), (X * 0 + 1,))
    close(p, p0)
    close(t, t0)
    close(jit(lambda x: jaxlite.jvp(f, (x,), (x,))[1])(X), jaxlite.jvp(f, (X,), (X,))[1])
    close(jaxlite.hessian(jit(f))(X), jaxlite.hessian(f)(X))


def test_grad_of_jit_reuses_compiled_kernels():
    jit_module = sys.modules["jaxlite.jit"]

    f = jit(lambda x: jnp.sum(jnp.sin(x) * x))
    jaxlite.grad(f)(X)
    n = len(jit_module._EXECUTABLES)
    for _ in range(3):
        jaxlite.grad(f)(X)
    assert len(jit_module._EXECUTABLES) == n  # the jvp/partial-eval/transpose jaxprs are cached


def test_jit_closes_over_an_outer_tracer():
    def outer(y):
        inner = jit(lambda x: x * y)  # y is a tracer of grad
        return jnp.sum(inner(jnp.arange(3.0)))

    close(jaxlite.grad(outer)(2.0), 3.0)
    close(jaxlite.grad(outer)(5.0), 3.0)


def test_integer_and_bool_functions_under_jit_and_vmap():
    def f(x, k):
        return jnp.where(x > k, x // k, x % k), lax.shift_left(x, jnp.int32(2))

    x = jnp.arange(-6, 6, dtype=np.int32)
    want = f(x, 4)
    got = jit(f)(x, 4)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    got = jaxlite.vmap(jit(f), in_axes=(0, None))(x.reshape(3, 4), 4)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, np.asarray(b).reshape(3, 4))


def test_custom_derivatives_and_checkpoint_inside_jit():
    @jaxlite.custom_jvp
    def log1pexp(x):
        return jnp.log1p(jnp.exp(x))

    log1pexp.defjvp(lambda p, t: (log1pexp(p[0]), t[0] * jax_sigmoid(p[0])))

    @jaxlite.custom_vjp
    def clip_grad(x):
        return x

    clip_grad.defvjp(lambda x: (x, None), lambda _, g: (jnp.clip(g, -0.5, 0.5),))

    def f(x):
        return jnp.sum(jaxlite.checkpoint(lambda y: log1pexp(y) * 2.0)(clip_grad(x)))

    x = jnp.array([-3.0, 0.0, 100.0])
    close(jit(f)(x), f(x))
    close(jit(jaxlite.grad(f))(x), jaxlite.grad(f)(x))
    assert np.all(np.isfinite(np.asarray(jit(jaxlite.grad(f))(x))))


def jax_sigmoid(x):
    return 1.0 / (1.0 + jnp.exp(-x))
