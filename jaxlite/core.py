"""The core: primitives, abstract values, the jaxpr IR, traces and the eager evaluation trace.

Trace context: one *current trace* per thread (as modern JAX and autodidax2 do). Every trace knows
its parent; a transformation installs a new trace whose parent is the current one, runs the user
function, and restores the parent. `Primitive.bind` hands its arguments to the current trace; a
trace that meets a value that is not one of its own tracers treats it as a constant. When a rule
needs to compute on the level below, it runs under `set_current_trace(self.parent)`.

This module imports no interpreter and no backend (tests/test_layering.py checks it).
"""

from __future__ import annotations

import itertools
import os
import threading
import traceback
from contextlib import contextmanager
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import _pretty as pp
from jaxlite._config import config
from jaxlite import dtypes
from jaxlite.api_names import api_entry, name_api  # noqa: F401  (core.name_api for the faces)
from jaxlite.array import Array, _wrap
from jaxlite.errors import (
    ConcretizationTypeError,
    TracerArrayConversionError,
    TracerBoolConversionError,
    TracerIntegerConversionError,
    UnexpectedTracerError,
)

_NARROW = dtypes.NARROW  # NB: the same dict, updated in place when the mode changes
_NARROW_VALUE = dtypes.narrow_value

# ------------------------------------------------------------------------------------------
# Abstract values
# ------------------------------------------------------------------------------------------


class ShapedArray:
    """The abstract value of an array: its shape, dtype and whether its type is weak."""

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, weak_type: bool = False):
        self.shape = tuple(shape)
        # NB: while x64 is off no 64-bit value exists: a rule asking for one gets its stand-in.
        self.dtype = _NARROW.get(dtype, dtype)
        self.weak_type = weak_type

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def update(self, shape=None, dtype=None, weak_type=None) -> ShapedArray:
        return ShapedArray(
            self.shape if shape is None else shape,
            self.dtype if dtype is None else dtype,
            self.weak_type if weak_type is None else weak_type,
        )

    def strip_weak_type(self) -> ShapedArray:
        return ShapedArray(self.shape, self.dtype, False) if self.weak_type else self

    def str_short(self) -> str:
        return f"{dtypes.short_name(self.dtype)}[{','.join(map(str, self.shape))}]"

    def __eq__(self, other) -> bool:
        return (
            type(other) is ShapedArray
            and self.shape == other.shape
            and self.dtype == other.dtype
            and self.weak_type == other.weak_type
        )

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.weak_type))

    def __repr__(self) -> str:
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.dtype.name}{list(self.shape)}{weak})"

    def __str__(self) -> str:
        return self.str_short()


def get_aval(x) -> ShapedArray:
    """The abstract value of a tracer, Array, NumPy array or Python scalar."""
    t = type(x)
    if t is Array:
        return ShapedArray(x._value.shape, x._value.dtype, x.weak_type)
    if isinstance(x, Tracer):
        return x.aval
    if t is np.ndarray:
        if x.dtype not in dtypes._SUPPORTED:
            dtypes.canonicalize(x.dtype, api_entry())  # a TypeError naming the function called
        return ShapedArray(x.shape, x.dtype, False)  # NB: ShapedArray narrows 64-bit dtypes
    if t in dtypes.PYTHON_SCALAR_DTYPES:
        return ShapedArray((), dtypes.PYTHON_SCALAR_DTYPES[t], True)
    if isinstance(x, np.generic):
        return ShapedArray((), dtypes.canonicalize(x.dtype, api_entry()), False)
    if isinstance(x, Array):
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    raise TypeError(
        f"{api_entry()}: value {_short_repr(x)} of type {type(x).__name__} is not a valid jaxlite "
        "type: expected a jaxlite.Array, a NumPy array, or a Python bool, int, float or complex"
    )


def _short_repr(x) -> str:
    r = repr(x)
    return r if len(r) < 60 else r[:57] + "..."


