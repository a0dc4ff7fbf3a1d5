"""Eager reverse mode on a tape (issue 20.7): `grad` called outside any transformation runs its
function once, recording each primitive applied to the differentiated inputs (and to values
computed from them) with the residuals its VJP needs, then pulls cotangents back through the
records in reverse order. linearize + transpose (partial_eval.py, transpose.py) stage the whole
linearized function into a jaxpr first; the tape skips that staging, which dominates small
eager functions.

Each primitive's VJP still comes from its JVP and transpose rules, the single source of truth:
- jaxlite.primitives' primitives (static params): linearized once per (primitive, params, input
  avals, differentiated inputs) into a forward jaxpr (primal outputs, then residuals) and a
  backward jaxpr (residuals and output cotangents to input cotangents), cached;
- any other (call primitives, custom_jvp/custom_vjp, callbacks): linearized at the point on each
  call, exactly as `linearize` does, and its linear jaxpr transposed by `backward_pass`.

`vjp_flat` has partial_eval.linearize_flat + transpose's contract; `_autodiff_api` uses it while
nothing is traced and no debug check is on (`core.plain_eager()`), else the general path.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import core, dtypes
from jaxlite.array import Array, _wrap
from jaxlite.core import ClosedJaxpr, Literal, ShapedArray, Tracer
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import partial_eval as pe
from jaxlite.interpreters import staging
from jaxlite.interpreters import transpose as tp
from jaxlite.primitives._base import ELEMENTWISE_NUMPY

_HALF = dtypes.HALF_DTYPES  # a live set: bfloat16 joins when ml_dtypes loads


class TapeTracer(Tracer):
    """A value computed from the differentiated inputs: its concrete `primal` and the `slot`
    its cotangent accumulates in."""

    __slots__ = ("primal", "slot", "_aval")

    def __init__(self, trace: TapeTrace, primal, slot: int):
        self._trace = trace
        self.primal = primal
        self.slot = slot
        self._aval = None

    @property
    def aval(self) -> ShapedArray:
        a = self._aval
        if a is None:
            a = self._aval = core.get_aval(self.primal)
        return a

    def to_concrete_value(self):
        return self.primal  # as JVP tracers under eager grad: `if x > 0:` works


class _Node:
    """One recorded primitive: its VJP program, residuals, the cotangent slots of its
    differentiated inputs, and its outputs with nonzero tangents (tracers)."""

    __slots__ = ("program", "res", "in_slots", "outs")

    def __init__(self, program, res, in_slots, outs):
        self.program = program
        self.res = res
        self.in_slots = in_slots
        self.outs = outs


class TapeTrace(core.Trace):
    """Computes each primitive on the parent trace and records the ones that read its tracers.

    Args:
      parent: the trace primal values are computed on (the eager one).
      tag: what the user sees in messages ("grad of `loss`").
    """

    def __init__(self, parent: core.Trace, tag: str):
        self.parent = parent
        self.tag = tag
        self.description = tag
        self.nodes: list[_Node] = []
        self.n_slots = 0

    def new_arg(self, primal) -> TapeTracer:
        t = TapeTracer(self, primal, self.n_slots)
        self.n_slots += 1
        return t

    def process_primitive(self, prim, args, params):
        in_slots = None
        for i, x in enumerate(args):
            if type(x) is TapeTracer and x._trace is self:
                if in_slots is None:
                    primals, in_slots, diff = list(args), [], [False] * len(args)
                primals[i] = x.primal
                in_slots.append(x.slot)
                diff[i] = True
        if in_slots is None:  # nothing differentiated flows in: a constant
            return ad.bind_on(self.parent, prim, args, params)
        program = _program(prim, params, primals, tuple(diff), self.tag)
        return self._record(program, primals, in_slots, prim.multiple_results)

    def process_call_at_point(self, flat_fun: Callable, args: Sequence[Any]) -> list:
        """`flat_fun(*args) -> list`, linearized at the primals of `args` (custom_jvp and
        custom_vjp functions: custom_derivatives.py) and recorded as one node."""
        primals, in_slots, diff = list(args), [], []
        for i, x in enumerate(args):
            mine = type(x) is TapeTracer and x._trace is self
            if mine:
                primals[i] = x.primal
                in_slots.append(x.slot)
            diff.append(mine)
        return self._record(_AtPointVJP(flat_fun, diff, self.tag), primals, in_slots, True)

    def _record(self, program, primals, in_slots, multiple_results: bool):
        outs, res, out_mask = program.forward(primals, self.parent)
        if not multiple_results and out_mask[0]:  # NB: the common case
            t = TapeTracer(self, outs[0], self.n_slots)
            self.n_slots += 1
            self.nodes.append(_Node(program, res, in_slots, [t]))
            return t
        outs = list(outs)
        tracers = []
        for j, m in enumerate(out_mask):
            if m:
                t = outs[j] = self.new_arg(outs[j])
                tracers.append(t)
        if tracers:
            self.nodes.append(_Node(program, res, in_slots, tracers))
        return outs if multiple_results else outs[0]


# --- VJP programs ---------------------------------------------------------------------------


def _fun_of(prim, params):
    def fun(*xs):
        out = prim.bind(*xs, **params)
        return list(out) if prim.multiple_results else [out]

    return fun


class _Program:
    """A closed jaxpr evaluated on the eager trace as a straight line of NumPy impls, without
    `core.eval_jaxpr`'s per-equation dispatch and the eager impl's checks and weak-type
    inference: the staging already ran each equation's rule, and its avals (the inputs' are
    part of the cache keys) give the results' weak types. `eval_jaxpr` while a debug check is
    on (its checked process_primitive)."""

    __slots__ = ("closed", "consts", "steps", "outs", "line")

    def __init__(self, closed: ClosedJaxpr):
        jaxpr = closed.jaxpr
        self.closed = closed
        self.consts = list(closed.consts)
        index = {v: i for i, v in enumerate(list(jaxpr.constvars) + list(jaxpr.invars))}
        self.steps = []
        for eqn in jaxpr.eqns:
            ins = tuple(_ref(index, v) for v in eqn.invars)
            for v in eqn.outvars:
                index[v] = len(index)
            prim = eqn.primitive
            np_impl = getattr(prim.impl, "numpy_impl", None)
            raw = ELEMENTWISE_NUMPY.get(prim)
            if raw is not None and not any(v.aval.dtype in _HALF for v in eqn.invars):
                np_impl = raw[0]  # NB: without the checks the staging's rule already made
            weak = [_eager_weak(eqn, v.aval) for v in eqn.outvars]
            self.steps.append(
                (
                    prim,
                    ins,
                    eqn.params,
                    prim.impl,
                    np_impl,
                    weak if prim.multiple_results else weak[0],
                )  # fmt: skip
            )
        self.outs = [_ref(index, v) for v in jaxpr.outvars]
        if any(step[0].impl is None for step in self.steps):
            self.steps = None
        self.line = _straight_line(closed, self.steps) if self.steps else None

    def __call__(self, args) -> list:
        if self.steps is None or core.PLAIN_TRACE[0] is None:
            return core.eval_jaxpr(self.closed.jaxpr, self.consts, *args)
        if self.line is not None:
            out = self.line(args)
            if out is not None:
                return out
        env = self.consts + list(args)
        for prim, ins, params, impl, np_impl, weak in self.steps:
            xs = [env[i] if is_var else i for is_var, i in ins]
            if np_impl is not None and prim.impl is impl:  # NB: not since replaced (tests)
                for x in xs:
                    if type(x) is not Array:
                        break
                else:  # NB: the common case: NumPy on the buffers, results wrapped as staged
                    vals = [x._value for x in xs]
                    out = np_impl(*vals, **params)
                    if prim.multiple_results:
                        env.extend(_fresh(o, vals, w) for o, w in zip(out, weak))
                    else:
                        env.append(_fresh(out, vals, weak))
                    continue
            out = prim.impl(*xs, **params)
            if prim.multiple_results:
                env.extend(out)
            else:
                env.append(out)
        return [env[i] if is_var else i for is_var, i in self.outs]


def _straight_line(closed: ClosedJaxpr, steps: list):
    """The program as one generated Python function of its arguments on their NumPy buffers:
    no environment, no intermediate Arrays (results are made as the eager impl makes them:
    ndarrays, narrowed with x64 off). It returns None (the caller then takes the general
    loop) unless every argument is an Array and no primitive's impl has been replaced since;
    None is returned by this builder too when a step has no NumPy impl or a const is not an
    Array."""
    jaxpr = closed.jaxpr
    if any(np_impl is None for _, _, _, _, np_impl, _ in steps):
        return None
    if any(type(c) is not Array for c in closed.consts):
        return None
    # NB: __name__: warnings raised here are jaxlite's (primitives/_base.py's FP_WARNINGS filter)
    ns: dict = {"__name__": __name__, "Array": Array, "_ND": np.ndarray, "_NARROW": dtypes.NARROW, "_fix": _fix_out,
                "_arr": _array_of}  # fmt: skip
    names: dict = {}
    weak: dict = {}
    for k, (v, c) in enumerate(zip(jaxpr.constvars, closed.consts)):
        ns[f"c{k}"] = c._value
        names[v], weak[v] = f"c{k}", c.weak_type
    args = [f"a{k}" for k in range(len(jaxpr.invars))]
    for k, v in enumerate(jaxpr.invars):
        names[v], weak[v] = f"b{k}", v.aval.weak_type

    def ref(v) -> str:
        if type(v) is Literal:
            lit = _wrap(v.val, v.aval.weak_type)._value  # NB: what eval_jaxpr's read passes
            ns[f"l{len(ns)}"] = lit
            return f"l{len(ns) - 1}"
        return names[v]

    lines = ["def run(args):", f"    {', '.join(args)}{',' if len(args) == 1 else ''} = args"]
    if args:
        lines.append(f"    if {' or '.join(f'type({a}) is not Array' for a in args)}:")
        lines.append("        return None")
    checks = []
    for k, (prim, _, params, impl, np_impl, _) in enumerate(steps):
        ns[f"P{k}"], ns[f"I{k}"], ns[f"F{k}"], ns[f"K{k}"] = prim, impl, np_impl, params
        checks.append(f"P{k}.impl is not I{k}")
    if checks:
        lines.append(f"    if {' or '.join(checks)}:")
        lines.append("        return None")
    for k, a in enumerate(args):
        lines.append(f"    b{k} = {a}._value")
    n = 0
    for k, eqn in enumerate(jaxpr.eqns):
        call = f"F{k}({''.join(ref(v) + ', ' for v in eqn.invars)}**K{k})"
        outs = []
        for v in eqn.outvars:
            names[v], weak[v] = f"r{n}", _eager_weak(eqn, v.aval)
            outs.append(f"r{n}")
            n += 1
        if eqn.primitive.multiple_results:
            lines.append(f"    t = {call}")
            lines.extend(f"    {o} = _fix(t[{j}])" for j, o in enumerate(outs))
        else:
            lines.append(f"    {outs[0]} = {call}")
            lines.append(f"    if type({outs[0]}) is not _ND or _NARROW:")
            lines.append(f"        {outs[0]} = _fix({outs[0]})")
    rets = []
    for v in jaxpr.outvars:
        w = v.aval.weak_type if type(v) is Literal else weak[v]
        rets.append(f"_arr({ref(v)}, {w})")
    lines.append(f"    return [{', '.join(rets)}]")
    exec("\n".join(lines), ns)  # noqa: S102 (our own text, from the jaxpr's structure only)
    return ns["run"]


def _fix_out(r):
    """A NumPy impl's result as the eager impl keeps it (array._wrap's conversions)."""
    if type(r) is not np.ndarray:
        r = np.asarray(r)
    if dtypes.NARROW and r.dtype in dtypes.NARROW:  # x64 off: NumPy gave a 64-bit result
        r = r.astype(dtypes.NARROW[r.dtype])
    return r


def _array_of(v, weak: bool) -> Array:
    v.setflags(False)  # NB: every buffer here is fresh or already an Array's (read-only)
    a = _NEW(Array)
    a._value = v
    a.weak_type = weak
    return a


_NEW = object.__new__


def _eager_weak(eqn, aval: ShapedArray) -> bool:
    """The weak type the eager impl (core._make_eager_impl) gives this output, from the
    equation's avals: the rule's, when every input (from `weak_from` on) is weak."""
    if "weak_type" in eqn.params:
        return aval.weak_type
    ins = eqn.invars[eqn.primitive.weak_from :] if eqn.primitive.weak_from else eqn.invars
    return bool(eqn.invars) and all(v.aval.weak_type for v in ins) and aval.weak_type


def _fresh(out, vals, weak: bool) -> Array:
    """NumPy's result `out` as an Array; a view when it is an input buffer (never marking it)."""
    for v in vals:
        if out is v:
            out = out.view()
            break
    return _wrap(out, weak)


