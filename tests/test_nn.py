"""jaxlite.nn: activations against NumPy/SciPy, stability at extreme inputs, JAX's gradients at
the kinks, softmax/logsumexp/one_hot/standardize, and the initializers' shapes and variances."""

import numpy as np
import pytest
from scipy import special

import jaxlite
import jaxlite.nn as nn
import jaxlite.random as jr
from jaxlite.nn import initializers as init

f32, f64 = np.float32, np.float64


def a(x):
    return np.asarray(x)


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


# name -> (function, NumPy reference)
ACTIVATIONS = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0)),
    "relu6": (nn.relu6, lambda x: np.minimum(np.maximum(x, 0), 6)),
    "sigmoid": (nn.sigmoid, special.expit),
    "softplus": (nn.softplus, lambda x: np.logaddexp(x, 0)),
    "silu": (nn.silu, lambda x: x * special.expit(x)),
    "swish": (nn.swish, lambda x: x * special.expit(x)),
    "gelu": (nn.gelu, _gelu_tanh),
    "gelu_exact": (lambda x: nn.gelu(x, approximate=False), lambda x: x * special.ndtr(x)),
    "elu": (nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    "elu_alpha": (lambda x: nn.elu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "leaky_relu": (nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x)),
    "leaky_relu_slope": (lambda x: nn.leaky_relu(x, 0.2), lambda x: np.where(x >= 0, x, 0.2 * x)),
    "tanh": (nn.tanh, np.tanh),
    "log_sigmoid": (nn.log_sigmoid, lambda x: -np.logaddexp(0, -x)),
}
SHAPES = [(), (7,), (3, 4)]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [f32, f64])
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_matches_reference(name, dtype, shape):
    fn, ref = ACTIVATIONS[name]
    x = (np.random.default_rng(0).normal(size=shape) * 4).astype(dtype)
    out = a(fn(x))
    assert out.dtype == dtype and out.shape == shape
    tol = 2e-6 if dtype == f32 else 1e-12
    np.testing.assert_allclose(out, ref(x.astype(f64)), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_extremes_and_nan(name):
    fn, ref = ACTIVATIONS[name]
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4, np.nan])
    with np.errstate(all="ignore"):
        expected = ref(x)
    np.testing.assert_allclose(a(fn(x)), expected, rtol=1e-12, atol=1e-300)


def test_dtypes_of_integer_and_scalar_inputs():
    assert a(nn.relu(np.array([-1, 2], np.int32))).dtype == np.int32
    with pytest.raises(TypeError, match="sigmoid: logistic does not accept dtype int64"):
        nn.sigmoid(np.array([0, 1]))  # as JAX: lax.logistic takes floats only
    assert a(nn.leaky_relu(np.array([0, 1]))).dtype == f64  # JAX: a weak float
    assert float(nn.softplus(0.0)) == pytest.approx(np.log(2))
    with pytest.raises(TypeError, match="requires ndarray or scalar arguments, got list"):
        nn.softmax([1.0, 2.0])  # as JAX's ensure_arraylike


# ------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp
# ------------------------------------------------------------------------------------------

AXES = [-1, 0, (0, 1), None]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("dtype", [f32, f64])
def test_softmax_family_matches_scipy(axis, dtype):
    x = np.random.default_rng(1).normal(size=(3, 4, 5)).astype(dtype) * 3
    tol = 1e-6 if dtype == f32 else 1e-13
    np.testing.assert_allclose(a(nn.softmax(x, axis)), special.softmax(x, axis), rtol=tol)
    np.testing.assert_allclose(
        a(nn.log_softmax(x, axis)), special.log_softmax(x, axis), rtol=tol, atol=tol
    )
    np.testing.assert_allclose(a(nn.logsumexp(x, axis)), special.logsumexp(x, axis), rtol=tol)
    keep = a(nn.logsumexp(x, axis, keepdims=True))
    np.testing.assert_allclose(keep, special.logsumexp(x, axis, keepdims=True), rtol=tol)
    assert a(nn.softmax(x, axis)).dtype == dtype


