"""reduce_precision: round floats to a narrower format (`exponent_bits`, `mantissa_bits`) and
back, as XLA does: mantissa rounded to nearest even, exponent overflow to +-inf, results below
the narrower format's smallest normal flushed to +-0, NaN kept.
"""

from __future__ import annotations

import operator

import numpy as np

from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _FLOAT, _check_kinds, _prim

reduce_precision_p = _prim("reduce_precision")


def float_bits(dtype) -> tuple[int, int]:
    """(exponent bits, mantissa bits) of a floating-point dtype (float32: (8, 23))."""
    info = np.finfo(dtype)
    return int(info.nexp), int(info.nmant)


def _reduce_bits(bits: np.ndarray, nbits: int, src_exp: int, src_mant: int, exp: int, mant: int):
    """The rounding on the unsigned integer view `bits` (Python ints are exact: no overflow)."""
    one = np.array(1, bits.dtype)
    if mant < src_mant:
        drop = src_mant - mant
        last = one << drop  # the lowest mantissa bit kept
        bias = (last >> one) - one + ((bits & last) >> drop)  # ties to even
        bits = (bits + bias) & ~(last - one)
    if exp < src_exp:
        sign = bits & (one << (nbits - 1))
        exp_mask = np.array(((1 << src_exp) - 1) << src_mant, bits.dtype)
        src_bias, bias = (1 << (src_exp - 1)) - 1, (1 << (exp - 1)) - 1
        e = bits & exp_mask
        bits = np.where(
            e > np.array((src_bias + bias) << src_mant, bits.dtype), sign | exp_mask, bits
        )
        bits = np.where(e <= np.array((src_bias - bias) << src_mant, bits.dtype), sign, bits)
    return bits


@reduce_precision_p.def_impl
def _reduce_precision_impl(x, *, exponent_bits, mantissa_bits):
    src_exp, src_mant = float_bits(x.dtype)
    nbits = 8 * x.dtype.itemsize
    udt = np.dtype(f"u{x.dtype.itemsize}")
    bits = _reduce_bits(
        np.asarray(x).view(udt), nbits, src_exp, src_mant, exponent_bits, mantissa_bits
    )
    out = np.asarray(bits, udt).view(x.dtype)
    return np.array(np.where(np.isnan(x), x, out), dtype=x.dtype)


@reduce_precision_p.def_abstract_eval
def _reduce_precision_abstract(x, *, exponent_bits, mantissa_bits):
    _check_kinds("reduce_precision", x, _FLOAT)
    if exponent_bits < 1:
        raise ValueError(f"reduce_precision: exponent_bits must be positive; got {exponent_bits}")
    if mantissa_bits < 0:
        raise ValueError(
            f"reduce_precision: mantissa_bits must be non-negative; got {mantissa_bits}"
        )
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def reduce_precision(operand, exponent_bits, mantissa_bits):
    """lax.reduce_precision: `operand` rounded to a float format with `exponent_bits` exponent
    and `mantissa_bits` mantissa bits (float16: 5, 10; bfloat16: 8, 7), in its own dtype."""
    exponent_bits, mantissa_bits = operator.index(exponent_bits), operator.index(mantissa_bits)
    # NB: the eager path runs no abstract eval: check here what it checks
    _reduce_precision_abstract(
        get_aval(operand), exponent_bits=exponent_bits, mantissa_bits=mantissa_bits
    )
    return reduce_precision_p.bind(
        operand, exponent_bits=exponent_bits, mantissa_bits=mantissa_bits
    )
