"""jaxlite.export: a jitted function as standalone C99 (no Python, cffi, NumPy or BLAS).

`to_c(fun, *args, name=..., embed=...)` traces `fun` as `jax.jit(fun).lower(*args)` does and
packages the C that jit runs: `name.h` (documented inputs and outputs), `name.c` (the kernel,
embedded weights as static const arrays, the entry point) and the csrc/ files it includes.
`export(fun, **options)(*args)` is the same in the shape of `jax.export.export`; `cflags()`
the compiler flags jit uses; `own_products()` makes jit's products those of the export (for
bit-for-bit comparisons).
"""

from jaxlite.export._export import ExportedC, Port, cflags, export, to_c
from jaxlite.export._products import own_products

__all__ = ["ExportedC", "Port", "cflags", "export", "own_products", "to_c"]
