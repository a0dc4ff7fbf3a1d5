"""C lowering of the named-axis collectives (primitives/_collective.py).

A collective reaches a kernel only over a pmap axis (a vmap axis is batched away into ordinary
reductions, transposes and concatenations before lowering). There the kernel calls the
collective's implementation through a host call (rules_callback.py): one cffi callback, which
copies the operand out of the kernel's workspace, runs the communicator's operation (MPI's
`Allreduce`, `Allgather`, `Alltoall`, `Sendrecv` on NumPy buffers) and copies the result back.
The kernel stays one kernel: the collective runs inside it, between the C code before and after.
The host call passes views of the kernel's buffers, so MPI reads the operand where the kernel
wrote it and writes the result into the kernel's output (psum/pmax/pmin, all_gather along
axis 0); the other collectives copy their result once.
"""

from __future__ import annotations

from jaxlite.backend.lower_ctx import register_kernel
from jaxlite.backend.rules_callback import emit_host_call
from jaxlite.primitives._collective import (
    COLLECTIVE_PRIMITIVES,
    REDUCTIONS,
    comm_of,
    impl_into,
)


def _collective(ctx, eqn, args, **params):
    prim = eqn.primitive
    if prim in REDUCTIONS and len(params["axes"]) == 1:
        return emit_host_call(ctx, eqn, args, _reduction_host_fn(prim, params))

    def host_fn(ins, outs):
        impl_into(prim, ins, outs[0], params)

    host_fn.writes_outputs = True  # NB: MPI reads and writes the kernel's buffers (no copies)
    return emit_host_call(ctx, eqn, args, host_fn)


def _reduction_host_fn(prim, params):
    """psum/pmax/pmin over one axis: the kernel's operand and result buffers, as NumPy views,
    handed to the communicator's all-reduce (the path a data-parallel step's gradient sum
    takes; the trampoline skips the read-only flag: MPI only reads the operand)."""
    name, groups, op = params["axes"][0], params["axis_index_groups"], REDUCTIONS[prim]

    def host_fn(ins, outs):
        comm_of(name, prim.name, groups).allreduce(ins[0], op, out=outs[0], check=False)

    host_fn.writes_outputs = "unguarded"
    return host_fn


for _p in COLLECTIVE_PRIMITIVES:
    register_kernel(_p, _collective)
