"""Mirrors the JAX automatic-vectorization tutorial: a 1-D convolution written for one
example, batched by hand, by vmap, with in_axes/out_axes, nested vmap for pairwise distances,
vmap over a dict, and vmap of a function with a static Python argument under jit.
APIs: vmap(in_axes, out_axes), jnp.convolve, jnp.stack, jit, jnp.linalg.norm, jnp.where."""

import numpy as np

X64 = False
TOL = (1e-5, 1e-6)  # float32 elementwise and short sums


def run(L):
    jax, jnp = L.jax, L.jnp
    rng = np.random.RandomState(12)
    x = jnp.asarray(rng.randn(3, 8).astype(np.float32))
    w = jnp.asarray(np.array([2.0, 3.0, 4.0], np.float32))
    pts = jnp.asarray(rng.randn(5, 2).astype(np.float32))

    def convolve(x, w):
        out = []
        for i in range(1, x.shape[-1] - 1):
            out.append(jnp.dot(x[i - 1 : i + 2], w))
        return jnp.stack(out)

    manual = jnp.stack([convolve(xi, w) for xi in x])
    batched = jax.vmap(convolve)(x, jnp.stack([w] * 3))
    dist = jax.vmap(jax.vmap(lambda a, b: jnp.linalg.norm(a - b), (None, 0)), (0, None))(pts, pts)
    tree = jax.vmap(lambda d: {"s": d["a"] * d["b"], "m": jnp.max(d["a"])})({"a": x, "b": x[::-1]})
    return {
        "manual": manual,
        "vmap": jax.vmap(convolve, in_axes=(0, None))(x, w),
        "batched": batched,
        "out_axes": jax.vmap(convolve, in_axes=(1, None), out_axes=1)(x.T, w),
        "jit_vmap": jax.jit(jax.vmap(convolve, in_axes=(0, None)))(x, w),
        "np_convolve": jax.vmap(lambda r: jnp.convolve(r, w, mode="valid"))(x),
        "dist": dist,
        "tree": tree,
        "where": jax.vmap(lambda r: jnp.where(r > 0, r, 0.1 * r))(x),
    }
