"""jnp.linalg.qr (Householder) against NumPy/LAPACK, including its sign convention, under jit,
vmap and differentiation (forward and reverse, checked against finite differences).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxlite
import jaxlite.numpy as jnp
from jaxlite.test_util import check_grads

SHAPES = [(1, 1), (2, 2), (3, 3), (5, 3), (3, 5), (8, 8), (1, 4), (4, 1), (4, 3, 3), (2, 3, 6, 4)]
DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-10, np.float32: 1e-4}
MODES = ["reduced", "complete"]


def rand(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def f64(x):
    return np.asarray(x, np.float64)


def mT(x):
    return np.swapaxes(x, -1, -2)


def check_factorization(a, q, r, tol):
    """Q @ R = a, Q has orthonormal columns, R is exactly upper triangular."""
    a, q, r = f64(a), f64(q), f64(r)
    scale = max(1.0, np.abs(a).max())
    np.testing.assert_allclose(q @ r, a, atol=tol * scale * 10)
    k = q.shape[-1]
    np.testing.assert_allclose(mT(q) @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)),
                               atol=tol * 10)  # fmt: skip
    assert not np.any(np.tril(r, -1)), "R has nonzeros below its diagonal"


# ------------------------------------------------------------------------------------------
# Values against NumPy
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_qr_matches_numpy(shape, dtype, mode):
    a = rand(shape, dtype)
    res = jnp.linalg.qr(a, mode)
    assert isinstance(res, jnp.linalg.QRResult)
    q, r = res
    q_ref, r_ref = np.linalg.qr(a, mode)
    assert q.dtype == dtype and r.dtype == dtype
    assert q.shape == q_ref.shape and r.shape == r_ref.shape
    tol = TOL[dtype]
    check_factorization(a, q, r, tol)
    np.testing.assert_allclose(np.abs(f64(r)), np.abs(f64(r_ref)), atol=tol * 10)
    # LAPACK's signs are reproduced, so the factors themselves agree.
    np.testing.assert_allclose(f64(r), f64(r_ref), atol=tol * 10)
    np.testing.assert_allclose(f64(q), f64(q_ref), atol=tol * 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (4, 3, 3)])
def test_qr_r_and_raw_modes_match_numpy(shape, dtype):
    a = rand(shape, dtype, seed=1)
    tol = TOL[dtype] * 10
    r = jnp.linalg.qr(a, "r")
    assert r.dtype == dtype
    np.testing.assert_allclose(f64(r), f64(np.linalg.qr(a, "r")), atol=tol)
    h, tau = jnp.linalg.qr(a, "raw")
    h_ref, tau_ref = np.linalg.qr(a, "raw")
    assert h.shape == h_ref.shape and tau.shape == tau_ref.shape
    np.testing.assert_allclose(f64(h), f64(h_ref), atol=tol)
    np.testing.assert_allclose(f64(tau), f64(tau_ref), atol=tol)


SPECIAL = {
    "zeros": np.zeros((3, 3)),
    "zero_column": np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 4.0], [5.0, 0.0, 7.0]]),
    "upper_triangular": np.triu(rand((4, 4), seed=2)),  # LAPACK leaves it as it is: Q = I
    "repeated_columns": np.repeat(rand((4, 2), seed=3), 2, axis=1),
    "negative_diagonal": -np.eye(3) + np.triu(np.ones((3, 3)), 1),
    "tall_zeros": np.zeros((5, 2)),
    "wide_rank_one": np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5, 2.0]),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_qr_degenerate_inputs_give_no_nan(name, mode):
    a = SPECIAL[name]
    q, r = jnp.linalg.qr(a, mode)
    assert np.all(np.isfinite(f64(q))) and np.all(np.isfinite(f64(r)))
    check_factorization(a, q, r, 1e-12)
    if name != "repeated_columns":  # past the rank, R's rows follow rounding noise
        np.testing.assert_allclose(np.abs(f64(r)), np.abs(np.linalg.qr(a, mode)[1]), atol=1e-12)


def test_qr_signs_of_triangular_input_follow_lapack():
    a = SPECIAL["upper_triangular"]
    q, r = jnp.linalg.qr(a)
    np.testing.assert_array_equal(f64(q), np.eye(4))
    np.testing.assert_array_equal(f64(r), a)


EXTREMES = [(np.float32, 1e30), (np.float32, 1e-30), (np.float64, 1e200), (np.float64, 1e-200)]


@pytest.mark.parametrize("dtype, scale", EXTREMES)
def test_qr_extreme_scales_neither_overflow_nor_underflow(dtype, scale):
    a = (rand((4, 3), seed=11) * scale).astype(dtype)
    q_ref, r_ref = np.linalg.qr(a)
    for f in (jnp.linalg.qr, jaxlite.jit(jnp.linalg.qr)):
        q, r = f(a)
        np.testing.assert_allclose(f64(q), f64(q_ref), atol=TOL[dtype])
        np.testing.assert_allclose(f64(r) / scale, f64(r_ref) / scale, atol=TOL[dtype] * 10)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r", "raw"])
def test_qr_empty_shapes(shape, mode):
    out = jnp.linalg.qr(np.zeros(shape), mode)
    ref = np.linalg.qr(np.zeros(shape), mode)
    out, ref = (out, ref) if mode != "r" else ((out,), (ref,))
    assert [np.shape(x) for x in out] == [np.shape(x) for x in ref]
    for x, y in zip(out, ref):
        np.testing.assert_array_equal(np.abs(f64(x)), np.abs(y))


def test_qr_dtypes_and_errors():
    q, r = jnp.linalg.qr(np.arange(6).reshape(3, 2))
    assert q.dtype == np.float64 and r.dtype == np.float64
    np.testing.assert_allclose(f64(r), np.linalg.qr(np.arange(6.0).reshape(3, 2))[1])
    with pytest.raises(jnp.linalg.LinAlgError, match=r"jnp.linalg.qr.*\(3,\)"):
        jnp.linalg.qr(jnp.ones(3))
    with pytest.raises(ValueError, match="unsupported mode 'full'.*'reduced'"):
        jnp.linalg.qr(jnp.ones((2, 2)), "full")


@given(
    m=st.integers(1, 6),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
)
def test_qr_random_matrices(m, n, seed, scale):
    a = rand((m, n), seed=seed) * scale
    q, r = jnp.linalg.qr(a)
    q_ref, r_ref = np.linalg.qr(a)
    check_factorization(a, q, r, 1e-12)
    np.testing.assert_allclose(f64(r), r_ref, atol=1e-12 * scale)
    np.testing.assert_allclose(f64(q), q_ref, atol=1e-11)


# ------------------------------------------------------------------------------------------
# Transformations
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reduced", "complete", "r", "raw"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 3, 3)])
def test_qr_jit_matches_eager(shape, mode):
    a = rand(shape, np.float32, seed=4)
    out = jaxlite.jit(lambda x: jnp.linalg.qr(x, mode))(a)
    ref = jnp.linalg.qr(a, mode)
    out, ref = (out, ref) if mode != "r" else ((out,), (ref,))
    for x, y in zip(out, ref):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_allclose(f64(x), f64(y), atol=1e-5)


@pytest.mark.parametrize("in_axes", [0, 1, 2])
@pytest.mark.parametrize("mode", MODES)
def test_qr_vmap_matches_loop(mode, in_axes):
    a = rand((3, 4, 5), seed=5)
    q, r = jaxlite.vmap(lambda x: jnp.linalg.qr(x, mode), in_axes=in_axes)(a)
    for i in range(a.shape[in_axes]):
        qi, ri = jnp.linalg.qr(np.take(a, i, axis=in_axes), mode)
        np.testing.assert_allclose(f64(q[i]), f64(qi), atol=1e-13)
        np.testing.assert_allclose(f64(r[i]), f64(ri), atol=1e-13)


def _weighted(mode, shape, seed=6):
    """`x -> sum(Q * W) + sum(R * V)`, a scalar that every entry of Q and R feeds."""
    ref = np.linalg.qr(np.zeros(shape), mode)
    if mode == "r":
        v = rand(ref.shape, seed=seed)
        return lambda x: jnp.sum(jnp.linalg.qr(x, "r") * v)
    w, v = rand(ref.Q.shape, seed=seed), rand(ref.R.shape, seed=seed + 1)

    def f(x):
        q, r = jnp.linalg.qr(x, mode)
        return jnp.sum(q * w) + jnp.sum(r * v)

    return f


@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 3), (3, 5), (2, 4, 3)])
def test_qr_grads_first_order(shape, mode):
    check_grads(_weighted(mode, shape), (rand(shape, seed=7),), order=1)


@pytest.mark.parametrize("mode", MODES)
def test_qr_grads_second_order(mode):
    check_grads(_weighted(mode, (4, 3)), (rand((4, 3), seed=8),), order=2)


def test_qr_factors_jvp_and_vjp():
    a = rand((4, 4), seed=9)
    check_grads(lambda x: tuple(jnp.linalg.qr(x)), (a,), order=1)


def test_qr_grad_under_jit_and_vmap():
    f = _weighted("reduced", (4, 3))
    a = rand((2, 4, 3), seed=10)
    g = jaxlite.grad(f)
    expected = np.stack([f64(g(x)) for x in a])
    np.testing.assert_allclose(f64(jaxlite.jit(jaxlite.vmap(g))(a)), expected, atol=1e-12)
    np.testing.assert_allclose(f64(jaxlite.vmap(jaxlite.jit(g))(a)), expected, atol=1e-12)


def test_qr_jaxpr_size_does_not_grow_with_the_matrix():
    """The column loop is a scan, so compile time does not grow with n (no unrolling)."""

    def size(n):
        return len(jaxlite.make_jaxpr(jnp.linalg.qr)(np.ones((n, n))).jaxpr.eqns)

    assert size(3) == size(16)
