"""Gradient checking for users and tests, as JAX's `jax.test_util.check_grads`: JVPs against
central differences in random directions, VJPs against JVPs by the inner-product identity
<J t, c> = <t, J^T c>, recursively to the requested order. Built on the public API only.
"""

from __future__ import annotations

from functools import partial
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import dtypes, tree_util
from jaxlite.api import jvp, vjp

EPS = {
    np.dtype(np.float32): 1e-3,
    np.dtype(np.float64): 1e-4,
    np.dtype(np.complex64): 1e-3,
    np.dtype(np.complex128): 1e-4,
}
"""Default finite-difference step per dtype (JAX uses 1e-4 for every dtype; float32 central
differences need a larger step to keep rounding error below the tolerance)."""

DEFAULT_TOLERANCE = {
    dtypes.float0: 0.0,
    np.dtype(np.float32): 2e-3,
    np.dtype(np.float64): 1e-5,
    np.dtype(np.complex64): 2e-3,
    np.dtype(np.complex128): 1e-5,
}
"""Default `atol` and `rtol` per dtype, as JAX's `default_gradient_tolerance`."""


def _dtype(x) -> np.dtype:
    dt = getattr(x, "dtype", None)
    return np.dtype(dt) if dt is not None else np.asarray(x).dtype


def _is_float(x) -> bool:
    """Whether `x` is differentiable: a float or complex array (complex: issue 21)."""
    return dtypes.is_inexact(_dtype(x))


def _wide(x) -> np.ndarray:
    return np.asarray(x, np.complex128 if _dtype(x).kind == "c" else np.float64)


def _tolerance(tree, tol) -> float:
    if tol is not None:
        return tol
    tols = [DEFAULT_TOLERANCE.get(_dtype(x), 1e-5) for x in tree_util.tree_leaves(tree)]
    return max(tols, default=1e-5)


def _rand_like(rng: np.random.RandomState, x):
    """A random direction with the shape and dtype of `x` (`float0` zeros for integers)."""
    shape = np.shape(x)
    if not _is_float(x):
        return np.zeros(shape, dtypes.float0)
    if _dtype(x).kind == "c":
        return np.asarray(rng.randn(*shape) + 1j * rng.randn(*shape), _dtype(x))
    return np.asarray(rng.randn(*shape), _dtype(x))


def _scale(tree, s: float):
    return tree_util.tree_map(lambda x: x * s if _is_float(x) else x, tree)


def _add(xs, ys):
    return tree_util.tree_map(lambda x, y: np.asarray(x) + y if _is_float(x) else x, xs, ys)


def _sub(xs, ys):
    return tree_util.tree_map(lambda x, y: np.asarray(x) - y if _is_float(x) else x, xs, ys)


def _inner_prod(xs, ys) -> float:
    """sum(x * y), the real part for complex leaves: the pairing under which JAX's VJPs (linear
    transposes, no conjugation) are adjoint to its JVPs."""
    total = 0.0
    for x, y in zip(tree_util.tree_leaves(xs), tree_util.tree_leaves(ys)):
        if _is_float(x) and _is_float(y):
            total += float(np.real(np.sum(_wide(x) * _wide(y))))
    return total


def check_close(xs, ys, atol=None, rtol=None, err_msg: str = "") -> None:
    """Asserts that the pytrees `xs` and `ys` are equal within per-dtype tolerances."""
    x_leaves, x_tree = tree_util.tree_flatten(xs)
    y_leaves, y_tree = tree_util.tree_flatten(ys)
    assert x_tree == y_tree, f"{err_msg}: tree structures differ: {x_tree} vs {y_tree}"
    for x, y in zip(x_leaves, y_leaves):
        if not (_is_float(x) and _is_float(y)):
            continue
        a = _tolerance((x, y), atol)
        r = _tolerance((x, y), rtol)
        np.testing.assert_allclose(_wide(x), _wide(y), atol=a, rtol=r, err_msg=err_msg)


def numerical_jvp(f: Callable, primals: Sequence, tangents: Sequence, eps: float):
    """The central difference `(f(x + eps t) - f(x - eps t)) / (2 eps)`."""
    delta = _scale(tangents, eps)
    f_pos = f(*_add(primals, delta))
    f_neg = f(*_sub(primals, delta))
    return _scale(_sub(f_pos, f_neg), 0.5 / eps)


