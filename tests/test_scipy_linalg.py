"""jaxlite.scipy.linalg against SciPy (values, pivots, conventions), the triangular_solve
primitive's rules (jvp/transpose by finite differences, vmap against a loop, C against NumPy),
jit against eager, and bad input; plus scipy.integrate.trapezoid.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg as sl

import jaxlite
import jaxlite.numpy as jnp
import jaxlite.scipy.integrate as jsi
import jaxlite.scipy.linalg as jsl
from jaxlite.primitives._linalg import triangular_solve
from jaxlite.test_util import check_grads

TOL = {np.float64: 1e-10, np.float32: 2e-4}


def rand(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def spd(n, seed=0, dtype=np.float64, batch=()):
    a = rand(batch + (n, n), seed)
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def close(x, y, dtype=np.float64):
    np.testing.assert_allclose(np.asarray(x), y, rtol=TOL[dtype], atol=TOL[dtype])


# ------------------------------------------------------------------------------------------
# triangular_solve: every parameter combination, eager and C, vmap and derivatives
# ------------------------------------------------------------------------------------------

COMBOS = [
    dict(left_side=s, lower=lo, transpose_a=t, unit_diagonal=u)
    for s in (True, False) for lo in (True, False) for t in (True, False) for u in (True, False)
]  # fmt: skip


def _reference(a, b, left_side, lower, transpose_a, unit_diagonal):
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        t = t - t * np.eye(a.shape[-1]) + np.eye(a.shape[-1])
    if transpose_a:
        t = np.swapaxes(t, -1, -2)
    if left_side:
        return np.linalg.solve(t, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


def _operands(left_side, batch=(2,), dtype=np.float64):
    a = (rand(batch + (4, 4), 1) + 4 * np.eye(4)).astype(dtype)
    b = rand(batch + ((4, 3) if left_side else (3, 4)), 2, dtype)
    return a, b


@pytest.mark.parametrize("kw", COMBOS, ids=lambda k: "-".join(f"{v:d}" for v in k.values()))
def test_triangular_solve_eager_vmap(kw):
    a, b = _operands(kw["left_side"])
    ref = _reference(a, b, **kw)
    close(triangular_solve(a, b, **kw), ref)
    close(jaxlite.vmap(lambda a, b: triangular_solve(a, b, **kw))(a, b), ref)
    close(jaxlite.vmap(lambda b: triangular_solve(a[0], b, **kw))(b), _reference(a[0], b, **kw))


def test_triangular_solve_c_kernel_every_combination():
    # One compiled function (one C compile) solving with every combination of parameters.
    ops = [_operands(kw["left_side"]) for kw in COMBOS]
    f = jaxlite.jit(lambda ops: [triangular_solve(a, b, **kw) for (a, b), kw in zip(ops, COMBOS)])
    for got, (a, b), kw in zip(f(ops), ops, COMBOS):
        close(got, _reference(a, b, **kw))


@pytest.mark.parametrize("kw", COMBOS[::3], ids=lambda k: "-".join(f"{v:d}" for v in k.values()))
def test_triangular_solve_grads(kw):
    a, b = _operands(kw["left_side"], batch=())
    check_grads(lambda a, b: triangular_solve(a, b, **kw), (a, b), order=2)


def test_triangular_solve_float32_and_jit_grad():
    a, b = _operands(True, dtype=np.float32)
    kw = dict(left_side=True, lower=True)
    close(jaxlite.jit(lambda a, b: triangular_solve(a, b, **kw))(a, b),
          _reference(a, b, **kw, transpose_a=False, unit_diagonal=False), np.float32)  # fmt: skip
    g = jaxlite.jit(jaxlite.grad(lambda a, b: jnp.sum(triangular_solve(a, b, **kw) ** 2), (0, 1)))
    ge = jaxlite.grad(lambda a, b: jnp.sum(triangular_solve(a, b, **kw) ** 2), (0, 1))
    for x, y in zip(g(a, b), ge(a, b)):
        np.testing.assert_allclose(x, y, rtol=1e-4)


def test_triangular_solve_bad_shapes():
    with pytest.raises(TypeError, match="triangular_solve"):
        triangular_solve(np.eye(3), np.ones((4, 2)), left_side=True)
    with pytest.raises(TypeError, match="same floating-point dtype"):
        triangular_solve(np.eye(3), np.ones((3, 2), np.float32), left_side=True)


# ------------------------------------------------------------------------------------------
# The scipy faces against SciPy
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_cho_solve(dtype, lower):
    a, b = spd(4, dtype=dtype), rand((4, 2), 3, dtype)
    close(jsl.cholesky(a, lower=lower), sl.cholesky(a, lower=lower), dtype)
    c = jsl.cho_factor(a, lower=lower)
    assert c[1] is lower
    close(jsl.cho_solve(c, b), sl.cho_solve(sl.cho_factor(a, lower=lower), b), dtype)
    close(jsl.cho_solve(c, b[:, 0]), np.linalg.solve(a, b[:, 0]), dtype)


def test_cholesky_reads_one_triangle():
    a = spd(3)
    junk = a + np.triu(np.ones((3, 3)), 1) * 7  # the upper triangle is not symmetric
    close(jsl.cholesky(junk, lower=True), sl.cholesky(junk, lower=True))


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T"])
@pytest.mark.parametrize("lower", [False, True])
def test_solve_triangular(trans, lower):
    a, b = rand((4, 4), 1) + 4 * np.eye(4), rand((4, 2), 2)
    ref = sl.solve_triangular(a, b, trans=trans, lower=lower)
    close(jsl.solve_triangular(a, b, trans=trans, lower=lower), ref)
    close(jsl.solve_triangular(a, b[:, 1], trans=trans, lower=lower), ref[:, 1])
    ref = sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=True)
    close(jsl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=True), ref)


def test_solve_triangular_broadcasts_batches_and_promotes():
    a = rand((4, 4), 1) + 4 * np.eye(4)
    b = np.arange(24).reshape(3, 4, 2)  # int: promoted
    out = jsl.solve_triangular(a, b, lower=True)
    assert out.dtype == np.float64 and out.shape == (3, 4, 2)
    close(out, np.stack([sl.solve_triangular(a, x, lower=True) for x in b]))


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (1, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lu_and_lu_factor(shape, dtype):
    a = rand(shape, 4, dtype)
    for x, y in zip(jsl.lu(a), sl.lu(a)):
        close(x, y, dtype)
    pl, u = jsl.lu(a, permute_l=True)
    close(pl, sl.lu(a, permute_l=True)[0], dtype)
    lu, piv = jsl.lu_factor(a)
    lu_ref, piv_ref = sl.lu_factor(a)
    close(lu, lu_ref, dtype)
    assert piv.dtype == np.int32 and np.array_equal(piv, piv_ref)


def test_lu_batched_and_singular():
    a = rand((3, 4, 4), 5)
    p, low, u = jsl.lu(a)
    close(p @ low @ u, a)
    lu, piv = jsl.lu_factor(np.zeros((3, 3)))  # no pivot anywhere: LAPACK keeps the rows
    assert np.array_equal(piv, [0, 1, 2])


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_solve(trans):
    a, b = rand((4, 4), 6), rand((4, 3), 7)
    ref = sl.lu_solve(sl.lu_factor(a), b, trans=trans)
    close(jsl.lu_solve(jsl.lu_factor(a), b, trans=trans), ref)
    close(jsl.lu_solve(jsl.lu_factor(a), b[:, 0], trans=trans), ref[:, 0])


def test_faces_of_jnp_linalg():
    a, s, b = rand((4, 4), 8), spd(4, 9), rand((4, 2), 10)
    close(jsl.det(a), np.linalg.det(a))
    close(jsl.inv(a), np.linalg.inv(a))
    close(jsl.solve(a, b), np.linalg.solve(a, b))
    close(jsl.solve(s, b, assume_a="pos"), np.linalg.solve(s, b))
    close(jsl.solve(s, b, assume_a="pos", lower=True), np.linalg.solve(s, b))
    w, v = jsl.eigh(s)
    close(w, sl.eigh(s)[0])
    close(v @ np.diag(w) @ v.T, s)
    close(jsl.eigh(s, eigvals_only=True, subset_by_index=(1, 2)), sl.eigh(s)[0][1:3])
    close(jsl.svd(a, compute_uv=False), sl.svd(a, compute_uv=False))
    t = rand((5, 3), 11)
    q, r = jsl.qr(t)
    assert q.shape == (5, 5) and r.shape == (5, 3)
    close(q @ r, t)
    q, r = jsl.qr(t, mode="economic")
    assert q.shape == (5, 3) and r.shape == (3, 3)
    (r,) = jsl.qr(t, mode="r")
    close(np.abs(r), np.abs(sl.qr(t, mode="r")[0]))


@pytest.mark.parametrize("scale", [0.001, 0.1, 0.7, 1.5, 4.0, 40.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_expm(scale, dtype):
    a = rand((4, 4), 12)
    a = a * scale / np.abs(a).sum(0).max()  # 1-norm `scale`: every Pade order, and squarings
    ref = sl.expm(a.astype(np.float64))
    got = np.asarray(jsl.expm(a.astype(dtype)), np.float64)
    np.testing.assert_allclose(
        got, ref, rtol=TOL[dtype] * 50, atol=TOL[dtype] * 50 * abs(ref).max()
    )


def test_expm_batched_max_squarings_and_grad():
    a = rand((3, 3, 3), 13)
    close(jsl.expm(a), np.stack([sl.expm(x) for x in a]))
    close(jaxlite.vmap(jsl.expm)(a), np.stack([sl.expm(x) for x in a]))
    assert np.isnan(np.asarray(jsl.expm(a[0] * 1e4, max_squarings=4))).all()
    check_grads(jsl.expm, (a[0] * 0.5,), order=1)


def test_block_diag():
    args = (np.ones((1, 1)), 2 * np.ones((2, 3)), 3.0, np.arange(2))
    got = jsl.block_diag(*args)
    close(got, sl.block_diag(*args))
    assert got.dtype == np.float64
    assert jsl.block_diag().shape == (1, 0)
    with pytest.raises(ValueError, match="at most 2-D"):
        jsl.block_diag(np.ones((2, 2, 2)))


def test_grads_of_compositions():
    a, s, b = rand((3, 3), 14) + 3 * np.eye(3), spd(3, 15), rand((3, 2), 16)
    check_grads(lambda a: jsl.lu(a)[2], (a,), order=2)
    check_grads(lambda a, b: jsl.lu_solve(jsl.lu_factor(a), b), (a, b), order=2)
    check_grads(lambda s, b: jsl.cho_solve(jsl.cho_factor(s), b), (s, b), order=2)
    check_grads(lambda a, b: jsl.solve_triangular(a, b, trans=1), (a, b), order=2)


def test_jit_matches_eager():
    a, b = rand((3, 3), 17) + 3 * np.eye(3), rand((3, 2), 18)

    def f(a, b):
        return (jsl.expm(a * 0.3), jsl.lu_solve(jsl.lu_factor(a), b), jsl.lu(a)[1],
                jsl.cho_solve(jsl.cho_factor(a @ a.T + 3 * jnp.eye(3)), b))  # fmt: skip

    for x, y in zip(jaxlite.jit(f)(a, b), f(a, b)):
        close(x, y)


def test_bad_input():
    with pytest.raises(ValueError, match="square"):
        jsl.cholesky(np.ones((2, 3)))
    with pytest.raises(ValueError, match="trans"):
        jsl.solve_triangular(np.eye(2), np.ones(2), trans=3)
    with pytest.raises(ValueError, match="rows"):
        jsl.solve_triangular(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="mode"):
        jsl.qr(np.eye(2), mode="raw")
    with pytest.raises(NotImplementedError, match="b=None"):
        jsl.eigh(np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="assume_a"):
        jsl.solve(np.eye(2), np.ones(2), assume_a="banded")


# ------------------------------------------------------------------------------------------
# scipy.integrate.trapezoid
# ------------------------------------------------------------------------------------------


def test_trapezoid():
    y, x = rand((3, 5), 19), np.sort(rand((5,), 20))
    close(jsi.trapezoid(y), scipy.integrate.trapezoid(y))
    close(jsi.trapezoid(y, x), scipy.integrate.trapezoid(y, x))
    close(jsi.trapezoid(y, dx=0.3, axis=0), scipy.integrate.trapezoid(y, dx=0.3, axis=0))
    check_grads(lambda y: jsi.trapezoid(y, x), (y,), order=2)
