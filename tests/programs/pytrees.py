"""Mirrors the JAX pytrees tutorial: parameters as nested lists/dicts/tuples, tree.map over
one and several trees, leaves/structure/flatten/unflatten, a custom class registered as a
pytree node and differentiated through, ravel_pytree, tree reductions, transposes.
APIs: jax.tree.map/leaves/structure/flatten/unflatten/reduce/transpose,
tree_util.register_pytree_node, flatten_util.ravel_pytree, grad over custom nodes, jit."""

import numpy as np

X64 = False
TOL = (1e-5, 1e-6)  # float32: a grad through tanh layers, sums in another order


def run(L):
    jax, jnp = L.jax, L.jnp
    rng = np.random.RandomState(6)
    sizes = [3, 5, 2]
    params = [
        {"w": rng.randn(m, n).astype(np.float32), "b": np.ones(n, np.float32)}
        for m, n in zip(sizes[:-1], sizes[1:])
    ]

    class Affine:
        def __init__(self, scale, shift, name):
            self.scale, self.shift, self.name = scale, shift, name

    L.tree_util.register_pytree_node(
        Affine,
        lambda a: ((a.scale, a.shift), a.name),
        lambda name, ch: Affine(ch[0], ch[1], name),
    )

    def forward(params, aff, x):
        for layer in params:
            x = jnp.tanh(x @ layer["w"] + layer["b"])
        return jnp.sum((aff.scale * x + aff.shift) ** 2)

    x = jnp.asarray(rng.randn(4, 3).astype(np.float32))
    aff = Affine(jnp.array(2.0), jnp.array([0.5, -0.5]), "affine")
    gp, ga = jax.jit(jax.grad(forward, argnums=(0, 1)))(params, aff, x)
    leaves, treedef = jax.tree.flatten(params)
    flat, unravel = L.flatten_util.ravel_pytree(params)
    doubled = jax.tree.unflatten(treedef, [2 * leaf for leaf in leaves])
    shapes = jax.tree.map(lambda a: a.shape, params)
    return {
        "grad_params": gp,
        "grad_affine": (ga.scale, ga.shift, ga.name),
        "n_leaves": len(jax.tree.leaves(params)),
        "num_leaves": treedef.num_leaves,
        "shapes": shapes,
        "flat": flat,
        "unravelled": unravel(flat * 0.5),
        "sum_of_squares": jax.tree.reduce(lambda a, b: a + jnp.sum(b**2), params, 0.0),
        "two_trees": jax.tree.map(lambda a, b: a - 0.1 * b, params, doubled),
        "transposed": jax.tree.transpose(
            jax.tree.structure([0, 0]),
            jax.tree.structure({"a": 0, "b": 0}),
            [{"a": 1, "b": 2}, {"a": 3, "b": 4}],
        ),
        "with_none": jax.tree.leaves([None, (1.0, None), {"k": 2}]),
    }