def _default_eps(args) -> float:
    eps = [EPS.get(_dtype(x), 1e-4) for x in tree_util.tree_leaves(args) if _is_float(x)]
    return max(eps, default=1e-4)


def check_jvp(f: Callable, f_jvp: Callable, args, atol=None, rtol=None, eps=None, err_msg=""):
    """Checks `f_jvp(args, tangents) == (f(*args), central difference)` in a random direction."""
    rng = np.random.RandomState(0)
    tangent = tree_util.tree_map(partial(_rand_like, rng), args)
    v_out, t_out = f_jvp(args, tangent)
    v_expected = f(*args)
    eps = eps or _default_eps((args, v_expected))
    t_expected = numerical_jvp(f, args, tangent, eps)
    # The lowest precision among the inputs and outputs decides the default tolerance.
    atol, rtol = _tolerance((args, v_expected), atol), _tolerance((args, v_expected), rtol)
    check_close(v_out, v_expected, atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    check_close(t_out, t_expected, atol, rtol, f"{err_msg} tangent" if err_msg else "tangent")


def check_vjp(f: Callable, f_vjp: Callable, args, atol=None, rtol=None, eps=None, err_msg=""):
    """Checks `<central difference(t), c> == <t, vjp(c)>` for random `t` and `c`."""
    rng = np.random.RandomState(0)
    v_out, vjpfun = f_vjp(*args)
    v_expected = f(*args)
    eps = eps or _default_eps((args, v_expected))
    atol, rtol = _tolerance((args, v_expected), atol), _tolerance((args, v_expected), rtol)
    check_close(v_out, v_expected, atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    tangent = tree_util.tree_map(partial(_rand_like, rng), args)
    tangent_out = numerical_jvp(f, args, tangent, eps)
    cotangent = tree_util.tree_map(partial(_rand_like, rng), v_out)
    cotangent_out = vjpfun(cotangent)
    ip = _inner_prod(tangent, cotangent_out)
    ip_expected = _inner_prod(tangent_out, cotangent)
    msg = f"{err_msg} cotangent projection" if err_msg else "cotangent projection"
    np.testing.assert_allclose(ip, ip_expected, atol=atol, rtol=rtol, err_msg=msg)


def check_grads(
    f: Callable, args: Sequence, order: int, modes: Sequence[str] = ("fwd", "rev"),
    atol=None, rtol=None, eps=None,
) -> None:  # fmt: skip
    """Checks `f`'s derivatives up to `order` against finite differences (JAX's method).

    Forward mode: each JVP is compared with a central difference in a random direction.
    Reverse mode: each VJP is checked against a central difference through the inner-product
    identity. Higher orders apply the same checks to the JVP and VJP functions themselves.
    Directions come from a fixed seed, so the check is deterministic.

    Args:
      f: a function of `len(args)` positional arguments (pytrees of arrays).
      args: the point at which to check.
      order: the highest derivative order to check (1 or more).
      modes: any of "fwd" and "rev".
      atol, rtol: tolerances (default per dtype: 2e-3 for float32, 1e-5 for float64).
      eps: the finite-difference step (default per dtype: 1e-3 for float32, 1e-4 for float64).

    Raises:
      AssertionError: naming the mode path (e.g. "VJP of JVP tangent") that disagrees.

    Example:
      >>> check_grads(jnp.sin, (jnp.array([0.5, 1.0]),), order=2)
    """
    args = tuple(args)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f'check_grads: unknown mode {m!r}; use "fwd" and/or "rev"')

    def _check(f, args, order, err_msg=""):
        if "fwd" in modes:
            fwd_msg = f"JVP of {err_msg}" if err_msg else "JVP"
            check_jvp(f, partial(jvp, f), args, atol, rtol, eps, fwd_msg)
            if order > 1:
                _check(partial(jvp, f), (args, args), order - 1, fwd_msg)
        if "rev" in modes:
            rev_msg = f"VJP of {err_msg}" if err_msg else "VJP"
            check_vjp(f, partial(vjp, f), args, atol, rtol, eps, rev_msg)
            if order > 1:

                def f_vjp(*args):
                    out, vjp_fn = vjp(f, *args)
                    return vjp_fn(out)

                _check(f_vjp, args, order - 1, rev_msg)

    _check(f, args, order)
