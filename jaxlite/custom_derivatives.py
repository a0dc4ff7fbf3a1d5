"""`custom_jvp` and `custom_vjp`: functions with user-defined derivatives, as JAX's.

Under a transformation they bind the call primitives `custom_jvp_call` / `custom_vjp_call`,
whose `call_jaxpr` param (a `ClosedJaxpr` without consts: closed-over values are the first
`num_consts` arguments) is the primal function. Eagerly, the function simply runs; under a JVP
trace (eager `grad`, `jvp`) nothing is staged either: the rule runs on the primals, which may be
concrete, as in JAX (`_handling_trace` decides, as JAX's `process_custom_jvp_call`s).

NB for jit and the C backend: a jaxpr containing these equations is evaluated (and lowered) by
inlining `call_jaxpr` on the equation's arguments (`core.eval_jaxpr(call_jaxpr.jaxpr, [],
*args)`): the custom rules matter only to autodiff, which runs before lowering. Their vmap rules
are written in interpreters/vmap.py (with the other batching rules) and registered here.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence


from jaxlite import api_util, core, dtypes, jaxpr_util, tree_util
from jaxlite.core import Tracer
from jaxlite.errors import JaxliteError
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import partial_eval as pe
from jaxlite.interpreters import tape
from jaxlite.interpreters import transpose as tp
from jaxlite.interpreters import vmap as batching


class CustomJVPException(JaxliteError, TypeError):
    """A custom_jvp/custom_vjp function was differentiated with respect to a closed-over value.

    Pass the value as an explicit argument of the function instead.
    """


_CLOSURE_MSG = (
    "Detected differentiation of a {kind} function with respect to a closed-over value. That "
    "isn't supported because the custom rule only specifies how to differentiate the function "
    "with respect to its explicit input parameters. Pass the value as an explicit argument "
    "instead (and, for custom_vjp, return a cotangent for it from bwd)."
)


# ------------------------------------------------------------------------------------------
# Shared helpers
# ------------------------------------------------------------------------------------------


def _resolve_args(fun: Callable, args, kwargs) -> tuple:
    """Positional arguments only (keyword arguments are bound by name, as JAX does)."""
    if not kwargs:
        return tuple(args)
    try:
        ba = inspect.signature(fun).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{getattr(fun, '__name__', 'fun')}: {e}") from None
    ba.apply_defaults()
    if ba.kwargs:
        raise TypeError(
            "keyword-only arguments are not supported by custom_jvp / custom_vjp functions: "
            f"{sorted(ba.kwargs)}"
        )
    return tuple(ba.args)


def _split_nondiff(args: tuple, nondiff_argnums: tuple[int, ...]):
    nondiff = {i: args[i] for i in nondiff_argnums}
    diff = tuple(a for i, a in enumerate(args) if i not in nondiff)
    return nondiff, diff


def _merge(nondiff: dict, diff: Sequence, n: int) -> list:
    it = iter(diff)
    return [nondiff[i] if i in nondiff else next(it) for i in range(n)]


def _with_nondiff(fun: Callable, nondiff: dict, n: int) -> Callable:
    """`fun` as a function of its differentiable arguments (the others fixed to `nondiff`)."""
    fixed = [nondiff.get(i) for i in range(n)]
    return api_util.argnums_partial(fun, [i for i in range(n) if i not in nondiff], fixed)


def _handling_trace(leaves: list) -> core.Trace:
    """The trace that handles a custom_jvp/custom_vjp call on `leaves`, as JAX's
    `process_custom_jvp_call`s decide: the eager trace (run the function as it is), a JVP trace
    (run the rule on the primals), or a trace that stages the function into a jaxpr.

    A vmap or linearize trace none of whose values are among the arguments passes the call to
    its parent, so that under an eager `grad` the rule sees concrete primals (and may branch on
    them in Python, as in JAX); a staging trace (jit, make_jaxpr, control flow) always stages.
    """
    t = core.current_trace()
    while True:
        kind = type(t)
        if t is core.eval_trace or kind is ad.JVPTrace or kind is tape.TapeTrace:
            return t
        if kind is _RuleTrace or (
            kind in (batching.BatchTrace, pe.PartialEvalTrace)
            and not any(isinstance(x, Tracer) and x._trace is t for x in leaves)
        ):
            t = t.parent
            continue
        return t


class _RuleTrace(core.Trace):
    """Where a custom rule runs on behalf of a JVP trace: on that trace's parent (so eager
    primals are concrete), refusing the values of the traces it stands in for (the JVP trace and
    any above it), which only a closure can bring in: their derivatives would be lost."""

    def __init__(self, jvp_trace: ad.JVPTrace | tape.TapeTrace, kind: str):
        self.parent = jvp_trace.parent
        self.kind = kind
        self.description = jvp_trace.description
        below, t = set(), self.parent
        while t is not None:
            below.add(t)
            t = t.parent
        self._below = below

    def check(self, x) -> None:
        if isinstance(x, Tracer) and x._trace not in self._below:
            core.check_not_escaped(x)
            raise CustomJVPException(_CLOSURE_MSG.format(kind=self.kind))

    def process_primitive(self, prim, args, params):
        for x in args:
            self.check(x)
        return ad.bind_on(self.parent, prim, args, params)


def _on_jvp_trace(trace: ad.JVPTrace, leaves: list, kind: str, call: Callable, rule: Callable):
    """A custom_jvp/custom_vjp call under `trace` without staging the function (JAX's
    `JVPTrace.process_custom_jvp_call`): with no tangent in, `call()` (the function again, one
    trace lower); else `rule(primals, tangents) -> (primals_out, tangents_out)` (flat lists) on
    the primals, whose outputs are returned flat as this trace's values."""
    pairs = [trace.to_primal_tangent(x) for x in leaves]
    guard = _RuleTrace(trace, kind)
    prev = core.swap_trace(guard)
    try:
        if all(type(t) is ad.Zero for _, t in pairs):
            out = call()
            tree_util.tree_map(guard.check, out)
            return out
        primals_out, tangents_out = rule([p for p, _ in pairs], [t for _, t in pairs])
    finally:
        core.swap_trace(prev)
    for x in (*primals_out, *tangents_out):
        guard.check(x)
    return [trace.pure(p, t) for p, t in zip(primals_out, tangents_out)]