def _ref(index: dict, v):
    """(True, env index) of a variable; (False, value) of a literal, read as eval_jaxpr does
    (a weakly typed literal as a weak Array: made once, Arrays are immutable)."""
    if type(v) is Literal:
        return False, (_wrap(v.val, True) if v.aval.weak_type else v.val)
    return True, index[v]


class _CachedVJP:
    """A primitive's VJP at abstract inputs: `fwd` (primals -> all outputs, then residuals;
    `out_mask`: the outputs with nonzero tangents) and, per weak types of the output
    cotangents (transpose rules may depend on them), a backward program (residuals, output
    cotangents -> the cotangents of the differentiated inputs where `ct_mask`, the others
    being zero), built from the linear jaxpr `lin` on first use."""

    __slots__ = ("fwd", "lin", "n_out", "out_mask", "bwds", "tag")

    def forward(self, primals, parent: core.Trace):
        """(outputs, residuals, out_mask), computed on `parent`."""
        line = self.fwd.line
        vals = line(primals) if line is not None and core.PLAIN_TRACE[0] is not None else None
        if vals is None:  # NB: the straight line binds nothing: no trace to switch to
            prev = core.swap_trace(parent)
            try:
                vals = self.fwd(primals)
            finally:
                core.swap_trace(prev)
        n = self.n_out
        return vals[:n], vals[n:], self.out_mask

    def backward(self, res, cts):
        key = tuple([c.weak_type for c in cts])
        entry = self.bwds.get(key)
        if entry is None:
            prev = core.swap_trace(core.eval_trace)
            try:
                entry = self.bwds[key] = _build_bwd(self.lin, key, self.tag)
            finally:
                core.swap_trace(prev)
        prog, ct_mask = entry
        it = iter(prog([*res, *cts]))
        return [next(it) if m else None for m in ct_mask]


