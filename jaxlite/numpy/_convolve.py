"""convolve and correlate of 1-D arrays: one conv_general_dilated each (as jnp computes them)."""

from __future__ import annotations

from jaxlite import primitives as lax
from jaxlite.numpy._util import (
    asarray,
    canonical_dtype,
    promote_dtypes,
    promote_dtypes_inexact,
    shape_of,
)


def _conv(name: str, x, y, mode: str, preferred_element_type):
    x, y = asarray(x, name), asarray(y, name)
    if len(shape_of(x)) != 1 or len(shape_of(y)) != 1:
        raise ValueError(f"{name}() only support 1-dimensional inputs.")
    pet = canonical_dtype(preferred_element_type, name)
    if pet is None:  # NumPy's default for convolutions: floats
        x, y = promote_dtypes_inexact(name, x, y)
    else:
        x, y = promote_dtypes(name, x, y)
    (nx,), (ny,) = shape_of(x), shape_of(y)
    if nx == 0 or ny == 0:
        raise ValueError(f"{name}: inputs cannot be empty, got shapes {(nx,)} and {(ny,)}.")
    reverse = False
    if nx < ny:  # the longer one slides under the shorter one
        x, y, nx, ny, reverse = y, x, ny, nx, name == "correlate"
    if name == "convolve":
        y = lax.rev(y, (0,))
    pads = {"valid": (0, 0), "same": (ny // 2, ny - ny // 2 - 1), "full": (ny - 1, ny - 1)}
    if mode not in pads:
        raise ValueError("mode must be one of ['full', 'same', 'valid']")
    out = lax.conv_general_dilated(
        lax.reshape(x, (1, 1, nx)), lax.reshape(y, (1, 1, ny)), (1,), [pads[mode]],
        preferred_element_type=pet,
    )  # fmt: skip
    out = lax.reshape(out, shape_of(out)[2:])
    return lax.rev(out, (0,)) if reverse else out


def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
    """NumPy's `convolve`: the discrete linear convolution of two 1-D arrays ('full', 'same' or
    'valid'); integers and bools give floats unless a preferred_element_type is given."""
    return _conv("convolve", a, v, mode, preferred_element_type)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """NumPy's `correlate`: the cross-correlation of two 1-D arrays ('valid', 'same' or
    'full')."""
    return _conv("correlate", a, v, mode, preferred_element_type)
