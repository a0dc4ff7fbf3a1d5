"""`own_products()`: jit's matrix products on jaxlite's own kernels, as the exported C has them.

An export compiles csrc/jl_gemm.c without BLAS: its products run the register-blocked or the
packed kernel, which add each dot product's terms in the same order (so they agree bit for bit
with each other). jit's runtime library may choose OpenBLAS for some shape classes (by
measurement, backend/compile.py's `gemm_choice`), which adds in another order. Within
`own_products()` it chooses jaxlite's own kernels for every class, so jit's results and the
exported C's can be compared bit for bit.
"""

from __future__ import annotations

import contextlib

from jaxlite.backend import compile as _compile

OWN = 2  # compile.GEMM_PATHS: 2 = the packed kernel (it takes every product)


@contextlib.contextmanager
def own_products():
    """Within: the products of jitted functions use jaxlite's own kernels, never BLAS.

    NB: the choice is process-wide (the runtime library's table): other threads' jitted
    products change path (not results' accuracy) meanwhile. Restored on exit.

    Example:
      >>> with jaxlite.export.own_products():
      ...     logits = jaxlite.jit(predict)(params, x)  # bit for bit as the exported C
    """
    cc = _compile.find_compiler()
    lib = _compile.runtime_library(cc)
    tag = _compile.runtime_tag(cc)
    n = lib.function(f"jl_rt_gemm_nclass_{tag}", "int(*)(void)")()
    _compile.set_gemm_choice(lib, tag, {"float32": [OWN] * n, "float64": [OWN] * n})
    try:
        yield
    finally:
        _compile.gemm_choice(lib, tag, _compile._runtime_key(cc)[1])  # the measured table again
