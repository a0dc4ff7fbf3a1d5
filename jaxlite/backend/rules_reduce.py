"""C lowering rules of the reductions (reduce_*, argmin/argmax, cumulative ops) and of sort."""

from __future__ import annotations

import math
from collections.abc import Callable

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
    coalesce,
    leaves,
    reshape_view,
    sfx,
)
from jaxlite.backend.lower_ctx import register_kernel

# --- reductions ----------------------------------------------------------------------------


def _acc_dtype(prim, dt):
    # NB: float32 sums accumulate in float64 along the innermost axes (NumPy sums pairwise:
    # both are accurate where a float32 running sum of many terms is not).
    return dtypes.float64 if prim is P.reduce_sum_p and dt == dtypes.float32 else dt


def _combine(prim, dt) -> Callable[[str, str], str]:
    if prim in (P.reduce_sum_p, P.cumsum_p):
        return lambda a, b: f"{a} + {b}"
    if prim in (P.reduce_prod_p, P.cumprod_p):
        return lambda a, b: f"{a} * {b}"
    if prim in (P.reduce_max_p, P.cummax_p):
        return lambda a, b: f"jl_max_{sfx(dt)}({a}, {b})"
    if prim in (P.reduce_min_p, P.cummin_p):
        return lambda a, b: f"jl_min_{sfx(dt)}({a}, {b})"
    op = {P.reduce_and_p: "&", P.reduce_or_p: "|"}[prim]
    return lambda a, b: f"{a} {op * 2 if dt.kind == 'b' else op} {b}"


def _identity(prim, dt) -> str:
    if prim is P.reduce_sum_p:
        return c_literal(0, dt)
    if prim is P.reduce_prod_p:
        return c_literal(1, dt)
    if prim is P.reduce_and_p:
        return (
            "true" if dt.kind == "b" else c_literal(-1 if dt.kind == "i" else np.iinfo(dt).max, dt)
        )
    if prim is P.reduce_or_p:
        return c_literal(0, dt)
    big = prim is P.reduce_min_p
    if dtypes.is_float(dt):
        return c_literal(np.inf if big else -np.inf, dt)
    if dt.kind == "b":
        return "true" if big else "false"
    return c_literal(np.iinfo(dt).max if big else np.iinfo(dt).min, dt)


def _reduce(ctx, eqn, args, *, axes):
    prim, (x,), dt = eqn.primitive, args, eqn.outvars[0].aval.dtype
    out = ctx.new_output(eqn)
    init, combine = _identity(prim, dt), _combine(prim, dt)
    if math.prod(out.shape) == 0:
        return [Leaf(out, dt)]
    if math.prod(x.shape) == 0:
        ctx.write(Scalar(init, dt, out.shape), out)
        return [Leaf(out, dt)]
    # The output seen in the input's index space: stride 0 along the reduced axes.
    ostrides, k = [], 0
    for d in range(len(x.shape)):
        ostrides.append(0 if d in axes else out.strides[k])
        k += d not in axes
    target = View(out.buf, x.shape, ostrides)
    shape = coalesce(x.shape, [lf.view.strides for lf in leaves(x)] + [ostrides])
    x, target = ctx.reshape(x, shape), reshape_view(target, shape)
    reduced = [s == 0 and n > 1 for s, n in zip(target.strides, shape)]
    if not any(reduced):  # only size-1 axes are reduced
        ctx.write(x, target)
        return [Leaf(out, dt)]
    # Loops over the input in memory order; the innermost run of reduced axes accumulates in a
    # local, the output accumulates across the outer reduced axes (initialized first).
    t = len(shape)
    while t > 0 and reduced[t - 1]:
        t -= 1
    outer_reduced = any(reduced[:t])
    if outer_reduced:
        ctx.write(Scalar(init, dt, out.shape), out)
    acc_t = CTYPE[_acc_dtype(prim, dt)]
    work = math.prod(shape) * (1 + getattr(x, "cost", 0))
    # Threads share the outer loops when each writes its own outputs, else the reduction itself.
    outer_parallel = t > 0 and not outer_reduced and ctx.parallel(work)
    op = _OMP_REDUCTION.get((prim, dtypes.kind(dt)))
    with ctx.loops(shape[:t], parallel=outer_parallel, simd=t == len(shape)) as oidx:
        at = oidx + ["0"] * (len(shape) - t)
        if t == len(shape):
            x_at = ctx.read(x, oidx)
            ctx.line(f"{ctx.at(target, at)} = {combine(ctx.at(target, at), x_at)};")
        else:
            acc = ctx.fresh("acc")
            ctx.line(f"{acc_t} {acc} = {_identity(prim, _acc_dtype(prim, dt))};")
            if (prim, dtypes.kind(dt)) in _FLOAT_EXTREMA:
                _float_extremum(ctx, prim, x, oidx, shape[t:], acc, t == 0 and ctx.parallel(work))
            elif t == 0 and op is not None and dtypes.is_float(dt) and ctx.parallel(work):
                _chunked_reduce(ctx, x, shape, acc, acc_t, _identity(prim, _acc_dtype(prim, dt)),
                                op, combine)  # fmt: skip
            else:
                inner_parallel = t == 0 and op is not None and ctx.parallel(work)
                with ctx.loops(shape[t:], prefix="r", parallel=inner_parallel, simd=op is not None,
                               reduction=f"{op}:{acc}" if op else "") as ridx:  # fmt: skip
                    ctx.line(f"{acc} = {combine(acc, ctx.read(x, oidx + ridx))};")
            o = ctx.at(target, at)
            ctx.line(f"{o} = {combine(o, acc) if outer_reduced else acc};")
    return [Leaf(out, dt)]


