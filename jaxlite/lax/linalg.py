"""`jaxlite.lax.linalg`: the linear-algebra primitives' wrappers with JAX's names (the jnp and
scipy linalg functions build the other decompositions from jnp operations)."""

from jaxlite import core as _core
from jaxlite.primitives._eig import eig
from jaxlite.primitives._linalg import triangular_solve

__all__ = ["eig", "triangular_solve"]

_core.name_api("lax.linalg.", {"eig": eig, "triangular_solve": triangular_solve})
