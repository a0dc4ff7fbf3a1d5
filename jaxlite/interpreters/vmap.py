"""vmap's interpreter: a batching trace whose tracers carry a value and the position of its batch
dimension, and one batching rule per primitive. Rules run on the parent trace and are written
with `lax` ops (so they batch, differentiate and stage themselves); none loops over the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

import threading

from jaxlite import core, dtypes, jaxpr_util
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import ClosedJaxpr, ShapedArray, Tracer
from jaxlite.interpreters import staging
from jaxlite.interpreters.jvp import Zero
from jaxlite.primitives import _conv
from jaxlite.primitives import _callback as cb
from jaxlite.primitives._collective import COLLECTIVE_PRIMITIVES, axis_names_of
from jaxlite.primitives._eig import eig_p
from jaxlite.primitives._linalg import triangular_solve_p

# A batch dimension: the axis of the value that is mapped, or None (`not_mapped`): the value is
# the same for every example.
BatchDim = int | None
not_mapped = None

# Rule signature: rule(axis_size, vals, dims, **params) -> (out, out_dim), with lists of outputs
# and of dims for multiple_results primitives. `vals` live on the parent trace; at least one
# entry of `dims` is not None. A rule may return out_dim None (the output is not batched).
BatchRule = Callable[..., tuple[Any, Any]]
batch_rules: dict[core.Primitive, BatchRule] = {}


# ------------------------------------------------------------------------------------------
# The trace
# ------------------------------------------------------------------------------------------


class BatchTracer(Tracer):
    """A batched value: `val` has one more axis than the tracer, at position `bdim`."""

    __slots__ = ("_aval", "bdim", "val")

    def __init__(self, trace: BatchTrace, val, bdim: int):
        self._trace = trace
        self.val = val
        self.bdim = bdim
        self._aval = None

    @property
    def aval(self) -> ShapedArray:
        a = self._aval
        if a is None:
            val, d = self.val, self.bdim
            v = val._value if type(val) is Array else core.get_aval(val)  # the eager fast path
            weak = val.weak_type if type(val) is Array else v.weak_type
            a = self._aval = ShapedArray(v.shape[:d] + v.shape[d + 1 :], v.dtype, weak)
        return a


class BatchTrace(core.Trace):
    """Runs each primitive's batching rule on the parent trace."""

    def __init__(self, parent: core.Trace, axis_size: int, description: str = "vmap",
                 axis_name=None):  # fmt: skip
        self.parent = parent
        self.axis_size = axis_size
        self.description = description
        # NB: the name of the mapped axis (vmap's axis_name), or None. A call primitive's rule
        # batching a sub-jaxpr under this trace names its inner trace the same (`batch_call`).
        self.axis_name = axis_name

    def process_primitive(self, prim, args, params):
        # NB: other values (outer tracers included) go to the parent as they are; a tracer of a
        # finished trace is caught there.
        vals, dims, batched = [], [], False
        for x in args:  # NB: a loop, not comprehensions: this is the hot path
            if type(x) is BatchTracer and x._trace is self:
                vals.append(x.val)
                dims.append(x.bdim)
                batched = True
            else:
                vals.append(x)
                dims.append(None)
        # NB: set the context by hand: a contextmanager would cost ~1 us per primitive.
        name = self.axis_name
        if not batched and (name is None or not _uses_axis(prim, params, name)):
            prev = core.swap_trace(self.parent)
            try:
                return prim.bind(*args, **params)
            finally:
                core.swap_trace(prev)
        prev = core.swap_trace(self.parent)
        prev_name, _active.name = _active.name, name
        try:
            if name is not None and prim in _NAMED and name in axis_names_of(prim, params):
                out, out_dim = collective_batch_rules[prim](
                    self.axis_size, name, vals, dims, **params
                )
            else:
                rule = batch_rules.get(prim)
                if rule is None:
                    raise NotImplementedError(_missing_rule_message(self, prim, vals, dims))
                out, out_dim = rule(self.axis_size, vals, dims, **params)
        finally:
            _active.name = prev_name
            core.swap_trace(prev)
        if prim.multiple_results:
            return [o if d is None else BatchTracer(self, o, d) for o, d in zip(out, out_dim)]
        return out if out_dim is None else BatchTracer(self, out, out_dim)

    def to_val_dim(self, x) -> tuple[Any, BatchDim]:
        """The parent-level value and batch dimension of `x` (not this trace's: not mapped)."""
        if type(x) is BatchTracer and x._trace is self:
            return x.val, x.bdim
        return x, None


# ------------------------------------------------------------------------------------------
# Named axes: collectives over the mapped axis
# ------------------------------------------------------------------------------------------

# A collective naming this trace's axis: rule(axis_size, axis_name, vals, dims, **params) ->
# (out, out_dim), applied even when no operand is batched (interpreters/collective_rules.py).
# A collective naming another axis goes through `batch_rules` as any primitive.
collective_batch_rules: dict[core.Primitive, Callable] = {}
_NAMED = frozenset(COLLECTIVE_PRIMITIVES)


class _Active(threading.local):
    name = None  # the axis name of the BatchTrace whose rule is running


_active = _Active()


def active_axis_name():
    """The axis name of the batching rule running now (for call primitives' inner traces)."""
    return _active.name


def _uses_axis(prim, params, name) -> bool:
    """Whether `prim` (with `params`) runs a collective over the axis `name`, itself or inside
    its sub-jaxprs: then its batching rule runs even on unbatched operands."""
    if prim in _NAMED:
        return name in axis_names_of(prim, params)
    info = jaxpr_util.call_info(prim)
    if info is None:
        return False
    return any(_jaxpr_uses_axis(j, name) for j in _param_jaxprs(params, info.sub_jaxprs))


def _param_jaxprs(params, names):
    for n in names:
        value = params.get(n)
        for c in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(c, ClosedJaxpr):
                yield c.jaxpr
            elif isinstance(c, core.Jaxpr):
                yield c


