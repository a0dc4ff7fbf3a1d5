"""Every differentiable primitive's JVP and transpose rules, checked by `check_grads` (central
differences in random directions, fwd and rev, to order 2) on a data table crossed with shapes
(scalar, vector, broadcasting, matrix) and float32/float64, as JAX's lax_autodiff_test does.
"""

import zlib

import numpy as np
import pytest

import jaxlite
from jaxlite import lax
from jaxlite.test_util import check_grads

F32, F64 = np.float32, np.float64
DTYPES = [F32, F64]

# --- input domains (kept away from kinks, poles and branch cuts) -----------------------------


def _real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _unit(rng, shape):
    return rng.uniform(-0.8, 0.8, shape)


def _above_one(rng, shape):
    return rng.uniform(1.2, 3.0, shape)


def _nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.4, 2.0, shape)


def _fractional(rng, shape):
    """Away from integers and half-integers (floor, ceil, round are flat there)."""
    return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape)


def _distinct(rng, shape):
    """Distinct values (no ties: max, sort and friends are smooth there)."""
    n = int(np.prod(shape, dtype=np.int64))
    return (rng.permutation(n) * 0.37 - n * 0.15 + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def _small(rng, shape):
    return rng.uniform(-1.2, 1.2, shape)


def args_for(name, domains, shapes, dtype):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return tuple(np.asarray(d(rng, s), dtype) for d, s in zip(domains, shapes))


# --- unary elementwise: (name, fn, domain[, tolerance]) ---------------------------------------

UNARY = [
    ("neg", lax.neg, _real),
    ("abs", lax.abs, _nonzero),
    ("sign", lax.sign, _nonzero),
    ("exp", lax.exp, _real),
    ("exp2", lax.exp2, _real),
    ("log", lax.log, _positive),
    ("log1p", lax.log1p, _positive),
    ("expm1", lax.expm1, _real),
    ("tanh", lax.tanh, _real),
    ("logistic", lax.logistic, _real),
    ("sin", lax.sin, _real),
    ("cos", lax.cos, _real),
    ("tan", lax.tan, _unit),
    ("asin", lax.asin, _unit),
    ("acos", lax.acos, _unit),
    ("atan", lax.atan, _real),
    ("sinh", lax.sinh, _real),
    ("cosh", lax.cosh, _real),
    ("asinh", lax.asinh, _real),
    ("acosh", lax.acosh, _above_one),
    ("atanh", lax.atanh, _unit),
    ("sqrt", lax.sqrt, _positive),
    ("rsqrt", lax.rsqrt, _positive),
    ("cbrt", lax.cbrt, _positive),
    ("erf", lax.erf, _real),
    ("erf_inv", lax.erf_inv, _unit),
    ("floor", lax.floor, _fractional),
    ("ceil", lax.ceil, _fractional),
    ("round", lax.round, _fractional),
    ("copy", lax.copy, _real),
    ("integer_pow_0", lambda x: lax.integer_pow(x, 0), _real),
    ("integer_pow_1", lambda x: lax.integer_pow(x, 1), _real),
    ("integer_pow_2", lambda x: lax.integer_pow(x, 2), _real),
    ("integer_pow_3", lambda x: lax.integer_pow(x, 3), _real),
    ("integer_pow_-2", lambda x: lax.integer_pow(x, -2), _nonzero),
    # Through float32: the float32 tolerance applies even to float64 inputs.
    ("convert_f32", lambda x: lax.convert_element_type(x, F32), _real, 2e-3),
    ("convert_f64", lambda x: lax.convert_element_type(x, F64), _real, 2e-3),
]
UNARY_SHAPES = [(), (3,), (2, 3)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("spec", UNARY, ids=[u[0] for u in UNARY])
def test_unary(spec, shape, dtype):
    name, fn, domain, *tol = spec
    (x,) = args_for(name, [domain], [shape], dtype)
    tol = tol[0] if tol else None
    check_grads(fn, (x,), order=2, atol=tol, rtol=tol)


# --- binary elementwise -----------------------------------------------------------------------


def _rem_x(rng, shape):
    return rng.uniform(2.6, 2.9, shape)


def _rem_y(rng, shape):
    return rng.uniform(1.1, 1.2, shape)  # x / y in (2.1, 2.7): trunc is flat


def _pow_y(rng, shape):
    return rng.uniform(-1.5, 2.5, shape)


BINARY = [
    ("add", lax.add, (_real, _real)),
    ("sub", lax.sub, (_real, _real)),
    ("mul", lax.mul, (_real, _real)),
    ("div", lax.div, (_real, _nonzero)),
    ("rem", lax.rem, (_rem_x, _rem_y)),
    ("pow", lax.pow, (_positive, _pow_y)),
    ("max", lax.max, (_distinct, _distinct)),
    ("min", lax.min, (_distinct, _distinct)),
    ("atan2", lax.atan2, (_real, _positive)),
]
BINARY_SHAPES = [((), ()), ((3,), (3,)), ((3,), ()), ((), (2, 3)), ((2, 3), (2, 3))]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,domains", BINARY, ids=[b[0] for b in BINARY])
def test_binary(name, fn, domains, shapes, dtype):
    args = args_for(name + str(shapes), domains, shapes, dtype)
    if name in ("max", "min"):  # distinct across both operands, too
        args = (args[0], args[1] + np.asarray(0.11, dtype))
    check_grads(fn, args, order=2)


def test_add_any():
    x, y = args_for("add_any", [_real, _real], [(3,), (3,)], F64)
    check_grads(lax.add_any, (x, y), order=2)


# --- everything else: (name, fn, domains, shapes) ----------------------------------------------


def _one_zero_one(x):
    return lax.convert_element_type(np.array([1.0, 0.0, 1.0]), x.dtype)


_PRED = np.array([[True, False, True], [False, False, True]])
_WHICH = np.array([[0, 2, 1], [1, 0, 2]], np.int32)


def _clamp_x(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 1.5, shape)  # away from +-0.1


OTHER = [
    ("select_n_bool", lambda x, y: lax.select_n(_PRED, x, y), (_real, _real), ((2, 3), (2, 3))),
    (
        "select_n_int",
        lambda x, y, z: lax.select_n(_WHICH, x, y, z),
        (_real, _real, _real),
        ((2, 3), (2, 3), (2, 3)),
    ),
    ("clamp_scalar_bounds", lambda x: lax.clamp(-0.1, x, 0.1 + 1.0), (_clamp_x,), ((2, 3),)),
    (
        "clamp_array_bounds",
        lambda lo, x, hi: lax.clamp(lo, x, hi),
        (lambda r, s: np.full(s, -0.5), _clamp_x, lambda r, s: np.full(s, 0.6)),
        ((2, 3), (2, 3), (2, 3)),
    ),
    ("reduce_sum_all", lambda x: lax.reduce_sum(x, (0, 1)), (_real,), ((2, 3),)),
    ("reduce_sum_axis", lambda x: lax.reduce_sum(x, (1,)), (_real,), ((2, 3),)),
    ("reduce_prod", lambda x: lax.reduce_prod(x, (1,)), (_nonzero,), ((2, 3),)),
    ("reduce_prod_all", lambda x: lax.reduce_prod(x, (0, 1)), (_nonzero,), ((2, 3),)),
    (
        "reduce_prod_with_zero",
        lambda x: lax.reduce_prod(lax.mul(x, _one_zero_one(x)), (0,)),
        (_nonzero,),
        ((3,),),
    ),
    ("reduce_max", lambda x: lax.reduce_max(x, (1,)), (_distinct,), ((2, 3),)),
    ("reduce_min", lambda x: lax.reduce_min(x, (0,)), (_distinct,), ((2, 3),)),
    ("cumsum", lambda x: lax.cumsum(x, 1), (_real,), ((2, 4),)),
    ("cumsum_reverse", lambda x: lax.cumsum(x, 0, reverse=True), (_real,), ((5,),)),
    ("cumprod", lambda x: lax.cumprod(x, 1), (_nonzero,), ((2, 5),)),
    ("cumprod_reverse", lambda x: lax.cumprod(x, 0, reverse=True), (_nonzero,), ((4,),)),
    ("cummax", lambda x: lax.cummax(x, 0), (_distinct,), ((6,),)),
    ("cummin", lambda x: lax.cummin(x, 1, reverse=True), (_distinct,), ((2, 5),)),
    ("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3), (1,)), (_real,), ((3,),)),
    ("bcast_unit", lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (0, 2)), (_real,), ((2, 1),)),
    ("broadcast_scalar", lambda x: lax.broadcast_in_dim(x, (2, 2), ()), (_real,), ((),)),
    ("reshape", lambda x: lax.reshape(x, (3, 2)), (_real,), ((2, 3),)),
    ("transpose", lambda x: lax.transpose(x, (2, 0, 1)), (_real,), ((2, 3, 4),)),
    ("squeeze", lambda x: lax.squeeze(x, (0, 2)), (_real,), ((1, 3, 1),)),
    ("expand_dims", lambda x: lax.expand_dims(x, (0, 2)), (_real,), ((3,),)),
    ("rev", lambda x: lax.rev(x, (0, 1)), (_real,), ((2, 3),)),
    (
        "concatenate",
        lambda x, y, z: lax.concatenate([x, y, z], 1),
        (_real, _real, _real),
        ((2, 1), (2, 3), (2, 2)),
    ),
    ("pad", lambda x, v: lax.pad(x, v, [(1, 2, 1), (0, -1, 0)]), (_real, _real), ((3, 4), ())),
    ("pad_negative", lambda x: lax.pad(x, 0.0, [(-1, 1, 2)]), (_real,), ((4,),)),
    ("slice", lambda x: lax.slice(x, (0, 1), (2, 4)), (_real,), ((3, 5),)),
    ("slice_strided", lambda x: lax.slice(x, (1, 0), (5, 5), (2, 3)), (_real,), ((6, 5),)),
    ("dynamic_slice", lambda x: lax.dynamic_slice(x, (1, 2), (2, 2)), (_real,), ((3, 5),)),
    ("dynamic_slice_clamped", lambda x: lax.dynamic_slice(x, (5,), (2,)), (_real,), ((4,),)),
    (
        "dynamic_update_slice",
        lambda x, u: lax.dynamic_update_slice(x, u, (1, 0)),
        (_real, _real),
        ((3, 4), (2, 2)),
    ),
    ("dot_vv", lambda x, y: lax.dot(x, y), (_real, _real), ((3,), (3,))),
    ("dot_mv", lambda x, y: lax.dot(x, y), (_real, _real), ((2, 3), (3,))),
    ("dot_mm", lambda x, y: lax.dot(x, y), (_real, _real), ((2, 3), (3, 4))),
    (
        "dot_general_batch",
        lambda x, y: lax.dot_general(x, y, (((2,), (1,)), ((0,), (0,)))),
        (_real, _real),
        ((2, 3, 4), (2, 4, 2)),
    ),
    (
        "dot_general_odd",
        lambda x, y: lax.dot_general(x, y, (((0, 2), (2, 0)), ((1,), (1,)))),
        (_real, _real),
        ((2, 3, 4), (4, 3, 2)),
    ),
    ("sort", lambda x: lax.sort(x), (_distinct,), ((5,),)),
    ("sort_2d", lambda x: lax.sort(x, dimension=0), (_distinct,), ((3, 2),)),
    (
        "sort_payload",
        lambda k, v: lax.sort((k, v), num_keys=1)[1],
        (_distinct, _real),
        ((2, 4), (2, 4)),
    ),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,fn,domains,shapes", OTHER, ids=[o[0] for o in OTHER])
def test_other(name, fn, domains, shapes, dtype):
    args = args_for(name, domains, shapes, dtype)
    check_grads(fn, args, order=2)


# --- zero derivatives, kinks and conventions --------------------------------------------------


def _to_f64(x):
    return lax.convert_element_type(x, F64)


ZERO_DERIVATIVE = [
    ("stop_gradient", lax.stop_gradient),
    ("floor", lax.floor),
    ("sign", lax.sign),
    ("is_finite", lambda x: lax.convert_element_type(lax.is_finite(x), F64)),
    ("argmax", lambda x: lax.convert_element_type(lax.argmax(x, 0), F64)),
    ("gt", lambda x: lax.convert_element_type(lax.gt(x, 0.0), F64)),
    ("convert_to_int", lambda x: _to_f64(lax.convert_element_type(x, np.int32))),
    *[
        (f"convert_to_{np.dtype(d).name}", lambda x, d=d: _to_f64(lax.convert_element_type(x, d)))
        for d in (np.int8, np.int16, np.uint16, np.uint64)
    ],
    ("bitcast", lambda x: _to_f64(lax.bitcast_convert_type(x, np.int64))),
]


@pytest.mark.parametrize("name,fn", ZERO_DERIVATIVE, ids=[z[0] for z in ZERO_DERIVATIVE])
def test_zero_derivative(name, fn):
    x = np.array([0.3, -1.7, 2.2])
    f = lambda x: lax.reduce_sum(lax.mul(fn(x), x), (0,))  # noqa: E731
    g = jaxlite.grad(f)(x)
    np.testing.assert_array_equal(np.asarray(g), np.asarray(fn(x)))  # only the explicit x
    _, t = jaxlite.jvp(fn, (x,), (np.ones(3),))
    np.testing.assert_array_equal(np.asarray(t), np.zeros(3))


def test_comparison_outputs_get_float0_tangents():
    x = np.array([0.3, -1.7])
    out, t = jaxlite.jvp(lambda x: lax.lt(x, 0.0), (x,), (np.ones(2),))
    assert t.dtype == jaxlite.dtypes.float0 and t.shape == (2,)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint16, np.uint64, np.int32])
def test_integer_values_get_float0_tangents(dtype):
    def f(x, n):
        m = lax.shift_left(lax.mul(n, n), lax.convert_element_type(1, dtype))
        return lax.mul(x, lax.convert_element_type(m, F64)), lax.cumsum(m, 0)

    x, n = np.array([0.5, 2.0]), np.array([3, 4], dtype)
    tn = np.zeros(2, jaxlite.dtypes.float0)
    (y, m), (ty, tm) = jaxlite.jvp(f, (x, n), (np.ones(2), tn))
    np.testing.assert_array_equal(np.asarray(ty), [18.0, 32.0])
    assert tm.dtype == jaxlite.dtypes.float0 and tm.shape == (2,) and m.dtype == dtype
    gx, gn = jaxlite.grad(
        lambda x, n: lax.reduce_sum(f(x, n)[0], (0,)), argnums=(0, 1), allow_int=True
    )(x, n)
    np.testing.assert_array_equal(np.asarray(gx), [18.0, 32.0])
    assert gn.dtype == jaxlite.dtypes.float0


@pytest.mark.parametrize("op,expected", [(lax.max, (0.5, 0.5)), (lax.min, (0.5, 0.5))])
def test_max_min_ties_split_the_gradient(op, expected):
    g = jaxlite.grad(lambda x, y: op(x, y), argnums=(0, 1))(1.0, 1.0)
    np.testing.assert_allclose([float(g[0]), float(g[1])], expected)


def test_reduce_max_ties_share_the_gradient():
    g = jaxlite.grad(lambda x: lax.reduce_max(x, (0,)))(np.array([1.0, 3.0, 3.0, 2.0]))
    np.testing.assert_allclose(np.asarray(g), [0.0, 0.5, 0.5, 0.0])


def test_cummax_ties_follow_the_scan():
    # jvp of the parallel prefix scan, as JAX: a tie inside the scan splits like max.
    g = jaxlite.grad(lambda x: lax.reduce_sum(lax.cummax(x, 0), (0,)))(np.array([2.0, 2.0, 1.0]))
    np.testing.assert_allclose(np.asarray(g), [2.0, 1.0, 0.0])


def test_abs_at_zero_and_relu_kink_follow_jax():
    assert float(jaxlite.grad(lax.abs)(0.0)) == 1.0  # JAX: select(x >= 0, g, -g)
    relu = lambda x: lax.max(x, 0.0)  # noqa: E731
    assert float(jaxlite.grad(relu)(0.0)) == 0.5  # a tie with the constant
    assert float(jaxlite.grad(relu)(2.0)) == 1.0
    assert float(jaxlite.grad(relu)(-2.0)) == 0.0


def test_clamp_at_a_bound_gives_no_gradient():
    g = jaxlite.grad(lambda x: lax.clamp(0.0, x, 1.0))
    assert [float(g(v)) for v in (0.0, 0.5, 1.0, 2.0)] == [0.0, 1.0, 0.0, 0.0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf and NaN on purpose
def test_where_based_safe_function_has_finite_gradient():
    # The double-where trick: the unselected branch sees a safe input, so no NaN leaks.
    def safe_log(x):
        ok = lax.gt(x, 0.0)
        safe_x = lax.select(ok, x, lax.add(lax.mul(x, 0.0), 1.0))
        return lax.select(ok, lax.log(safe_x), lax.mul(x, 0.0))

    x = np.array([0.0, 2.0])
    g = jaxlite.grad(lambda x: lax.reduce_sum(safe_log(x), (0,)))(x)
    np.testing.assert_allclose(np.asarray(g), [0.0, 0.5])
    naive = jaxlite.grad(lambda x: lax.reduce_sum(lax.select(lax.gt(x, 0.0), lax.log(x), x), (0,)))
    assert np.isnan(np.asarray(naive(x))[0])  # as in JAX: 0 * inf


def test_pow_at_zero_base_has_finite_exponent_gradient():
    gy = jaxlite.grad(lambda y: lax.pow(0.0, y))(2.0)
    assert float(gy) == 0.0


def test_integer_pow_high_order_matches_closed_form():
    d3 = jaxlite.grad(jaxlite.grad(jaxlite.grad(lambda x: lax.integer_pow(x, 5))))
    assert float(d3(1.5)) == pytest.approx(60 * 1.5**2)


# --- missing rules (the coverage of every table is tests/test_rule_coverage.py) --------------


def test_missing_jvp_rule_names_the_primitive():
    from jaxlite import core

    p = core.Primitive("mystery")
    p.def_impl(lambda x: x * 2)
    p.def_abstract_eval(lambda x: x)
    msg = "Differentiation rule for 'mystery' not implemented"
    with pytest.raises(NotImplementedError, match=msg):
        jaxlite.grad(lambda x: p.bind(x))(1.0)


def test_missing_transpose_rule_names_the_primitive():
    with pytest.raises(NotImplementedError, match="Transpose rule .* for 'sin' not implemented"):
        jaxlite.linear_transpose(lax.sin, 1.0)(1.0)
