"""Linear algebra on complex numbers (issue 21): the `eig` primitive (lax.linalg.eig,
jnp.linalg.eig/eigvals) and complex inputs to every jnp.linalg / scipy.linalg decomposition and
solver, against JAX (values, or invariants where phases and orders may differ), finite
differences (check_grads at order 2), JAX's gradients of real-valued functions, jit, vmap and
x64 off; and complex values through sort, scatter/gather and the control-flow primitives under
jit and grad."""

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.test_util import check_grads

jax = pytest.importorskip("jax")
jxn = jax.numpy
jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(7)


def _c(*shape, rng=RNG):
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


A = _c(4, 4)
H = A @ A.conj().T + 4 * np.eye(4)  # Hermitian positive definite
B = _c(4, 2)
TALL, WIDE = _c(5, 3), _c(3, 5)


def _close(got, want, tol=1e-9):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)


def _both(fn, *args):
    """`fn(L, *args)` for jaxlite and JAX."""

    class _L:
        pass

    return fn(jaxlite, *args), fn(jax, *args)


# ------------------------------------------------------------------------------------------
# eig
# ------------------------------------------------------------------------------------------


def _eig_props(a, w, vl, vr, tol):
    a, w, vl, vr = (np.asarray(x) for x in (a, w, vl, vr))
    _close(a @ vr, vr * w[..., None, :], tol)  # A v = w v
    _close(
        np.conj(np.swapaxes(vl, -1, -2)) @ a,
        w[..., :, None] * np.conj(np.swapaxes(vl, -1, -2)),
        tol,
    )
    for v in (vl, vr):
        _close(np.linalg.norm(v, axis=-2), np.ones(v.shape[:-1]), tol)
        k = np.argmax(np.abs(v), axis=-2)
        big = np.take_along_axis(v, k[..., None, :], axis=-2)
        _close(big.imag, np.zeros(big.shape), tol)  # geev: largest component real


@pytest.mark.parametrize("x", [RNG.normal(size=(2, 4, 4)), _c(2, 4, 4)], ids=["real", "complex"])
def test_eig_eager_jit_and_jax(x):
    w, vl, vr = lax.linalg.eig(x)
    assert w.dtype == vl.dtype == vr.dtype == np.complex128
    _eig_props(x, w, vl, vr, 1e-10)
    wj, vlj, vrj = jaxlite.jit(lax.linalg.eig)(x)
    _close(wj, w, 1e-12)
    _close(vrj, vr, 1e-12)
    _close(vlj, vl, 1e-12)
    want = jax.lax.linalg.eig(x)[0]
    _close(np.sort_complex(np.asarray(w).ravel()), np.sort_complex(np.asarray(want).ravel()), 1e-10)
    wn, vn = jnp.linalg.eig(x)
    _close(wn, w, 0)
    _close(vn, vr, 0)
    _close(jnp.linalg.eigvals(x), w, 0)


def test_eig_flags_shapes_and_float32():
    x = RNG.normal(size=(3, 3))
    outs = lax.linalg.eig(x, compute_left_eigenvectors=False, compute_right_eigenvectors=False)
    assert len(outs) == 1 and outs[0].shape == (3,)
    assert len(lax.linalg.eig(x, compute_left_eigenvectors=False)) == 2
    with jaxlite.enable_x64(False):
        w, v = jnp.linalg.eig(jnp.asarray(x, np.float32))
        assert w.dtype == v.dtype == np.complex64
        _close(np.asarray(x) @ np.asarray(v), np.asarray(v) * np.asarray(w), 1e-5)
        assert jaxlite.jit(jnp.linalg.eigvals)(jnp.asarray(x, np.float32)).dtype == np.complex64
        assert jnp.linalg.eigvals(jnp.asarray([[1, 2], [3, 4]])).dtype == np.complex64
    empty = jnp.linalg.eig(np.zeros((2, 0, 0)))
    assert empty[0].shape == (2, 0) and empty[1].shape == (2, 0, 0)
    nan = jnp.linalg.eigvals(np.array([[np.nan, 1.0], [0.0, 1.0]]))
    assert np.isnan(np.asarray(nan)).all()


