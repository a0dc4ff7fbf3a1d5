"""What every primitive module shares: the registry `ALL_PRIMITIVES` and `_prim`, the kind sets
and shape/dtype rule combinators of elementwise primitives (`_unop`, `_binop`, ...), axis and
shape checks, and the promotion of Python scalars in lax wrappers.
"""

from __future__ import annotations

import builtins
import operator
import warnings
from collections.abc import Sequence
from functools import partial

import numpy as np

from jaxlite import dtypes
from jaxlite.array import _wrap
from jaxlite.core import Primitive, ShapedArray, Tracer, get_aval

# NumPy's floating-point RuntimeWarnings (log(0), 0/0, ...) are not errors in JAX's semantics.
# This filter only matches those four messages, attributed to jaxlite's own modules, so it changes
# nothing for other code and lets any other RuntimeWarning of jaxlite's through; it costs nothing
# until a warning fires (np.errstate would cost 1.5 us per eager op).
FP_WARNINGS = r"(overflow|invalid value|divide by zero|underflow) encountered"
warnings.filterwarnings("ignore", FP_WARNINGS, RuntimeWarning, module=r"jaxlite(\.|$)")

ALL_PRIMITIVES: list[Primitive] = []


def _prim(name: str, multiple_results: bool = False) -> Primitive:
    p = Primitive(name, multiple_results)
    ALL_PRIMITIVES.append(p)
    return p


def _contiguous(x: np.ndarray) -> np.ndarray:
    # NB: always a fresh C-contiguous buffer: a view (np.ascontiguousarray of a contiguous slice)
    # would share memory with the caller's writable NumPy input, breaking immutability.
    return np.array(x, order="C")


# ------------------------------------------------------------------------------------------
# Shape/dtype rule helpers
# ------------------------------------------------------------------------------------------

_FLOAT = "f"
_INT = "iu"
_NUM = "iuf"
_NUM_BOOL = "iufb"
_INT_BOOL = "iub"
# complex (issue 21): the kinds of primitives that JAX defines on complex too
_INEXACT = "fc"
_NUMC = "iufc"


def _check_kinds(name: str, aval: ShapedArray, kinds: str) -> None:
    if dtypes.kind(aval.dtype) not in kinds:
        allowed = {
            _FLOAT: "floating-point",
            _INT: "integer",
            _NUM: "numeric (integer or floating-point)",
            _NUM_BOOL: "numeric or boolean",
            _INT_BOOL: "integer or boolean",
            _INEXACT: "floating-point or complex",
            _NUMC: "numeric (integer, floating-point or complex)",
        }.get(kinds, kinds)
        raise TypeError(
            f"{name} does not accept dtype {aval.dtype.name}: it needs a {allowed} argument"
        )


def _same_dtypes(name: str, *avals: ShapedArray) -> np.dtype:
    dts = {a.dtype for a in avals}
    if len(dts) > 1:
        names = ", ".join(a.dtype.name for a in avals)
        raise TypeError(
            f"{name} requires arguments to have the same dtypes, got {names}. "
            "(jnp functions promote dtypes for you; lax functions do not.)"
        )
    return avals[0].dtype


def _binop_shape(name: str, *avals: ShapedArray) -> tuple[int, ...]:
    shapes = {a.shape for a in avals if a.shape != ()}
    if len(shapes) > 1:
        raise TypeError(
            f"{name} got incompatible shapes for broadcasting: "
            + ", ".join(str(a.shape) for a in avals)
        )
    return shapes.pop() if shapes else ()


def _all_weak(*avals: ShapedArray) -> bool:
    return all(a.weak_type for a in avals)


def _unop_abstract(name, kinds, aval, **_):
    _check_kinds(name, aval, kinds)
    return ShapedArray(aval.shape, aval.dtype, aval.weak_type)


def _binop_abstract(name, kinds, x, y, **_):
    dt = _same_dtypes(name, x, y)
    _check_kinds(name, x, kinds)
    return ShapedArray(_binop_shape(name, x, y), dt, _all_weak(x, y))


def _compare_abstract(name, ordered, x, y):
    _same_dtypes(name, x, y)
    if ordered and x.dtype.kind == "c":  # complex (issue 21): as JAX, no order on complex
        raise TypeError(
            f"{name} does not accept dtype {x.dtype.name}: complex numbers are not ordered"
        )
    return ShapedArray(_binop_shape(name, x, y), dtypes.bool_, False)


# NB: the eager path does not run shape/dtype rules (they cost ~1.5 us); these checked impls
# test the few conditions elementwise rules reject (~0.1 us) and raise the rule's own error, so
# eager `lax` calls fail exactly as traced ones do.


def _checked_unop(name, impl, kinds):
    def checked(x, **params):
        if x.dtype.kind not in kinds and dtypes.kind(x.dtype) not in kinds:
            _check_kinds(name, get_aval(x), kinds)
        if x.itemsize == 2 and x.dtype in _HALF:
            return _widened(impl, x, params)
        return impl(x, **params)

    return checked


