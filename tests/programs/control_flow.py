"""Mirrors the JAX control-flow docs (jax.lax): a cumulative EMA with lax.scan (and its
gradient), a fori_loop power iteration, a while_loop Newton square root, cond and switch under
vmap, and scan over a pytree carry.
APIs: lax.scan, lax.fori_loop, lax.while_loop, lax.cond, lax.switch, grad through scan, vmap
of cond/while, jit."""

import numpy as np

X64 = False
TOL = (1e-5, 1e-6)  # float32, short loops


def run(L):
    jax, jnp, lax = L.jax, L.jnp, L.lax
    rng = np.random.RandomState(5)
    xs = jnp.asarray(rng.randn(12).astype(np.float32))
    A = rng.randn(4, 4).astype(np.float32)
    A = jnp.asarray(A @ A.T)

    def ema(alpha, xs):
        def body(carry, x):
            new = alpha * carry + (1 - alpha) * x
            return new, new

        final, ys = lax.scan(body, 0.0, xs)
        return final, ys

    def power_iter(A):
        def body(i, v):
            w = A @ v
            return w / jnp.linalg.norm(w)

        v = lax.fori_loop(0, 20, body, jnp.ones(4) / 2.0)
        return v @ A @ v

    def newton_sqrt(a):
        def cond(state):
            x, i = state
            return (jnp.abs(x * x - a) > 1e-5 * a) & (i < 50)

        def body(state):
            x, i = state
            return 0.5 * (x + a / x), i + 1

        return lax.while_loop(cond, body, (a, 0))

    def piecewise(x):
        return lax.cond(x > 0, lambda v: v**2, lambda v: -v, x)

    def branches(i, x):
        return lax.switch(i, [jnp.sin, jnp.cos, lambda v: v * 3.0], x)

    def pytree_scan(xs):
        def body(c, x):
            return {"sum": c["sum"] + x, "max": jnp.maximum(c["max"], x)}, c["sum"] * x

        return lax.scan(body, {"sum": 0.0, "max": -jnp.inf}, xs)

    final, ys = ema(0.8, xs)
    return {
        "ema_final": final,
        "ema_ys": ys,
        "ema_grad": jax.grad(lambda a: ema(a, xs)[0])(0.8),
        "power": jax.jit(power_iter)(A),
        "sqrt": jax.vmap(newton_sqrt)(jnp.array([2.0, 9.0, 0.25])),
        "cond": jax.vmap(piecewise)(xs[:5]),
        "cond_grad": jax.vmap(jax.grad(piecewise))(xs[:5]),
        "switch": jax.vmap(branches)(jnp.array([0, 1, 2, 1]), xs[:4]),
        "pytree_scan": pytree_scan(xs),
    }
