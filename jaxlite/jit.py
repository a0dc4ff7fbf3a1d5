"""`jit`: trace a function once per signature, lower its jaxpr to C, compile, load, call.

`jit` is a call primitive, `pjit`, holding a closed jaxpr, so every transformation passes through
it (`grad(jit(f))`, `vmap(jit(f))`, `jit(grad(f))`, ...). This module registers ALL of pjit's
rules: impl (compile and run), abstract eval, jvp, partial eval, transpose and vmap.
"""

from __future__ import annotations

import functools
import gc
import inspect
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from jaxlite import api_util, core, dtypes, jaxpr_util, tree_util
from jaxlite._config import config
from jaxlite._tracing_api import ShapeDtypeStruct
from jaxlite._version import __version__
from jaxlite.array import Array, _wrap
from jaxlite.backend import compile as _compile_mod
from jaxlite.backend import half, lower, passes, runtime
from jaxlite.core import ClosedJaxpr, Jaxpr, ShapedArray, Tracer
from jaxlite.errors import CompilerNotFoundError
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import partial_eval as pe
from jaxlite.interpreters import staging
from jaxlite.interpreters import transpose as tp
from jaxlite.interpreters import vmap as batching
from jaxlite.primitives import _collective

__all__ = ["disable_jit", "jit", "pjit_p"]

_log = logging.getLogger("jaxlite.jit")
_NARROW_VALUE = dtypes.narrow_value
_VERSION = __version__  # part of every compile-cache key

# ------------------------------------------------------------------------------------------
# disable_jit
# ------------------------------------------------------------------------------------------


class _State(threading.local):
    # NB: a thread's own value (set by `disable_jit()`) shadows the process-wide one, which
    # follows `config.jax_disable_jit` (JAX_DISABLE_JIT / JAXLITE_DISABLE_JIT at import).
    disabled: bool = config.jax_disable_jit


_state = _State()


def _set_disabled(value: bool) -> None:
    _State.disabled = value
    _state.disabled = value


config.on_change("jax_disable_jit", _set_disabled)


@contextmanager
def disable_jit(disable: bool = True):
    """Within this context (in this thread), jitted functions run as plain Python on jaxlite's
    eager NumPy evaluation, as JAX's `disable_jit` does: values can be printed and inspected.
    `JAXLITE_DISABLE_JIT=1` in the environment does the same for the whole process.

    Example:
      >>> with jaxlite.disable_jit():
      ...     f(x)  # f's body runs op by op
    """
    prev = _state.disabled
    _state.disabled = disable
    try:
        yield
    finally:
        _state.disabled = prev


# ------------------------------------------------------------------------------------------
# The call primitive
# ------------------------------------------------------------------------------------------

pjit_p = core.Primitive("pjit", multiple_results=True)
core.pp_params_first[pjit_p] = ("name",)  # as JAX prints it: pjit[name=f jaxpr={ ... }]


@pjit_p.def_abstract_eval
def _pjit_abstract_eval(*avals, jaxpr: ClosedJaxpr, name: str):
    for i, (a, b) in enumerate(zip(avals, jaxpr.in_avals)):
        if (a.shape, a.dtype) != (b.shape, b.dtype):
            raise TypeError(
                f"pjit[name={name}]: argument {i} has type {a.str_short()} but the jaxpr "
                f"expects {b.str_short()}"
            )
    return list(jaxpr.out_avals)


@pjit_p.def_custom_impl
def _pjit_impl(*args, jaxpr: ClosedJaxpr, name: str):
    if _state.disabled:
        return core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *args)
    exe = executable(jaxpr, name)
    arrays = [runtime.as_input(core.to_numpy(a), av.dtype) for a, av in zip(args, jaxpr.in_avals)]
    return [_wrap(o, av.weak_type) for o, av in zip(exe(*arrays), jaxpr.out_avals)]


# The executable of each closed jaxpr, by identity: id -> (jaxpr, executable, holder), an LRU.
_EXECUTABLES: OrderedDict[int, tuple[ClosedJaxpr, Any, Any]] = OrderedDict()
_MAX_EXECUTABLES = 4096
_lru_lock = threading.RLock()  # NB: reentrant: _forget may run from a GC inside


def max_executables() -> int:
    """How many executables (and traced signatures per function) stay in memory:
    JAXLITE_EXECUTABLE_CACHE_SIZE, default 4096. Least recently used ones are dropped first."""
    return config.jaxlite_executable_cache_size


