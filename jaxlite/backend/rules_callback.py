"""C lowering of the host callbacks: the kernel calls the Python function through the
trampoline of host_callbacks.py, with pointers to its operands and results."""

from __future__ import annotations

import numpy as np

from jaxlite.backend import host_callbacks
from jaxlite.backend.c_nodes import CTYPE, Leaf, Scalar
from jaxlite.backend.lower_ctx import register_kernel
from jaxlite.primitives._callback import CALLBACK_PRIMITIVES


def _host_callback(ctx, eqn, args, **params):
    impl = eqn.primitive.impl.numpy_impl
    in_specs = [(v.aval.shape, v.aval.dtype) for v in eqn.invars]
    out_specs = [(v.aval.shape, v.aval.dtype) for v in eqn.outvars]
    key = host_callbacks.register(lambda *a: impl(*a, **params), in_specs, out_specs)
    fn = ctx.const_input(np.array([host_callbacks.ADDRESS, key], np.uint64))
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
        f"if ((({host_callbacks.C_TYPE})(uintptr_t){fn.buf}[0])((int64_t){fn.buf}[1], "
        f"{ins_c}, {outs_c})) {{ jl_status = 2; goto jl_exit; }}"
    )
    ctx.host_callbacks = True
    return [Leaf(o, v.aval.dtype) for o, v in zip(outs, eqn.outvars)]


for _p in CALLBACK_PRIMITIVES:
    register_kernel(_p, _host_callback)
