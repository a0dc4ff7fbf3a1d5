"""jnp.vectorize (NumPy's generalized ufunc signatures, built on vmap as JAX's) and
jnp.piecewise (a vectorized lax.switch over the index of the last true condition)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import numpy as np

from jaxlite import primitives as lax
from jaxlite._vmap_api import vmap
from jaxlite.control_flow import switch
from jaxlite.numpy._creation import array
from jaxlite.numpy._reductions import argmax, cumsum
from jaxlite.numpy._shape import concatenate, expand_dims, squeeze
from jaxlite.numpy._util import asarray, broadcast_shapes, convert, dtype_of, shape_of

_DIM = r"\w+"
_CORE_DIMS = f"(?:{_DIM}(?:,{_DIM})*)?"
_ARG = rf"\({_CORE_DIMS}\)"
_ARGS = f"{_ARG}(?:,{_ARG})*"
_SIGNATURE = f"^{_ARGS}->{_ARGS}$"


def _parse_signature(signature: str):
    """'(m,n),(n)->(m)' -> ([('m', 'n'), ('n',)], [('m',)])."""
    if not re.match(_SIGNATURE, signature.replace(" ", "")):
        raise ValueError(f"not a valid gufunc signature: {signature}")
    return [
        [tuple(re.findall(_DIM, arg)) for arg in re.findall(_ARG, part)]
        for part in signature.replace(" ", "").split("->")
    ]


def _update_sizes(sizes: dict, shape, core: tuple, context: str, is_input: bool) -> None:
    n = len(core)
    if is_input and len(shape) < n:
        raise ValueError(
            f"input with shape {shape} does not have enough dimensions for all core "
            f"dimensions {core} {context}"
        )
    if not is_input and len(shape) != n:
        raise ValueError(f"output shape {shape} does not match core dimensions {core} {context}")
    for name, size in zip(core, shape[len(shape) - n :]):
        if sizes.setdefault(name, size) != size:
            raise ValueError(
                f"inconsistent size for core dimension {name!r}: {size} vs {sizes[name]} {context}"
            )


def _apply_excluded(func, excluded, args, kwargs):
    """`func` with the excluded positional and keyword arguments bound, and the others."""
    if not excluded:
        return func, list(args), kwargs
    dynamic = [a for i, a in enumerate(args) if i not in excluded]
    dynamic_kw = {k: v for k, v in kwargs.items() if k not in excluded}
    static = [
        (i, args[i]) for i in sorted(e for e in excluded if isinstance(e, int)) if i < len(args)
    ]
    static_kw = {k: v for k, v in kwargs.items() if k in excluded}

    def bound(*a, **kw):
        a = list(a)
        for i, v in static:
            a.insert(i, v)
        return func(*a, **kw, **static_kw)

    return bound, dynamic, dynamic_kw


def vectorize(pyfunc: Callable, *, excluded=frozenset(), signature=None) -> Callable:
    """jnp.vectorize: `pyfunc`, written for scalars (or for the core shapes of a gufunc
    `signature` such as '(m,n),(n)->(m)'), mapped over the broadcast leading dimensions of its
    arguments with `vmap` (no Python loop). `excluded`: positions (ints) and keywords (strs) of
    arguments passed through unchanged. As JAX's, other keyword arguments are not passed on."""
    if any(not isinstance(e, (str, int)) for e in excluded):
        raise TypeError(
            f"jnp.vectorize can only exclude integer or string arguments, but excluded={excluded!r}"
        )
    if any(isinstance(e, int) and e < 0 for e in excluded):
        raise ValueError(f"excluded={excluded!r} contains negative numbers")

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        context = f"on vectorized function with excluded={excluded!r} and signature={signature!r}"
        func, args, kwargs = _apply_excluded(pyfunc, excluded, args, kwargs)
        if signature is not None:
            in_core, out_core = _parse_signature(signature)
        else:
            in_core, out_core = [()] * len(args), None
        nones = {i for i, a in enumerate(args) if a is None}
        if nones:
            if any(i < len(in_core) and in_core[i] != () for i in nones):
                raise ValueError(f"Cannot pass None at locations {nones} with {signature=}")
            func, args, _ = _apply_excluded(func, nones, args, {})
            in_core = [c for i, c in enumerate(in_core) if i not in nones]
        args = [asarray(a, "vectorize") for a in args]
        if len(args) != len(in_core):
            raise TypeError(
                f"wrong number of positional arguments: expected {len(in_core)}, got "
                f"{len(args)} {context}"
            )
        sizes: dict = {}
        loop_shapes = []
        for a, core in zip(args, in_core):
            s = shape_of(a)
            _update_sizes(sizes, s, core, context, True)
            loop_shapes.append(s[: len(s) - len(core)])
        batch = broadcast_shapes("vectorize", *loop_shapes)

        checked = func
        if out_core is not None:

            def checked(*a):
                out = func(*a)
                outs = out if isinstance(out, tuple) else (out,)
                if len(out_core) > 1 and not isinstance(out, tuple):
                    raise TypeError(
                        f"output must be a tuple when multiple outputs are expected, got: "
                        f"{out!r}\n{context}"
                    )
                if len(outs) != len(out_core):
                    raise TypeError(
                        f"wrong number of output arguments: expected {len(out_core)}, got "
                        f"{len(outs)} {context}"
                    )
                out_sizes = dict(sizes)
                for o, core in zip(outs, out_core):
                    _update_sizes(out_sizes, np.shape(o), core, context, False)
                return out

        # vmap over each broadcast dimension (innermost first); size-1 dimensions are squeezed
        # and left unmapped, so nothing is broadcast before the call.
        squeezed, rev_shapes = [], []
        for a, s in zip(args, loop_shapes):
            rev_shapes.append(((1,) * (len(batch) - len(s)) + s)[::-1])
            ones = tuple(i for i, d in enumerate(s) if d == 1)
            squeezed.append(squeeze(a, ones) if ones else a)
        fn, expand = checked, []
        for negdim, dims in enumerate(zip(*rev_shapes)):
            in_axes = tuple(None if d == 1 else 0 for d in dims)
            if all(ax is None for ax in in_axes):
                expand.append(len(batch) - 1 - negdim)
            else:
                fn = vmap(fn, in_axes)
        result = fn(*squeezed)
        if not expand:
            return result
        if isinstance(result, tuple):
            return tuple(expand_dims(r, expand) for r in result)
        return expand_dims(result, expand)

    return wrapped


