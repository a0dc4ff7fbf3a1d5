"""Jaxpr -> C source: one C function per jaxpr, one small entry per primitive in three tables.

A jaxpr becomes `int jl_kernel(void **jl_args)` (0 on success, 1 when out of memory, 2 when a
host callback raised: runtime.py raises its exception). Every kernel has this one C signature,
whatever its number of inputs, constants and outputs: `jl_args` holds the addresses of the
inputs (the jaxpr's constvars, then its invars), then of the constants the lowering added
(`Lowered.consts`), then of the outputs, all contiguous buffers; the kernel reads them into typed
`restrict` pointers (`in_a`, `const_0`, `out_0`, ...). The caller allocates the outputs;
intermediates live in one workspace allocation.

How values flow. Each jaxpr variable maps to a *node*:
  Scalar  a rank-0 value as a C expression (a literal, a local, `in_a[0]`), the same at every index
  Leaf    the elements of a buffer seen through a strided `View` (buffer None: the index itself)
  Op      an elementwise operation on nodes, computed inside the loop nest of whoever reads it
Layout primitives (transpose, broadcast_in_dim, reshape, slice, rev, ...) only change a View's
shape, strides and offset: they cost nothing and never copy. An Op is *materialized* (written to a
buffer by one loop nest) when a consumer needs memory or the fusion policy asks for it.

The tables, one small entry per primitive:
  ELEMENTWISE[prim] = rule(dt, *args: str, **params) -> str   C expression of atoms (dt: the first
                                                               operand's dtype)
  LAYOUT[prim]      = rule(view, **params) -> View | None      None: the operand needs a copy first
  KERNELS[prim]     = rule(ctx, eqn, args: list[Node], **params) -> list[Node]   emits loops
A KERNELS rule writes each result into `ctx.new_output(eqn, i)` (a contiguous View) with
`ctx.loops`, `ctx.read`, `ctx.at` and `ctx.line`, or returns nodes it built from its arguments.
Register more with `register_elementwise`, `register_layout` and `register_kernel`. Call
primitives that declare an `inline_body` (jaxpr_util.register_call_primitive: pjit,
custom_jvp_call, ...) are lowered inline.

This module is the entry point (`lower_jaxpr`) and the public face of the lowering; the pieces:
  c_nodes.py      C types and literals, Views, the nodes, names and comments
  lower_ctx.py    KernelContext (what rules emit into), the tables, lowering one equation
  planner.py      the workspace planner (buffer lifetimes recorded as the C is emitted)
  rules_*.py      the rules: elementwise, layout, reductions and sort, dot_general, gather/scatter,
                  convolutions and windowed reductions, a max pool's derivatives (rules_pool)
"""

from __future__ import annotations

import math
import re

from jaxlite import dtypes
from jaxlite import primitives as P
from jaxlite.backend import (
    rules_conv,
    rules_callback,
    rules_dot,
    rules_elementwise,
    rules_fft,
    rules_gather,
    rules_layout,
    rules_linalg,
    rules_pool,
    rules_reduce,
)
from jaxlite.backend import rules_collective  # noqa: F401  (registers the collectives' host calls)
from jaxlite.backend.c_nodes import (
    CTYPE,
    SUFFIX,
    Leaf,
    Names,
    Node,
    Op,
    Scalar,
    View,
    c_literal,
    coalesce,
    comment_text,
    contiguous_strides,
    leaves,
    map_views,
    reshape_strides,
    reshape_view,
    scaled,
    sfx,
)  # fmt: skip
from jaxlite.backend.lower_ctx import (
    BUFFER_OPERANDS,
    ELEMENTWISE,
    EXPENSIVE,
    KERNELS,
    LAYOUT,
    PARALLEL_MIN_WORK,
    SHARED_COST_LIMIT,
    ElementwiseRule,
    KernelContext,
    KernelRule,
    LayoutRule,
    as_scalar,
    broadcast_to,
    has_lowering,
    lower_eqn,
    register_elementwise,
    write_outputs,
    register_kernel,
    register_layout,
)  # fmt: skip
from jaxlite.backend.outline import find_blocks
from jaxlite.backend.planner import plan
from jaxlite.core import Jaxpr, Var
from jaxlite.jaxpr_util import sub_jaxprs
from jaxlite.util import safe_zip

