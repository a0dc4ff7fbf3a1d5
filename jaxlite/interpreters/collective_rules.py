"""The rules of the named-axis collectives (primitives/_collective.py): JVP, transpose, and two
kinds of batching.

- Over the axis the batching trace maps (`vmap(..., axis_name="i")` and `psum(x, "i")`): the
  collective becomes ordinary array code over the batch axis (a reduction, a transpose, a
  reshape, a concatenation), whose output is unbatched when every example holds the same value.
  These run even on unbatched operands (`psum(1.0, "i")` is the axis size).
- Over another name (an outer vmap's axis, or a pmap's): the collective applies to the whole
  batched value, its axis parameters shifted past the batch axis.

Transposes as JAX defines them: psum's is psum (psum counts as psum followed by a broadcast to
every example); all_gather and psum_scatter transpose into each other; all_to_all into the
all_to_all with split and concat axes swapped; ppermute into the inverse permutation.
"""

from __future__ import annotations

import numpy as np

from jaxlite import primitives as lax
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import transpose as tp
from jaxlite.interpreters import vmap as batching
from jaxlite.interpreters.jvp import Zero
from jaxlite.primitives import _collective as C

# ------------------------------------------------------------------------------------------
# JVP and transpose
# ------------------------------------------------------------------------------------------

for _p in (C.psum_p, C.all_gather_p, C.reduce_scatter_p, C.all_to_all_p, C.ppermute_p):
    ad.deflinear(_p, unary=True)
ad.defzero(C.axis_index_p)


def _pminmax_jvp(prim, primals, tangents, *, axes, axis_index_groups):
    # Beyond JAX (which has no rule): as reduce_max, the tangent is shared equally between the
    # examples that hold the extremum.
    (x,), (t,) = primals, tangents
    g = axis_index_groups
    ans = prim.bind(x, axes=axes, axis_index_groups=g)
    if type(t) is Zero:
        return ans, Zero.from_primal(ans)
    hit = lax.convert_element_type(lax.eq(x, ans), x.dtype)
    count = C.psum_p.bind(hit, axes=axes, axis_index_groups=g)
    return ans, lax.div(C.psum_p.bind(lax.mul(t, hit), axes=axes, axis_index_groups=g), count)


ad.jvp_rules[C.pmax_p] = lambda p, t, **kw: _pminmax_jvp(C.pmax_p, p, t, **kw)
ad.jvp_rules[C.pmin_p] = lambda p, t, **kw: _pminmax_jvp(C.pmin_p, p, t, **kw)


def _linear(fn):
    def rule(ct, x, **params):
        if type(ct) is Zero:
            return [Zero(x.aval)]
        return [fn(ct, **params)]

    return rule


tp.transpose_rules[C.psum_p] = _linear(lambda ct, **params: C.psum_p.bind(ct, **params))
tp.transpose_rules[C.all_gather_p] = _linear(
    lambda ct, *, axis, **params: C.reduce_scatter_p.bind(ct, scatter_dimension=axis, **params)
)
tp.transpose_rules[C.reduce_scatter_p] = _linear(
    lambda ct, *, scatter_dimension, **params: C.all_gather_p.bind(
        ct, axis=scatter_dimension, **params
    )
)
tp.transpose_rules[C.all_to_all_p] = _linear(
    lambda ct, *, split_axis, concat_axis, **params: C.all_to_all_p.bind(
        ct, split_axis=concat_axis, concat_axis=split_axis, **params
    )
)
tp.transpose_rules[C.ppermute_p] = _linear(
    lambda ct, *, axis_name, perm: C.ppermute_p.bind(
        ct, axis_name=axis_name, perm=tuple((d, s) for s, d in perm)
    )
)


# ------------------------------------------------------------------------------------------
# Batching over another axis name: the collective on the whole batched value
# ------------------------------------------------------------------------------------------


def _same_dim(prim):
    def rule(n, vals, dims, **params):
        return prim.bind(vals[0], **params), dims[0]

    return rule


for _p in (C.psum_p, C.pmax_p, C.pmin_p, C.ppermute_p):
    batching.batch_rules[_p] = _same_dim(_p)


def _front(axis_size, x, d):
    return batching.bdim_at_front(x, d, axis_size)


def _all_gather_other(n, vals, dims, *, axis, **params):
    x = _front(n, vals[0], dims[0])
    return C.all_gather_p.bind(x, axis=axis + 1, **params), 0


def _reduce_scatter_other(n, vals, dims, *, scatter_dimension, **params):
    x = _front(n, vals[0], dims[0])
    return C.reduce_scatter_p.bind(x, scatter_dimension=scatter_dimension + 1, **params), 0