def to_numpy(x) -> np.ndarray:
    """The concrete NumPy value of an Array, NumPy array or Python scalar (not of a tracer)."""
    t = type(x)
    if t is Array:
        return x._value
    if t is np.ndarray:
        return dtypes.narrow_value(x)
    if isinstance(x, Tracer):
        raise TracerArrayConversionError(concretization_message(x, "np.asarray()"))
    if t in dtypes.PYTHON_SCALAR_DTYPES:
        return python_scalar_value(x)
    get_aval(x)  # a clear TypeError for strings, None, lists, complex numbers, unsupported dtypes
    return dtypes.narrow_value(np.asarray(x))


def python_scalar_value(x) -> np.ndarray:
    """A Python bool, int or float as a 0-d array of its weak dtype; an int out of that dtype's
    range raises OverflowError as JAX does (NumPy would wrap it or raise its own message)."""
    dt = dtypes.PYTHON_SCALAR_DTYPES[type(x)]
    if dt.kind == "i":
        info = np.iinfo(dt)
        if not info.min <= x <= info.max:
            raise OverflowError(f"Python int {x} too large to convert to {dt.name}")
    return np.asarray(x, dt)


# ------------------------------------------------------------------------------------------
# The IR
# ------------------------------------------------------------------------------------------


class Var:
    """A variable of a jaxpr; printed with a name given by the printer (a, b, ..., ba, ...)."""

    __slots__ = ("aval", "count")
    _counter = itertools.count()

    def __init__(self, aval: ShapedArray):
        self.aval = aval
        self.count = next(Var._counter)

    def __repr__(self) -> str:
        return f"Var({self.count}:{self.aval.str_short()})"


class DropVar(Var):
    """An output that nothing reads; printed as `_`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"_:{self.aval.str_short()}"


class Literal:
    """A scalar constant inlined into an equation, printed as `2.0:f32[]`."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval: ShapedArray):
        self.val = val
        self.aval = aval

    def __repr__(self) -> str:
        return f"{_literal_str(self.val)}:{self.aval.str_short()}"


Atom = Var | Literal


class JaxprEqn:
    __slots__ = ("primitive", "invars", "outvars", "params")

    def __init__(self, primitive: Primitive, invars: list, outvars: list, params: dict):
        self.primitive = primitive
        self.invars = invars
        self.outvars = outvars
        self.params = params

    def replace(self, **kw) -> JaxprEqn:
        d = dict(primitive=self.primitive, invars=self.invars, outvars=self.outvars)
        d["params"] = self.params
        d.update(kw)
        return JaxprEqn(d["primitive"], d["invars"], d["outvars"], d["params"])

    def __repr__(self) -> str:
        return PPContext().eqn(self, "")


class Jaxpr:
    """A typed, first-order program: `{ lambda constvars ; invars. let eqns in outvars }`."""

    __slots__ = ("constvars", "invars", "outvars", "eqns")

    def __init__(self, constvars, invars, outvars, eqns):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.eqns = list(eqns)

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.invars]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.outvars]

    def __str__(self) -> str:
        return pp_jaxpr(self)

    __repr__ = __str__


class ClosedJaxpr:
    """A jaxpr together with the values of its constvars."""

    __slots__ = ("jaxpr", "consts")

    def __init__(self, jaxpr: Jaxpr, consts: Sequence[Any]):
        self.jaxpr = jaxpr
        self.consts = list(consts)

    @property
    def in_avals(self) -> list[ShapedArray]:
        return self.jaxpr.in_avals

    @property
    def out_avals(self) -> list[ShapedArray]:
        return self.jaxpr.out_avals

    @property
    def eqns(self) -> list[JaxprEqn]:
        return self.jaxpr.eqns

    def __str__(self) -> str:
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__

    def pretty_print(self, width: int = 80) -> str:
        return pp_jaxpr(self.jaxpr, width)


# ------------------------------------------------------------------------------------------
# Primitives
# ------------------------------------------------------------------------------------------

# Rule signatures (fixed before the second primitive; see STYLE.md habit 6):
#   impl:           (*np.ndarray, **params) -> np.ndarray | list[np.ndarray]
#   abstract_eval:  (*ShapedArray, **params) -> ShapedArray | list[ShapedArray]
ImplRule = Callable[..., Any]
AbstractEvalRule = Callable[..., Any]