# The lowering's public names (what control flow, jit, tests and benchmarks use), wherever they
# are defined; the rule modules are imported for their registrations.
__all__ = [
    "CTYPE",
    "ELEMENTWISE",
    "EXPENSIVE",
    "KERNELS",
    "LAYOUT",
    "PARALLEL_MIN_WORK",
    "PARALLEL_MIN_WORK_WITH_BLAS",
    "SHARED_COST_LIMIT",
    "SUFFIX",
    "SYMBOL",
    "ElementwiseRule",
    "KernelContext",
    "KernelRule",
    "LayoutRule",
    "Leaf",
    "Lowered",
    "Names",
    "Node",
    "Op",
    "Scalar",
    "View",
    "as_scalar",
    "broadcast_to",
    "c_literal",
    "coalesce",
    "comment_text",
    "contiguous_strides",
    "convert",
    "has_lowering",
    "leaves",
    "lower_eqn",
    "lower_jaxpr",
    "map_views",
    "plan_workspace",
    "register_elementwise",
    "register_kernel",
    "register_layout",
    "reshape_strides",
    "reshape_view",
    "rules_conv",
    "rules_callback",
    "rules_dot",
    "rules_elementwise",
    "rules_fft",
    "rules_gather",
    "rules_layout",
    "rules_linalg",
    "rules_pool",
    "rules_reduce",
    "scaled",
    "sfx",
]  # fmt: skip
convert = rules_elementwise.convert
# A product reads its operands from buffers (rules_dot materializes a fused one).
BUFFER_OPERANDS.add(P.dot_general_p)

# In a kernel that also calls BLAS on products big enough for its threads, our loops wait for
# sleeping threads to wake after each product and contend with BLAS's: the MLP step of
# bench_jit.py took 3.4 ms with its 128x512 loops shared among threads and 2.3 ms without.
PARALLEL_MIN_WORK_WITH_BLAS = 1 << 23
BLAS_THREADED_MNK = 1 << 22  # multiply-adds from which a BLAS product counts as threaded


def _calls_threaded_blas(jaxpr: Jaxpr) -> bool:
    """Whether `jaxpr` (or a sub-jaxpr) has a float product big enough for BLAS's threads."""
    for e in jaxpr.eqns:
        if e.primitive is P.dot_general_p and dtypes.is_float(e.outvars[0].aval.dtype):
            (lc, _), _ = e.params["dimension_numbers"]
            k = math.prod(e.invars[0].aval.shape[d] for d in lc)
            if math.prod(e.outvars[0].aval.shape) * k >= BLAS_THREADED_MNK:
                return True
        if e.primitive is P.conv_general_dilated_p:
            if rules_conv.chunk_product_size(e) >= BLAS_THREADED_MNK:
                return True
        if any(_calls_threaded_blas(sub) for sub in sub_jaxprs(e)):
            return True
    return False


# ------------------------------------------------------------------------------------------
# The whole jaxpr
# ------------------------------------------------------------------------------------------


class Lowered:
    """The C source of a jaxpr and its calling convention.

    The kernel is `int jl_kernel(void **jl_args)`, `jl_args` the addresses of the inputs, the
    consts and the outputs, in this order, all contiguous buffers (`CTYPE`).
    """

    def __init__(
        self,
        source,
        in_avals,
        out_avals,
        consts,
        runtime=False,
        openmp=False,
        host_calls=(),
        workspace_size=None,
    ):
        self.source = source
        self.in_avals = in_avals
        self.out_avals = out_avals
        self.consts = consts
        self.runtime = runtime  # calls the runtime library's products (csrc/jl_blas.h)
        self.openmp = openmp  # has `#pragma omp parallel` loops (compile with -fopenmp)
        # Python functions it calls: (their slot in `consts`, fn, in specs, out specs); runtime
        # fills the slots as it loads the kernel (host_callbacks.fill_slots).
        self.host_calls = tuple(host_calls)
        # Bytes of workspace the kernel needs (set when it takes it as its last argument:
        # `lower_jaxpr(..., workspace_arg=True)`, what jaxlite.export uses).
        self.workspace_size = workspace_size

    @property
    def ctype(self) -> str:
        return CTYPE_KERNEL

    @property
    def n_args(self) -> int:
        """The length of the kernel's `jl_args` array."""
        return len(self.in_avals) + len(self.consts) + len(self.out_avals)


