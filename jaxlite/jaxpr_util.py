"""Jaxpr rewriting utilities with one home: liveness and dead-code elimination, variable
substitution, constvars opened into inputs, sub-jaxpr traversal, and the registry through which
call primitives declare their backend behaviour (which params are sub-jaxprs, may the equation be
inlined, does it have a hoisting rule). Used by the interpreters, control flow and the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Primitive, Var
from jaxlite.errors import JaxliteError
from jaxlite.util import safe_zip

Atom = Var | Literal

# ------------------------------------------------------------------------------------------
# Liveness and dead code
# ------------------------------------------------------------------------------------------


def live_eqns(
    jaxpr: Jaxpr, outvars: Sequence[Atom] | None = None, effects: bool = True
) -> list[JaxprEqn]:
    """The equations that some output (of `outvars`, default the jaxpr's) depends on, and those
    with effects (callbacks: `has_effects`) unless `effects` is False, in order."""
    live = {v for v in (jaxpr.outvars if outvars is None else outvars) if type(v) is Var}
    out = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in live for v in eqn.outvars) or (effects and has_effects(eqn)):
            out.append(eqn)
            live.update(v for v in eqn.invars if type(v) is Var)
    return out[::-1]


def has_effects(eqn: JaxprEqn) -> bool:
    """Whether `eqn` has effects besides its outputs: an effectful primitive (a debug or io
    callback), or a call whose sub-jaxprs hold one."""
    if eqn.primitive.effectful:
        return True
    return any(has_effects(e) for sub in sub_jaxprs(eqn) for e in sub.eqns)


def dce_jaxpr(jaxpr: Jaxpr, used_outputs: Sequence[bool] | None = None) -> Jaxpr:
    """The jaxpr computing only the outputs marked used (all by default); inputs are unchanged."""
    outvars = jaxpr.outvars
    if used_outputs is not None:
        outvars = [v for v, used in safe_zip(jaxpr.outvars, used_outputs) if used]
    return Jaxpr(jaxpr.constvars, jaxpr.invars, outvars, live_eqns(jaxpr, outvars))


def use_counts(eqns: Sequence[JaxprEqn], outvars: Sequence[Atom]) -> dict[Var, int]:
    """How many times each variable is read: once per equation operand and once per output."""
    uses: dict[Var, int] = {}
    for a in [a for e in eqns for a in e.invars] + list(outvars):
        if type(a) is Var:
            uses[a] = uses.get(a, 0) + 1
    return uses


# ------------------------------------------------------------------------------------------
# Substitution
# ------------------------------------------------------------------------------------------


def substitute(atoms: Sequence[Atom], env: dict) -> list:
    """`atoms` with each variable replaced by `env[v]` where `env` has it."""
    return [env.get(a, a) if type(a) is Var else a for a in atoms]


def copy_eqns(eqns: Sequence[JaxprEqn], env: dict) -> list[JaxprEqn]:
    """`eqns` reading their operands through `env` and writing fresh variables (recorded in
    `env`): the same computation, safe to place beside the original (inlining, unrolling)."""
    out = []
    for e in eqns:
        invars = substitute(e.invars, env)
        outvars = [type(v)(v.aval) for v in e.outvars]  # a Var, or a DropVar
        env.update(safe_zip(e.outvars, outvars))
        out.append(e.replace(invars=invars, outvars=outvars))
    return out


def fresh_copy(closed: ClosedJaxpr) -> ClosedJaxpr:
    """`closed` with new variables throughout (the same equations; sub-jaxprs are shared)."""
    j = closed.jaxpr
    env: dict[Var, Var] = {v: Var(v.aval) for v in [*j.constvars, *j.invars]}
    eqns = copy_eqns(j.eqns, env)
    jaxpr = Jaxpr(substitute(j.constvars, env), substitute(j.invars, env),
                  substitute(j.outvars, env), eqns)  # fmt: skip
    return ClosedJaxpr(jaxpr, closed.consts)


# ------------------------------------------------------------------------------------------
# Constvars
# ------------------------------------------------------------------------------------------


def convert_constvars_jaxpr(jaxpr: Jaxpr) -> Jaxpr:
    """Moves constvars to the front of the invars: `{ lambda a; b. ...}` -> `{ lambda ; a b. }`."""
    return Jaxpr([], jaxpr.constvars + jaxpr.invars, jaxpr.outvars, jaxpr.eqns)


def hoist_consts(closed: ClosedJaxpr) -> tuple[ClosedJaxpr, list]:
    """`closed` as a const-free jaxpr whose leading inputs are its former constants, and those
    constants (`closed` itself and `[]` when it has none)."""
    if not closed.jaxpr.constvars:
        return closed, []
    return ClosedJaxpr(convert_constvars_jaxpr(closed.jaxpr), []), list(closed.consts)


# ------------------------------------------------------------------------------------------
# Call primitives: what the backend may do with them, declared by each one in its own module
# ------------------------------------------------------------------------------------------

# A hoisting rule: a call equation -> equations computed before it followed by the rewritten
# call (or `[eqn]` when nothing moves).
HoistRule = Callable[[JaxprEqn], list[JaxprEqn]]


@dataclass(frozen=True)
class CallInfo:
    """What a call primitive tells the backend.

    sub_jaxprs: the params holding its sub-jaxprs (a closed jaxpr, or a tuple of them).
    inline_body: the param whose closed jaxpr maps the operands to the results, so that the
      equation may be replaced by that body (pjit, custom_jvp_call, ...); None: never inlined.
    hoist: a rule moving loop-invariant work out of the equation (scan), or None.
    """

    sub_jaxprs: tuple[str, ...]
    inline_body: str | None = None
    hoist: HoistRule | None = None


_CALLS: dict[Primitive, CallInfo] = {}


def register_call_primitive(prim: Primitive, *, sub_jaxprs: Sequence[str],
                            inline_body: str | None = None, hoist: HoistRule | None = None):  # fmt: skip
    """Declares `prim` a call primitive (one whose params hold jaxprs); see `CallInfo`."""
    if inline_body is not None and inline_body not in sub_jaxprs:
        raise ValueError(f"{prim.name}: inline_body {inline_body!r} is not in {sub_jaxprs}")
    _CALLS[prim] = CallInfo(tuple(sub_jaxprs), inline_body, hoist)


def call_info(prim: Primitive) -> CallInfo | None:
    """The declaration of the call primitive `prim`, or None (not a call primitive)."""
    return _CALLS.get(prim)


def call_primitives() -> list[Primitive]:
    """Every registered call primitive."""
    return list(_CALLS)


# ------------------------------------------------------------------------------------------
# Sub-jaxprs
# ------------------------------------------------------------------------------------------


def _is_jaxpr_param(value) -> bool:
    if isinstance(value, (Jaxpr, ClosedJaxpr)):
        return True
    return isinstance(value, (tuple, list)) and any(map(_is_jaxpr_param, value))


def _declared(eqn: JaxprEqn) -> tuple[str, ...]:
    info = _CALLS.get(eqn.primitive)
    if info is not None:
        return info.sub_jaxprs
    for name, value in eqn.params.items():
        if _is_jaxpr_param(value):
            raise JaxliteError(
                f"primitive '{eqn.primitive.name}' has a jaxpr in its param '{name}' but is not "
                "a registered call primitive: declare it with jaxlite.jaxpr_util."
                "register_call_primitive(prim, sub_jaxprs=(...)) next to its other rules."
            )
    return ()


def sub_jaxprs(eqn: JaxprEqn) -> Iterator[Jaxpr]:
    """The jaxprs inside `eqn`'s params (loop bodies, branches, call bodies), one level deep."""
    for name in _declared(eqn):
        value = eqn.params[name]
        for c in value if isinstance(value, (tuple, list)) else (value,):
            yield c.jaxpr if isinstance(c, ClosedJaxpr) else c


def map_sub_jaxprs(eqn: JaxprEqn, fn: Callable[[Jaxpr], Jaxpr]) -> JaxprEqn:
    """`eqn` with `fn` applied to each jaxpr in its params (their consts are kept); `eqn` itself
    when `fn` returns every jaxpr unchanged."""
    params = {}
    for name in _declared(eqn):
        value = eqn.params[name]
        if isinstance(value, (tuple, list)):
            new = type(value)(_map_one(c, fn) for c in value)
            if any(a is not b for a, b in safe_zip(new, value)):
                params[name] = new
        elif (new := _map_one(value, fn)) is not value:
            params[name] = new
    return eqn.replace(params={**eqn.params, **params}) if params else eqn


def _map_one(c: ClosedJaxpr | Jaxpr, fn: Callable[[Jaxpr], Jaxpr]):
    if isinstance(c, ClosedJaxpr):
        new = fn(c.jaxpr)
        return c if new is c.jaxpr else ClosedJaxpr(new, c.consts)
    return fn(c)
