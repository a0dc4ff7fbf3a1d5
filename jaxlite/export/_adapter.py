"""The one place that knows the kernel the backend lowers: how it is produced and called.

jaxlite.export reuses jit's lowering unchanged: `jit.for_lowering` (the passes, 16-bit floats
computed in float32), then `lower.lower_jaxpr` with `workspace_arg=True` (the kernel takes the caller's workspace instead of keeping one). Every
kernel is `int jl_kernel(void **jl_args)`: the addresses of its inputs, the lowering's consts and
its outputs, in that order, each a contiguous buffer, then (with `workspace_arg`) the workspace.
Should that convention change, only `lower_kernel` and `Kernel.call` change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jaxlite.backend import lower
from jaxlite.core import Jaxpr, ShapedArray
from jaxlite.jit import for_lowering


@dataclass(frozen=True)
class Kernel:
    source: str  # C text: includes csrc headers, defines `int <symbol>(...)`
    symbol: str
    in_avals: tuple[ShapedArray, ...]  # the kernel's inputs: the jaxpr's invars, in order
    consts: tuple[np.ndarray, ...]  # arrays the lowering captured (passed after the inputs)
    out_avals: tuple[ShapedArray, ...]
    workspace_size: int  # bytes, 64-byte aligned
    runtime: bool  # calls the product kernels of csrc/jl_gemm.c (through csrc/jl_blas.h)
    openmp: bool  # has `#pragma omp parallel` loops

    def call(self, symbol: str, inputs: list[str], consts: list[str], outputs: list[str],
             ws: str) -> list[str]:  # fmt: skip
        """C statements that call the kernel (renamed `symbol`) on these argument expressions
        and return its status (0: it has no failure path without host callbacks)."""
        addresses = ", ".join(f"(void *)({a})" for a in [*inputs, *consts, *outputs, ws])
        return [f"  void *jl_args[] = {{{addresses}}};", f"  return {symbol}(jl_args);"]


def lower_kernel(jaxpr: Jaxpr, name: str) -> Kernel:
    """`jaxpr` (no constvars) lowered to C as jit lowers it, with a caller-provided workspace."""
    low = lower.lower_jaxpr(for_lowering(jaxpr), name, workspace_arg=True)
    assert not low.host_calls, "callbacks are refused before lowering (_export.check_exportable)"
    return Kernel(
        source=low.source,
        symbol=lower.SYMBOL,
        in_avals=tuple(low.in_avals),
        consts=tuple(np.ascontiguousarray(c) for c in low.consts),
        out_avals=tuple(low.out_avals),
        workspace_size=int(low.workspace_size or 0),
        runtime=bool(low.runtime),
        openmp=bool(low.openmp),
    )