def test_eig_vmap_matches_a_loop():
    x = _c(3, 3, 3)
    got = jaxlite.vmap(jnp.linalg.eig)(x)
    for i in range(3):
        w, v = jnp.linalg.eig(x[i])
        _close(got[0][i], w, 1e-12)
        _close(got[1][i], v, 1e-12)
    got = jaxlite.vmap(lambda m: lax.linalg.eig(m), in_axes=1)(x)
    _close(got[0][1], lax.linalg.eig(x[:, 1])[0], 1e-12)


def test_eig_bad_input():
    with pytest.raises(ValueError, match="square"):
        lax.linalg.eig(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="float32, float64, complex64 or complex128"):
        lax.linalg.eig(np.zeros((2, 2), np.int32))
    with pytest.raises(jnp.linalg.LinAlgError, match="square"):
        jnp.linalg.eig(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="lapack"):
        lax.linalg.eig(np.eye(2), implementation="magma")


@pytest.mark.parametrize("x", [RNG.normal(size=(3, 3)), _c(3, 3)], ids=["real", "complex"])
def test_eig_derivatives(x):
    # NB: JAX's second derivative of eigvals needs eigenvector derivatives, so it raises unless
    # enable_eigvec_derivs (the first line below); jaxlite's rule is the same.
    check_grads(jnp.linalg.eigvals, (x,), order=1)
    # order 2 on complex inputs (real ones: order 1, as their tangents take the same path)
    order = 2 if x.dtype.kind == "c" else 1
    check_grads(lambda a: lax.linalg.eig(a, enable_eigvec_derivs=True), (x,), order=order,
                rtol=1e-4, atol=1e-4)  # fmt: skip
    check_grads(lambda a: lax.linalg.eig(a, compute_left_eigenvectors=False,
                                         enable_eigvec_derivs=True)[1], (x,), order=1)  # fmt: skip

    def f(L, a):  # real-valued, phase-invariant
        w, v = L.lax.linalg.eig(a, compute_left_eigenvectors=False, enable_eigvec_derivs=True)
        return L.numpy.sum(w.real**2 - w.imag) + L.numpy.sum(
            L.numpy.abs(v) ** 2 * L.numpy.arange(3)
        )

    got, want = jaxlite.grad(lambda a: f(jaxlite, a))(x), jax.grad(lambda a: f(jax, a))(x)
    _close(got, want, 1e-8)
    with pytest.raises(NotImplementedError, match="enable_eigvec_derivs"):
        jaxlite.grad(lambda a: jnp.sum(jnp.abs(jnp.linalg.eig(a)[1])))(x)


# ------------------------------------------------------------------------------------------
# Every linalg function on complex inputs: values against JAX
# ------------------------------------------------------------------------------------------

