"""custom_jvp and custom_vjp: JAX's examples (a stable log1pexp, gradient clipping) under grad,
jvp, vmap, jit and their compositions, plus nondiff_argnums, pytrees and errors."""

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import dtypes
from jaxlite.custom_derivatives import CustomJVPException
from jaxlite.test_util import check_grads

# --- custom_jvp ------------------------------------------------------------------------------


@jaxlite.custom_jvp
def log1pexp(x):
    return jnp.log(1.0 + jnp.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + jnp.exp(x)))


def naive_log1pexp(x):
    return jnp.log(1.0 + jnp.exp(x))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf and NaN on purpose
def test_log1pexp_is_finite_where_the_naive_gradient_is_nan():
    x = jnp.float32(100.0)
    assert np.isnan(float(jaxlite.grad(naive_log1pexp)(x)))
    g = jaxlite.grad(log1pexp)(x)
    assert g.dtype == np.float32 and float(g) == 1.0
    np.testing.assert_allclose(float(jaxlite.grad(log1pexp)(0.5)), 1 / (1 + np.exp(-0.5)))


def test_custom_jvp_under_every_transformation():
    xs = jnp.asarray([-3.0, 0.0, 0.7, 4.0])
    sig = 1 / (1 + np.exp(-np.asarray(xs)))
    f = lambda x: jnp.sum(log1pexp(x))  # noqa: E731
    np.testing.assert_allclose(np.asarray(jaxlite.grad(f)(xs)), sig)
    np.testing.assert_allclose(np.asarray(jaxlite.jit(jaxlite.grad(f))(xs)), sig)
    np.testing.assert_allclose(np.asarray(jaxlite.grad(jaxlite.jit(f))(xs)), sig)
    np.testing.assert_allclose(np.asarray(jaxlite.vmap(jaxlite.grad(log1pexp))(xs)), sig)
    _, t = jaxlite.jvp(log1pexp, (xs,), (jnp.ones(4),))
    np.testing.assert_allclose(np.asarray(t), sig)
    np.testing.assert_allclose(np.asarray(jaxlite.jit(log1pexp)(xs)), np.log1p(np.exp(xs)))
    second = jaxlite.vmap(jaxlite.grad(jaxlite.grad(log1pexp)))(xs)
    np.testing.assert_allclose(np.asarray(second), sig * (1 - sig), rtol=1e-12)
    check_grads(log1pexp, (xs,), order=2)


def test_custom_jvp_rule_is_used_not_the_function():
    @jaxlite.custom_jvp
    def f(x):
        return jnp.sin(x)

    f.defjvp(lambda p, t: (f(p[0]), 10.0 * t[0]))
    assert float(jaxlite.grad(f)(0.3)) == 10.0
    assert float(f(0.3)) == pytest.approx(np.sin(0.3))


def test_custom_jvp_jaxpr():
    text = str(jaxlite.make_jaxpr(log1pexp)(1.0))
    assert "custom_jvp_call[" in text and "call_jaxpr={" in text
    assert "jvp_jaxpr_fun=log1pexp_jvp" in text


def test_defjvps_and_pytrees():
    @jaxlite.custom_jvp
    def f(x, y):
        return {"p": jnp.sin(x) * y}

    f.defjvps(
        lambda x_dot, out, x, y: {"p": jnp.cos(x) * x_dot * y},
        lambda y_dot, out, x, y: {"p": jnp.sin(x) * y_dot},
    )
    gx, gy = jaxlite.grad(lambda x, y: jnp.sum(f(x, y)["p"]), argnums=(0, 1))(0.5, 2.0)
    np.testing.assert_allclose([float(gx), float(gy)], [np.cos(0.5) * 2.0, np.sin(0.5)])


def test_custom_jvp_nondiff_argnums():
    @jaxlite.custom_jvp
    def apply(fn, x):
        return fn(x)

    @apply.defjvp
    def apply_jvp(fn, primals, tangents):
        (x,), (t,) = primals, tangents
        return apply(fn, x), 3.0 * t

    apply = jaxlite.custom_jvp(apply.fun, nondiff_argnums=(0,))
    apply.defjvp(apply_jvp)
    assert float(jaxlite.grad(lambda x: apply(jnp.sin, x))(1.0)) == 3.0
    assert float(apply(jnp.sin, 1.0)) == pytest.approx(np.sin(1.0))


def test_custom_jvp_integer_input_gets_float0_tangent():
    seen = []

    @jaxlite.custom_jvp
    def scale(x, n):
        return x * n

    @scale.defjvp
    def scale_jvp(primals, tangents):
        (x, n), (tx, tn) = primals, tangents
        seen.append(tn.dtype)
        return scale(x, n), tx * n

    assert float(jaxlite.grad(scale)(2.0, 3)) == 3.0
    assert seen == [dtypes.float0]