def _build(prim, params, avals: list[ShapedArray], diff: tuple, tag: str) -> _CachedVJP:
    fun = _fun_of(prim, params)
    prog = _CachedVJP()
    prog.bwds, prog.tag = {}, tag

    def fwd(*primals):
        outs, linear, _, out_mask = pe.linearize_flat(fun, primals, tag, diff)
        prog.lin, prog.out_mask = linear.jaxpr, out_mask
        return list(outs) + list(linear.consts)

    prog.fwd = _Program(staging.trace_to_jaxpr(fwd, avals, tag))
    prog.n_out = len(prog.out_mask)
    return prog


def _build_bwd(jaxpr, ct_weak: tuple, tag: str):
    """(program, ct_mask): the transpose of the linear `jaxpr` (constvars: the residuals) for
    cotangents of these weak types."""
    n_res = len(jaxpr.constvars)
    res_avals = [v.aval for v in jaxpr.constvars]
    ct_avals = [v.aval.update(weak_type=w) for v, w in zip(jaxpr.outvars, ct_weak)]
    ct_mask: list = []

    def bwd(*args):
        undefined = [tp.UndefinedPrimal(v.aval) for v in jaxpr.invars]
        cts_in = tp.backward_pass(jaxpr, args[:n_res], undefined, args[n_res:])
        ct_mask.extend(type(c) is not ad.Zero for c in cts_in)
        return [c for c in cts_in if type(c) is not ad.Zero]

    closed = staging.trace_to_jaxpr(bwd, res_avals + ct_avals, tag)
    return _Program(closed), ct_mask


