"""Reverse mode: transposition of linear jaxprs. Only linear primitives have transpose rules;
`backward_pass` walks a linear jaxpr backwards, calling them, and accumulates cotangents with
`add_any`. `vjp` = `linearize` (jvp + partial evaluation) followed by this.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import math

import numpy as np

from jaxlite import core, dtypes
from jaxlite import primitives as lax
from jaxlite.array import _wrap
from jaxlite.core import ClosedJaxpr, Jaxpr, Literal, ShapedArray
from jaxlite.interpreters import staging
from jaxlite.primitives import _conv, _pooling
from jaxlite.interpreters.jvp import Zero, add_tangents, tangent_aval, zeros_like_aval
from jaxlite.primitives._linalg import triangular_solve_p


class UndefinedPrimal:
    """A linear input of a transpose rule: only its abstract value is known."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined_primal(x) -> bool:
    return type(x) is UndefinedPrimal


# Rule signature: rule(ct, *invals, **params) -> list with one cotangent per input (None for
# inputs that are not linear). Linear inputs arrive as `UndefinedPrimal(aval)`. `ct` is never a
# `Zero` for single-result primitives (backward_pass skips them); for multiple-result ones it is
# a list whose entries may be `Zero`.
TransposeRule = Callable[..., list]
transpose_rules: dict[core.Primitive, TransposeRule] = {}


def _transpose_error(prim: core.Primitive) -> NotImplementedError:
    return NotImplementedError(
        f"Transpose rule (for reverse-mode differentiation) for '{prim.name}' not implemented. "
        f"'{prim.name}' was applied to a value being differentiated in a function that should be "
        "linear in it (linear_transpose, or a primitive without a reverse-mode rule); use "
        "forward mode (jvp, jacfwd) or give the function a custom_vjp."
    )


def backward_pass(
    jaxpr: Jaxpr, consts: Sequence[Any], args: Sequence[Any], cts_out: Sequence[Any]
) -> list:
    """Transposes `jaxpr` with respect to its `UndefinedPrimal` arguments.

    Equations that do not depend on an undefined argument are evaluated forward first; the
    others are transposed in reverse order. Runs on the current trace.

    Args:
      jaxpr: a jaxpr linear in the inputs given as `UndefinedPrimal`.
      consts: values of its constvars.
      args: one per invar: a value, or `UndefinedPrimal(aval)` for a linear input.
      cts_out: one cotangent per output (`Zero` allowed).

    Returns:
      One cotangent per invar: `Zero` where none flowed (and for the non-linear inputs).
    """
    env: dict = dict(zip(jaxpr.constvars, consts))
    linear: set = set()
    for v, a in zip(jaxpr.invars, args):
        if type(a) is UndefinedPrimal:
            linear.add(v)
        else:
            env[v] = a

    linear_eqns = []
    for eqn in jaxpr.eqns:
        if linear.isdisjoint(eqn.invars):
            invals = [_read(env, v) for v in eqn.invars]
            outs = eqn.primitive.bind(*invals, **eqn.params)
            if eqn.primitive.multiple_results:
                env.update(zip(eqn.outvars, outs))
            else:
                env[eqn.outvars[0]] = outs
        else:
            linear_eqns.append(eqn)
            linear.update(eqn.outvars)

    ct_env: dict = {}
    for v, ct in zip(jaxpr.outvars, cts_out):
        _write_ct(ct_env, linear, v, ct)
    undefined: dict = {}  # one UndefinedPrimal per linear variable
    for eqn in reversed(linear_eqns):
        prim = eqn.primitive
        if prim.multiple_results:
            cts = [ct_env.pop(v, None) for v in eqn.outvars]
            if all(c is None for c in cts):
                continue
            ct = [Zero(tangent_aval(v.aval)) if c is None else c for v, c in zip(eqn.outvars, cts)]
        else:
            ct = ct_env.pop(eqn.outvars[0], None)
            if ct is None:
                continue
        rule = transpose_rules.get(prim)
        if rule is None:
            raise _transpose_error(prim)
        invals = []
        for v in eqn.invars:
            if v in linear:
                u = undefined.get(v)
                if u is None:
                    u = undefined[v] = UndefinedPrimal(v.aval)
                invals.append(u)
            else:
                invals.append(_read(env, v))
        cts_in = rule(ct, *invals, **eqn.params)
        for v, c in zip(eqn.invars, cts_in):
            if c is not None and v in linear and type(c) is not Zero:
                prev = ct_env.get(v)
                ct_env[v] = c if prev is None else add_tangents(prev, c)
    out = [ct_env.get(v) for v in jaxpr.invars]
    return [Zero(tangent_aval(v.aval)) if c is None else c for v, c in zip(jaxpr.invars, out)]