def _on_tape(trace, custom, args, nondiff: dict, leaves: list, in_tree, kind: str):
    """A custom_jvp/custom_vjp call under eager grad's tape: the call linearized at the
    primals (a JVP trace then runs the rule on them, as under `linearize`) and recorded. With
    no tape value among the arguments, the function runs as under a JVP trace with no tangent
    in (`_on_jvp_trace`): tape values it closes over are refused."""
    if not any(isinstance(x, Tracer) and x._trace is trace for x in leaves):
        guard = _RuleTrace(trace, kind)
        prev = core.swap_trace(guard)
        try:
            out = custom(*args)
            tree_util.tree_map(guard.check, out)
        finally:
            core.swap_trace(prev)
        return out
    flat_fun, out_tree_of = api_util.flatten_fun_nokwargs(
        _with_nondiff(custom, nondiff, len(args)), in_tree
    )
    outs = trace.process_call_at_point(flat_fun, leaves)
    return tree_util.tree_unflatten(out_tree_of(), outs)


def _trace_call(flat_fun: Callable, leaves: list, name: str):
    """Traces `flat_fun` at `leaves` into a const-free jaxpr; returns `(call_jaxpr, consts)`."""
    avals = [core.get_aval(x) for x in leaves]
    return pe.close_over_args(flat_fun, avals, f"custom derivative function `{name}`")


def _check_closure_tangents(tangents, num_consts: int, kind: str) -> None:
    if any(type(t) is not ad.Zero for t in tangents[:num_consts]):
        raise CustomJVPException(_CLOSURE_MSG.format(kind=kind))


def _eval_call_jaxpr(*args, call_jaxpr, **_):
    return core.eval_jaxpr(call_jaxpr.jaxpr, call_jaxpr.consts, *args)


def _call_abstract_eval(*avals, call_jaxpr, **_):
    return call_jaxpr.out_avals


# ------------------------------------------------------------------------------------------
# custom_jvp
# ------------------------------------------------------------------------------------------

custom_jvp_call_p = core.Primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.def_custom_impl(_eval_call_jaxpr)
custom_jvp_call_p.def_abstract_eval(_call_abstract_eval)


def _custom_jvp_call_jvp(primals, tangents, *, call_jaxpr, jvp_jaxpr_fun, num_consts, **_):
    _check_closure_tangents(tangents, num_consts, "custom_jvp")
    args = primals[num_consts:]
    # Symbolic zeros are instantiated (integer inputs get float0 zeros, as JAX's rules expect).
    tangents_in = [ad.instantiate_zeros(t) for t in tangents[num_consts:]]
    outs = jvp_jaxpr_fun(*args, *tangents_in)
    n = len(call_jaxpr.out_avals)
    primals_out, tangents_out = outs[:n], outs[n:]
    return primals_out, tangents_out