def _all_to_all_other(n, vals, dims, *, split_axis, concat_axis, **params):
    x = _front(n, vals[0], dims[0])
    out = C.all_to_all_p.bind(x, split_axis=split_axis + 1, concat_axis=concat_axis + 1, **params)
    return out, 0


def _axis_index_other(n, vals, dims, **params):
    return C.axis_index_p.bind(**params), None


batching.batch_rules[C.all_gather_p] = _all_gather_other
batching.batch_rules[C.reduce_scatter_p] = _reduce_scatter_other
batching.batch_rules[C.all_to_all_p] = _all_to_all_other
batching.batch_rules[C.axis_index_p] = _axis_index_other


# ------------------------------------------------------------------------------------------
# Batching over the named axis itself: ordinary array code over the batch axis
# ------------------------------------------------------------------------------------------


def _stacked(n, x, d):
    """`x` with the examples along axis 0 (an unbatched `x` repeated `n` times)."""
    if d is None:
        return batching.broadcast_batch(x, n, 0)
    return batching.moveaxis(x, d, 0)


def _rows(x, rows):
    """`x` (examples along axis 0) at the indices `rows`, in that order, along axis 0."""
    return lax.concatenate([lax.slice_in_dim(x, r, r + 1, axis=0) for r in rows], 0)


def _per_group(n, x, groups):
    """The examples of `x` (along axis 0) grouped: (groups, group size, ...)."""
    g = len(groups[0])
    xp = _rows(x, [i for grp in groups for i in grp])
    return lax.reshape(xp, (len(groups), g) + tuple(xp.shape[1:]))


def _to_examples(n, per_group, groups):
    """A value per group (axis 0) given to every example of the group: (n, ...)."""
    return _rows(per_group, [gi for gi, _ in C.group_of(groups, n)])


def _reduction_named(prim, reduce, unbatched):
    def rule(n, name, vals, dims, *, axes, axis_index_groups):
        x, d = vals[0], dims[0]
        groups = axis_index_groups
        if groups is not None:  # NB: one name only (checked by the wrapper)
            if d is None:
                return unbatched(x, len(groups[0])), None
            per = reduce(_per_group(n, batching.moveaxis(x, d, 0), groups), (1,))
            return _to_examples(n, per, groups), 0
        out = unbatched(x, n) if d is None else reduce(x, (d,))
        rest = tuple(a for a in axes if a != name)
        if rest:
            out = prim.bind(out, axes=rest, axis_index_groups=None)
        return out, None

    return rule


def _times(x, n):
    return lax.mul(x, n)


batching.collective_batch_rules[C.psum_p] = _reduction_named(C.psum_p, lax.reduce_sum, _times)
batching.collective_batch_rules[C.pmax_p] = _reduction_named(
    C.pmax_p, lax.reduce_max, lambda x, n: x
)
batching.collective_batch_rules[C.pmin_p] = _reduction_named(
    C.pmin_p, lax.reduce_min, lambda x, n: x
)


def _all_gather_named(n, name, vals, dims, *, axis_name, axis, tiled, axis_size,
                      axis_index_groups):  # fmt: skip
    x = _stacked(n, vals[0], dims[0])  # (n, *shape)
    groups = axis_index_groups
    if groups is not None:
        per = batching.moveaxis(_per_group(n, x, groups), 1, axis + 1)  # (G, ..., g, ...)
        if tiled:
            s = per.shape
            per = lax.reshape(per, s[: axis + 1] + (s[axis + 1] * s[axis + 2],) + s[axis + 3 :])
        return _to_examples(n, per, groups), 0
    out = batching.moveaxis(x, 0, axis)
    if tiled:
        shape = out.shape
        out = lax.reshape(out, shape[:axis] + (shape[axis] * shape[axis + 1],) + shape[axis + 2 :])
    return out, None