class Primitive:
    """A named operation. Its wrapper is one line: `def sin(x): return sin_p.bind(x)`."""

    __slots__ = (
        "name", "multiple_results", "impl", "abstract_eval", "weak_from", "effectful",
        "__weakref__",
    )  # fmt: skip

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl: ImplRule | None = None
        self.abstract_eval: AbstractEvalRule | None = None
        # The operands whose weak types decide the result's (select_n: the cases, not `which`);
        # the eager path asks the abstract rule when only operands before this one are strong.
        self.weak_from = 0
        # Whether its equations have effects beyond their outputs (callbacks): never removed as
        # dead code nor shared as common subexpressions (jaxpr_util.has_effects).
        self.effectful = False

    def bind(self, *args, **params):
        try:
            return _ctx.trace.process_primitive(self, args, params)
        except (TypeError, AttributeError):
            _check_bind_args(self, args)  # NB: only on failure (free otherwise): name the culprit
            raise

    def bind_with_trace(self, trace: Trace, args, params):
        return trace.process_primitive(self, args, params)

    def def_impl(self, fn: ImplRule) -> ImplRule:
        """Registers a NumPy implementation; the eager trace wraps its results as Arrays."""
        self.impl = _make_eager_impl(self, fn)
        self.impl.numpy_impl = fn
        return fn

    def def_custom_impl(self, fn: Callable) -> Callable:
        """Registers an eager implementation that takes and returns jaxlite values as they are."""
        self.impl = fn
        return fn

    def def_abstract_eval(self, fn: AbstractEvalRule) -> AbstractEvalRule:
        self.abstract_eval = fn
        return fn

    def __repr__(self) -> str:
        return self.name


def _check_bind_args(prim: Primitive, args) -> None:
    """A TypeError naming `prim` and the argument that is not an array of a supported dtype."""
    for i, a in enumerate(args):
        t = type(a)
        if t is Array or t in dtypes.PYTHON_SCALAR_DTYPES or isinstance(a, Tracer):
            continue
        if isinstance(a, (np.ndarray, np.generic)):
            if a.dtype in dtypes._SUPPORTED:
                continue
            raise TypeError(
                f"{prim.name}: argument {i} has dtype {a.dtype}, which jaxlite does not support "
                f"(supported: {', '.join(d.name for d in dtypes.SUPPORTED_DTYPES)})"
            ) from None
        raise TypeError(
            f"{prim.name}: argument {i} is {_short_repr(a)} of type {t.__name__}, not an array: "
            "expected a jaxlite.Array, a NumPy array, or a Python bool, int, float or complex"
        ) from None


def _make_eager_impl(prim: Primitive, fn: ImplRule) -> ImplRule:
    multiple = prim.multiple_results

    def impl(*args, **params):
        vals = []
        weak = True  # the result may be weak only if every input is
        for a in args:
            t = type(a)
            if t is Array:
                vals.append(a._value)
                weak = weak and a.weak_type
            elif t is np.ndarray:
                if a.dtype not in dtypes._SUPPORTED:
                    dtypes.canonicalize(a.dtype, prim.name)  # raises a TypeError naming prim
                vals.append(_NARROW_VALUE(a))
                weak = False
            elif isinstance(a, Tracer):
                raise escaped_tracer_error(a, prim)
            else:
                vals.append(to_numpy(a))
                weak = weak and t in dtypes.PYTHON_SCALAR_DTYPES
        try:
            out = fn(*vals, **params)
        except Exception:
            # NB: the eager path skips the shape/dtype rule; when NumPy fails, that rule gives
            # the message naming the primitive, shapes and dtypes (free when nothing fails).
            _raise_rule_error(prim, args, params)
            raise
        if not weak and prim.weak_from:
            weak = all(get_aval(a).weak_type for a in args[prim.weak_from :])
        if (weak and args) or "weak_type" in params:
            avals = prim.abstract_eval(*map(get_aval, args), **params)
            if multiple:
                return [_wrap_new(o, vals, av.weak_type) for o, av in zip(out, avals)]
            return _wrap_new(out, vals, avals.weak_type)
        if multiple:
            return [_wrap_new(o, vals, False) for o in out]
        return _wrap_new(out, vals, False)

    return impl