# (name, function of the library L and the inputs, inputs): outputs invariant to the phases of
# singular/eigen vectors (JAX's come from LAPACK, ours from Jacobi rotations).
CASES = [
    ("det", lambda L, a: L.numpy.linalg.det(a), (A,)),
    ("slogdet", lambda L, a: tuple(L.numpy.linalg.slogdet(a)), (A,)),
    ("solve", lambda L, a, b: L.numpy.linalg.solve(a, b), (A, B)),
    ("inv", lambda L, a: L.numpy.linalg.inv(a), (A,)),
    ("matrix_power", lambda L, a: L.numpy.linalg.matrix_power(a, -2), (A,)),
    ("cholesky", lambda L, a: L.numpy.linalg.cholesky(a), (H,)),
    ("cholesky_upper", lambda L, a: L.numpy.linalg.cholesky(a, upper=True), (H,)),
    (
        "eigh",
        lambda L, a: (L.numpy.linalg.eigh(a)[0], L.numpy.abs(L.numpy.linalg.eigh(a)[1])),
        (H,),
    ),
    ("eigvalsh", lambda L, a: L.numpy.linalg.eigvalsh(a, UPLO="U"), (H,)),
    (
        "svd",
        lambda L, a: (lambda u, s, vh: (L.numpy.abs(u), s, L.numpy.abs(vh), (u * s) @ vh))(
            *L.numpy.linalg.svd(a, full_matrices=False)
        ),
        (TALL,),
    ),  # fmt: skip
    (
        "svd_wide",
        lambda L, a: (lambda u, s, vh: (L.numpy.abs(u), s, (u * s) @ vh))(
            *L.numpy.linalg.svd(a, full_matrices=False)
        ),
        (WIDE,),
    ),  # fmt: skip
    ("svdvals", lambda L, a: L.numpy.linalg.svdvals(a), (A,)),
    ("qr", lambda L, a: tuple(L.numpy.linalg.qr(a)), (TALL,)),
    ("qr_complete", lambda L, a: tuple(L.numpy.linalg.qr(a, mode="complete")), (WIDE,)),
    ("pinv", lambda L, a: L.numpy.linalg.pinv(a), (TALL,)),
    ("lstsq", lambda L, a, b: L.numpy.linalg.lstsq(a, b)[:2], (TALL, TALL[:, :2])),
    ("matrix_rank", lambda L, a: L.numpy.linalg.matrix_rank(a), (TALL @ WIDE[:, :3].T,)),
    (
        "norms",
        lambda L, a: tuple(
            L.numpy.linalg.norm(a, o) for o in (None, 1, -1, 2, -2, "nuc", np.inf, "fro")
        ),
        (TALL,),
    ),  # fmt: skip
    ("vector_norm", lambda L, a: L.numpy.linalg.vector_norm(a, ord=3, axis=0), (TALL,)),
    ("lu", lambda L, a: tuple(L.scipy.linalg.lu(a)), (A,)),
    (
        "lu_solve",
        lambda L, a, b: tuple(
            L.scipy.linalg.lu_solve(L.scipy.linalg.lu_factor(a), b, trans=t) for t in (0, 1, 2)
        ),
        (A, B),
    ),  # fmt: skip
    (
        "solve_triangular",
        lambda L, a, b: tuple(
            L.scipy.linalg.solve_triangular(a + 4 * L.numpy.eye(4), b, trans=t, lower=lo)
            for t in (0, 1, 2)
            for lo in (False, True)
        ),
        (A, B),
    ),  # fmt: skip
    (
        "cho_solve",
        lambda L, a, b: L.scipy.linalg.cho_solve(L.scipy.linalg.cho_factor(a), b),
        (H, B),
    ),  # fmt: skip
    ("scipy_cholesky", lambda L, a: L.scipy.linalg.cholesky(a), (H,)),
    (
        "triangular_solve",
        lambda L, a, b: tuple(
            L.lax.linalg.triangular_solve(
                a + 4 * L.numpy.eye(4), bb, left_side=ls, lower=lo, transpose_a=t, conjugate_a=cj
            )
            for ls, bb in ((True, b), (False, b.T))
            for lo in (False, True)
            for t in (False, True)
            for cj in (False, True)
        ),
        (A, B),
    ),  # fmt: skip
]
IDS = [c[0] for c in CASES]
# Compiled too (each jit costs a C compilation): the functions with their own lowering or loops
# on complex carries (the others are compositions of complex elementwise ops and dots, whose
# lowering tests/test_complex.py covers).
JIT = {"triangular_solve", "lu_solve", "cholesky", "eigh", "svd", "qr", "slogdet"}


@pytest.mark.parametrize("name,fn,args", CASES, ids=IDS)
def test_values_match_jax_eager_and_jit(name, fn, args):
    want = fn(jax, *args)
    got = [fn(jaxlite, *args)]
    if name in JIT:
        got.append(jaxlite.jit(lambda *a: fn(jaxlite, *a))(*args))
    for g in got:
        for a, w in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(want)):
            assert a.dtype == w.dtype, name
            _close(a, w, 1e-9)