def _reduce_scatter_named(n, name, vals, dims, *, axis_name, scatter_dimension, tiled, axis_size,
                          axis_index_groups):  # fmt: skip
    x, d = vals[0], dims[0]
    if axis_index_groups is not None:
        return _reduce_scatter_groups(n, x, d, scatter_dimension, tiled, axis_index_groups), 0
    total = _times(x, n) if d is None else lax.reduce_sum(x, (d,))
    sd = scatter_dimension
    C._scatter_shape(total.shape, sd, tiled, n)  # NB: the checks, with psum_scatter's messages
    if tiled:
        s = total.shape
        total = lax.reshape(total, s[:sd] + (n, s[sd] // n) + s[sd + 1 :])
    return batching.moveaxis(total, sd, 0), 0


def _all_to_all_named(n, name, vals, dims, *, axis_name, split_axis, concat_axis, tiled,
                      axis_size, axis_index_groups):  # fmt: skip
    x = _stacked(n, vals[0], dims[0])  # (n sources, *shape)
    if axis_index_groups is not None:
        return _all_to_all_groups(n, x, split_axis, concat_axis, tiled, axis_index_groups), 0
    s = x.shape[1:]
    C._all_to_all_shape(s, split_axis, concat_axis, tiled, n)  # NB: the checks
    if not tiled:
        # y[i, ..., j at concat_axis, ...] = x[j, ..., i at split_axis, ...]
        z = batching.moveaxis(x, split_axis + 1, 0)  # (i, j, rest...)
        return batching.moveaxis(z, 1, concat_axis + 1), 0
    k = s[split_axis] // n
    z = lax.reshape(x, (n,) + s[:split_axis] + (n, k) + s[split_axis + 1 :])
    z = batching.moveaxis(z, split_axis + 1, 0)  # (i, j, s with split axis -> k)
    z = batching.moveaxis(z, 1, concat_axis + 1)  # sources just before the concat axis
    zs = z.shape
    c = concat_axis + 1
    return lax.reshape(z, zs[:c] + (zs[c] * zs[c + 1],) + zs[c + 2 :]), 0


def _block(x, axis: int, p: int, k: int, keep: bool):
    """Block `p` (of size `k`) of `x` along `axis`; without that axis if not `keep` (k == 1)."""
    out = lax.slice_in_dim(x, p * k, (p + 1) * k, axis=axis)
    if keep:
        return out
    s = out.shape
    return lax.reshape(out, s[:axis] + s[axis + 1 :])


def _reduce_scatter_groups(n, x, d, sd, tiled, groups):
    g = len(groups[0])
    x = _stacked(n, x, d)
    C._scatter_shape(tuple(x.shape[1:]), sd, tiled, g)  # NB: the checks
    total = lax.reduce_sum(_per_group(n, x, groups), (1,))  # (G, *shape)
    k = x.shape[1 + sd] // g if tiled else 1
    parts = [
        _block(lax.slice_in_dim(total, gi, gi + 1, axis=0), sd + 1, p, k, tiled)
        for gi, p in C.group_of(groups, n)
    ]
    return lax.concatenate(parts, 0)


def _all_to_all_groups(n, x, split_axis, concat_axis, tiled, groups):
    g = len(groups[0])
    C._all_to_all_shape(tuple(x.shape[1:]), split_axis, concat_axis, tiled, g)  # NB: the checks
    k = x.shape[1 + split_axis] // g if tiled else 1
    outs = []
    for gi, p in C.group_of(groups, n):
        # example i gets block p (its position) of each member's x, in the members' order
        chunks = [_block(lax.slice_in_dim(x, j, j + 1, axis=0), split_axis + 1, p, k, tiled)
                  for j in groups[gi]]  # fmt: skip
        if not tiled:  # NB: a new axis at concat_axis, of the group's size
            chunks = [
                lax.reshape(c, c.shape[: concat_axis + 1] + (1,) + c.shape[concat_axis + 1 :])
                for c in chunks
            ]
        outs.append(lax.concatenate(chunks, concat_axis + 1))
    return lax.concatenate(outs, 0)


def _ppermute_named(n, name, vals, dims, *, axis_name, perm):
    x = _stacked(n, vals[0], dims[0])
    src_of = {dst: src for src, dst in perm}
    zero = None
    parts = []
    for dst in range(n):
        if dst in src_of:
            parts.append(lax.slice_in_dim(x, src_of[dst], src_of[dst] + 1, axis=0))
        else:
            if zero is None:
                shape = (1,) + tuple(x.shape[1:])
                zero = lax.broadcast_in_dim(
                    lax.convert_element_type(np.zeros((), np.float32), x.dtype), shape, ()
                )
            parts.append(zero)
    return lax.concatenate(parts, 0), 0


def _axis_index_named(n, name, vals, dims, *, axis_name):
    return lax.iota(np.dtype(np.int32), n), 0


batching.collective_batch_rules[C.all_gather_p] = _all_gather_named
batching.collective_batch_rules[C.reduce_scatter_p] = _reduce_scatter_named
batching.collective_batch_rules[C.all_to_all_p] = _all_to_all_named
batching.collective_batch_rules[C.ppermute_p] = _ppermute_named
batching.collective_batch_rules[C.axis_index_p] = _axis_index_named
