"""`lax.while_loop`: the `while` primitive holds a closed `cond_jaxpr` `(cond_consts, carry) ->
bool[]` and `body_jaxpr` `(body_consts, carry) -> carry`; its operands are `(*cond_consts,
*body_consts, *init)`. Forward mode works; reverse mode raises JAX's error (the trip count is
unknown, so residuals cannot be stacked: use `scan`). Every rule is registered here.
"""

from __future__ import annotations

from collections.abc import Callable

from jaxlite import core, jaxpr_util, tree_util
from jaxlite import primitives as lax
from jaxlite.backend import lower
from jaxlite.control_flow import c_lowering, common
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import partial_eval as pe
from jaxlite.interpreters import transpose as tp
from jaxlite.interpreters import vmap as bt

while_p = core.Primitive("while", multiple_results=True)


def bind_while(cond_jaxpr, cond_consts, body_jaxpr, body_consts, init, bind=None) -> list:
    """Binds `while` (on the current trace, or with `bind(prim, args, params)`)."""
    params = dict(
        body_jaxpr=body_jaxpr,
        body_nconsts=len(body_consts),
        cond_jaxpr=cond_jaxpr,
        cond_nconsts=len(cond_consts),
    )
    args = [*cond_consts, *body_consts, *init]
    if bind is not None:
        return bind(while_p, args, params)
    return while_p.bind(*args, **params)


# ------------------------------------------------------------------------------------------
# Eval and abstract eval
# ------------------------------------------------------------------------------------------


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    out_avals = _while_abstract(*map(core.get_aval, args), cond_jaxpr=cond_jaxpr,
                                body_jaxpr=body_jaxpr, cond_nconsts=cond_nconsts,
                                body_nconsts=body_nconsts)  # fmt: skip
    cond_consts, body_consts, carry = common.split(args, cond_nconsts, body_nconsts)
    run_cond, run_body = map(common.numpy_evaluator, (cond_jaxpr, body_jaxpr))
    done = None
    if run_cond is not None and run_body is not None:
        try:
            done = _numpy_loop(run_cond, run_body, cond_consts, body_consts, carry)
        except Exception:  # NB: the eager interpreter below raises the message naming the op
            if common.has_collectives(body_jaxpr) or common.has_collectives(cond_jaxpr):
                raise  # NB: no replay: its collectives would not be the other ranks' (MPI)
            done = None
    if done is None:
        done = _eval_loop(cond_jaxpr, body_jaxpr, cond_consts, body_consts, carry)
    return common.impl_outputs(done, out_avals)


def _numpy_loop(run_cond, run_body, cond_consts, body_consts, carry) -> list:
    """The loop on NumPy arrays (`common.numpy_evaluator`s of the cond and body jaxprs)."""
    cond_consts, body_consts, carry = ([core.to_numpy(x) for x in xs]
                                       for xs in (cond_consts, body_consts, carry))  # fmt: skip
    while run_cond(*cond_consts, *carry)[0]:
        carry = run_body(*body_consts, *carry)
    return carry


def _eval_loop(cond_jaxpr, body_jaxpr, cond_consts, body_consts, carry) -> list:
    """The loop binding each equation on the eager trace."""
    with core.set_current_trace(core.eval_trace):
        while core.to_numpy(core.eval_jaxpr(cond_jaxpr.jaxpr, (), *cond_consts, *carry)[0]):
            carry = core.eval_jaxpr(body_jaxpr.jaxpr, (), *body_consts, *carry)
    return carry


while_p.def_custom_impl(_while_impl)


def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cond_consts, body_consts, init = common.split(avals, cond_nconsts, body_nconsts)
    cond_out = cond_jaxpr.out_avals
    if len(cond_out) != 1 or cond_out[0].shape != () or cond_out[0].dtype.kind != "b":
        got = ", ".join(a.str_short() for a in cond_out)
        raise TypeError(f"while: cond_fun must return a boolean scalar, got ({got})")
    for what, jaxpr, ins in (("cond", cond_jaxpr, [*cond_consts, *init]),
                             ("body", body_jaxpr, [*body_consts, *init])):  # fmt: skip
        if len(jaxpr.in_avals) != len(ins) or not all(map(common.typematch, jaxpr.in_avals, ins)):
            takes = ", ".join(a.str_short() for a in jaxpr.in_avals)
            given = ", ".join(a.str_short() for a in ins)
            raise TypeError(f"while: the {what} jaxpr takes ({takes}), the operands are ({given})")
    out = body_jaxpr.out_avals
    if not all(map(common.typematch, out, init)):
        raise TypeError(
            f"while: the body returns ({', '.join(a.str_short() for a in out)}) but the carry is "
            f"({', '.join(a.str_short() for a in init)})"
        )
    return [b.update(weak_type=a.weak_type and b.weak_type) for a, b in zip(init, out)]