def _jaxpr_uses_axis(jaxpr, name) -> bool:
    for eqn in jaxpr.eqns:
        if eqn.primitive in _NAMED:
            if name in axis_names_of(eqn.primitive, eqn.params):
                return True
        elif any(_jaxpr_uses_axis(j, name) for j in jaxpr_util.sub_jaxprs(eqn)):
            return True
    return False


def _missing_rule_message(trace, prim, vals, dims) -> str:
    shapes = ", ".join(
        f"{core.get_aval(v).str_short()} (batch axis {d})" for v, d in zip(vals, dims)
    )
    return (
        f"vmap: primitive '{prim.name}' has no batching rule (while tracing "
        f"{trace.description}, operands {shapes}).\n"
        "Fix: register a rule for it in jaxlite.interpreters.vmap.batch_rules (see the "
        "BatchRule signature there), or apply the operation outside vmap."
    )


# ------------------------------------------------------------------------------------------
# Batching jaxprs (for call primitives: jit, control flow, custom derivatives)
# ------------------------------------------------------------------------------------------


def batch_aval(aval: ShapedArray, dim: BatchDim, axis_size: int) -> ShapedArray:
    """The abstract value of `aval` with a batch axis of `axis_size` inserted at `dim`."""
    if dim is None:
        return aval
    shape = aval.shape[:dim] + (axis_size,) + aval.shape[dim:]
    return ShapedArray(shape, aval.dtype, aval.weak_type)