def _raise_rule_error(prim: Primitive, args, params) -> None:
    try:
        prim.abstract_eval(*map(get_aval, args), **params)
    except Exception as e:
        raise e from None


def _wrap_new(out, inputs, weak: bool) -> Array:
    # NB: never mark a caller's buffer read-only: an impl that returns an input returns a view.
    for v in inputs:
        if out is v:
            out = out.view()
            break
    return _wrap(out, weak)


# ------------------------------------------------------------------------------------------
# Traces and tracers
# ------------------------------------------------------------------------------------------


class Trace:
    """An interpreter of primitives. Subclasses implement `process_primitive`."""

    parent: Trace | None = None
    # What the user sees in messages: "jit of `f`", "vmap of `loss`".
    description: str = "a transformation"
    _finished: bool = False
    # id(NumPy array) -> (array, its captured copy), on staging traces (`captured_copy`)
    const_copies: dict | None = None

    def process_primitive(self, prim: Primitive, args: Sequence[Any], params: dict):
        raise NotImplementedError

    def finish(self) -> None:
        """Marks the trace as over: its tracers may not be used any more."""
        self._finished = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description})"


class EvalTrace(Trace):
    """The bottom trace: runs each primitive's NumPy implementation."""

    description = "eager evaluation"

    def process_primitive(self, prim, args, params):
        impl = prim.impl
        if impl is None:
            raise NotImplementedError(f"primitive '{prim.name}' has no eager implementation")
        return impl(*args, **params)


eval_trace = EvalTrace()


# --- jax_debug_nans / jax_debug_infs ----------------------------------------------------------
# NB: when either is on, EvalTrace.process_primitive is swapped for a checking one, so the eager
# hot path pays nothing while they are off.
_process_unchecked = EvalTrace.process_primitive


def _process_checked(self, prim, args, params):
    out = _process_unchecked(self, prim, args, params)
    bad = _float_trouble(out if prim.multiple_results else [out])
    if bad:
        # A call (jit, custom_jvp, checkpoint): re-run its body op by op to name the culprit.
        for p in params.values():
            if isinstance(p, ClosedJaxpr):
                eval_jaxpr(p.jaxpr, p.consts, *args)  # raises at the first bad primitive
        raise FloatingPointError(f"invalid value ({bad}) encountered in {prim.name}")
    return out


def _float_trouble(outs) -> str:
    """'nan' or 'inf' if some floating output has one that the debug options look for."""
    for o in outs:
        v = o._value if type(o) is Array else np.asarray(o)
        if not dtypes.is_inexact(v.dtype):
            continue
        if config.jax_debug_nans and np.isnan(v).any():
            return "nan"
        if config.jax_debug_infs and np.isinf(v).any():
            return "inf"
    return ""


# [eval_trace] while primitives bound eagerly run unchecked, [None] while the debug options are
# on: jnp's eager fast paths test `_ctx.trace is PLAIN_TRACE[0]` (one comparison; numpy/
# _eager_fast.py), which is `plain_eager()`.
PLAIN_TRACE: list = [eval_trace]


def _set_float_checks(_value=None) -> None:
    on = config.jax_debug_nans or config.jax_debug_infs
    EvalTrace.process_primitive = _process_checked if on else _process_unchecked
    PLAIN_TRACE[0] = None if on else eval_trace


config.on_change("jax_debug_nans", _set_float_checks)
config.on_change("jax_debug_infs", _set_float_checks)
_set_float_checks()  # JAX_DEBUG_NANS / JAX_DEBUG_INFS in the environment


class _Context(threading.local):
    trace: Trace = eval_trace


_ctx = _Context()
# For hot paths that only READ the current trace (`TRACE_STATE.trace is PLAIN_TRACE[0]`: a call
# of `current_trace()` costs twice that); switching stays with swap_trace / set_current_trace.
TRACE_STATE = _ctx