def executable(closed: ClosedJaxpr, name: str, holder=None):
    """The compiled form of `closed` (consts hoisted into inputs), cached by jaxpr identity.
    `holder` (a jit signature) keeps it in `.exe` until the LRU drops it, so that it and its
    library can be freed."""
    hit = _EXECUTABLES.get(id(closed))
    if hit is not None and hit[0] is closed:
        with _lru_lock:
            if id(closed) in _EXECUTABLES:  # NB: another thread may have dropped it meanwhile
                _EXECUTABLES.move_to_end(id(closed))
        return hit[1]
    exe = _compile(closed, name)
    with _lru_lock:
        _EXECUTABLES[id(closed)] = (closed, exe, holder)
        limit = max_executables()
        while len(_EXECUTABLES) > limit:
            _, (_, _, old_holder) = _EXECUTABLES.popitem(last=False)
            if old_holder is not None:
                old_holder.exe = None
    return exe


def _forget(entries: dict) -> None:
    """A jitted function was garbage collected: its executables leave the LRU with it (as JAX's
    weakref-keyed caches do), and so do the arrays it closed over."""
    with _lru_lock:
        for e in list(entries.values()):
            hit = _EXECUTABLES.get(id(e.jaxpr))
            if hit is not None and hit[2] is e:
                del _EXECUTABLES[id(e.jaxpr)]


def clear_cache(disk: bool = True) -> None:
    """Forgets every traced signature and compiled executable in this process (and the staged
    bodies of eager control flow), and (`disk`)
    empties the on-disk compile cache. Functions keep working: they trace and compile again.

    Example:
      >>> jaxlite.clear_cache()
    """
    with _lru_lock:
        _EXECUTABLES.clear()
        _DERIVED.clear()
    for f in list(_JIT_FUNCTIONS):
        f.clear_cache()
    from jaxlite.control_flow import common as _cf  # NB: lazy: jaxlite/__init__ imports jit first

    _cf.clear_trace_cache()
    if disk:
        _compile_mod.clear_cache()


_warned_no_compiler: list[bool] = []


# A kernel whose C is larger than this is not compiled: the jaxpr is evaluated eagerly, with a
# warning. gcc -O3 takes ~25 s of CPU per MB of C on this 2-core EPYC (a 1,000-layer loop
# inlined: 1.2 MB); outlining (backend/outline.py) keeps a deep loop's kernel far smaller.
MAX_KERNEL_SOURCE = 4 << 20