def _read(env: dict, v):
    if type(v) is Literal:
        # NB: a literal keeps its weak type (a NumPy scalar would make the result strong).
        return _wrap(v.val, v.aval.weak_type) if v.aval.weak_type else v.val
    return env[v]


def _write_ct(ct_env: dict, linear: set, v, ct) -> None:
    if type(ct) is Zero or v not in linear:
        return
    prev = ct_env.get(v)
    ct_env[v] = ct if prev is None else add_tangents(prev, ct)


def transpose_jaxpr(closed: ClosedJaxpr, linear: Sequence[bool]) -> ClosedJaxpr:
    """The transpose of a closed jaxpr that is linear in the inputs marked `linear`, for call
    primitives (jit, control flow, checkpoint).

    Returns:
      A closed jaxpr taking `(*non_linear_inputs, *cts_out)` (one cotangent per floating-point
      output, instantiated) and returning one cotangent (instantiated) per linear input.
    """
    in_avals = closed.in_avals
    nonlin_avals = [a for a, lin in zip(in_avals, linear) if not lin]
    float_outs = [dtypes.is_inexact(a.dtype) for a in closed.out_avals]
    ct_avals = [a for a, f in zip(closed.out_avals, float_outs) if f]

    def fun(*args):
        it = iter(args[: len(nonlin_avals)])
        cts = iter(args[len(nonlin_avals) :])
        ins = [UndefinedPrimal(a) if lin else next(it) for a, lin in zip(in_avals, linear)]
        cts_out = [
            next(cts) if f else Zero(tangent_aval(a)) for a, f in zip(closed.out_avals, float_outs)
        ]
        cts_in = backward_pass(closed.jaxpr, closed.consts, ins, cts_out)
        return [instantiate(ct) for ct, lin in zip(cts_in, linear) if lin]

    return staging.trace_to_jaxpr(fun, nonlin_avals + ct_avals, "transpose_jaxpr")


def instantiate(ct):
    return zeros_like_aval(ct.aval) if type(ct) is Zero else ct


# ------------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------------


# Hot rules bind primitives directly (the lax wrappers' scalar promotion is not needed here).
mul, div, neg = lax.mul_p.bind, lax.div_p.bind, lax.neg_p.bind


def _aval(x) -> ShapedArray:
    return x.aval if type(x) is UndefinedPrimal else core.get_aval(x)


def _unbroadcast(aval: ShapedArray, ct):
    """Sums `ct` down to a rank-0 operand's shape (lax broadcasts rank-0 operands implicitly)."""
    nd = len(ct.shape)
    if aval.shape == ct.shape or nd == 0:
        return ct
    return lax.reduce_sum_p.bind(ct, axes=tuple(range(nd)))


def _linear_unary(fn: Callable) -> Callable:
    """A rule for a primitive linear in its only input: `fn(ct, **params)` is its transpose."""

    def rule(ct, x, **params):
        return [fn(ct, x.aval, **params)]

    return rule


def _neg_t(ct, aval):
    return neg(ct)


transpose_rules[lax.neg_p] = _linear_unary(_neg_t)
transpose_rules[lax.copy_p] = _linear_unary(lambda ct, aval: ct)
transpose_rules[lax.reduce_precision_p] = _linear_unary(
    lambda ct, aval, **params: lax.reduce_precision_p.bind(ct, **params)
)


def _add_transpose(ct, x, y):
    return [
        _unbroadcast(x.aval, ct) if type(x) is UndefinedPrimal else None,
        _unbroadcast(y.aval, ct) if type(y) is UndefinedPrimal else None,
    ]


def _sub_transpose(ct, x, y):
    return [
        _unbroadcast(x.aval, ct) if type(x) is UndefinedPrimal else None,
        _unbroadcast(y.aval, neg(ct)) if type(y) is UndefinedPrimal else None,
    ]


transpose_rules[lax.add_p] = _add_transpose
transpose_rules[lax.add_any_p] = _add_transpose
transpose_rules[lax.sub_p] = _sub_transpose