ad.jvp_rules[custom_jvp_call_p] = _custom_jvp_call_jvp
batching.batch_rules[custom_jvp_call_p] = functools.partial(
    batching.custom_jvp_call_batcher, custom_jvp_call_p
)
# Under jit the rule is not needed: the backend inlines the primal computation.
jaxpr_util.register_call_primitive(
    custom_jvp_call_p, sub_jaxprs=("call_jaxpr",), inline_body="call_jaxpr"
)


class custom_jvp:
    """A function with a custom JVP (forward-mode) rule, as `jax.custom_jvp`.

    Reverse mode comes for free by transposing the rule's (linear) tangent computation.

    Args:
      fun: the primal function; its arguments and outputs are pytrees of arrays.
      nondiff_argnums: positions of arguments that are not differentiated (static values such
        as functions or ints); they are passed first to the JVP rule.

    Example:
      >>> @jaxlite.custom_jvp
      ... def log1pexp(x):
      ...     return jnp.log(1.0 + jnp.exp(x))
      >>> @log1pexp.defjvp
      ... def log1pexp_jvp(primals, tangents):
      ...     (x,), (t,) = primals, tangents
      ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + jnp.exp(x)))
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp: Callable | None = None
        self.symbolic_zeros = False

    def defjvp(self, jvp: Callable, symbolic_zeros: bool = False) -> Callable:
        """Sets the rule `jvp(*nondiff_args, primals, tangents) -> (primal_out, tangent_out)`;
        `primals` and `tangents` are tuples (integer inputs get `float0` tangents)."""
        if symbolic_zeros:
            raise NotImplementedError("custom_jvp: symbolic_zeros=True is not supported")
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Callable | None) -> None:
        """One rule per argument, `jvp_i(tangent_i, primal_out, *primals) -> contribution`
        (`None` for an argument that does not influence the output)."""
        if self.nondiff_argnums:
            raise TypeError("Can't use defjvps with nondiff_argnums.")

        def jvp(primals, tangents):
            primal_out = self(*primals)
            parts = [fn(t, primal_out, *primals) for fn, t in zip(jvps, tangents) if fn is not None]
            if not parts:
                return primal_out, tree_util.tree_map(_zeros_like, primal_out)
            return primal_out, tree_util.tree_map(lambda *xs: functools.reduce(_add, xs), *parts)

        self.defjvp(jvp)

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        name = getattr(self.fun, "__name__", "fun")
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {name} using defjvp.")
        args = _resolve_args(self.fun, args, kwargs)
        nondiff, diff = _split_nondiff(args, self.nondiff_argnums)
        leaves, in_tree = tree_util.tree_flatten(diff)
        trace = _handling_trace(leaves)
        if trace is core.eval_trace:
            return self.fun(*args)
        n_args = len(args)
        fun, rule = self.fun, self.jvp
        # What the rule's outputs are checked against: the function's, once it has been traced.
        known: dict = {"out_tree": None, "out_avals": None}

        def jvp_jaxpr_fun(*xs):
            n = len(xs) // 2
            primals = tree_util.tree_unflatten(in_tree, xs[:n])
            tangents = tree_util.tree_unflatten(in_tree, xs[n:])
            nd = [nondiff[i] for i in sorted(nondiff)]
            out = rule(*nd, tuple(primals), tuple(tangents))
            return _flatten_jvp_output(out, known, name)

        jvp_jaxpr_fun.__name__ = getattr(rule, "__name__", "jvp")
        if type(trace) is tape.TapeTrace:  # eager grad: linearized here, the rule on primals
            return _on_tape(trace, self, args, nondiff, leaves, in_tree, "custom_jvp")
        if type(trace) is ad.JVPTrace:  # as JAX: the rule runs on the primals, not staged

            def run_rule(primals, tangents):
                outs = jvp_jaxpr_fun(*primals, *[ad.instantiate_zeros(t) for t in tangents])
                n = len(outs) // 2
                return outs[:n], outs[n:]

            outs = _on_jvp_trace(trace, leaves, "custom_jvp", lambda: self(*args), run_rule)
            tree = known["out_tree"]
            return outs if tree is None else tree_util.tree_unflatten(tree, outs)
        flat_fun, out_tree_of = api_util.flatten_fun_nokwargs(
            _with_nondiff(fun, nondiff, n_args), in_tree
        )
        call_jaxpr, consts = _trace_call(flat_fun, leaves, name)
        out_tree = known["out_tree"] = out_tree_of()
        known["out_avals"] = call_jaxpr.out_avals
        outs = custom_jvp_call_p.bind(
            *consts,
            *leaves,
            call_jaxpr=call_jaxpr,
            jvp_jaxpr_fun=jvp_jaxpr_fun,
            num_consts=len(consts),
            symbolic_zeros=False,
            name=name,
        )
        return tree_util.tree_unflatten(out_tree, outs)


def _zeros_like(x):
    aval = core.get_aval(x)
    return ad.zeros_like_aval(ad.tangent_aval(aval))


def _add(x, y):
    from jaxlite import primitives as lax

    return lax.add(x, y)


def _flatten_jvp_output(out, known: dict, name: str) -> list:
    """The rule's `(primal_out, tangent_out)` checked and flattened to `primals + tangents`.
    `known` holds the function's output tree and avals if it was traced (else the rule's
    primal output sets the tree: under an eager JVP the function itself never runs)."""
    out_tree, out_avals = known["out_tree"], known["out_avals"]
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(
            f"Custom JVP rule of `{name}` must return a pair (primal_out, tangent_out), got "
            f"{type(out).__name__}"
        )
    primal_out, tangent_out = out
    p_leaves, p_tree = tree_util.tree_flatten(primal_out)
    t_leaves, t_tree = tree_util.tree_flatten(tangent_out)
    if out_tree is None:
        known["out_tree"] = out_tree = p_tree
        out_avals = [core.get_aval(p) for p in p_leaves]
    if p_tree != out_tree:
        raise TypeError(
            f"Custom JVP rule of `{name}` must produce a primal output with the same container "
            f"(pytree) structure as the primal function's output: the function returns "
            f"{out_tree}, the rule's primal output is {p_tree}."
        )
    if t_tree != p_tree:
        raise TypeError(
            f"Custom JVP rule of `{name}` must produce primal and tangent outputs with equal "
            f"container (pytree) structures, but got {p_tree} and {t_tree} respectively."
        )
    tangents = []
    for i, (p, t, aval) in enumerate(zip(p_leaves, t_leaves, out_avals)):
        p_aval = core.get_aval(p)
        if p_aval.shape != aval.shape or p_aval.dtype != aval.dtype:
            raise TypeError(
                f"Custom JVP rule of `{name}`: primal output {i} has type {p_aval.str_short()}, "
                f"but the function returns {aval.str_short()}"
            )
        expected = ad.tangent_dtype(aval.dtype)
        if expected == dtypes.float0:
            tangents.append(ad.Zero(ad.tangent_aval(aval)))
            continue
        t_aval = core.get_aval(t)
        if t_aval.shape != aval.shape or (t_aval.dtype != expected and not t_aval.weak_type):
            raise TypeError(
                f"Custom JVP rule of `{name}` must produce primal and tangent outputs with "
                f"corresponding shapes and dtypes, but output {i} has primal "
                f"{aval.str_short()} and tangent {t_aval.str_short()}."
            )
        if t_aval.dtype != expected:
            from jaxlite import primitives as lax

            t = lax.convert_element_type(t, expected)
        tangents.append(t)
    return list(p_leaves) + tangents


# ------------------------------------------------------------------------------------------
# custom_vjp
# ------------------------------------------------------------------------------------------

custom_vjp_call_p = core.Primitive("custom_vjp_call", multiple_results=True)
custom_vjp_call_p.def_custom_impl(_eval_call_jaxpr)
custom_vjp_call_p.def_abstract_eval(_call_abstract_eval)

# custom_lin: the linear part of a custom_vjp function under differentiation. Its inputs are
# the residuals and the tangents; its transpose calls the user's bwd. It has no forward mode.
custom_lin_p = core.Primitive("custom_lin", multiple_results=True)


@custom_lin_p.def_custom_impl
def _custom_lin_impl(*args, num_res, bwd, out_avals, name):
    raise TypeError(
        f"can't apply forward-mode autodiff (jvp) to a custom_vjp function (`{name}`). Use "
        "reverse mode (grad, vjp, jacrev), or define the function with custom_jvp instead."
    )


@custom_lin_p.def_abstract_eval
def _custom_lin_abstract(*avals, num_res, bwd, out_avals, name):
    return list(out_avals)


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, name):
    cts = [tp.instantiate(ct) for ct in cts]
    res = args[:num_res]
    cts_in = bwd(*res, *cts)
    return [None] * num_res + list(cts_in)


tp.transpose_rules[custom_lin_p] = _custom_lin_transpose
batching.batch_rules[custom_lin_p] = functools.partial(batching.custom_lin_batcher, custom_lin_p)


def _custom_vjp_call_jvp(
    primals, tangents, *, call_jaxpr, fwd_jaxpr_fun, bwd, num_consts, name, **_
):
    _check_closure_tangents(tangents, num_consts, "custom_vjp")
    n_out = len(call_jaxpr.out_avals)
    outs_and_res = fwd_jaxpr_fun(*primals[num_consts:])
    primals_out, res = outs_and_res[:n_out], outs_and_res[n_out:]
    arg_tangents = tangents[num_consts:]
    return _custom_vjp_tangents(primals_out, res, arg_tangents, call_jaxpr.out_avals, bwd, name)


def _custom_vjp_tangents(primals_out, res, arg_tangents, out_avals, bwd, name):
    """The output tangents of a custom_vjp function: `custom_lin` of the residuals (from fwd)
    and the input tangents, transposed by calling `bwd`."""
    float_out = [dtypes.is_inexact(a.dtype) for a in out_avals]
    if all(type(t) is ad.Zero for t in arg_tangents):
        return primals_out, [ad.Zero.from_primal(p) for p in primals_out]
    tangents_in = [ad.instantiate_zeros(t) for t in arg_tangents]
    lin_avals = tuple(ad.tangent_aval(a) for a, f in zip(out_avals, float_out) if f)
    lin_out = iter(
        custom_lin_p.bind(
            *res, *tangents_in, num_res=len(res), bwd=bwd, out_avals=lin_avals, name=name
        )
    )
    tangents_out = [
        next(lin_out) if f else ad.Zero.from_primal(p) for p, f in zip(primals_out, float_out)
    ]
    return primals_out, tangents_out


ad.jvp_rules[custom_vjp_call_p] = _custom_vjp_call_jvp
batching.batch_rules[custom_vjp_call_p] = functools.partial(
    batching.custom_vjp_call_batcher, custom_vjp_call_p
)
jaxpr_util.register_call_primitive(
    custom_vjp_call_p, sub_jaxprs=("call_jaxpr",), inline_body="call_jaxpr"
)


class custom_vjp:
    """A function with a custom VJP (reverse-mode) rule, as `jax.custom_vjp`.

    Args:
      fun: the primal function; its arguments and outputs are pytrees of arrays.
      nondiff_argnums: positions of arguments that are not differentiated; they are passed
        first to `bwd`.

    Example:
      >>> @jaxlite.custom_vjp
      ... def clip_gradient(x):
      ...     return x
      >>> clip_gradient.defvjp(lambda x: (x, None),
      ...                      lambda res, g: (jnp.clip(g, -1.0, 1.0),))
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False) -> None:
        """Sets the rule: `fwd(*args) -> (out, residuals)` (residuals: any pytree of arrays)
        and `bwd(*nondiff_args, residuals, ct_out) -> tuple` with one cotangent per
        differentiable argument (`None` stands for zeros)."""
        if symbolic_zeros:
            raise NotImplementedError("custom_vjp: symbolic_zeros=True is not supported")
        self.fwd, self.bwd = fwd, bwd

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        name = getattr(self.fun, "__name__", "fun")
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {name} using defvjp.")
        args = _resolve_args(self.fun, args, kwargs)
        nondiff, diff = _split_nondiff(args, self.nondiff_argnums)
        leaves, in_tree = tree_util.tree_flatten(diff)
        trace = _handling_trace(leaves)
        if trace is core.eval_trace:
            return self.fun(*args)
        n_args = len(args)
        fun, fwd, bwd = self.fun, self.fwd, self.bwd
        in_avals = [core.get_aval(x) for x in leaves]
        # The function's output tree once traced; else (eager JVP) fwd's output sets it.
        store: dict = {"out_tree": None}

        def fwd_jaxpr_fun(*xs):
            res_out = fwd(*_merge(nondiff, tree_util.tree_unflatten(in_tree, xs), n_args))
            if not (isinstance(res_out, (tuple, list)) and len(res_out) == 2):
                raise TypeError(
                    f"Custom VJP fwd rule of `{name}` must return a pair (output, residuals), "
                    f"got {type(res_out).__name__}"
                )
            out, res = res_out
            out_leaves, fwd_tree = tree_util.tree_flatten(out)
            out_tree = store["out_tree"]
            if out_tree is None:
                store["out_tree"] = out_tree = fwd_tree
            if fwd_tree != out_tree:
                raise TypeError(
                    f"Custom VJP fwd rule of `{name}` must produce an output with the same "
                    f"container (pytree) structure as the primal function: the function returns "
                    f"{out_tree}, fwd returns {fwd_tree}."
                )
            res_leaves, store["res_tree"] = tree_util.tree_flatten(res)
            return list(out_leaves) + list(res_leaves)

        def bwd_flat(*res_and_cts):
            res_tree = store["res_tree"]
            n_res = res_tree.num_leaves
            res = tree_util.tree_unflatten(res_tree, res_and_cts[:n_res])
            ct = tree_util.tree_unflatten(store["out_tree"], res_and_cts[n_res:])
            nd = [nondiff[i] for i in sorted(nondiff)]
            cts_in = bwd(*nd, res, ct)
            return _flatten_bwd_output(cts_in, diff, in_tree, in_avals, name)

        fwd_jaxpr_fun.__name__ = getattr(fwd, "__name__", "fwd")
        bwd_flat.__name__ = getattr(bwd, "__name__", "bwd")
        if type(trace) is tape.TapeTrace:  # eager grad: linearized here, fwd on primals
            return _on_tape(trace, self, args, nondiff, leaves, in_tree, "custom_vjp")
        if type(trace) is ad.JVPTrace:  # as JAX: fwd runs on the primals, nothing is staged

            def run_fwd(primals, tangents):
                outs_and_res = fwd_jaxpr_fun(*primals)
                n_out = store["out_tree"].num_leaves
                outs, res = outs_and_res[:n_out], outs_and_res[n_out:]
                out_avals = [core.get_aval(o) for o in outs]
                return _custom_vjp_tangents(outs, res, tangents, out_avals, bwd_flat, name)

            outs = _on_jvp_trace(trace, leaves, "custom_vjp", lambda: self(*args), run_fwd)
            tree = store["out_tree"]
            return outs if tree is None else tree_util.tree_unflatten(tree, outs)
        flat_fun, out_tree_of = api_util.flatten_fun_nokwargs(
            _with_nondiff(fun, nondiff, n_args), in_tree
        )
        call_jaxpr, consts = _trace_call(flat_fun, leaves, name)
        out_tree = store["out_tree"] = out_tree_of()
        outs = custom_vjp_call_p.bind(
            *consts,
            *leaves,
            call_jaxpr=call_jaxpr,
            fwd_jaxpr_fun=fwd_jaxpr_fun,
            bwd=bwd_flat,
            num_consts=len(consts),
            symbolic_zeros=False,
            name=name,
        )
        return tree_util.tree_unflatten(out_tree, outs)


