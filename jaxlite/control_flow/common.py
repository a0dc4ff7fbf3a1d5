"""Helpers shared by the control-flow primitives: staging user functions into const-free closed
jaxprs (constants hoisted as operands) once per signature (the trace cache), jaxpr surgery
(reordering, unused inputs, copies), the carry type check with JAX's message, and weak-type
promotion of loop carries.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import api_util, core, dtypes, jaxpr_util, tree_util
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import ClosedJaxpr, Jaxpr, ShapedArray, Tracer, Var
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import staging
from jaxlite.primitives import _collective
from jaxlite.jaxpr_util import (
    dce_jaxpr,
    fresh_copy,  # noqa: F401  (common.fresh_copy: unrolled loops)
    hoist_consts,
)

# ------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------


def as_value(x):
    """A pytree leaf as a jaxlite value: Python scalars become weakly typed 0-d Arrays."""
    t = type(x)
    if t is Array or t is np.ndarray or isinstance(x, Tracer):
        return x
    aval = core.get_aval(x)  # raises a TypeError naming a bad leaf type
    return _wrap(np.asarray(x, aval.dtype), aval.weak_type)


def flatten_values(tree) -> tuple[list, tree_util.PyTreeDef]:
    leaves, treedef = tree_util.tree_flatten(tree)
    return [as_value(x) for x in leaves], treedef


def avals_of(xs: Sequence[Any]) -> list[ShapedArray]:
    return [core.get_aval(x) for x in xs]


def aval_str(aval: ShapedArray) -> str:
    """JAX's `str_short` in error messages: `float32[3]`."""
    return f"{aval.dtype.name}[{','.join(map(str, aval.shape))}]"


def typematch(a: ShapedArray, b: ShapedArray) -> bool:
    """Equal shapes and dtypes (weak types may differ), as JAX's `core.typematch`."""
    return a.shape == b.shape and a.dtype == b.dtype


def split(seq: Sequence, *sizes: int) -> list[list]:
    """`seq` cut into consecutive pieces of `sizes`, and the rest: `split(ops, n_consts, n_carry)`
    -> `[consts, carry, xs]`."""
    out, start = [], 0
    for n in sizes:
        out.append(list(seq[start : start + n]))
        start += n
    out.append(list(seq[start:]))
    return out


def fixed_point(step: Callable[[list[bool]], list[bool]], start: list[bool]) -> list[bool]:
    """The least `flags >= start` with `step(flags) <= flags` (which loop carries have nonzero
    tangents, are batched, are unknown): each round only turns flags on, so it ends within
    `len(start) + 1` rounds."""
    flags = list(start)
    while True:
        new = [a or b for a, b in zip(flags, step(flags))]
        if new == flags:
            return flags
        flags = new


# ------------------------------------------------------------------------------------------
# Staging sub-jaxprs
# ------------------------------------------------------------------------------------------


def trace_flat(fun: Callable, in_avals: Sequence[ShapedArray], description: str):
    """Stages `fun(*flat) -> flat list` into `(const-free closed jaxpr, consts)`."""
    return hoist_consts(staging.trace_to_jaxpr(fun, list(in_avals), description))


def trace_tree_fun(fun: Callable, in_tree, in_avals: Sequence[ShapedArray], description: str):
    """Stages the user function `fun(*pytree_args)` with flat inputs of `in_avals`.

    Returns:
      `(closed, consts, out_tree)`: `closed` takes `(*consts, *flat_args)`.
    """
    flat_fun, out_tree = api_util.flatten_fun_nokwargs(fun, in_tree)
    closed, consts = trace_flat(flat_fun, in_avals, description)
    return closed, consts, out_tree()


# ------------------------------------------------------------------------------------------
# The trace cache: a user function is staged once per signature, as in JAX (whose
# `_initial_style_jaxpr` is a weakref LRU cache on `(fun, in_tree, in_avals)`)
# ------------------------------------------------------------------------------------------

