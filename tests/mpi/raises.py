"""Run under `mpiexec`: rank 1 raises while the others wait in a collective; every rank must
exit (MPI_Abort from jaxlite's exception hook), with the error reported."""

import numpy as np

import jaxlite
from jaxlite import lax

jaxlite.distributed.initialize()
if jaxlite.process_index() == 1:
    raise RuntimeError("rank one fails on purpose")
jaxlite.pmap(lambda x: lax.psum(x, "i"), axis_name="i")(np.ones((1, 2), np.float32))