def _flatten_bwd_output(cts_in, diff: tuple, in_tree, in_avals, name: str) -> list:
    if not isinstance(cts_in, (tuple, list)) or len(cts_in) != len(diff):
        raise TypeError(
            f"Custom VJP bwd rule of `{name}` must return a tuple with one cotangent per "
            f"differentiable argument ({len(diff)} of them), got "
            f"{type(cts_in).__name__}"
            + (f" of length {len(cts_in)}" if isinstance(cts_in, (tuple, list)) else "")
        )
    flat: list = []
    for i, (ct, arg) in enumerate(zip(cts_in, diff)):
        arg_leaves, arg_tree = tree_util.tree_flatten(arg)
        if ct is None:
            flat += [None] * len(arg_leaves)
            continue
        try:
            flat += arg_tree.flatten_up_to(ct)
        except ValueError as e:
            raise TypeError(
                f"Custom VJP bwd rule of `{name}`: the cotangent for argument {i} must have the "
                f"structure of the argument, {arg_tree} ({e})"
            ) from None
    out = []
    for ct, aval in zip(flat, in_avals):
        if not dtypes.is_inexact(aval.dtype):
            out.append(None)
            continue
        if ct is None:
            out.append(ad.zeros_like_aval(aval))
            continue
        ct_aval = core.get_aval(ct)
        if ct_aval.shape != aval.shape:
            raise ValueError(
                f"Custom VJP bwd rule of `{name}` must produce an output with the same shape as "
                f"the args tuple of the primal function: got a cotangent of shape "
                f"{ct_aval.str_short()} for an argument of shape {aval.str_short()}."
            )
        if ct_aval.dtype != aval.dtype:
            from jaxlite import primitives as lax

            ct = lax.convert_element_type(ct, aval.dtype)
        out.append(ct)
    return out