@contextmanager
def _gc_paused():
    """Python's cyclic garbage collector off while a jaxpr is lowered: it allocates many objects
    and frees few, so every collection walks them all again (lowering a 10,000-layer jit(grad),
    80,000 equations: 3.2 s of CPU with collections, 1.8 s without)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _compile(closed: ClosedJaxpr, name: str):
    t0 = time.perf_counter()
    program = None
    try:
        with _gc_paused():
            program = kernel_program(closed)
            lowered = _lower_program(program, name)
    except RecursionError:
        lowered = None
    if lowered is None or len(lowered.source) > MAX_KERNEL_SOURCE:
        size = "too deep to lower" if lowered is None else f"{len(lowered.source) >> 10} KiB of C"
        _compile_mod.warn(
            f"jaxlite.jit: `{name}` ({len(closed.jaxpr.eqns)} equations, {size}) is too large to "
            f"compile in reasonable time (the limit, MAX_KERNEL_SOURCE in jaxlite/jit.py, is "
            f"{MAX_KERNEL_SOURCE >> 10} KiB of C); it is evaluated with NumPy instead (the same "
            "results, without the speed). Loops over layers compile fast when the layers have "
            "the same shapes; lax.scan or lax.fori_loop keep the program small."
        )
        return _Interpreted(closed, program)
    t1 = time.perf_counter()
    try:
        exe = runtime.load(lowered, salt=_VERSION)
    except CompilerNotFoundError as e:
        if not _warned_no_compiler:
            _warned_no_compiler.append(True)
            _compile_mod.warn(
                f"jaxlite.jit: {e} Jitted functions are evaluated with NumPy instead (the same "
                "results, without the speed)."
            )
        return _Interpreted(closed, program)
    if _log_compiles():
        how = "compiled" if exe.library.compiled else "loaded from the compile cache"
        _log.warning(
            "jaxlite: jit of `%s` (%d equations): lowered to C in %.1f ms, %s in %.1f ms",
            name, len(closed.jaxpr.eqns), (t1 - t0) * 1e3, how, exe.library.seconds * 1e3,
        )  # fmt: skip
    return exe


def for_lowering(jaxpr: Jaxpr) -> Jaxpr:
    """What `lower.lower_jaxpr` is given, by jit and by jaxlite.export alike: the passes, then
    16-bit floats computed in float32 (backend/half.py)."""
    return half.widen(passes.simplify(jaxpr))


def kernel_program(closed: ClosedJaxpr) -> tuple[Jaxpr, list]:
    """The program a kernel of `closed` runs: the simplified jaxpr (constants as its leading
    inputs) and those constants. The NumPy fallback (`_Interpreted`) evaluates this same jaxpr,
    so that its collectives are the kernel's, in the kernel's order (a rank that could not
    compile must issue the same MPI calls as the ranks that did)."""
    closed = passes.dedup_consts(closed)
    jaxpr = closed.jaxpr
    if closed.consts:  # NB: jit hoists consts into inputs; other closed jaxprs get them as C data
        jaxpr = jaxpr_util.convert_constvars_jaxpr(jaxpr)
    return passes.simplify(jaxpr), list(closed.consts)


def lower_closed(closed: ClosedJaxpr, name: str) -> lower.Lowered:
    return _lower_program(kernel_program(closed), name)


def _lower_program(program: tuple[Jaxpr, list], name: str) -> lower.Lowered:
    jaxpr, consts = program
    low = lower.lower_jaxpr(half.widen(jaxpr), name)  # (for_lowering, already simplified)
    if consts:
        return _with_consts(low, consts)
    return low


def _with_consts(low: lower.Lowered, consts) -> lower.Lowered:
    n = len(consts)
    arrays = [np.ascontiguousarray(core.to_numpy(c), a.dtype) for c, a in zip(consts, low.in_avals)]
    return lower.Lowered(low.source, low.in_avals[n:], low.out_avals, arrays + low.consts,
                         low.runtime, low.openmp, low.host_calls)  # fmt: skip


class _Interpreted:
    """Evaluates a kernel's program (`kernel_program`) with the eager NumPy interpreter, where it
    is not compiled (no C compiler on this machine, or too large a kernel). As in a kernel, its
    collectives run without per-collective shape checks (`_collective.in_kernel`)."""

    def __init__(self, closed: ClosedJaxpr, program: tuple[Jaxpr, list] | None = None):
        self.closed = closed
        if program is None:  # NB: too deep to simplify: every rank evaluates it as traced
            program = (jaxpr_util.convert_constvars_jaxpr(closed.jaxpr), list(closed.consts))
        self.program = program
        self.call = self.__call__

    def __call__(self, *arrays):
        jaxpr, consts = self.program
        with core.set_current_trace(core.eval_trace), _collective.in_kernel():
            outs = core.eval_jaxpr(jaxpr, [], *consts, *arrays)
        return [
            np.asarray(core.to_numpy(o), av.dtype) for o, av in zip(outs, self.closed.out_avals)
        ]


def _log_compiles() -> bool:
    return config.jax_log_compiles


# ------------------------------------------------------------------------------------------
# Transformation rules: each transforms the closed jaxpr and binds pjit again
# ------------------------------------------------------------------------------------------

# Derived jaxprs (jvp, partial eval, transpose, vmap of a jaxpr), by the source jaxpr's identity
# and the rule's arguments: calling grad(jit(f)) again reuses them, and so their executables.
# Bounded by _MAX_EXECUTABLES (oldest first); writes hold _lru_lock, as clear_cache does.
_DERIVED: OrderedDict[tuple, tuple[ClosedJaxpr, Any]] = OrderedDict()


def _derived(kind: str, closed: ClosedJaxpr, args: tuple, make: Callable):
    key = (kind, id(closed), args)
    hit = _DERIVED.get(key)  # NB: one dict read is atomic; only writes take the lock
    if hit is not None and hit[0] is closed:
        return hit[1]
    res = make()  # NB: outside the lock: it traces, and may derive and compile more
    with _lru_lock:
        _DERIVED[key] = (closed, res)
        while len(_DERIVED) > _MAX_EXECUTABLES:
            _DERIVED.popitem(last=False)
    return res


_hoist = jaxpr_util.hoist_consts  # `closed` with its consts turned into leading inputs, and them


def _pjit_jvp(primals, tangents, *, jaxpr, name):
    nonzeros = tuple(type(t) is not ad.Zero for t in tangents)

    def make():
        jvp_closed, out_nz = ad.jvp_jaxpr(jaxpr, nonzeros, False)
        return _hoist(jvp_closed), out_nz

    (closed, consts), out_nz = _derived("jvp", jaxpr, nonzeros, make)
    nz_tangents = [t for t in tangents if type(t) is not ad.Zero]
    outs = pjit_p.bind(*consts, *primals, *nz_tangents, jaxpr=closed, name=f"jvp({name})")
    n = len(jaxpr.out_avals)
    t_out = iter(outs[n:])
    return outs[:n], [
        next(t_out) if nz else ad.Zero.from_primal(p) for p, nz in zip(outs[:n], out_nz)
    ]


ad.jvp_rules[pjit_p] = _pjit_jvp


def _pjit_partial_eval(trace, args, params):
    # The known part runs now as one jit; the unknown part is staged as another pjit.
    jaxpr, name = params["jaxpr"], params["name"]
    unknowns = tuple(trace.is_unknown(x) for x in args)

    def make():
        known, unknown, out_uk, num_res = pe.partial_eval_jaxpr(jaxpr, unknowns, False)
        return _hoist(known), _hoist(unknown), out_uk, num_res

    (known, kconsts), (unknown, uconsts), out_uk, num_res = _derived("pe", jaxpr, unknowns, make)
    known_args = [x for x, uk in zip(args, unknowns) if not uk]
    outs = []
    if known.out_avals:
        outs = ad.bind_on(
            trace.parent, pjit_p, [*kconsts, *known_args], {"jaxpr": known, "name": name}
        )
    n_known = len(outs) - num_res
    known_outs, residuals = outs[:n_known], outs[n_known:]
    unknown_outs = []
    if unknown.out_avals:
        unknown_args = [x for x, uk in zip(args, unknowns) if uk]
        unknown_outs = trace.stage(
            pjit_p, [*uconsts, *residuals, *unknown_args], {"jaxpr": unknown, "name": name}
        )
    k, u = iter(known_outs), iter(unknown_outs)
    return [next(u) if is_uk else next(k) for is_uk in out_uk]


pe.partial_eval_rules[pjit_p] = _pjit_partial_eval


def _pjit_transpose(cts, *args, jaxpr, name):
    linear = tuple(tp.is_undefined_primal(x) for x in args)
    closed, consts = _derived("transpose", jaxpr, linear,
                              lambda: _hoist(tp.transpose_jaxpr(jaxpr, linear)))  # fmt: skip
    nonlinear = [x for x in args if not tp.is_undefined_primal(x)]
    float_cts = [
        tp.instantiate(ct) for ct, a in zip(cts, jaxpr.out_avals) if dtypes.is_inexact(a.dtype)
    ]
    outs = iter(
        pjit_p.bind(*consts, *nonlinear, *float_cts, jaxpr=closed, name=f"transpose({name})")
    )
    return [next(outs) if lin else None for lin in linear]


tp.transpose_rules[pjit_p] = _pjit_transpose


def _pjit_batch(axis_size, vals, dims, *, jaxpr, name):
    dims = tuple(dims)

    def make():
        batched, out_dims = batching.batch_jaxpr(jaxpr, axis_size, dims, False)
        return _hoist(batched), out_dims

    key = (axis_size, dims, batching.active_axis_name())  # NB: the name decides collectives
    (closed, consts), out_dims = _derived("vmap", jaxpr, key, make)
    return pjit_p.bind(*consts, *vals, jaxpr=closed, name=name), list(out_dims)


batching.batch_rules[pjit_p] = _pjit_batch
# The backend inlines a pjit equation into the kernel that calls it.
jaxpr_util.register_call_primitive(pjit_p, sub_jaxprs=("jaxpr",), inline_body="jaxpr")


# ------------------------------------------------------------------------------------------
# jit
# ------------------------------------------------------------------------------------------


def jit(
    fun: Callable | None = None,
    *,
    static_argnums: int | Sequence[int] = (),
    static_argnames: str | Sequence[str] = (),
    donate_argnums: int | Sequence[int] = (),
    donate_argnames: str | Sequence[str] = (),
):
    """Compiles `fun` to C: traced once per signature, lowered, compiled and cached.

    Args:
      fun: the function; its arguments and results are pytrees of arrays and scalars.
      static_argnums, static_argnames: arguments that are not traced: their values (which must
        be hashable) are part of the signature, and Python control flow may depend on them.
      donate_argnums, donate_argnames: accepted for JAX compatibility and ignored (the outputs
        are always fresh buffers).
    Returns:
      A function with `fun`'s signature that returns `jaxlite.Array`s; it also has `.lower(*args)`
      (the jaxpr and the C it runs) and `._cache_size()` (the number of signatures traced).

    Example:
      >>> @jaxlite.jit
      ... def f(x, y):
      ...     return jnp.sin(x) * y + 1.0
      >>> f(jnp.ones(3), 2.0)
    """
    if fun is None:
        return functools.partial(
            jit,
            static_argnums=static_argnums,
            static_argnames=static_argnames,
            donate_argnums=donate_argnums,
            donate_argnames=donate_argnames,
        )
    if not callable(fun):
        raise TypeError(f"jaxlite.jit: Expected a callable value, got {fun!r}")
    return JitFunction(fun, static_argnums, static_argnames)


class _Entry:
    """One traced signature: the jaxpr (consts hoisted into its first inputs), the consts, the
    output tree, and the executable (compiled on first use)."""

    __slots__ = (
        "const_arrays",
        "consts",
        "exe",
        "jaxpr",
        "name",
        "out_tree",
        "out_weak",
        "single",
        "trace_seconds",
        "unflatten",
    )  # fmt: skip

    def __init__(self, jaxpr: ClosedJaxpr, consts: list, out_tree, name: str, seconds: float):
        self.jaxpr = jaxpr
        self.consts = consts
        self.const_arrays = None if any(isinstance(c, Tracer) for c in consts) else [
            runtime.as_input(core.to_numpy(c), v.aval.dtype)
            for c, v in zip(consts, jaxpr.jaxpr.invars)
        ]  # fmt: skip
        self.out_tree = out_tree
        self.out_weak = [a.weak_type for a in jaxpr.out_avals]
        self.single = tree_util.treedef_is_leaf(out_tree)
        self.unflatten = tree_util._unflattener(out_tree)
        self.exe = None
        self.trace_seconds = seconds
        self.name = name

    def run(self, arrays: list) -> Any:
        exe = self.exe
        if exe is None:
            exe = self.exe = executable(self.jaxpr, self.name, self)
        outs = exe.call(*self.const_arrays, *arrays) if self.const_arrays else exe.call(*arrays)
        if self.single:
            return _wrap(outs[0], self.out_weak[0])
        return self.unflatten([_wrap(o, w) for o, w in zip(outs, self.out_weak)])


_SCALARS = (bool, int, float)
_JIT_FUNCTIONS: weakref.WeakSet[JitFunction] = weakref.WeakSet()  # for clear_cache()


class JitFunction:
    """The callable `jit(fun)` returns."""

    def __init__(self, fun: Callable, static_argnums, static_argnames):
        functools.update_wrapper(self, fun)
        self._fun = fun
        self._name = getattr(fun, "__name__", None) or type(fun).__name__
        self._params = _positional_params(fun)
        nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        # As JAX: static arguments may be named by position or by name; each implies the other.
        nums += tuple(i for i, p in enumerate(self._params) if p in names)
        names += tuple(self._params[i] for i in nums if 0 <= i < len(self._params))
        self._static_argnums = frozenset(nums)
        self._static_argnames = frozenset(names)
        self._cache: dict[Any, _Entry] = {}
        # Positional leaves only, no static arguments; one table per x64 mode (`_fast[x64]`).
        self._fast: tuple[dict[tuple, _Entry], dict[tuple, _Entry]] = ({}, {})
        self._fast_ok = not self._static_argnums and not self._static_argnames
        _JIT_FUNCTIONS.add(self)
        weakref.finalize(self, _forget, self._cache)

    def __repr__(self) -> str:
        return f"<jit of {self._name}>"

    def __get__(self, obj, objtype=None):
        # Methods: `jit` applied to a function defined in a class binds like the function does.
        if obj is None:
            return self
        return functools.partial(self, obj)

    def _cache_size(self) -> int:
        """The number of signatures traced (and compiled) so far."""
        return len(self._cache)

    def clear_cache(self) -> None:
        self._cache.clear()
        for fast in self._fast:
            fast.clear()

    def _drop_oldest(self) -> None:
        """Forgets the oldest traced signature (the per-function cache is bounded too)."""
        # NB: list() copies a dict atomically; other threads may be adding signatures.
        old = self._cache.pop(list(self._cache)[0], None)
        for fast in self._fast:
            for k in [k for k, e in list(fast.items()) if e is old]:
                fast.pop(k, None)

    # --- calling --------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _state.disabled:
            return self._fun(*args, **kwargs)
        if self._fast_ok and not kwargs and core.current_trace() is core.eval_trace:
            key, arrays = _fast_key(args)
            if key is not None:
                entry = self._fast[dtypes._x64].get(key)
                if entry is not None:
                    return entry.run(arrays)
        return self._call(args, kwargs)

    def _call(self, args, kwargs):
        entry, leaves = self._entry(args, kwargs)
        if core.current_trace() is core.eval_trace and entry.const_arrays is not None:
            arrays = [
                _as_array(x, a) for x, a in zip(leaves, entry.jaxpr.in_avals[len(entry.consts) :])
            ]
            return entry.run(arrays)
        outs = pjit_p.bind(*entry.consts, *leaves, jaxpr=entry.jaxpr, name=self._name)
        return entry.out_tree.unflatten(outs)

    def _entry(self, args, kwargs, abstract_ok: bool = False) -> tuple[_Entry, list]:
        dyn_args, dyn_kwargs, static = self._split(args, kwargs)
        leaves, in_tree = tree_util.tree_flatten((dyn_args, dyn_kwargs))
        avals = [_leaf_aval(x, self._name, abstract_ok=abstract_ok) for x in leaves]
        # NB: the mode is part of the key: constants the function closes over follow it.
        # NB: so are the bound axis names (vmap/pmap axis_name): a trace may use their sizes.
        env = _collective.env_key()
        key = (in_tree, tuple((a.shape, a.dtype, a.weak_type) for a in avals),
               static + env if env else static, dtypes._x64)  # fmt: skip
        entry = self._cache.get(key)
        if entry is None:
            entry = self._trace(key, in_tree, avals, args, kwargs)
            if entry.const_arrays is not None:  # NB: never cache a trace that closed over tracers
                self._cache[key] = entry
                fast_key = _fast_key(args)[0] if self._fast_ok and not kwargs else None
                if fast_key is not None:
                    self._fast[dtypes._x64][fast_key] = entry
                if len(self._cache) > max_executables():
                    self._drop_oldest()
        return entry, leaves

    def _split(self, args, kwargs):
        static = []
        for i in sorted(self._static_argnums):
            j = i if i >= 0 else len(args) + i
            if 0 <= j < len(args):
                static.append((i, _hashable(args[j], f"static argument {i}", self._name)))
        for k in sorted(kwargs):
            if k in self._static_argnames:
                static.append((k, _hashable(kwargs[k], f"static argument {k!r}", self._name)))
        n = len(args)
        dyn_args = tuple(a for i, a in enumerate(args) if i not in self._static_argnums
                         and i - n not in self._static_argnums)  # fmt: skip
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self._static_argnames}
        return dyn_args, dyn_kwargs, tuple(static)

    def _with_static(self, args, kwargs) -> Callable:
        """`self._fun` as a function of the dynamic arguments `_split` returns; the static
        arguments keep their values in `args` and `kwargs`."""
        n = len(args)
        dyn_argnums = [i for i in range(n) if i not in self._static_argnums
                       and i - n not in self._static_argnums]  # fmt: skip
        static_kwargs = {k: v for k, v in kwargs.items() if k in self._static_argnames}
        return api_util.argnums_partial(self._fun, dyn_argnums, args, static_kwargs)

    def _trace(self, key, in_tree, avals, args, kwargs) -> _Entry:
        t0 = time.perf_counter()
        flat_fun, out_tree = api_util.flatten_fun(self._with_static(args, kwargs), in_tree)

        def checked_fun(*leaves):
            out_leaves = flat_fun(*leaves)
            for x in out_leaves:
                _leaf_aval(x, self._name, "output")
            return out_leaves

        closed = staging.trace_to_jaxpr(checked_fun, avals, f"jit of `{self._name}`")
        closed = passes.dedup_consts(closed)
        jaxpr = closed.jaxpr
        hoisted = ClosedJaxpr(
            Jaxpr([], jaxpr.constvars + jaxpr.invars, jaxpr.outvars, jaxpr.eqns), []
        )
        seconds = time.perf_counter() - t0
        if _log_compiles():
            _log.warning(
                "jaxlite: tracing jit of `%s` for %s (%s) took %.1f ms",
                self._name, _signature_str(avals), self._miss_reason(key), seconds * 1e3,
            )  # fmt: skip
        return _Entry(hoisted, list(closed.consts), out_tree(), self._name, seconds)

    def _miss_reason(self, key) -> str:
        """Why the signature cache missed: which part of the signature changed."""
        if not self._cache:
            return "first call"
        in_tree, sig, static, x64 = key
        if any(k[3] != x64 for k in self._cache):
            return f"64-bit mode {'on' if x64 else 'off'} (the trace depends on it)"
        same = [k for k in self._cache if k[0] == in_tree and k[2] == static]
        if same:
            old = same[-1][1]
            diffs = [f"argument {i}: {_sig_str(a)} -> {_sig_str(b)}"
                     for i, (a, b) in enumerate(zip(old, sig)) if a != b]  # fmt: skip
            return "changed " + "; ".join(diffs)
        same_tree = [k for k in self._cache if k[0] == in_tree]
        if same_tree:
            return f"static arguments changed: {same_tree[-1][2]} -> {static}"
        return f"argument structure changed: {next(reversed(self._cache))[0]} -> {in_tree}"

    # --- inspecting -----------------------------------------------------------------------
    def lower(self, *args, **kwargs) -> Lowered:
        """Traces for these arguments (arrays, or `jaxlite.ShapeDtypeStruct`s standing in for
        them); returns what would run (`.as_text()`, `.as_c()`, `.compile()`)."""
        entry, _ = self._entry(args, kwargs, abstract_ok=True)
        dyn_args, dyn_kwargs, _ = self._split(args, kwargs)
        return Lowered(entry, self, tree_util.tree_structure((dyn_args, dyn_kwargs)))

    def trace(self, *args, **kwargs) -> Lowered:
        return self.lower(*args, **kwargs)


core.name_api("jaxlite.", {"jit": JitFunction})  # error messages name calls `jaxlite.jit`


# --- jax_debug_nans / jax_debug_infs ----------------------------------------------------------
# NB: while either is on, JitFunction.__call__ is swapped for one that checks the outputs (the
# dispatch path pays nothing while they are off). A bad output re-runs the function op by op,
# with jit disabled, so that the eager checks (core) name the primitive, as JAX does.
_call_unchecked = JitFunction.__call__


def _call_checked(self, *args, **kwargs):
    out = _call_unchecked(self, *args, **kwargs)
    if core.current_trace() is not core.eval_trace:
        return out  # tracers: the trace's own evaluation is checked where it runs
    bad = core._float_trouble(tree_util.tree_leaves(out))
    comm = _collective.spanning_comm()
    if comm is not None:  # NB: every rank must take the same path (MPI): no re-run
        _ranks_agree_on_floats(comm, bad, self._name)
    elif bad:
        with disable_jit():
            self._fun(*args, **kwargs)
        raise FloatingPointError(
            f"invalid value ({bad}) encountered in the output of jit of `{self._name}`; run op "
            "by op, the function produced none (the compiled code rounds differently)"
        )
    return out


def _ranks_agree_on_floats(comm, bad: str, name: str) -> None:
    """Over a pmap axis across MPI ranks: every rank learns which ranks' outputs have invalid
    values, and all raise if any does. The function is not re-run op by op: the rank re-running
    it would issue collectives the other ranks do not."""
    flags = comm.allgather(np.array([1 if bad else 0], np.int8), check=False)
    ranks = [r for r in range(comm.size) if flags[r, 0]]
    if ranks:
        raise FloatingPointError(
            f"invalid value{f' ({bad})' if bad else ''} encountered in the output of jit of "
            f"`{name}` on rank(s) {ranks} of {comm.size}; over MPI the function is not re-run "
            "op by op to name the primitive (every rank must issue the same collectives): run "
            "that rank's shard in one process with jax_debug_nans to find it"
        )


def _set_float_checks(_value=None) -> None:
    on = config.jax_debug_nans or config.jax_debug_infs
    JitFunction.__call__ = _call_checked if on else _call_unchecked


config.on_change("jax_debug_nans", _set_float_checks)
config.on_change("jax_debug_infs", _set_float_checks)
_set_float_checks()


class Lowered:
    """`jit(f).lower(*args)`: the jaxpr and the C source that a call with such arguments runs."""

    def __init__(self, entry: _Entry, fun: JitFunction, in_tree):
        self._entry = entry
        self._fun = fun
        self._in_tree = in_tree

    @property
    def jaxpr(self) -> ClosedJaxpr:
        return self._entry.jaxpr

    def as_text(self) -> str:
        """The jaxpr, in JAX's text format."""
        return str(self._entry.jaxpr)

    def as_c(self) -> str:
        """The C source of the kernel."""
        return lower_closed(self._entry.jaxpr, self._fun._name).source

    def compile(self) -> Compiled:
        self._entry.exe = self._entry.exe or executable(
            self._entry.jaxpr, self._fun._name, self._entry
        )
        return Compiled(self._entry, self._fun, self._in_tree)