# A float sum or product of a whole array shared among threads: in REDUCE_CHUNKS fixed parts of
# its outermost axis, each reduced alone (vectorized), then combined in order. The result depends
# on the shape only, never on the thread count (an OpenMP reduction clause combines one partial
# per thread: its result would change with the threads that csrc/jl_threads.h picks per call).
REDUCE_CHUNKS = 32


def _chunked_reduce(ctx, x, shape, acc, acc_t, init, op, combine):
    n0, nch = shape[0], min(shape[0], REDUCE_CHUNKS)
    part = ctx.fresh("part")
    ctx.line(f"{acc_t} {part}[{nch}];")
    with ctx.loops([nch], prefix="c", parallel=True) as (c,):
        a = ctx.fresh("acc")
        ctx.line(f"{acc_t} {a} = {init};")
        r = ctx.fresh("r")
        ctx._in_scope.add(r)
        if len(shape) == 1:
            ctx.line(f"#pragma omp simd reduction({op}:{a})")
        lo, hi = f"{c} * {n0}LL / {nch}", f"({c} + 1) * {n0}LL / {nch}"
        with ctx.block(f"for (int64_t {r} = {lo}; {r} < {hi}; {r}++)"):
            with ctx.loops(shape[1:], prefix="r", simd=True, reduction=f"{op}:{a}") as ridx:
                ctx.line(f"{a} = {combine(a, ctx.read(x, [r, *ridx]))};")
        ctx._in_scope.discard(r)
        ctx.line(f"{part}[{c}] = {a};")
    with ctx.loops([nch], prefix="c") as (c,):
        ctx.line(f"{acc} = {combine(acc, f'{part}[{c}]')};")