def current_trace() -> Trace:
    return _ctx.trace


def plain_eager() -> bool:
    """Whether primitives bound now run their NumPy implementations unchecked: the current trace
    is the eager one and jax_debug_nans / jax_debug_infs are off (jnp's eager fast paths may then
    call those implementations directly: numpy/_ufuncs.py)."""
    return _ctx.trace is eval_trace and EvalTrace.process_primitive is _process_unchecked


def swap_trace(trace: Trace) -> Trace:
    """Makes `trace` current and returns the trace that was: the hot-path form of
    `set_current_trace` (a context manager costs ~1-3 us), always used as
    `prev = swap_trace(t)` / `try: ... finally: swap_trace(prev)`."""
    ctx = _ctx
    prev = ctx.trace
    ctx.trace = trace
    return prev


def captured_copy(x: np.ndarray, copy: Callable[[np.ndarray], Any]):
    """`copy(x)`, the value a function captures when it uses the NumPy array `x` as a constant.

    Under a staging trace (make_jaxpr, jit, grad's linearization, control-flow bodies) the copy
    is made once per object, as JAX captures a constant once per object: the outermost staging
    trace remembers it by the identity of `x` (and keeps `x` alive, so that identity is not
    reused), so that every use of `x` inside the traced function (the weights of a loop over
    layers) reads one constant, not one per use. Eagerly, every use copies (arrays are
    immutable; the user's NumPy array is not)."""
    memo = None
    t = _ctx.trace
    while t is not None:  # NB: the outermost memo: inner and outer traces share one copy
        m = t.const_copies
        if m is not None:
            memo = m
        t = t.parent
    if memo is None:
        return copy(x)
    hit = memo.get(id(x))
    if hit is not None and hit[0] is x:
        return hit[1]
    c = copy(x)
    memo[id(x)] = (x, c)
    return c


@contextmanager
def set_current_trace(trace: Trace):
    prev = _ctx.trace
    _ctx.trace = trace
    try:
        yield trace
    finally:
        _ctx.trace = prev


@contextmanager
def new_trace(trace: Trace):
    """Installs `trace` (whose parent must be the current trace) and finishes it on exit."""
    prev = _ctx.trace
    _ctx.trace = trace
    try:
        yield trace
    finally:
        _ctx.trace = prev
        trace.finish()


class Tracer:
    """A value being traced by some `Trace`. Subclasses define `aval` and keep `_trace`."""

    __slots__ = ("_trace", "__weakref__")  # weak references: as JAX's (tests check none leak)
    __array_priority__ = 1000

    aval: ShapedArray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return len(self.aval.shape)

    @property
    def size(self) -> int:
        return self.aval.size

    @property
    def weak_type(self) -> bool:
        return self.aval.weak_type

    def to_concrete_value(self):
        """The concrete value behind this tracer, or None (JVP tracers know their primal)."""
        return None

    def __len__(self) -> int:
        if not self.aval.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d traced array is not possible")
        return (self[i] for i in range(self.aval.shape[0]))

    def __bool__(self) -> bool:
        return bool(self._concrete("bool()", TracerBoolConversionError))

    def __int__(self) -> int:
        return int(self._concrete("int()", TracerIntegerConversionError))

    # As JAX: `bool()`, `int()`, `operator.index()` and `.item()` read a concrete tracer (a JVP
    # tracer under eager `grad` knows its primal, so `if x > 0:` works), but `float()`,
    # `complex()` and `.tolist()` raise for every tracer: `x * float(x)` under `grad` would
    # otherwise drop a gradient path without a word.
    def __float__(self) -> float:
        raise ConcretizationTypeError(concretization_message(self, "float()", "float"))

    def __complex__(self) -> complex:
        raise ConcretizationTypeError(concretization_message(self, "complex()", "complex"))

    def __index__(self) -> int:
        return self._concrete("operator.index()", TracerIntegerConversionError).__index__()

    def item(self):
        return self._concrete(".item()", ConcretizationTypeError).item()

    def tolist(self):
        raise ConcretizationTypeError(concretization_message(self, ".tolist()"))

    def __array__(self, dtype=None, copy=None):
        raise TracerArrayConversionError(concretization_message(self, "np.asarray()"))

    def _concrete(self, what: str, err: type) -> np.ndarray:
        v = self.to_concrete_value()
        if v is None:
            raise err(concretization_message(self, what))
        return to_numpy(v)

    def __hash__(self):
        raise TypeError(f"unhashable type: traced array {self.aval.str_short()}")

    def __setitem__(self, idx, value):
        raise TypeError(
            "jaxlite arrays are immutable: item assignment is not supported. "
            "Use the functional form instead: x = x.at[idx].set(y)."
        )

    def block_until_ready(self):
        return self

    def __repr__(self) -> str:
        return f"Traced<{self.aval!r}>with<{type(self._trace).__name__}>"