def test_softmax_family_is_stable():
    big = np.array([1000.0, 1000.0, -1000.0], f32)
    np.testing.assert_allclose(a(nn.softmax(big)), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(a(nn.log_softmax(np.array([1000.0, 0.0], f32))), [0.0, -1000.0])
    assert float(nn.logsumexp(np.array([1e4, 1e4]))) == pytest.approx(1e4 + np.log(2))
    assert float(nn.logsumexp(np.array([-np.inf, -np.inf]))) == -np.inf
    assert float(nn.logsumexp(np.array([-np.inf, 0.0]))) == 0.0
    assert float(nn.logsumexp(np.array([np.inf, 0.0]))) == np.inf


def test_logsumexp_with_b_and_sign():
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.1, -2.0]])
    b = np.array([1.0, -2.0, 2.0])  # a positive sum in row 0, a negative one in row 1
    out, sign = nn.logsumexp(x, axis=1, b=b, return_sign=True)
    ref, ref_sign = special.logsumexp(x, axis=1, b=b, return_sign=True)
    np.testing.assert_allclose(a(out), ref)
    np.testing.assert_array_equal(a(sign), ref_sign)
    with np.errstate(invalid="ignore"):
        plain = a(nn.logsumexp(x, axis=1, b=b))
    assert np.isnan(plain[1]) and plain[0] == pytest.approx(ref[0])


def test_where_masks():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, -1.0]])
    w = np.array([True, False, True])
    sm = a(nn.softmax(x, where=w))
    np.testing.assert_allclose(sm[:, 1], 0.0)
    np.testing.assert_allclose(sm[:, [0, 2]], special.softmax(x[:, [0, 2]], axis=1))
    lsm = a(nn.log_softmax(x, where=w))
    assert np.all(lsm[:, 1] == -np.inf)
    np.testing.assert_allclose(lsm[:, [0, 2]], special.log_softmax(x[:, [0, 2]], axis=1))
    lse = a(nn.logsumexp(x, axis=1, where=w))
    np.testing.assert_allclose(lse, special.logsumexp(x[:, [0, 2]], axis=1))


# ------------------------------------------------------------------------------------------
# one_hot and standardize
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot(axis):
    x = np.array([[0, 2, 5], [-1, 1, 3]])
    out = a(nn.one_hot(x, 4, axis=axis, dtype=f32))
    ref = np.moveaxis(
        np.eye(4, dtype=f32)[np.clip(x, 0, 3)] * ((x >= 0) & (x < 4))[..., None], -1, axis
    )
    assert out.dtype == f32
    np.testing.assert_array_equal(out, ref)
    assert a(nn.one_hot(np.array([1]), 2)).dtype == f64