def _check_one_linear(name: str, x, y):
    if type(x) is UndefinedPrimal and type(y) is UndefinedPrimal:
        raise NotImplementedError(
            f"Transpose rule for '{name}' got both operands linear ({x.aval.str_short()} and "
            f"{y.aval.str_short()}): the function is not linear in its inputs"
        )


def _mul_transpose(ct, x, y):
    if type(x) is UndefinedPrimal:
        if type(y) is UndefinedPrimal:
            _check_one_linear("mul", x, y)
        return [_unbroadcast(x.aval, mul(ct, y)), None]
    return [None, _unbroadcast(y.aval, mul(x, ct))]


def _div_transpose(ct, x, y):
    if type(y) is UndefinedPrimal:
        raise NotImplementedError(
            f"Transpose rule for 'div' with a linear denominator ({y.aval.str_short()}): "
            "division is linear in its numerator only"
        )
    return [_unbroadcast(x.aval, div(ct, y)), None]


transpose_rules[lax.mul_p] = _mul_transpose
transpose_rules[lax.div_p] = _div_transpose


def _select_n_transpose(ct, which, *cases):
    if type(which) is UndefinedPrimal:
        raise NotImplementedError("Transpose rule for 'select_n': the predicate cannot be linear")
    zeros = None
    out = [None]
    for i, c in enumerate(cases):
        if type(c) is not UndefinedPrimal:
            out.append(None)
            continue
        if zeros is None:
            zeros = zeros_like_aval(core.get_aval(ct))
        branches = [zeros] * len(cases)
        branches[i] = ct
        out.append(lax.select_n_p.bind(which, *branches))
    return out


transpose_rules[lax.select_n_p] = _select_n_transpose


def _convert_transpose(ct, x, *, new_dtype, weak_type=False):
    aval = x.aval
    return [lax.convert_element_type_p.bind(ct, new_dtype=aval.dtype, weak_type=aval.weak_type)]


transpose_rules[lax.convert_element_type_p] = _convert_transpose


# --- complex (issue 21): JAX's transposes, linear over the reals -----------------------------


def _zeros_of(x):
    return lax.broadcast_in_dim_p.bind(
        _wrap(np.zeros((), x.dtype), False), shape=x.shape, broadcast_dimensions=()
    )


transpose_rules[lax.real_p] = _linear_unary(lambda ct, aval: lax.complex(ct, _zeros_of(ct)))
transpose_rules[lax.imag_p] = _linear_unary(lambda ct, aval: lax.complex(_zeros_of(ct), neg(ct)))
transpose_rules[lax.conj_p] = _linear_unary(
    lambda ct, aval, input_dtype: lax.conj(ct) if input_dtype.kind == "c" else lax.real(ct)
)


def _complex_transpose(ct, x, y):
    return [
        _unbroadcast(x.aval, lax.real(ct)) if type(x) is UndefinedPrimal else None,
        _unbroadcast(y.aval, lax.imag(neg(ct))) if type(y) is UndefinedPrimal else None,
    ]


transpose_rules[lax.complex_p] = _complex_transpose


def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    """JAX's: FFT and IFFT are symmetric; RFFT is the transpose of "FFT of the real input, half
    kept" (pad, FFT, real part); IRFFT's is the RFFT of the cotangent, the doubled terms doubled,
    scaled, conjugated (JAX's convention for complex cotangents)."""
    T = lax.FftType
    if fft_type in (T.FFT, T.IFFT):
        return [lax.fft_p.bind(ct, fft_type=fft_type, fft_lengths=fft_lengths)]
    n = fft_lengths[-1]
    if fft_type == T.RFFT:
        cfg = [(0, 0, 0)] * (ct.ndim - 1) + [(0, n - ct.shape[-1], 0)]
        padded = lax.pad_p.bind(ct, _wrap(np.zeros((), ct.dtype), False), padding_config=tuple(cfg))
        return [lax.real(lax.fft_p.bind(padded, fft_type=T.FFT, fft_lengths=fft_lengths))]
    y = lax.fft_p.bind(ct, fft_type=T.RFFT, fft_lengths=fft_lengths)
    h, odd = y.shape[-1], n % 2
    mask = np.concatenate([[1.0], np.full(h - 2 + odd, 2.0), np.ones(1 - odd)])
    mask = mask / math.prod(fft_lengths)
    scale = _wrap(mask.astype(dtypes.to_real(y.dtype)), False)
    scale = lax.broadcast_in_dim_p.bind(scale, shape=y.shape, broadcast_dimensions=(y.ndim - 1,))
    return [lax.conj(lax.mul_p.bind(y, lax.convert_element_type(scale, y.dtype)))]


