"""Newton's method with `jaxlite.hessian`, and Hessian-vector products with `jvp(grad(f))`.

The problem is L2-regularized logistic regression (digit 3 against the rest of the scikit-learn
digits). Exact Newton builds the Hessian; Newton-CG solves the same Newton systems with
conjugate gradients that only need Hessian-vector products, never the Hessian itself.

    python examples/newton_hvp.py
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import nn

# 64-bit mode, as a JAX user turns it on for double precision: Newton steps converge to 1e-10.
jaxlite.config.update("jax_enable_x64", True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Newton's method (hessian) and Newton-CG (jvp of grad) with jaxlite.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--iters", type=int, default=8, help="Newton iterations")
    p.add_argument("--l2", type=float, default=1e-2, help="L2 regularization strength")
    p.add_argument("--quick", action="store_true", help="smoke test: fewer examples")
    return p.parse_args(argv)


def load_problem(quick: bool):
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    if quick:
        x, y = x[:300], y[:300]
    x = np.concatenate([x / 16.0, np.ones((len(x), 1))], axis=1)  # a bias feature
    return x, np.where(y == 3, 1.0, -1.0)


def make_loss(x, y, l2):
    def loss(w):
        margins = y * (x @ w)
        return jnp.mean(nn.softplus(-margins)) + 0.5 * l2 * jnp.sum(w * w)

    return loss


def hvp(f, w, v):
    """Hessian-vector product, forward-over-reverse: d/dt grad f(w + t v) at t = 0."""
    return jaxlite.jvp(jaxlite.grad(f), (w,), (v,))[1]


def conjugate_gradient(matvec, b, iters: int, tol: float = 1e-10):
    """Solves A x = b for symmetric positive definite A given only x -> A x."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    for _ in range(iters):
        ap = np.asarray(matvec(p))
        alpha = rr / (p @ ap)
        x += alpha * p
        r -= alpha * ap
        rr_new = r @ r
        if np.sqrt(rr_new) < tol:
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def main(argv=None) -> int:
    args = parse_args(argv)
    x, y = load_problem(args.quick)
    f = make_loss(x, y, args.l2)
    grad_f = jaxlite.jit(jaxlite.grad(f))
    hess_f = jaxlite.jit(jaxlite.hessian(f))
    hvp_f = jaxlite.jit(lambda w, v: hvp(f, w, v))
    d = x.shape[1]

    # The HVP agrees with the full Hessian times the vector.
    w0 = np.zeros(d)
    v = np.random.default_rng(0).normal(size=d)
    err = np.max(np.abs(np.asarray(hvp_f(w0, v)) - np.asarray(hess_f(w0)) @ v))
    print(f"{len(x)} examples, {d} features; |hvp(w, v) - hessian(w) @ v| = {err:.2e}")
    assert err < 1e-10

    print("exact Newton (hessian):")
    w = np.zeros(d)
    for it in range(args.iters):
        g = np.asarray(grad_f(w))
        print(f"  iter {it}  loss {float(f(w)):.10f}  |grad| {np.linalg.norm(g):.3e}")
        w = w - np.linalg.solve(np.asarray(hess_f(w)), g)
    w_newton = w

    print("Newton-CG (Hessian-vector products only):")
    w = np.zeros(d)
    for it in range(args.iters):
        g = np.asarray(grad_f(w))
        print(f"  iter {it}  loss {float(f(w)):.10f}  |grad| {np.linalg.norm(g):.3e}")
        w = w - conjugate_gradient(lambda p, w=w: hvp_f(w, p), g, iters=2 * d)
    print(f"max |w_newton - w_newton_cg| = {np.max(np.abs(w_newton - w)):.2e}")
    accuracy = np.mean(np.sign(x @ w) == y)
    print(f"training accuracy of the 'is it a 3?' classifier: {accuracy:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
