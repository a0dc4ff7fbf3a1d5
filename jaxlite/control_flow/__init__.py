"""Structured control flow (`lax.cond`, `switch`, `scan`, `fori_loop`, `while_loop`, `map`): call
primitives holding closed sub-jaxprs, each module registering every rule of its primitive.
"""

from jaxlite.control_flow.cond import cond, cond_p, switch  # noqa: F401
from jaxlite.control_flow.scan import scan, scan_p  # noqa: F401
from jaxlite.control_flow.while_loop import while_loop, while_p  # noqa: F401
from jaxlite.control_flow.loops import fori_loop, map  # noqa: F401