transpose_rules[lax.fft_p] = _fft_transpose


# --- reductions and scans -------------------------------------------------------------------


def _reduce_sum_transpose(ct, x, *, axes):
    shape = x.aval.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return [lax.broadcast_in_dim_p.bind(ct, shape=shape, broadcast_dimensions=kept)]


transpose_rules[lax.reduce_sum_p] = _reduce_sum_transpose
transpose_rules[lax.cumsum_p] = _linear_unary(
    lambda ct, aval, *, axis, reverse: lax.cumsum(ct, axis, not reverse)
)


# --- shapes ---------------------------------------------------------------------------------


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    # Sum over the new dimensions and over the operand's size-1 dimensions that were expanded.
    in_shape = x.aval.shape
    unit = tuple(
        i for i, d in enumerate(in_shape) if d == 1 and shape[broadcast_dimensions[i]] != 1
    )
    kept = [d for i, d in enumerate(broadcast_dimensions) if i not in unit]
    sum_axes = tuple(i for i in range(len(shape)) if i not in kept)
    out = lax.reduce_sum_p.bind(ct, axes=sum_axes) if sum_axes else ct
    return [lax.reshape(out, in_shape) if unit else out]


transpose_rules[lax.broadcast_in_dim_p] = _broadcast_in_dim_transpose
transpose_rules[lax.reshape_p] = _linear_unary(
    lambda ct, aval, *, new_sizes, dimensions: lax.reshape(ct, aval.shape)
)
transpose_rules[lax.transpose_p] = _linear_unary(
    lambda ct, aval, *, permutation: lax.transpose(ct, tuple(np.argsort(permutation)))
)
transpose_rules[lax.squeeze_p] = _linear_unary(
    lambda ct, aval, *, dimensions: lax.expand_dims(ct, dimensions)
)
transpose_rules[lax.expand_dims_p] = _linear_unary(
    lambda ct, aval, *, dimensions: lax.squeeze(ct, dimensions)
)
transpose_rules[lax.rev_p] = _linear_unary(lambda ct, aval, *, dimensions: lax.rev(ct, dimensions))


def _concatenate_transpose(ct, *operands, dimension):
    shape = ct.shape
    out, start = [], 0
    for x in operands:
        size = _aval(x).shape[dimension]
        if type(x) is UndefinedPrimal:
            starts = [0] * len(shape)
            limits = list(shape)
            starts[dimension], limits[dimension] = start, start + size
            out.append(lax.slice(ct, starts, limits))
        else:
            out.append(None)
        start += size
    return out


transpose_rules[lax.concatenate_p] = _concatenate_transpose


def _pad_transpose(ct, x, padding_value, *, padding_config):
    # As JAX: un-pad with negative padding, then drop the interior padding with a strided slice.
    lo, hi, interior = zip(*padding_config) if padding_config else ((), (), ())
    unpad = tuple((-a, -b, 0) for a, b in zip(lo, hi))
    unpadded = lax.pad(ct, 0, unpad)
    t_x = lax.slice(unpadded, (0,) * len(lo), unpadded.shape, tuple(i + 1 for i in interior))
    out = [t_x if type(x) is UndefinedPrimal else None, None]
    if type(padding_value) is UndefinedPrimal:
        all_ct = lax.reduce_sum(ct, tuple(range(len(ct.shape))))
        all_x = lax.reduce_sum(t_x, tuple(range(len(lo))))
        out[1] = lax.sub(all_ct, all_x)
    return out


transpose_rules[lax.pad_p] = _pad_transpose


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    shape = x.aval.shape
    if strides is None or all(s == 1 for s in strides):
        cfg = [(s, d - lim, 0) for s, lim, d in zip(start_indices, limit_indices, shape)]
    else:
        real_limits = [
            s + (0 if n == 0 else 1 + (n - 1) * st)
            for s, n, st in zip(start_indices, ct.shape, strides)
        ]
        cfg = [
            (s, d - lim, st - 1)
            for s, lim, d, st in zip(start_indices, real_limits, shape, strides)
        ]
    return [lax.pad(ct, 0, cfg)]


transpose_rules[lax.slice_p] = _slice_transpose


def _dynamic_slice_transpose(ct, x, *starts, slice_sizes):
    if any(type(s) is UndefinedPrimal for s in starts):
        raise NotImplementedError("Transpose rule for 'dynamic_slice': indices cannot be linear")
    zeros = zeros_like_aval(x.aval.strip_weak_type())
    return [lax.dynamic_update_slice_p.bind(zeros, ct, *starts)] + [None] * len(starts)


