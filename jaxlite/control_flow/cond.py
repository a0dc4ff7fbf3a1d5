"""`lax.cond` and `lax.switch`: the `cond` primitive holds one closed jaxpr per branch (all taking
the same operands, constants hoisted in front) and an int32 index. Every rule is registered here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import core, dtypes, jaxpr_util, tree_util
from jaxlite import primitives as lax
from jaxlite.backend import lower
from jaxlite.backend.lower import CTYPE, Leaf, Scalar
from jaxlite.control_flow import c_lowering, common
from jaxlite.core import ClosedJaxpr, ShapedArray
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import partial_eval as pe
from jaxlite.interpreters import transpose as tp
from jaxlite.interpreters import vmap as bt

cond_p = core.Primitive("cond", multiple_results=True)


# ------------------------------------------------------------------------------------------
# Eval and abstract eval
# ------------------------------------------------------------------------------------------


def _clamp_index(i: int, n: int) -> int:
    return min(max(i, 0), n - 1)


def _cond_impl(index, *ops, branches):
    i = _clamp_index(int(core.to_numpy(index)), len(branches))
    return common.impl_outputs(common.eval_now(branches[i], ops), _out_avals(branches))


cond_p.def_custom_impl(_cond_impl)


def _cond_abstract(index: ShapedArray, *ops: ShapedArray, branches):
    if index.shape != () or index.dtype != np.int32:
        raise TypeError(f"cond: the branch index must be a scalar int32, got {index.str_short()}")
    for i, b in enumerate(branches):
        if len(b.in_avals) != len(ops) or not all(map(common.typematch, b.in_avals, ops)):
            got = ", ".join(a.str_short() for a in ops)
            want = ", ".join(a.str_short() for a in b.in_avals)
            raise TypeError(f"cond: branch {i} takes ({want}) but the operands are ({got})")
    for i, b in enumerate(branches[1:], 1):
        if not all(map(common.typematch, b.out_avals, branches[0].out_avals)):
            raise TypeError(f"cond: branch {i} outputs differ from branch 0's")
    return _out_avals(branches)


def _out_avals(branches) -> list[ShapedArray]:
    """Branch 0's output types, weakly typed only where every branch's output is."""
    weak = [all(av.weak_type for av in avs) for avs in zip(*(b.out_avals for b in branches))]
    return [a.update(weak_type=w) for a, w in zip(branches[0].out_avals, weak)]


cond_p.def_abstract_eval(_cond_abstract)


def _bind_cond(index, pairs, ops, bind=None):
    """Binds `cond` with branches given as `(closed, consts)` pairs on `ops`."""
    branches, consts = common.join_consts(pairs)
    return _bind_joined(index, tuple(branches), consts, ops, bind)


def _bind_joined(index, branches: tuple, consts, ops, bind=None):
    """Binds `cond` with branches taking `(*consts, *ops)`."""
    args = [index, *consts, *ops]
    if bind is not None:
        return bind(cond_p, args, dict(branches=branches))
    return cond_p.bind(*args, branches=branches)


# ------------------------------------------------------------------------------------------
# jvp
# ------------------------------------------------------------------------------------------


def _cond_jvp(primals, tangents, *, branches):
    index, *ops = primals
    nonzeros = common.nonzero_tangents(ops, tangents[1:])
    out_nz = [False] * len(branches[0].out_avals)
    for b in branches:
        out_nz = [a or z for a, z in zip(out_nz, ad.jvp_jaxpr(b, nonzeros, False)[1])]
    jvps = [ad.jvp_jaxpr(b, nonzeros, out_nz) for b in branches]
    assert all(nz == out_nz for _, nz in jvps), "cond jvp: branches disagree on tangents"
    nz_tangents = [t for t, nz in zip(tangents[1:], nonzeros) if nz]
    outs = _bind_cond(index, [common.hoist_consts(j) for j, _ in jvps], [*ops, *nz_tangents])
    n = len(out_nz)
    primal_outs, it = outs[:n], iter(outs[n:])
    tangent_outs = [
        next(it) if nz else ad.Zero(ad.tangent_aval(core.get_aval(p)))
        for p, nz in zip(primal_outs, out_nz)
    ]
    return primal_outs, tangent_outs


ad.jvp_rules[cond_p] = _cond_jvp


# ------------------------------------------------------------------------------------------
# Partial evaluation (linearize) and transpose: reverse mode
# ------------------------------------------------------------------------------------------


def _known_branch(known: ClosedJaxpr, n_out: int, i: int, res_avals: list[list[ShapedArray]]):
    """Branch `i`'s known part, returning its residuals in its own slot of all branches'
    residuals (zeros in the other branches' slots)."""
    before = [a for r in res_avals[:i] for a in r]
    after = [a for r in res_avals[i + 1 :] for a in r]

    def fun(*known_ops):
        outs = common.eval_closed(known, *known_ops)
        zeros = ad.zeros_like_aval
        return [*outs[:n_out], *map(zeros, before), *outs[n_out:], *map(zeros, after)]

    return common.trace_flat(fun, known.in_avals, "cond partial eval")


def _cond_partial_eval(trace, args, params):
    branches = params["branches"]
    index, *ops = args
    if trace.is_unknown(index):
        return trace.default_process_primitive(cond_p, args, params)
    uk = [trace.is_unknown(x) for x in ops]
    out_uk = [False] * len(branches[0].out_avals)
    for b in branches:
        out_uk = [a or u for a, u in zip(out_uk, pe.partial_eval_jaxpr(b, uk, False)[2])]
    splits = [pe.partial_eval_jaxpr(b, uk, out_uk) for b in branches]
    n_known = out_uk.count(False)
    res_avals = [known.out_avals[n_known:] for known, *_ in splits]
    known_pairs = [
        _known_branch(known, n_known, i, res_avals) for i, (known, *_) in enumerate(splits)
    ]
    known_ops = [x for x, u in zip(ops, uk) if not u]
    bind_known = lambda p, a, k: ad.bind_on(trace.parent, p, a, k)  # noqa: E731
    outs = _bind_cond(index, known_pairs, known_ops, bind_known)
    known_outs, residuals = outs[:n_known], outs[n_known:]
    if not any(out_uk):
        return known_outs
    # Unknown branch i reads its own residuals: each takes every branch's residuals.
    unknown_branches = common.share_leading_inputs([u for _, u, *_ in splits], res_avals)
    unknown_ops = [x for x, u in zip(ops, uk) if u]
    unknown_outs = trace.default_process_primitive(
        cond_p, [index, *residuals, *unknown_ops], dict(branches=tuple(unknown_branches))
    )
    k, u = iter(known_outs), iter(unknown_outs)
    return [next(u) if is_uk else next(k) for is_uk in out_uk]


pe.partial_eval_rules[cond_p] = _cond_partial_eval


def _cond_transpose(cts, index, *ops, branches):
    if tp.is_undefined_primal(index):
        raise ValueError("cond transpose: the branch index cannot be a linear input")
    linear = [tp.is_undefined_primal(x) for x in ops]
    out_avals = branches[0].out_avals
    float_cts = [tp.instantiate(ct) for ct, a in zip(cts, out_avals) if dtypes.is_inexact(a.dtype)]
    transposed = [common.hoist_consts(tp.transpose_jaxpr(b, linear)) for b in branches]
    nonlinear = [x for x, lin in zip(ops, linear) if not lin]
    outs = iter(_bind_cond(index, transposed, [*nonlinear, *float_cts]))
    return [None] + [next(outs) if lin else None for lin in linear]


tp.transpose_rules[cond_p] = _cond_transpose


# ------------------------------------------------------------------------------------------
# vmap
# ------------------------------------------------------------------------------------------


def _select_batched(index, n_branches: int, *cases):
    """`cases[index]` per example, for a batched `index` (batch axis 0, as the cases')."""
    shape = bt.shape_of(cases[0])
    index = lax.clamp(np.int32(0), index, np.int32(n_branches - 1))
    which = lax.broadcast_in_dim(index, shape, (0,)) if len(shape) > 1 else index
    return lax.select_n(which, *cases)


def _cond_batch(axis_size, vals, dims, *, branches):
    index, *ops = vals
    index_dim, *op_dims = dims
    ops = [x if d is None else bt.moveaxis(x, d, 0) for x, d in zip(ops, op_dims)]
    op_dims = [None if d is None else 0 for d in op_dims]
    if index_dim is not None:
        # As JAX: a batched predicate evaluates every branch and selects per example.
        index = bt.moveaxis(index, index_dim, 0)
        outs = []
        for b in branches:
            vals_b, dims_b = bt.batch_eval_jaxpr(b, axis_size, ops, op_dims)
            outs.append([bt.matchaxis(axis_size, d, 0, v) for v, d in zip(vals_b, dims_b)])
        res = [_select_batched(index, len(branches), *cases) for cases in zip(*outs)]
        return res, [0] * len(res)
    out_batched = [False] * len(branches[0].out_avals)
    for b in branches:
        _, out_dims = bt.batch_jaxpr(b, axis_size, op_dims, False)
        out_batched = [a or d is not None for a, d in zip(out_batched, out_dims)]
    batched = [bt.batch_jaxpr(b, axis_size, op_dims, out_batched)[0] for b in branches]
    outs = _bind_cond(index, [common.hoist_consts(b) for b in batched], ops)
    return outs, [0 if b else None for b in out_batched]


bt.batch_rules[cond_p] = _cond_batch


# ------------------------------------------------------------------------------------------
# The user API
# ------------------------------------------------------------------------------------------

_NO_OPERAND = object()


def _branch_output_dtypes(checks, out_trees, avals_per_branch) -> list:
    """The dtype each output must have in every branch (weakly typed outputs take the others'
    dtype), or JAX's error naming the branches whose output types differ.

    Args:
      checks: `(what, i, j)`: compare branches i and j, called `what` in messages.
    """
    for what, i, j in checks:
        if out_trees[i] != out_trees[j]:
            raise TypeError(
                f"{core.api_entry()}: {what} must have same type structure, got "
                f"{out_trees[i]} and {out_trees[j]}."
            )
    targets = [_common_dtype(avals) for avals in zip(*avals_per_branch)]
    if all(t is not None for t in targets):
        return targets
    for what, i, j in checks:
        pairs = list(zip(avals_per_branch[i], avals_per_branch[j]))
        if any(_common_dtype(p) is None for p in pairs):
            diff = tree_util.tree_unflatten(out_trees[i], [_show_diff(p) for p in pairs])
            raise TypeError(f"{core.api_entry()}: {what} must have identical types, got\n{diff}.")
    raise TypeError(
        f"{core.api_entry()}: branch outputs must have identical types, got {avals_per_branch}"
    )


def _common_dtype(avals) -> np.dtype | None:
    """The dtype of an output over all branches: weakly typed outputs may take the dtype of
    the others (`1.0` beside a float32), as in JAX. None if the types differ otherwise."""
    if len({a.shape for a in avals}) > 1:
        return None
    if len({a.dtype for a in avals}) == 1:
        return avals[0].dtype
    try:
        dt, _ = dtypes.result_type(*[(a.dtype, a.weak_type) for a in avals])
    except TypeError:
        return None
    strong = {a.dtype for a in avals if not a.weak_type}
    return dt if strong <= {dt} else None


def _show_diff(avals) -> str:
    strs = [common.aval_str(a) for a in avals]
    if all(common.typematch(a, avals[0]) for a in avals):
        return strs[0]
    return "DIFFERENT " + " vs. ".join(strs)


def _staged_branches(kind: str, funs: tuple, ops: list, in_tree, checks):
    """Every branch staged on the operands, once per signature (see `common.cached_trace`).

    Returns:
      `(branches, consts, out_tree)`: the branches take `(*consts, *ops)`.
    """
    in_avals = tuple(common.avals_of(ops))

    def build():
        pairs, out_tree = _trace_branches(funs, in_avals, in_tree, checks)
        branches, consts = common.join_consts(pairs)
        return (tuple(branches), consts, out_tree), consts

    return common.cached_trace(funs, (kind, in_tree, in_avals), build)


def _trace_branches(funs: Sequence[Callable], in_avals, in_tree, checks) -> tuple[list, object]:
    """Stages every branch on `in_avals`; returns `(closed, consts)` pairs and the out tree."""
    traced = [common.trace_tree_fun(f, in_tree, in_avals, "cond branch") for f in funs]
    out_trees = [t for _, _, t in traced]
    avals = [c.out_avals for c, _, _ in traced]
    targets = _branch_output_dtypes(checks, out_trees, avals)
    pairs = []
    for f, (closed, consts, _), av in zip(funs, traced, avals):
        if any(a.dtype != dt for a, dt in zip(av, targets)):
            closed, consts = _trace_converted(f, in_tree, in_avals, targets)
        pairs.append((closed, consts))
    return pairs, out_trees[0]


def _trace_converted(fun, in_tree, in_avals, targets):
    def converted(*args):
        leaves, tree = tree_util.tree_flatten(fun(*args))
        leaves = [
            lax.convert_element_type(x, dt) if core.get_aval(x).dtype != dt else x
            for x, dt in zip(map(common.as_value, leaves), targets)
        ]
        return tree_util.tree_unflatten(tree, leaves)

    closed, consts, _ = common.trace_tree_fun(converted, in_tree, in_avals, "cond branch")
    return closed, consts


def _switch_index(index, n: int):
    index = common.as_value(index)
    aval = core.get_aval(index)
    if aval.shape != ():
        raise TypeError(
            f"lax.switch: Branch index must be scalar, got {index} of shape {aval.shape}."
        )
    if aval.dtype.kind not in "iu":
        raise TypeError(f"lax.switch: Index type must be an integer, got {aval.dtype.name}.")
    index = lax.convert_element_type(index, np.int32)
    return lax.clamp(np.int32(0), index, np.int32(n - 1))


def switch(index, branches: Sequence[Callable], *operands, operand=_NO_OPERAND):
    """Applies exactly one of `branches` to `operands`, chosen by `index` (as `jax.lax.switch`).

    The index is clamped to `[0, len(branches) - 1]`. Every branch is staged; under `vmap` with a
    batched index every branch runs and the results are selected per example. As in JAX, the
    branches are staged once per operand signature while they live (so a branch reading a global
    that changes between calls sees its value at the first call: pass it as an operand).

    Args:
      index: a scalar integer.
      branches: functions of `*operands` returning pytrees of the same structure and types.
      *operands: pytrees passed to the chosen branch.

    Returns:
      The chosen branch's output.

    Example:
      >>> lax.switch(2, [jnp.sin, jnp.cos, jnp.tanh], 0.5)  # tanh(0.5)
    """
    if operand is not _NO_OPERAND:
        operands = (operand,)
    branches = list(branches)
    if not branches:
        raise ValueError("Empty branch sequence")
    for b in branches:
        if not callable(b):
            raise TypeError(f"lax.switch: branches must be callable, got {b!r}")
    index = _switch_index(index, len(branches))
    if len(branches) == 1:
        return branches[0](*operands)
    ops, in_tree = common.flatten_values(operands)
    checks = [(f"branch 0 and {i} outputs", 0, i) for i in range(1, len(branches))]
    staged, consts, out_tree = _staged_branches("switch", tuple(branches), ops, in_tree, checks)
    outs = _bind_joined(index, staged, consts, ops)
    return tree_util.tree_unflatten(out_tree, outs)


def cond(pred, true_fun: Callable, false_fun: Callable, *operands, operand=_NO_OPERAND):
    """`true_fun(*operands)` if `pred` else `false_fun(*operands)`, staged (as `jax.lax.cond`).

    Both branches are traced and must return pytrees of the same structure and types. Under
    `vmap` with a batched `pred` both branches run and the results are selected per example. As
    in JAX, the branches are staged once per operand signature while they live (so a branch
    reading a global that changes between calls sees its value at the first call: pass it as an
    operand).

    Args:
      pred: a scalar bool or integer (nonzero is True).
      true_fun, false_fun: functions of `*operands`.
      *operands: pytrees passed to the chosen branch.

    Returns:
      The chosen branch's output.

    Example:
      >>> lax.cond(x > 0, lambda x: x, lambda x: -x, x)  # |x|
    """
    if operand is not _NO_OPERAND:
        operands = (operand,)
    if pred is None:
        raise TypeError("lax.cond: cond predicate is None")
    if not (callable(true_fun) and callable(false_fun)):
        raise TypeError("lax.cond: true_fun and false_fun arguments should be callable.")
    if isinstance(pred, (list, tuple)):
        raise TypeError(f"lax.cond: Pred must be a scalar, got {pred} of type {type(pred)}")
    pred = common.as_value(pred)
    aval = core.get_aval(pred)
    if aval.shape != ():
        raise TypeError(f"lax.cond: Pred must be a scalar, got {pred} of shape {aval.shape}.")
    if aval.dtype.kind != "b":
        if aval.dtype.kind not in "iu":
            raise TypeError(
                f"lax.cond: Pred type must be either boolean or number, got {aval.dtype.name}."
            )
        pred = lax.ne(pred, 0)
    index = lax.convert_element_type(pred, np.int32)
    ops, in_tree = common.flatten_values(operands)
    checks = [("true_fun and false_fun output", 1, 0)]
    staged, consts, out_tree = _staged_branches("cond", (false_fun, true_fun), ops, in_tree, checks)
    outs = _bind_joined(index, staged, consts, ops)
    return tree_util.tree_unflatten(out_tree, outs)


# ------------------------------------------------------------------------------------------
# C lowering: `if`/`else` for two branches, `switch` for more; only the chosen branch runs.
# ------------------------------------------------------------------------------------------


def _cond_lowering(ctx, eqn, args, *, branches):
    index, *ops = args
    ops = c_lowering.materialize_ops(ctx, ops, "cond_operand")
    n = len(branches)
    dests = []
    for k, v in enumerate(eqn.outvars):
        if v.aval.shape == ():
            name = ctx.fresh("cond_out")
            ctx.line(f"{CTYPE[v.aval.dtype]} {name};")
            dests.append(name)
        else:
            dests.append(ctx.new_output(eqn, k))
    which = ctx.fresh("branch")
    ctx.line(f"const int32_t {which} = {ctx.scalar(index)};")

    def lower_branch(b):
        outs = ctx.lower_jaxpr(b, ops)
        for node, dest in zip(outs, dests):
            if isinstance(dest, str):
                ctx.line(f"{dest} = {ctx.scalar(node)};")
            else:
                c_lowering.write_value(ctx, node, dest)

    if n == 2:
        with ctx.block(f"if ({which} <= 0)"):
            lower_branch(branches[0])
        with ctx.block("else"):
            lower_branch(branches[1])
    else:
        with ctx.block(f"switch ({which} < 0 ? 0 : {which} > {n - 1} ? {n - 1} : {which})"):
            for i, b in enumerate(branches):
                with ctx.block(f"case {i}:"):
                    lower_branch(b)
                    ctx.line("break;")
    return [
        Scalar(d, v.aval.dtype) if isinstance(d, str) else Leaf(d, v.aval.dtype)
        for d, v in zip(dests, eqn.outvars)
    ]


lower.register_kernel(cond_p, _cond_lowering)
jaxpr_util.register_call_primitive(cond_p, sub_jaxprs=("branches",))