while_p.def_abstract_eval(_while_abstract)


# ------------------------------------------------------------------------------------------
# jvp: the tangents ride along in the carry; the predicate ignores them
# ------------------------------------------------------------------------------------------


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cond_consts, body_consts, init = common.split(primals, cond_nconsts, body_nconsts)
    _, t_body_consts, t_init = common.split(tangents, cond_nconsts, body_nconsts)
    bconst_nz = common.nonzero_tangents(body_consts, t_body_consts)
    init_nz = common.nonzero_tangents(init, t_init)
    if not any(bconst_nz) and not any(init_nz):
        outs = bind_while(cond_jaxpr, cond_consts, body_jaxpr, body_consts, init)
        return outs, [ad.Zero(ad.tangent_aval(core.get_aval(o))) for o in outs]

    def jvp(carry_nz):
        return ad.jvp_jaxpr(body_jaxpr, bconst_nz + carry_nz, carry_nz)

    carry_nz = common.fixed_point(lambda c: jvp(c)[1], init_nz)
    body_jvp, _ = jvp(carry_nz)
    n_bc, n_k, n_tbc, n_tk = len(body_consts), len(init), sum(bconst_nz), sum(carry_nz)
    # (consts, carry, t_consts, t_carry) -> (consts, t_consts, carry, t_carry)
    order = [*range(n_bc), *range(n_bc + n_k, n_bc + n_k + n_tbc), *range(n_bc, n_bc + n_k),
             *range(n_bc + n_k + n_tbc, n_bc + n_k + n_tbc + n_tk)]  # fmt: skip
    body_jvp, hoisted = common.hoist_consts(common.permute(body_jvp, order))
    t_carry_avals = [ad.tangent_aval(a) for a, nz in zip(body_jaxpr.out_avals, carry_nz) if nz]
    cond_jvp = common.add_unused_inputs(cond_jaxpr, t_carry_avals, len(cond_jaxpr.in_avals))
    t_body_consts = [t for t, nz in zip(t_body_consts, bconst_nz) if nz]
    t_init = [ad.instantiate_zeros(t) for t, nz in zip(t_init, carry_nz) if nz]
    outs = bind_while(
        cond_jvp, cond_consts, body_jvp, [*hoisted, *body_consts, *t_body_consts], [*init, *t_init]
    )
    carry, t_carry = outs[:n_k], iter(outs[n_k:])
    return carry, [
        next(t_carry) if nz else ad.Zero(ad.tangent_aval(core.get_aval(c)))
        for c, nz in zip(carry, carry_nz)
    ]


ad.jvp_rules[while_p] = _while_jvp


# ------------------------------------------------------------------------------------------
# Partial evaluation (as JAX): a loop over the known carries computes the known outputs now;
# the unknown outputs come from the whole loop, staged (it recomputes the known part).
# ------------------------------------------------------------------------------------------


def _known_part(closed, unknowns, n_out: int):
    """The part of `closed` computing its first `n_out` outputs from its known inputs."""
    known, _, out_uk, _ = pe.partial_eval_jaxpr(closed, unknowns, False)
    assert not any(out_uk[:n_out])
    return common.hoist_consts(common.select_outputs(known, [True] * n_out + [False] * (
        len(known.out_avals) - n_out)))  # fmt: skip


def _while_partial_eval(trace, args, params):
    cond_jaxpr, body_jaxpr = params["cond_jaxpr"], params["body_jaxpr"]
    cond_nconsts, body_nconsts = params["cond_nconsts"], params["body_nconsts"]
    uk = [trace.is_unknown(x) for x in args]
    cconst_uk, bconst_uk, init_uk = common.split(uk, cond_nconsts, body_nconsts)

    def body_out_uk(carry_uk):
        return pe.partial_eval_jaxpr(body_jaxpr, bconst_uk + carry_uk, carry_uk)[2]

    carry_uk = common.fixed_point(body_out_uk, init_uk)
    cond_uk = pe.partial_eval_jaxpr(cond_jaxpr, cconst_uk + carry_uk, False)[2][0]
    if cond_uk or all(carry_uk):
        return trace.default_process_primitive(while_p, args, params)
    cond_consts, body_consts, init = common.split(args, cond_nconsts, body_nconsts)
    known_cond, cond_hoisted = _known_part(cond_jaxpr, cconst_uk + carry_uk, 1)
    n_known = carry_uk.count(False)
    known_body, body_hoisted = _known_part(body_jaxpr, bconst_uk + carry_uk, n_known)
    known_outs = bind_while(
        known_cond, cond_hoisted + [x for x, u in zip(cond_consts, cconst_uk) if not u],
        known_body, body_hoisted + [x for x, u in zip(body_consts, bconst_uk) if not u],
        [x for x, u in zip(init, carry_uk) if not u],
        bind=lambda p, a, k: ad.bind_on(trace.parent, p, a, k),
    )  # fmt: skip
    staged = trace.default_process_primitive(while_p, args, params)
    known_it = iter(known_outs)
    return [s if u else next(known_it) for s, u in zip(staged, carry_uk)]