TRACE_CACHE_SIZE = 2048  # entries in all; when full, the oldest entry goes first

_traces: dict[tuple, Any] = {}  # ((id(f), ...), key) -> value
_funs: dict[int, tuple[weakref.ref, set]] = {}  # id(f) -> (weak reference to f, keys naming f)
_lock = threading.RLock()  # NB: re-entrant: a dying function's callback may run while we store


def cached_trace(funs: tuple, key: tuple, build: Callable[[], tuple[Any, Sequence]],
                 per_trace: bool = True):  # fmt: skip
    """`build()`'s value, computed once per `key` for as long as every function in `funs` lives.

    Functions are held weakly and compared by identity; an entry goes when any of its functions
    is garbage collected. `build() -> (value, consts)`, where `consts` are the values the staged
    jaxprs closed over.

    As in JAX (whose cache key holds the current trace), with `per_trace` an entry made under a
    transformation (`jit`, `grad`, `vmap`) serves only calls under that same trace: eager calls
    share their entries, a new `jit` trace or an eager `grad` call stages its bodies anew. And a
    value is kept only when no const is a tracer, so the cache never holds (or leaks) tracers.

    The bound axis names and sizes (vmap/pmap `axis_name`) are part of the key: a body staged
    under an axis of size 2 may hold that size (`lax.axis_size`, `psum` of a constant).

    NB: as in JAX, what a function reads besides its arguments is not part of the key: a body
    reading a global, an attribute or a closure cell that is rebound between calls keeps the
    value it read when first staged (in eager code, or within one trace). Pass such values as
    operands, or define the body anew.

    Args:
      funs: the user's functions.
      key: everything else the staging depends on (a tag, input trees and avals); hashable.
      build: stages the functions.
      per_trace: whether the value depends on the current trace (False: wrappers).
    """
    trace = core.current_trace()
    try:
        if per_trace and trace is not core.eval_trace:
            key = (*key, weakref.ref(trace))  # NB: weak: a finished trace is not kept alive
        env = _collective.env_key()
        if per_trace and env:  # NB: a body may hold a bound axis's size (lax.axis_size)
            key = (*key, env)
        k = (tuple(map(id, funs)), key, dtypes.x64_enabled())  # NB: consts follow the mode
        hit = _traces.get(k)
    except TypeError:  # an unhashable part of the key: staged every time
        return build()[0]
    if hit is not None:
        return hit
    value, consts = build()
    if not any(isinstance(c, Tracer) for c in consts):
        _store(funs, k, value)
    return value


def _store(funs: tuple, k: tuple, value) -> None:
    with _lock:
        entries = []
        for f in funs:
            entry = _funs.get(id(f))
            if entry is None or entry[0]() is not f:
                try:
                    entry = (weakref.ref(f, functools.partial(_forget, id(f))), set())
                except TypeError:  # not weakly referenceable (a builtin): not cached
                    return
            entries.append(entry)
        for f, entry in zip(funs, entries):
            _funs[id(f)] = entry
            entry[1].add(k)
        _traces[k] = value
        while len(_traces) > TRACE_CACHE_SIZE:
            _drop(next(iter(_traces)))


def _drop(k: tuple) -> None:
    _traces.pop(k, None)
    for i in k[0]:
        entry = _funs.get(i)
        if entry is not None:
            entry[1].discard(k)
            if not entry[1]:
                del _funs[i]


def _forget(fun_id: int, dead: weakref.ref) -> None:
    """A cached function was garbage collected: its entries go, and what they kept alive."""
    if _traces is None or _funs is None:  # NB: interpreter exit has cleared this module
        return
    with _lock:
        entry = _funs.get(fun_id)
        if entry is None or entry[0] is not dead:
            return
        del _funs[fun_id]
        for k in entry[1]:
            _drop(k)


def clear_trace_cache() -> None:
    """Forgets every staged control-flow body (they are staged again when next called)."""
    with _lock:
        _traces.clear()
        _funs.clear()


