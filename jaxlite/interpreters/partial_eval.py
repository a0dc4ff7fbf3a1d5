"""Partial evaluation: known values are computed on the parent trace at once, unknown ones are
staged into a jaxpr whose constvars (the known values it reads) are the residuals. `linearize` =
JVP with unknown tangents: the staged jaxpr is the linear map that `vjp` transposes.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

from jaxlite import core, dtypes
from jaxlite import primitives as lax
from jaxlite.core import ClosedJaxpr, JaxprEqn, Literal, ShapedArray, Tracer, Var
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import staging
from jaxlite.interpreters.staging import StagingTrace, StagingTracer
from jaxlite.jaxpr_util import dce_jaxpr  # noqa: F401  (pe.dce_jaxpr for its users)

# Rule signature: rule(trace, args, params) -> outputs, for primitives (call primitives) that
# must split themselves into a known part bound on `trace.parent` and an unknown part staged on
# `trace`. Called only when at least one argument is unknown (`trace.is_unknown(arg)`).
PartialEvalRule = Callable[["PartialEvalTrace", Sequence[Any], dict], Any]
partial_eval_rules: dict[core.Primitive, PartialEvalRule] = {}


class PartialEvalTrace(StagingTrace):
    """Unknown values are this trace's (staging) tracers; everything else is known.

    A primitive with only known inputs runs on the parent now; one with an unknown input is
    recorded, and the known values it reads become constvars of the staged jaxpr (residuals).
    """

    def __init__(self, parent: core.Trace, description: str = "linearize"):
        super().__init__(parent, description)

    def is_unknown(self, x) -> bool:
        return type(x) is StagingTracer and x._trace is self

    def process_primitive(self, prim, args, params):
        for x in args:
            if type(x) is StagingTracer and x._trace is self:
                break
        else:  # all known: compute now, on the parent (inlined `jvp.bind_on`: a hot path)
            parent = self.parent
            prev = core.swap_trace(parent)
            try:
                return parent.process_primitive(prim, args, params)
            finally:
                core.swap_trace(prev)
        rule = partial_eval_rules.get(prim) or staging.staging_rules.get(prim)
        if rule is not None:
            return rule(self, args, params)
        return self.stage(prim, args, params)

    def stage(self, prim, args, params):
        """Records one equation (the fast path of `default_process_primitive`)."""
        atoms = [
            x._var if type(x) is StagingTracer and x._trace is self else self.const_atom(x)
            for x in args
        ]
        out = _abstract_eval(prim, [a.aval for a in atoms], params)
        if prim.multiple_results:
            outvars = [Var(a) for a in out]
            self.eqns.append(JaxprEqn(prim, atoms, outvars, params))
            return [StagingTracer(self, v.aval, v) for v in outvars]
        outvar = Var(out)
        self.eqns.append(JaxprEqn(prim, atoms, [outvar], params))
        return StagingTracer(self, out, outvar)

    def const_atom(self, x):
        """A known value read by a staged equation: a residual (constvar), or a literal."""
        v = self.const_vars.get(id(x))
        if v is not None:
            return v
        if isinstance(x, Tracer):
            core.check_not_escaped(x)
            aval = x.aval
        else:
            aval = core.get_aval(x)
            if not aval.shape:
                return Literal(staging._scalar_value(x, aval), aval)
        v = Var(aval)
        self.const_vars[id(x)] = v  # NB: const_vals keeps `x` alive, so its id stays unique
        self.const_vals.append(x)
        self.constvars.append(v)
        return v


# NB: abstract evaluation is a pure function of the input avals and params, and the costliest
# step of staging an equation under linearize (~3x an eager op on small arrays): memoized, for
# the primitives of jaxlite.primitives only (their params are small static values; a call
# primitive's params hold jaxprs, which the cache would keep alive).
_abstract_cache: dict = {}
_CACHEABLE = frozenset(lax.ALL_PRIMITIVES)
dtypes.on_x64_change(_abstract_cache.clear)  # a rule's dtype follows the mode


def _abstract_eval(prim: core.Primitive, avals: list[ShapedArray], params: dict):
    if prim not in _CACHEABLE:
        return prim.abstract_eval(*avals, **params)
    try:
        key = (prim, *[(a.shape, a.dtype, a.weak_type) for a in avals], *params.items())
        out = _abstract_cache.get(key)
    except TypeError:  # an unhashable param
        return prim.abstract_eval(*avals, **params)
    if out is None:
        out = prim.abstract_eval(*avals, **params)
        if len(_abstract_cache) >= 4096:
            _abstract_cache.clear()
        _abstract_cache[key] = out
    return out


def linearize_flat(
    fun: Callable,
    primals: Sequence[Any],
    tag: str = "linearize",
    in_mask: Sequence[bool] | None = None,
) -> tuple[list, ClosedJaxpr, list[bool], list[bool]]:
    """JVP of `fun(*flat) -> flat list` with unknown tangents, staged into a linear jaxpr.

    `in_mask`: the inputs to differentiate (all floating-point ones when None); the others
    have zero tangents.

    Returns:
      `(primals_out, linear, in_mask, out_mask)`: `linear` maps the tangents of the inputs where
      `in_mask` is True (the floating-point ones) to the tangents of the outputs where
      `out_mask` is True (the others are symbolic zeros).
    """
    in_avals = [core.get_aval(p) for p in primals]
    if in_mask is None:
        in_mask = [dtypes.is_inexact(a.dtype) for a in in_avals]
    pe = PartialEvalTrace(core.current_trace(), tag)
    prev = core.swap_trace(pe)  # core.new_trace, without a contextmanager's cost
    try:
        tangents = [
            pe.new_arg(a) if m else ad.Zero(ad.tangent_aval(a)) for a, m in zip(in_avals, in_mask)
        ]
        primals_out, tangents_out = ad.jvp_flat(fun, primals, tangents, tag)
        out_mask = [type(t) is not ad.Zero for t in tangents_out]
        linear = pe.to_closed_jaxpr([t for t in tangents_out if type(t) is not ad.Zero])
    finally:
        core.swap_trace(prev)
        pe.finish()
    return primals_out, linear, in_mask, out_mask


def partial_eval_jaxpr(
    closed: ClosedJaxpr, unknowns: Sequence[bool], instantiate: bool | Sequence[bool]
) -> tuple[ClosedJaxpr, ClosedJaxpr, list[bool], int]:
    """Splits a closed jaxpr into a known and an unknown part, for call primitives.

    Args:
      closed: the jaxpr.
      unknowns: for each input, whether it is unknown.
      instantiate: for each output (or one bool for all), whether to make it unknown even when
        it is known (it is then passed through as a residual).

    Returns:
      `(known, unknown, out_unknowns, num_res)` with JAX's `partial_eval_jaxpr_nounits`
      conventions: `known` takes the known inputs and returns the known outputs followed by
      `num_res` residuals; `unknown` takes the residuals followed by the unknown inputs and
      returns the unknown outputs.
    """
    n_out = len(closed.jaxpr.outvars)
    if isinstance(instantiate, bool):
        instantiate = [instantiate] * n_out
    in_avals = closed.in_avals
    known_avals = [a for a, uk in zip(in_avals, unknowns) if not uk]
    result: dict[str, Any] = {}

    def known_fun(*known_args):
        pe = PartialEvalTrace(core.current_trace(), "partial_eval_jaxpr")
        with core.new_trace(pe):
            it = iter(known_args)
            args = [pe.new_arg(a) if uk else next(it) for a, uk in zip(in_avals, unknowns)]
            outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *args)
            out_uk = [pe.is_unknown(o) or inst for o, inst in zip(outs, instantiate)]
            unknown = pe.to_closed_jaxpr([o for o, uk in zip(outs, out_uk) if uk])
        residuals = unknown.consts
        jaxpr = staging.convert_constvars_jaxpr(unknown.jaxpr)
        result["unknown"] = ClosedJaxpr(jaxpr, [])
        result["out_uk"] = out_uk
        result["num_res"] = len(residuals)
        return [o for o, uk in zip(outs, out_uk) if not uk] + list(residuals)

    known = staging.trace_to_jaxpr(known_fun, known_avals, "partial_eval_jaxpr")
    return known, result["unknown"], result["out_uk"], result["num_res"]


def close_over_args(fun: Callable, in_avals: Sequence[ShapedArray], description: str):
    """Traces `fun(*flat) -> flat` into `(jaxpr_without_consts, consts)`: the constvars become
    leading invars, so the consts (often tracers of outer traces) are passed as arguments."""
    closed = staging.trace_to_jaxpr(fun, in_avals, description)
    jaxpr = staging.convert_constvars_jaxpr(closed.jaxpr)
    return ClosedJaxpr(jaxpr, []), list(closed.consts)
