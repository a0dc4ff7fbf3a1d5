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


def _pminmax_jvp(prim, primals, tangents, *, axes):
    # Beyond JAX (which has no rule): as reduce_max, the tangent is shared equally between the
    # examples that hold the extremum.
    (x,), (t,) = primals, tangents
    ans = prim.bind(x, axes=axes)
    if type(t) is Zero:
        return ans, Zero.from_primal(ans)
    hit = lax.convert_element_type(lax.eq(x, ans), x.dtype)
    count = C.psum_p.bind(hit, axes=axes)
    return ans, lax.div(C.psum_p.bind(lax.mul(t, hit), axes=axes), count)


ad.jvp_rules[C.pmax_p] = lambda p, t, **kw: _pminmax_jvp(C.pmax_p, p, t, **kw)
ad.jvp_rules[C.pmin_p] = lambda p, t, **kw: _pminmax_jvp(C.pmin_p, p, t, **kw)


def _linear(fn):
    def rule(ct, x, **params):
        if type(ct) is Zero:
            return [Zero(x.aval)]
        return [fn(ct, **params)]

    return rule


tp.transpose_rules[C.psum_p] = _linear(lambda ct, *, axes: C.psum_p.bind(ct, axes=axes))
tp.transpose_rules[C.all_gather_p] = _linear(
    lambda ct, *, axis_name, axis, tiled, axis_size: C.reduce_scatter_p.bind(
        ct, axis_name=axis_name, scatter_dimension=axis, tiled=tiled, axis_size=axis_size
    )
)
tp.transpose_rules[C.reduce_scatter_p] = _linear(
    lambda ct, *, axis_name, scatter_dimension, tiled, axis_size: C.all_gather_p.bind(
        ct, axis_name=axis_name, axis=scatter_dimension, tiled=tiled, axis_size=axis_size
    )
)
tp.transpose_rules[C.all_to_all_p] = _linear(
    lambda ct, *, axis_name, split_axis, concat_axis, tiled, axis_size: C.all_to_all_p.bind(
        ct,
        axis_name=axis_name,
        split_axis=concat_axis,
        concat_axis=split_axis,
        tiled=tiled,
        axis_size=axis_size,
    )  # fmt: skip
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


def _reduction_named(prim, reduce, unbatched):
    def rule(n, name, vals, dims, *, axes):
        x, d = vals[0], dims[0]
        out = unbatched(x, n) if d is None else reduce(x, (d,))
        rest = tuple(a for a in axes if a != name)
        if rest:
            out = prim.bind(out, axes=rest)
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


def _all_gather_named(n, name, vals, dims, *, axis_name, axis, tiled, axis_size):
    x = _stacked(n, vals[0], dims[0])  # (n, *shape)
    out = batching.moveaxis(x, 0, axis)
    if tiled:
        shape = out.shape
        out = lax.reshape(out, shape[:axis] + (shape[axis] * shape[axis + 1],) + shape[axis + 2 :])
    return out, None


def _reduce_scatter_named(n, name, vals, dims, *, axis_name, scatter_dimension, tiled, axis_size):
    x, d = vals[0], dims[0]
    total = _times(x, n) if d is None else lax.reduce_sum(x, (d,))
    sd = scatter_dimension
    C._scatter_shape(total.shape, sd, tiled, n)  # NB: the checks, with psum_scatter's messages
    if tiled:
        s = total.shape
        total = lax.reshape(total, s[:sd] + (n, s[sd] // n) + s[sd + 1 :])
    return batching.moveaxis(total, sd, 0), 0


def _all_to_all_named(n, name, vals, dims, *, axis_name, split_axis, concat_axis, tiled,
                      axis_size):  # fmt: skip
    x = _stacked(n, vals[0], dims[0])  # (n sources, *shape)
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