def test_standardize():
    x = np.random.default_rng(2).normal(size=(4, 6)) * 3 + 1
    out = a(nn.standardize(x))
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-10)
    out0 = a(nn.standardize(x, axis=0, epsilon=0.1))
    np.testing.assert_allclose(out0, (x - x.mean(0)) / np.sqrt(x.var(0) + 0.1), rtol=1e-10)
    given_stats = a(nn.standardize(x, mean=1.0, variance=4.0, epsilon=0.0))
    np.testing.assert_allclose(given_stats, (x - 1) / 2)
    w = np.array([True, True, True, False, False, True])
    masked = a(nn.standardize(x, where=w))
    xs = x[:, w]
    ref = (x - xs.mean(-1, keepdims=True)) / np.sqrt(xs.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(masked, ref, rtol=1e-10)


# ------------------------------------------------------------------------------------------
# Gradients (JAX's values at kinks; central differences elsewhere)
# ------------------------------------------------------------------------------------------

needs_grad = pytest.mark.skipif(not hasattr(jaxlite, "grad"), reason="jaxlite.grad not available")


@needs_grad
@pytest.mark.parametrize(
    "fn,x,expected",
    [
        (nn.relu, 0.0, 0.0),
        (nn.relu, 2.0, 1.0),
        (nn.relu, -2.0, 0.0),
        (nn.relu6, 0.0, 0.0),
        (nn.relu6, 6.0, 0.0),
        (nn.relu6, 3.0, 1.0),
        (nn.leaky_relu, 0.0, 1.0),
        (nn.elu, 0.0, 1.0),
        (nn.softplus, 0.0, 0.5),
        (nn.sigmoid, 0.0, 0.25),
        (nn.softplus, 800.0, 1.0),
        (nn.log_sigmoid, -800.0, 1.0),
        (nn.softplus, -800.0, 0.0),
    ],
)
def test_gradients_at_kinks_and_extremes(fn, x, expected):
    assert float(jaxlite.grad(fn)(x)) == expected


def _central_difference(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (float(f(x + d)) - float(f(x - d))) / (2 * eps)
    return g


@needs_grad
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradients_match_finite_differences(name):
    fn, _ = ACTIVATIONS[name]
    x = np.array([-3.1, -0.7, 0.4, 1.3, 5.2, 7.5])

    def f(v):
        return jaxlite.numpy.sum(fn(v) * np.arange(1.0, 7.0))

    np.testing.assert_allclose(
        a(jaxlite.grad(f)(x)), _central_difference(f, x), rtol=1e-6, atol=1e-8
    )


MASK = np.array([True, False, True, True])


@needs_grad
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_check_grads_to_second_order(name):
    """Forward and reverse mode, first and second order, in random directions (check_grads)."""
    from jaxlite.test_util import check_grads

    fn, _ = ACTIVATIONS[name]
    x = np.array([-3.1, -0.7, 0.4, 1.3, 5.2, 7.5])  # away from the kinks
    check_grads(fn, (x,), order=2)


@needs_grad
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: nn.softmax(x, axis=(0, 1)),
        lambda x: jaxlite.numpy.where(MASK, nn.log_softmax(x, where=MASK), 0.0),  # no -inf
        lambda x: nn.logsumexp(x, axis=0, b=np.array([[1.0], [2.0], [0.5]])),
    ],
)
def test_softmax_family_check_grads_to_second_order(fn):
    from jaxlite.test_util import check_grads

    check_grads(fn, (np.random.default_rng(6).normal(size=(3, 4)),), order=2)


@needs_grad
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: nn.softmax(x, axis=1),
        lambda x: nn.log_softmax(x, axis=0),
        lambda x: nn.logsumexp(x, axis=1),
        lambda x: nn.standardize(x),
    ],
)
def test_reduction_gradients_match_finite_differences(fn):
    x = np.random.default_rng(3).normal(size=(3, 4))
    w = np.random.default_rng(4).normal(size=np.shape(a(fn(x))))

    def f(v):
        return jaxlite.numpy.sum(fn(v) * w)

    np.testing.assert_allclose(
        a(jaxlite.grad(f)(x)), _central_difference(f, x), rtol=1e-5, atol=1e-7
    )


@needs_grad
def test_gradients_stay_finite_with_inf_and_large_logits():
    g = a(jaxlite.grad(lambda x: nn.logsumexp(x))(np.array([-np.inf, 0.0, 1.0])))
    np.testing.assert_allclose(g, special.softmax([-np.inf, 0.0, 1.0]))
    g = a(jaxlite.grad(lambda x: nn.log_softmax(x)[0])(np.array([1000.0, 0.0, -1000.0])))
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [0.0, 0.0, 0.0], atol=1e-12)


JIT_CASES = {
    **{name: fn for name, (fn, _) in ACTIVATIONS.items()},
    "softmax": lambda x: nn.softmax(x, axis=0),
    "log_softmax": nn.log_softmax,
    "logsumexp": lambda x: nn.logsumexp(x, axis=1, keepdims=True),
    "standardize": nn.standardize,
}


@pytest.mark.parametrize("name", sorted(JIT_CASES))
def test_jit_equals_eager(name):
    fn = JIT_CASES[name]
    x = np.random.default_rng(7).normal(size=(3, 5)).astype(f32) * 3
    np.testing.assert_allclose(a(jaxlite.jit(fn)(x)), a(fn(x)), rtol=2e-6, atol=1e-7)