class _AtPointVJP:
    """A primitive linearized at the point on each call, as `linearize` does (call primitives,
    custom derivatives: their rules may depend on the values)."""

    __slots__ = ("fun", "diff", "tag")

    def __init__(self, fun, diff, tag):
        self.fun, self.diff, self.tag = fun, diff, tag

    def forward(self, primals, parent: core.Trace):
        prev = core.swap_trace(parent)
        try:
            outs, linear, _, out_mask = pe.linearize_flat(self.fun, primals, self.tag, self.diff)
        finally:
            core.swap_trace(prev)
        return outs, linear, out_mask

    @staticmethod
    def backward(linear: ClosedJaxpr, cts):
        undefined = [tp.UndefinedPrimal(v.aval) for v in linear.jaxpr.invars]
        cts_in = tp.backward_pass(linear.jaxpr, linear.consts, undefined, cts)
        return [None if type(c) is ad.Zero else c for c in cts_in]


_cache: dict = {}
_CACHE_SIZE = 4096
dtypes.on_x64_change(_cache.clear)  # rules' dtypes follow the mode


def _aval_key(x) -> tuple:
    if type(x) is Array:
        v = x._value
        return v.shape, v.dtype, x.weak_type
    a = core.get_aval(x)
    return a.shape, a.dtype, a.weak_type


