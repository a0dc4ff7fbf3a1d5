"""jnp.linalg eigh/eigvalsh/svd/svdvals/pinv/matrix_rank/lstsq (Jacobi methods) against NumPy,
under jit, vmap and differentiation.

Eigenvectors and singular vectors are unique only up to sign: they are compared through
reconstructions, orthonormality and |<v_jaxlite, v_numpy>| = 1 for distinct values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxlite
import jaxlite.numpy as jnp
from jaxlite.numpy import _linalg_jacobi
from jaxlite.test_util import check_grads

SHAPES_SQ = [(1, 1), (2, 2), (3, 3), (5, 5), (8, 8), (4, 3, 3)]
SHAPES = [(1, 1), (2, 2), (3, 3), (5, 3), (3, 5), (8, 8), (4, 3, 3), (2, 4, 6), (1, 7)]
DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-10, np.float32: 2e-4}


def rand(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def sym(shape, dtype=np.float64, seed=0):
    a = rand(shape, np.float64, seed)
    return ((a + np.swapaxes(a, -1, -2)) / 2).astype(dtype)


def f64(x):
    return np.asarray(x, np.float64)


def mT(x):
    return np.swapaxes(x, -1, -2)


def assert_orthonormal_columns(q, tol):
    k = q.shape[-1]
    np.testing.assert_allclose(mT(q) @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)),
                               atol=tol * 10)  # fmt: skip


def assert_same_columns_up_to_sign(q, q_ref, tol):
    dots = np.abs(np.sum(q * q_ref, axis=-2))
    np.testing.assert_allclose(dots, np.ones_like(dots), atol=tol * 100)


# ------------------------------------------------------------------------------------------
# The round-robin ordering
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 4, 6, 8, 10, 16])
def test_round_robin_meets_every_pair_once_per_sweep(n):
    perm, order, met = _linalg_jacobi._round_robin(n), list(range(n)), set()
    for _ in range(n - 1):
        met |= {frozenset((order[k], order[k + n // 2])) for k in range(n // 2)}
        order = [order[i] for i in perm]
    assert len(met) == n * (n - 1) // 2
    assert order == list(range(n))  # back to the start: the padding index ends last


# ------------------------------------------------------------------------------------------
# eigh / eigvalsh
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES_SQ)
def test_eigh_matches_numpy(shape, dtype):
    a = sym(shape, dtype)
    w, v = jnp.linalg.eigh(a)
    assert w.dtype == dtype and v.dtype == dtype
    assert w.shape == shape[:-1] and v.shape == shape
    w_ref, v_ref = np.linalg.eigh(f64(a))
    tol = TOL[dtype]
    scale = np.abs(w_ref).max()
    np.testing.assert_allclose(f64(w), w_ref, atol=tol * scale)
    w, v = f64(w), f64(v)
    np.testing.assert_allclose(v @ (w[..., :, None] * mT(v)), f64(a), atol=tol * scale * 10)
    assert_orthonormal_columns(v, tol)
    assert_same_columns_up_to_sign(v, v_ref, tol)


@given(st.integers(1, 7), st.integers(0, 2**31 - 1), st.sampled_from([1e-3, 1.0, 1e3]))
def test_eigh_and_svd_property(n, seed, scale):
    a = rand((n, n), seed=seed) * scale
    s = (a + a.T) / 2
    w, v = (f64(x) for x in jnp.linalg.eigh(s))
    np.testing.assert_allclose(v @ np.diag(w) @ v.T, s, atol=1e-12 * scale * n)
    assert np.all(np.diff(w) >= 0)
    b = a[:, : max(1, n - seed % 3)]
    u, sv, vh = jnp.linalg.svd(b)
    check_svd(b, u, sv, vh, True, 1e-11)


def test_eigh_result_fields_and_degenerate_input():
    res = jnp.linalg.eigh(np.eye(4) * 2.0)
    assert isinstance(res, jnp.linalg.EighResult)
    np.testing.assert_allclose(f64(res.eigenvalues), [2.0] * 4)
    assert_orthonormal_columns(f64(res.eigenvectors), 1e-14)
    # a repeated eigenvalue: the eigenvectors still span the right spaces
    q = np.linalg.qr(rand((5, 5)))[0]
    a = q @ np.diag([1.0, 1.0, 1.0, 3.0, -2.0]) @ q.T
    w, v = (f64(x) for x in jnp.linalg.eigh(a))
    np.testing.assert_allclose(w, [-2.0, 1.0, 1.0, 1.0, 3.0], atol=1e-13)
    np.testing.assert_allclose(v @ np.diag(w) @ v.T, a, atol=1e-13)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_uplo_reads_one_triangle(uplo):
    a = rand((4, 4))  # not symmetric
    w = jnp.linalg.eigh(a, UPLO=uplo, symmetrize_input=False).eigenvalues
    np.testing.assert_allclose(f64(w), np.linalg.eigvalsh(a, UPLO=uplo), atol=1e-12)
    w = jnp.linalg.eigvalsh(a, UPLO=uplo, symmetrize_input=False)
    np.testing.assert_allclose(f64(w), np.linalg.eigvalsh(a, UPLO=uplo), atol=1e-12)
    # the default symmetrizes: (a + a.T) / 2
    np.testing.assert_allclose(
        f64(jnp.linalg.eigvalsh(a, UPLO=uplo)), np.linalg.eigvalsh((a + a.T) / 2), atol=1e-12
    )


def test_eigh_integer_input_gives_jax_inexact_dtype():
    """As JAX: int32 matrices give float32 (even with x64), int64 ones float64."""
    w = jnp.linalg.eigvalsh(np.array([[2, 1], [1, 2]], np.int32))
    assert w.dtype == np.float32
    np.testing.assert_allclose(f64(w), [1.0, 3.0], atol=1e-6)
    w = jnp.linalg.eigvalsh(np.array([[2, 1], [1, 2]], np.int64))
    assert w.dtype == np.float64
    np.testing.assert_allclose(f64(w), [1.0, 3.0], atol=1e-14)


@pytest.mark.parametrize(
    "fn, arg",
    [
        (jnp.linalg.eigh, np.ones(3)),
        (jnp.linalg.eigh, np.ones((2, 3))),
        (jnp.linalg.eigvalsh, np.ones((3, 2))),
        (jnp.linalg.svd, np.ones(3)),
        (jnp.linalg.pinv, np.ones(3)),
    ],
)
def test_non_matrices_raise_linalg_error(fn, arg):
    with pytest.raises(jnp.linalg.LinAlgError, match="jnp.linalg"):
        fn(arg)


# ------------------------------------------------------------------------------------------
# svd / svdvals
# ------------------------------------------------------------------------------------------


def check_svd(a, u, s, vh, full: bool, tol: float):
    m, n = a.shape[-2:]
    k = min(m, n)
    s_ref = np.linalg.svd(f64(a), compute_uv=False)
    scale = s_ref.max() if s_ref.size else 1.0
    assert s.shape == a.shape[:-2] + (k,)
    assert u.shape == a.shape[:-2] + ((m, m) if full else (m, k))
    assert vh.shape == a.shape[:-2] + ((n, n) if full else (k, n))
    u, s, vh = f64(u), f64(s), f64(vh)
    np.testing.assert_allclose(s, s_ref, atol=tol * scale)
    rebuilt = (u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :]
    np.testing.assert_allclose(rebuilt, f64(a), atol=tol * scale * 10)
    assert_orthonormal_columns(u, tol)
    assert_orthonormal_columns(mT(vh), tol)


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_svd_matches_numpy(shape, dtype, full):
    a = rand(shape, dtype)
    u, s, vh = jnp.linalg.svd(a, full_matrices=full)
    assert u.dtype == s.dtype == vh.dtype == dtype
    tol = TOL[dtype]
    check_svd(a, u, s, vh, full, tol)
    u_ref, _, vh_ref = np.linalg.svd(f64(a), full_matrices=False)
    k = min(shape[-2:])
    assert_same_columns_up_to_sign(f64(u)[..., :k], u_ref, tol)
    assert_same_columns_up_to_sign(mT(f64(vh)[..., :k, :]), mT(vh_ref), tol)


RANK_DEFICIENT = {
    "zeros_3x3": np.zeros((3, 3)),
    "zeros_4x2": np.zeros((4, 2)),
    "rank1_5x3": np.outer([1.0, 2.0, -1.0, 0.5, 3.0], [2.0, -1.0, 1.0]),
    "rank1_3x5": np.outer([2.0, -1.0, 1.0], [1.0, 2.0, -1.0, 0.5, 3.0]),
    "rank2_6x4": rand((6, 2)) @ rand((2, 4), seed=1),
    "zero_column": np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 1.0], [0.0, 0.0, 1.0]]),
    "repeated": np.diag([2.0, 2.0, 1.0]),
}


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("name", list(RANK_DEFICIENT))
def test_svd_rank_deficient_gives_orthonormal_vectors(name, full):
    a = RANK_DEFICIENT[name]
    u, s, vh = jnp.linalg.svd(a, full_matrices=full)
    check_svd(a, u, s, vh, full, 1e-12)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 4)])
def test_svd_of_empty_matrices(shape):
    a = np.zeros(shape)
    for full in (False, True):
        u, s, vh = jnp.linalg.svd(a, full_matrices=full)
        u_ref, s_ref, vh_ref = np.linalg.svd(a, full_matrices=full)
        assert (u.shape, s.shape, vh.shape) == (u_ref.shape, s_ref.shape, vh_ref.shape)
    assert jnp.linalg.pinv(a).shape == np.linalg.pinv(a).shape


@pytest.mark.parametrize("shape", [(3, 3), (8, 8), (4, 3, 3)])
def test_svd_hermitian(shape):
    a = sym(shape)
    u, s, vh = jnp.linalg.svd(a, hermitian=True)
    check_svd(a, u, s, vh, True, 1e-10)
    np.testing.assert_allclose(
        f64(jnp.linalg.svd(a, compute_uv=False, hermitian=True)),
        np.linalg.svd(a, compute_uv=False, hermitian=True),
        atol=1e-10,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_svdvals_and_compute_uv_false(shape, dtype):
    a = rand(shape, dtype, seed=3)
    s_ref = np.linalg.svd(f64(a), compute_uv=False)
    for s in (jnp.linalg.svdvals(a), jnp.linalg.svd(a, compute_uv=False)):
        assert s.dtype == dtype
        np.testing.assert_allclose(f64(s), s_ref, atol=TOL[dtype] * s_ref.max())


def test_svd_small_singular_values_are_accurate():
    # one-sided Jacobi keeps the relative accuracy of small singular values
    q1, q2 = np.linalg.qr(rand((5, 5)))[0], np.linalg.qr(rand((5, 5), seed=1))[0]
    s = np.array([1.0, 1e-3, 1e-6, 1e-9, 1e-12])
    got = f64(jnp.linalg.svdvals(q1 @ np.diag(s) @ q2.T))
    np.testing.assert_allclose(got, s, rtol=1e-4)


# ------------------------------------------------------------------------------------------
# pinv, matrix_rank, lstsq
# ------------------------------------------------------------------------------------------

PINV_CASES = {
    "square": rand((4, 4)),
    "tall": rand((6, 3)),
    "wide": rand((2, 5)),
    "batch": rand((3, 4, 2)),
    "rank1": RANK_DEFICIENT["rank1_5x3"],
    "rank2": RANK_DEFICIENT["rank2_6x4"],
    "zeros": np.zeros((3, 2)),
}


@pytest.mark.parametrize("name", list(PINV_CASES))
def test_pinv_matches_numpy(name):
    a = PINV_CASES[name]
    np.testing.assert_allclose(f64(jnp.linalg.pinv(a)), np.linalg.pinv(a), atol=1e-10)


def test_pinv_rtol_hermitian_and_float32():
    a = np.diag([1.0, 1e-2, 1e-5])
    np.testing.assert_allclose(f64(jnp.linalg.pinv(a, rtol=1e-3)), np.diag([1.0, 100.0, 0.0]))
    batch_rtol = np.array([1e-3, 1e-6])
    got = f64(jnp.linalg.pinv(np.stack([a, a]), rtol=batch_rtol))
    np.testing.assert_allclose(got, np.linalg.pinv(np.stack([a, a]), rtol=batch_rtol))
    s = sym((4, 4))
    np.testing.assert_allclose(
        f64(jnp.linalg.pinv(s, hermitian=True)), np.linalg.pinv(s, hermitian=True), atol=1e-10
    )
    p = jnp.linalg.pinv(a.astype(np.float32))
    assert p.dtype == np.float32


MATRIX_RANK_CASES = {
    "full": (rand((4, 4)), {}),
    "tall": (rand((6, 3)), {}),
    "rank1": (RANK_DEFICIENT["rank1_5x3"], {}),
    "rank2": (RANK_DEFICIENT["rank2_6x4"], {}),
    "zeros": (np.zeros((3, 3)), {}),
    "batch": (np.stack([np.eye(3), np.diag([1.0, 1.0, 0.0])]), {}),
    "rtol": (np.diag([1.0, 1e-2, 1e-5]), {"rtol": 1e-3}),
    "vector": (np.array([0.0, 1.0]), {}),
    "zero_vector": (np.zeros(3), {}),
}


@pytest.mark.parametrize("name", list(MATRIX_RANK_CASES))
def test_matrix_rank_matches_numpy(name):
    a, kw = MATRIX_RANK_CASES[name]
    got = jnp.linalg.matrix_rank(a, **kw)
    np.testing.assert_array_equal(np.asarray(got), np.linalg.matrix_rank(a, **kw))
    assert np.asarray(got).dtype.kind == "i"


def test_matrix_rank_tol_is_an_alias_of_rtol():
    a = np.diag([1.0, 1e-2, 1e-5])
    assert int(jnp.linalg.matrix_rank(a, tol=1e-3)) == 2
    assert int(jnp.linalg.matrix_rank(a, hermitian=True)) == 3
    with pytest.raises(ValueError, match="only one"):
        jnp.linalg.matrix_rank(a, rtol=1e-3, tol=1e-3)


LSTSQ_CASES = {
    "over": (rand((6, 3)), rand((6, 2), seed=1)),
    "over_vec": (rand((5, 2)), rand(5, seed=1)),
    "square": (rand((3, 3)), rand((3, 2), seed=1)),
    "under": (rand((2, 4)), rand((2, 1), seed=1)),
    "rank_deficient": (RANK_DEFICIENT["rank2_6x4"], rand(6, seed=1)),
}


@pytest.mark.parametrize("name", list(LSTSQ_CASES))
def test_lstsq_matches_numpy(name):
    a, b = LSTSQ_CASES[name]
    x, resid, rank, s = jnp.linalg.lstsq(a, b)
    x_ref, resid_ref, rank_ref, s_ref = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(f64(x), x_ref, atol=1e-10)
    assert int(rank) == rank_ref
    np.testing.assert_allclose(f64(s), s_ref, atol=1e-10)
    # JAX's default: the residuals are always returned
    b2 = b.reshape(b.shape[0], -1)
    np.testing.assert_allclose(f64(resid), np.sum((b2 - a @ x_ref.reshape(a.shape[1], -1)) ** 2, 0),
                               atol=1e-10)  # fmt: skip
    _, resid_np, _, _ = jnp.linalg.lstsq(a, b, numpy_resid=True)
    assert resid_np.shape == resid_ref.shape
    np.testing.assert_allclose(f64(resid_np), resid_ref, atol=1e-10)


def test_lstsq_rcond_and_errors():
    a = np.diag([1.0, 1e-8])
    b = np.array([1.0, 1.0])
    x, _, rank, _ = jnp.linalg.lstsq(a, b, rcond=1e-6)
    np.testing.assert_allclose(f64(x), [1.0, 0.0])
    assert int(rank) == 1
    with pytest.raises(TypeError, match="two-dimensional"):
        jnp.linalg.lstsq(np.ones((2, 2, 2)), np.ones((2, 2)))
    with pytest.raises(TypeError, match="must have shape"):
        jnp.linalg.lstsq(np.ones((3, 2)), np.ones(2))


# ------------------------------------------------------------------------------------------
# jit and vmap
# ------------------------------------------------------------------------------------------

JIT_CASES = {
    "eigh": (lambda a: tuple(jnp.linalg.eigh(a)), sym((5, 5))),
    "eigvalsh_f32_batch": (jnp.linalg.eigvalsh, sym((2, 4, 4), np.float32)),
    "svd_thin": (lambda a: tuple(jnp.linalg.svd(a, full_matrices=False)), rand((5, 3))),
    "svd_full_wide": (lambda a: tuple(jnp.linalg.svd(a)), rand((3, 5))),
    "svd_rank1": (lambda a: tuple(jnp.linalg.svd(a)), RANK_DEFICIENT["rank1_5x3"][:3]),
    "pinv": (jnp.linalg.pinv, rand((4, 3))),
    "matrix_rank": (jnp.linalg.matrix_rank, RANK_DEFICIENT["rank2_6x4"]),
    "lstsq": (lambda a: jnp.linalg.lstsq(a, np.arange(6.0)), rand((6, 3))),
}


@pytest.mark.parametrize("name", list(JIT_CASES))
def test_jit_matches_eager(name):
    fn, a = JIT_CASES[name]
    want = fn(a)
    got = jaxlite.jit(fn)(a)
    for g, w in zip(jaxlite.tree_util.tree_leaves(got), jaxlite.tree_util.tree_leaves(want)):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(f64(g), f64(w), atol=1e-5 if g.dtype == np.float32 else 1e-12)


VMAP_CASES = {
    "eigh": (lambda a: tuple(jnp.linalg.eigh(a)), sym((3, 4, 4))),
    "svd": (lambda a: tuple(jnp.linalg.svd(a)), rand((3, 4, 2))),
    "svdvals": (jnp.linalg.svdvals, rand((3, 2, 5))),
    "pinv": (jnp.linalg.pinv, rand((3, 3, 4))),
    "lstsq_x": (lambda a: jnp.linalg.lstsq(a, np.ones(4))[0], rand((3, 4, 2))),
}


@pytest.mark.parametrize("name", list(VMAP_CASES))
def test_vmap_matches_loop(name):
    fn, a = VMAP_CASES[name]
    got = jaxlite.tree_util.tree_leaves(jaxlite.vmap(fn)(a))
    for i in range(a.shape[0]):
        want = jaxlite.tree_util.tree_leaves(fn(a[i]))
        for g, w in zip(got, want):
            np.testing.assert_allclose(f64(g)[i], f64(w), atol=1e-12)


# ------------------------------------------------------------------------------------------
# Derivatives (smooth points: distinct eigenvalues / singular values)
# ------------------------------------------------------------------------------------------


def eigh_sign_free(a):
    w, v = jnp.linalg.eigh(a)
    return w, v * v


def svd_sign_free(a):
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    return u * u, s, vh * vh


def svd_coupled(a):
    # u_i v_i^T fixes the sign coupling between U and Vh
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    return jnp.einsum("ik,kj->kij", u, vh)


GRAD_CASES = {
    "eigh_3": (eigh_sign_free, (sym((3, 3)),), 1),
    "eigh_batch": (eigh_sign_free, (sym((2, 4, 4), seed=1),), 1),
    "eigvalsh_2nd": (jnp.linalg.eigvalsh, (sym((3, 3), seed=2),), 2),
    "eigh_upper": (
        lambda a: jnp.linalg.eigh(a, UPLO="U", symmetrize_input=False)[0],
        (rand((3, 3)),),
        1,
    ),  # fmt: skip
    "svd_square": (svd_sign_free, (rand((3, 3)),), 1),
    "svd_tall": (svd_sign_free, (rand((5, 3)),), 1),
    "svd_wide": (svd_sign_free, (rand((2, 4)),), 1),
    "svd_coupled": (svd_coupled, (rand((4, 3), seed=4),), 1),
    "svdvals_2nd": (jnp.linalg.svdvals, (rand((4, 3), seed=5),), 2),
    "svd_full_square": (lambda a: jnp.linalg.svd(a)[1], (rand((3, 3)),), 1),
    "pinv_tall": (jnp.linalg.pinv, (rand((4, 2)),), 1),
    "pinv_wide_2nd": (jnp.linalg.pinv, (rand((2, 3)),), 2),
    "lstsq": (lambda a, b: jnp.linalg.lstsq(a, b)[0], (rand((5, 3)), rand(5, seed=1)), 1),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradients(name):
    fn, args, order = GRAD_CASES[name]
    check_grads(fn, args, order=order, modes=("fwd", "rev"))


def test_grad_under_jit_and_vmap():
    a = sym((3, 4, 4), seed=6)

    def loss(x):
        w, v = jnp.linalg.eigh(x)
        return jnp.sum(w * w) + jnp.sum(jnp.linalg.svdvals(x))

    g = jaxlite.grad(loss)
    want = np.stack([f64(g(a[i])) for i in range(3)])
    np.testing.assert_allclose(f64(jaxlite.vmap(g)(a)), want, atol=1e-10)
    np.testing.assert_allclose(f64(jaxlite.jit(jaxlite.vmap(g))(a)), want, atol=1e-10)
    # d(sum w^2)/da = 2a for symmetric a; d(sum s)/da = U Vh
    u, _, vh = np.linalg.svd(a[0])
    np.testing.assert_allclose(want[0], 2 * a[0] + u @ vh, atol=1e-10)


def test_full_svd_derivative_of_non_square_raises():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        jaxlite.jvp(lambda a: jnp.linalg.svd(a)[0], (rand((3, 2)),), (rand((3, 2)),))