SYMBOL = "jl_kernel"
ARGS = "jl_args"  # the kernel's one parameter: the array of the buffers' addresses
CTYPE_KERNEL = "int(*)(void **)"  # every kernel's type, as cffi calls it


def lower_jaxpr(
    jaxpr: Jaxpr, name: str = "f", outline: bool = True, *, workspace_arg: bool = False
) -> Lowered:
    """The C source of `jaxpr` (its constvars are leading inputs). `outline`: repeated groups
    of equations become C functions called once per copy (outline.py).

    `workspace_arg`: the kernel takes its workspace from the caller, as one more address after
    the outputs (`jl_args[n_args]`, `Lowered.workspace_size` bytes, 64-byte aligned), instead of
    keeping its own (for jaxlite.export: no malloc in the hot path)."""
    names = Names()
    ctx = KernelContext(names)
    threaded_blas = _calls_threaded_blas(jaxpr)
    ctx.parallel_min_work = PARALLEL_MIN_WORK_WITH_BLAS if threaded_blas else PARALLEL_MIN_WORK
    invars = list(jaxpr.constvars) + list(jaxpr.invars)
    env: dict[Var, Node] = {}
    params = []
    for v in invars:
        cname = f"in_{names.var(v)}"
        ctx.arg_index[cname] = len(params)
        params.append((f"const {CTYPE[v.aval.dtype]}", cname))
        leaf = Leaf(View.contiguous(cname, v.aval.shape), v.aval.dtype)
        env[v] = as_scalar(ctx, leaf)
    produced = {v for e in jaxpr.eqns for v in e.outvars}
    for k, v in enumerate(jaxpr.outvars):
        if type(v) is Var and v in produced and v not in ctx.out_dest:
            ctx.out_dest[v] = View.contiguous(f"out_{k}", v.aval.shape)
    whole = Jaxpr([], invars, jaxpr.outvars, jaxpr.eqns)
    if outline:
        ctx.blocks, ctx.blocks_jaxpr = find_blocks(whole), whole
    outs = ctx.lower_jaxpr(whole, [env[v] for v in invars])
    write_outputs(ctx, jaxpr.outvars, outs)
    for k, c in enumerate(ctx.consts):
        params.append((f"const {CTYPE[c.dtype]}", f"const_{k}"))
    for k, v in enumerate(jaxpr.outvars):
        params.append((CTYPE[v.aval.dtype], f"out_{k}"))
    signature = (
        f"({', '.join(f'{names.var(v)}:{v.aval.str_short()}' for v in invars)}) -> "
        f"({', '.join(names.var(v) if type(v) is Var else repr(v) for v in jaxpr.outvars)})"
    )
    if workspace_arg:
        params.append(("char", "jl_ws"))
    source = _assemble(name, signature, params, ctx, workspace_arg)
    in_avals = [v.aval for v in invars]
    outs = [v.aval for v in jaxpr.outvars]
    ws_size = plan_workspace(ctx)[1] if workspace_arg else None
    return Lowered(source, in_avals, outs, ctx.consts, ctx.runtime, ctx.openmp, ctx.host_calls,
                   ws_size)  # fmt: skip