class Compiled:
    """`jit(f).lower(*args).compile()`: a callable for arguments of that signature only.

    As JAX's, it takes the dynamic arguments (static ones were fixed by `lower`) and raises a
    `TypeError` naming the expected and given shapes and dtypes for any other signature: it
    never traces again. A call goes through `jit(f)`'s fast path: one signature check of the
    positional arrays against those already accepted, then the kernel.
    """

    def __init__(self, entry: _Entry, fun: JitFunction, in_tree):
        self._entry = entry
        self._fun = fun
        self._in_tree = in_tree
        self._in_avals = entry.jaxpr.in_avals[len(entry.consts) :]
        self._accepted: set = set()  # `_fast_key`s of calls that passed `_check`

    def as_c(self) -> str:
        return lower_closed(self._entry.jaxpr, self._fun._name).source

    def __call__(self, *args, **kwargs):
        entry = self._entry
        eager = core.current_trace() is core.eval_trace and entry.const_arrays is not None
        if eager and not kwargs:
            key, arrays = _fast_key(args)
            if key is not None and key in self._accepted:
                return entry.run(arrays)
        leaves = self._check(args, kwargs)
        if eager:
            if not kwargs and (key := _fast_key(args)[0]) is not None:
                self._accepted.add(key)
            return entry.run([_as_array(x, a) for x, a in zip(leaves, self._in_avals)])
        outs = pjit_p.bind(*entry.consts, *leaves, jaxpr=entry.jaxpr, name=self._fun._name)
        return entry.out_tree.unflatten(outs)

    def _check(self, args, kwargs) -> list:
        """The leaves of the arguments, after checking they have the compiled signature."""
        name = self._fun._name
        pairs, in_tree = tree_util.tree_flatten_with_path((args, kwargs))
        if in_tree != self._in_tree:
            raise TypeError(
                f"compiled `{name}` was called with arguments of another signature: it was "
                f"compiled for the argument structure {self._in_tree} (static arguments "
                f"excluded), and called with {in_tree}. Call jit(f) itself to trace and "
                "compile for other arguments."
            )
        bad = []
        for (path, x), want in zip(pairs, self._in_avals):
            got = _leaf_aval(x, name)
            if got.shape != want.shape or got.dtype != want.dtype:
                bad.append(
                    f"  argument {self._arg_name(path)}: compiled for {want.str_short()}, called "
                    f"with {got.str_short()}"
                )
        if bad:
            raise TypeError(
                f"compiled `{name}` was called with arguments of another signature (argument "
                "types differ from those it was compiled for):\n"
                + "\n".join(bad)
                + "\nCall jit(f) itself to trace and compile for new shapes or dtypes."
            )
        return [x for _, x in pairs]

    def _arg_name(self, path: tuple) -> str:
        """`x`, `x['w']`, `args[2]` or `kw` for the key path of a leaf of `(args, kwargs)`."""
        if path[0].idx == 1:  # a keyword argument: path[1] is its DictKey
            return f"{path[1].key}{tree_util.keystr(path[2:])}"
        fun = self._fun
        names = [p for i, p in enumerate(fun._params) if i not in fun._static_argnums]
        i = path[1].idx
        head = repr(names[i]) if i < len(names) else f"args[{i}]"
        return head + tree_util.keystr(path[2:])