def _program(prim, params, primals, diff: tuple, tag: str):
    if prim in pe._CACHEABLE and not prim.effectful:
        try:
            key = (prim, diff, *map(_aval_key, primals), *params.items())
            prog = _cache.get(key)
        except TypeError:  # an unhashable param
            return _AtPointVJP(_fun_of(prim, params), list(diff), tag)
        if prog is None:
            avals = [core.get_aval(p) for p in primals]
            prev = core.swap_trace(core.eval_trace)  # NB: staged abstractly, from the bottom
            try:
                prog = _build(prim, params, avals, diff, tag)
            finally:
                core.swap_trace(prev)
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()
            _cache[key] = prog
        return prog
    return _AtPointVJP(_fun_of(prim, params), list(diff), tag)


# --- the API's entry point ------------------------------------------------------------------


def vjp_flat(fun: Callable, primals: Sequence[Any], tag: str) -> tuple[list, Callable]:
    """`(primals_out, pullback)` of `fun(*flat) -> flat list`, `pullback(cts) -> cts_in` (one
    per input: zeros where nothing flowed, `float0` zeros for integer and bool inputs), as
    `_autodiff_api._vjp_flat`; run on the eager trace."""
    trace = TapeTrace(core.current_trace(), tag)
    prev = core.swap_trace(trace)
    try:
        ins = [trace.new_arg(p) if dtypes.is_inexact(p.dtype) else p for p in primals]
        outs = list(fun(*ins))
    finally:
        core.swap_trace(prev)
        trace.finish()
    out_slots = []
    for i, o in enumerate(outs):
        if type(o) is TapeTracer and o._trace is trace:
            outs[i], slot = o.primal, o.slot
        else:
            if isinstance(o, Tracer):
                core.check_not_escaped(o)
            slot = None
        out_slots.append(slot)

    def pullback(cts: list) -> list:
        ct: list = [None] * trace.n_slots
        for slot, c in zip(out_slots, cts):
            if slot is not None and type(c) is not ad.Zero:
                ct[slot] = c
        for node in reversed(trace.nodes):
            outs_ct = [ct[t.slot] for t in node.outs]
            if len(outs_ct) == 1:
                if outs_ct[0] is None:
                    continue
            elif all(c is None for c in outs_ct):
                continue
            else:
                outs_ct = [
                    ad.zeros_like_aval(t.aval) if c is None else c
                    for c, t in zip(outs_ct, node.outs)
                ]
            cts_in = node.program.backward(node.res, outs_ct)
            node.res = None  # NB: the residuals are not needed any more
            slots = node.in_slots
            for k in range(len(slots) - 1, -1, -1):  # NB: last input first, as backward_pass
                c = cts_in[k]
                if c is not None:
                    s = slots[k]
                    prev_ct = ct[s]
                    ct[s] = c if prev_ct is None else ad.add_tangents(prev_ct, c)
        return [
            _input_ct(x, ct[x.slot] if type(x) is TapeTracer else None, p)
            for x, p in zip(ins, primals)
        ]

    return outs, pullback


def _input_ct(x, ct, primal):
    if type(x) is not TapeTracer:  # an integer or bool input
        return np.zeros(np.shape(primal), dtypes.float0)
    return ad.zeros_like_aval(x.aval) if ct is None else ct