def trace_cache_size() -> int:
    """The number of staged control-flow bodies held."""
    return len(_traces)


def weak_wrapper(make: Callable[[Callable[[], Callable]], Callable], fun: Callable) -> Callable:
    """`make(weakref.ref(fun))`: a wrapper of `fun` that stays the same object for as long as
    `fun` lives (so the trace cache recognises it), holding `fun` weakly (so the cache does not
    keep `fun` alive). As JAX's `_fori_scan_body_fun`.

    Example:
      >>> weak_wrapper(lambda ref: lambda c, x: ((), ref()(x)), f)  # lax.map's scan body
    """

    def build():
        try:
            ref = weakref.ref(fun)
        except TypeError:
            return make(lambda: fun), ()  # not cached: see `_store`
        return make(ref), ()

    return cached_trace((fun,), ("wrapper", make), build, per_trace=False)


def eval_closed(closed: ClosedJaxpr, *args) -> list:
    """Evaluates a closed jaxpr on the current trace."""
    return core.eval_jaxpr(closed.jaxpr, closed.consts, *args)


def eval_now(closed: ClosedJaxpr, args: Sequence[Any]) -> list:
    """Evaluates a closed jaxpr eagerly (the impl rules of the control-flow primitives)."""
    with core.set_current_trace(core.eval_trace):
        return core.eval_jaxpr(closed.jaxpr, closed.consts, *args)


def has_collectives(closed: ClosedJaxpr) -> bool:
    """Whether `closed` (or a jaxpr inside it) runs a named-axis collective. Over MPI every rank
    must issue the same collectives, so an eager loop whose NumPy evaluation raised is then not
    replayed op by op (the replay's collectives would meet the other ranks' next ones): the
    error is raised as it is (when the collective itself raised, it did so on every rank)."""

    def walk(jaxpr) -> bool:
        for e in jaxpr.eqns:
            if e.primitive in _collective.COLLECTIVE_PRIMITIVES:
                return True
            if any(walk(sub) for sub in jaxpr_util.sub_jaxprs(e)):
                return True
        return False

    return walk(closed.jaxpr)


def numpy_evaluator(closed: ClosedJaxpr) -> Callable | None:
    """`closed` as a function of NumPy arrays to NumPy arrays that calls each primitive's NumPy
    impl directly: no `bind`, no `Array` per value (~1 us per equation instead of ~4), for the
    bodies of eager loops. None if an equation has no plain NumPy impl (nested control flow,
    calls): then evaluate with `eval_now`.

    NB: results are those of `eval_now` (the same impls, on the same dtypes: an impl returns its
    abstract eval's dtype); weak types are the caller's to set, from the primitive's abstract
    eval. On an error, evaluate again with `eval_now`, which raises the eager message (unless
    the jaxpr has collectives: `has_collectives`).
    """
    steps = []
    for e in closed.jaxpr.eqns:
        fn = getattr(e.primitive.impl, "numpy_impl", None)
        if fn is None:
            return None
        ins = [(True, np.asarray(a.val, a.aval.dtype)) if type(a) is core.Literal else (False, a)
               for a in e.invars]  # fmt: skip
        steps.append((fn, ins, e.outvars, e.params, e.primitive.multiple_results))
    j = closed.jaxpr
    consts = [core.to_numpy(c) for c in closed.consts]
    outvars = [(True, np.asarray(v.val, v.aval.dtype)) if type(v) is core.Literal else (False, v)
               for v in j.outvars]  # fmt: skip

    def run(*args: np.ndarray) -> list[np.ndarray]:
        env = dict(zip(j.constvars, consts))
        env.update(zip(j.invars, args))
        for fn, ins, outs, params, multiple in steps:
            res = fn(*[v if lit else env[v] for lit, v in ins], **params)
            for v, r in zip(outs, res if multiple else (res,)):
                env[v] = r if type(r) is np.ndarray else np.asarray(r)
        return [v if lit else env[v] for lit, v in outvars]

    return run


