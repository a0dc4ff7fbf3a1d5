"""A fold of rules_dot: `add(dot_general(a1, b1), dot_general(a2, b2))`, two small products read
only by their sum, as one call of the runtime's `jl_gemm_sum2_*` (csrc/jl_gemm.c), which
accumulates both in one tile's registers: an RNN cell's `h @ Wh + x @ Wx` in a scan body, one
call per step instead of two calls, each with its choice-table lookup, and a pass that adds them.

Taken where both products are float32 or float64 with no batch dimensions, read their operands
in place as row-major matrices (no transposes: A's contracting dimensions last, B's first), and
are small (`MAX_K`, `MAX_MNK`, `MAX_B_BYTES`: the sizes the kernel's single-threaded register
tiles serve, with B in L2). Elsewhere it declines, emitting nothing.
"""

from __future__ import annotations

import math

import numpy as np

from jaxlite import primitives as P
from jaxlite.backend.c_nodes import Leaf, reshape_view, sfx
from jaxlite.backend.rules_layout import transpose_view
from jaxlite.core import Var

MAX_K = 1024  # k1 + k2 at most (csrc/jl_gemm.c: JL_S2_MAXK)
MAX_MNK = 1 << 22  # m n (k1 + k2) at most: below where a product runs on several threads
MAX_B_BYTES = 256 << 10  # (k1 + k2) n elements of B1 and B2 at most: they stay in L2
NBMAX = 64  # csrc/jl_gemm.c: JL_S2_NBMAX, the widest column block in elements


def scratch_elems(k: int) -> int:
    """csrc/jl_gemm.c: JL_S2_SCRATCH(k), the scratch of a sum of products with k1 + k2 = k."""
    return k * NBMAX + 4 * k + 12 * NBMAX


def fold_sum2(ctx, eqns, i, args, lookup, uses):
    """A fold of lower_ctx.FOLDS (for dot_general): the product at `i`, a later product, and the
    add that reads both (each product read only there), as one `jl_gemm_sum2` call; else None."""
    eqn = eqns[i]
    partner = _sum_partner(eqns, i, uses)
    if partner is None:
        return None
    j, g2 = partner
    add = eqns[j]
    i2 = next((q for q in range(i + 1, j) if any(o is g2 for o in eqns[q].outvars)), None)
    if i2 is None or eqns[i2].primitive is not P.dot_general_p:
        return None
    second = [lookup(a) for a in eqns[i2].invars]
    if any(n is None for n in second):
        return None  # its operands are computed later
    out = add.outvars[0].aval
    dt = out.dtype
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        return None
    mats = []
    for e, (lhs, rhs) in ((eqn, args), (eqns[i2], second)):
        mat = _row_major_product(e, lhs, rhs, dt)
        if mat is None or e.outvars[0].aval.shape != out.shape:
            return None
        mats.append(mat)
    (m, n, k1, a1, b1), (m2, n2, k2, a2, b2) = mats
    k = k1 + k2
    if (m, n) != (m2, n2) or m * n == 0 or k > MAX_K or m * n * k > MAX_MNK:
        return None
    if k * n * dt.itemsize > MAX_B_BYTES:
        return None
    dest = ctx.new_output(add)
    ctx.runtime = True
    scratch = ctx.alloc("pack", dt, [scratch_elems(k)]).buf
    ctx.comment(f"{ctx.names.eqn(eqns[i2])}; {ctx.names.eqn(add)} (folded into one call)")
    ctx.touch(a1[0], b1[0], a2[0], b2[0], dest.buf, scratch)
    ctx.line(f"jl_gemm_sum2_{sfx(dt)}({m}, {n}, {k1}, {a1[1]}, {a1[2]}, {b1[1]}, {b1[2]}, "
             f"{k2}, {a2[1]}, {a2[2]}, {b2[1]}, {b2[2]}, {dest.buf}, {n}, {scratch}, "
             f"{scratch_elems(k)});")  # fmt: skip
    return {add.outvars[0]: Leaf(dest, dt)}, {i2, j}