# ------------------------------------------------------------------------------------------
# Arguments
# ------------------------------------------------------------------------------------------


def _fast_key(args) -> tuple[tuple | None, list | None]:
    """The signature of positional arguments (arrays, Python scalars, and tuples, lists, dicts
    and None of them: `_fast_tree`) and their arrays, or (None, None)."""
    key, arrays = [], []
    if not _fast_leaves(args, key, arrays):
        return None, None
    return tuple(key), arrays


def _fast_leaves(xs, key: list, arrays: list) -> bool:
    """Appends each of `xs` to `key` and `arrays` (`_fast_key`); False if one is of a kind the
    fast signature does not take."""
    for a in xs:
        t = type(a)
        if t is Array:
            v = a._value
            if not v.flags.c_contiguous:
                return False
            key.append((v.shape, v.dtype, a.weak_type))
            arrays.append(v)
        elif t is np.ndarray:
            if not a.flags.c_contiguous:
                return False
            key.append((a.shape, a.dtype, False))
            arrays.append(_NARROW_VALUE(a))
        elif t is float or t is int or t is bool:
            key.append(t)
            arrays.append(core.to_numpy(a))
        elif not _fast_tree(a, t, key, arrays):
            return False
    return True


def _fast_tree(x, t, key: list, arrays: list) -> bool:
    """`_fast_leaves` of one argument that is not a leaf: a tuple, list, dict, None or namedtuple
    (not registered otherwise: the kinds whose flattening tree_util fixes), appended in
    `tree_flatten`'s order (a dict's sorted keys), each container as a marker that no leaf's
    entry equals. False for anything else (the caller then takes the general path).

    NB: a training step's parameters are such a tree; flattening them through tree_util and
    building the cache key of their avals took 60 us per call for the 16 leaves of the VAE
    benchmark's step (1.5% of the step), this walk ~6 us."""
    if t is tuple or t is list:
        key.append((t, len(x)))
        children = x
    elif t is dict:
        try:
            ks = sorted(x)
        except TypeError:  # keys that do not sort: tree_flatten raises, as JAX
            return False
        key.append((dict, tuple(ks)))
        children = [x[k] for k in ks]
    elif x is None:
        key.append(None)
        return True
    elif isinstance(x, tuple) and hasattr(t, "_fields") and t not in tree_util._registry:
        key.append((t, len(x)))  # a namedtuple (an optimizer's state): its fields in order
        children = x
    else:
        return False
    return _fast_leaves(children, key, arrays)