def _dynamic_update_slice_transpose(ct, x, update, *starts):
    if any(type(s) is UndefinedPrimal for s in starts):
        raise NotImplementedError(
            "Transpose rule for 'dynamic_update_slice': indices cannot be linear"
        )
    u_aval = _aval(update)
    ct_x = ct_u = None
    if type(x) is UndefinedPrimal:
        zeros = zeros_like_aval(u_aval.strip_weak_type())
        ct_x = lax.dynamic_update_slice_p.bind(ct, zeros, *starts)
    if type(update) is UndefinedPrimal:
        ct_u = lax.dynamic_slice_p.bind(ct, *starts, slice_sizes=u_aval.shape)
    return [ct_x, ct_u] + [None] * len(starts)


transpose_rules[lax.dynamic_slice_p] = _dynamic_slice_transpose
transpose_rules[lax.dynamic_update_slice_p] = _dynamic_update_slice_transpose


# --- dot_general and sort -------------------------------------------------------------------


def _ranges_like(*xs):
    start = 0
    for x in xs:
        yield tuple(range(start, start + len(x)))
        start += len(x)


def _remaining(n: int, *taken) -> list[int]:
    used = set().union(*map(set, taken))
    return [i for i in range(n) if i not in used]


def _dot_transpose_lhs(ct, x_aval: ShapedArray, y, dimension_numbers, swap_ans: bool = False):
    # JAX's rule: contract the cotangent with the other operand, then put the axes back in order.
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    y_ndim = len(_aval(y).shape)
    x_kept = _remaining(len(x_aval.shape), x_contract, x_batch)
    y_kept = _remaining(y_ndim, y_contract, y_batch)
    if swap_ans:
        ans_batch, ans_y, _ = _ranges_like(x_batch, y_kept, x_kept)
    else:
        ans_batch, _, ans_y = _ranges_like(x_batch, x_kept, y_kept)
    dims = ((ans_y, tuple(y_kept)), (ans_batch, tuple(y_batch)))
    x_contract_sorted_by_y = [x_contract[i] for i in np.argsort(y_contract)]
    out_axes = np.argsort(list(x_batch) + x_kept + x_contract_sorted_by_y)
    y_dtype = _aval(y).dtype
    if core.get_aval(ct).dtype != y_dtype:  # a preferred_element_type: lax needs equal dtypes
        ct = lax.convert_element_type(ct, y_dtype)
    out = lax.dot_general(ct, y, dims)
    out = lax.transpose(out, tuple(int(a) for a in out_axes))
    if core.get_aval(out).dtype != x_aval.dtype:
        out = lax.convert_element_type(out, x_aval.dtype)
    return out


def _dot_general_transpose(ct, x, y, *, dimension_numbers, preferred_element_type=None):
    _check_one_linear("dot_general", x, y)
    if type(x) is UndefinedPrimal:
        return [_dot_transpose_lhs(ct, x.aval, y, dimension_numbers), None]
    (xc, yc), (xb, yb) = dimension_numbers
    swapped = ((yc, xc), (yb, xb))
    return [None, _dot_transpose_lhs(ct, y.aval, x, swapped, swap_ans=True)]


transpose_rules[lax.dot_general_p] = _dot_general_transpose


def _sort_transpose(cts, *operands, dimension, is_stable, num_keys):
    # Sorting payload operands by known keys applies a permutation P; its transpose is P^-1,
    # which is a sort of the cotangents keyed by the permutation (an iota sorted by the keys).
    keys = operands[:num_keys]
    if any(type(k) is UndefinedPrimal for k in keys):
        raise NotImplementedError("Transpose rule for 'sort': the sort keys cannot be linear")
    shape = core.get_aval(keys[0]).shape
    iota = lax.broadcasted_iota(np.int64, shape, dimension)
    perm = lax.sort_p.bind(*keys, iota, dimension=dimension, is_stable=True, num_keys=num_keys)[-1]
    lin = [i for i, x in enumerate(operands) if type(x) is UndefinedPrimal]
    cts_lin = [instantiate(cts[i]) for i in lin]
    permuted = lax.sort_p.bind(perm, *cts_lin, dimension=dimension, is_stable=True, num_keys=1)
    out: list = [None] * len(operands)
    for i, c in zip(lin, permuted[1:]):
        out[i] = c
    return out


