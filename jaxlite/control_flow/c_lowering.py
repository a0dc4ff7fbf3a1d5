"""Shared pieces of the C lowering of control flow (registered into `jaxlite.backend.lower` by
cond.py, scan.py and while_loop.py): loop-carried values and slices along a loop's axis. Bodies
are lowered inline with the backend's own `lower_jaxpr`, so a loop's C does not grow with its
trip count and the backend's fusion applies inside loop bodies.
"""

from __future__ import annotations

from collections.abc import Sequence

from jaxlite.backend import lower
from jaxlite.backend.lower import CTYPE, Leaf, Op, Scalar, View
from jaxlite.core import Var


def as_atom_node(ctx, node):
    """A rank-0 node as a `Scalar` (what lowering rules expect of rank-0 values)."""
    return lower.as_scalar(ctx, node)


def materialize_ops(ctx, nodes: Sequence, hint: str) -> list:
    """Fused values computed now, before a loop or a branch, into buffers (rank 0: locals).

    NB: the backend materializes a fused value at most once and later readers reuse its buffer;
    were that first done inside a branch or a loop that does not run, readers after it would
    read a buffer that was never written. Values read on every iteration are also cheaper so.
    """
    out = []
    for n in nodes:
        if n.shape == ():
            n = as_atom_node(ctx, n)
        elif type(n) is Op:
            n = ctx.materialize(n, hint)
        out.append(n)
    return out


def index_leading(node, t: str):
    """`node[t]`: element `t` (a C expression) along the leading axis, as a view (no copy)."""

    def take(v: View) -> View:
        step = lower.scaled(t, v.strides[0]) if v.strides[0] else ""
        dyn = " + ".join(s for s in (v.dyn, step) if s).replace("+ -", "- ")
        return View(v.buf, v.shape[1:], v.strides[1:], v.offset, dyn)

    return lower.map_views(node, take)


def write_value(ctx, node, dest: View) -> None:
    """`dest[...] = node` (a rank-0 node is broadcast when `dest` has a shape)."""
    if node.shape != dest.shape:
        node = lower.broadcast_to(lower.as_scalar(ctx, node), dest.shape)
    ctx.write(node, dest)


class LoopCarry:
    """Values carried from one iteration of a C loop to the next.

    Rank-0 carries are C locals; arrays live in two workspace buffers, `cur` and `nxt`, swapped
    at the end of each iteration, so a body may read the old carry while writing the new one.

    NB: `cur` and `nxt` are declared to the backend as aliases of both buffers, so that the
    workspace planner keeps both alive wherever either pointer is used.
    """

    def __init__(self, ctx, inits: Sequence, hint: str):
        self.ctx = ctx
        self.slots = []  # (dtype, shape, local name | (cur, nxt, buffer a, buffer b))
        self.placed: dict = {}  # slots some update placed (`update`)
        for init in inits:
            dt, shape = init.dtype, init.shape
            if shape == ():
                name = ctx.fresh(f"{hint}_")
                ctx.line(f"{CTYPE[dt]} {name} = {ctx.scalar(init)};")
                self.slots.append((dt, shape, name))
                continue
            a, b = ctx.alloc(f"{hint}_a", dt, shape), ctx.alloc(f"{hint}_b", dt, shape)
            ctx.write(init, a)
            cur, nxt = ctx.fresh(f"{hint}_cur"), ctx.fresh(f"{hint}_nxt")
            ctx.alias(cur, (a.buf, b.buf))
            ctx.alias(nxt, (a.buf, b.buf))
            ctx.touch(cur)
            ctx.line(f"{CTYPE[dt]} *{cur} = {a.buf}, *{nxt} = {b.buf};")
            self.slots.append((dt, shape, (cur, nxt, a.buf, b.buf)))

    def nodes(self) -> list:
        """The current values, as nodes (inside the loop)."""
        return [
            Scalar(ref, dt) if shape == () else Leaf(View.contiguous(ref[0], shape), dt)
            for dt, shape, ref in self.slots
        ]

    def direct_outputs(self, outvars: Sequence, invars: set, placed: dict) -> dict:
        """{body output variable: the spare buffer of its carry slot}, for `ctx.out_dest`: the
        equation computing a new array carry writes it there (`update` then copies nothing).
        Not for literals, the body's inputs, slots in `placed`, or a variable that several
        slots carry (the first takes it)."""
        out: dict = {}
        for s, (v, (_dt, shape, ref)) in enumerate(zip(outvars, self.slots)):
            if s in placed or not shape or type(v) is not Var or v in invars or v in out:
                continue
            out[v] = View.contiguous(ref[1], shape)
        return out

    def update(self, new: Sequence, placed: dict | None = None) -> None:
        """Makes `new` the carried values: new scalars are read into temporaries and arrays
        written into the spare buffers before anything is overwritten (a body may swap
        carries). `placed`: slot -> a C pointer where that slot's new value is already stored,
        contiguous, and stays unchanged until the loop ends (a scan's `ys` row of the step: an
        RNN's new state, returned as carry and as output); the slot's `cur` then points there,
        with no copy. NB: the slot's value after the loop is then at `cur` (`final`)."""
        ctx = self.ctx
        placed = placed or {}
        self.placed.update(placed)
        temps = []
        for s, ((dt, shape, ref), node) in enumerate(zip(self.slots, new)):
            if s in placed:
                continue
            if shape == ():
                tmp = ctx.fresh("next_")
                ctx.line(f"const {CTYPE[dt]} {tmp} = {ctx.scalar(node)};")
                temps.append((ref, tmp))
            elif not _is_whole(node, ref[1]):  # (else computed there: `direct_outputs`)
                write_value(ctx, node, View.contiguous(ref[1], shape))
        for ref, tmp in temps:
            ctx.line(f"{ref} = {tmp};")
        for s, (_dt, shape, ref) in enumerate(self.slots):
            if s in placed:
                cur = ref[0]
                ctx.touch(cur)
                ctx.line(f"{cur} = {placed[s]};")
            elif shape != ():
                cur, nxt, a, b = ref
                ctx.touch(cur)
                ctx.line(f"{cur} = {nxt}; {nxt} = {cur} == {a} ? {b} : {a};")

    def final(self, trips: int | None) -> list:
        """The values after the loop. With a static trip count the buffer holding each array is
        known (they alternate); otherwise it is copied out of whichever holds it."""
        ctx, out = self.ctx, []
        for dt, shape, ref in self.slots:
            if shape == ():
                out.append(Scalar(ref, dt))
            elif trips is not None and not self.placed:
                out.append(Leaf(View.contiguous(ref[2] if trips % 2 == 0 else ref[3], shape), dt))
            else:
                dest = ctx.alloc("carry_out", dt, shape)
                ctx.write(Leaf(View.contiguous(ref[0], shape), dt), dest)  # cur: the last value
                out.append(Leaf(dest, dt))
        return out


def _is_whole(node, buf: str) -> bool:
    """Whether `node` is the whole contiguous buffer `buf`, from its start."""
    return (type(node) is Leaf and node.view.buf == buf and node.view.is_contiguous()
            and node.view.index(["0"] * len(node.shape)) == "0")  # fmt: skip