def test_complex64_with_x64_off():
    a = A.astype(np.complex64)
    h = H.astype(np.complex64)
    with jaxlite.enable_x64(False):
        w, v = jnp.linalg.eigh(h)
        assert w.dtype == np.float32 and v.dtype == np.complex64
        _close(h @ np.asarray(v), np.asarray(v) * np.asarray(w), 5e-4)
        u, s, vh = jnp.linalg.svd(a)
        assert s.dtype == np.float32 and u.dtype == vh.dtype == np.complex64
        _close((np.asarray(u) * np.asarray(s)) @ np.asarray(vh), a, 5e-5 * 20)
        q, r = jaxlite.jit(jnp.linalg.qr)(a)
        assert q.dtype == np.complex64
        _close(np.asarray(q) @ np.asarray(r), a, 1e-5 * 20)
        for f in (jnp.linalg.det, jnp.linalg.inv, jnp.linalg.cholesky, jnp.linalg.pinv):
            x = h if f is jnp.linalg.cholesky else a
            got = f(x)
            assert got.dtype == np.complex64, f
            _close(got, getattr(jxn.linalg, f.__name__)(x), 2e-3)
        sign, logdet = jnp.linalg.slogdet(a)
        assert sign.dtype == np.complex64 and logdet.dtype == np.float32


# ------------------------------------------------------------------------------------------
# Derivatives: finite differences (order 2) and JAX's gradients of real-valued functions
# ------------------------------------------------------------------------------------------

# Real-valued, phase-invariant functions of complex matrices: grad against JAX's.
GRAD_CASES = [
    ("det", lambda L, a: L.numpy.abs(L.numpy.linalg.det(a)) + L.numpy.linalg.det(a).imag, A),
    (
        "slogdet",
        lambda L, a: (lambda s, ld: ld + s.real * 2 + s.imag)(*L.numpy.linalg.slogdet(a)),
        A,
    ),
    ("inv", lambda L, a: L.numpy.sum(L.numpy.abs(L.numpy.linalg.inv(a)) ** 2), A),
    ("solve", lambda L, a: L.numpy.sum(L.numpy.linalg.solve(a, B).real), A),
    (
        "cholesky",
        lambda L, a: L.numpy.sum(
            L.numpy.linalg.cholesky(a).imag + L.numpy.abs(L.numpy.linalg.cholesky(a)) ** 2
        ),
        H,
    ),  # fmt: skip
    (
        "eigh",
        lambda L, a: (
            lambda w, v: (
                L.numpy.sum(w * L.numpy.arange(4))
                + L.numpy.sum(L.numpy.abs(v[0]) ** 2 * L.numpy.arange(4))
            )
        )(*L.numpy.linalg.eigh(a)),
        H,
    ),  # fmt: skip
    (
        "svd",
        lambda L, a: (
            lambda u, s, vh: (
                L.numpy.sum(s**2 * L.numpy.arange(3))
                + L.numpy.sum(L.numpy.abs(u[:2]) * L.numpy.arange(3))
                + L.numpy.sum((u * s) @ vh).real
            )
        )(*L.numpy.linalg.svd(a, full_matrices=False)),
        TALL,
    ),  # fmt: skip
    (
        "svd_wide",
        lambda L, a: (lambda u, s, vh: L.numpy.sum(L.numpy.abs(vh[:, :2]) ** 2 * s[:, None]))(
            *L.numpy.linalg.svd(a, full_matrices=False)
        ),
        WIDE,
    ),  # fmt: skip
    (
        "qr",
        lambda L, a: (
            lambda q, r: L.numpy.sum(q.real * L.numpy.arange(3)) + L.numpy.sum(r.imag**2)
        )(*L.numpy.linalg.qr(a)),
        TALL,
    ),  # fmt: skip
    ("pinv", lambda L, a: L.numpy.sum(L.numpy.abs(L.numpy.linalg.pinv(a))), TALL),
    (
        "lstsq",
        lambda L, a: L.numpy.sum(L.numpy.abs(L.numpy.linalg.lstsq(a, B[:, :1] + 1)[0])),
        _c(4, 3),
    ),
    ("norm2", lambda L, a: L.numpy.linalg.norm(a, 2) + L.numpy.linalg.norm(a, "nuc"), TALL),
    (
        "lu",
        lambda L, a: (lambda p, lo, u: L.numpy.sum(L.numpy.abs(lo) + u.real))(
            *L.scipy.linalg.lu(a)
        ),
        A,
    ),
    (
        "tri_solve",
        lambda L, a: L.numpy.sum(
            L.numpy.abs(
                L.lax.linalg.triangular_solve(
                    a + 4 * L.numpy.eye(4),
                    B,
                    left_side=True,
                    lower=True,
                    transpose_a=True,
                    conjugate_a=True,
                )
            )
        ),
        A,
    ),  # fmt: skip
]


