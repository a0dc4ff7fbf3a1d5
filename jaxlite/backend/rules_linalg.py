"""C lowering of triangular_solve (substitution, row by row, in the output buffer) and of eig (a
host call of its NumPy implementation)."""

from __future__ import annotations

from jaxlite import dtypes
from jaxlite.backend.c_nodes import CTYPE, Leaf
from jaxlite.backend.lower_ctx import register_kernel
from jaxlite.backend.rules_callback import emit_host_call
from jaxlite.primitives._eig import eig_p
from jaxlite.primitives._linalg import triangular_solve_p


def _triangular_solve(
    ctx, eqn, args, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal
):  # fmt: skip
    # Solves t @ X = B, with X(i, k) = out[..., i, k] (left side) or out[..., k, i] (right side:
    # x @ op(a) = b is op(a).T @ x.T = b.T) and t(i, j) read from `a` transposed as needed.
    a, b = ctx.materialize(args[0], "tri_a"), args[1]
    out = ctx.new_output(eqn)
    dt = eqn.outvars[0].aval.dtype
    ctx.write(b, out)  # X starts as B and is overwritten in place
    shape = out.shape
    batch, m = shape[:-2], eqn.invars[0].aval.shape[-1]
    n = shape[-1] if left_side else shape[-2]
    flip = transpose_a != (not left_side)  # t(i, j) = a[j, i]
    eff_lower = lower != flip
    if m == 0 or n == 0 or 0 in batch:
        return [Leaf(out, dt)]
    T = CTYPE[dt]
    # Complex: csrc/jl_complex.h's multiply and divide (not C's `*` and `/`, as elementwise ones).
    conj = conjugate_a and dt.kind == "c"
    sfx = "f" if dt == dtypes.complex64 else ""
    if dt.kind == "c":
        cs = "c64" if dt == dtypes.complex64 else "c128"

        def mul(u, v):
            return f"jl_cmul_{cs}({u}, {v})"

        def div(u, v):
            return f"jl_cdiv_{cs}({u}, {v})"
    else:

        def mul(u, v):
            return f"{u} * {v}"

        def div(u, v):
            return f"{u} / {v}"

    i, j, ii = ctx.fresh("tri_i"), ctx.fresh("tri_j"), ctx.fresh("tri_ii")
    with ctx.loops(batch, prefix="tb") as bidx, ctx.loops((n,), prefix="tk") as (k,):

        def x(r):
            return ctx.at(out, [*bidx, r, k] if left_side else [*bidx, k, r])

        def t(r, c):
            v = ctx.read(a, [*bidx, c, r] if flip else [*bidx, r, c])
            return f"conj{sfx}({v})" if conj else v

        with ctx.block(f"for (int64_t {ii} = 0; {ii} < {m}; {ii}++)"):
            ctx.line(f"const int64_t {i} = {ii if eff_lower else f'{m - 1} - {ii}'};")
            ctx.line(f"{T} acc = {x(i)};")
            lo, hi = ("0", i) if eff_lower else (f"{i} + 1", str(m))
            with ctx.block(f"for (int64_t {j} = {lo}; {j} < {hi}; {j}++)"):
                ctx.line(f"acc -= {mul(t(i, j), x(j))};")
            if not unit_diagonal:
                ctx.line(f"acc = {div('acc', t(i, i))};")
            ctx.line(f"{x(i)} = acc;")
    return [Leaf(out, dt)]


register_kernel(triangular_solve_p, _triangular_solve)


# eig: a call back to the NumPy implementation (LAPACK's geev), as JAX's CPU eig calls LAPACK.
def _eig(ctx, eqn, args, **params):
    impl = eqn.primitive.impl.numpy_impl
    return emit_host_call(ctx, eqn, args, lambda x: impl(x, **params))


register_kernel(eig_p, _eig)
