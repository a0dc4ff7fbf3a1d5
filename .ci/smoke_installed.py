"""Smoke test of an installed jaxlite, run from outside the repository by `make wheel-test`:
jit + grad + vmap, a product through the runtime library, and the package's own C headers; in
an empty cache the first process runs on the runtime library's basic build while the tuned one
builds in the background, and the next process runs on the tuned one with the same numbers."""

import os
import subprocess
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

from jaxlite.backend import compile as jl_compile  # noqa: E402

cache = os.environ["JAXLITE_CACHE_DIR"]
assert list(jl_compile._tiers.values()) == [True], "a new cache: the basic tier first"
assert jl_compile.wait_runtime_build(timeout=600), "the tuned runtime build did not end"
failed = [f for f in os.listdir(cache) if f.endswith(".failed")]
assert not failed, open(os.path.join(cache, failed[0])).read()
later = (
    "import numpy as np, jaxlite, jaxlite.numpy as jnp\n"
    "from jaxlite.backend import compile as c\n"
    "W = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)\n"
    "y = jaxlite.jit(lambda x: jnp.tanh(x @ W))(np.ones((32, 64), np.float32))\n"
    "print(list(c._tiers.values()), np.asarray(y).tobytes().hex())\n"
)
out = subprocess.run([sys.executable, "-c", later], capture_output=True, text=True, check=True)
tiers, bits = out.stdout.split("] ")
assert tiers == "[False", f"the next process did not take the tuned build: {out.stdout[:80]}"
np.testing.assert_allclose(np.frombuffer(bytes.fromhex(bits.strip()), np.float32).reshape(32, 64),
                           np.asarray(y), rtol=1e-5, atol=1e-6)  # fmt: skip

for name in ("GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT"):
    assert name not in os.environ, f"jaxlite changed the user's environment: {name}"
print(f"installed jaxlite works from {os.getcwd()} (python {sys.version.split()[0]})")