def test_jit_of_initializer_and_one_hot():
    w = jaxlite.jit(lambda k: init.he_uniform()(k, (8, 4), f32))(KEY)
    np.testing.assert_array_equal(a(w), a(init.he_uniform()(KEY, (8, 4), f32)))
    idx = np.array([2, 0, 7])
    np.testing.assert_array_equal(
        a(jaxlite.jit(lambda i: nn.one_hot(i, 5))(idx)), a(nn.one_hot(idx, 5))
    )


def test_vmap_of_softmax_and_one_hot():
    x = np.random.default_rng(5).normal(size=(4, 6))
    np.testing.assert_allclose(a(jaxlite.vmap(nn.softmax)(x)), special.softmax(x, axis=1))
    idx = np.array([0, 3, 1])
    np.testing.assert_array_equal(a(jaxlite.vmap(lambda i: nn.one_hot(i, 4))(idx)), np.eye(4)[idx])


# ------------------------------------------------------------------------------------------
# Initializers
# ------------------------------------------------------------------------------------------

KEY = jr.PRNGKey(0)


@pytest.mark.parametrize(
    "builder,scale,mode,dist",
    [
        (init.glorot_uniform, 1.0, "fan_avg", "uniform"),
        (init.glorot_normal, 1.0, "fan_avg", "truncated_normal"),
        (init.he_uniform, 2.0, "fan_in", "uniform"),
        (init.he_normal, 2.0, "fan_in", "truncated_normal"),
        (init.lecun_normal, 1.0, "fan_in", "truncated_normal"),
        (init.lecun_uniform, 1.0, "fan_in", "uniform"),
    ],
)
@pytest.mark.parametrize("dtype", [f32, f64])
def test_variance_scaling_presets(builder, scale, mode, dist, dtype):
    shape = (300, 200)
    w = a(builder()(KEY, shape, dtype))
    assert w.shape == shape and w.dtype == dtype
    fan_in, fan_out = 300, 200
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    assert w.std() == pytest.approx(np.sqrt(scale / n), rel=0.02)
    assert abs(w.mean()) < 0.01
    if dist == "uniform":
        assert np.abs(w).max() <= np.sqrt(3 * scale / n)
    else:  # truncated at two standard deviations of the underlying normal
        assert np.abs(w).max() < 2 * np.sqrt(scale / n) / 0.87962566103423978
    # the same key gives the same weights; and these are uniform/truncated_normal of that key
    np.testing.assert_array_equal(w, a(builder()(KEY, shape, dtype)))
    if dist == "uniform":
        ref = a(jr.uniform(KEY, shape, dtype, -1.0)) * np.sqrt(3 * scale / n).astype(dtype)
        np.testing.assert_allclose(w, ref, rtol=1e-6)


def test_fans_of_a_convolution_kernel():
    w = a(init.he_normal()(KEY, (3, 3, 16, 32), f32))  # HWIO: fan_in = 3*3*16
    assert w.std() == pytest.approx(np.sqrt(2 / 144), rel=0.05)
    w = a(init.glorot_uniform(in_axis=0, out_axis=1)(KEY, (50, 30), f32))
    assert np.abs(w).max() <= np.sqrt(6 / 80)
    with pytest.raises(ValueError, match="at least 2-D"):
        init.glorot_uniform()(KEY, (5,))


def test_simple_initializers():
    np.testing.assert_array_equal(a(init.zeros(KEY, (2, 3), f32)), np.zeros((2, 3), f32))
    assert a(init.ones(KEY, (4,))).dtype == f64
    np.testing.assert_array_equal(a(init.constant(-7.0, f32)(KEY, (2,))), [-7.0, -7.0])
    u = a(init.uniform(2.0)(KEY, (1000,), f32))
    assert u.min() >= 0 and u.max() < 2
    n = a(init.normal(0.5)(KEY, (4000,)))
    assert n.std() == pytest.approx(0.5, rel=0.05)
    t = a(init.truncated_normal(1.0, f32)(KEY, (1000,)))
    assert t.dtype == f32 and np.abs(t).max() < 2