def _assemble(
    name: str,
    signature: str,
    params: list[tuple[str, str]],
    ctx: KernelContext,
    workspace_arg: bool = False,
) -> str:
    safe = comment_text  # no user text may close the comment
    head = [
        f"/* jaxlite.jit kernel for `{safe(name)}`: {safe(signature)} */",
        '#include "jaxlite.h"',
        '#include "jl_math.h"',
        # NB: only where used: 366 lines every kernel would otherwise parse (compile time).
        *(['#include "jl_special.h"'] if _uses_special(ctx) else []),
        # complex (issue 21): only kernels with complex values parse <complex.h>
        *(['#include "jl_complex.h"'] if _uses_complex(params, ctx) else []),
        *(['#include "jl_fft.h"'] if _uses_fft(ctx) else []),
        *(['#include "jl_blas.h"'] if ctx.runtime else []),
        "",
        *ctx.toplevel,
        f"int {SYMBOL}(void **{ARGS}) {{",
    ]
    # NB: `restrict` locals initialized at the top of the function tell gcc what `restrict`
    # parameters would (no two buffers overlap), with one signature for every kernel. (A body
    # function taking them as parameters, called with the addresses, compiled 2x slower: 1,500
    # inputs and 1,200 outputs took 14 s of CPU against 6.5 s.)
    head += [f"  {t} *restrict {p} = ({t} *){ARGS}[{k}];" for k, (t, p) in enumerate(params)]
    if not params:
        head.append(f"  (void){ARGS};")
    # A kernel that calls Python returns 2 when the callback raised (`goto jl_exit`, after
    # which the workspace is freed).
    body = ["  int jl_status = 0;"] if ctx.host_calls else []
    if ctx.buffers:
        offsets, total = plan_workspace(ctx)
        if workspace_arg:  # the caller's, of `total` bytes
            body.append("  char *ws = jl_ws;")
        else:  # kept by the kernel's library for the next call (csrc/jaxlite.h, jl_ws_take)
            body.append(f"  char *ws = jl_ws_take({total});")
            body.append("  if (!ws) return 1;")
        for (bname, dt, _), off in safe_zip(ctx.buffers, offsets):
            body.append(f"  {CTYPE[dt]} *{bname} = ({CTYPE[dt]} *)(ws + {off});")
    tail = ["jl_exit:;"] if ctx.host_calls else []
    tail += [f"  jl_ws_give(ws, {total});"] if ctx.buffers and not workspace_arg else []
    ret = "  return jl_status;" if ctx.host_calls else "  return 0;"
    # An address the body never reads (an unused input, a workspace with no buffer) would be an
    # unused variable: a warning, an error under the export's -Werror.
    used = set(_IDENT.findall("\n".join((*body, *ctx.lines))))
    body += [f"  (void){p};" for _, p in params if p not in used]
    return "\n".join(head + body + ctx.lines + tail + [ret, "}", ""])


_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


# The functions of csrc/jl_special.h that rules_elementwise's special-function rules call.
_SPECIAL_CALLS = ("jl_lgamma_", "jl_digamma_", "jl_erfc_", "jl_bessel_i0e_", "jl_bessel_i1e_",
                  "jl_igamma", "jl_zeta_", "jl_betainc_")  # fmt: skip


def _uses_complex(params: list[tuple[str, str]], ctx: KernelContext) -> bool:
    if any(dt.kind == "c" for _, dt, _ in ctx.buffers):
        return True
    types = [t for t, _ in params]  # (C type, name) pairs since kernels take one address array
    return any("_Complex" in line for line in (*types, *ctx.toplevel, *ctx.lines))


def _uses_fft(ctx: KernelContext) -> bool:
    return any("jl_fft_" in line or "fft_rows_" in line for line in ctx.lines)


def _uses_special(ctx: KernelContext) -> bool:
    return any(c in line for line in (*ctx.toplevel, *ctx.lines) for c in _SPECIAL_CALLS)


def plan_workspace(ctx: KernelContext) -> tuple[list[int], int]:
    """Offsets of the workspace buffers of `ctx`, and the workspace size (planner.py)."""
    return plan(ctx.buffers, ctx.lifetimes)
