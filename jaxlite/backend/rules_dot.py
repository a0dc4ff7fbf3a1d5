"""C lowering of dot_general: the runtime library's gemm (csrc/jl_blas.h) for floats, fused
elementwise products without contraction, C loops for integers, bools and a
preferred_element_type."""

from __future__ import annotations

import math

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as P
from jaxlite.backend.c_nodes import (
    CTYPE,
    Leaf,
    Op,
    Scalar,
    View,
    c_literal,
    contiguous_strides,
    leaves,
    map_views,
    reshape_view,
    scaled,
    sfx,
)
from jaxlite.backend import fold_sum2
from jaxlite.backend.lower_ctx import ELEMENTWISE, register_fold, register_kernel
from jaxlite.backend.rules_elementwise import convert
from jaxlite.backend.rules_layout import broadcast_in_dim_view, transpose_view

# --- dot_general ---------------------------------------------------------------------------


def _dot_general(ctx, eqn, args, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = args
    dt, out_dt = lhs.dtype, eqn.outvars[0].aval.dtype
    lfree = [d for d in range(len(lhs.shape)) if d not in lc and d not in lb]
    rfree = [d for d in range(len(rhs.shape)) if d not in rc and d not in rb]
    if out_dt != dt and dt.kind != "b":  # accumulate in the preferred type, as XLA (and eager)
        rule = ELEMENTWISE[P.convert_element_type_p]
        lhs, rhs = [Op(rule, {"new_dtype": out_dt}, [a], out_dt, a.shape, "cvt", 1 + a.cost
                       if type(a) is Op else 1) for a in (lhs, rhs)]  # fmt: skip
        dt = out_dt
    if not lc and out_dt == dt:  # no contraction: an elementwise product, fused like one
        return [_outer_product(ctx, eqn, lhs, rhs, list(lb) + lfree, list(rb) + rfree, len(lb))]
    # NB: gemm and the loops read buffers: an Op, or a Scalar (a broadcast constant such as
    # `jnp.ones(3)`, or the seed of a gradient), is first written to one.
    if dtypes.is_float(dt) and out_dt == dt:
        lhs = _operand_buffer(ctx, lhs, (lb, lfree, lc))
        rhs = _operand_buffer(ctx, rhs, (rb, rc, rfree))
        return [_gemm(ctx, eqn, lhs, rhs, (lb, lfree, lc), (rb, rc, rfree))]
    lhs, rhs = [a if type(a) is Leaf else ctx.materialize(a, "dot") for a in (lhs, rhs)]
    return [_dot_loops(ctx, eqn, lhs, rhs, lc, rc, lb, rb, lfree, rfree)]


def _operand_buffer(ctx, x, groups) -> Leaf:
    """A product's operand in a buffer: itself if it is one, else written once, in the order of
    its dimensions that reads its main input in memory order (attention's `k.T`, a transposed
    view of the projection plus its bias, is written as k, then read by BLAS transposed: the
    copy that read one element per row of the projection was 0.3 ms of a 63 ms step)."""
    if type(x) is Leaf or type(x) is not Op:
        return ctx.materialize(x, "dot")
    done = ctx.resolved(x)
    if done is not x:
        return done
    order = _read_order(x, groups)
    if order is None:
        return ctx.materialize(x, "dot")
    dest = ctx.alloc("dot", x.dtype, [x.shape[d] for d in order])
    ctx.write(map_views(x, lambda v: transpose_view(v, order)), dest)
    strides = [0] * len(order)
    for i, d in enumerate(order):
        strides[d] = dest.strides[i]
    return ctx.remember(x, Leaf(View(dest.buf, x.shape, strides), x.dtype))


def _read_order(x: Op, groups):
    """A permutation of `x`'s dimensions (batch, then its two matrix groups) whose last
    dimension is the one its largest input is contiguous along, when logical order is not
    that; else None."""
    views = [lf.view for lf in leaves(x) if lf.view.buf is not None]
    if not views:
        return None
    main = max(views, key=lambda v: sum(1 for n, s in zip(v.shape, v.strides) if n > 1 and s))
    unit = [d for d, (n, s) in enumerate(zip(main.shape, main.strides)) if n > 1 and s == 1]
    last = len(x.shape) - 1
    if not unit or unit[0] == last or x.shape[last] == 1:
        return None
    batch, g1, g2 = (list(g) for g in groups)
    if unit[0] in batch:
        return None
    inner, outer = (g1, g2) if unit[0] in g1 else (g2, g1)
    if inner[-1] != unit[0]:
        return None
    order = batch + outer + inner
    return None if order == list(range(len(order))) else order


def _outer_product(ctx, eqn, lhs, rhs, ldims, rdims, nb):
    out = eqn.outvars[0].aval
    nlf = len(ldims) - nb
    lpos = list(range(nb + nlf))
    rpos = list(range(nb)) + list(range(nb + nlf, len(out.shape)))
    placed = []
    for x, dims, pos in ((lhs, ldims, lpos), (rhs, rdims, rpos)):
        if type(x) is Op and x.cost > 2:
            x = ctx.materialize(x, "dot")

        def place(v, dims=dims, pos=pos):
            return broadcast_in_dim_view(transpose_view(v, dims), out.shape, pos)

        placed.append(map_views(x, place))
    rule = ELEMENTWISE[P.and_p if out.dtype.kind == "b" else P.mul_p]
    cost = 1 + sum(getattr(a, "cost", 0) for a in placed)
    return Op(rule, {}, placed, out.dtype, out.shape, ctx.names.var(eqn.outvars[0]), cost)


def _gemm(ctx, eqn, lhs, rhs, ldims, rdims):
    """dot_general as one BLAS gemm per batch element (csrc/jl_blas.h)."""
    out = ctx.new_output(eqn)
    dt = lhs.dtype
    (lb, lfree, lc), (rb, rc, rfree) = ldims, rdims
    size = lambda x, dims: math.prod(x.shape[d] for d in dims)
    nbatch, m, n, k = size(lhs, lb), size(lhs, lfree), size(rhs, rfree), size(lhs, lc)
    if m * n * nbatch == 0:
        return Leaf(out, dt)
    if k == 0:
        ctx.write(Scalar(c_literal(0, dt), dt, out.shape), out)
        return Leaf(out, dt)
    ctx.runtime = True
    bshape = [lhs.shape[d] for d in lb]
    a_buf, a_ptr, a_batch, ta, lda = _matrices(ctx, lhs, lb, lfree, lc)
    b_buf, b_ptr, b_batch, tb, ldb = _matrices(ctx, rhs, rb, rc, rfree)
    t = lambda flag: "true" if flag else "false"
    scratch, nscratch = gemm_scratch(ctx, dt, m, n, k)
    c_batch = [s * m * n for s in contiguous_strides(bshape)]

    def at(ptr: str, idx, strides) -> str:
        terms = [scaled(i, s) for i, s in zip(idx, strides) if s and i != "0"]
        return ptr + "".join(f" + {x}" for x in terms)

    def call(idx) -> str:
        ctx.touch(a_buf, b_buf, out.buf, scratch)
        return (f"jl_gemm_ws_{sfx(dt)}({t(ta)}, {t(tb)}, {m}, {n}, {k}, "
                f"{at(a_ptr, idx, a_batch)}, {lda}, {at(b_ptr, idx, b_batch)}, {ldb}, "
                f"{at(out.buf, idx, c_batch)}, {n}, {scratch}, {nscratch});")  # fmt: skip

    if nbatch == 1:
        ctx.line(call([]))
    else:
        # NB: batch dimensions whose strides do not merge (attention's heads, read in place
        # from the (batch, seq, 3, heads, dh) projection) are loops of their own
        dims = [i for i, size in enumerate(bshape) if size > 1]
        with ctx.loops([bshape[i] for i in dims], prefix="b") as idx:
            full = ["0"] * len(bshape)
            for i, name in zip(dims, idx):
                full[i] = name
            ctx.line(call(full))
    return Leaf(out, dt)


# csrc/jl_gemm.c's blocking (JL_PK_KC, JL_PK_NC, JL_PK_MC, JL_SMALL_PACK), its widest vector, the
# most vectors in its packed kernel's tile (JL_PK_NV) and its tiles' row counts (JL_PK_MR)
VEC_BYTES, PK_KC, PK_NC, PK_MC, SMALL_PACK = 64, 256, 1024, 384, 16384
PK_NV, PK_MRS = 4, (4, 6)


def scratch_elems(dt, m: int, n: int, k: int) -> int:
    """Elements of the scratch an m x k @ k x n product of `dt` packs into (csrc/jl_gemm.c:
    JL_PK_ELEMS for its packed kernel, k x n rounded up to whole vectors, at most JL_SMALL_PACK,
    for its register-blocked one), for vectors of any width up to AVX-512's (an export may be
    compiled for another CPU); the C checks the size it is given."""
    w = VEC_BYTES // dt.itemsize
    npad = -(-n // w) * w
    nr = PK_NV * w  # the packed kernel's strips: B's columns rounded up to whole strips
    rows = max(-(-m // mr) * mr for mr in PK_MRS) if m < PK_MC else PK_MC
    packed = min(k, PK_KC) * ((-(-n // nr) * nr if n < PK_NC else PK_NC) + rows)
    return max(packed, min(k * npad, SMALL_PACK))


def gemm_scratch(ctx, dt, m: int, n: int, k: int) -> tuple[str, int]:
    """A workspace buffer for the packing of one product (`jl_gemm_ws_*`'s scratch: no malloc,
    no large stack array in the call), live only where the call touches it: (its name, its
    elements)."""
    elems = scratch_elems(dt, m, n, k)
    return ctx.alloc("pack", dt, [elems]).buf, elems


def _matrix(ctx, x: Leaf, batch, rows, cols):
    """`_matrices` for at most one batch dimension (the convolutions'): its stride, one int."""
    assert len(batch) <= 1, "one batch dimension"
    buf, ptr, strides, trans, ld = _matrices(ctx, x, batch, rows, cols)
    return buf, ptr, strides[0] if strides else 0, trans, ld


def _matrices(ctx, x: Leaf, batch, rows, cols):
    """`x` as a batch of BLAS matrices: (buffer, pointer, stride of each batch dimension,
    transposed, leading dimension), copying it to a contiguous (batch, rows, cols) buffer only
    when no strides fit BLAS."""
    bsizes = [x.shape[d] for d in batch]
    sizes = [*bsizes] + [math.prod(x.shape[d] for d in dims) for dims in (rows, cols)]
    perm = list(batch) + list(rows) + list(cols)
    v = reshape_view(transpose_view(x.view, perm), sizes) if x.view.buf is not None else None
    layout = _blas_layout(v) if v is not None else None
    if layout is None:
        dest = ctx.alloc(f"{x.view.buf or 'iota'}_mat", x.dtype, [x.shape[d] for d in perm])
        ctx.write(Leaf(transpose_view(x.view, perm), x.dtype), dest)
        v = reshape_view(dest, sizes)
        layout = _blas_layout(v)
    offset = v.index(["0"] * len(sizes))
    ptr = v.buf if offset == "0" else f"({v.buf} + {offset})"
    strides = [s if n > 1 else 0 for n, s in zip(bsizes, v.strides)]
    return v.buf, ptr, strides, layout[0], layout[1]


def _blas_layout(v: View) -> tuple[bool, int] | None:
    """(transposed, leading dimension) of a (batch..., rows, cols) view that BLAS can read, or
    None."""
    (r, c), (sr, sc) = v.shape[-2:], v.strides[-2:]
    if (sc == 1 or c == 1) and (r == 1 or sr >= max(c, 1)):
        return False, sr if r > 1 else max(c, 1)
    if (sr == 1 or r == 1) and (c == 1 or sc >= max(r, 1)):
        return True, sc if c > 1 else max(r, 1)
    return None


def _dot_loops(ctx, eqn, lhs, rhs, lc, rc, lb, rb, lfree, rfree):
    """dot_general as C loops: integers, bools, and a preferred_element_type."""
    out = ctx.new_output(eqn)
    dt, out_dt = lhs.dtype, eqn.outvars[0].aval.dtype
    csizes = [lhs.shape[d] for d in lc]
    with ctx.loops(out.shape) as oidx:
        acc = ctx.fresh("acc")
        ctx.line(f"{CTYPE[dt]} {acc} = {c_literal(0, dt)};")
        with ctx.loops(csizes, prefix="k") as cidx:

            def index(nd, c, b, free, free_at):
                return [
                    cidx[c.index(d)] if d in c else oidx[b.index(d)] if d in b
                    else oidx[free_at + free.index(d)]
                    for d in range(nd)
                ]  # fmt: skip

            a = ctx.read(lhs, index(len(lhs.shape), lc, lb, lfree, len(lb)))
            b = ctx.read(rhs, index(len(rhs.shape), rc, rb, rfree, len(lb) + len(lfree)))
            step = f"{acc} || ({a} && {b})" if dt.kind == "b" else f"{acc} + {a} * {b}"
            ctx.line(f"{acc} = {step};")
        ctx.line(f"{ctx.at(out, oidx)} = {convert(dt, out_dt, acc)};")
    return Leaf(out, out_dt)


register_kernel(P.dot_general_p, _dot_general)


# --- a product and the update reading it, in one call --------------------------------------


def _fold_update(ctx, eqns, i, args, lookup, uses):
    """`g = dot_general(a, b)` read only by `t = g * s` (s a scalar, either side; or by a
    transpose of g read so: a gradient in a scan body, where no pass turned `transpose(dot)`
    into a product of the swapped operands), itself read only by `w - t` or `w + t` (w a
    buffer of t's shape): one call of the runtime's
    `jl_gemm_upd_*`, which writes `w + alpha (a b)` (alpha = -s or s) into the update's
    destination as it computes the product: the SGD step's `w - lr * grad` without the
    gradient's trip through memory (and a pass over it). The same two roundings as the
    unfused code (`s * g`, then the add); the product's own is that of the kernel the runtime
    takes for the update (for a contraction of at most 64, the small kernel's, whatever the
    product's measured path: it may differ from the unfused product's in the last bits).
    A fold of lower_ctx.FOLDS: None (nothing emitted) where this does not apply."""
    found = _product_and_reader(eqns, i, args, uses)
    if found is None:
        return None
    g, mul_at, taken, swap = found
    eqn = eqns[i]
    lhs, rhs = args
    dt = eqn.outvars[0].aval.dtype
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    if eqns[mul_at].primitive is not P.mul_p:
        return None
    mul = eqns[mul_at]
    s = mul.invars[1] if mul.invars[0] is g else mul.invars[0]
    t = mul.outvars[0]
    if s is g or s.aval.shape != () or s.aval.dtype != dt or uses.get(t, 0) != 1:
        return None
    upd_at = fold_sum2.sole_reader(eqns, mul_at, t)
    if upd_at is None:
        return None
    upd = eqns[upd_at]
    if upd.primitive is P.sub_p and upd.invars[1] is t:
        w, sign = upd.invars[0], "-"
    elif upd.primitive is P.add_p and any(a is t for a in upd.invars):
        w, sign = upd.invars[1] if upd.invars[0] is t else upd.invars[0], ""
    else:
        return None
    if w is t or upd.outvars[0].aval.shape != g.aval.shape or upd.outvars[0].aval.dtype != dt:
        return None
    w_node, s_node = lookup(w), lookup(s)
    if s_node is None or type(s_node) is not Scalar or type(w_node) is not Leaf:
        return None
    if w_node.view.buf is None or w_node.shape != g.aval.shape:
        return None
    out = _emit_upd(ctx, args, eqns[i], swap, w_node, upd, f"{sign}({s_node.text})",
                    f"{ctx.names.eqn(mul)}; {ctx.names.eqn(upd)}", s_node.buf)  # fmt: skip
    if out is None:
        return None
    return {upd.outvars[0]: Leaf(out, dt)}, taken | {mul_at, upd_at}


def _fold_dot(ctx, eqns, i, args, lookup, uses):
    """dot_general's folds: two products read only by their sum (fold_sum2: an RNN cell's
    `h @ Wh + x @ Wx`), else the product and an update reading it (an SGD step's, or a sum
    `w + a b`: _fold_accumulate, a scan's weight gradient accumulated in its carry)."""
    for fold in (fold_sum2.fold_sum2, _fold_update, _fold_accumulate):
        done = fold(ctx, eqns, i, args, lookup, uses)
        if done is not None:
            return done
    return None


register_fold(P.dot_general_p, _fold_dot)


def _product_and_reader(eqns, i, args, uses):
    """The float32/float64 product at `i` (no batch dimensions, a contraction) read only once,
    and the one equation reading it, directly or through a transpose (2-d, or an identity
    permutation) itself read only there: (its output as read, the reader's position, the
    transpose's position as a set (or empty), whether the transpose swaps), else None. The
    common start of the folds `_fold_update` and `_fold_accumulate`."""
    eqn = eqns[i]
    g = eqn.outvars[0]
    lhs, rhs = args
    dt = g.aval.dtype
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    if (dt not in (np.dtype(np.float32), np.dtype(np.float64)) or lhs.dtype != dt
            or rhs.dtype != dt or not lc or lb or uses.get(g, 0) != 1):  # fmt: skip
        return None
    j = fold_sum2.sole_reader(eqns, i, g)
    taken, swap = set(), False
    if j is not None and eqns[j].primitive is P.transpose_p:
        perm = tuple(eqns[j].params["permutation"])
        gt = eqns[j].outvars[0]
        if perm not in (tuple(range(len(perm))), (1, 0)) or uses.get(gt, 0) != 1:
            return None
        swap = perm == (1, 0)
        taken.add(j)
        j, g = fold_sum2.sole_reader(eqns, j, gt), gt
    return None if j is None else (g, j, taken, swap)


def _fold_accumulate(ctx, eqns, i, args, lookup, uses):
    """A fold of lower_ctx.FOLDS (for dot_general): `g = dot_general(a, b)` read only by `w + g`
    (`add` or `add_any`, either side; or through a transpose of g read so), w a buffer of the
    sum's shape: one `jl_gemm_upd_*` call with alpha 1, which writes `w + a b` as it computes
    the product (the gradient of a scan's weights, accumulated in its carry at every step of
    the backward loop: no pass that adds the product, nor one that transposes it). The add's
    rounding as unfused (`1 * (a b)` is exact). Else None, emitting nothing."""
    found = _product_and_reader(eqns, i, args, uses)
    if found is None:
        return None
    g, j, taken, swap = found
    lhs, rhs = args
    dt = g.aval.dtype
    (lc, rc), _ = eqns[i].params["dimension_numbers"]
    if eqns[j].primitive not in (P.add_p, P.add_any_p):
        return None
    add = eqns[j]
    w = add.invars[1] if add.invars[0] is g else add.invars[0]
    out = add.outvars[0].aval
    if w is g or out.shape != g.aval.shape or out.dtype != dt or w.aval.shape != out.shape:
        return None
    w_node = lookup(w)
    if type(w_node) is not Leaf or w_node.view.buf is None or w_node.dtype != dt:
        return None
    dest = _emit_upd(ctx, args, eqns[i], swap, w_node, add, "1", ctx.names.eqn(add))
    if dest is None:
        return None
    return {add.outvars[0]: Leaf(dest, dt)}, taken | {j}


def _emit_upd(ctx, args, eqn, swap, w_node, writer, alpha: str, names: str, *reads):
    """The call `jl_gemm_upd_*` that computes `w + alpha (a b)` (or its transpose, `swap`) into
    a new output of `writer`, the product `eqn` of the buffers `args`, w a Leaf read in place
    as an (m, n) matrix of unit column stride; its output buffer, or None (emitting nothing)
    where w's layout does not allow it. The shared end of `_fold_update` and
    `_fold_accumulate`; `reads`: more buffers the call reads (alpha's)."""
    lhs, rhs = args
    dt = eqn.outvars[0].aval.dtype
    (lc, rc), _ = eqn.params["dimension_numbers"]
    lfree = [d for d in range(len(lhs.shape)) if d not in lc]
    rfree = [d for d in range(len(rhs.shape)) if d not in rc]
    m = math.prod(lhs.shape[d] for d in lfree)
    n = math.prod(rhs.shape[d] for d in rfree)
    k = math.prod(lhs.shape[d] for d in lc)
    if swap:  # (a b)^T = b^T a^T
        (lhs, lfree, lc), (rhs, rc, rfree), m, n = (rhs, rfree, rc), (lhs, lc, lfree), n, m
    if m * n * k == 0:
        return None
    wv = reshape_view(w_node.view, (m, n))
    if wv is None or (n > 1 and wv.strides[1] != 1):
        return None
    ldw = wv.strides[0] if m > 1 else n
    if m > 1 and ldw < n:  # (rows that overlap, as a broadcast w's)
        return None
    # the update's operands: its C, the product's (in buffers, as _dot_general)
    lhs = _operand_buffer(ctx, lhs, ((), lfree, lc))
    rhs = _operand_buffer(ctx, rhs, ((), rc, rfree))
    a_buf, a_ptr, _, ta, lda = _matrices(ctx, lhs, (), lfree, lc)
    b_buf, b_ptr, _, tb, ldb = _matrices(ctx, rhs, (), rc, rfree)
    out = ctx.new_output(writer)
    ctx.runtime = True
    scratch, nscratch = gemm_scratch(ctx, dt, m, n, k)
    off = wv.index(["0", "0"])
    w_ptr = wv.buf if off == "0" else f"({wv.buf} + {off})"
    flag = lambda x: "true" if x else "false"  # noqa: E731
    ctx.comment(f"{names} (folded into the product)")
    ctx.touch(a_buf, b_buf, out.buf, scratch, wv.buf, *reads)
    ctx.line(f"jl_gemm_upd_{sfx(dt)}({flag(ta)}, {flag(tb)}, {m}, {n}, {k}, {a_ptr}, {lda}, "
             f"{b_ptr}, {ldb}, {out.buf}, {n}, {scratch}, {nscratch}, {alpha}, {w_ptr}, "
             f"{ldw});")  # fmt: skip
    return out
