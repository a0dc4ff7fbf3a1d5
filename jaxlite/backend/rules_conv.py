"""C lowering of convolutions and windowed reductions.

conv_general_dilated, float32/float64 NHWC-like layouts (features or batch contiguous) without
groups or lhs dilation: an implicit product (csrc/jl_gemm.c's jl_conv_gemm), each output row read
in place through its own pointer (the forward and the input gradient: rows = output pixels, the
padding read as zeros; the kernel gradient: rows = window positions x input features, from a
zero-padded copy). Other floats: im2col into a workspace buffer (per group: rows = output pixels,
columns = window positions x input features, zeros where the window reads padding or the holes
of lhs dilation), then one product per group with the runtime library's gemm (csrc/jl_blas.h),
written straight into the output when its features are its fastest dimension (NHWC), else through
a buffer. Integers, bools, a preferred_element_type, depthwise and tiny convolutions: a direct
loop nest (no buffer). reduce_window_sum/max/min: a direct loop nest over each window.
"""

from __future__ import annotations

import math
from functools import partial

from jaxlite import dtypes
from jaxlite import primitives as P
from jaxlite.backend.c_nodes import CTYPE, Leaf, Op, View, c_literal, scaled, sfx
from jaxlite.backend.lower_ctx import ELEMENTWISE, KernelContext, register_kernel
from jaxlite.backend.rules_dot import _matrix, gemm_scratch
from jaxlite.backend.rules_elementwise import convert
from jaxlite.backend.rules_layout import transpose_view
from jaxlite.primitives._windowed import identity

# Below this many multiply-adds per output element (window x input features per group), or with
# one output feature per group (depthwise), the direct loop beats packing for a product.
DIRECT_MAX_DEPTH = 8


def _buffer(ctx: KernelContext, x, hint: str) -> Leaf:
    if type(x) is Leaf and x.view.buf is not None:
        return x
    return ctx.materialize(x, hint)