def batch_call(fun: Callable, axis_size: int, vals: Sequence, dims: Sequence, what: str):
    """Runs `fun` (flat lists in and out) on batched inputs under a new `BatchTrace`.

    `vals` live on the current trace, batched at `dims`. Returns the current-trace output values
    and their batch dimensions.
    """
    trace = BatchTrace(core.current_trace(), axis_size, f"vmap of {what}", _active.name)
    with core.new_trace(trace):
        args = [v if d is None else BatchTracer(trace, v, d) for v, d in zip(vals, dims)]
        pairs = [trace.to_val_dim(o) for o in fun(*args)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def batch_eval_jaxpr(closed: ClosedJaxpr, axis_size: int, vals: Sequence, dims: Sequence):
    """Evaluates `closed` on batched inputs (`vals` at parent level, batched at `dims`).

    Returns the parent-level output values and their batch dimensions.
    """
    return batch_call(core.jaxpr_as_fun(closed), axis_size, vals, dims, "a jaxpr")


def _batch_jaxpr(closed, axis_size, in_dims, finish) -> tuple[ClosedJaxpr, list]:
    in_avals = [batch_aval(a, d, axis_size) for a, d in zip(closed.in_avals, in_dims)]
    store: list = []

    def fun(*args):
        outs, dims = batch_eval_jaxpr(closed, axis_size, args, in_dims)
        outs, dims = finish(outs, dims)
        store.append(dims)
        return outs

    batched = staging.trace_to_jaxpr(fun, in_avals, "vmap of a jaxpr")
    return batched, store[0]


def batch_jaxpr(
    closed: ClosedJaxpr,
    axis_size: int,
    in_dims: Sequence[BatchDim],
    out_dims_instantiate: bool | Sequence[bool],
) -> tuple[ClosedJaxpr, list[BatchDim]]:
    """The jaxpr of `closed` mapped over inputs batched at `in_dims`.

    Args:
      closed: the per-example jaxpr.
      axis_size: the size of the batch axis.
      in_dims: one batch dimension per input (None: not mapped).
      out_dims_instantiate: True (for all outputs, or one bool per output) forces an output to be
        batched at axis 0; False leaves it where the batching rules put it, possibly unbatched.

    Returns:
      The batched jaxpr (its inputs have a batch axis inserted at `in_dims`) and the batch
      dimension of each of its outputs.

    Example:
      >>> batched, out_dims = batch_jaxpr(closed, 8, [0, None], True)  # out_dims == [0, ...]
    """
    n_out = len(closed.out_avals)
    inst = (
        [out_dims_instantiate] * n_out
        if isinstance(out_dims_instantiate, bool)
        else list(out_dims_instantiate)
    )

    def finish(outs, dims):
        new = [
            (matchaxis(axis_size, d, 0, o), 0) if force and d != 0 else (o, d)
            for o, d, force in zip(outs, dims, inst)
        ]
        return [p[0] for p in new], [p[1] for p in new]

    return _batch_jaxpr(closed, axis_size, list(in_dims), finish)


def batch_jaxpr_to(
    closed: ClosedJaxpr,
    axis_size: int,
    in_dims: Sequence[BatchDim],
    out_dims: Sequence[BatchDim],
) -> ClosedJaxpr:
    """Like `batch_jaxpr`, but forces output i to be batched at `out_dims[i]`.

    An `out_dims` entry of None requires that output to be unbatched (ValueError otherwise), as a
    loop carry that must keep its type does.
    """

    def finish(outs, dims):
        res = []
        for i, (o, d, want) in enumerate(zip(outs, dims, out_dims)):
            if want is None and d is not None:
                raise ValueError(
                    f"vmap: output {i} of the jaxpr is batched (axis {d}) but is required to be "
                    "unbatched"
                )
            res.append(o if want is None else matchaxis(axis_size, d, want, o))
        return res, list(out_dims)

    return _batch_jaxpr(closed, axis_size, list(in_dims), finish)[0]


# ------------------------------------------------------------------------------------------
# Combinators shared by the rules (also used by call primitives and gather/scatter)
# ------------------------------------------------------------------------------------------


def shape_of(x) -> tuple[int, ...]:
    """The shape of a parent-level value (Array, tracer, NumPy array or Python scalar)."""
    return () if type(x) in dtypes.PYTHON_SCALAR_DTYPES else x.shape


def shift_axis(axis: int, bdim: BatchDim) -> int:
    """A per-example axis as an axis of the batched value (whose batch axis is `bdim`)."""
    return axis if bdim is None or axis < bdim else axis + 1


def shift_axes(axes, bdim: BatchDim) -> tuple[int, ...]:
    """`shift_axis` of each axis in `axes`."""
    if bdim is None:
        return tuple(axes)
    return tuple([a + 1 if a >= bdim else a for a in axes])


def moveaxis(x, src: int, dst: int):
    """`x` with its axis `src` moved to position `dst` (one transpose; none if src == dst)."""
    if src == dst:
        return x
    perm = [i for i in range(len(shape_of(x))) if i != src]
    perm.insert(dst, src)
    return lax.transpose_p.bind(x, permutation=tuple(perm))


def broadcast_batch(x, axis_size: int, dim: int):
    """An unbatched `x` repeated `axis_size` times along a new axis at `dim`."""
    shape = tuple(shape_of(x))
    out_shape = shape[:dim] + (axis_size,) + shape[dim:]
    keep = tuple([i for i in range(len(out_shape)) if i != dim])
    return lax.broadcast_in_dim_p.bind(x, shape=out_shape, broadcast_dimensions=keep)


def matchaxis(axis_size: int, src: BatchDim, dst: int, x):
    """`x`, batched at `src` (None: not batched), as a value batched at `dst`."""
    if src is None:
        return broadcast_batch(x, axis_size, dst)
    return moveaxis(x, src, dst)


def bdim_at_front(x, dim: BatchDim, axis_size: int):
    """`x` batched at `dim` (or not batched) as a value batched at axis 0."""
    return matchaxis(axis_size, dim, 0, x)


def _first_batched(dims) -> int:
    return next(d for d in dims if d is not None)


def vectorized_batcher(prim, axis_size, vals, dims, **params):
    """Rule of a one-operand primitive that acts elementwise (any shape works)."""
    return prim.bind(vals[0], **params), dims[0]


def broadcast_batcher(prim, axis_size, vals, dims, **params):
    """Rule of an elementwise n-ary primitive with lax's rank-0 broadcasting.

    Operands batched at the same axis with the full per-example rank, and unbatched rank-0
    operands, are passed as they are. Otherwise batched operands move to a common axis; an
    unbatched full-rank operand, or a batched per-example scalar, is broadcast.
    """
    ranks = []
    for v, d in zip(vals, dims):  # NB: a loop, not a comprehension: this is a hot path
        ranks.append(len(shape_of(v)) - (d is not None))
    r = max(ranks)
    out_dim, as_is = None, True
    for d, k in zip(dims, ranks):
        if d is None:
            as_is = as_is and k == 0
        elif k < r:
            as_is = False
        elif out_dim is None:
            out_dim = d
        else:
            as_is = as_is and d == out_dim
    if as_is:
        return prim.bind(*vals, **params), out_dim
    if out_dim is None:
        out_dim = 0  # only per-example scalars are batched
    full = _full_batched_shape(vals, dims, ranks, r, out_dim, axis_size)
    args = []
    for v, d, k in zip(vals, dims, ranks):
        if d is None:
            args.append(v if k == 0 else broadcast_batch(v, axis_size, out_dim))
        elif k == r:
            args.append(moveaxis(v, d, out_dim))
        else:  # a batched per-example scalar meeting full-rank operands
            args.append(lax.broadcast_in_dim_p.bind(v, shape=full, broadcast_dimensions=(out_dim,)))
    return prim.bind(*args, **params), out_dim


def _full_batched_shape(vals, dims, ranks, r, out_dim, axis_size) -> tuple[int, ...]:
    v, d = next((v, d) for v, d, k in zip(vals, dims, ranks) if k == r)
    shape = shape_of(v)
    per_example = shape if d is None else shape[:d] + shape[d + 1 :]
    return per_example[:out_dim] + (axis_size,) + per_example[out_dim:]


def defvectorized(prim: core.Primitive) -> None:
    batch_rules[prim] = partial(vectorized_batcher, prim)


def defbroadcasting(prim: core.Primitive) -> None:
    batch_rules[prim] = partial(broadcast_batcher, prim)


def _register(prims, batcher) -> None:
    for p in prims:
        batch_rules[p] = partial(batcher, p)


# ------------------------------------------------------------------------------------------
# Elementwise
# ------------------------------------------------------------------------------------------

_UNARY = [
    lax.neg_p, lax.sign_p, lax.abs_p, lax.exp_p, lax.exp2_p, lax.log_p, lax.log1p_p,
    lax.expm1_p, lax.tanh_p, lax.logistic_p, lax.sin_p, lax.cos_p, lax.tan_p, lax.asin_p,
    lax.acos_p, lax.atan_p, lax.sinh_p, lax.cosh_p, lax.asinh_p, lax.acosh_p, lax.atanh_p,
    lax.sqrt_p, lax.rsqrt_p, lax.cbrt_p, lax.erf_p, lax.erf_inv_p, lax.floor_p, lax.ceil_p,
    lax.round_p, lax.not_p, lax.copy_p, lax.stop_gradient_p, lax.is_finite_p,
    lax.integer_pow_p, lax.convert_element_type_p, lax.bitcast_convert_type_p,
    lax.reduce_precision_p, lax.real_p, lax.imag_p, lax.conj_p,
]  # fmt: skip
_NARY = [
    lax.add_p, lax.sub_p, lax.mul_p, lax.div_p, lax.rem_p, lax.pow_p, lax.max_p, lax.min_p,
    lax.atan2_p, lax.nextafter_p, lax.and_p, lax.or_p, lax.xor_p, lax.shift_left_p,
    lax.shift_right_arithmetic_p, lax.shift_right_logical_p, lax.add_any_p, lax.eq_p, lax.ne_p,
    lax.lt_p, lax.le_p, lax.gt_p, lax.ge_p, lax.select_n_p, lax.clamp_p, lax.complex_p,
]  # fmt: skip
for _p in _UNARY:
    defvectorized(_p)
for _p in _NARY:
    defbroadcasting(_p)


def _full_shape_operands_batcher(prim, full_positions, axis_size, vals, dims, **params):
    """select_n's cases and clamp's operand must have the result's shape (only the others may
    be rank 0): an unbatched per-example scalar there is broadcast to the batch."""
    per_example_scalars = all(len(shape_of(v)) - (d is not None) == 0 for v, d in zip(vals, dims))
    if per_example_scalars:
        for i in full_positions(len(vals)):
            if dims[i] is None:
                vals, dims = list(vals), list(dims)
                vals[i], dims[i] = broadcast_batch(vals[i], axis_size, 0), 0
    return broadcast_batcher(prim, axis_size, vals, dims, **params)


batch_rules[lax.select_n_p] = partial(
    _full_shape_operands_batcher, lax.select_n_p, lambda n: range(1, n)
)
batch_rules[lax.clamp_p] = partial(_full_shape_operands_batcher, lax.clamp_p, lambda n: (1,))


# ------------------------------------------------------------------------------------------
# Reductions, arg-reductions and cumulative reductions
# ------------------------------------------------------------------------------------------


def _reduce_batcher(prim, axis_size, vals, dims, *, axes, **params):
    d = out_dim = dims[0]
    shifted = []
    for a in axes:  # NB: a loop, not generators: reductions are on the hot path
        if a < d:
            shifted.append(a)
            out_dim -= 1  # a reduced axis before the batch axis
        else:
            shifted.append(a + 1)
    return prim.bind(vals[0], axes=tuple(shifted), **params), out_dim


_register(
    [lax.reduce_sum_p, lax.reduce_prod_p, lax.reduce_max_p, lax.reduce_min_p, lax.reduce_and_p,
     lax.reduce_or_p, lax.argmax_p, lax.argmin_p],
    _reduce_batcher,
)  # fmt: skip


def _cumulative_batcher(prim, axis_size, vals, dims, *, axis, reverse):
    d = dims[0]
    return prim.bind(vals[0], axis=shift_axis(axis, d), reverse=reverse), d


_register([lax.cumsum_p, lax.cumprod_p, lax.cummax_p, lax.cummin_p], _cumulative_batcher)


def _fft_batcher(axis_size, vals, dims, **params):
    # The transformed axes are the trailing ones: the batch axis goes in front.
    return lax.fft_p.bind(moveaxis(vals[0], dims[0], 0), **params), 0


batch_rules[lax.fft_p] = _fft_batcher


# ------------------------------------------------------------------------------------------
# Shapes
# ------------------------------------------------------------------------------------------


def _broadcast_in_dim_rule(axis_size, vals, dims, *, shape, broadcast_dimensions):
    # The batch axis goes just after the output axis of the operand axis before it (so a batch
    # axis in front stays in front).
    (x,), (d,) = vals, dims
    bd = broadcast_dimensions
    pos = bd[d - 1] + 1 if d > 0 else 0
    new_bd = bd[:d] + (pos,) + tuple([b + 1 for b in bd[d:]])
    out_shape = shape[:pos] + (axis_size,) + shape[pos:]
    return lax.broadcast_in_dim_p.bind(x, shape=out_shape, broadcast_dimensions=new_bd), pos


batch_rules[lax.broadcast_in_dim_p] = _broadcast_in_dim_rule


def _reshape_rule(axis_size, vals, dims, *, new_sizes, dimensions):
    x = bdim_at_front(vals[0], dims[0], axis_size)
    return lax.reshape_p.bind(x, new_sizes=(axis_size,) + new_sizes, dimensions=dimensions), 0


batch_rules[lax.reshape_p] = _reshape_rule


def _transpose_rule(axis_size, vals, dims, *, permutation):
    d = dims[0]  # the batch axis stays where it is
    perm = list(shift_axes(permutation, d))
    perm.insert(d, d)
    return lax.transpose_p.bind(vals[0], permutation=tuple(perm)), d


batch_rules[lax.transpose_p] = _transpose_rule


def _squeeze_rule(axis_size, vals, dims, *, dimensions):
    d = dims[0]
    dimensions = shift_axes(dimensions, d)
    out_dim = d - sum(a < d for a in dimensions)
    return lax.squeeze_p.bind(vals[0], dimensions=dimensions), out_dim


batch_rules[lax.squeeze_p] = _squeeze_rule


def _expand_dims_rule(axis_size, vals, dims, *, dimensions):
    # Lay out the output's axes, then put the batch axis before the d-th operand axis.
    (x,), (d,) = vals, dims
    n_out = len(shape_of(x)) - 1 + len(dimensions)
    layout = ["new" if i in dimensions else "old" for i in range(n_out)]
    old_positions = [i for i, kind in enumerate(layout) if kind == "old"]
    layout.insert(old_positions[d] if d < len(old_positions) else n_out, "batch")
    new_dims = tuple(i for i, kind in enumerate(layout) if kind == "new")
    return lax.expand_dims_p.bind(x, dimensions=new_dims), layout.index("batch")


batch_rules[lax.expand_dims_p] = _expand_dims_rule


def _rev_rule(axis_size, vals, dims, *, dimensions):
    d = dims[0]
    return lax.rev_p.bind(vals[0], dimensions=shift_axes(dimensions, d)), d


batch_rules[lax.rev_p] = _rev_rule


def _concatenate_rule(axis_size, vals, dims, *, dimension):
    d = _first_batched(dims)
    xs = [v if vd == d else matchaxis(axis_size, vd, d, v) for v, vd in zip(vals, dims)]
    return lax.concatenate_p.bind(*xs, dimension=shift_axis(dimension, d)), d


batch_rules[lax.concatenate_p] = _concatenate_rule


def _pad_rule(axis_size, vals, dims, *, padding_config):
    (x, pad_value), (dx, dp) = vals, dims
    if dp is None:
        cfg = padding_config[:dx] + ((0, 0, 0),) + padding_config[dx:]
        return lax.pad_p.bind(x, pad_value, padding_config=cfg), dx
    # A batched padding value: pad with zeros, then select the value outside a padded mask.
    x = bdim_at_front(x, dx, axis_size)
    zero = _wrap(np.zeros((), core.get_aval(x).dtype))
    padded = lax.pad_p.bind(x, zero, padding_config=((0, 0, 0),) + padding_config)
    inside = lax.broadcast_in_dim(_wrap(np.array(True)), shape_of(x)[1:], ())
    mask = lax.pad_p.bind(inside, _wrap(np.array(False)), padding_config=padding_config)
    return broadcast_batcher(lax.select_n_p, axis_size, [mask, pad_value, padded], [None, dp, 0])


batch_rules[lax.pad_p] = _pad_rule


def _slice_rule(axis_size, vals, dims, *, start_indices, limit_indices, strides):
    d = dims[0]
    starts = start_indices[:d] + (0,) + start_indices[d:]
    limits = limit_indices[:d] + (axis_size,) + limit_indices[d:]
    strides = None if strides is None else strides[:d] + (1,) + strides[d:]
    out = lax.slice_p.bind(vals[0], start_indices=starts, limit_indices=limits, strides=strides)
    return out, d


batch_rules[lax.slice_p] = _slice_rule


def _iota_rule(axis_size, vals, dims, **params):
    # NB: iota has no operands, so BatchTrace never calls this (an unbatched primitive runs on
    # the parent); it is here so that the table covers every primitive.
    return lax.iota_p.bind(**params), None


batch_rules[lax.iota_p] = _iota_rule


# ------------------------------------------------------------------------------------------
# dynamic_slice and dynamic_update_slice
# ------------------------------------------------------------------------------------------
# With unbatched start indices the batch axis is one more sliced axis, taken whole. With batched
# start indices each example has its own window: a gather (a scatter for the update) whose
# operand and indices share a batching dimension, in CLIP mode (dynamic_slice's clamping), as
# JAX does. No loop over the batch, no one-hot.

_ZERO_INDEX = _wrap(np.zeros((), np.int32))


def _batched_start_indices(axis_size, starts, dims):
    """The start indices as one int64 array of shape (axis_size, len(starts)), batch first.

    NB: int64 holds every supported index dtype (int32, uint32, int64) exactly.
    """
    cols = []
    for s, d in zip(starts, dims):
        s = lax.convert_element_type(s, np.int64)
        cols.append(lax.broadcast_in_dim(s, (axis_size, 1), () if d is None else (0,)))
    return lax.concatenate(cols, 1)


def _dynamic_slice_rule(axis_size, vals, dims, *, slice_sizes):
    x, *starts = vals
    dx, *sdims = dims
    if all(d is None for d in sdims):
        starts = starts[:dx] + [_ZERO_INDEX] + starts[dx:]
        sizes = slice_sizes[:dx] + (axis_size,) + slice_sizes[dx:]
        return lax.dynamic_slice_p.bind(x, *starts, slice_sizes=sizes), dx
    x = bdim_at_front(x, dx, axis_size)
    window = tuple(range(1, len(slice_sizes) + 1))  # every axis but the batch axis 0
    dnums = lax.GatherDimensionNumbers(
        offset_dims=window,
        collapsed_slice_dims=(),
        start_index_map=window,
        operand_batching_dims=(0,),
        start_indices_batching_dims=(0,),
    )
    indices = _batched_start_indices(axis_size, starts, sdims)
    out = lax.gather(x, indices, dnums, (1, *slice_sizes), mode="clip")
    return out, 0


batch_rules[lax.dynamic_slice_p] = _dynamic_slice_rule


def _dynamic_update_slice_rule(axis_size, vals, dims):
    x, update, *starts = vals
    dx, du, *sdims = dims
    if all(d is None for d in sdims):
        d = dx if dx is not None else du
        x, update = matchaxis(axis_size, dx, d, x), matchaxis(axis_size, du, d, update)
        starts = starts[:d] + [_ZERO_INDEX] + starts[d:]
        return lax.dynamic_update_slice_p.bind(x, update, *starts), d
    x, update = bdim_at_front(x, dx, axis_size), bdim_at_front(update, du, axis_size)
    window = tuple(range(1, len(starts) + 1))  # every axis but the batch axis 0
    dnums = lax.ScatterDimensionNumbers(
        update_window_dims=window,
        inserted_window_dims=(),
        scatter_dims_to_operand_dims=window,
        operand_batching_dims=(0,),
        scatter_indices_batching_dims=(0,),
    )
    indices = _batched_start_indices(axis_size, starts, sdims)
    out = lax.scatter(x, indices, update, dnums, indices_are_sorted=True, unique_indices=True,
                      mode="clip")  # fmt: skip
    return out, 0


batch_rules[lax.dynamic_update_slice_p] = _dynamic_update_slice_rule


# ------------------------------------------------------------------------------------------
# dot_general and sort
# ------------------------------------------------------------------------------------------


def _dot_general_rule(axis_size, vals, dims, *, dimension_numbers, preferred_element_type):
    # Both batched: the batch axes become a new leading batch dimension of the product. One
    # batched: its batch axis is one more free axis. Never a loop, never a transpose.
    (x, y), (dx, dy) = vals, dims
    (xc, yc), (xb, yb) = dimension_numbers
    xc, xb, yc, yb = shift_axes(xc, dx), shift_axes(xb, dx), shift_axes(yc, dy), shift_axes(yb, dy)
    if dx is not None and dy is not None:
        dn, out_dim = ((xc, yc), ((dx,) + xb, (dy,) + yb)), 0
    elif dx is not None:
        x_free = [i for i in range(len(shape_of(x))) if i not in xc and i not in xb]
        dn, out_dim = ((xc, yc), (xb, yb)), len(xb) + x_free.index(dx)
    else:
        n_x_free = len(shape_of(x)) - len(xc) - len(xb)
        y_free = [i for i in range(len(shape_of(y))) if i not in yc and i not in yb]
        dn, out_dim = ((xc, yc), (xb, yb)), len(xb) + n_x_free + y_free.index(dy)
    out = lax.dot_general_p.bind(
        x, y, dimension_numbers=dn, preferred_element_type=preferred_element_type
    )
    return out, out_dim


batch_rules[lax.dot_general_p] = _dot_general_rule


def _sort_rule(axis_size, vals, dims, *, dimension, is_stable, num_keys):
    d = _first_batched(dims)
    ops = [v if vd == d else matchaxis(axis_size, vd, d, v) for v, vd in zip(vals, dims)]
    outs = lax.sort_p.bind(
        *ops, dimension=shift_axis(dimension, d), is_stable=is_stable, num_keys=num_keys
    )
    return outs, [d] * len(outs)


batch_rules[lax.sort_p] = _sort_rule


# ------------------------------------------------------------------------------------------
# gather / scatter family (JAX's rules): the batch axis becomes a window dimension when only
# the operand is batched, an index batch dimension when only the indices are, and a pair of
# operand/indices batching dimensions when both are. No loop, no one-hot.
# ------------------------------------------------------------------------------------------


def _shift(dims, k: int = 1) -> tuple[int, ...]:
    return tuple(d + k for d in dims)


def _gather_rule(
    axis_size,
    vals,
    dims,
    *,
    dimension_numbers,
    slice_sizes,
    unique_indices,
    indices_are_sorted,
    mode,
    fill_value,
):
    (operand, indices), (d_op, d_idx) = vals, dims
    dn = dimension_numbers
    params = dict(mode=mode, fill_value=fill_value)
    if d_idx is None:  # the batch axis is one more (whole) window dimension
        operand = moveaxis(operand, d_op, 0)
        gdn = lax.GatherDimensionNumbers(
            offset_dims=(0,) + _shift(dn.offset_dims),
            collapsed_slice_dims=_shift(dn.collapsed_slice_dims),
            start_index_map=_shift(dn.start_index_map),
            operand_batching_dims=_shift(dn.operand_batching_dims),
            start_indices_batching_dims=dn.start_indices_batching_dims,
        )
        out = lax.gather_p.bind(
            operand,
            indices,
            dimension_numbers=gdn,
            slice_sizes=(axis_size,) + slice_sizes,
            unique_indices=unique_indices,
            indices_are_sorted=indices_are_sorted,
            **params,
        )
        return out, 0
    indices = moveaxis(indices, d_idx, 0)
    if d_op is None:  # the batch axis is one more index batch dimension
        gdn = dn._replace(
            offset_dims=_shift(dn.offset_dims),
            start_indices_batching_dims=_shift(dn.start_indices_batching_dims),
        )
        out = lax.gather_p.bind(
            operand,
            indices,
            dimension_numbers=gdn,
            slice_sizes=slice_sizes,
            unique_indices=False,
            indices_are_sorted=False,
            **params,
        )
        return out, 0
    operand = moveaxis(operand, d_op, 0)
    gdn = lax.GatherDimensionNumbers(
        offset_dims=_shift(dn.offset_dims),
        collapsed_slice_dims=_shift(dn.collapsed_slice_dims),
        start_index_map=_shift(dn.start_index_map),
        operand_batching_dims=(0,) + _shift(dn.operand_batching_dims),
        start_indices_batching_dims=(0,) + _shift(dn.start_indices_batching_dims),
    )
    out = lax.gather_p.bind(
        operand,
        indices,
        dimension_numbers=gdn,
        slice_sizes=(1 if axis_size else 0,) + slice_sizes,
        unique_indices=unique_indices,
        indices_are_sorted=indices_are_sorted,
        **params,
    )
    return out, 0


batch_rules[lax.gather_p] = _gather_rule


def _scatter_rule(
    prim, axis_size, vals, dims, *, dimension_numbers, indices_are_sorted, unique_indices, mode
):
    (operand, indices, updates), (d_op, d_idx, d_up) = vals, dims
    dn = dimension_numbers
    operand = bdim_at_front(operand, d_op, axis_size)  # scattered into: always batched
    updates = bdim_at_front(updates, d_up, axis_size)
    params = dict(indices_are_sorted=indices_are_sorted, unique_indices=unique_indices, mode=mode)
    if d_idx is None:  # the batch axis is one more (whole) window dimension
        sdn = lax.ScatterDimensionNumbers(
            update_window_dims=(0,) + _shift(dn.update_window_dims),
            inserted_window_dims=_shift(dn.inserted_window_dims),
            scatter_dims_to_operand_dims=_shift(dn.scatter_dims_to_operand_dims),
            operand_batching_dims=_shift(dn.operand_batching_dims),
            scatter_indices_batching_dims=dn.scatter_indices_batching_dims,
        )
        return prim.bind(operand, indices, updates, dimension_numbers=sdn, **params), 0
    indices = moveaxis(indices, d_idx, 0)
    sdn = lax.ScatterDimensionNumbers(
        update_window_dims=_shift(dn.update_window_dims),
        inserted_window_dims=_shift(dn.inserted_window_dims),
        scatter_dims_to_operand_dims=_shift(dn.scatter_dims_to_operand_dims),
        operand_batching_dims=(0,) + _shift(dn.operand_batching_dims),
        scatter_indices_batching_dims=(0,) + _shift(dn.scatter_indices_batching_dims),
    )
    return prim.bind(operand, indices, updates, dimension_numbers=sdn, **params), 0


for _p in (lax.scatter_p, lax.scatter_add_p, lax.scatter_mul_p, lax.scatter_min_p,
           lax.scatter_max_p):  # fmt: skip
    batch_rules[_p] = partial(_scatter_rule, _p)


# ------------------------------------------------------------------------------------------
# Custom derivatives (registered by jaxlite/custom_derivatives.py, which owns the primitives)
# ------------------------------------------------------------------------------------------
# The call jaxpr is batched with every output at axis 0; the user's rules are wrapped so that
# they run vectorized, with their outputs at axis 0 too. NB: a rule that closes over a value
# batched by this vmap (rather than taking it as an argument) is not supported.


def _outputs_at_front(axis_size, outs, dims) -> list:
    return [
        Zero(batch_aval(o.aval, 0, axis_size)) if type(o) is Zero else matchaxis(axis_size, d, 0, o)
        for o, d in zip(outs, dims)
    ]


def _match_cotangent(axis_size, ct, src: BatchDim, dst: BatchDim):
    """A cotangent batched at `src` for an input batched at `dst` (unbatched: sum the batch)."""
    if ct is None or src == dst:
        return ct
    if dst is None:
        return lax.reduce_sum(ct, (src,))
    return matchaxis(axis_size, src, dst, ct)


def custom_jvp_call_batcher(prim, axis_size, vals, dims, *, call_jaxpr, jvp_jaxpr_fun,
                            num_consts, symbolic_zeros, name):  # fmt: skip
    """Rule of `custom_jvp_call`: batched primal jaxpr, vectorized JVP rule."""
    batched_call, _ = batch_jaxpr(call_jaxpr, axis_size, dims, True)
    arg_dims = list(dims[num_consts:])

    def batched_jvp(*primals_and_tangents):  # tangents are batched like their primals
        outs, out_dims = batch_call(
            jvp_jaxpr_fun, axis_size, primals_and_tangents, arg_dims * 2, f"the JVP of `{name}`"
        )
        return _outputs_at_front(axis_size, outs, out_dims)

    outs = prim.bind(
        *vals, call_jaxpr=batched_call, jvp_jaxpr_fun=batched_jvp, num_consts=num_consts,
        symbolic_zeros=symbolic_zeros, name=name,
    )  # fmt: skip
    return outs, [0] * len(outs)


def custom_vjp_call_batcher(prim, axis_size, vals, dims, *, call_jaxpr, fwd_jaxpr_fun, bwd,
                            num_consts, symbolic_zeros, name):  # fmt: skip
    """Rule of `custom_vjp_call`: batched primal jaxpr, vectorized fwd and bwd rules."""
    batched_call, _ = batch_jaxpr(call_jaxpr, axis_size, dims, True)
    arg_dims = list(dims[num_consts:])

    def batched_fwd(*args):  # outputs and residuals, all at axis 0
        outs, out_dims = batch_call(fwd_jaxpr_fun, axis_size, args, arg_dims, f"fwd of `{name}`")
        return _outputs_at_front(axis_size, outs, out_dims)

    def batched_bwd(*res_and_cts):  # one cotangent per argument, batched like the argument
        in_dims = [0] * len(res_and_cts)
        cts, ct_dims = batch_call(bwd, axis_size, res_and_cts, in_dims, f"bwd of `{name}`")
        return [_match_cotangent(axis_size, c, s, d) for c, s, d in zip(cts, ct_dims, arg_dims)]

    outs = prim.bind(
        *vals, call_jaxpr=batched_call, fwd_jaxpr_fun=batched_fwd, bwd=batched_bwd,
        num_consts=num_consts, symbolic_zeros=symbolic_zeros, name=name,
    )  # fmt: skip
    return outs, [0] * len(outs)


def custom_lin_batcher(prim, axis_size, vals, dims, *, num_res, bwd, out_avals, name):
    """Rule of `custom_lin` (the linear part of a custom_vjp function): operands at axis 0."""
    vals = [bdim_at_front(v, d, axis_size) for v, d in zip(vals, dims)]

    def batched_bwd(*res_and_cts):  # cotangents of the linear inputs, all batched at axis 0
        in_dims = [0] * len(res_and_cts)
        cts, ct_dims = batch_call(bwd, axis_size, res_and_cts, in_dims, f"bwd of `{name}`")
        return [_match_cotangent(axis_size, c, s, 0) for c, s in zip(cts, ct_dims)]

    batched_avals = tuple(batch_aval(a, 0, axis_size) for a in out_avals)
    outs = prim.bind(*vals, num_res=num_res, bwd=batched_bwd, out_avals=batched_avals, name=name)
    return outs, [0] * len(outs)


# ------------------------------------------------------------------------------------------
# Convolutions and windowed reductions
# ------------------------------------------------------------------------------------------


def _conv_general_dilated_rule(axis_size, vals, dims, **params):
    # lax's rule: the mapped axis folds into the batch (lhs), the out-features (rhs), or, when
    # both are mapped, into feature (or batch) groups. One convolution, never a loop.
    (lhs, rhs), (ld, rd) = vals, dims
    lspec, rspec, ospec = params["dimension_numbers"]
    G, B = params["feature_group_count"], params["batch_group_count"]
    into, out_of = _conv.reshape_axis_into, _conv.reshape_axis_out_of
    conv = partial(lax.conv_general_dilated_p.bind, **{**params})
    if ld is not None and rd is not None:
        if B > 1:
            lhs, params["batch_group_count"] = into(ld, lspec[0], lhs), B * axis_size
        else:
            lhs, params["feature_group_count"] = into(ld, lspec[1], lhs), G * axis_size
        out = lax.conv_general_dilated_p.bind(lhs, into(rd, rspec[0], rhs), **params)
        return out_of(ospec[1], axis_size, out), ospec[1]
    if ld is not None:
        if B == 1:
            out = conv(into(ld, lspec[0], lhs), rhs)
            return out_of(ospec[0], axis_size, out), ospec[0]
        lhs = out_of(lspec[0] + int(ld <= lspec[0]), B, lhs)
        lhs = into(ld + int(lspec[0] < ld), lspec[0] + 1, lhs)
        lhs = into(lspec[0], lspec[0], lhs)
        out = conv(lhs, rhs)
        return out_of(ospec[0], axis_size, out), ospec[0]
    if G == 1 and B == 1:
        out = conv(lhs, into(rd, rspec[0], rhs))
        return out_of(ospec[1], axis_size, out), ospec[1]
    # The groups stay outermost in the rhs out-features: factor them out, fold the mapped axis
    # into what remains, put them back; the same on the output.
    groups = max(G, B)
    rhs = out_of(rspec[0] + int(rd <= rspec[0]), groups, rhs)
    rhs = into(rd + int(rspec[0] < rd), rspec[0] + 1, rhs)
    rhs = into(rspec[0], rspec[0], rhs)
    out = conv(lhs, rhs)
    out = out_of(ospec[1], groups, out)
    out = out_of(ospec[1] + 1, axis_size, out)
    return into(ospec[1], ospec[1] + 1, out), ospec[1]


batch_rules[lax.conv_general_dilated_p] = _conv_general_dilated_rule


def _reduce_window_batcher(prim, axis_size, vals, dims, **params):
    # The mapped axis is one more dimension with a window of one.
    d = dims[0]
    fill = {"window_dimensions": 1, "window_strides": 1, "padding": (0, 0), "base_dilation": 1,
            "window_dilation": 1}  # fmt: skip
    new = {k: (*v[:d], fill[k], *v[d:]) for k, v in params.items()}
    return prim.bind(vals[0], **new), d


_register(
    [lax.reduce_window_sum_p, lax.reduce_window_max_p, lax.reduce_window_min_p],
    _reduce_window_batcher,
)


def _select_and_scatter_batcher(prim, axis_size, vals, dims, **params):
    # Both operands batched at the front: one more dimension with a window of one (as JAX).
    vals = [bdim_at_front(v, d, axis_size) for v, d in zip(vals, dims)]
    fill = {"window_dimensions": 1, "window_strides": 1, "padding": (0, 0), "base_dilation": 1,
            "window_dilation": 1}  # fmt: skip
    new = {k: ((fill[k], *v) if k in fill else v) for k, v in params.items()}
    return prim.bind(*vals, **new), 0


_register([lax.select_and_gather_add_p, lax.select_and_scatter_add_p], _select_and_scatter_batcher)
# triangular_solve: both operands batched at the front (the primitive has batch dimensions)
# ------------------------------------------------------------------------------------------


def _triangular_solve_rule(axis_size, vals, dims, **params):
    a, b = (bdim_at_front(v, d, axis_size) for v, d in zip(vals, dims))
    return triangular_solve_p.bind(a, b, **params), 0


batch_rules[triangular_solve_p] = _triangular_solve_rule


def _eig_rule(axis_size, vals, dims, **params):
    (x,), (d,) = vals, dims
    outs = eig_p.bind(bdim_at_front(x, d, axis_size), **params)
    return outs, [0] * len(outs)


batch_rules[eig_p] = _eig_rule


# ------------------------------------------------------------------------------------------
# Host callbacks (JAX's rules): debug callbacks run once per batch element, in order; pure
# callbacks as their `vmap_method` says; unordered io callbacks once per element
# ------------------------------------------------------------------------------------------


def _element(x, i: int, d: BatchDim):
    """`x`'s batch element `i` along `d` (`x` itself if not batched)."""
    if d is None:
        return x
    s = shape_of(x)
    start = tuple(i if k == d else 0 for k in range(len(s)))
    limit = tuple(i + 1 if k == d else n for k, n in enumerate(s))
    return lax.squeeze(lax.slice(x, start, limit), (d,))


def _stack(xs):
    return lax.concatenate([lax.expand_dims(x, (0,)) for x in xs], 0)


def _callback_sequential(prim, axis_size, vals, dims, **params):
    outs = [prim.bind(*[_element(v, i, d) for v, d in zip(vals, dims)], **params)
            for i in range(axis_size)]  # fmt: skip
    stacked = [_stack(list(col)) for col in zip(*outs)] if outs and outs[0] else []
    return stacked, [0] * len(stacked)


def _batched_avals(axis_size, result_avals):
    return tuple(ShapedArray((axis_size,) + a.shape, a.dtype, False) for a in result_avals)


def _pure_callback_rule(axis_size, vals, dims, *, vmap_method, result_avals, callback):
    params = dict(vmap_method=vmap_method, result_avals=result_avals, callback=callback)
    if vmap_method in ("sequential", "sequential_unrolled"):
        return _callback_sequential(cb.pure_callback_p, axis_size, vals, dims, **params)
    moved = [v if d is None else moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    if vmap_method in ("expand_dims", "broadcast_all"):
        size = axis_size if vmap_method == "broadcast_all" else 1
        moved = [broadcast_batch(v, size, 0) if d is None else v for v, d in zip(moved, dims)]
    elif vmap_method != "legacy_vectorized":
        raise NotImplementedError(
            "vmap is only supported for the pure_callback primitive when vmap_method is one of "
            "'sequential', 'sequential_unrolled', 'expand_dims', 'broadcast_all', or "
            f"'legacy_vectorized'. Got vmap_method={vmap_method!r}."
        )
    params["result_avals"] = _batched_avals(axis_size, result_avals)
    outs = cb.pure_callback_p.bind(*moved, **params)
    return outs, [0] * len(outs)


def _io_callback_rule(axis_size, vals, dims, *, ordered, **params):
    if ordered:
        raise ValueError("Cannot `vmap` ordered IO callback.")
    return _callback_sequential(cb.io_callback_p, axis_size, vals, dims, ordered=False, **params)


batch_rules[cb.debug_callback_p] = partial(_callback_sequential, cb.debug_callback_p)
batch_rules[cb.pure_callback_p] = _pure_callback_rule
batch_rules[cb.io_callback_p] = _io_callback_rule
# special functions (primitives/_special.py)
for _p in (lax.lgamma_p, lax.digamma_p, lax.erfc_p, lax.bessel_i0e_p, lax.bessel_i1e_p):
    defvectorized(_p)
for _p in (lax.igamma_p, lax.igammac_p, lax.igamma_grad_a_p, lax.zeta_p,
           lax.regularized_incomplete_beta_p):  # fmt: skip
    defbroadcasting(_p)
