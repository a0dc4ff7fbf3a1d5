"""The public transformations, one face re-exporting them: tracing (`make_jaxpr`, `eval_shape`),
autodiff (`grad`, `vjp`, `jvp`, ...) and `vmap`. They live in `_tracing_api.py`,
`_autodiff_api.py` and `_vmap_api.py`; user functions are flattened by `api_util.py`.
"""

from jaxlite._autodiff_api import (
    grad,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linear_transpose,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
)
from jaxlite._tracing_api import ShapeDtypeStruct, eval_shape, make_jaxpr
from jaxlite._vmap_api import vmap

__all__ = [
    "ShapeDtypeStruct", "eval_shape", "grad", "hessian", "jacfwd", "jacrev", "jvp",
    "linear_transpose", "linearize", "make_jaxpr", "stop_gradient", "value_and_grad", "vjp",
    "vmap",
]  # fmt: skip
