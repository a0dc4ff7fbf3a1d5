"""`checkpoint` (alias `remat`): differentiate a function without saving its intermediates; the
backward pass recomputes them. A call primitive printed `checkpoint[...]`, as in JAX, whose
partial-evaluation rule saves only the function's inputs as residuals.

NB for jit and the C backend: a `checkpoint` equation is evaluated (and lowered) by inlining its
`jaxpr` param (a `ClosedJaxpr` without consts) on the equation's arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from jaxlite import dtypes
from jaxlite import api_util, core, jaxpr_util, tree_util
from jaxlite._checkpoint_policies import everything_saveable, nothing_saveable
from jaxlite.core import ClosedJaxpr
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import partial_eval as pe
from jaxlite.interpreters import staging
from jaxlite.interpreters import transpose as tp
from jaxlite.interpreters import vmap as batching

remat_p = core.Primitive("checkpoint", multiple_results=True)


@remat_p.def_custom_impl
def _remat_impl(*args, jaxpr, prevent_cse, differentiated, policy):
    return core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *args)


@remat_p.def_abstract_eval
def _remat_abstract_eval(*avals, jaxpr, prevent_cse, differentiated, policy):
    return jaxpr.out_avals


def _remat_jvp(primals, tangents, *, jaxpr, prevent_cse, differentiated, policy):
    nonzeros = [type(t) is not ad.Zero for t in tangents]
    jvp_closed, out_nz = ad.jvp_jaxpr(jaxpr, nonzeros, instantiate=False)
    jvp_closed, consts = _without_consts(jvp_closed)
    nz_tangents = [t for t in tangents if type(t) is not ad.Zero]
    outs = remat_p.bind(
        *consts, *primals, *nz_tangents, jaxpr=jvp_closed, prevent_cse=prevent_cse,
        differentiated=True, policy=policy,
    )  # fmt: skip
    n = len(jaxpr.out_avals)
    primals_out, nz_out = outs[:n], iter(outs[n:])
    tangents_out = [
        next(nz_out) if nz else ad.Zero.from_primal(p) for p, nz in zip(primals_out, out_nz)
    ]
    return primals_out, tangents_out


ad.jvp_rules[remat_p] = _remat_jvp


_without_consts = jaxpr_util.hoist_consts  # `closed` with its consts as leading arguments


def _remat_partial_eval(trace: pe.PartialEvalTrace, args, params):
    """Known outputs are computed now; the unknown ones are staged as a `checkpoint` equation
    that recomputes, from the known *inputs*, what the unknown part needs (no intermediate is
    saved)."""
    jaxpr = params["jaxpr"]
    unknowns = [trace.is_unknown(x) for x in args]
    known_jaxpr, unknown_jaxpr, out_uk, num_res = pe.partial_eval_jaxpr(jaxpr, unknowns, False)
    known_args = [x for x, uk in zip(args, unknowns) if not uk]
    unknown_args = [x for x, uk in zip(args, unknowns) if uk]
    n_known_out = len(out_uk) - sum(out_uk)
    known_outs: list = []
    if n_known_out:  # the known outputs, without the residuals (the unknown side recomputes)
        used = [True] * n_known_out + [False] * num_res
        known_only = ClosedJaxpr(pe.dce_jaxpr(known_jaxpr.jaxpr, used), known_jaxpr.consts)
        known_only, consts = _without_consts(known_only)
        known_outs = ad.bind_on(
            trace.parent, remat_p, consts + known_args, dict(params, jaxpr=known_only)
        )
    # (known inputs, unknown inputs) -> unknown outputs, recomputing the residuals.
    known_avals = [a for a, uk in zip(jaxpr.in_avals, unknowns) if not uk]
    unknown_avals = [a for a, uk in zip(jaxpr.in_avals, unknowns) if uk]

    def recompute(*xs):
        ks, us = xs[: len(known_avals)], xs[len(known_avals) :]
        res = core.eval_jaxpr(known_jaxpr.jaxpr, known_jaxpr.consts, *ks)[n_known_out:]
        return core.eval_jaxpr(unknown_jaxpr.jaxpr, unknown_jaxpr.consts, *res, *us)

    staged = staging.trace_to_jaxpr(recompute, known_avals + unknown_avals, "checkpoint")
    used = [True] * len(staged.jaxpr.outvars)
    staged, consts = _without_consts(ClosedJaxpr(pe.dce_jaxpr(staged.jaxpr, used), staged.consts))
    unknown_outs = trace.stage(
        remat_p,
        consts + known_args + unknown_args,
        dict(params, jaxpr=staged, differentiated=True),
    )
    known_it, unknown_it = iter(known_outs), iter(unknown_outs)
    return [next(unknown_it) if uk else next(known_it) for uk in out_uk]


pe.partial_eval_rules[remat_p] = _remat_partial_eval


def _remat_transpose(cts, *args, jaxpr, prevent_cse, differentiated, policy):
    # As JAX: transpose the inner jaxpr and bind `checkpoint` again, so the recomputation of the
    # non-linear part stays inside a checkpoint in the backward pass.
    linear = [tp.is_undefined_primal(x) for x in args]
    transposed, consts = _without_consts(tp.transpose_jaxpr(jaxpr, linear))
    nonlin = [x for x in args if not tp.is_undefined_primal(x)]
    float_cts = [
        tp.instantiate(ct) for ct, a in zip(cts, jaxpr.out_avals) if dtypes.is_inexact(a.dtype)
    ]
    cts_lin = iter(
        remat_p.bind(
            *consts, *nonlin, *float_cts, jaxpr=transposed, prevent_cse=prevent_cse,
            differentiated=True, policy=policy,
        )
    )  # fmt: skip
    return [next(cts_lin) if lin else None for lin in linear]


tp.transpose_rules[remat_p] = _remat_transpose


def _remat_batch(axis_size, vals, dims, *, jaxpr, **params):
    batched, out_dims = batching.batch_jaxpr(jaxpr, axis_size, dims, False)
    batched, consts = _without_consts(batched)
    return remat_p.bind(*consts, *vals, jaxpr=batched, **params), out_dims


batching.batch_rules[remat_p] = _remat_batch
# The backend inlines a checkpoint equation (the recomputation is already in the jaxpr).
jaxpr_util.register_call_primitive(remat_p, sub_jaxprs=("jaxpr",), inline_body="jaxpr")


def checkpoint(
    fun: Callable, *, prevent_cse: bool = True, policy: Callable | None = None,
    static_argnums: int | Sequence[int] = (),
) -> Callable:  # fmt: skip
    """Makes `fun` recompute its intermediates in the backward pass instead of saving them
    (`jax.checkpoint`, alias `remat`): less memory, about one more forward evaluation.

    Args:
      fun: the function (pytrees of arrays in and out).
      prevent_cse: kept for JAX compatibility (recorded on the equation).
      policy: `None` or `checkpoint_policies.nothing_saveable` (save nothing but the inputs),
        or `checkpoint_policies.everything_saveable` (save everything: no recomputation).
      static_argnums: arguments that are Python values rather than arrays.

    Returns:
      A function with `fun`'s signature.

    Example:
      >>> f = jaxlite.checkpoint(lambda x: jnp.sin(jnp.sin(x)))
      >>> jaxlite.grad(f)(1.0)  # sin(x) is recomputed in the backward pass
      Array(0.36003949, dtype=float64, weak_type=True)
    """
    if policy is everything_saveable:  # save every residual: plain differentiation
        return fun
    if policy not in (None, nothing_saveable):
        name = getattr(policy, "__name__", repr(policy))
        raise NotImplementedError(
            f"checkpoint: policy {name} is not supported: jaxlite's checkpoint saves nothing "
            "but the inputs (policy=None or checkpoint_policies.nothing_saveable), or everything "
            "(checkpoint_policies.everything_saveable, the same as no checkpoint); policies "
            "saving some residuals (dots, names) are not implemented"
        )
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    static_argnums = tuple(static_argnums)
    name = getattr(fun, "__name__", "fun")

    @functools.wraps(fun)
    def fun_remat(*args, **kwargs):
        if core.current_trace() is core.eval_trace:
            return fun(*args, **kwargs)  # nothing to differentiate: just run it
        f_dyn, dyn = api_util.static_argnums_partial(fun, static_argnums, args)
        leaves, in_tree = tree_util.tree_flatten((tuple(dyn), kwargs))
        flat_fun, out_tree = api_util.flatten_fun(f_dyn, in_tree)
        avals = [core.get_aval(x) for x in leaves]
        jaxpr, consts = pe.close_over_args(flat_fun, avals, f"checkpoint of `{name}`")
        outs = remat_p.bind(
            *consts, *leaves, jaxpr=jaxpr, prevent_cse=prevent_cse, differentiated=False,
            policy=None,
        )  # fmt: skip
        return tree_util.tree_unflatten(out_tree(), outs)

    return fun_remat


remat = checkpoint
