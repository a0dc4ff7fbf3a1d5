"""`jaxlite.lax`: the primitives' wrappers with JAX's names and signatures (re-exports, and the
user-facing check of dtype arguments)."""

# Re-export lists stay compact:
# fmt: off

from jaxlite import core as _core
from jaxlite import dtypes as _dtypes
from jaxlite import primitives as _p
from jaxlite.primitives import *  # noqa: F401,F403
from jaxlite.primitives import (  # noqa: F401
    abs, add, add_any, bitwise_and, bitwise_not,
    bitwise_or, bitwise_xor, broadcast, broadcast_in_dim, clamp, concatenate,
    copy, cumsum, cumprod, cummax, cummin, dot,
    dynamic_slice, dynamic_update_slice, expand_dims, integer_pow, max, min, pad, pow,
    reduce_and, reduce_max, reduce_min, reduce_or, reduce_prod, reduce_sum, reshape, rev, round,
    select, select_n, slice, sort, square, squeeze, transpose,
)
from jaxlite.primitives import (  # noqa: F401
    GatherDimensionNumbers, GatherScatterMode, ScatterDimensionNumbers, gather, scatter,
    scatter_add, scatter_max, scatter_min, scatter_mul,
)
from jaxlite.control_flow import (  # noqa: F401
    cond, fori_loop, map, scan, switch, while_loop,
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


def argmax(operand, axis, index_dtype):
    return _p.argmax(operand, axis, _dtypes.user_dtype(index_dtype, "argmax"))


def argmin(operand, axis, index_dtype):
    return _p.argmin(operand, axis, _dtypes.user_dtype(index_dtype, "argmin"))


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """`precision` is accepted and ignored: jaxlite's products are exact float32/float64 ones."""
    pet = preferred_element_type
    if pet is not None:
        pet = _dtypes.user_dtype(pet, "dot_general")
    return _p.dot_general(lhs, rhs, dimension_numbers, pet)


# fmt: off
# lax's spelling of the bitwise ops
bitwise_not = bitwise_not
not_ = bitwise_not

# The names error messages give the functions above (not core's `get_aval`, `Tracer`, ...).
_NOT_LAX = ("jaxlite.core", "jaxlite.array")
_core.name_api("lax.", {n: v for n, v in globals().items() if getattr(v, "__module__", None) not in _NOT_LAX})
