"""Mirrors jax examples/differentially_private_sgd.py: per-example gradients by vmap(grad),
each clipped to an L2 norm bound over the whole parameter tree, summed, noised with Gaussian
noise (a key per leaf), averaged; an SGD step with tree_map.
APIs: vmap(grad, in_axes=(None, 0, 0)), tree_util.tree_flatten/unflatten/tree_map/tree_leaves,
jnp.linalg.norm, random.split/normal, jax.nn.relu/log_softmax, jit."""

import numpy as np

X64 = False
TOL = (1e-4, 1e-5)  # float32, 3 steps


def run(L):
    jax, jnp, tu = L.jax, L.jnp, L.tree_util
    rng = np.random.RandomState(3)
    x = rng.randn(16, 6).astype(np.float32)
    y = rng.randint(0, 3, 16)
    params = {
        "hidden": {"w": 0.3 * rng.randn(6, 8).astype(np.float32), "b": np.zeros(8, np.float32)},
        "out": {"w": 0.3 * rng.randn(8, 3).astype(np.float32), "b": np.zeros(3, np.float32)},
    }

    def loss(p, xi, yi):
        h = L.nn.relu(xi @ p["hidden"]["w"] + p["hidden"]["b"])
        logp = L.nn.log_softmax(h @ p["out"]["w"] + p["out"]["b"])
        return -logp[yi]

    def clipped_noisy_grad(p, key, xb, yb, clip=0.5, sigma=0.3):
        per_ex = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(p, xb, yb)
        leaves, treedef = tu.tree_flatten(per_ex)
        norms = jnp.sqrt(
            sum(jnp.sum(jnp.reshape(g, (g.shape[0], -1)) ** 2, axis=1) for g in leaves)
        )
        scale = jnp.minimum(1.0, clip / (norms + 1e-6))
        summed = [jnp.sum(g * scale.reshape((-1,) + (1,) * (g.ndim - 1)), axis=0) for g in leaves]
        keys = L.random.split(key, len(summed))
        noised = [
            (s + clip * sigma * L.random.normal(k, s.shape)) / xb.shape[0]
            for s, k in zip(summed, keys)
        ]
        return tu.tree_unflatten(treedef, noised), norms

    @jax.jit
    def update(p, key, xb, yb):
        g, norms = clipped_noisy_grad(p, key, xb, yb)
        return tu.tree_map(lambda a, b: a - 0.5 * b, p, g), norms

    key = L.random.PRNGKey(42)
    all_norms = []
    for i in range(3):
        key, sub = L.random.split(key)
        params, norms = update(params, sub, x[i * 5 : i * 5 + 8], y[i * 5 : i * 5 + 8])
        all_norms.append(norms)
    total = jnp.mean(jax.vmap(loss, in_axes=(None, 0, 0))(params, x, y))
    return {
        "params": params,
        "norms": all_norms,
        "loss": total,
        "n_leaves": len(tu.tree_leaves(params)),
    }