def _split(v: View, dim: int, outer: int) -> View:
    """`v` with dimension `dim` split into (outer, rest), outer major (always a view)."""
    n, s = v.shape[dim], v.strides[dim]
    shape = [*v.shape[:dim], outer, n // outer, *v.shape[dim + 1 :]]
    strides = [*v.strides[:dim], s * (n // outer), s, *v.strides[dim + 1 :]]
    return View(v.buf, shape, strides, v.offset, v.dyn)


def _positions(ctx, out_idx, k_idx, window_strides, padding, lhs_dilation, rhs_dilation, sizes):
    """Declares the input positions a window element reads; returns their names and the C
    condition that the element falls outside the input (in padding, or in a dilation hole)."""
    names, conds = [], []
    for o, k, s, (lo, _), ld, rd, n in zip(out_idx, k_idx, window_strides, padding,
                                           lhs_dilation, rhs_dilation, sizes):  # fmt: skip
        r = ctx.fresh("at")
        ctx.line(f"const int64_t {r} = {scaled(o, s)} + {scaled(k, rd)} - {lo};")
        if ld > 1:
            p = ctx.fresh("pos")
            ctx.line(f"const int64_t {p} = {r} / {ld};")
            conds.append(f"{r} < 0 || {r} % {ld} != 0 || {p} >= {n}")
        else:
            p = r
            conds.append(f"{r} < 0 || {r} >= {n}")
        names.append(p)
    return names, " || ".join(f"({c})" for c in conds) if conds else "false"


def _conv(ctx, eqn, args, *, window_strides, padding, lhs_dilation, rhs_dilation,
          dimension_numbers, feature_group_count, batch_group_count, preferred_element_type):  # fmt: skip
    lspec, rspec, ospec = dimension_numbers
    lhs, rhs = (_buffer(ctx, a, "conv") for a in args)
    out = ctx.new_output(eqn)
    dt, out_dt = lhs.dtype, eqn.outvars[0].aval.dtype
    if math.prod(out.shape) == 0:
        return [Leaf(out, out_dt)]
    lv = transpose_view(lhs.view, lspec)  # (N, C, S...)
    rv = transpose_view(rhs.view, rspec)  # (O, I, K...)
    ov = transpose_view(out, ospec)  # (N', O, S'...)
    groups = max(feature_group_count, batch_group_count)
    geom = (window_strides, padding, lhs_dilation, rhs_dilation)
    cg, og = rv.shape[1], rv.shape[0] // groups
    depth = cg * math.prod(rv.shape[2:])
    if dtypes.is_float(dt) and out_dt == dt and depth > DIRECT_MAX_DEPTH and og > 1:  # (as above)
        if _features_inner(rv, ov, og, depth):
            _direct_features_inner(ctx, lv, rv, ov, dt, groups, batch_group_count > 1, geom)
        elif _implicit_ok(lv, rv, ov, dt, groups, geom):
            _implicit_gemm(ctx, lv, rv, ov, dt, geom)
        elif _batch_inner(lv, ov, groups):
            _im2col_gemm_batch_inner(ctx, lv, rv, ov, dt, groups, batch_group_count > 1, geom)
        else:
            _im2col_gemm(ctx, lv, rv, ov, dt, groups, batch_group_count > 1, geom)
    else:
        _direct(ctx, lv, rv, ov, dt, out_dt, groups, batch_group_count > 1, geom)
    return [Leaf(out, out_dt)]


# --- implicit GEMM: the product read in place ---------------------------------------------------
# csrc/jl_gemm.c's jl_conv_gemm reads each output row's window through its own pointer into the
# (zero-padded) input and the kernel (or, for a kernel's gradient, the output gradient) along its
# contiguous output features: no im2col matrix, no second packing inside BLAS. It takes float32
# and float64 convolutions of one or two spatial dimensions with no lhs dilation and no groups.
# One thread, CPU time (2-core EPYC Zen 4): LeNet conv2 forward 30.8 -> 24.2 ms, its kernel
# gradient 40.7 -> 30.8, ResNet's 3x3x64x64 kernel gradients 40.1 -> 29.1 (beside im2col + BLAS).
# (LeNet's conv1, one input feature, stays in the direct loop: 2.2 ms against 2.8 here with each
# window row merged into one run of steps, measured.)
IMPLICIT_DTYPES = ("float32", "float64")
IMPLICIT_GEMM = True  # (tests turn it off to reach the im2col paths)
CG_ZEROS = 4096  # csrc/jl_gemm.c's JL_CG_ZEROS: the longest run of zeros a padded row reads


def _implicit_ok(lv: View, rv: View, ov: View, dt, groups: int, geom) -> bool:
    lhs_dilation = geom[2]
    return (
        IMPLICIT_GEMM
        and dt.name in IMPLICIT_DTYPES
        and groups == 1
        and 1 <= len(ov.shape) - 2 <= 2
        and all(d == 1 for d in lhs_dilation)
        and ov.strides[1] == 1
        and not ov.dyn
        and (lv.strides[1] == 1 or lv.strides[0] == 1)
    )


def _two_d(v: View) -> View:
    """`v` (X, Y, S...) with two spatial dimensions (a leading one of size 1 for 1-D)."""
    if len(v.shape) == 4:
        return v
    return View(v.buf, [*v.shape[:2], 1, *v.shape[2:]], [*v.strides[:2], 0, *v.strides[2:]],
                v.offset, v.dyn)  # fmt: skip


def _ptr(ctx, v: View) -> str:
    ctx.touch(v.buf)
    off = v.index(["0"] * len(v.shape))
    return v.buf if off == "0" else f"({v.buf} + {off})"


def _implicit_gemm(ctx, lv, rv, ov, dt, geom):
    window_strides, padding, _, rhs_dilation = geom
    lv, rv, ov = _two_d(lv), _two_d(rv), _two_d(ov)
    if len(window_strides) == 1:
        window_strides, padding, rhs_dilation = (
            (1, *window_strides),
            ((0, 0), *padding),
            (1, *rhs_dilation),
        )
    nout, o_all, sout = ov.shape[0], ov.shape[1], ov.shape[2:]
    cin, ks = rv.shape[1], rv.shape[2:]
    feat_inner = lv.strides[1] == 1
    padded = any(p != (0, 0) for p in padding)
    # rows whose window reaches into the padding read zeros there (the forward mapping, features
    # contiguous): the input read in place; else a zero-padded copy, its inner dimension (the
    # features, or the batch) contiguous
    in_place = feat_inner and not lv.dyn and lv.shape[1] <= CG_ZEROS
    if padded and not in_place:
        n, c, h, w = lv.shape
        hp, wp = h + sum(padding[0]), w + sum(padding[1])
        outer, inner = (n, c) if feat_inner else (c, n)
        buf = ctx.alloc("conv_pad", dt, [outer, hp, wp, inner])
        st = buf.strides
        xv = View(buf.buf, [n, c, hp, wp], [st[0], 1, st[1], st[2]] if feat_inner
                  else [1, st[0], st[1], st[2]])  # fmt: skip
        (lo0, _), (lo1, _) = padding
        with ctx.loops(
            [outer, hp, wp], prefix="pd", parallel=ctx.parallel(math.prod(buf.shape))
        ) as (a, y, x):
            inside = f"{y} >= {lo0} && {y} < {lo0 + h} && {x} >= {lo1} && {x} < {lo1 + w}"
            with ctx.block(f"if ({inside})"):
                with ctx.loops([inner], prefix="q", simd=True) as (q,):
                    src = [a, q] if feat_inner else [q, a]
                    val = ctx.read(Leaf(lv, dt), [*src, f"({y} - {lo0})", f"({x} - {lo1})"])
                    ctx.line(f"{ctx.at(buf, [a, y, x, q])} = {val};")
            with ctx.block("else"):
                with ctx.loops([inner], prefix="q", simd=True) as (q,):
                    ctx.line(f"{ctx.at(buf, [a, y, x, q])} = {c_literal(0, dt)};")
    else:
        xv = lv
    wvec = 64 // dt.itemsize  # the widest vector jl_gemm.c reads (AVX-512): B's columns past o
    xs = xv.strides
    (s0, s1), (d0, d1) = window_strides, rhs_dilation
    if feat_inner:  # rows (n, y, x); segments (k0, k1); steps: the input features
        bperm = [2, 3, 1, 0]  # B (k0, k1, c, o)
        rows = [(nout, xs[0], ov.strides[0]), (sout[0], s0 * xs[2], ov.strides[2]),
                (sout[1], s1 * xs[3], ov.strides[3])]  # fmt: skip
    else:  # rows (y', x', n): a kernel's gradient; segments (c, k0); steps: k1
        bperm = [1, 2, 3, 0]  # B (c, k0, k1, o)
        rows = [(sout[0], s0 * xs[2], ov.strides[2]), (sout[1], s1 * xs[3], ov.strides[3]),
                (nout, xs[0], ov.strides[0])]  # fmt: skip
    bv = transpose_view(rv, bperm)
    if bv.strides[-1] != 1 or o_all % wvec or bv.dyn:  # B copied: o contiguous, whole vectors
        opad = -(-o_all // wvec) * wvec
        pk = ctx.alloc("conv_b", dt, [*bv.shape[:3], opad])
        with ctx.loops(bv.shape[:3], prefix="kb") as ki:
            with ctx.loops([opad], prefix="o", simd=True) as (o,):
                val = (
                    ctx.read(Leaf(bv, dt), [*ki, o])
                    if opad == o_all
                    else (
                        f"({o} < {o_all} ? {ctx.read(Leaf(bv, dt), [*ki, f'({o} < {o_all} ? {o} : 0)'])} : {c_literal(0, dt)})"
                    )
                )
                ctx.line(f"{ctx.at(pk, [*ki, o])} = {val};")
        bv = pk
    bs = bv.strides
    if feat_inner:
        segs = [ks[0], ks[1], d0 * xs[2], d1 * xs[3], bs[0], bs[1], cin, xs[1], bs[2]]
    else:
        segs = [cin, ks[0], xs[1], d0 * xs[2], bs[0], bs[1], ks[1], d1 * xs[3], bs[2]]
    check = [0] * 9
    if padded and in_place:
        (lo0, _), (lo1, _) = padding
        h, w = lv.shape[2:]
        check = [h, w, lo0, lo1, s0, s1, d0, d1, -(lo0 * xs[2] + lo1 * xs[3])]
    d = [*(r[0] for r in rows), *(r[1] for r in rows), *(r[2] for r in rows), *segs, o_all, 0,
         *check]  # fmt: skip
    name = ctx.fresh("cg")
    ctx.line(f"const int64_t {name}[{len(d)}] = {{{', '.join(str(v) for v in d)}}};")
    ctx.runtime = True
    a, b, c = _ptr(ctx, xv), _ptr(ctx, bv), _ptr(ctx, ov)
    ctx.touch(xv.buf, bv.buf, ov.buf)
    ctx.line(f"jl_conv_gemm_{sfx(dt)}({name}, {a}, {b}, {c});")


def _lhs_index(g, n, c, batch_groups: bool, nout: int, cg: int):
    """The lhs batch and feature indices group `g` reads for its batch `n` and feature `c`."""
    if batch_groups:
        return f"({g} * {nout} + {n})" if g != "0" else n, c
    return n, f"({g} * {cg} + {c})" if g != "0" else c


def _direct(ctx, lv, rv, ov, dt, out_dt, groups, batch_groups, geom):
    window_strides, padding, lhs_dilation, rhs_dilation = geom
    og, cg = rv.shape[0] // groups, rv.shape[1]
    ksizes = rv.shape[2:]
    work = math.prod(ov.shape) * cg * max(1, math.prod(ksizes))
    acc_dt = out_dt
    with ctx.loops(ov.shape, parallel=ctx.parallel(work)) as oi:
        n, o, sp = oi[0], oi[1], oi[2:]
        g = ctx.fresh("grp")
        ctx.line(f"const int64_t {g} = {o} / {og};" if groups > 1 else f"const int64_t {g} = 0;")
        acc = ctx.fresh("acc")
        ctx.line(f"{CTYPE[acc_dt]} {acc} = {c_literal(0, acc_dt)};")
        with ctx.loops(ksizes, prefix="k") as ki:
            pos, outside = _positions(ctx, sp, ki, *geom, lv.shape[2:])
            ctx.line(f"if ({outside}) continue;")
            with ctx.loops([cg], prefix="c") as (c,):
                nb, ch = _lhs_index(g, n, c, batch_groups, ov.shape[0], cg)
                a = ctx.read(Leaf(lv, dt), [nb, ch, *pos])
                b = ctx.read(Leaf(rv, dt), [o, c, *ki])
                if acc_dt.kind == "b":
                    ctx.line(f"{acc} = {acc} || ({a} && {b});")
                else:
                    ctx.line(f"{acc} += {convert(dt, acc_dt, a)} * {convert(dt, acc_dt, b)};")
        ctx.line(f"{ctx.at(ov, oi)} = {acc};")


# A shallow convolution (window x input features per group at most this), whose output and
# kernel have the output features as their fastest dimension (NHWC, HWIO), runs the direct loop
# vectorized along the output features: LeNet's first layer (5x5x1 -> 32) 3.8 -> 2.6 ms, where a
# product of depth 25 through BLAS runs at half its rate.
FEATURES_INNER_MAX_DEPTH = 64
FEATURES_INNER_MAX_OUT = 256


def _features_inner(rv: View, ov: View, og: int, depth: int) -> bool:
    return (depth <= FEATURES_INNER_MAX_DEPTH and og <= FEATURES_INNER_MAX_OUT
            and rv.strides[0] == 1 and ov.strides[1] == 1 and not ov.dyn)  # fmt: skip


def _direct_features_inner(ctx, lv, rv, ov, dt, groups, batch_groups, geom):
    """The direct loop with a vector of the output features per output pixel: each input
    element read once, multiplied by a row of the kernel, added into the vector."""
    og, cg, ksizes = rv.shape[0] // groups, rv.shape[1], rv.shape[2:]
    nout, sout = ov.shape[0], ov.shape[2:]
    work = math.prod(ov.shape) * cg * math.prod(ksizes)
    lhs, rhs = Leaf(lv, dt), Leaf(rv, dt)
    with ctx.loops([nout, *sout, groups], parallel=ctx.parallel(work)) as ri:
        n, sp, g = ri[0], ri[1:-1], ri[-1]
        acc = ctx.fresh("acc")
        ctx.line(f"{CTYPE[dt]} {acc}[{og}];")
        with ctx.loops([og], prefix="o", simd=True) as (o,):
            ctx.line(f"{acc}[{o}] = {c_literal(0, dt)};")
        with ctx.loops(ksizes, prefix="k") as ki:
            pos, outside = _positions(ctx, sp, ki, *geom, lv.shape[2:])
            ctx.line(f"if ({outside}) continue;")
            with ctx.loops([cg], prefix="c") as (c,):
                nb, ch = _lhs_index(g, n, c, batch_groups, nout, cg)
                x = ctx.fresh("x")
                ctx.line(f"const {CTYPE[dt]} {x} = {ctx.read(lhs, [nb, ch, *pos])};")
                with ctx.loops([og], prefix="o", simd=True) as (o,):
                    w = ctx.read(rhs, [f"({g} * {og} + {o})", c, *ki])
                    ctx.line(f"{acc}[{o}] += {x} * {w};")
        with ctx.loops([og], prefix="o", simd=True) as (o,):
            ctx.line(f"{ctx.at(ov, [n, f'({g} * {og} + {o})', *sp])} = {acc}[{o}];")


def _chunk(nout: int, rows: int, kc: int, itemsize: int, min_rows: int | None = None) -> int:
    """How many images (batch entries) one im2col chunk holds: a divisor of `nout` whose patches
    stay near PATCH_CHUNK_BYTES (in cache for the product that reads them), with at least
    MIN_CHUNK_ROWS rows for the product."""
    best = nout
    for nb in range(1, nout + 1):
        if nout % nb == 0 and nb * rows >= (MIN_CHUNK_ROWS if min_rows is None else min_rows):
            best = nb
            break
    for nb in range(best, nout + 1):
        if nout % nb == 0:
            if nb * rows * kc * itemsize > PATCH_CHUNK_BYTES:
                break
            best = nb
    return best


# One chunk of patches: a few MiB (in L2+L3 for the product that reads it; one thread-pool wake
# per chunk: 1 MiB cost 10% less CPU on one core for LeNet's conv2, 4 MiB ran faster under
# load, with 4x fewer product calls); a product wants some hundreds of rows.
PATCH_CHUNK_BYTES = 1 << 22
MIN_CHUNK_ROWS = 256


def chunk_product_size(eqn) -> int:
    """Multiply-adds of one chunk's product of a float conv_general_dilated `eqn` (0 if it runs
    the direct loop): lower.py asks whether a kernel has products big enough for BLAS threads."""
    lspec, rspec, ospec = eqn.params["dimension_numbers"]
    lhs, rhs, out = eqn.invars[0].aval, eqn.invars[1].aval, eqn.outvars[0].aval
    groups = max(eqn.params["feature_group_count"], eqn.params["batch_group_count"])
    cg, og = rhs.shape[rspec[1]], rhs.shape[rspec[0]] // groups
    kc = cg * math.prod(rhs.shape[d] for d in rspec[2:])
    if (
        not dtypes.is_float(lhs.dtype)
        or out.dtype != lhs.dtype
        or kc <= DIRECT_MAX_DEPTH
        or og == 1
    ):
        return 0
    rows = math.prod(out.shape[d] for d in ospec[2:])
    nb = _chunk(out.shape[ospec[0]], rows, kc, lhs.dtype.itemsize)
    return nb * rows * og * kc


def _im2col_gemm(ctx, lv, rv, ov, dt, groups, batch_groups, geom):
    nout, sout = ov.shape[0], ov.shape[2:]
    o_all, cg, ksizes = rv.shape[0], rv.shape[1], rv.shape[2:]
    og = o_all // groups
    rows, kc = math.prod(sout), math.prod(ksizes) * cg
    nb = _chunk(nout, rows, kc, dt.itemsize)
    mc = nb * rows  # rows of one chunk's product
    # The kernel: (groups, K..., Cg, Og) matrices; copied by _matrix only if BLAS cannot read it.
    nk = len(ksizes)
    # Columns (K..., Cg) read the lhs along its features (NHWC); (Cg, K...) along its last
    # spatial dimension, when that is the contiguous one and the features are not.
    c_first = nk > 0 and cg > 1 and lv.strides[1] != 1 and lv.strides[-1] == 1
    korder = [2, *range(3, 3 + nk)] if c_first else [*range(3, 3 + nk), 2]
    w = transpose_view(_split(rv, 0, groups), [0, *korder, 1])
    w_buf, w_ptr, w_batch, tb, ldb = _matrix(ctx, Leaf(w, dt), [0], list(range(1, nk + 2)),
                                             [nk + 2])  # fmt: skip
    # The output: (groups, M, Og) with unit column stride, or a buffer copied into it.
    o5 = _split(ov, 1, groups)  # (N', groups, Og, S'...)
    cview = _gemm_output(o5, nout * rows, og)
    direct = cview is not None
    if not direct:
        tmp = ctx.alloc("conv_out", dt, [groups, nout, *sout, og])
        cview = View(tmp.buf, [groups, nout * rows, og], [nout * rows * og, og, 1])
    # One chunk of patches: (groups, nb, S'..., K..., Cg), zeros outside the input.
    cols = [cg, *ksizes] if c_first else [*ksizes, cg]
    patches = ctx.alloc("patches", dt, [groups, nb, *sout, *cols])
    scratch, nscratch = gemm_scratch(ctx, dt, mc, og, kc)  # the product's packing: no malloc
    ctx.runtime = True
    gshape = [groups] if groups > 1 else []
    with ctx.loops([nout // nb], prefix="blk") as (blk,):
        work = groups * mc * kc
        nshape = [nb] if nb > 1 or not sout else []  # (the loops start with a long one)
        with ctx.loops([*gshape, *nshape, *sout], parallel=ctx.parallel(work)) as ri:
            g = ri[0] if groups > 1 else "0"
            n = ri[len(gshape)] if nshape else "0"
            sp = ri[len(gshape) + len(nshape) :]
            n_in = n if nb == nout else blk if nb == 1 else f"({blk} * {nb} + {n})"
            if c_first:
                _patch_row_c_first(ctx, lv, patches, dt, geom, (g, n, n_in, sp), cg, ksizes,
                                   nout, batch_groups)  # fmt: skip
            else:
                _patch_row(ctx, lv, patches, dt, geom, (g, n, n_in, sp), cg, ksizes, nout,
                           batch_groups)  # fmt: skip
        with ctx.loops([groups], prefix="g") as (g,):
            ctx.touch(patches.buf, w_buf, cview.buf, scratch)
            a_at = f"{patches.buf} + {scaled(g, mc * kc)}"
            b_at = w_ptr + (f" + {scaled(g, w_batch)}" if w_batch else "")
            c_at = (f"{cview.buf} + {cview.offset} + {scaled(g, cview.strides[0])} + "
                    f"{scaled(blk, mc * cview.strides[1])}")  # fmt: skip
            ctx.line(f"jl_gemm_ws_{sfx(dt)}(false, {'true' if tb else 'false'}, {mc}, {og}, {kc}, "
                     f"{a_at}, {kc}, {b_at}, {ldb}, {c_at}, {cview.strides[1]}, {scratch}, "
                     f"{nscratch});")  # fmt: skip
    if not direct:
        ns = len(sout)
        t = View(tmp.buf, [groups, nout, *sout, og], contiguous(groups, nout, sout, og))
        t5 = transpose_view(t, [1, 0, ns + 2, *range(2, 2 + ns)])  # (N', groups, Og, S'...)
        ctx.write(Leaf(t5, dt), o5)


def _patch_row(ctx, lv, patches, dt, geom, where, cg, ksizes, nout, batch_groups):
    """One row of patches in (K..., Cg) order: the features innermost, zeros outside."""
    g, n, n_in, sp = where
    with ctx.loops(ksizes, prefix="k") as ki:
        pos, outside = _positions(ctx, sp, ki, *geom, lv.shape[2:])
        with ctx.block(f"if ({outside})"):
            with ctx.loops([cg], prefix="c", simd=True) as (c,):
                ctx.line(f"{ctx.at(patches, [g, n, *sp, *ki, c])} = {c_literal(0, dt)};")
        with ctx.block("else"):
            with ctx.loops([cg], prefix="c", simd=True) as (c,):
                nb_in, ch = _lhs_index(g, n_in, c, batch_groups, nout, cg)
                value = ctx.read(Leaf(lv, dt), [nb_in, ch, *pos])
                ctx.line(f"{ctx.at(patches, [g, n, *sp, *ki, c])} = {value};")


def _patch_row_c_first(ctx, lv, patches, dt, geom, where, cg, ksizes, nout, batch_groups):
    """One row of patches in (Cg, K...) order."""
    g, n, n_in, sp = where
    with ctx.loops([cg, *ksizes], prefix="k") as ci:
        c, ki = ci[0], ci[1:]
        pos, outside = _positions(ctx, sp, ki, *geom, lv.shape[2:])
        with ctx.block(f"if ({outside})"):
            ctx.line(f"{ctx.at(patches, [g, n, *sp, c, *ki])} = {c_literal(0, dt)};")
        with ctx.block("else"):
            nb_in, ch = _lhs_index(g, n_in, c, batch_groups, nout, cg)
            ctx.line(
                f"{ctx.at(patches, [g, n, *sp, c, *ki])} = {ctx.read(Leaf(lv, dt), [nb_in, ch, *pos])};"
            )


def _batch_inner(lv: View, ov: View, groups: int) -> bool:
    """Whether the lhs batch dimension is its fastest one (the convolution that computes a
    kernel's gradient in NHWC: batch and features swapped) and the output can take rows ordered
    (S'..., N'): then im2col reads and writes along the batch."""
    if lv.shape[0] < 8 or lv.strides[0] != 1 or not ov.shape[2:]:
        return False
    o5 = _split(ov, 1, groups)
    m = math.prod(ov.shape) // ov.shape[1]
    return _gemm_output(o5, m, ov.shape[1] // groups, [*range(3, len(o5.shape)), 0]) is not None


def _im2col_gemm_batch_inner(ctx, lv, rv, ov, dt, groups, batch_groups, geom):
    """im2col with the rows ordered (S'..., N') and the patches stored column-major (one row of
    patches per window position and feature, along the batch): the product reads them
    transposed. This convolution's contraction (the whole image) is long and its output small:
    chunks split the contraction along the first window dimension, each chunk's product added
    to the output."""
    nout, sout = ov.shape[0], ov.shape[2:]
    o_all, cg, ksizes = rv.shape[0], rv.shape[1], rv.shape[2:]
    og = o_all // groups
    m = math.prod(sout) * nout
    per_k0 = math.prod(ksizes[1:]) * cg  # contraction length per index of the first window dim
    kb = _chunk(ksizes[0], per_k0, m, dt.itemsize, min_rows=1)
    kc = kb * per_k0
    nk = len(ksizes)
    w = transpose_view(_split(rv, 0, groups), [0, *range(3, 3 + nk), 2, 1])
    w_buf, w_ptr, w_batch, tb, ldb = _matrix(ctx, Leaf(w, dt), [0], list(range(1, nk + 2)),
                                             [nk + 2])  # fmt: skip
    o5 = _split(ov, 1, groups)
    cview = _gemm_output(o5, m, og, [*range(3, len(o5.shape)), 0])
    # One chunk of patches: (groups, kb, K[1:]..., Cg, S'..., N')
    patches = ctx.alloc("patches_t", dt, [groups, kb, *ksizes[1:], cg, *sout, nout])
    nblk = ksizes[0] // kb
    part = ctx.alloc("conv_part", dt, [groups, m, og]) if nblk > 1 else None
    scratch, nscratch = gemm_scratch(ctx, dt, m, og, kc)  # the product's packing: no malloc
    ctx.runtime = True
    gshape = [groups] if groups > 1 else []
    with ctx.loops([nblk], prefix="blk") as (blk,):
        work = groups * m * kc
        with ctx.loops([*gshape, kb, *ksizes[1:], cg], parallel=ctx.parallel(work)) as ci:
            g = ci[0] if groups > 1 else "0"
            kl, c = ci[len(gshape) : len(gshape) + nk], ci[-1]
            ki = [kl[0] if nblk == 1 else f"({blk} * {kb} + {kl[0]})", *kl[1:]]
            with ctx.loops(sout, prefix="s") as si:
                pos, outside = _positions(ctx, si, ki, *geom, lv.shape[2:])
                with ctx.block(f"if ({outside})"):
                    with ctx.loops([nout], prefix="n", simd=True) as (n,):
                        ctx.line(f"{ctx.at(patches, [g, *kl, c, *si, n])} = {c_literal(0, dt)};")
                with ctx.block("else"):
                    with ctx.loops([nout], prefix="n", simd=True) as (n,):
                        nb_in, ch = _lhs_index(g, n, c, batch_groups, nout, cg)
                        value = ctx.read(Leaf(lv, dt), [nb_in, ch, *pos])
                        ctx.line(f"{ctx.at(patches, [g, *kl, c, *si, n])} = {value};")
        with ctx.loops([groups], prefix="g") as (g,):
            ctx.touch(patches.buf, w_buf, cview.buf, scratch, part.buf if part else None)
            a_at = f"{patches.buf} + {scaled(g, m * kc)}"
            b_at = w_ptr + (f" + {scaled(g, w_batch)}" if w_batch else "")
            b_at += f" + {scaled(blk, kc if tb else kc * ldb)}" if nblk > 1 else ""
            c_at = f"{cview.buf} + {cview.offset} + {scaled(g, cview.strides[0])}"
            ldc = str(cview.strides[1])
            if part is not None:  # the first chunk writes the output, the others a part
                c_at = f"({blk} == 0 ? {c_at} : {part.buf} + {scaled(g, m * og)})"
                ldc = f"({blk} == 0 ? {cview.strides[1]} : {og})"
            ctx.line(f"jl_gemm_ws_{sfx(dt)}(true, {'true' if tb else 'false'}, {m}, {og}, {kc}, "
                     f"{a_at}, {m}, {b_at}, {ldb}, {c_at}, {ldc}, {scratch}, {nscratch});")  # fmt: skip
        if part is not None:
            with ctx.block(f"if ({blk} > 0)"):
                with ctx.loops([groups, m, og], parallel=ctx.parallel(groups * m * og)) as (
                    g,
                    r,
                    o,
                ):
                    dest = ctx.at(cview, [g, r, o])
                    ctx.line(f"{dest} += {ctx.at(part, [g, r, o])};")


def contiguous(groups, nout, sout, og):
    shape = [groups, nout, *sout, og]
    strides, acc = [], 1
    for d in reversed(shape):
        strides.append(acc)
        acc *= d
    return list(reversed(strides))


def _gemm_output(o5: View, m: int, og: int, rows=None) -> View | None:
    """`o5` (N', groups, Og, S'...) as (groups, M, Og) matrices gemm can write: unit column
    stride and one row stride over (N', S'...) (or the dimensions `rows`, in that order); None if
    it has no such layout."""
    if o5.dyn or (og > 1 and o5.strides[2] != 1):
        return None
    rows = [0, *range(3, len(o5.shape))] if rows is None else rows
    dims = [(o5.shape[d], o5.strides[d]) for d in rows if o5.shape[d] != 1]
    if not dims:
        row_stride = og
    else:
        row_stride = dims[-1][1]
        for (_, s0), (n1, s1) in zip(dims, dims[1:]):
            if s0 != n1 * s1:
                return None
    if row_stride < og:
        return None
    return View(o5.buf, [o5.shape[1], m, og], [o5.strides[1], row_stride, 1], o5.offset)


register_kernel(P.conv_general_dilated_p, _conv)


# --- windowed reductions -------------------------------------------------------------------

# The cost of an elementwise operand a windowed reduction reads fused (a relu of a biased
# product costs 2-3): relu(x+b) -> 2x2 max pool, 128x28x28x32 f32, 2.56 -> 1.40 ms (CPU time,
# one thread, 2-core EPYC Zen 4).
FUSED_WINDOW_COST = 8


def _reduce_window(prim, ctx, eqn, args, *, window_dimensions, window_strides, padding,
                   base_dilation, window_dilation):  # fmt: skip
    (x,) = args
    # A cheap elementwise operand (a relu before a pool) is computed where the windows read it
    # when they do not overlap (each element read once): no buffer, one pass.
    overlap = any((w - 1) * d + 1 > s for w, s, d in
                  zip(window_dimensions, window_strides, window_dilation))  # fmt: skip
    fused = type(x) is Op and x.cost <= FUSED_WINDOW_COST and not overlap
    if not fused and (type(x) is not Leaf or x.view.buf is None):
        x = ctx.materialize(x, "rw")
    out = ctx.new_output(eqn)
    dt = x.dtype
    if math.prod(out.shape) == 0:
        return [Leaf(out, dt)]
    init = c_literal(identity(prim, dt), dt)
    combine = {P.reduce_window_sum_p: lambda a, v: f"{a} + {v}",
               P.reduce_window_max_p: lambda a, v: ELEMENTWISE[P.max_p](dt, a, v),
               P.reduce_window_min_p: lambda a, v: ELEMENTWISE[P.min_p](dt, a, v)}[prim]  # fmt: skip
    if dt.kind == "b" and prim is P.reduce_window_sum_p:
        combine = lambda a, v: f"{a} || {v}"  # noqa: E731
    work = math.prod(out.shape) * max(1, math.prod(window_dimensions))
    geom = (window_strides, padding, base_dilation, window_dilation)
    if not out.shape:  # rank 0: the element itself (a window of no dimensions)
        ctx.line(f"{ctx.at(out, [])} = {combine(init, ctx.read(x, []))};")
        return [Leaf(out, dt)]
    if (
        len(out.shape) > 1
        and [g[-1] for g in geom] == [1, (0, 0), 1, 1]
        and window_dimensions[-1] == 1
    ):
        # The last dimension is not windowed (NHWC pooling): the loops over it are innermost,
        # vectorized, accumulating in the output.
        lead, c = out.shape[:-1], out.shape[-1]
        with ctx.loops(lead, parallel=ctx.parallel(work)) as oi:
            with ctx.loops([c], prefix="c", simd=True) as (j,):
                ctx.line(f"{ctx.at(out, [*oi, j])} = {init};")
            with ctx.loops(window_dimensions[:-1], prefix="k") as ki:
                pos, outside = _positions(ctx, oi, ki, *(g[:-1] for g in geom), x.shape[:-1])
                ctx.line(f"if ({outside}) continue;")
                with ctx.loops([c], prefix="c", simd=True) as (j,):
                    v = ctx.read(x, [*pos, j])
                    dest = ctx.at(out, [*oi, j])
                    ctx.line(f"{dest} = {combine(dest, v)};")
        return [Leaf(out, dt)]
    with ctx.loops(out.shape, parallel=ctx.parallel(work)) as oi:
        acc = ctx.fresh("acc")
        ctx.line(f"{CTYPE[dt]} {acc} = {init};")
        with ctx.loops(window_dimensions, prefix="k") as ki:
            pos, outside = _positions(ctx, oi, ki, window_strides, padding, base_dilation,
                                      window_dilation, x.shape)  # fmt: skip
            ctx.line(f"if ({outside}) continue;")
            v = ctx.read(x, pos)
            ctx.line(f"{acc} = {combine(acc, v)};")
        ctx.line(f"{ctx.at(out, oi)} = {acc};")
    return [Leaf(out, dt)]


for _p in (P.reduce_window_sum_p, P.reduce_window_max_p, P.reduce_window_min_p):
    register_kernel(_p, partial(_reduce_window, _p))
