"""`jaxlite.lax`: the primitives' wrappers with JAX's names and signatures (re-exports, and the
user-facing check of dtype arguments)."""

# Re-export lists stay compact:
# fmt: off

import numpy as _np

from jaxlite import core as _core
from jaxlite import dtypes as _dtypes
from jaxlite import primitives as _p
from jaxlite.primitives._slicing import _start
from jaxlite.primitives import *  # noqa: F401,F403
from jaxlite.primitives import (  # noqa: F401
    abs, add_any, bitwise_not, broadcast, broadcast_in_dim, concatenate,
    copy, cumsum, cumprod, cummax, cummin, dot, expand_dims, integer_pow, pad, pow,
    reduce_and, reduce_max, reduce_min, reduce_or, reduce_prod, reduce_sum, reshape, rev, round,
    select, select_n, slice, sort, square, squeeze, transpose,
)
from jaxlite.primitives import (  # noqa: F401
    GatherDimensionNumbers, GatherScatterMode, ScatterDimensionNumbers, gather, scatter,
    scatter_add, scatter_max, scatter_min, scatter_mul,
)
from jaxlite.primitives import (  # noqa: F401
    ConvDimensionNumbers, conv, conv_dimension_numbers, conv_general_dilated,
    conv_general_dilated_patches, conv_general_permutations, conv_general_shape_tuple,
    conv_shape_tuple, conv_transpose, conv_transpose_shape_tuple, conv_with_general_padding,
    padtype_to_pads, reduce_window_shape_tuple,
)
from jaxlite.control_flow import (  # noqa: F401
    cond, fori_loop, map, scan, switch, while_loop,
)

from jaxlite._lax_composites import associative_scan, reduce  # noqa: F401
from jaxlite._reduce_window import reduce_window  # noqa: F401
from jaxlite._lax_parallel import (  # noqa: F401
    all_gather, all_to_all, axis_index, axis_size, pmax, pmean, pmin, ppermute, pshuffle, psum,
    psum_scatter,
)

# After the star import: api's stop_gradient (on pytrees, as JAX's) replaces the primitive's.
from jaxlite.api import stop_gradient  # noqa: E402,F401

# fmt: on


# Functions taking a dtype: a 64-bit one asked for with x64 off warns here, as in JAX (jaxlite's
# own modules call the primitives' wrappers, which canonicalize silently).
def convert_element_type(operand, new_dtype):
    return _p.convert_element_type(operand, _dtypes.user_dtype(new_dtype, "convert_element_type"))


def bitcast_convert_type(operand, new_dtype):
    return _p.bitcast_convert_type(operand, _dtypes.user_dtype(new_dtype, "bitcast_convert_type"))


def iota(dtype, size):
    return _p.iota(_dtypes.user_dtype(dtype, "iota"), size)


def broadcasted_iota(dtype, shape, dimension):
    return _p.broadcasted_iota(_dtypes.user_dtype(dtype, "broadcasted_iota"), shape, dimension)


def argmax(operand, axis, index_dtype=_np.int32):  # NB: JAX requires index_dtype
    return _p.argmax(operand, axis, _dtypes.user_dtype(index_dtype, "argmax"))


def argmin(operand, axis, index_dtype=_np.int32):
    return _p.argmin(operand, axis, _dtypes.user_dtype(index_dtype, "argmin"))


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """`precision` is accepted and ignored: jaxlite's products are exact float32/float64 ones."""
    pet = preferred_element_type
    if pet is not None:
        pet = _dtypes.user_dtype(pet, "dot_general")
    return _p.dot_general(lhs, rhs, dimension_numbers, pet)


# Dynamic slices: a negative start counts from the end, as JAX's (`allow_negative_indices`), then
# the start is clamped so the slice fits. (jaxlite's own modules pass normalized starts.)
def _starts(operand, start_indices, allow_negative_indices: bool):
    shape = _core.get_aval(operand).shape
    if not isinstance(start_indices, (tuple, list)) and _np.ndim(start_indices) != 1:
        return start_indices  # the primitive's wrapper names what is wrong
    starts = list(start_indices)
    if len(starts) != len(shape):
        return start_indices
    return [_start(i, d, allow_negative_indices) for i, d in zip(starts, shape)]


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
    starts = _starts(operand, start_indices, allow_negative_indices)
    return _p.dynamic_slice(operand, starts, slice_sizes)


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
    starts = _starts(operand, start_indices, allow_negative_indices)
    return _p.dynamic_update_slice(operand, update, starts)


