"""Staging: records primitives applied to tracers as equations of a jaxpr (`make_jaxpr`, `jit`).

Values that are not this trace's tracers become constants: scalars are inlined as `Literal`s,
everything else becomes a constvar of the closed jaxpr (tracers of enclosing traces included).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import core
from jaxlite.array import Array
from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, ShapedArray, Tracer, Var
from jaxlite.jaxpr_util import convert_constvars_jaxpr  # noqa: F401  (staging.* for its users)

# Rule signature: (trace, args, params) -> outputs. For primitives whose staging is more than
# "record one equation" (custom_jvp_call, custom_vjp_call).
StagingRule = Callable[["StagingTrace", Sequence[Any], dict], Any]
staging_rules: dict[core.Primitive, StagingRule] = {}


class StagingTracer(Tracer):
    __slots__ = ("aval", "_var")  # NB: not `var`, which is the jnp method

    def __init__(self, trace: StagingTrace, aval: ShapedArray, var: Var):
        self._trace = trace
        self.aval = aval
        self._var = var


class StagingTrace(core.Trace):
    def __init__(self, parent: core.Trace, description: str = "make_jaxpr"):
        self.parent = parent
        self.description = description
        self.eqns: list[JaxprEqn] = []
        self.invars: list[Var] = []
        self.const_vars: dict[int, Var] = {}  # id(value) -> constvar
        self.const_vals: list[Any] = []
        self.constvars: list[Var] = []
        self.const_copies = {}  # NumPy arrays used as constants, copied once (core.captured_copy)

    def finish(self) -> None:
        super().finish()
        self.const_copies = None  # the copies live on in the jaxpr's consts

    def new_arg(self, aval: ShapedArray) -> StagingTracer:
        v = Var(aval)
        self.invars.append(v)
        return StagingTracer(self, aval, v)

    def to_atom(self, x) -> Var | Literal:
        if isinstance(x, StagingTracer) and x._trace is self:
            return x._var
        return self.const_atom(x)

    def const_atom(self, x) -> Var | Literal:
        if isinstance(x, Tracer):
            core.check_not_escaped(x)
        else:
            aval = core.get_aval(x)
            if aval.shape == ():
                return Literal(_scalar_value(x, aval), aval)
        v = self.const_vars.get(id(x))
        if v is None:
            v = Var(core.get_aval(x))
            self.const_vars[id(x)] = v
            self.const_vals.append(x)
            self.constvars.append(v)
        return v

    def process_primitive(self, prim, args, params):
        rule = staging_rules.get(prim)
        if rule is not None:
            return rule(self, args, params)
        return self.default_process_primitive(prim, args, params)

    def default_process_primitive(self, prim, args, params):
        atoms = [self.to_atom(x) for x in args]
        out = prim.abstract_eval(*[a.aval for a in atoms], **params)
        if prim.multiple_results:
            outvars = [Var(a) for a in out]
            self.eqns.append(JaxprEqn(prim, atoms, outvars, params))
            return [StagingTracer(self, v.aval, v) for v in outvars]
        outvar = Var(out)
        self.eqns.append(JaxprEqn(prim, atoms, [outvar], params))
        return StagingTracer(self, out, outvar)

    def to_closed_jaxpr(self, outs: Sequence[Any]) -> ClosedJaxpr:
        outvars = [self.to_atom(x) for x in outs]
        jaxpr = Jaxpr(self.constvars, self.invars, outvars, self.eqns)
        return ClosedJaxpr(jaxpr, self.const_vals)


def _scalar_value(x, aval: ShapedArray):
    if type(x) is Array:
        return x._value
    return np.asarray(x, aval.dtype)


def trace_to_jaxpr(
    fun: Callable, in_avals: Sequence[ShapedArray], description: str = "make_jaxpr"
) -> ClosedJaxpr:
    """Stages `fun(*flat_args) -> flat_outs` (flat lists) into a closed jaxpr."""
    trace = StagingTrace(core.current_trace(), description)
    with core.new_trace(trace):
        args = [trace.new_arg(a) for a in in_avals]
        outs = fun(*args)
        closed = trace.to_closed_jaxpr(list(outs))
    return closed
