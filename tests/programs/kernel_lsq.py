"""Mirrors jax examples/kernel_lsq.py: a Gram matrix from a kernel by nested vmap, kernel
least squares by gradient descent on the dual weights, and the closed form by linalg.solve.
APIs: vmap (nested, in_axes), grad, jit, jnp.linalg.solve, jnp.exp/sum."""

import numpy as np

X64 = True  # solves a kernel system; float64 as in a least-squares setting
TOL = (1e-9, 1e-10)


def run(L):
    jax, jnp = L.jax, L.jnp
    rng = np.random.RandomState(1)
    x = rng.randn(30, 3)
    truth = rng.randn(3)
    y = np.sin(x @ truth) + 0.05 * rng.randn(30)

    def rbf(a, b):
        return jnp.exp(-0.5 * jnp.sum((a - b) ** 2))

    def gram(kernel, xs, ys):
        return jax.vmap(lambda a: jax.vmap(lambda b: kernel(a, b))(ys))(xs)

    k = gram(rbf, x, x)

    def objective(v):
        r = y - k @ v
        return 0.5 * jnp.dot(r, r) + 0.05 * jnp.dot(v, k @ v)

    step = jax.jit(lambda v: v - 0.02 * jax.grad(objective)(v))
    v = jnp.zeros(30)
    for _ in range(40):
        v = step(v)
    closed = jnp.linalg.solve(k + 0.1 * jnp.eye(30), y)
    xt = rng.randn(5, 3)
    pred = gram(rbf, xt, x) @ closed
    return {"gd": v, "gd_loss": objective(v), "closed": closed, "pred": pred}