def folds_in_loop(eqns, i: int, uses) -> bool:
    """Whether the product at `eqns[i]` is one of two products read only by their sum, of the
    kinds and sizes `fold_sum2` folds (judged on the jaxpr: the lowering decides on the operands'
    layouts). `scan_hoist` then leaves it in the loop: one `jl_gemm_sum2` call per step, the input
    projection's x_t read in place, beat the hoisted product (one stacked product before the
    loop, and a product updating its row at each step) on one thread and on two. RNN of
    benchmarks/bench_scan.py, 2-core EPYC Zen 4, AVX-512, wall time, 2 threads, load 4.4:
    5.6 ms in the loop, 8.3 ms hoisted (JAX 10.2-10.6); 1 thread, CPU time: 5.7 against 8.6."""
    e = eqns[i]
    partner = _sum_partner(eqns, i, uses) if e.primitive is P.dot_general_p else None
    if partner is None:
        return False
    j, other = partner
    add = eqns[j]
    e2 = next((q for q in eqns if any(o is other for o in q.outvars)), None)
    if e2 is None or e2.primitive is not P.dot_general_p:
        return False
    out = add.outvars[0].aval
    dt = out.dtype
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        return False
    sizes = [_plain_product(q, dt, out.shape) for q in (e, e2)]
    if None in sizes:
        return False
    made_by = {o: q.primitive for q in eqns for o in q.outvars}
    if any(made_by.get(a) is P.transpose_p for q in (e, e2) for a in q.invars):
        return False  # (a strided view: the lowering's fold declines it)
    (m, n, k1), (_, _, k2) = sizes
    k = k1 + k2
    return k <= MAX_K and m * n * k <= MAX_MNK and k * n * dt.itemsize <= MAX_B_BYTES


def _sum_partner(eqns, i: int, uses):
    """(the add's position, its other operand) where the value of `eqns[i]` is read only by an
    `add` whose other operand is a variable read only there (the second product's candidate);
    else None."""
    g = eqns[i].outvars[0]
    if uses.get(g, 0) != 1:
        return None
    j = sole_reader(eqns, i, g)
    if j is None or eqns[j].primitive is not P.add_p:
        return None
    add = eqns[j]
    other = add.invars[1] if add.invars[0] is g else add.invars[0]
    if type(other) is not Var or other is g or uses.get(other, 0) != 1:
        return None
    return j, other


def _plain_product(e, dt, shape):
    """(m, n, k) of a product `e` of dtype `dt` and result shape `shape` whose operands are
    row-major matrices as they are (A's contracting dimensions last, B's first, in order, no
    batch dimensions); else None."""
    (lc, rc), (lb, rb) = e.params["dimension_numbers"]
    lhs, rhs = (a.aval for a in e.invars)
    out = e.outvars[0].aval
    if lb or rb or not lc or out.dtype != dt or out.shape != shape:
        return None
    if lhs.dtype != dt or rhs.dtype != dt:
        return None
    if tuple(lc) != tuple(range(lhs.ndim - len(lc), lhs.ndim)) or tuple(rc) != tuple(
        range(len(rc))
    ):
        return None
    k = math.prod(lhs.shape[d] for d in lc)
    m = math.prod(lhs.shape[: lhs.ndim - len(lc)])
    return m, math.prod(rhs.shape[len(rc) :]), k


def _row_major_product(e, lhs, rhs, dt):
    """(m, n, k, A, B) of a product `e` of two buffers read in place as row-major m x k and
    k x n matrices, A and B each (buffer, pointer, row stride); else None."""
    (lc, rc), (lb, rb) = e.params["dimension_numbers"]
    if lb or rb or not lc or e.outvars[0].aval.dtype != dt:
        return None
    if type(lhs) is not Leaf or type(rhs) is not Leaf or lhs.dtype != dt or rhs.dtype != dt:
        return None
    lfree = [d for d in range(len(lhs.shape)) if d not in lc]
    rfree = [d for d in range(len(rhs.shape)) if d not in rc]
    a = _matrix(lhs, lfree, lc)
    b = _matrix(rhs, rc, rfree)
    if a is None or b is None:
        return None
    m = math.prod(lhs.shape[d] for d in lfree)
    n = math.prod(rhs.shape[d] for d in rfree)
    k = math.prod(lhs.shape[d] for d in lc)
    return m, n, k, a, b


def _matrix(x: Leaf, rows, cols):
    """(buffer, pointer, row stride) of `x` read as a row-major (rows, cols) matrix in place, or
    None."""
    if x.view.buf is None:
        return None
    sizes = [math.prod(x.shape[d] for d in dims) for dims in (rows, cols)]
    v = reshape_view(transpose_view(x.view, [*rows, *cols]), sizes)
    if v is None:
        return None
    (r, c), (sr, sc) = v.shape, v.strides
    if c > 1 and sc != 1:
        return None
    ld = sr if r > 1 else c
    if ld < c:
        return None
    offset = v.index(["0", "0"])
    return v.buf, (v.buf if offset == "0" else f"({v.buf} + {offset})"), ld


def sole_reader(eqns, i: int, v):
    """The position of the one equation after `i` that reads `v` (once), or None."""
    readers = [j for j in range(i + 1, len(eqns)) if any(a is v for a in eqns[j].invars)]
    if len(readers) != 1 or sum(a is v for a in eqns[readers[0]].invars) != 1:
        return None
    return readers[0]