transpose_rules[lax.sort_p] = _sort_transpose


# ------------------------------------------------------------------------------------------
# gather / scatter family: rules are added here by the indexing work.
# ------------------------------------------------------------------------------------------


def _check_indices_known(name: str, indices) -> None:
    if type(indices) is UndefinedPrimal:
        raise NotImplementedError(f"Transpose rule for '{name}': the indices cannot be linear")


def _scatter_dnums_of(gdn) -> lax.ScatterDimensionNumbers:
    return lax.ScatterDimensionNumbers(
        update_window_dims=gdn.offset_dims,
        inserted_window_dims=gdn.collapsed_slice_dims,
        scatter_dims_to_operand_dims=gdn.start_index_map,
        operand_batching_dims=gdn.operand_batching_dims,
        scatter_indices_batching_dims=gdn.start_indices_batching_dims,
    )


def _gather_transpose(
    ct,
    operand,
    indices,
    *,
    dimension_numbers,
    slice_sizes,
    unique_indices,
    indices_are_sorted,
    mode,
    fill_value,
):
    # The cotangent of each window is added back where the window came from (JAX's rule: the
    # same mode, so dropped/filled windows get no cotangent).
    _check_indices_known("gather", indices)
    zeros = zeros_like_aval(operand.aval.strip_weak_type())
    out = lax.scatter_add_p.bind(
        zeros,
        indices,
        ct,
        dimension_numbers=_scatter_dnums_of(dimension_numbers),
        indices_are_sorted=indices_are_sorted,
        unique_indices=unique_indices,
        mode=mode,
    )
    return [out, None]


transpose_rules[lax.gather_p] = _gather_transpose


def _gather_dnums_of(sdn, operand_shape, updates_shape):
    gdn = lax.GatherDimensionNumbers(
        offset_dims=sdn.update_window_dims,
        collapsed_slice_dims=sdn.inserted_window_dims,
        start_index_map=sdn.scatter_dims_to_operand_dims,
        operand_batching_dims=sdn.operand_batching_dims,
        start_indices_batching_dims=sdn.scatter_indices_batching_dims,
    )
    window = iter(updates_shape[d] for d in sdn.update_window_dims)
    sizes = tuple(
        1 if d in sdn.inserted_window_dims or d in sdn.operand_batching_dims else next(window)
        for d in range(len(operand_shape))
    )
    return gdn, sizes


def _updates_ct(ct, indices, updates, dimension_numbers, mode, indices_are_sorted, unique_indices):
    """The cotangent of the updates: `ct` read back at their windows. Windows the scatter
    dropped read 0 ("fill" gather); under "clip" they read where they were clamped to."""
    gdn, sizes = _gather_dnums_of(dimension_numbers, ct.shape, updates.aval.shape)
    clip = mode is lax.GatherScatterMode.CLIP
    return lax.gather_p.bind(
        ct,
        indices,
        dimension_numbers=gdn,
        slice_sizes=sizes,
        unique_indices=unique_indices,
        indices_are_sorted=indices_are_sorted,
        mode=mode if clip else lax.GatherScatterMode.FILL_OR_DROP,
        fill_value=None if clip else 0,
    )


def _scatter_add_transpose(
    ct, operand, indices, updates, *, dimension_numbers, indices_are_sorted, unique_indices, mode
):
    _check_indices_known("scatter-add", indices)
    ct_op = ct if type(operand) is UndefinedPrimal else None
    ct_up = None
    if type(updates) is UndefinedPrimal:
        ct_up = _updates_ct(
            ct, indices, updates, dimension_numbers, mode, indices_are_sorted, unique_indices
        )
    return [ct_op, None, ct_up]


transpose_rules[lax.scatter_add_p] = _scatter_add_transpose


def _scatter_transpose(
    ct, operand, indices, updates, *, dimension_numbers, indices_are_sorted, unique_indices, mode
):
    # Only the unique-indices JVP stages a linear `scatter` (the other path uses scatter-add).
    _check_indices_known("scatter", indices)
    if not unique_indices:
        raise NotImplementedError(
            "Transpose rule for 'scatter' is only implemented with unique_indices=True (as in "
            "JAX); the jvp of a scatter with repeated indices uses scatter-add instead"
        )
    ct_op = ct_up = None
    if type(operand) is UndefinedPrimal:
        zeros = zeros_like_aval(ShapedArray(_aval(updates).shape, core.get_aval(ct).dtype))
        ct_op = lax.scatter_p.bind(
            ct,
            indices,
            zeros,
            dimension_numbers=dimension_numbers,
            indices_are_sorted=indices_are_sorted,
            unique_indices=unique_indices,
            mode=mode,
        )
    if type(updates) is UndefinedPrimal:
        ct_up = _updates_ct(
            ct, indices, updates, dimension_numbers, mode, indices_are_sorted, unique_indices
        )
    return [ct_op, None, ct_up]