# ------------------------------------------------------------------------------------------
# Error messages (built only when raised: tracing never pays for them)
# ------------------------------------------------------------------------------------------

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def user_frame() -> str:
    """`file:line (function)` of the innermost stack frame outside the jaxlite package."""
    for fs in reversed(traceback.extract_stack()):
        if not os.path.abspath(fs.filename).startswith(_PKG_DIR):
            return f"{fs.filename}:{fs.lineno} (in {fs.name})"
    return "<unknown>"


def concretization_message(tracer: Tracer, what: str, astype: str | None = None) -> str:
    trace = tracer._trace
    convert = (
        f"To convert the dtype of a traced array, use `x.astype({astype})` or "
        f"`jnp.asarray(x, {astype})` instead.\n"
        if astype
        else ""
    )
    return (
        f"Abstract tracer value encountered where a concrete value is expected: {what} was "
        f"applied to a traced array with shape {tracer.aval.str_short()} while tracing "
        f"{trace.description}, at {user_frame()}.\n"
        "Under this transformation the value is only known by its shape and dtype, so Python "
        "control flow on it (`if`, `while`, `and`/`or`, int(), float(), np.asarray()) cannot run.\n"
        + convert
        + "Fix: use jnp.where, lax.cond, lax.switch, lax.while_loop or lax.fori_loop for "
        "value-dependent control flow, or mark the argument static with "
        "jit(f, static_argnums=...) if its value should be known at trace time."
    )


def escaped_tracer_error(tracer: Tracer, prim: Primitive | None = None) -> UnexpectedTracerError:
    where = f" by primitive '{prim.name}'" if prim is not None else ""
    return UnexpectedTracerError(
        f"Encountered an unexpected tracer{where}: a value traced by "
        f"{tracer._trace.description} (shape {tracer.aval.str_short()}) was used after that "
        f"transformation finished, at {user_frame()}.\n"
        "This happens when a traced value escapes the transformed function through a global, a "
        "list or an attribute. Return it from the function instead."
    )


def check_not_escaped(x) -> None:
    """Raises `UnexpectedTracerError` if `x` is a tracer whose trace has finished."""
    if isinstance(x, Tracer) and x._trace._finished:
        raise escaped_tracer_error(x)


# ------------------------------------------------------------------------------------------
# Interpreting jaxprs
# ------------------------------------------------------------------------------------------


def eval_jaxpr(jaxpr: Jaxpr, consts: Sequence[Any], *args) -> list[Any]:
    """Evaluates `jaxpr` by binding each equation's primitive on the current trace."""
    env: dict[Var, Any] = {}

    def read(v):
        if type(v) is Literal:  # NB: a weakly typed literal stays weak (as 2.0 in `x * 2.0`)
            return _wrap(v.val, True) if v.aval.weak_type else v.val
        return env[v]

    if len(args) != len(jaxpr.invars):
        raise TypeError(f"eval_jaxpr: expected {len(jaxpr.invars)} arguments, got {len(args)}")
    for v, x in zip(jaxpr.constvars, consts):
        env[v] = x
    for v, x in zip(jaxpr.invars, args):
        env[v] = x
    for eqn in jaxpr.eqns:
        outs = eqn.primitive.bind(*map(read, eqn.invars), **eqn.params)
        if not eqn.primitive.multiple_results:
            outs = (outs,)
        for v, x in zip(eqn.outvars, outs):
            env[v] = x
    return [read(v) for v in jaxpr.outvars]


