"""16-bit floats (float16, bfloat16) before lowering: stored in 16 bits, computed in float32.

XLA's CPU backend does the same: a 16-bit operand is converted to float32 on load, the operation
runs in float32, and its result is rounded back (round to nearest even) when stored. Here that is
a jaxpr pass: every equation that computes on a 16-bit float (anything but the primitives that
only move elements: reshape, slice, concatenate, gather, select_n, ...) gets float32 inputs
(`convert_element_type`, exact), runs in float32 (a dtype parameter such as iota's `dtype` or
dot_general's `preferred_element_type` becomes float32 too) and its result is converted back.
Each operation rounds its result, as the eager interpreter (NumPy's float16 and ml_dtypes'
bfloat16, which compute in float32 and round) does: jit and eager agree bit for bit on the
operations that are exact in float32 (add, mul, div, sqrt, comparisons, max, ...).

So the C lowering sees 16-bit floats only in conversions (csrc/jl_math.h `jl_f16_to_f32`, ...,
bit-exact with NumPy and ml_dtypes) and in element moves (copied as uint16_t bits).
"""

from __future__ import annotations

import numpy as np

from jaxlite import core, dtypes
from jaxlite import primitives as P
from jaxlite.core import Jaxpr, JaxprEqn, Literal, ShapedArray, Var
from jaxlite.jaxpr_util import call_info, map_sub_jaxprs, sub_jaxprs

HALF = dtypes.HALF_DTYPES  # a live set: bfloat16 joins when ml_dtypes loads

# Primitives that only move or select elements (and nextafter): they run on the 16-bit storage.
_MOVES = {
    P.reshape_p, P.broadcast_in_dim_p, P.transpose_p, P.squeeze_p, P.expand_dims_p, P.rev_p,
    P.concatenate_p, P.pad_p, P.slice_p, P.dynamic_slice_p, P.dynamic_update_slice_p,
    P.gather_p, P.select_n_p, P.copy_p, P.stop_gradient_p, P.convert_element_type_p,
    P.bitcast_convert_type_p,  # (to or from a 16-bit int: the bits as they are)
    P.nextafter_p,  # steps in the 16-bit dtype: C on the bits (jl_math.h jl_nextafter_f16)
}  # fmt: skip


def _has_half(jaxpr: Jaxpr) -> bool:
    if any(v.aval.dtype in HALF for v in (*jaxpr.constvars, *jaxpr.invars)):
        return True
    for e in jaxpr.eqns:
        if any(v.aval.dtype in HALF for v in e.outvars):
            return True
        if any(a.aval.dtype in HALF for a in e.invars):
            return True
        if any(_has_half(j) for j in sub_jaxprs(e)):
            return True
    return False


def widen(jaxpr: Jaxpr) -> Jaxpr:
    """`jaxpr` with every computation on 16-bit floats done in float32 (see the module doc);
    `jaxpr` itself when it holds no 16-bit float."""
    if not _has_half(jaxpr):
        return jaxpr
    eqns: list[JaxprEqn] = []
    wide: dict = {}  # a 16-bit var -> its float32 twin (converted once)

    def to_f32(a):
        if a.aval.dtype not in HALF:
            return a
        if type(a) is Literal:
            return Literal(np.float32(np.asarray(a.val, a.aval.dtype)), _f32(a.aval))
        if a not in wide:
            w = Var(_f32(a.aval))
            eqns.append(_convert(a, w))
            wide[a] = w
        return wide[a]

    for e in jaxpr.eqns:
        sub = map_sub_jaxprs(e, widen)
        if sub is not e or e.primitive in _MOVES or _keeps_bits(e):
            eqns.append(sub)
            continue
        if not any(v.aval.dtype in HALF for v in (*e.invars, *e.outvars)):
            eqns.append(e)
            continue
        ins = [to_f32(a) for a in e.invars]
        outs = [Var(_f32(v.aval)) if v.aval.dtype in HALF else v for v in e.outvars]
        params = {k: dtypes.float32 if _is_half_dtype(p) else p for k, p in e.params.items()}
        eqns.append(JaxprEqn(e.primitive, ins, outs, params))
        for v, w in zip(e.outvars, outs):
            if w is not v and type(v) is not core.DropVar:
                eqns.append(_convert(w, v))
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns)


def _keeps_bits(e: JaxprEqn) -> bool:
    # Call primitives are widened inside (their operands pass as they are); host callbacks
    # receive the arrays as the user's dtype.
    return call_info(e.primitive) is not None or "callback" in e.primitive.name


def _is_half_dtype(p) -> bool:
    return isinstance(p, np.dtype) and p in HALF


def _f32(aval: ShapedArray) -> ShapedArray:
    return ShapedArray(aval.shape, dtypes.float32, aval.weak_type)


def _convert(src, dst: Var) -> JaxprEqn:
    params = {"new_dtype": dst.aval.dtype, "weak_type": dst.aval.weak_type}
    return JaxprEqn(P.convert_element_type_p, [src], [dst], params)
