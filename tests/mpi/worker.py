"""Run under `mpiexec -n N` by tests/test_distributed.py: every check compares this rank's
pmap result with the single-process reference (vmap with the same axis name over all N
shards, computed on every rank), and prints one `OK` line per rank at the end."""

from __future__ import annotations

import sys

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.experimental import multihost_utils

jaxlite.config.update("jax_enable_x64", False)
jaxlite.distributed.initialize()
rank, n = jaxlite.process_index(), jaxlite.process_count()
assert jaxlite.device_count() == n and jaxlite.local_device_count() == 1
assert jaxlite.local_devices()[0].id == rank and jaxlite.devices()[rank].process_index == rank

rng = np.random.default_rng(0)  # NB: the same data on every rank
X = rng.standard_normal((n, 2 * n, 3)).astype(np.float32)


def collectives(x):
    perm = [(i, (i + 1) % n) for i in range(n)]
    return (
        lax.psum(x, "i"), lax.pmean(x, "i"), lax.pmax(x, "i"), lax.pmin(x, "i"),
        lax.all_gather(x, "i"), lax.all_gather(x, "i", axis=1, tiled=True),
        lax.psum_scatter(x, "i", tiled=True), lax.all_to_all(x, "i", 0, 1, tiled=True),
        lax.ppermute(x, "i", perm), lax.pshuffle(x, "i", [(i + 2) % n for i in range(n)]),
        lax.axis_index("i") * jnp.ones(2), lax.psum(x > 0, "i"), lax.psum(1, "i"),
    )  # fmt: skip


def check(got, want, what, rtol=1e-5):
    for g, w in zip(jaxlite.tree.leaves(got), jaxlite.tree.leaves(want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (what, g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-5, err_msg=f"{what} on rank {rank}")


want = jaxlite.tree.map(lambda v: v[rank], jaxlite.vmap(collectives, axis_name="i")(X))
got = jaxlite.pmap(collectives, axis_name="i")(X[rank][None])
check(jaxlite.tree.map(lambda v: v[0], got), want, "compiled collectives")
with jaxlite.disable_jit():  # the eager implementations, op by op
    got = jaxlite.pmap(collectives, axis_name="i")(X[rank][None])
check(jaxlite.tree.map(lambda v: v[0], got), want, "eager collectives")

# axis_index_groups: sub-communicators of the groups' ranks (one group in reverse order, and one
# rank per group), against the vmap reference (tests/test_collectives.py checks it against JAX).
for groups in ([list(reversed(range(n)))], [[i] for i in range(n)]):

    def grouped(x, g=groups):
        return (
            lax.psum(x, "i", axis_index_groups=g), lax.pmean(x, "i", axis_index_groups=g),
            lax.pmin(x, "i", axis_index_groups=g), lax.all_gather(x, "i", axis_index_groups=g),
            lax.all_gather(x, "i", axis=1, tiled=True, axis_index_groups=g),
            lax.psum_scatter(x, "i", tiled=True, axis_index_groups=g),
            lax.all_to_all(x, "i", 0, 1, tiled=True, axis_index_groups=g),
        )  # fmt: skip

    want = jaxlite.tree.map(lambda v: v[rank], jaxlite.vmap(grouped, axis_name="i")(X))
    got = jaxlite.pmap(grouped, axis_name="i")(X[rank][None])
    check(jaxlite.tree.map(lambda v: v[0], got), want, f"compiled groups {groups}")
    with jaxlite.disable_jit():
        got = jaxlite.pmap(grouped, axis_name="i")(X[rank][None])
    check(jaxlite.tree.map(lambda v: v[0], got), want, f"eager groups {groups}")


# Several names across ranks and within one: a vmap axis "v" inside the pmap axis "i" (the
# reference: the same two axes as nested vmaps).
def two_axes(x):
    return (
        lax.all_gather(x, ("i", "v")),
        lax.psum_scatter(jnp.concatenate([x, x]), ("i", "v"), tiled=True),
        lax.pshuffle(x, ("i", "v"), [(k + 1) % (2 * n) for k in range(2 * n)]),
        lax.psum(x, ("i", "v")), lax.axis_index(("i", "v")),
    )  # fmt: skip


Y = X.reshape(n, 2, n, 3)
inner = jaxlite.vmap(two_axes, axis_name="v")
want = jaxlite.tree.map(lambda v: v[rank], jaxlite.vmap(inner, axis_name="i")(Y))
got = jaxlite.pmap(inner, axis_name="i")(Y[rank][None])
check(jaxlite.tree.map(lambda v: v[0], got), want, "names across ranks and within one")

# Data parallel: psum of the shards' gradients is the single-process gradient of the full batch.
W = rng.standard_normal((3, 2)).astype(np.float32)


def local_loss(w, x):
    return jnp.sum(jnp.tanh(x @ w) ** 2)


def dp_grad(w, x):
    return lax.psum(jaxlite.grad(local_loss)(w, x), "i")


g = jaxlite.pmap(dp_grad, axis_name="i", in_axes=(None, 0), out_axes=None)(W, X[rank][None])
g_full = jaxlite.grad(lambda w: local_loss(w, X.reshape(-1, 3)))(W)
check(g, g_full, "psum of gradients", rtol=1e-4)


# Differentiating through psum itself: the transpose of psum is psum (JAX's semantics), so the
# result is the vmap reference's row (tests/test_collectives.py checks vmap against JAX).
def through(w, x):
    return jaxlite.grad(lambda w, x: lax.psum(local_loss(w, x), "i"), argnums=(0, 1))(w, x)


g = jaxlite.pmap(through, axis_name="i", in_axes=(None, 0))(W, X[rank][None])
want = jaxlite.vmap(through, axis_name="i", in_axes=(None, 0))(W, X)
check(jaxlite.tree.map(lambda v: v[0], g), jaxlite.tree.map(lambda v: v[rank], want),
      "grad through psum", rtol=1e-4)  # fmt: skip

# multihost_utils
check(multihost_utils.broadcast_one_to_all(np.float32(rank + 5)), np.float32(5), "broadcast")
check(multihost_utils.process_allgather(np.full(2, rank, np.int32)),
      np.repeat(np.arange(n, dtype=np.int32)[:, None], 2, 1), "process_allgather")  # fmt: skip
check(multihost_utils.process_allgather(np.full(2, rank, np.int32), tiled=True),
      np.repeat(np.arange(n, dtype=np.int32), 2), "process_allgather tiled")  # fmt: skip
multihost_utils.sync_global_devices("checks")

# Mismatched shapes across ranks: every rank raises, naming each rank's shape.
try:
    jaxlite.pmap(lambda x: lax.psum(x, "i"), axis_name="i")(np.ones((1, rank + 1), np.float32))
except ValueError as e:
    assert "rank 0: f32[1]" in str(e) and f"rank {n - 1}: f32[{n}]" in str(e), str(e)
else:
    raise AssertionError("mismatched shapes were not detected")

# An eager collective checks its operand (here through multihost_utils, which has no pmap check).
try:
    multihost_utils.process_allgather(np.ones(rank + 1, np.float32))
except ValueError as e:
    assert "rank 0: <f4(1,)" in str(e) and f"rank {n - 1}: <f4({n},)" in str(e), str(e)
else:
    raise AssertionError("mismatched shapes were not detected")

multihost_utils.sync_global_devices("done")
print(f"OK rank {rank} of {n}", flush=True)
sys.stdout.flush()
