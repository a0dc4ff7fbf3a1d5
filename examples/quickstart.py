"""A first tour of jaxlite: NumPy-style code on immutable arrays, and its jaxpr in JAX's format.

Run: .venv/bin/python examples/quickstart.py
"""

import numpy as np

import jaxlite as jax
import jaxlite.numpy as jnp
from jaxlite import lax


def predict(w, b, x):
    """A tiny model: tanh(x @ w + b)."""
    return jnp.tanh(x @ w + b)


def loss(w, b, x, y):
    return jnp.mean((predict(w, b, x) - y) ** 2)


def main():
    # Eager arrays: NumPy semantics, JAX's dtypes (float32 stays float32; Python scalars are weak).
    x = jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float32).reshape(3, 2)
    print("x =", repr(x))
    print("jnp.sin(x) * 2.0 + 1 has dtype", (jnp.sin(x) * 2.0 + 1).dtype)
    print("np.asarray(x) is x's own read-only buffer:", not np.asarray(x).flags.writeable)
    print("x.at[0, 1].set(9.0)[0] =", x.at[0, 1].set(9.0)[0], "(x itself is unchanged)")

    # Every function can be traced to a jaxpr, printed in JAX's format.
    print("\nmake_jaxpr(lambda x: jnp.sin(x) * 2.0):")
    print(jax.make_jaxpr(lambda x: jnp.sin(x) * 2.0)(jnp.ones(3, jnp.float32)))

    w = jnp.array([[0.5], [-0.3]], dtype=jnp.float32)
    b = jnp.zeros(1, jnp.float32)
    y = jnp.array([[0.1], [0.0], [-0.2]], dtype=jnp.float32)
    print("\nmake_jaxpr(loss):")
    print(jax.make_jaxpr(loss)(w, b, x, y))

    # lax: the primitives themselves, with JAX's names and signatures.
    print("\nlax.dot_general:", lax.dot_general(x, w, (((1,), (0,)), ((), ()))).ravel())

    # Pytrees: nested containers of arrays, as in JAX.
    params = {"w": w, "b": b}
    leaves, treedef = jax.tree_util.tree_flatten(params)
    print("\ntree_flatten(params):", treedef, "with", len(leaves), "leaves")
    print("eval_shape(loss):", jax.eval_shape(lambda p: loss(p["w"], p["b"], x, y), params))

    # Under tracing, values are abstract: Python control flow on them is an error that says why.
    try:
        jax.make_jaxpr(lambda x: x if x.sum() > 0 else -x)(x)
    except jax.errors.ConcretizationTypeError as e:
        print(f"\nConcretizationTypeError: {e}")


if __name__ == "__main__":
    main()