def _leaf_aval(x, name: str, what: str = "argument", abstract_ok: bool = False) -> ShapedArray:
    if abstract_ok and isinstance(x, (ShapeDtypeStruct, ShapedArray)):
        return ShapedArray(x.shape, np.dtype(x.dtype), x.weak_type)
    try:
        return core.get_aval(x)
    except TypeError:
        raise TypeError(
            f"jit of `{name}`: {what} {core._short_repr(x)} of type {type(x).__name__} is not a "
            "valid jaxlite type: expected arrays, Python scalars, or pytrees (tuples, lists, "
            "dicts) of them. Mark non-array arguments static with static_argnums/static_argnames."
        ) from None


def _as_array(x, aval: ShapedArray) -> np.ndarray:
    return runtime.as_input(core.to_numpy(x), aval.dtype)


def _hashable(v, what: str, name: str):
    try:
        hash(v)
    except TypeError:
        raise ValueError(
            f"jit of `{name}`: {what} of type {type(v).__name__} is not hashable; static "
            "arguments are part of the compile-cache key. Pass a tuple instead of a list, or "
            "make it a traced (non-static) argument."
        ) from None
    return v


def _positional_params(fun) -> list[str]:
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds]


def _sig_str(s) -> str:
    if isinstance(s, tuple):
        shape, dtype, weak = s
        return ShapedArray(shape, dtype, weak).str_short() + ("{weak}" if weak else "")
    return s.__name__


def _signature_str(avals) -> str:
    return "(" + ", ".join(a.str_short() + ("{weak}" if a.weak_type else "") for a in avals) + ")"
