"""Run under `mpiexec -n 2` by tests/test_distributed.py: the paths on which one rank could take
another way than the others.

1. jax_debug_nans: rank 1's output has a NaN. Every rank raises a FloatingPointError naming rank
   1 (no rank re-runs the function op by op, which would issue collectives the other does not),
   and the ranks stay in step (a psum afterwards gives the right total).
2. An eager loop with a collective whose NumPy evaluation raises on rank 1 only: not replayed op
   by op; the error escapes and aborts every rank (the exception hook), reported with the rank.
"""

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax

jaxlite.distributed.initialize()
rank = jaxlite.process_index()

f = jaxlite.pmap(lambda x: (jnp.log(x), lax.psum(x, "i")), axis_name="i")
jaxlite.config.update("jax_debug_nans", True)
try:
    f(np.full((1, 2), 1.0 - 2.0 * rank, np.float32))  # rank 1: log(-1) is NaN
except FloatingPointError as e:
    assert "on rank(s) [1] of 2" in str(e), str(e)
else:
    raise AssertionError(f"rank {rank}: no FloatingPointError")
jaxlite.config.update("jax_debug_nans", False)
total = jaxlite.pmap(lambda x: lax.psum(x, "i"), axis_name="i")(np.full((1, 1), rank + 1.0))
assert float(total[0, 0]) == 3.0, total
print(f"OK nans rank {rank}", flush=True)


def fail_on_rank_one(c):
    if rank == 1 and float(c) >= 2:
        raise RuntimeError("rank one's loop fails")
    return c


def body(i, c):
    c = lax.psum(c, "i") * 0 + c + 1
    return jaxlite.pure_callback(fail_on_rank_one, jaxlite.ShapeDtypeStruct((), np.float32), c)


with jaxlite.disable_jit():
    jaxlite.pmap(lambda x: lax.fori_loop(0, 5, body, x[0]), axis_name="i")(
        np.zeros((1, 1), np.float32)
    )
raise AssertionError("rank 1's loop should have raised")