@pytest.mark.parametrize("name,fn,x", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_grad_of_real_function_matches_jax(name, fn, x):
    got = jaxlite.grad(lambda a: fn(jaxlite, a))(x)
    want = jax.grad(lambda a: fn(jax, a))(x)
    assert got.dtype == want.dtype
    _close(got, want, 1e-7)


SMALL = _c(3, 3, rng=np.random.default_rng(3))
SMALL_H = SMALL @ SMALL.conj().T + 3 * np.eye(3)


@pytest.mark.parametrize(
    "name,f,x",
    [
        ("det", jnp.linalg.det, SMALL),
        ("inv", jnp.linalg.inv, SMALL),
        ("cholesky", jnp.linalg.cholesky, SMALL_H),
        ("eigh", lambda a: (lambda w, v: (w, jnp.abs(v)))(*jnp.linalg.eigh(a)), SMALL_H),
        ("svd", lambda a: (lambda u, s, vh: (s, u @ vh, jnp.abs(u)))(*jnp.linalg.svd(a)), SMALL),
        ("qr", jnp.linalg.qr, SMALL[:, :2]),
        ("pinv", jnp.linalg.pinv, SMALL[:, :2]),
        (
            "tri_solve",
            lambda a: lax.linalg.triangular_solve(
                a + 3 * jnp.eye(3), a, lower=True, transpose_a=True, conjugate_a=True
            ),
            SMALL,
        ),  # fmt: skip
    ],
)
def test_check_grads_order_2(name, f, x):
    check_grads(f, (x,), order=2)


def test_vmap_matches_a_loop():
    xs = _c(3, 4, 3)
    fns = {
        "svd": lambda a: (lambda u, s, vh: (s, (u * s) @ vh))(
            *jnp.linalg.svd(a, full_matrices=False)
        ),
        "qr": lambda a: tuple(jnp.linalg.qr(a)),
        "pinv": jnp.linalg.pinv,
        "eigh": lambda a: jnp.linalg.eigvalsh(a @ a.conj().T),
        "slogdet": lambda a: tuple(jnp.linalg.slogdet(a[:3])),
        "tri": lambda a: lax.linalg.triangular_solve(
            a[:3] + 3, a, conjugate_a=True, transpose_a=True
        ),
    }
    for name, f in fns.items():
        got = jaxlite.vmap(f)(xs)
        for i in range(xs.shape[0]):
            for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(f(xs[i]))):
                np.testing.assert_allclose(
                    np.asarray(g)[i], w, rtol=1e-10, atol=1e-10, err_msg=name
                )


# ------------------------------------------------------------------------------------------
# Complex through sort, scatter/gather and control flow (jit and grad against JAX)
# ------------------------------------------------------------------------------------------

Z = np.array([1 + 2j, 1 - 1j, -3 + 0j, 1 + 2j, 0 + 5j, -3 - 1j, np.nan + 0j, 2 + np.nan * 1j])