transpose_rules[lax.scatter_p] = _scatter_transpose


def _scatter_mul_transpose(
    ct, operand, indices, updates, *, dimension_numbers, indices_are_sorted, unique_indices, mode
):
    # Linear in the operand only: each element is multiplied by a fixed product of updates.
    _check_indices_known("scatter-mul", indices)
    if type(updates) is UndefinedPrimal:
        raise NotImplementedError(
            "Transpose rule for 'scatter-mul': the updates cannot be linear (it multiplies them)"
        )
    out = lax.scatter_mul_p.bind(
        ct,
        indices,
        updates,
        dimension_numbers=dimension_numbers,
        indices_are_sorted=indices_are_sorted,
        unique_indices=unique_indices,
        mode=mode,
    )
    return [out, None, None]


transpose_rules[lax.scatter_mul_p] = _scatter_mul_transpose


# --- convolutions and windowed sums ---------------------------------------------------------
# lax's derivation: each cotangent of a convolution is a convolution of the cotangent with the
# other operand, its roles of batch and features exchanged, strides and dilations swapped.


def _as_dtype(x, dt):
    return x if core.get_aval(x).dtype == dt else lax.convert_element_type(x, dt)


def _conv_lhs_cotangent(g, lhs_aval, rhs, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, preferred_element_type):  # fmt: skip
    lspec, rspec, ospec = dimension_numbers
    groups = max(feature_group_count, batch_group_count)
    if groups > 1:  # the groups move from the rhs out-features into its in-features
        rhs = _conv.reshape_axis_out_of(rspec[0], groups, rhs)
        rhs = _conv.reshape_axis_into(rspec[0], rspec[1], rhs)
    rshape, gshape = core.get_aval(rhs).shape, core.get_aval(g).shape
    pads = _conv.conv_vjp_lhs_padding(
        [lhs_aval.shape[i] for i in lspec[2:]], [rshape[i] for i in rspec[2:]], window_strides,
        [gshape[i] for i in ospec[2:]], padding, lhs_dilation, rhs_dilation,
    )  # fmt: skip
    out = lax.conv_general_dilated_p.bind(
        _as_dtype(g, core.get_aval(rhs).dtype), lax.rev(rhs, rspec[2:]),
        window_strides=lhs_dilation, padding=pads, lhs_dilation=window_strides,
        rhs_dilation=rhs_dilation,
        dimension_numbers=lax.ConvDimensionNumbers(ospec, (rspec[1], rspec[0], *rspec[2:]), lspec),
        feature_group_count=groups, batch_group_count=1, preferred_element_type=None,
    )  # fmt: skip
    if batch_group_count > 1:  # the batch groups go back from the features into the batch
        out = _conv.reshape_axis_out_of(lspec[1], batch_group_count, out)
        out = _conv.reshape_axis_into(lspec[1], lspec[0], out)
    return _as_dtype(out, lhs_aval.dtype)


def _conv_rhs_cotangent(g, lhs, rhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, preferred_element_type):  # fmt: skip
    lspec, rspec, ospec = dimension_numbers
    swap = lambda s: (s[1], s[0], *s[2:])  # noqa: E731
    lshape, gshape = core.get_aval(lhs).shape, core.get_aval(g).shape
    pads = _conv.conv_vjp_rhs_padding(
        [lshape[i] for i in lspec[2:]], [rhs_aval.shape[i] for i in rspec[2:]], window_strides,
        [gshape[i] for i in ospec[2:]], padding, lhs_dilation, rhs_dilation,
    )  # fmt: skip
    out = lax.conv_general_dilated_p.bind(
        lhs, _as_dtype(g, core.get_aval(lhs).dtype), window_strides=rhs_dilation, padding=pads,
        lhs_dilation=lhs_dilation, rhs_dilation=window_strides,
        dimension_numbers=lax.ConvDimensionNumbers(swap(lspec), swap(ospec), swap(rspec)),
        feature_group_count=batch_group_count, batch_group_count=feature_group_count,
        preferred_element_type=None,
    )  # fmt: skip
    return _as_dtype(out, rhs_aval.dtype)


