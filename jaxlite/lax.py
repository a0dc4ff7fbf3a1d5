"""`jaxlite.lax`: the primitives' wrappers with JAX's names and signatures (re-exports only)."""

# Re-export lists stay compact:
# fmt: off

from jaxlite import core as _core
from jaxlite.primitives import *  # noqa: F401,F403
from jaxlite.primitives import (  # noqa: F401
    abs, add, add_any, argmax, argmin, bitcast_convert_type, bitwise_and, bitwise_not,
    bitwise_or, bitwise_xor, broadcast, broadcast_in_dim, broadcasted_iota, clamp, concatenate,
    convert_element_type, copy, cumsum, cumprod, cummax, cummin, dot, dot_general,
    dynamic_slice, dynamic_update_slice, expand_dims, integer_pow, iota, max, min, pad, pow,
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

from jaxlite._lax_composites import associative_scan, reduce  # noqa: F401

# After the star import: api's stop_gradient (on pytrees, as JAX's) replaces the primitive's.
from jaxlite.api import stop_gradient  # noqa: E402,F401

# lax's spelling of the bitwise ops
bitwise_not = bitwise_not
not_ = bitwise_not

# The names error messages give the functions above (not core's `get_aval`, `Tracer`, ...).
_NOT_LAX = ("jaxlite.core", "jaxlite.array")
_core.name_api("lax.", {n: v for n, v in globals().items() if getattr(v, "__module__", None) not in _NOT_LAX})
