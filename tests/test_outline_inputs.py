"""Outlined blocks (jaxlite/backend/outline.py) read their inputs at the call: an input
materialized before another one must stay alive until the call, or the workspace planner gives
its memory to the block's output, which the function writes before its last read of the input.
Found by tests/programs/advi.py: `vmap(normal)(split(key, n))` under jit gave other numbers."""

import numpy as np

import jaxlite
from jaxlite import random


def _bits_of_split(key, n):
    keys = random.split(key, n)
    return jaxlite.vmap(lambda k: random.bits(k, (3,), "uint32"))(keys)


def test_outlined_threefry_matches_eager():
    key = random.split(random.PRNGKey(0))[1]
    for n in (2, 5):  # one call per block, and a run of calls (a C loop over the function)
        want = np.asarray(_bits_of_split(key, n))
        got = np.asarray(jaxlite.jit(_bits_of_split, static_argnums=1)(key, n))
        np.testing.assert_array_equal(got, want)
    # these values are JAX's (jax.random.bits under the same keys)
    np.testing.assert_array_equal(
        np.asarray(jaxlite.jit(_bits_of_split, static_argnums=1)(key, 2))[:, 0],
        [2486066623, 390137614],
    )