_HALF = dtypes.HALF_DTYPES  # a live set: bfloat16 joins when ml_dtypes loads


def _widened(impl, x, params):
    """A 16-bit float operand computed in float32 and rounded once, as XLA's CPU does (and as
    jit does: backend/half.py): NumPy's float16 and ml_dtypes' bfloat16 loops of special
    functions compute in their own precision, or in float64 and round twice."""
    r = impl(x.astype(np.float32), **params)
    return r.astype(x.dtype) if r.dtype == np.float32 else r


def _checked_binop(name, impl, rule):
    def checked(x, y):
        if x.dtype != y.dtype or (x.shape != y.shape and x.shape and y.shape):
            rule(get_aval(x), get_aval(y))
        return impl(x, y)

    return checked


# primitive -> (NumPy function, dtype kinds) of the elementwise primitives `_unop`/`_binop` make
# (results weak iff the operands are), for jnp's eager fast paths (numpy/_ufuncs.py), which
# check kinds, dtypes and shapes themselves and call the function directly.
ELEMENTWISE_NUMPY: dict = {}


def _unop(name, impl, kinds):
    p = _prim(name)
    p.def_impl(_checked_unop(name, impl, kinds))
    p.def_abstract_eval(partial(_unop_abstract, name, kinds))
    ELEMENTWISE_NUMPY[p] = (impl, kinds)
    return p


def _binop(name, impl, kinds):
    p = _prim(name)
    rule = partial(_binop_abstract, name, kinds)
    p.def_impl(_checked_binop(name, _checked_kinds_binop(name, impl, kinds), rule))
    p.def_abstract_eval(rule)
    ELEMENTWISE_NUMPY[p] = (impl, kinds)
    return p


def _checked_kinds_binop(name, impl, kinds):
    def checked(x, y):
        if x.dtype.kind not in kinds and dtypes.kind(x.dtype) not in kinds:
            _check_kinds(name, get_aval(x), kinds)
        return impl(x, y)

    return checked


def _canonicalize_axis(axis: int, ndim: int, name: str) -> int:
    if not -ndim <= axis < builtins.max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ValueError(f"[{name}] axis {axis} out of range for an array of rank {ndim}")
    return axis % ndim if ndim else 0


def _check_axes(name: str, axes: Sequence[int], shape) -> tuple[int, ...]:
    out = []
    for a in axes:
        if not 0 <= a < len(shape):
            raise ValueError(f"[{name}] axis {a} out of range for shape {tuple(shape)}")
        out.append(a)
    if len(set(out)) != len(out):
        raise ValueError(f"[{name}] repeated axes {tuple(axes)}")
    return tuple(out)


# ------------------------------------------------------------------------------------------
# Python scalars in lax wrappers
# ------------------------------------------------------------------------------------------


_NO_ARRAY = object()  # (None is an argument too: a bad one, reported by get_aval)


def _is_array_like(x) -> bool:
    return type(x) not in dtypes.PYTHON_SCALAR_DTYPES


def _scalar_to(x, like, name: str):
    """Converts a Python scalar `x` to the dtype of `like` (a weakly typed 0-d array)."""
    dt = get_aval(like).dtype
    if isinstance(x, complex) and dt.kind != "c":
        raise TypeError(f"{name}: cannot combine the complex {x} with an array of dtype {dt.name}")
    if isinstance(x, float) and not dtypes.is_inexact(dt):
        raise TypeError(f"{name}: cannot combine the float {x} with an array of dtype {dt.name}")
    if isinstance(x, int) and not isinstance(x, bool) and dt.kind == "b":
        raise TypeError(f"{name}: cannot combine the int {x} with an array of dtype bool")
    if dt.kind in "iu" and not isinstance(x, bool):
        info = np.iinfo(dt)
        if not info.min <= x <= info.max:
            raise OverflowError(f"{name}: Python int {x} is out of bounds for {dt.name}")
    return _wrap(np.asarray(x, dt), True)


def _promote_scalars(name: str, *args):
    if all(_is_array_like(a) for a in args):
        return args
    like = next((a for a in args if _is_array_like(a)), _NO_ARRAY)
    if like is _NO_ARRAY:
        dt, _ = dtypes.result_type(*[(dtypes.dtype_of_scalar(a), True) for a in args])
        return tuple(_wrap(np.asarray(a, dt), True) for a in args)
    return tuple(a if _is_array_like(a) else _scalar_to(a, like, name) for a in args)


# ------------------------------------------------------------------------------------------
# Shapes and indices in wrappers
# ------------------------------------------------------------------------------------------


def _check_shape(name: str, shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(operator_index(d)) for d in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"{name}: negative dimension in shape {shape}")
    return shape


def operator_index(d):
    if isinstance(d, Tracer):
        return d.__index__()
    return operator.index(d)