# n-ary elementwise ops: JAX requires one dtype of their operands (a Python scalar counts as the
# mode's int32/float32 or int64/float64), where jaxlite's internal wrappers promote Python scalars.
_JNP_TIP = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide",
            "rem": "remainder", "max": "maximum", "min": "minimum", "atan2": "arctan2",
            "nextafter": "nextafter", "eq": "equal", "ne": "not_equal", "lt": "less",
            "le": "less_equal", "gt": "greater", "ge": "greater_equal",
            "bitwise_and": "bitwise_and", "bitwise_or": "bitwise_or",
            "bitwise_xor": "bitwise_xor", "shift_left": "left_shift",
            "shift_right_arithmetic": "right_shift", "shift_right_logical": "right_shift",
            "clamp": None}  # fmt: skip


def _operand_dtype(x):
    t = type(x)
    if t in _dtypes.PYTHON_SCALAR_DTYPES:
        return _dtypes.PYTHON_SCALAR_DTYPES[t]
    dt = getattr(x, "dtype", None)
    if dt is None:
        return None  # not an array: the primitive's own check names it
    return _dtypes.NARROW.get(dt, dt)


def _same_dtypes(name: str, *args) -> None:
    dts = [_operand_dtype(a) for a in args]
    if None not in dts and any(d != dts[0] for d in dts[1:]):
        tip = _JNP_TIP[name]
        more = f" (Tip: jnp.{tip} is a similar function that does automatic type promotion)"
        raise TypeError(
            f"lax.{name} requires arguments to have the same dtypes, got "
            f"{', '.join(d.name for d in dts)}." + (more if tip else "")
        )


# One line each, so that errors raised inside name the lax function (api_names reads frames).
# fmt: off
def add(x, y): _same_dtypes("add", x, y); return _p.add(x, y)  # noqa: E702
def sub(x, y): _same_dtypes("sub", x, y); return _p.sub(x, y)  # noqa: E702
def mul(x, y): _same_dtypes("mul", x, y); return _p.mul(x, y)  # noqa: E702
def div(x, y): _same_dtypes("div", x, y); return _p.div(x, y)  # noqa: E702
def rem(x, y): _same_dtypes("rem", x, y); return _p.rem(x, y)  # noqa: E702
def max(x, y): _same_dtypes("max", x, y); return _p.max(x, y)  # noqa: E702,A001
def min(x, y): _same_dtypes("min", x, y); return _p.min(x, y)  # noqa: E702,A001
def atan2(x, y): _same_dtypes("atan2", x, y); return _p.atan2(x, y)  # noqa: E702
def nextafter(x, y): _same_dtypes("nextafter", x, y); return _p.nextafter(x, y)  # noqa: E702
def eq(x, y): _same_dtypes("eq", x, y); return _p.eq(x, y)  # noqa: E702
def ne(x, y): _same_dtypes("ne", x, y); return _p.ne(x, y)  # noqa: E702
def lt(x, y): _same_dtypes("lt", x, y); return _p.lt(x, y)  # noqa: E702
def le(x, y): _same_dtypes("le", x, y); return _p.le(x, y)  # noqa: E702
def gt(x, y): _same_dtypes("gt", x, y); return _p.gt(x, y)  # noqa: E702
def ge(x, y): _same_dtypes("ge", x, y); return _p.ge(x, y)  # noqa: E702
def bitwise_and(x, y): _same_dtypes("bitwise_and", x, y); return _p.bitwise_and(x, y)  # noqa: E702
def bitwise_or(x, y): _same_dtypes("bitwise_or", x, y); return _p.bitwise_or(x, y)  # noqa: E702
def bitwise_xor(x, y): _same_dtypes("bitwise_xor", x, y); return _p.bitwise_xor(x, y)  # noqa: E702
def shift_left(x, y): _same_dtypes("shift_left", x, y); return _p.shift_left(x, y)  # noqa: E702
def shift_right_arithmetic(x, y): _same_dtypes("shift_right_arithmetic", x, y); return _p.shift_right_arithmetic(x, y)  # noqa: E702
def shift_right_logical(x, y): _same_dtypes("shift_right_logical", x, y); return _p.shift_right_logical(x, y)  # noqa: E702
def clamp(min, x, max): _same_dtypes("clamp", min, x, max); return _p.clamp(min, x, max)  # noqa: E702,A002
# fmt: on


# fmt: off
# lax's spelling of the bitwise ops
bitwise_not = bitwise_not
not_ = bitwise_not

# The names error messages give the functions above (not core's `get_aval`, `Tracer`, ...).
_NOT_LAX = ("jaxlite.core", "jaxlite.array")
_core.name_api("lax.", {n: v for n, v in globals().items() if getattr(v, "__module__", None) not in _NOT_LAX})

from jaxlite.lax import linalg  # noqa: E402,F401  (lax.linalg, as JAX's)
