"""Oracle specs of linear algebra on complex numbers (issue 21): eig (lax.linalg.eig,
jnp.linalg.eig/eigvals), lax.linalg.triangular_solve, and (`EXTRA_DTYPES`) complex64/complex128
added to the jnp.linalg names of specs.py that JAX defines on complex matrices.

Eigenvalues are compared sorted (lexicographically, as jnp.sort orders complex numbers) and
eigenvectors as moduli in that order: their order and phases come from LAPACK's geev in both
libraries, but through different calls (NumPy's here, XLA's custom call in JAX)."""

from __future__ import annotations

from .harness import COMPLEX, FLOATS, Call, Spec

M = [((2, 3, 3),), ((3, 3),)]
_lin = dict(dtypes=("int32",) + FLOATS + COMPLEX, diff=True, tol=1e4)


def _sorted_eig(L, w, *vs):
    """Eigenvalues sorted, and the moduli of the eigenvectors' components in that order."""
    order = L.numpy.argsort(w, axis=-1)
    ws = L.numpy.take_along_axis(w, order, axis=-1)
    cols = [L.numpy.take_along_axis(L.numpy.abs(v), order[..., None, :], axis=-1) for v in vs]
    return (ws, *cols)


def _tri(L, a):
    """`a` (square) with a dominant diagonal (well-conditioned triangles)."""
    return a + 8 * L.numpy.eye(a.shape[-1], dtype=a.dtype)


SPECS = {
    "numpy.linalg.eig": Spec([Call(lambda f, L, a: _sorted_eig(L, *f(a)), M)], **_lin),
    "numpy.linalg.eigvals": Spec([Call(lambda f, L, a: L.numpy.sort(f(a)), M)], **_lin),
    "lax.linalg.eig": Spec(
        [
            Call(lambda f, L, a: _sorted_eig(L, *f(a, enable_eigvec_derivs=True)), M),
            Call(
                lambda f, L, a: _sorted_eig(
                    L, *f(a, compute_left_eigenvectors=False, compute_right_eigenvectors=False)
                ),
                [((3, 3),)],
            ),
        ],
        dtypes=FLOATS + COMPLEX,
        diff=True,
        tol=1e4,
    ),
    "lax.linalg.triangular_solve": Spec(
        [
            Call(
                lambda f, L, a, b: f(_tri(L, a), b, left_side=True, lower=True),
                [((2, 3, 3), (2, 3, 2)), ((3, 3), (3, 4))],
            ),
            Call(
                lambda f, L, a, b: f(_tri(L, a), b, transpose_a=True, conjugate_a=True),
                [((3, 3), (2, 3))],
            ),
            Call(
                lambda f, L, a, b: f(
                    _tri(L, a),
                    b,
                    left_side=True,
                    transpose_a=True,
                    conjugate_a=True,
                    unit_diagonal=True,
                ),
                [((3, 3), (3, 2))],
            ),  # fmt: skip
        ],
        dtypes=FLOATS + COMPLEX,
        diff=True,
        tol=1e4,
    ),
}

# The jnp.linalg names of specs.py on complex inputs too (cholesky is left out: its spec's input,
# a @ a.T + 3 I, is complex symmetric, not Hermitian, and may not be positive definite, where
# the NaN patterns of the two libraries differ; tests/test_complex_linalg.py tests it on
# Hermitian inputs).
_NAMES = """det slogdet inv solve eigh eigvalsh svdvals svd qr pinv lstsq matrix_rank
matrix_power norm matrix_norm vector_norm multi_dot""".split()
EXTRA_DTYPES = {f"numpy.linalg.{n}": COMPLEX for n in _NAMES}
