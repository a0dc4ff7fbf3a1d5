"""Silent differences from JAX found by the differential fuzzer (jax-discrepancies-2026-12-06),
each checked against JAX itself: the minimal program runs through both libraries and the results
must agree in dtype, shape and value (NaNs where JAX has them), or both must raise the same error.

Entry numbers (`#N`) refer to /work/shared/jax-discrepancies-2026-12-06.md.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.errors import ConcretizationTypeError


def _jax():
    jax = pytest.importorskip("jax", reason="JAX is the test oracle: pip install 'jax[cpu]'")
    jax.config.update("jax_enable_x64", True)
    return jax


def _libs():
    jax = _jax()
    import jax.numpy as jjnp
    from jax import lax as jlax

    return (jaxlite, jnp, lax), (jax, jjnp, jlax)


def _leaves(out):
    return [np.asarray(x) for x in (out if isinstance(out, (tuple, list)) else [out])]


def assert_like_jax(prog, rtol=1e-6):
    """`prog(jax, jnp, lax)` run with jaxlite and with JAX: same dtypes, shapes, values, NaNs."""
    ours, theirs = (prog(*lib) for lib in _libs())
    for a, b in zip(_leaves(ours), _leaves(theirs), strict=True):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), (a.dtype, a.shape, b.dtype, b.shape)
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True)
        elif a.dtype.kind != "V":  # float0
            np.testing.assert_array_equal(a, b)


def assert_raises_like_jax(prog, ours: type[BaseException]):
    """Both raise; jaxlite the given class, JAX one of the same name (or a subclass's base)."""
    (jl, jax) = _libs()
    with pytest.raises(ours) as ei:
        prog(*jl)
    with pytest.raises(Exception) as ej:
        prog(*jax)
    names = {c.__name__ for c in type(ej.value).__mro__}
    assert ei.type.__name__ in names or type(ej.value).__name__ in {
        c.__name__ for c in ei.type.__mro__
    }, (ei.type, type(ej.value))


F64 = np.float64


# ------------------------------------------------------------------------------------------
# fmax / fmin: JAX's where(x1 > x2 | isnan(x2), x1, x2), the gradient wholly to one side
# ------------------------------------------------------------------------------------------

_T = 0.07345543561785303
_X0 = np.array([[[_T, _T, _T]], [[_T, _T, _T]]])
_X1 = np.array([[[-2.0253, 0.9088, -0.3102]], [[_T, 0.0, _T]]])


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_grad_at_ties_goes_to_x2(name):  # 108, 229, 233, 203
    def prog(jax, jnp, lax):
        f = getattr(jnp, name)
        g0 = jax.grad(lambda a, b: jnp.sum(f(a, b)), argnums=(0, 1))(_X0, _X1)
        g1 = jax.grad(lambda a: f(a, lax.stop_gradient(a)))(-0.37)
        g2 = jax.vmap(jax.grad(lambda a, b: jnp.sum(f(a, b)), argnums=1), in_axes=(0, None))(
            np.array([[0], [6], [2]]), np.array([0.0])
        )
        return (*g0, g1, g2)

    assert_like_jax(prog)


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_jvp_with_nans_infs_and_bools(name):  # 237, 239
    x0 = np.array([[False, True], [True, True], [True, False], [False, True]])
    x1 = np.array([[-0.0, -2.68], [np.nan, -np.inf], [np.inf, np.nan], [0.0, 1.0]])
    t1 = np.arange(8.0).reshape(4, 2) - 3.5
    nan2 = np.array([[np.nan, 1.0], [np.nan, np.nan], [2.0, np.nan], [0.0, -0.0]])

    def prog(jax, jnp, lax):
        f = getattr(jnp, name)
        a = jax.jvp(lambda b: f(x0, b), (x1,), (t1,))
        b = jax.jvp(lambda u, v: f(u, v), (x1, nan2), (t1, -t1))
        return (*a, *b, f(np.array([1, 5]), np.array([3, 2])), f(x0, x0))

    assert_like_jax(prog)


# ------------------------------------------------------------------------------------------
# var / std: NaN selected where n - ddof <= 0 (zero tangent there)
# ------------------------------------------------------------------------------------------


def test_var_ddof_at_least_n():  # 135
    x = np.array([1.0, 2.0, 4.0])
    w = np.array([True, False, False])

    def prog(jax, jnp, lax):
        return (
            *jax.jvp(lambda x: jnp.var(x, ddof=1), (np.array(-0.37),), (np.array(0.559),)),
            jnp.var(x, ddof=5),
            jnp.std(x, ddof=3),
            *jax.jvp(lambda x: jnp.var(x, ddof=1, where=w), (x,), (x,)),
            jnp.var(x, ddof=1, where=~w),
            jax.grad(lambda x: jnp.std(x, ddof=4))(x),
        )

    assert_like_jax(prog)


# ------------------------------------------------------------------------------------------
# sinc at 0: JAX's Taylor-coefficient custom_jvp (higher derivatives, NaN cotangents)
# ------------------------------------------------------------------------------------------


def test_sinc_derivatives_at_zero():  # 204
    x = np.array([-0.0, 0.0, 0.61, -np.inf, 1.46, np.nan], np.float32)

    def prog(jax, jnp, lax):
        g = jax.grad
        return (
            g(g(jnp.sinc))(0.0),
            g(g(g(jnp.sinc)))(0.0),
            g(lambda x: jnp.sum(jnp.sinc(x).at[...].multiply(jnp.nan)))(x),
            jax.vmap(g(g(jnp.sinc)))(np.array([0.0, 0.5])),
            jnp.sinc(x),
        )

    assert_like_jax(prog, rtol=1e-6)


# ------------------------------------------------------------------------------------------
# scatter min/max JVP: JAX's arithmetic (tangents outside the windows survive NaNs)
# ------------------------------------------------------------------------------------------


def test_at_min_max_tangents():  # 241, 297, 285, 210
    x2 = np.array([[-0.58, 1e6, 0.31], [0.73, 4.79, 0.013], [-1e30, -1.35, -6.5]], np.float32)
    t2 = np.array([[-1.52, -0.45, 2.43], [0.47, -0.38, -0.017], [-0.075, -0.21, -0.62]], np.float32)
    x0 = np.array([[-np.inf, 1.42, -0.0], [np.nan, 2.11, -0.04], [1.0, np.inf, 3.0]])
    a = np.array([[-0.37, 1.29], [0.19, 0.92], [0.58, -0.64], [0.54, -0.32]])
    logs = np.array([[-0.37, 1.29, 0.19], [0.92, -0.58, 0.54], [0.21, 0.21, -0.16]])

    def prog(jax, jnp, lax):
        return (
            *jax.jvp(lambda x: jnp.cosh(x).at[...].min(2.0), (x2,), (t2,)),
            *jax.jvp(lambda x: x.at[:, 1].max(0.0), (x0,), (np.full_like(x0, 1.5),)),
            *jax.jvp(lambda x: x.at[np.array([0, 0, 2])].max(x[1]), (a,), (a + 1,)),
            jax.grad(
                lambda x: jnp.sum(
                    jnp.arccos(jnp.clip(x.at[np.array([0, 0, 2])].max(jnp.nan), -1, 1))
                )
            )(a),
            jax.vmap(jax.grad(lambda x: jnp.sum(jnp.log(x).at[-1].min(1.0))))(
                np.stack([logs, -logs])
            ),
        )

    assert_like_jax(prog)


# ------------------------------------------------------------------------------------------
# remainder / floor_divide derivatives
# ------------------------------------------------------------------------------------------


def test_remainder_and_floor_divide_derivatives():  # 206, 236, 207, 287
    a = np.array([7.5, -7.5, 7.5, -7.5, 0.0, -0.0, 6.0, -6.0, 3.0, 5.0])
    b = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 3.0, 3.0, -3.0, -2.5])
    q = np.array([[-0.37], [1.29], [0.19], [0.92]], np.float32)

    def prog(jax, jnp, lax):
        rem = lambda x, y: jnp.sum(x % y)  # noqa: E731
        return (
            *jax.grad(rem, (0, 1))(a, b),
            *jax.jit(jax.grad(rem, (0, 1)))(a, b),
            *jax.jvp(lambda x: x % (jnp.abs(x) + 1.0), (np.array([-0.0], np.float32),), (q[0],)),
            jax.grad(lambda x: jnp.sum(jnp.sqrt(x) // (jnp.abs(x) + 1.0)))(q),
            *jax.grad(lambda x, y: jnp.sum(jnp.floor_divide(x, y)), (0, 1))(a, b),
        )

    assert_like_jax(prog)


def test_remainder_keeps_numpy_signed_zeros_under_jit():
    a = np.array([0.0, -0.0, 6.0, -6.0, 3.0])
    b = np.array([3.0, 3.0, 3.0, -3.0, -3.0])
    for f in (jnp.remainder, jaxlite.jit(jnp.remainder)):
        got = np.asarray(f(a, b))
        np.testing.assert_array_equal(np.signbit(got), np.signbit(np.remainder(a, b)))


# ------------------------------------------------------------------------------------------
# float() / complex() / .tolist() of a tracer raise, as JAX; bool() / int() read a JVP primal
# ------------------------------------------------------------------------------------------

_CONVERSIONS = {
    "float": float,
    "complex": complex,
    "tolist": lambda v: v.tolist(),
}
_ROUTES = {
    "grad": lambda jax, jnp, f: jax.grad(lambda x: f(jnp.sum(x)))(np.array([-0.37], np.float32)),
    "jvp": lambda jax, jnp, f: jax.jvp(f, (np.array(1.0),), (np.array(1.0),)),
    "vmap_grad": lambda jax, jnp, f: jax.vmap(jax.grad(f))(np.ones(3)),
    "jit": lambda jax, jnp, f: jax.jit(f)(1.0),
}


@pytest.mark.parametrize("route", sorted(_ROUTES))
@pytest.mark.parametrize("conv", sorted(_CONVERSIONS))
def test_scalar_conversion_of_tracer_raises(conv, route):  # 12, 64, 294
    c = _CONVERSIONS[conv]

    def prog(jax, jnp, lax):
        return _ROUTES[route](jax, jnp, lambda x: x * c(x))

    assert_raises_like_jax(prog, ConcretizationTypeError)


def test_concrete_conversions_still_work():
    def prog(jax, jnp, lax):
        def f(x):
            s = jnp.sum(x)
            k = int(s) + [1, 2, 3][jnp.floor(s).astype(int)] + s.item()
            return x * k if s > 0 else -x

        y = np.array([0.5, 0.7])
        return (
            jax.grad(lambda x: jnp.sum(f(x)))(y),
            *jax.jvp(f, (y,), (y,)),
            float(jnp.sum(y)),  # eager
            jax.grad(lambda x: x * float(lax.stop_gradient(x)))(2.0),
        )

    assert_like_jax(prog)
    with jaxlite.ensure_compile_time_eval():
        assert float(jnp.sin(1.0)) == np.sin(1.0)


# ------------------------------------------------------------------------------------------
# shapes and dtypes
# ------------------------------------------------------------------------------------------


def test_order_statistics_of_0d_keepdims():  # 63, 69, 138, 240, 275
    x = np.array(-0.37, np.float32)

    def prog(jax, jnp, lax):
        out = [
            jnp.median(x, axis=None, keepdims=True),
            jnp.median(x, axis=(), keepdims=True),
            jnp.median(x, keepdims=False),
            jnp.nanmedian(x, keepdims=True),
            jnp.quantile(x, jnp.array([0.2, 0.5]), keepdims=True),
            jnp.nanquantile(x, 0.3, keepdims=True),
            jnp.percentile(x, 40.0, keepdims=True),
            jnp.median(np.ones((2, 3)), keepdims=True),
            jax.vmap(lambda v: jnp.median(v, keepdims=True))(np.array([1.0, 2.0], np.float32)),
            jax.grad(lambda v: jnp.sum(jnp.cumsum(jnp.median(v, keepdims=True), axis=-1)))(x),
        ]
        return out

    assert_like_jax(prog)


def test_reduction_initial_is_cast_like_convert_element_type():  # 114, 116, 235, 299, 277
    i = np.array([-6], np.int32)

    def prog(jax, jnp, lax):
        return (
            jnp.max(i, axis=0, initial=0.5),
            jnp.max(i, initial=-2.7),
            jnp.min(-i, initial=2.7),
            jnp.sum(i, initial=2.7),
            jnp.prod(i, initial=2.7),
            jnp.max(np.ones(2, np.uint8), initial=300),
            jnp.max(np.ones(2, bool), initial=0.5),
            jnp.max(jnp.asarray(1.0), initial=0.5),
            jnp.max(np.ones(2, np.int32), initial=np.array(3.5)),
            jax.jit(lambda v: jnp.max(v, initial=0.5))(i),
            jax.vmap(lambda v: jnp.max(i, initial=0.5) + v)(np.arange(3, dtype=np.int32)),
            jax.grad(lambda y: jnp.sum(jnp.max(i, initial=0.5) * y))(np.ones(2)),
        )

    assert_like_jax(prog)
    with pytest.raises(ValueError, match="initial value must be a scalar"):
        jnp.max(np.ones(2), initial=np.ones(2))


def test_square_and_power_of_bool_are_int32():  # 252, 255, 321, 326
    b = np.array([True, False])

    def prog(jax, jnp, lax):
        return (
            jnp.square(b),
            jnp.square(np.array(True)),
            jnp.power(b, 3),
            jnp.asarray(b) ** 2,
            jax.vmap(jnp.square)(b),
        )

    assert_like_jax(prog)
    with jaxlite.enable_x64(False):
        assert jnp.square(b).dtype == np.int32 and not jnp.square(True).weak_type


# ------------------------------------------------------------------------------------------
# nextafter has no derivative (as JAX): an error, not a silent zero
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["grad", "jvp", "jit_grad", "vmap_grad"])
def test_nextafter_derivative_raises(route):  # 65, 66, 71, 112, 119, 137, 144, 211
    def prog(jax, jnp, lax):
        f = lambda x: jnp.sum(jnp.nextafter(x, np.float32(1.0)))  # noqa: E731
        x = np.array([0.5, -0.25], np.float32)
        if route == "grad":
            return jax.grad(f)(x)
        if route == "jvp":
            return jax.jvp(lambda y: lax.nextafter(x, y), (x,), (x,))
        if route == "jit_grad":
            return jax.jit(jax.grad(f))(x)
        return jax.vmap(jax.grad(f))(np.stack([x, x]))

    assert_raises_like_jax(prog, NotImplementedError)


def test_nextafter_without_tangents_and_uniform_grad():
    x = np.array([0.5, -0.25], np.float32)
    # no tangent reaches nextafter: no error
    g = jaxlite.grad(lambda y: jnp.sum(y * jnp.nextafter(x, np.float32(1))))(x)
    np.testing.assert_array_equal(g, np.nextafter(x, np.float32(1)))
    # random.uniform's rounding fix-up uses nextafter; its gradient in minval stays defined
    key = jaxlite.random.key(0)
    gm = jaxlite.grad(lambda m: jaxlite.random.uniform(key, (3,), minval=m, maxval=2.0).sum())(0.5)
    jax = _jax()
    want = jax.grad(
        lambda m: jax.random.uniform(jax.random.key(0), (3,), minval=m, maxval=2.0).sum()
    )(0.5)
    np.testing.assert_allclose(gm, want, rtol=1e-6)