def piecewise(x, condlist, funclist, *args, **kw):
    """jnp.piecewise: `funclist[i](x, *args, **kw)` where `condlist[i]` holds (the last true
    condition wins), `funclist[-1]` (or 0) where none does; constants may stand for functions.
    Results take x's dtype. A vectorized lax.switch, as JAX's (under vmap every branch runs)."""
    x = asarray(x, "piecewise")
    if isinstance(condlist, (str, dict)) or not hasattr(condlist, "__len__"):
        raise TypeError(
            f"jnp.piecewise: condlist must be a sequence of conditions, got {condlist!r}"
        )
    nc, nf = len(condlist), len(funclist)
    if nf == nc + 1:
        funclist = list(funclist[-1:]) + list(funclist[:-1])
    elif nf == nc:
        funclist = [0] + list(funclist)
    else:
        raise ValueError(
            f"jnp.piecewise: with {nc} condition(s), either {nc} or {nc + 1} functions are "
            f"expected; got {nf}"
        )
    conds = convert(asarray(array(condlist), "piecewise"), np.dtype(bool))
    first = lax.slice(conds, (0,) * len(shape_of(conds)), (min(1, nc),) + shape_of(conds)[1:])
    counts = cumsum(concatenate([lax.broadcast_in_dim(False, shape_of(first), ()), conds], 0), 0)
    indices = argmax(counts, 0)
    dtype = dtype_of(x)

    def branch(f):
        if callable(f):
            return lambda v: convert(asarray(f(v, *args, **kw), "piecewise"), dtype)
        return lambda v: array(f, dtype=dtype)

    return vectorize(switch, excluded=(1,))(indices, [branch(f) for f in funclist], x)