def jaxpr_as_fun(closed: ClosedJaxpr) -> Callable:
    return lambda *args: eval_jaxpr(closed.jaxpr, closed.consts, *args)


class JaxprTypeError(TypeError):
    pass


def typecheck_jaxpr(jaxpr: Jaxpr) -> None:
    """Re-derives every equation's output types; raises `JaxprTypeError` naming the equation.

    Variables in messages carry the names `print(jaxpr)` gives them; messages are built only
    when a check fails.
    """
    defined: set[Var] = set(jaxpr.constvars) | set(jaxpr.invars)

    def where(i: int) -> tuple[PPContext, str]:
        ctx = PPContext(_unused_outvars(jaxpr))
        ctx.jaxpr_doc(jaxpr)  # names every variable as the printer does
        if i < 0:
            return ctx, "the jaxpr's outputs"
        return ctx, f"equation {i} `{pp.Nest(0, ctx.eqn_doc(jaxpr.eqns[i])).format(10_000)}`"

    def check_atom(a, i: int):
        if type(a) is not Literal and a not in defined:
            ctx, place = where(i)
            raise JaxprTypeError(f"variable {ctx.var(a)} is used before it is defined in {place}")

    for i, eqn in enumerate(jaxpr.eqns):
        for a in eqn.invars:
            check_atom(a, i)
        try:
            out = eqn.primitive.abstract_eval(*[a.aval for a in eqn.invars], **eqn.params)
        except Exception as e:
            raise JaxprTypeError(f"{where(i)[1]}: {e}") from e
        out = list(out) if eqn.primitive.multiple_results else [out]
        if len(out) != len(eqn.outvars):
            raise JaxprTypeError(f"{where(i)[1]}: expected {len(out)} outputs")
        for v, aval in zip(eqn.outvars, out):
            if (v.aval.shape, v.aval.dtype) != (aval.shape, aval.dtype):
                ctx, place = where(i)
                raise JaxprTypeError(
                    f"{place}: output {ctx.var(v)} has type {v.aval.str_short()} but the rule "
                    f"gives {aval.str_short()}"
                )
            if type(v) is not DropVar:
                defined.add(v)
    for a in jaxpr.outvars:
        check_atom(a, -1)


# ------------------------------------------------------------------------------------------
# Printing in JAX's text format
# ------------------------------------------------------------------------------------------


def _literal_str(val) -> str:
    # As JAX: the Python scalar's str (a float32 0.1 prints as 0.10000000149011612).
    v = np.asarray(val)
    return str(v.item()) if v.ndim == 0 else "[...]"


def _var_name(n: int) -> str:
    s = ""
    while True:
        s = chr(ord("a") + n % 26) + s
        n //= 26
        if n == 0:
            return s


def _unused_outvars(jaxpr: Jaxpr) -> dict:
    """The equation outputs nothing reads, printed `_` (JAX does this for the top level only)."""
    used = {v for v in jaxpr.outvars if type(v) is not Literal}
    names = {}
    for eqn in reversed(jaxpr.eqns):
        for v in eqn.outvars:
            if v not in used:
                names[v] = "_"
        used.update(v for v in eqn.invars if type(v) is not Literal)
    return names


# Params printed before the sorted others, per primitive (JAX prints `pjit[name=f jaxpr=...]`).
pp_params_first: dict[Primitive, tuple[str, ...]] = {}