pe.partial_eval_rules[while_p] = _while_partial_eval


def _while_transpose(cts, *args, **params):
    raise ValueError(
        "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with "
        "dynamic start/stop values. Try using lax.scan, or lax.fori_loop with static start/stop."
    )


tp.transpose_rules[while_p] = _while_transpose


# ------------------------------------------------------------------------------------------
# vmap: with a batched predicate the loop runs while any example is running, and the examples
# that are done keep their carry (as JAX does)
# ------------------------------------------------------------------------------------------


def _while_batch(axis_size, vals, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    vals = [x if d is None else bt.moveaxis(x, d, 0) for x, d in zip(vals, dims)]
    cond_consts, body_consts, init = common.split(vals, cond_nconsts, body_nconsts)
    cc_dims, bc_dims, init_dims = common.split(
        [None if d is None else 0 for d in dims], cond_nconsts, body_nconsts
    )

    def as_dims(carry_b):
        return [0 if b else None for b in carry_b]

    def step(carry_b):
        _, out_dims = bt.batch_jaxpr(body_jaxpr, axis_size, bc_dims + as_dims(carry_b), carry_b)
        (pred_dim,) = bt.batch_jaxpr(cond_jaxpr, axis_size, cc_dims + as_dims(carry_b), False)[1]
        if pred_dim is not None:
            return [True] * len(carry_b)
        return [d is not None for d in out_dims]

    carry_b = common.fixed_point(step, [d is not None for d in init_dims])
    carry_dims = as_dims(carry_b)
    body_b, _ = bt.batch_jaxpr(body_jaxpr, axis_size, bc_dims + carry_dims, carry_b)
    cond_b, (pred_dim,) = bt.batch_jaxpr(cond_jaxpr, axis_size, cc_dims + carry_dims, False)
    init = [
        bt.matchaxis(axis_size, d, 0, x) if b else x for x, d, b in zip(init, init_dims, carry_b)
    ]
    if pred_dim is None:
        cond_b, cond_hoisted = common.hoist_consts(cond_b)
        body_b, body_hoisted = common.hoist_consts(body_b)
        outs = bind_while(
            cond_b, cond_hoisted + cond_consts, body_b, body_hoisted + body_consts, init
        )
        return outs, carry_dims
    return _batched_predicate_while(cond_b, body_b, cond_consts, body_consts, init), carry_dims


def _batched_predicate_while(cond_b, body_b, cond_consts, body_consts, init) -> list:
    """A loop that runs while any example's predicate holds, freezing the finished examples."""
    n_cc, n_bc = len(cond_consts), len(body_consts)
    carry_avals = common.avals_of(init)

    def any_running(*args):
        (pred,) = common.eval_closed(cond_b, *args)
        return [lax.reduce_or(pred, (0,))]

    def masked_body(*args):
        c_consts, b_consts, carry = common.split(args, n_cc, n_bc)
        (pred,) = common.eval_closed(cond_b, *c_consts, *carry)
        new = common.eval_closed(body_b, *b_consts, *carry)
        return [_select_rows(pred, n, o) for n, o in zip(new, carry)]

    cond_avals = [*common.avals_of(cond_consts), *carry_avals]
    new_cond, cond_hoisted = common.trace_flat(any_running, cond_avals, "vmap of while")
    body_avals = [*common.avals_of(cond_consts), *common.avals_of(body_consts), *carry_avals]
    new_body, body_hoisted = common.trace_flat(masked_body, body_avals, "vmap of while")
    return bind_while(
        new_cond, cond_hoisted + cond_consts,
        new_body, body_hoisted + cond_consts + body_consts, init,
    )  # fmt: skip


def _select_rows(pred, on_true, on_false):
    """`on_true[i]` where `pred[i]`, else `on_false[i]` (batch axis 0)."""
    shape = bt.shape_of(on_true)
    which = lax.broadcast_in_dim(pred, shape, (0,)) if len(shape) > 1 else pred
    return lax.select(which, on_true, on_false)


bt.batch_rules[while_p] = _while_batch


# ------------------------------------------------------------------------------------------
# The user API
# ------------------------------------------------------------------------------------------


def _trace_loop(cond_fun, body_fun, init_flat, in_tree):
    avals = common.avals_of(init_flat)
    in_tree = tree_util.tree_structure((tree_util.tree_unflatten(in_tree, init_flat),))
    cond_closed, cond_consts, cond_tree = common.trace_tree_fun(
        cond_fun, in_tree, avals, "while_loop cond"
    )
    body_closed, body_consts, body_tree = common.trace_tree_fun(
        body_fun, in_tree, avals, "while_loop body"
    )
    return cond_closed, cond_consts, cond_tree, body_closed, body_consts, body_tree


def _stage_loop(cond_fun, body_fun, init_flat, in_tree) -> tuple:
    """Stages both functions on the carry, promoting weakly typed carries as JAX does, and
    checks them. Returns `(cond_closed, cond_consts, body_closed, body_consts, promotion)`, where
    `promotion` are the dtypes of `common.weak_carry_dtypes`."""
    traced = _trace_loop(cond_fun, body_fun, init_flat, in_tree)
    body_closed, body_tree = traced[3], traced[5]
    promotion = None
    if body_tree == in_tree:
        promotion = common.weak_carry_dtypes(common.avals_of(init_flat), body_closed.out_avals)
        if promotion is not None:
            init_flat = common.promote_carry(init_flat, promotion)
            traced = _trace_loop(cond_fun, body_fun, init_flat, in_tree)
    cond_closed, cond_consts, cond_tree, body_closed, body_consts, body_tree = traced
    cond_out = cond_closed.out_avals
    if cond_tree.num_leaves != 1 or cond_out[0].shape != () or cond_out[0].dtype.kind != "b":
        shapes = ", ".join(common.aval_str(a) for a in cond_out)
        raise TypeError(
            "lax.while_loop: cond_fun must return a boolean scalar, but got output type(s) "
            f"[{shapes}]."
        )
    in_carry = tree_util.tree_unflatten(in_tree, init_flat)
    common.check_carry_type("while_loop body", body_fun, in_carry, body_tree, body_closed.out_avals)
    return cond_closed, cond_consts, body_closed, body_consts, promotion


def while_loop(cond_fun: Callable, body_fun: Callable, init_val):
    """Repeats `val = body_fun(val)` while `cond_fun(val)` is True (as `jax.lax.while_loop`).

    Semantics (one primitive, compiled to one C `while` under `jit`)::

        def while_loop(cond_fun, body_fun, init_val):
            val = init_val
            while cond_fun(val):
                val = body_fun(val)
            return val

    Forward-mode differentiation (`jvp`, `jacfwd`) works; reverse mode (`grad`, `vjp`) raises,
    as in JAX: use `lax.scan` or `lax.fori_loop` with static bounds instead. As in JAX, both
    functions are staged once per carry signature while they live (a function reading a global
    that changes between calls sees its value at the first call: pass it in the carry).

    Args:
      cond_fun: `cond_fun(val) -> bool scalar`.
      body_fun: `body_fun(val) -> val`, keeping the structure, shapes and dtypes of `val`.
      init_val: the initial value (a pytree).

    Returns:
      The final value.

    Example:
      >>> lax.while_loop(lambda x: x < 10, lambda x: x * 2, 1)  # 16
    """
    if not (callable(cond_fun) and callable(body_fun)):
        raise TypeError("lax.while_loop: cond_fun and body_fun arguments should be callable.")
    init_flat, in_tree = common.flatten_values(init_val)
    key = ("while_loop", in_tree, tuple(common.avals_of(init_flat)))

    def build():
        staged = _stage_loop(cond_fun, body_fun, init_flat, in_tree)
        return staged, [*staged[1], *staged[3]]

    staged = common.cached_trace((cond_fun, body_fun), key, build)
    cond_closed, cond_consts, body_closed, body_consts, promotion = staged
    init_flat = common.promote_carry(init_flat, promotion)
    outs = bind_while(cond_closed, cond_consts, body_closed, body_consts, init_flat)
    return tree_util.tree_unflatten(in_tree, outs)


# ------------------------------------------------------------------------------------------
# C lowering: `for (;;) { pred = cond(carry); if (!pred) break; carry = body(carry); }`
# ------------------------------------------------------------------------------------------


def _while_lowering(ctx, eqn, args, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cond_consts, body_consts, init = common.split(args, cond_nconsts, body_nconsts)
    cond_consts = c_lowering.materialize_ops(ctx, cond_consts, "while_const")
    body_consts = c_lowering.materialize_ops(ctx, body_consts, "while_const")
    carry = c_lowering.LoopCarry(ctx, init, "carry")
    with ctx.block("for (;;)"):
        (pred,) = ctx.lower_jaxpr(cond_jaxpr, [*cond_consts, *carry.nodes()])
        ctx.line(f"if (!({ctx.scalar(pred)})) break;")
        carry.update(ctx.lower_jaxpr(body_jaxpr, [*body_consts, *carry.nodes()]))
    return carry.final(None)


lower.register_kernel(while_p, _while_lowering)
jaxpr_util.register_call_primitive(while_p, sub_jaxprs=("cond_jaxpr", "body_jaxpr"))