def _conv_general_dilated_transpose(ct, lhs, rhs, **params):
    _check_one_linear("conv_general_dilated", lhs, rhs)
    if 0 in core.get_aval(ct).shape:  # no output: no contribution (and no empty windows)
        x = lhs if type(lhs) is UndefinedPrimal else rhs
        cts = [zeros_like_aval(x.aval)]
    elif type(lhs) is UndefinedPrimal:
        cts = [_conv_lhs_cotangent(ct, lhs.aval, rhs, **params)]
    else:
        cts = [_conv_rhs_cotangent(ct, lhs, rhs.aval, **params)]
    return cts + [None] if type(lhs) is UndefinedPrimal else [None] + cts


transpose_rules[lax.conv_general_dilated_p] = _conv_general_dilated_transpose


def _reduce_window_sum_transpose(ct, x, *, window_dimensions, window_strides, padding,
                                 base_dilation, window_dilation):  # fmt: skip
    # Spread each output's cotangent back over its window: pad the cotangent (strides become
    # interior padding), then a windowed sum with the input's dilation as its strides.
    shape = x.aval.shape
    pads = _conv.conv_vjp_lhs_padding(shape, window_dimensions, window_strides,
                                      core.get_aval(ct).shape, padding, base_dilation,
                                      window_dilation)  # fmt: skip
    cfg = [(lo, hi, s - 1) for (lo, hi), s in zip(pads, window_strides)]
    padded = lax.pad(ct, 0, cfg)
    out = lax.reduce_window_sum_p.bind(
        padded, window_dimensions=window_dimensions, window_strides=base_dilation,
        padding=((0, 0),) * len(shape), base_dilation=(1,) * len(shape),
        window_dilation=window_dilation,
    )  # fmt: skip
    return [out]


transpose_rules[lax.reduce_window_sum_p] = _reduce_window_sum_transpose


def _select_and_gather_add_transpose(ct, t, x, *, select_prim, window_dimensions, window_strides,
                                     padding, base_dilation, window_dilation):  # fmt: skip
    # As JAX's: a scatter over the operand, base-dilated with the select's identity in its holes
    # (then the holes' cotangents dropped). Window dilation: not transposable (as JAX; the JVP of
    # a window-dilated max pool uses a composite instead).
    if any(d != 1 for d in window_dilation):
        raise NotImplementedError(
            "select_and_gather_add: no transpose with window dilation (window_dilation="
            f"{window_dilation}), as in JAX; differentiate reduce_window_max/min instead."
        )
    dilated = any(d != 1 for d in base_dilation)
    if dilated:
        ident = _pooling.select_identity(select_prim, core.get_aval(x).dtype).item()
        x = lax.pad(x, ident, [(0, 0, d - 1) for d in base_dilation])
    out = lax.select_and_scatter_add_p.bind(
        ct, x, select_prim=select_prim, window_dimensions=window_dimensions,
        window_strides=window_strides, padding=padding,
    )  # fmt: skip
    if dilated:
        shape = core.get_aval(out).shape
        out = lax.slice(out, (0,) * len(shape), shape, base_dilation)
    return [out, None]


def _select_and_scatter_add_transpose(ct, s, x, *, select_prim, window_dimensions,
                                      window_strides, padding):  # fmt: skip
    ones = (1,) * len(window_dimensions)
    out = lax.select_and_gather_add_p.bind(
        ct, x, select_prim=select_prim, window_dimensions=window_dimensions,
        window_strides=window_strides, padding=padding, base_dilation=ones, window_dilation=ones,
    )  # fmt: skip
    return [out, None]


transpose_rules[lax.select_and_gather_add_p] = _select_and_gather_add_transpose
transpose_rules[lax.select_and_scatter_add_p] = _select_and_scatter_add_transpose
# --- triangular_solve ---------------------------------------------------------------------


def _triangular_solve_transpose(ct, a, b, *, transpose_a, **params):
    # Linear in b only (like div, swapped): the cotangent is solved with op(a) transposed.
    if type(a) is UndefinedPrimal:
        raise NotImplementedError("Transpose rule for 'triangular_solve': a cannot be linear")
    return [None, triangular_solve_p.bind(a, ct, transpose_a=not transpose_a, **params)]


transpose_rules[triangular_solve_p] = _triangular_solve_transpose