class PPContext:
    """Prints jaxprs in JAX's text format, with JAX's layout algorithm (see jaxlite/_pretty.py).

    Variables are named in order of appearance (a, b, ..., z, ba, ...), shared across nested
    jaxprs. NB: one deliberate difference from JAX: an equation without inputs has no trailing
    space after its name.
    """

    def __init__(self, names: dict | None = None):
        self.names: dict[Var, str] = dict(names or {})
        self._fresh = 0

    # --- atoms ------------------------------------------------------------------------------
    def var(self, v) -> str:
        if type(v) is Literal:
            return repr(v)
        if type(v) is DropVar:
            return "_"
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = _var_name(self._fresh)
            self._fresh += 1
        return name

    def binder(self, v) -> str:
        return f"{self.var(v)}:{v.aval.str_short()}"

    def _vars(self, vs, binders: bool, sep: str = "") -> pp.Doc:
        texts = [pp.Text(self.binder(v) if binders else self.var(v)) for v in vs]
        return pp.Nest(2, pp.Group(pp.join(pp.Text(sep) + pp.Group(pp.Break()), texts)))

    # --- params -----------------------------------------------------------------------------
    def _param(self, v) -> pp.Doc:
        if isinstance(v, ClosedJaxpr):
            v = v.jaxpr
        if isinstance(v, Jaxpr):
            return self.jaxpr_doc(v)
        if isinstance(v, tuple) and v and all(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v):
            docs = [self._param(x) for x in v]
            inner = pp.Nest(2, pp.Text("(") + pp.Break("") + pp.join(pp.Break(), docs))
            return pp.Group(inner + pp.Break("") + pp.Text(")"))
        if isinstance(v, type) and issubclass(v, np.generic):
            return pp.Text(np.dtype(v).name)
        if callable(v) and hasattr(v, "__name__") and not isinstance(v, np.dtype):
            return pp.Text(v.__name__)
        return pp.Text(str(v))

    def _params(self, params: dict, first: tuple = ()) -> pp.Doc:
        if not params:
            return pp.NIL
        order = [k for k in first if k in params] + sorted(k for k in params if k not in first)
        kvs = [pp.Text(f"{k}=") + self._param(params[k]) for k in order]
        inner = pp.Nest(2, pp.Text("[") + pp.Break("") + pp.join(pp.Break(), kvs))
        return pp.Group(inner + pp.Break("") + pp.Text("]"))

    # --- equations and jaxprs -----------------------------------------------------------------
    def eqn_doc(self, eqn: JaxprEqn) -> pp.Doc:
        # Same naming order as JAX: outputs, then nested jaxprs, then inputs.
        lhs = self._vars(eqn.outvars, binders=True)
        first = pp_params_first.get(eqn.primitive, ())
        rhs = [pp.Text(eqn.primitive.name), self._params(eqn.params, first)]
        if eqn.invars:
            rhs.append(pp.Text(" ") + self._vars(eqn.invars, binders=False))
        if not eqn.outvars:
            return pp.Concat(rhs)
        return pp.Concat([lhs, pp.Text(" = "), *rhs])

    def jaxpr_doc(self, jaxpr: Jaxpr) -> pp.Doc:
        constvars = self._vars(jaxpr.constvars, binders=True)
        invars = self._vars(jaxpr.invars, binders=True)
        eqns = pp.join(pp.Break("; "), [self.eqn_doc(e) for e in jaxpr.eqns])
        close = ")" if len(jaxpr.outvars) != 1 else ",)"
        outvars = pp.Text("(") + self._vars(jaxpr.outvars, binders=False, sep=",") + pp.Text(close)
        body = pp.Concat([
            pp.Text("{ lambda "), constvars, pp.Text("; "), invars, pp.Text(". let"),
            pp.Nest(2, pp.Break() + eqns), pp.Break(), pp.Text("in "), outvars,
        ])  # fmt: skip
        return pp.Group(pp.Nest(2, body)) + pp.Text(" }")

    def eqn(self, eqn: JaxprEqn, indent: str = "") -> str:
        return pp.Nest(len(indent), self.eqn_doc(eqn)).format(80 - len(indent))

    def jaxpr(self, jaxpr: Jaxpr, indent: str = "") -> str:
        return pp.Nest(len(indent), self.jaxpr_doc(jaxpr)).format(80 - len(indent))


def pp_jaxpr(jaxpr: Jaxpr | ClosedJaxpr, width: int = 80) -> str:
    """JAX's text format: one line if it fits in `width` columns, else one equation per line."""
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    return PPContext(_unused_outvars(jaxpr)).jaxpr_doc(jaxpr).format(width)