@pytest.mark.parametrize("jit", [False, True])
def test_sort_argsort_lexsort_of_complex(jit):
    wrap = jaxlite.jit if jit else (lambda f: f)
    _close(wrap(jnp.sort)(Z), jxn.sort(Z), 0)
    np.testing.assert_array_equal(wrap(jnp.argsort)(Z), jxn.argsort(Z))
    np.testing.assert_array_equal(wrap(lambda z: jnp.argsort(z, descending=True))(Z),
                                  jxn.argsort(Z, descending=True))  # fmt: skip
    keys = (Z[:6], Z[::-1][:6])
    np.testing.assert_array_equal(wrap(jnp.lexsort)(keys), jxn.lexsort(keys))
    z2 = Z[:6].reshape(2, 3)
    _close(wrap(lambda z: jnp.sort(z, axis=0))(z2), jxn.sort(z2, axis=0), 0)
    f = lambda L, z: L.numpy.sum(L.numpy.abs(L.numpy.sort(z)) * L.numpy.arange(4))  # noqa: E731
    _close(
        jaxlite.grad(lambda z: f(jaxlite, z))(Z[:4]), jax.grad(lambda z: f(jax, z))(Z[:4]), 1e-12
    )


def _scatter_fn(L, x, u):
    x, u = L.numpy.asarray(x), L.numpy.asarray(u)
    i = L.numpy.array([0, 2, 2])
    j = L.numpy.array([0, 3, 2])
    y = x.at[i].add(u) + x.at[1].set(u[0]) * x.at[j].multiply(u, unique_indices=True)
    return y[L.numpy.array([3, 0, 1])], y.at[1:3].get()


def test_scatter_gather_of_complex():
    x, u = _c(4), _c(3)
    want = _scatter_fn(jax, x, u)
    for got in (
        _scatter_fn(jaxlite, x, u),
        jaxlite.jit(lambda a, b: _scatter_fn(jaxlite, a, b))(x, u),
    ):
        for g, w in zip(got, want):
            _close(g, w, 1e-12)

    def loss(L, x, u):
        return sum(L.numpy.sum(L.numpy.abs(y) ** 2) for y in _scatter_fn(L, x, u))

    got = jaxlite.jit(jaxlite.grad(lambda a, b: loss(jaxlite, a, b), argnums=(0, 1)))(x, u)
    want = jax.grad(lambda a, b: loss(jax, a, b), argnums=(0, 1))(x, u)
    for g, w in zip(got, want):
        _close(g, w, 1e-10)
    check_grads(lambda a, b: _scatter_fn(jaxlite, a, b), (x, u), order=1)


def _flows(L, x):
    lax_ = L.lax
    c = lax_.cond(x[0].real > 0, lambda v: v * v, lambda v: L.numpy.conj(v), x)
    s, ys = lax_.scan(lambda c, y: (c * y + 1j, c.real * y), x, L.numpy.stack([x, x * 2]))
    w = lax_.while_loop(lambda cv: cv[0] < 3, lambda cv: (cv[0] + 1, cv[1] * x + 0.5j), (0, x))[1]
    f = lax_.fori_loop(0, 3, lambda i, v: v * x - 1j * v, x)
    return c, s, ys, w, f


def test_control_flow_with_complex_carries():
    x = _c(3)
    want = _flows(jax, x)
    for got in (_flows(jaxlite, x), jaxlite.jit(lambda a: _flows(jaxlite, a))(x)):
        for g, w in zip(got, want):
            _close(g, w, 1e-10)

    def loss(L, x):  # without the while_loop (reverse mode does not apply, as in JAX)
        return sum(
            L.numpy.sum(L.numpy.abs(y) ** 2 + y.imag) for y in _flows(L, x)[:3] + _flows(L, x)[4:]
        )

    t = _c(3)
    got = jaxlite.jvp(lambda a: _flows(jaxlite, a), (x,), (t,))
    want = jax.jvp(lambda a: _flows(jax, a), (x,), (t,))
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        _close(g, w, 1e-9)

    for grad in (jaxlite.grad, lambda f: jaxlite.jit(jaxlite.grad(f))):
        _close(grad(lambda a: loss(jaxlite, a))(x), jax.grad(lambda a: loss(jax, a))(x), 1e-9)
    # finite differences at order 2 through scan (the other loops: against JAX's above)
    check_grads(lambda a: _flows(jaxlite, a)[1], (x,), order=2)
