"""`jaxlite.scipy.optimize`: `minimize(method="BFGS")` as JAX 0.10 has it.

BFGS (Nocedal and Wright, Algorithm 6.1) with a line search for the strong Wolfe conditions
(Algorithm 3.5, zooming by cubic, quadratic or bisection steps: Algorithm 3.6), both as
`lax.while_loop`s over a state of arrays, so `minimize` works under `jit` and `vmap`. Branches
are selections (`where`), as in JAX, so every path computes the same fields.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from jaxlite import numpy as jnp
from jaxlite.api import value_and_grad
from jaxlite.control_flow import while_loop

__all__ = ["OptimizeResults", "minimize"]


class OptimizeResults(NamedTuple):
    """What `minimize` returns.

    x: the solution; success: converged and no line search failed; status: 0 converged,
    1 maximum iterations, 2 + the line search's reason when it failed (3: zoom failed,
    5: line search iterations exhausted), -1 otherwise; fun, jac: f and its gradient at x;
    hess_inv: the inverse Hessian estimate; nfev, njev: evaluations of f and of its gradient;
    nit: iterations.
    """

    x: Any
    success: Any
    status: Any
    fun: Any
    jac: Any
    hess_inv: Any
    nfev: Any
    njev: Any
    nit: Any


def _pick(cond, new: dict, old: dict) -> dict:
    """`old` with the fields of `new` taken where `cond` holds."""
    return {**old, **{k: jnp.where(cond, v, old[k]) for k, v in new.items()}}


# ------------------------------------------------------------------------------------------
# Line search (strong Wolfe conditions)
# ------------------------------------------------------------------------------------------


def _cubic_min(a, fa, da, b, fb, c, fc):
    """Minimizer of the cubic through (a, fa) with slope da, (b, fb) and (c, fc)."""
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    rb, rc = fb - fa - da * db, fc - fa - da * dc
    A = (dc**2 * rb - db**2 * rc) / denom
    B = (-(dc**3) * rb + db**3 * rc) / denom
    return a + (-B + jnp.sqrt(B * B - 3.0 * A * da)) / (3.0 * A)


def _quad_min(a, fa, da, b, fb):
    """Minimizer of the parabola through (a, fa) with slope da and (b, fb)."""
    db = b - a
    return a - da / (2.0 * ((fb - fa - da * db) / db**2))


def _zoom(phi, armijo_fails, curvature_holds, lo, hi, g0, skip):
    """Algorithm 3.6: shrinks [lo, hi] (dicts a/f/d of step, value, slope) to a step meeting
    both conditions. Returns the state: done, failed, a_star/f_star/d_star/g_star, evaluations."""
    st = dict(
        done=jnp.asarray(False), failed=jnp.asarray(False), j=jnp.asarray(0),
        a_lo=lo["a"], f_lo=lo["f"], d_lo=lo["d"], a_hi=hi["a"], f_hi=hi["f"], d_hi=hi["d"],
        a_rec=(lo["a"] + hi["a"]) / 2.0, f_rec=(lo["f"] + hi["f"]) / 2.0,
        a_star=jnp.ones_like(lo["a"]), f_star=lo["f"], d_star=lo["d"], g_star=g0,
        nfev=jnp.asarray(0), ngev=jnp.asarray(0),
    )  # fmt: skip

    def body(st):
        width = st["a_hi"] - st["a_lo"]
        left, right = jnp.minimum(st["a_hi"], st["a_lo"]), jnp.maximum(st["a_hi"], st["a_lo"])
        tiny = 1e-5 if st["a_lo"].dtype == np.float32 else 1e-10
        failed = st["failed"] | (width <= tiny)
        a_cub = _cubic_min(st["a_lo"], st["f_lo"], st["d_lo"], st["a_hi"], st["f_hi"],
                           st["a_rec"], st["f_rec"])  # fmt: skip
        use_cub = (st["j"] > 0) & (a_cub > left + 0.2 * width) & (a_cub < right - 0.2 * width)
        a_quad = _quad_min(st["a_lo"], st["f_lo"], st["d_lo"], st["a_hi"], st["f_hi"])
        use_quad = ~use_cub & (a_quad > left + 0.1 * width) & (a_quad < right - 0.1 * width)
        a_j = jnp.where(use_cub, a_cub, jnp.where(use_quad, a_quad, (st["a_lo"] + st["a_hi"]) / 2))
        a_j = a_j.astype(st["a_lo"].dtype)
        f_j, d_j, g_j = phi(a_j)
        st = {**st, "failed": failed, "nfev": st["nfev"] + 1, "ngev": st["ngev"] + 1}
        to_hi = armijo_fails(a_j, f_j) | (f_j >= st["f_lo"])
        found = curvature_holds(d_j) & ~to_hi
        flip = (d_j * (st["a_hi"] - st["a_lo"]) >= 0.0) & ~to_hi & ~found
        to_lo = ~to_hi & ~found
        st = _pick(to_hi, dict(a_hi=a_j, f_hi=f_j, d_hi=d_j, a_rec=st["a_hi"],
                               f_rec=st["f_hi"]), st)  # fmt: skip
        st = _pick(found, dict(a_star=a_j, f_star=f_j, d_star=d_j, g_star=g_j), st)
        st["done"] = st["done"] | found
        st = _pick(flip, dict(a_hi=st["a_lo"], f_hi=st["f_lo"], d_hi=st["d_lo"],
                              a_rec=st["a_hi"], f_rec=st["f_hi"]), st)  # fmt: skip
        st = _pick(to_lo & ~flip, dict(a_rec=st["a_lo"], f_rec=st["f_lo"]), st)
        st = _pick(to_lo, dict(a_lo=a_j, f_lo=f_j, d_lo=d_j), st)
        j = st["j"] + 1
        return {**st, "j": j, "failed": st["failed"] | (j >= 30)}

    return while_loop(lambda st: ~st["done"] & ~skip & ~st["failed"], body, st)


def _line_search(fun, xk, pk, f0, g0, f_prev, maxiter, c1=1e-4, c2=0.9):
    """Algorithm 3.5 from the step 1 (or the step that the last decrease predicts, if smaller),
    doubling until a bracket is found, then zooming."""

    # Steps and slopes in x's dtype, values in f's: each loop carries one dtype per field.
    def phi(t):
        f, g = value_and_grad(fun)(xk + jnp.asarray(t, pk.dtype) * pk)
        return f.astype(f0.dtype), jnp.dot(g, pk).astype(pk.dtype), g.astype(g0.dtype)

    d0 = jnp.dot(g0, pk).astype(pk.dtype)
    guess = 1.01 * 2 * (f0 - f_prev) / d0
    start = jnp.where(guess > 1, 1.0, guess).astype(pk.dtype)

    def armijo_fails(a, f):
        return f > f0 + c1 * a * d0

    def curvature_holds(d):
        return jnp.abs(d) <= -c2 * d0

    zero = jnp.zeros((), pk.dtype)
    st = dict(
        done=jnp.asarray(False), failed=jnp.asarray(False), i=jnp.asarray(1), a_prev=zero,
        f_prev=f0, d_prev=d0, nfev=jnp.asarray(0), ngev=jnp.asarray(0),
        a_star=zero, f_star=f0, d_star=d0, g_star=g0,
    )  # fmt: skip
    star_keys = ("a_star", "f_star", "d_star", "g_star")

    def body(st):
        a_i = jnp.where(st["i"] == 1, start, st["a_prev"] * 2.0)
        f_i, d_i, g_i = phi(a_i)
        zoom_up = armijo_fails(a_i, f_i) | ((f_i >= st["f_prev"]) & (st["i"] > 1))
        found = curvature_holds(d_i) & ~zoom_up
        zoom_down = (d_i >= 0.0) & ~zoom_up & ~found
        prev = dict(a=st["a_prev"], f=st["f_prev"], d=st["d_prev"])
        cur = dict(a=a_i, f=f_i, d=d_i)
        z1 = _zoom(phi, armijo_fails, curvature_holds, prev, cur, g0, ~zoom_up)
        z2 = _zoom(phi, armijo_fails, curvature_holds, cur, prev, g0, ~zoom_down)
        st = {
            **st,
            "nfev": st["nfev"] + 1 + z1["nfev"] + z2["nfev"],
            "ngev": st["ngev"] + 1 + z1["ngev"] + z2["ngev"],
        }
        st = _pick(zoom_up, {k: z1[k] for k in star_keys}, st)
        st["failed"] = st["failed"] | (zoom_up & z1["failed"])
        st = _pick(found, dict(a_star=a_i, f_star=f_i, d_star=d_i, g_star=g_i), st)
        st = _pick(zoom_down, {k: z2[k] for k in star_keys}, st)
        st["failed"] = st["failed"] | (zoom_down & z2["failed"])
        st["done"] = st["done"] | zoom_up | found | zoom_down
        return {**st, "i": st["i"] + 1, "a_prev": a_i, "f_prev": f_i, "d_prev": d_i}

    st = while_loop(lambda st: ~st["done"] & (st["i"] <= maxiter) & ~st["failed"], body, st)
    failed = st["failed"] | ~st["done"]
    # 0: success, 1: the zoom failed, 3: no step within maxiter iterations (JAX's codes).
    status = jnp.where(failed, jnp.where(st["done"], 1, 3), 0)
    if st["a_star"].dtype != np.float64:  # tiny steps stall float32 BFGS: floored (as JAX)
        a = st["a_star"]
        st = {**st, "a_star": jnp.where(jnp.abs(a) < 1e-8, jnp.sign(a) * 1e-8, a)}
    return st, failed, status


# ------------------------------------------------------------------------------------------
# BFGS
# ------------------------------------------------------------------------------------------


def _bfgs(fun, x0, maxiter=None, norm=np.inf, gtol=1e-5, line_search_maxiter=10):
    x0 = jnp.asarray(x0)
    if x0.ndim != 1:
        raise ValueError(
            f"jaxlite.scipy.optimize.minimize: x0 must be a 1-D array, got shape {x0.shape}"
        )
    if maxiter is None:
        maxiter = x0.size * 200
    n = x0.shape[0]
    f0, g0 = value_and_grad(fun)(x0)
    st = dict(
        converged=jnp.linalg.norm(g0, ord=norm) < gtol, failed=jnp.asarray(False),
        k=jnp.asarray(0), nfev=jnp.asarray(1), ngev=jnp.asarray(1), x=x0, f=f0, g=g0,
        H=jnp.eye(n, dtype=x0.dtype), f_prev=f0 + jnp.linalg.norm(g0) / 2,
        ls_status=jnp.asarray(0),
    )  # fmt: skip

    def body(st):
        p = -jnp.dot(st["H"], st["g"])
        ls, failed, ls_status = _line_search(
            fun, st["x"], p, st["f"], st["g"], st["f_prev"], line_search_maxiter
        )
        s = ls["a_star"] * p
        y = ls["g_star"] - st["g"]
        rho = 1.0 / jnp.dot(y, s)
        w = jnp.eye(n, dtype=rho.dtype) - rho * jnp.outer(s, y)
        H = jnp.matmul(jnp.matmul(w, st["H"]), w.T) + rho * jnp.outer(s, s)
        return dict(
            converged=jnp.linalg.norm(ls["g_star"], ord=norm) < gtol,
            failed=failed, k=st["k"] + 1, nfev=st["nfev"] + ls["nfev"],
            ngev=st["ngev"] + ls["ngev"], x=st["x"] + s, f=ls["f_star"], g=ls["g_star"],
            H=jnp.where(jnp.isfinite(rho), H, st["H"]), f_prev=st["f"], ls_status=ls_status,
        )  # fmt: skip

    st = while_loop(lambda st: ~st["converged"] & ~st["failed"] & (st["k"] < maxiter), body, st)
    status = jnp.where(
        st["converged"],
        0,
        jnp.where(st["k"] == maxiter, 1, jnp.where(st["failed"], 2 + st["ls_status"], -1)),
    )
    return st, status


def minimize(fun, x0, args=(), *, method, tol=None, options=None):
    """Minimizes `fun(x, *args)` (a scalar) over a 1-D `x` from `x0`, as JAX's `minimize`.

    Args:
      fun: the objective; its gradient comes from `jaxlite.grad`.
      x0: the starting point, shape (n,).
      args: a tuple of extra arguments to `fun`.
      method: "BFGS" (case-insensitive): the only method, as in JAX.
      tol: unused (as in JAX); use `options={"gtol": ...}`.
      options: `maxiter` (default 200 n), `norm` (of the gradient; default inf), `gtol` (1e-5),
        `line_search_maxiter` (10).

    Returns:
      An `OptimizeResults`.

    Example:
      >>> r = minimize(lambda x: jnp.sum((x - 1.0) ** 2), jnp.zeros(2), method="BFGS")
      >>> r.x
      Array([1., 1.], dtype=float64)
    """
    del tol  # as JAX: only the options control termination
    if not isinstance(args, tuple):
        raise TypeError(
            f"jaxlite.scipy.optimize.minimize: args must be a tuple, got {type(args).__name__}"
        )
    if method.lower() != "bfgs":
        raise ValueError(f"Method {method} not recognized")
    st, status = _bfgs(lambda x: fun(x, *args), x0, **(options or {}))
    return OptimizeResults(
        x=st["x"], success=st["converged"] & ~st["failed"], status=status, fun=st["f"],
        jac=st["g"], hess_inv=st["H"], nfev=st["nfev"], njev=st["ngev"], nit=st["k"],
    )  # fmt: skip
