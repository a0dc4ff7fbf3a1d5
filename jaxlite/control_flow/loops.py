"""`lax.fori_loop` and `lax.map`, built on `scan` and `while` (no primitives of their own): a
fori_loop with static bounds is a scan (so reverse mode works), otherwise a while loop, as in JAX.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jaxlite import core, dtypes, tree_util
from jaxlite import primitives as lax
from jaxlite._vmap_api import vmap
from jaxlite.array import _wrap
from jaxlite.control_flow import common
from jaxlite.control_flow.scan import scan
from jaxlite.control_flow.while_loop import while_loop


def _loop_index_type(lower, upper) -> tuple[np.dtype, bool]:
    avals = [core.get_aval(common.as_value(b)) for b in (lower, upper)]
    for a in avals:
        if a.shape != () or a.dtype.kind not in "iu":
            raise TypeError(
                "lower and upper arguments to fori_loop must be integer scalars, got "
                f"{', '.join(common.aval_str(a) for a in avals)}"
            )
    return dtypes.result_type(*[(a.dtype, a.weak_type) for a in avals])


def _as_index(x, dtype: np.dtype, weak: bool):
    x = common.as_value(x)
    if core.get_aval(x).dtype != dtype:
        x = lax.convert_element_type(x, dtype)
    if weak and not isinstance(x, core.Tracer):
        x = _wrap(core.to_numpy(x), True)
    return x


def _checked_call(body_fun: Callable, i, val):
    """`body_fun(i, val)` with JAX's carry check, named after the user's function (weakly typed
    carries that the loop will promote are let through)."""
    out = body_fun(i, val)
    out_flat, out_tree = tree_util.tree_flatten(out)
    out_avals = common.avals_of([common.as_value(x) for x in out_flat])
    common.check_carry_type(
        "fori_loop body", body_fun, val, out_tree, out_avals, carry_position=1, allow_weak=True
    )
    return out


# The bodies handed to scan and while_loop: wrappers of the user's function made once per
# function (`common.weak_wrapper`), so that their staging is cached as the user's would be.


def _fori_scan_body(body_ref):
    def scan_body(carry, _):
        i, val = carry
        return (lax.add(i, 1), _checked_call(body_ref(), i, val)), None

    return scan_body


def _fori_while_body(body_ref):
    def while_body(carry):
        i, hi, val = carry
        return lax.add(i, 1), hi, _checked_call(body_ref(), i, val)

    return while_body


def _fori_while_cond(carry):
    i, hi, _ = carry
    return lax.lt(i, hi)


def _map_body(f_ref):
    return lambda _, x: ((), f_ref()(x))


def _batched_map_body(f_ref):
    return lambda _, x: ((), vmap(f_ref())(x))


def fori_loop(lower, upper, body_fun: Callable, init_val, *, unroll: int | bool | None = None):
    """`val = body_fun(i, val)` for `i` in `range(lower, upper)` (as `jax.lax.fori_loop`).

    With static (non-traced) bounds the loop is a `scan` of `upper - lower` steps, so it can be
    differentiated in reverse mode; with traced bounds it is a `while_loop` (forward mode only).

    Args:
      lower, upper: integer scalars.
      body_fun: `body_fun(i, val) -> val`, keeping the structure and types of `val`.
      init_val: the initial value (a pytree).
      unroll: as `lax.scan`'s (static bounds only): iterations per trip of the C loop.

    Returns:
      The final value.

    Example:
      >>> lax.fori_loop(0, 5, lambda i, x: x + i, 0)  # 10
    """
    if not callable(body_fun):
        raise TypeError("lax.fori_loop: body_fun argument should be callable.")
    dtype, weak = _loop_index_type(lower, upper)
    if not isinstance(lower, core.Tracer) and not isinstance(upper, core.Tracer):
        lo, hi = (int(core.to_numpy(common.as_value(b))) for b in (lower, upper))
        i0 = _wrap(np.asarray(lo, dtype), weak)
        unroll = 1 if unroll is None else unroll
        scan_body = common.weak_wrapper(_fori_scan_body, body_fun)
        (_, out), _ = scan(scan_body, (i0, init_val), None, length=max(hi - lo, 0), unroll=unroll)
        return out
    if unroll not in (None, 1, False):
        raise ValueError(
            "Can only use `unroll` in `fori_loop` if the loop bounds are statically known."
        )
    lo_, hi_ = _as_index(lower, dtype, weak), _as_index(upper, dtype, weak)
    while_body = common.weak_wrapper(_fori_while_body, body_fun)
    _, _, out = while_loop(_fori_while_cond, while_body, (lo_, hi_, init_val))
    return out


def _leading_size(xs) -> int:
    leaves = tree_util.tree_leaves(xs)
    if not leaves:
        raise ValueError("lax.map: xs must contain at least one array to map over.")
    return core.get_aval(common.as_value(leaves[0])).shape[0]


def map(f: Callable, xs, *, batch_size: int | None = None):  # noqa: A001
    """`stack([f(x) for x in xs])` as one `scan` (as `jax.lax.map`).

    Args:
      f: a function of one pytree (a slice of `xs`).
      xs: a pytree of arrays mapped along their leading axis.
      batch_size: if given, `f` is vmapped over chunks of this many elements (and the remainder).

    Returns:
      The stacked outputs of `f`.

    Example:
      >>> lax.map(lambda x: x @ x, jnp.ones((5, 3)))  # [3., 3., 3., 3., 3.]
    """
    if batch_size is None:
        _, ys = scan(common.weak_wrapper(_map_body, f), (), xs)
        return ys
    n = _leading_size(xs)
    batch_size = int(batch_size)
    n_batches, rem = divmod(n, batch_size)
    leaves, tree = tree_util.tree_flatten(xs)
    leaves = [common.as_value(x) for x in leaves]
    main = [_batched(x, n_batches, batch_size) for x in leaves]
    ys = None
    if n_batches:
        body = common.weak_wrapper(_batched_map_body, f)
        _, ys = scan(body, (), tree_util.tree_unflatten(tree, main))
        n_main = n_batches * batch_size
        ys = tree_util.tree_map(lambda y: lax.reshape(y, (n_main, *y.shape[2:])), ys)
    if rem:
        tail = [_rows(x, n_batches * batch_size, n) for x in leaves]
        ys_tail = vmap(f)(tree_util.tree_unflatten(tree, tail))
        if ys is None:
            return ys_tail
        ys = tree_util.tree_map(lambda a, b: lax.concatenate([a, b], 0), ys, ys_tail)
    return ys


def _rows(x, start: int, stop: int):
    shape = core.get_aval(x).shape
    return lax.slice(x, (start, *[0] * (len(shape) - 1)), (stop, *shape[1:]))


def _batched(x, n_batches: int, batch_size: int):
    shape = core.get_aval(x).shape
    x = _rows(x, 0, n_batches * batch_size)
    return lax.reshape(x, (n_batches, batch_size, *shape[1:]))