def _float_extremum(ctx, prim, x, oidx, rshape, acc, parallel):
    """The float max/min of `x` along the innermost `rshape` into `acc`, vectorized.

    NaN propagates (the first NaN, as NumPy and JAX give one): an OpenMP max/min reduction
    leaves NaN's order unspecified, so the vector loop ignores NaNs (`v > acc` is false for them)
    and ORs an `x != x` flag beside; only a row that holds a NaN is scanned again, in order."""
    dt, big = x.dtype, prim is P.reduce_min_p
    nan = ctx.fresh("nan")
    ctx.line(f"int {nan} = 0;")
    cmp, name = ("<", "min") if big else (">", "max")
    # NB: two clauses through the one `reduction` string `loops` takes.
    with ctx.loops(rshape, prefix="r", parallel=parallel, simd=True,
                   reduction=f"{name}:{acc}) reduction(|:{nan}") as ridx:  # fmt: skip
        v = ctx.fresh("v")
        ctx.line(f"const {CTYPE[dt]} {v} = {ctx.read(x, oidx + ridx)};")
        ctx.line(f"{acc} = {v} {cmp} {acc} ? {v} : {acc};")
        ctx.line(f"{nan} |= {v} != {v};")
    with ctx.block(f"if ({nan})"):
        combine = _combine(prim, dt)
        ctx.line(f"{acc} = {_identity(prim, dt)};")
        with ctx.loops(rshape, prefix="r") as ridx:
            ctx.line(f"{acc} = {combine(acc, ctx.read(x, oidx + ridx))};")


_FLOAT_EXTREMA = {(P.reduce_max_p, "f"), (P.reduce_min_p, "f")}

# The reductions OpenMP may reorder (and so vectorize): sums and products (floats too: the
# result changes in the last bits, as NumPy's pairwise sums do), integer and bool extrema and
# the bitwise ones. (Float extrema: `_float_extremum`.)
_OMP_REDUCTION = {
    **{(P.reduce_sum_p, k): "+" for k in "fiu"},
    **{(P.reduce_prod_p, k): "*" for k in "fiu"},
    **{(P.reduce_max_p, k): "max" for k in "iu"},
    **{(P.reduce_min_p, k): "min" for k in "iu"},
    (P.reduce_max_p, "b"): "||", (P.reduce_min_p, "b"): "&&",
    (P.reduce_and_p, "i"): "&", (P.reduce_and_p, "u"): "&", (P.reduce_and_p, "b"): "&&",
    (P.reduce_or_p, "i"): "|", (P.reduce_or_p, "u"): "|", (P.reduce_or_p, "b"): "||",
}  # fmt: skip


for _p in (P.reduce_sum_p, P.reduce_prod_p, P.reduce_max_p, P.reduce_min_p, P.reduce_and_p,
           P.reduce_or_p):  # fmt: skip
    register_kernel(_p, _reduce)


def _argminmax(ctx, eqn, args, *, axes, index_dtype):
    (x,), (axis,) = args, axes
    out = ctx.new_output(eqn)
    x = ctx.materialize(x, "arg") if type(x) is Op else x
    op = ">" if eqn.primitive is P.argmax_p else "<"
    t = CTYPE[x.dtype]
    kept = [n for d, n in enumerate(x.shape) if d != axis]
    with ctx.loops(kept) as oidx:
        best, bi = ctx.fresh("best"), ctx.fresh("arg")
        at = lambda k: oidx[:axis] + [k] + oidx[axis:]
        ctx.line(f"{t} {best} = {ctx.read(x, at('0'))};")
        ctx.line(f"int64_t {bi} = 0;")
        with ctx.loops([x.shape[axis]], prefix="r") as (r,):
            v = ctx.fresh("v")
            ctx.line(f"const {t} {v} = {ctx.read(x, at(r))};")
            better = f"{v} {op} {best}"
            if dtypes.is_float(x.dtype):  # the first NaN wins, as in NumPy
                better = f"{better} || (isnan({v}) && !isnan({best}))"
            with ctx.block(f"if ({better})"):
                ctx.line(f"{best} = {v};")
                ctx.line(f"{bi} = {r};")
        ctx.line(f"{ctx.at(out, oidx)} = ({CTYPE[index_dtype]}){bi};")
    return [Leaf(out, index_dtype)]


register_kernel(P.argmax_p, _argminmax)
register_kernel(P.argmin_p, _argminmax)


def _cumulative(ctx, eqn, args, *, axis, reverse):
    (x,), dt = args, eqn.outvars[0].aval.dtype
    out = ctx.new_output(eqn)
    if math.prod(x.shape) == 0:
        return [Leaf(out, dt)]
    combine = _combine(eqn.primitive, dt)
    with ctx.loops(x.shape, reverse={axis} if reverse else ()) as idx:
        v = ctx.read(x, idx)
        first = f"{idx[axis]} == {x.shape[axis] - 1 if reverse else 0}"
        prev = list(idx)
        prev[axis] = f"({idx[axis]} {'+' if reverse else '-'} 1)"
        ctx.line(f"{ctx.at(out, idx)} = {first} ? {v} : {combine(ctx.at(out, prev), v)};")
    return [Leaf(out, dt)]


