"""C lowering of the host callbacks: the kernel calls the Python function through the
trampoline of host_callbacks.py, with pointers to its operands and results.

The trampoline's address and the function's key are not known to the lowering (nor part of the
C text, so the compiled kernel is cached across processes): they are read from a constant
array, a slot that `runtime.Executable` fills when it loads the kernel (`Lowered.host_calls`).
"""

from __future__ import annotations

import numpy as np

from jaxlite.backend.c_nodes import CTYPE, Leaf, Scalar
from jaxlite.backend.lower_ctx import register_kernel
from jaxlite.primitives._callback import CALLBACK_PRIMITIVES


def _host_callback(ctx, eqn, args, **params):
    impl = eqn.primitive.impl.numpy_impl
    return emit_host_call(ctx, eqn, args, lambda *a: impl(*a, **params))


def emit_host_call(ctx, eqn, args, host_fn):
    """Emits a call of the Python function `host_fn` (NumPy operands of `eqn` -> a list of its
    results) from the kernel; returns the results' leaves."""
    in_specs = [(v.aval.shape, v.aval.dtype) for v in eqn.invars]
    out_specs = [(v.aval.shape, v.aval.dtype) for v in eqn.outvars]
    fn = ctx.const_input(np.zeros(2, np.uint64))  # [trampoline, key], filled by runtime
    ctx.host_calls.append((ctx.consts[-1], host_fn, in_specs, out_specs))
    ptrs, bufs = [], [fn.buf]
    for node in args:
        if type(node) is Scalar:
            local = ctx.fresh("cb_arg")
            ctx.line(f"{CTYPE[node.dtype]} {local} = {ctx.scalar(node)};")
            ptrs.append(f"&{local}")
        else:
            leaf = ctx.materialize(node, "cb_in", contiguous=True)
            ptrs.append(f"(void *){leaf.view.buf}")
            bufs.append(leaf.view.buf)
    outs = [ctx.new_output(eqn, i) for i in range(len(eqn.outvars))]
    bufs += [o.buf for o in outs]
    ins_c, outs_c = ctx.fresh("cb_ins"), ctx.fresh("cb_outs")
    ctx.touch(*bufs)
    ctx.line(f"void *{ins_c}[] = {{{', '.join(ptrs) or 'NULL'}}};")
    ctx.touch(*bufs)
    ctx.line(f"void *{outs_c}[] = {{{', '.join(o.buf for o in outs) or 'NULL'}}};")
    ctx.touch(*bufs)
    ctx.line(
        f"if (((int (*)(int64_t, void **, void **))(uintptr_t){fn.buf}[0])((int64_t){fn.buf}[1], "
        f"{ins_c}, {outs_c})) {{ jl_status = 2; goto jl_exit; }}"
    )
    return [Leaf(o, v.aval.dtype) for o, v in zip(outs, eqn.outvars)]


for _p in CALLBACK_PRIMITIVES:
    register_kernel(_p, _host_callback)
