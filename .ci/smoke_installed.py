"""Smoke test of an installed jaxlite, run from outside the repository by `make wheel-test`:
jit + grad + vmap, a product through the runtime library, and the package's own C headers."""

import os
import sys

import numpy as np

import jaxlite as jax
import jaxlite.numpy as jnp

here = os.path.dirname(os.path.abspath(jax.__file__))
assert "site-packages" in here, f"jaxlite imported from {here}, not from the installed wheel"
assert os.path.exists(os.path.join(here, "csrc", "jaxlite.h")), "csrc/ is not in the wheel"

g = jax.jit(jax.grad(lambda w: jnp.sum(jnp.tanh(w) ** 2)))(jnp.ones(3))
want = 2 * np.tanh(1.0) * (1 - np.tanh(1.0) ** 2)
np.testing.assert_allclose(np.asarray(g), np.full(3, want), rtol=1e-6)

A = np.arange(12.0).reshape(3, 4)
per_row = jax.jit(jax.vmap(lambda a, x: jnp.dot(a, x), in_axes=(0, None)))(A, np.ones(4))
np.testing.assert_allclose(np.asarray(per_row), A.sum(1))

W = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
x = np.ones((32, 64), np.float32)
y = jax.jit(lambda x: jnp.tanh(x @ W))(x)
np.testing.assert_allclose(np.asarray(y), np.tanh(x @ W), rtol=1e-5, atol=1e-6)

for name in ("GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT"):
    assert name not in os.environ, f"jaxlite changed the user's environment: {name}"
print(f"installed jaxlite works from {os.getcwd()} (python {sys.version.split()[0]})")