# ------------------------------------------------------------------------------------------
# Jaxpr surgery (the results share Vars with the input, which is fine: jaxprs are immutable)
# ------------------------------------------------------------------------------------------


def permute(closed: ClosedJaxpr, in_order=None, out_order=None) -> ClosedJaxpr:
    """`closed` with inputs (outputs) reordered: new input k is old input `in_order[k]`."""
    j = closed.jaxpr
    invars = j.invars if in_order is None else [j.invars[i] for i in in_order]
    outvars = j.outvars if out_order is None else [j.outvars[i] for i in out_order]
    return ClosedJaxpr(Jaxpr(j.constvars, invars, outvars, j.eqns), closed.consts)


def add_unused_inputs(closed: ClosedJaxpr, avals: Sequence[ShapedArray], at: int) -> ClosedJaxpr:
    """`closed` with extra inputs of `avals` that it ignores, inserted at position `at`."""
    j = closed.jaxpr
    new = [Var(a) for a in avals]
    invars = j.invars[:at] + new + j.invars[at:]
    return ClosedJaxpr(Jaxpr(j.constvars, invars, j.outvars, j.eqns), closed.consts)


def select_outputs(closed: ClosedJaxpr, keep: Sequence[bool]) -> ClosedJaxpr:
    """`closed` returning only the outputs marked in `keep` (dead equations are dropped)."""
    return ClosedJaxpr(dce_jaxpr(closed.jaxpr, keep), closed.consts)


def share_leading_inputs(closeds: Sequence[ClosedJaxpr], leading: Sequence[list]) -> list:
    """Jaxprs `closed_i(*lead_i, *args)` made to all take `(*lead_0, *lead_1, ..., *args)`,
    each ignoring the others' leading inputs (`leading[i]`: the avals of `lead_i`)."""
    flat = [a for avals in leading for a in avals]
    out, start = [], 0
    for closed, avals in zip(closeds, leading):
        stop = start + len(avals)
        closed = add_unused_inputs(closed, flat[:start], 0)
        closed = add_unused_inputs(closed, flat[stop:], stop)
        out.append(closed)
        start = stop
    return out


def join_consts(pairs: Sequence[tuple[ClosedJaxpr, list]]) -> tuple[list[ClosedJaxpr], list]:
    """Gives several jaxprs (cond branches) common leading constant inputs.

    Args:
      pairs: `(closed, consts)` pairs, `closed` taking `(*consts, *args)` (see `hoist_consts`).

    Returns:
      Jaxprs that all take `(*consts_0, *consts_1, ..., *args)`, each ignoring the other
      jaxprs' constants, and the concatenated constants.
    """
    closeds = share_leading_inputs([c for c, _ in pairs], [avals_of(cs) for _, cs in pairs])
    return closeds, [x for _, cs in pairs for x in cs]


def nonzero_tangents(primals: Sequence[Any], tangents: Sequence[Any]) -> list[bool]:
    """Which tangents carry information: not symbolic zeros, nor tangents of integers."""
    return [
        type(t) is not ad.Zero and dtypes.is_inexact(core.get_aval(p).dtype)
        for p, t in zip(primals, tangents)
    ]


# ------------------------------------------------------------------------------------------
# Carry types
# ------------------------------------------------------------------------------------------


def _first_param_name(fun: Callable, position: int) -> str | None:
    try:
        params = list(inspect.signature(fun).parameters)
    except (ValueError, TypeError):
        return None
    return params[position] if len(params) > position else None


def _capitalize(s: str) -> str:
    return s[:1].upper() + s[1:]


def _join_differences(diffs: list[str]) -> str:
    if len(diffs) == 1:
        return f"{_capitalize(diffs[0])}.\n"
    return "\n".join(f"  * {d};\n" for d in diffs[:-1]) + f"  * {diffs[-1]}.\n"