for _p in (P.cumsum_p, P.cumprod_p, P.cummax_p, P.cummin_p):
    register_kernel(_p, _cumulative)


# --- sort ----------------------------------------------------------------------------------


def _sort(ctx, eqn, args, *, dimension, is_stable, num_keys):
    ops = [ctx.materialize(a, "sort") for a in args]
    shape = ops[0].shape
    n = shape[dimension]
    outs = [ctx.new_output(eqn, i) for i in range(len(ops))]
    if math.prod(shape) == 0:
        return [Leaf(o, a.dtype) for o, a in zip(outs, ops)]
    # A comparator over the keys' rows: lexicographic, NaN last (NumPy's order).
    tag = ctx.fresh("")
    fields = "".join(
        f" const {CTYPE[k.dtype]} *k{j}; int64_t s{j};" for j, k in enumerate(ops[:num_keys])
    )
    ctx.toplevel.append(f"typedef struct {{{fields} }} jl_sort_keys{tag};")
    body = [f"static bool jl_less{tag}(const void *p, int64_t a, int64_t b) {{",
            f"  const jl_sort_keys{tag} *c = p;"]  # fmt: skip
    for j, k in enumerate(ops[:num_keys]):
        t = CTYPE[k.dtype]
        body.append(f"  {{ const {t} x = c->k{j}[a * c->s{j}], y = c->k{j}[b * c->s{j}];")
        if dtypes.is_float(k.dtype):
            body.append("    if (x < y || (isnan(y) && !isnan(x))) return true;")
            body.append("    if (y < x || (isnan(x) && !isnan(y))) return false; }")
        elif k.dtype.kind == "c":  # lexicographic: the real parts, then the imaginary (as JAX)
            f = "f" if k.dtype == dtypes.complex64 else ""
            for part in ("creal", "cimag"):
                body.append(f"    {{ const {CTYPE[dtypes.to_real(k.dtype)]} xr = {part}{f}(x), "
                            f"yr = {part}{f}(y);")  # fmt: skip
                body.append("      if (xr < yr || (isnan(yr) && !isnan(xr))) return true;")
                body.append("      if (yr < xr || (isnan(xr) && !isnan(yr))) return false; }")
            body.append("  }")
        else:
            body.append("    if (x < y) return true;")
            body.append("    if (y < x) return false; }")
    body += ["  return false;", "}", ""]
    ctx.toplevel.extend(body)
    perm = ctx.alloc(f"perm{tag}", dtypes.int64, (2 * n,))
    rows = [m for d, m in enumerate(shape) if d != dimension]
    with ctx.loops(rows) as ridx:
        at = lambda k: ridx[:dimension] + [k] + ridx[dimension:]
        keys = ctx.fresh("keys")
        inits = ", ".join(f"&{ctx.at(k.view, at('0'))}, {k.view.strides[dimension]}"
                          for k in ops[:num_keys])  # fmt: skip
        ctx.line(f"const jl_sort_keys{tag} {keys} = {{{inits}}};")
        with ctx.loops([n], prefix="j") as (j,):
            ctx.line(f"{ctx.at(perm, [j])} = {j};")
        ctx.touch(perm.buf)
        ctx.line(f"jl_merge_sort({perm.buf}, {perm.buf} + {n}, {n}, jl_less{tag}, &{keys});")
        with ctx.loops([n], prefix="j") as (j,):
            for a, o in zip(ops, outs):
                value = ctx.read(a, at(ctx.at(perm, [j])))
                ctx.line(f"{ctx.at(o, at(j))} = {value};")
    return [Leaf(o, a.dtype) for o, a in zip(outs, ops)]


register_kernel(P.sort_p, _sort)