def test_custom_jvp_errors():
    @jaxlite.custom_jvp
    def f(x):
        return x

    with pytest.raises(AttributeError, match="No JVP defined"):
        jaxlite.grad(f)(1.0)
    f.defjvp(lambda p, t: (p[0], (t[0], t[0])))
    with pytest.raises(TypeError, match="equal container .*structures"):
        jaxlite.grad(f)(1.0)

    def outer(y):
        @jaxlite.custom_jvp
        def g(x):
            return x * y

        g.defjvp(lambda p, t: (g(p[0]), t[0] * y))
        return g(1.0)

    with pytest.raises(CustomJVPException, match="closed-over value"):
        jaxlite.grad(outer)(2.0)


# --- custom_vjp ------------------------------------------------------------------------------


@jaxlite.custom_vjp
def clip_gradient(lo, hi, x):
    return x


def _clip_fwd(lo, hi, x):
    return x, (lo, hi)


def _clip_bwd(res, g):
    lo, hi = res
    return (None, None, jnp.clip(g, lo, hi))


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def _clipped_loss(x):
    return jnp.sum(clip_gradient(-1.0, 1.0, 3.0 * x))


def test_clip_gradient_under_grad_vmap_and_jit():
    x = jnp.asarray([0.5, -2.0, 1.0])
    expected = np.full(3, 3.0)  # the cotangent 1 is within [-1, 1], then times 3
    np.testing.assert_allclose(np.asarray(jaxlite.grad(_clipped_loss)(x)), expected)
    f = lambda x: clip_gradient(-1.0, 1.0, 5.0 * x) * 2.0  # noqa: E731  (cotangent 2 -> 1)
    assert float(jaxlite.grad(f)(1.0)) == 5.0
    np.testing.assert_allclose(np.asarray(jaxlite.vmap(jaxlite.grad(f))(x)), np.full(3, 5.0))
    np.testing.assert_allclose(np.asarray(jaxlite.jit(jaxlite.grad(f))(2.0)), 5.0)
    np.testing.assert_allclose(np.asarray(jaxlite.grad(jaxlite.jit(f))(2.0)), 5.0)
    np.testing.assert_allclose(np.asarray(jaxlite.jit(jaxlite.vmap(jaxlite.grad(f)))(x)), 5.0)
    assert float(clip_gradient(-1.0, 1.0, 7.0)) == 7.0
    assert float(jaxlite.jit(lambda x: clip_gradient(-1.0, 1.0, x))(7.0)) == 7.0


def test_custom_vjp_pytree_residuals_and_nondiff_argnums():
    def f(scale, p):
        return jnp.sum(p["a"] * p["b"]) * scale

    def fwd(scale, p):
        return f(scale, p), {"a": p["a"], "pair": (p["b"], 2.0)}

    def bwd(scale, res, g):
        b, two = res["pair"]
        return ({"a": g * b * scale * two, "b": g * res["a"]},)

    fv = jaxlite.custom_vjp(f, nondiff_argnums=(0,))
    fv.defvjp(fwd, bwd)
    p = {"a": jnp.arange(3.0), "b": jnp.ones(3)}
    g = jaxlite.grad(lambda p: fv(0.5, p))(p)
    np.testing.assert_allclose(np.asarray(g["a"]), np.ones(3))  # the doubled rule is used
    np.testing.assert_allclose(np.asarray(g["b"]), np.arange(3.0))


def test_custom_vjp_can_be_differentiated_twice_through_bwd():
    @jaxlite.custom_vjp
    def cube(x):
        return x**3

    cube.defvjp(lambda x: (x**3, x), lambda x, g: (3.0 * x**2 * g,))
    assert float(jaxlite.grad(jaxlite.grad(cube))(2.0)) == 12.0


def test_custom_vjp_jaxpr_and_errors():
    text = str(jaxlite.make_jaxpr(lambda x: clip_gradient(-1.0, 1.0, x))(1.0))
    assert "custom_vjp_call[" in text and "bwd=_clip_bwd" in text
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
        jaxlite.jvp(lambda x: clip_gradient(-1.0, 1.0, x), (1.0,), (1.0,))

    @jaxlite.custom_vjp
    def h(x, y):
        return x * y

    h.defvjp(lambda x, y: (x * y, None), lambda res, g: (g,))
    with pytest.raises(TypeError, match="one cotangent per differentiable argument"):
        jaxlite.grad(h)(1.0, 2.0)
    h.defvjp(lambda x, y: (x * y, None), lambda res, g: (jnp.ones(3), g))
    with pytest.raises(ValueError, match="same shape"):
        jaxlite.grad(h)(1.0, 2.0)
