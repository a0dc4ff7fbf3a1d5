"""`lax.scan`: the `scan` primitive holds a closed body jaxpr `(consts, carry, x) -> (carry, y)`;
its operands are `(*consts, *init, *xs)` and its outputs `(*final_carry, *stacked_ys)`. Every
rule is registered here; reverse mode stacks the residuals of each iteration as extra `ys`.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

import numpy as np

from jaxlite import dtypes
from jaxlite import api_util, core, jaxpr_util, tree_util
from jaxlite.array import _wrap
from jaxlite.backend import fold_sum2, lower, scan_hoist
from jaxlite.backend.lower import Leaf, Scalar, c_literal
from jaxlite.control_flow import c_lowering, common
from jaxlite.core import ClosedJaxpr, ShapedArray
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import partial_eval as pe
from jaxlite.interpreters import transpose as tp
from jaxlite.interpreters import vmap as bt

scan_p = core.Primitive("scan", multiple_results=True)


def _stacked(aval: ShapedArray, length: int) -> ShapedArray:
    return ShapedArray((length, *aval.shape), aval.dtype, aval.weak_type)


def _unstacked(aval: ShapedArray) -> ShapedArray:
    return ShapedArray(aval.shape[1:], aval.dtype, aval.weak_type)


def _params(jaxpr: ClosedJaxpr, length: int, reverse: bool, unroll: int, num_consts: int,
            num_carry: int) -> dict:  # fmt: skip
    """The parameters of a scan equation, with JAX's names (printed in JAX's order)."""
    return dict(
        _split_transpose=False,
        jaxpr=jaxpr,
        length=length,
        linear=(False,) * len(jaxpr.in_avals),
        num_carry=num_carry,
        num_consts=num_consts,
        reverse=reverse,
        unroll=unroll,
    )


def bind_scan(jaxpr, consts, init, xs, *, length, reverse=False, unroll=1, bind=None) -> list:
    """Binds `scan` (on the current trace, or with `bind(prim, args, params)`)."""
    params = _params(jaxpr, length, reverse, unroll, len(consts), len(init))
    args = [*consts, *init, *xs]
    if bind is not None:
        return bind(scan_p, args, params)
    return scan_p.bind(*args, **params)


# ------------------------------------------------------------------------------------------
# Eval and abstract eval
# ------------------------------------------------------------------------------------------


def _scan_impl(*args, jaxpr, length, reverse, num_consts, num_carry, **_):
    out_avals = _scan_abstract(*map(core.get_aval, args), jaxpr=jaxpr, length=length,
                               num_consts=num_consts, num_carry=num_carry)  # fmt: skip
    run = common.numpy_evaluator(jaxpr)
    if run is not None:
        try:
            carry, ys = _numpy_loop(run, args, jaxpr, length, reverse, num_consts, num_carry)
        except Exception:  # NB: the eager interpreter below raises the message naming the op
            if common.has_collectives(jaxpr):
                raise  # NB: no replay: its collectives would not be the other ranks' (MPI)
            run = None
    if run is None:
        carry, ys = _eval_loop(args, jaxpr, length, reverse, num_consts, num_carry)
    carry = common.impl_outputs(carry, out_avals[:num_carry])
    return carry + [_wrap(y, a.weak_type) for y, a in zip(ys, out_avals[num_carry:])]


def _numpy_loop(run, args, jaxpr, length, reverse, num_consts, num_carry):
    """The loop on NumPy arrays (`run`: the body's `common.numpy_evaluator`): `(final carry,
    stacked ys)`."""
    consts, carry, xs = common.split([core.to_numpy(a) for a in args], num_consts, num_carry)
    ys = [np.empty((length, *a.shape), a.dtype) for a in jaxpr.out_avals[num_carry:]]
    for i in range(length):
        t = length - 1 - i if reverse else i
        outs = run(*consts, *carry, *[x[t, ...] for x in xs])  # NB: 0-d arrays, not scalars
        carry = outs[:num_carry]
        for buf, y in zip(ys, outs[num_carry:]):
            buf[t] = y
    return carry, ys


def _eval_loop(args, jaxpr, length, reverse, num_consts, num_carry):
    """The loop binding each equation on the eager trace: `(final carry, stacked ys)`."""
    consts, carry, xs = common.split(args, num_consts, num_carry)
    xs = [core.to_numpy(x) for x in xs]
    x_weak = [a.weak_type for a in jaxpr.in_avals[num_consts + num_carry :]]
    ys = [np.empty((length, *a.shape), a.dtype) for a in jaxpr.out_avals[num_carry:]]
    with core.set_current_trace(core.eval_trace):
        for i in range(length):
            t = length - 1 - i if reverse else i
            x_t = [_wrap(x[t], w) for x, w in zip(xs, x_weak)]
            outs = core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *consts, *carry, *x_t)
            carry = outs[:num_carry]
            for buf, y in zip(ys, outs[num_carry:]):
                buf[t] = core.to_numpy(y)
    return carry, ys


scan_p.def_custom_impl(_scan_impl)


def _scan_abstract(*avals, jaxpr, length, num_consts, num_carry, **_):
    consts, init, xs = common.split(avals, num_consts, num_carry)
    body_in = jaxpr.in_avals
    expected = [*consts, *init, *(_unstacked(x) for x in xs)]
    bad_xs = [x for x in xs if x.shape[:1] != (length,)]
    if len(body_in) != len(avals) or bad_xs or not all(map(common.typematch, body_in, expected)):
        raise TypeError(
            f"scan: the body takes ({', '.join(a.str_short() for a in body_in)}) but the "
            f"operands give ({', '.join(a.str_short() for a in expected)}) for length {length}"
        )
    carry_out, ys = common.split(jaxpr.out_avals, num_carry)
    if not all(map(common.typematch, carry_out, init)):
        raise TypeError(
            "scan: the body's carry output types "
            f"({', '.join(a.str_short() for a in carry_out)}) differ from the carry input types "
            f"({', '.join(a.str_short() for a in init)})"
        )
    carry = [b.update(weak_type=a.weak_type and b.weak_type) for a, b in zip(init, carry_out)]
    return carry + [_stacked(y, length) for y in ys]


scan_p.def_abstract_eval(_scan_abstract)


# ------------------------------------------------------------------------------------------
# jvp
# ------------------------------------------------------------------------------------------


def _scan_jvp(primals, tangents, *, jaxpr, length, reverse, unroll, num_consts, num_carry, **_):
    nz = common.nonzero_tangents(primals, tangents)
    const_nz, init_nz, xs_nz = common.split(nz, num_consts, num_carry)
    n_ys = len(jaxpr.out_avals) - num_carry

    def jvp(carry_nz):
        return ad.jvp_jaxpr(jaxpr, const_nz + carry_nz + xs_nz, carry_nz + [False] * n_ys)

    carry_nz = common.fixed_point(lambda c: jvp(c)[1][:num_carry], init_nz)
    jvp_closed, out_nz = jvp(carry_nz)
    ys_nz = out_nz[num_carry:]
    # The jvp jaxpr takes (primals, nonzero tangents) and returns (primal outs, nonzero tangent
    # outs); the scan needs each group's tangents next to its primals.
    n_in, n_ct_c, n_ct_k = len(nz), sum(const_nz), sum(carry_nz)
    prim_c, prim_k, prim_x = common.split(range(n_in), num_consts, num_carry)
    tangent_ins = range(n_in, n_in + n_ct_c + n_ct_k + sum(xs_nz))
    tan_c, tan_k, tan_x = common.split(tangent_ins, n_ct_c, n_ct_k)
    n_out = len(jaxpr.out_avals)
    prim_kout, prim_y = common.split(range(n_out), num_carry)
    tan_kout, tan_y = common.split(range(n_out, n_out + n_ct_k + sum(ys_nz)), n_ct_k)
    body = common.permute(
        jvp_closed,
        prim_c + tan_c + prim_k + tan_k + prim_x + tan_x,
        prim_kout + tan_kout + prim_y + tan_y,
    )
    body, hoisted = common.hoist_consts(body)
    consts, init, xs = common.split(primals, num_consts, num_carry)
    t_consts, t_init, t_xs = common.split(tangents, num_consts, num_carry)
    t_consts = [t for t, n in zip(t_consts, const_nz) if n]
    t_init = [ad.instantiate_zeros(t) for t, n in zip(t_init, carry_nz) if n]
    t_xs = [t for t, n in zip(t_xs, xs_nz) if n]
    outs = bind_scan(
        body, [*hoisted, *consts, *t_consts], [*init, *t_init], [*xs, *t_xs],
        length=length, reverse=reverse, unroll=unroll,
    )  # fmt: skip
    carry, t_carry, ys, t_ys = common.split(outs, num_carry, n_ct_k, n_ys)
    t_carry, t_ys = iter(t_carry), iter(t_ys)
    primal_out = carry + ys
    tangent_out = [
        next(t_carry) if n else ad.Zero(ad.tangent_aval(core.get_aval(p)))
        for p, n in zip(carry, carry_nz)
    ] + [next(t_ys) if n else ad.Zero(ad.tangent_aval(core.get_aval(p))) for p, n in zip(ys, ys_nz)]
    return primal_out, tangent_out


ad.jvp_rules[scan_p] = _scan_jvp


# ------------------------------------------------------------------------------------------
# Partial evaluation (linearize): known iterations now, unknown ones staged with stacked
# residuals. Residuals that are loop-invariant known inputs are passed once, not stacked.
# ------------------------------------------------------------------------------------------


def _scan_partial_eval(trace, args, params):
    jaxpr, num_consts, num_carry = params["jaxpr"], params["num_consts"], params["num_carry"]
    length, reverse, unroll = params["length"], params["reverse"], params["unroll"]
    uk = [trace.is_unknown(x) for x in args]
    if all(uk):
        return trace.default_process_primitive(scan_p, args, params)
    const_uk, init_uk, xs_uk = common.split(uk, num_consts, num_carry)
    n_ys = len(jaxpr.out_avals) - num_carry

    def split(carry_uk):
        return pe.partial_eval_jaxpr(jaxpr, const_uk + carry_uk + xs_uk, carry_uk + [False] * n_ys)

    carry_uk = common.fixed_point(lambda c: split(c)[2][:num_carry], init_uk)
    known, unknown, out_uk, num_res = split(carry_uk)
    known, hoisted = common.hoist_consts(known)
    consts, init, xs = common.split(args, num_consts, num_carry)

    def pick(vals, unknowns, want):
        return [x for x, u in zip(vals, unknowns) if u == want]

    k_consts = hoisted + pick(consts, const_uk, False)
    k_init, k_xs = pick(init, carry_uk, False), pick(xs, xs_uk, False)
    n_kout = out_uk.count(False)
    inv, fwd, stk = _classify_residuals(known.jaxpr, len(k_consts), len(k_init), n_kout)
    is_inv = [False] * n_kout + [r in inv for r in range(num_res)]
    inv_jaxpr = _restrict_to_consts(known, len(k_consts), is_inv)
    known = common.select_outputs(known, [True] * n_kout + [r in stk for r in range(num_res)])
    outs = bind_scan(
        known, k_consts, k_init, k_xs, length=length, reverse=reverse, unroll=unroll,
        bind=lambda p, a, k: ad.bind_on(trace.parent, p, a, k),
    )  # fmt: skip
    known_carry, known_ys, stacked_res = common.split(outs, len(k_init), n_kout - len(k_init))
    if not any(out_uk):
        return known_carry + known_ys
    with core.set_current_trace(trace.parent):
        invariant_res = common.eval_closed(inv_jaxpr, *k_consts)
    # The unknown jaxpr takes (residuals, unknown consts, unknown carry, unknown xs): reorder to
    # (invariant residuals, unknown consts, unknown carry, per-step residuals, unknown xs).
    u_inputs = range(num_res, len(unknown.in_avals))
    u_consts, u_carry, u_xs = common.split(u_inputs, sum(const_uk), sum(carry_uk))
    body = common.permute(unknown, [*inv, *u_consts, *u_carry, *fwd, *stk, *u_xs])
    unknown_outs = bind_scan(
        body,
        invariant_res + pick(consts, const_uk, True),
        pick(init, carry_uk, True),
        [k_xs[k] for k in fwd.values()] + stacked_res + pick(xs, xs_uk, True),
        length=length, reverse=reverse, unroll=unroll, bind=trace.default_process_primitive,
    )  # fmt: skip
    known_it, unknown_it = iter(known_carry + known_ys), iter(unknown_outs)
    return [next(unknown_it) if u else next(known_it) for u in out_uk]


def _classify_residuals(jaxpr: core.Jaxpr, n_consts: int, n_carry: int, n_out: int):
    """Splits the residual outputs (after the first `n_out`) of a known body into those that are
    loop-invariant (computed once, outside the loop), those that are a known `xs` input (the
    scan's own operand is passed back: no copy), and those stacked by the known scan.

    Returns `(invariant, forwarded, stacked)`: residual indices; `forwarded` maps a residual
    index to the index of the known xs it is.
    """
    invariant_out = _invariant_outputs(jaxpr, n_consts)
    xs_pos = {v: k for k, v in enumerate(jaxpr.invars[n_consts + n_carry :])}
    inv, fwd, stk = [], {}, []
    for r, v in enumerate(jaxpr.outvars[n_out:]):
        if invariant_out[n_out + r]:
            inv.append(r)
        elif type(v) is core.Var and v in xs_pos:
            fwd[r] = xs_pos[v]
        else:
            stk.append(r)
    return inv, fwd, stk


def _invariant_outputs(jaxpr: core.Jaxpr, n_consts: int) -> list[bool]:
    """For each output of a body, whether it depends on the first `n_consts` inputs only."""
    invariant = set(jaxpr.invars[:n_consts])
    for eqn in jaxpr.eqns:
        if all(type(a) is core.Literal or a in invariant for a in eqn.invars):
            invariant.update(eqn.outvars)
    return [type(v) is core.Literal or v in invariant for v in jaxpr.outvars]


def _restrict_to_consts(closed: ClosedJaxpr, n_consts: int, outputs: list[bool]) -> ClosedJaxpr:
    """The jaxpr computing the chosen (loop-invariant) outputs from the constants alone (no
    effects: the body's callbacks run in the loop, once per iteration)."""
    j = closed.jaxpr
    outvars = [v for v, keep in zip(j.outvars, outputs) if keep]
    eqns = jaxpr_util.live_eqns(j, outvars, effects=False)
    j = core.Jaxpr(j.constvars, j.invars[:n_consts], outvars, eqns)
    return ClosedJaxpr(j, closed.consts)


pe.partial_eval_rules[scan_p] = _scan_partial_eval


# ------------------------------------------------------------------------------------------
# Transpose: a scan in the other direction, carrying the cotangents of the carry and the sums
# of the cotangents of the linear constants; residual xs are read back in reverse order.
# ------------------------------------------------------------------------------------------


def _scan_transpose(cts, *args, jaxpr, length, reverse, unroll, num_consts, num_carry, **_):
    consts, init, xs = common.split(args, num_consts, num_carry)
    const_lin = [tp.is_undefined_primal(x) for x in consts]
    xs_lin = [tp.is_undefined_primal(x) for x in xs]
    carry_avals, y_avals = common.split(jaxpr.out_avals, num_carry)
    if any(not dtypes.is_inexact(a.dtype) for a in carry_avals):
        raise TypeError(
            "scan transpose: every carry of a linear scan must be floating-point or complex"
        )
    ct_carry, ct_ys = common.split(cts, num_carry)
    ct_carry = [tp.instantiate(c) for c in ct_carry]
    y_float = [dtypes.is_inexact(a.dtype) for a in y_avals]
    ct_ys = [tp.instantiate(c) for c, f in zip(ct_ys, y_float) if f]
    res_consts = [x for x, lin in zip(consts, const_lin) if not lin]
    res_xs = [x for x, lin in zip(xs, xs_lin) if not lin]
    lin_const_avals = [x.aval for x in consts if tp.is_undefined_primal(x)]
    transposed = tp.transpose_jaxpr(jaxpr, const_lin + [True] * num_carry + xs_lin)
    n_rc, n_lc, n_y = len(res_consts), len(lin_const_avals), len(ct_ys)

    def body(*a):
        r_consts, acc, ct_k, ct_y, r_xs = common.split(a, n_rc, n_lc, num_carry, n_y)
        outs = common.eval_closed(transposed, *r_consts, *r_xs, *ct_k, *ct_y)
        d_consts, d_carry, d_xs = common.split(outs, n_lc, num_carry)
        return [*map(ad.add_tangents, acc, d_consts), *d_carry, *d_xs]

    slices = [_unstacked(core.get_aval(x)) for x in [*ct_ys, *res_xs]]
    in_avals = [*common.avals_of(res_consts), *lin_const_avals, *carry_avals, *slices]
    body_t, hoisted = common.trace_flat(body, in_avals, "scan transpose")
    acc0 = [ad.zeros_like_aval(a) for a in lin_const_avals]
    outs = bind_scan(
        body_t, [*hoisted, *res_consts], [*acc0, *ct_carry], [*ct_ys, *res_xs],
        length=length, reverse=not reverse, unroll=unroll,
    )  # fmt: skip
    ct_consts, ct_init, ct_xs = common.split(outs, n_lc, num_carry)
    ct_consts, ct_xs = iter(ct_consts), iter(ct_xs)
    return (
        [next(ct_consts) if lin else None for lin in const_lin]
        + [c if tp.is_undefined_primal(x) else None for c, x in zip(ct_init, init)]
        + [next(ct_xs) if lin else None for lin in xs_lin]
    )


tp.transpose_rules[scan_p] = _scan_transpose


# ------------------------------------------------------------------------------------------
# vmap: consts and carries batched at axis 0, xs and ys at axis 1 (axis 0 is the scan's)
# ------------------------------------------------------------------------------------------


def _scan_batch(axis_size, vals, dims, *, jaxpr, length, reverse, unroll, num_consts, num_carry,
                **_):  # fmt: skip
    consts, init, xs = common.split(vals, num_consts, num_carry)
    c_dims, i_dims, x_dims = common.split(dims, num_consts, num_carry)
    consts = [x if d is None else bt.moveaxis(x, d, 0) for x, d in zip(consts, c_dims)]
    xs = [x if d is None else bt.moveaxis(x, d, 1) for x, d in zip(xs, x_dims)]
    c_dims = [None if d is None else 0 for d in c_dims]
    x_dims = [None if d is None else 0 for d in x_dims]
    n_ys = len(jaxpr.out_avals) - num_carry

    def batch(carry_b):
        carry_dims = [0 if b else None for b in carry_b]
        return bt.batch_jaxpr(
            jaxpr, axis_size, c_dims + carry_dims + x_dims, carry_b + [False] * n_ys
        )

    init_b = [d is not None for d in i_dims]
    carry_b = common.fixed_point(lambda c: [d is not None for d in batch(c)[1][:num_carry]], init_b)
    body, out_dims = batch(carry_b)
    body, hoisted = common.hoist_consts(body)
    init = [bt.matchaxis(axis_size, d, 0, x) if b else x for x, d, b in zip(init, i_dims, carry_b)]
    outs = bind_scan(
        body, [*hoisted, *consts], init, xs, length=length, reverse=reverse, unroll=unroll
    )
    y_dims = [None if d is None else d + 1 for d in out_dims[num_carry:]]
    return outs, [0 if b else None for b in carry_b] + y_dims


bt.batch_rules[scan_p] = _scan_batch


# ------------------------------------------------------------------------------------------
# The user API
# ------------------------------------------------------------------------------------------


def _scan_length(xs_flat: list, length) -> int:
    lengths = []
    for x in xs_flat:
        shape = core.get_aval(x).shape
        if not shape:
            raise ValueError(
                f"scan got value with no leading axis to scan over: {core.get_aval(x).str_short()}"
            )
        lengths.append(shape[0])
    if length is not None:
        if isinstance(length, core.Tracer):
            raise TypeError(f"scan: `length` must be a static Python int, got a traced {length}")
        length = int(length)
        if any(n != length for n in lengths):
            raise ValueError(
                f"scan got `length` argument of {length} which disagrees with leading axis "
                f"sizes {lengths}."
            )
        return length
    if not lengths:
        raise ValueError("scan got no values to scan over and `length` not provided.")
    if len(set(lengths)) > 1:
        raise ValueError(
            "scan got values with different leading axis sizes: "
            + ", ".join(f"{n}" for n in lengths)
            + "."
        )
    return lengths[0]


def _trace_body(f, init_tree, xs_tree, carry_avals, x_avals):
    """Stages `f(carry, x) -> (carry, y)`; returns `(closed, consts, carry_tree, y_tree)`."""

    def body(carry, x):
        out = f(carry, x)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"scan body output must be a pair, got {out!r}.")
        return tuple(out)

    in_tree = api_util.treedef_tuple([init_tree, xs_tree])
    flat_fun, out_tree = api_util.flatten_fun_nokwargs(body, in_tree)
    closed, consts = common.trace_flat(flat_fun, [*carry_avals, *x_avals], "scan body")
    carry_tree, y_tree = out_tree().children
    return closed, consts, carry_tree, y_tree


def _stage_body(f, init_flat, init_tree, xs_tree, x_avals) -> tuple:
    """Stages `f` on the carry and x types, promoting weakly typed carries as JAX does, and
    checks its carry output. Returns `(closed, consts, carry_tree, y_tree, promotion)`, where
    `promotion` are the dtypes of `common.weak_carry_dtypes`."""
    init_avals = common.avals_of(init_flat)
    closed, consts, carry_tree, y_tree = _trace_body(f, init_tree, xs_tree, init_avals, x_avals)
    carry_avals = closed.out_avals[: carry_tree.num_leaves]
    promotion = None
    if carry_tree == init_tree:
        promotion = common.weak_carry_dtypes(init_avals, carry_avals)
        if promotion is not None:
            init_flat = common.promote_carry(init_flat, promotion)
            closed, consts, carry_tree, y_tree = _trace_body(
                f, init_tree, xs_tree, common.avals_of(init_flat), x_avals
            )
            carry_avals = closed.out_avals[: carry_tree.num_leaves]
    in_carry = tree_util.tree_unflatten(init_tree, init_flat)
    common.check_carry_type("scan body", f, in_carry, carry_tree, carry_avals)
    return closed, consts, carry_tree, y_tree, promotion


def _unroll_factor(unroll, length: int) -> int:
    """`unroll` checked as JAX checks it; True is `length` (a full unroll), False is 1."""
    if isinstance(unroll, core.Tracer):
        raise TypeError("The `unroll` argument to `scan` expects a concrete `int` or `bool` value.")
    if isinstance(unroll, (bool, np.bool_)):
        return max(length, 1) if unroll else 1
    try:
        k = operator.index(unroll)
    except TypeError:
        raise TypeError(
            f"`unroll` must be a `bool` or a positive `int`, got {unroll!r} of type "
            f"{type(unroll).__name__}."
        ) from None
    if k < 1:
        raise ValueError(f"`unroll` must be a `bool` or a positive `int`, got {k}.")
    return k


def scan(f: Callable, init, xs=None, length: int | None = None, reverse: bool = False,
         unroll: int | bool = 1, _split_transpose: bool = False):  # fmt: skip
    """Loops `f` over the leading axis of `xs`, carrying state (as `jax.lax.scan`).

    Semantics (one primitive, compiled to one C loop under `jit`)::

        def scan(f, init, xs, length=None):
            carry, ys = init, []
            for x in xs:
                carry, y = f(carry, x)
                ys.append(y)
            return carry, np.stack(ys)

    As in JAX, `f` is staged once per carry/x signature for as long as it lives: a body reading
    a global that changes between calls sees its value at the first call (pass it in the carry
    or `xs`, or define the body anew).

    Args:
      f: `f(carry, x) -> (carry, y)`; the carry output must have the carry input's structure,
        shapes and dtypes.
      init: the initial carry (a pytree).
      xs: a pytree of arrays scanned along their leading axis, or None (then give `length`).
      length: the number of iterations, if `xs` is None (else it must agree with `xs`).
      reverse: scan from the end (the ys keep their positions).
      unroll: a positive int `k`: under `jit`, each trip of the C loop runs `k` iterations
        (`k` copies of the body; at most `MAX_UNROLL`, so the C stays bounded whatever the
        length). True: all iterations (as `k = length`); False: 1. Results do not change.

    Returns:
      `(final_carry, stacked_ys)`.

    Example:
      >>> lax.scan(lambda c, x: (c + x, c), 0.0, jnp.arange(4.0))  # cumulative sums
    """
    if not callable(f):
        raise TypeError("lax.scan: f argument should be callable.")
    xs_flat, xs_tree = common.flatten_values(xs)
    length = _scan_length(xs_flat, length)
    unroll = _unroll_factor(unroll, length)
    init_flat, init_tree = common.flatten_values(init)
    x_avals = tuple(_unstacked(core.get_aval(x)) for x in xs_flat)
    key = ("scan", init_tree, xs_tree, tuple(common.avals_of(init_flat)), x_avals)

    def build():
        staged = _stage_body(f, init_flat, init_tree, xs_tree, x_avals)
        return staged, staged[1]

    closed, consts, carry_tree, y_tree, promotion = common.cached_trace((f,), key, build)
    init_flat = common.promote_carry(init_flat, promotion)
    outs = bind_scan(
        closed, consts, init_flat, xs_flat, length=length, reverse=bool(reverse), unroll=unroll
    )
    carry, ys = common.split(outs, len(init_flat))
    return tree_util.tree_unflatten(carry_tree, carry), tree_util.tree_unflatten(y_tree, ys)


# ------------------------------------------------------------------------------------------
# C lowering: one `for` loop; the body is lowered inline `unroll` times per trip, plus a loop of
# one copy for the remaining iterations (the C for 10 and 10,000 steps is the same); xs are
# read and ys written through views at the iteration's index.
# ------------------------------------------------------------------------------------------

# Body copies per trip of the C loop at most: `unroll=True` on a longer scan (or a larger
# `unroll`) runs this many iterations per trip, so the C and its compile time stay bounded.
MAX_UNROLL = 64


def _scan_lowering(ctx, eqn, args, *, jaxpr, length, reverse, unroll, num_consts, num_carry, **_):
    consts, init, xs = common.split(args, num_consts, num_carry)
    consts = c_lowering.materialize_ops(ctx, consts, "scan_const")
    xs = c_lowering.materialize_ops(ctx, xs, "scan_xs")
    y_vars = eqn.outvars[num_carry:]
    ys = [
        None if type(v) is core.DropVar else ctx.new_output(eqn, num_carry + j)
        for j, v in enumerate(y_vars)
    ]
    carry = c_lowering.LoopCarry(ctx, init, "carry")

    def step(i: str, body: ClosedJaxpr) -> None:
        """Iteration `i` (a C expression) of the scan, lowered inline."""
        t = i
        if reverse:
            t = ctx.fresh("t")
            ctx.line(f"const int64_t {t} = {length - 1} - {i};")
        x_t = [c_lowering.as_atom_node(ctx, c_lowering.index_leading(x, t)) for x in xs]
        # A carry that is also a `ys` output (an RNN's new state) is read next step from its
        # row of ys: no copy into the carry's buffer (the rows are written once each), and the
        # body is lowered without that output (one reader: a fused value is computed straight
        # into the row, not into a buffer first).
        placed = _carries_in_ys(body.jaxpr, num_carry, ys, carry)
        outvars = body.jaxpr.outvars
        kept = [c for c in range(len(outvars)) if c not in placed]
        if placed:
            j = body.jaxpr
            body = ClosedJaxpr(core.Jaxpr(j.constvars, j.invars, [outvars[c] for c in kept],
                                          j.eqns), body.consts)  # fmt: skip
        # A new carry computed by an equation of the body is written by it straight into the
        # carry's spare buffer (a weight gradient accumulated by a product's call: no copy).
        direct = carry.direct_outputs(outvars[:num_carry], set(body.jaxpr.invars), placed)
        ctx.out_dest.update(direct)
        outs = [None] * len(outvars)
        for c, node in zip(kept, ctx.lower_jaxpr(body, [*consts, *carry.nodes(), *x_t])):
            outs[c] = node
        for v in direct:
            ctx.out_dest.pop(v, None)  # (not taken: a value the body did not compute)
        rows = {}
        for k, (y, dest) in enumerate(zip(outs[num_carry:], ys)):
            if dest is not None:
                row = c_lowering.index_leading(Leaf(dest, y.dtype), t).view
                c_lowering.write_value(ctx, y, row)
                rows[num_carry + k] = row
        carry.update(outs[:num_carry], {c: _row_pointer(rows[k]) for c, k in placed.items()})

    k = min(unroll, length, MAX_UNROLL)
    it = ctx.fresh("it")
    if k <= 1:
        with ctx.block(f"for (int64_t {it} = 0; {it} < {length}; {it}++)"):
            step(it, jaxpr)
    else:
        _unrolled_loops(ctx, jaxpr, length, k, it, step)
    dropped = [Scalar(c_literal(0, v.aval.dtype), v.aval.dtype, v.aval.shape) for v in y_vars]
    ys = [d if y is None else Leaf(y, v.aval.dtype) for y, d, v in zip(ys, dropped, y_vars)]
    return carry.final(length) + ys


def _carries_in_ys(jaxpr, num_carry: int, ys, carry) -> dict:
    """{carry position: the position of a `ys` output that is the same variable}, for array
    carries whose ys rows (kept: not dropped) are contiguous."""
    outvars = jaxpr.outvars
    placed = {}
    for c in range(num_carry):
        v = outvars[c]
        if type(v) is core.Literal or not carry.slots[c][1]:
            continue
        for k in range(num_carry, len(outvars)):
            dest = ys[k - num_carry]
            if outvars[k] is v and dest is not None and dest.is_contiguous():
                placed[c] = k
                break
    return placed


def _row_pointer(row) -> str:
    """The C pointer to the first element of a contiguous view."""
    offset = row.index(["0"] * len(row.shape))
    return row.buf if offset == "0" else f"({row.buf} + {offset})"


def _unrolled_loops(ctx, jaxpr: ClosedJaxpr, length: int, k: int, it: str, step) -> None:
    """A loop running iterations `[0, length - length % k)`, `k` per trip (each copy of the body
    in its own C block, with its own variables; no loop for a single trip), then a loop of one
    copy for the rest."""
    trips = length // k

    def copies(first: str) -> None:
        for j in range(k):
            with ctx.block(f"/* iteration {first} + {j} of {k} per trip */"):
                i = ctx.fresh("step")  # NB: not `i`, the prefix of the backend's loop indices
                ctx.line(f"const int64_t {i} = {first} + {j};")
                step(i, jaxpr if j == 0 else common.fresh_copy(jaxpr))

    if trips == 1:
        copies("0")
    else:
        with ctx.block(f"for (int64_t {it} = 0; {it} < {trips * k}; {it} += {k})"):
            copies(it)
    if length % k:
        rest = ctx.fresh("it")
        with ctx.block(f"for (int64_t {rest} = {trips * k}; {rest} < {length}; {rest}++)"):
            step(rest, common.fresh_copy(jaxpr))


lower.register_kernel(scan_p, _scan_lowering)
# (the products the lowering adds together in one call stay in the loop: fold_sum2.folds_in_loop)
_hoist = functools.partial(scan_hoist.hoist_scan, keep=fold_sum2.folds_in_loop)
jaxpr_util.register_call_primitive(scan_p, sub_jaxprs=("jaxpr",), hoist=_hoist)