def _mismatch_extra(a: ShapedArray, b: ShapedArray) -> str:
    dt, sh = a.dtype != b.dtype, a.shape != b.shape
    return (
        ", so " * (dt or sh)
        + "the dtypes do not match" * dt
        + " and also " * (dt and sh)
        + "the shapes do not match" * sh
    )


def check_carry_type(
    name: str,
    body_fun: Callable,
    in_carry,
    out_tree,
    out_avals,
    carry_position: int = 0,
    allow_weak: bool = False,
) -> None:
    """Raises JAX's TypeError when a loop body's carry output differs from its carry input.

    Args:
      name: "scan body", "while_loop body", "fori_loop body".
      body_fun: the user's body (its parameter at `carry_position` names the carry).
      in_carry: the carry input pytree (values).
      out_tree, out_avals: the structure and flat types of the carry output.
      carry_position: the position of the carry among `body_fun`'s parameters.
      allow_weak: let weakly typed inputs of the output's shape through (the caller promotes
        them and checks again).
    """
    carry_name = _first_param_name(body_fun, carry_position)

    def component(path) -> str:
        if carry_name:
            return (
                f"the input carry component {carry_name}{tree_util.keystr(path)}"
                if path
                else (f"the input carry {carry_name}")
            )
        return f"the input carry at path {tree_util.keystr(path)}" if path else "the input carry"

    pairs, in_tree = tree_util.tree_flatten_with_path(in_carry)
    if in_tree != out_tree:
        raise TypeError(
            f"{name} function carry input and carry output must have the same pytree structure, "
            f"but they differ:\n\nthe input tree structure is:\n{in_tree}\n\n"
            f"the output tree structure is:\n{out_tree}\n\n"
            "Revise the function so that the carry output has the same pytree structure as the "
            "carry input."
        )
    in_avals = [core.get_aval(x) for _, x in pairs]
    diffs = [
        f"{component(path)} has type {aval_str(a)} but the corresponding output carry component "
        f"has type {aval_str(b)}{_mismatch_extra(a, b)}"
        for (path, _), a, b in zip(pairs, in_avals, out_avals)
        if not typematch(a, b) and not (allow_weak and a.weak_type and a.shape == b.shape)
    ]
    if diffs:
        raise TypeError(
            f"{name} function carry input and carry output must have equal types (e.g. shapes "
            f"and dtypes of arrays), but they differ:\n\n{_join_differences(diffs)}\n"
            "Revise the function so that all output types match the corresponding input types."
        )


def weak_carry_dtypes(in_avals: Sequence[ShapedArray], out_avals: Sequence[ShapedArray]):
    """The dtypes weakly typed initial carries take from the body's carry outputs (as JAX
    does), None where a carry keeps its dtype; or None if none changes (else the body must be
    staged again on the promoted carries)."""
    out = []
    for a, b in zip(in_avals, out_avals):
        dt = None
        if a.weak_type and not typematch(a, b) and a.shape == b.shape:
            dt, _ = dtypes.result_type((a.dtype, True), (b.dtype, b.weak_type))
        out.append(None if dt == a.dtype else dt)
    return tuple(out) if any(dt is not None for dt in out) else None


def promote_carry(init: list, dts) -> list:
    """`init` converted to the dtypes of `weak_carry_dtypes` (`dts` None: unchanged)."""
    if dts is None:
        return init
    return [x if dt is None else lax.convert_element_type(x, dt) for x, dt in zip(init, dts)]


def impl_outputs(outs: Sequence[Any], avals: Sequence[ShapedArray]) -> list:
    """Outputs of an eager evaluation as Arrays (literals and NumPy inputs are wrapped)."""
    res = []
    for x, a in zip(outs, avals):
        t = type(x)
        if t is not Array:
            x = _wrap(np.array(x, a.dtype), a.weak_type)  # a copy: never freeze a user's buffer
        elif x.weak_type != a.weak_type:
            x = _wrap(x._value, a.weak_type)
        res.append(x)
    return res
