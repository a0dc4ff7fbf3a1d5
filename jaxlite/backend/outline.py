"""Repeated groups of equations emitted once, as a C function called many times.

A deep network written as a Python loop over layers traces to the same few equations once per
layer, forward and backward. Inlined, gcc compiles each copy: compile time grows with the
number of layers. Here runs of equal structure are found in the jaxpr and each distinct one
becomes one `static` C function (`jl_fn<k>`), called once per copy: compile time follows the
program's distinct structure.

Finding the runs (`find_blocks`): each equation gets a signature (primitive, parameters, operand
and result shapes and dtypes; a literal's value left out); a block of `p` equations repeats when
the next `p` signatures are the same, checked in O(1) with prefix hashes, for the periods `p`
suggested by the next occurrences of the same signature (a layer starts again where its first
equation does). Blocks of the same signatures are then compared by *structure*: the wiring of
their operands (the block's inputs numbered in order of first use, its own values in order of
definition) and which of their values are read after the block (its outputs). Blocks of one
structure share a function; literal operands that differ between them (`x + 0.1 * i`) become
scalar parameters, those that are the same everywhere stay literals in the function's C.

The call (`Block.emit`): the block's array inputs are passed as contiguous buffers (a fused
value or strided view is written out first), rank-0 inputs by value, its outputs are buffers of
the caller's workspace (or the kernel's outputs), and the function's own intermediates live in a
scratch area of the caller's workspace (`ws`), one per function.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxlite import core
from jaxlite.backend.c_nodes import CTYPE, Leaf, Names, Scalar, View, c_literal, contiguous_strides
from jaxlite.backend.lower_ctx import KernelContext, as_scalar, write_outputs
from jaxlite.backend.planner import plan
from jaxlite.core import Jaxpr, JaxprEqn, Literal, Var
from jaxlite.jaxpr_util import has_effects, sub_jaxprs
from jaxlite.util import safe_zip

# Outlining starts at this many equations: below, everything is inlined as before (a small
# program compiles fast, and its loops fuse across what would be block boundaries).
MIN_EQNS = 200
MAX_PERIOD = 512  # the longest block looked for, in equations
MIN_COVER = 16  # equations a group of blocks must cover to get a function
CANDIDATES = 6  # the periods tried at each position: distances to the next occurrences
MAX_PARAMS = 120  # a block with more buffers is inlined (C's limits on a call's arguments)
PEEL = 2  # calls of a run emitted one by one, at most, before its loop
RUN_MIN = 4  # blocks of one group in a row from which their calls are one C loop
MAX_CYCLE = 16  # an argument cycling through at most this many buffers is read from a table

_MOD = (1 << 61) - 1
_BASE = 1_000_003


class Block:
    """`eqns[start:start + size]`, one copy of a group; `group` holds its function. `run`: the
    blocks of the same group that follow it without a gap (itself first), if it begins a run."""

    __slots__ = ("group", "inputs", "lits", "outputs", "run", "size", "start")

    def __init__(self, group, start, size, inputs, outputs, lits):
        self.group = group
        self.start = start
        self.size = size
        self.inputs = inputs  # the block's external operands (Vars), in order of first use
        self.outputs = outputs  # its values read after it (Vars)
        self.lits = lits  # its literal operands, in order
        self.run: list[Block] = [self]

    def emit_run(self, ctx, env: dict) -> int:
        """Emits this block and the rest of its run; returns how many equations that covers
        (0: nothing emitted, lower the block inline)."""
        if not self.emit(ctx, env):
            return 0
        rest, done = self.run[1:], self.size
        for _ in range(PEEL + 1):  # NB: the first calls of a run may read other buffers
            if len(rest) >= RUN_MIN and _emit_loop(ctx, env, rest):
                return done + self.size * len(rest)
            if not rest or not rest[0].emit(ctx, env):
                return done
            rest, done = rest[1:], done + self.size
        for b in rest:
            if not b.emit(ctx, env):
                break
            done += b.size
        return done

    def emit(self, ctx, env: dict) -> bool:
        """Emits the call into `ctx` and binds the outputs in `env`; False (nothing emitted):
        the block must be lowered inline."""
        # an output bound for a strided destination (a slice of a later concatenation, ...)
        # cannot be written through a plain address: inline then
        if any(not _dense(d) for v in self.outputs if (d := ctx.out_dest.get(v)) is not None):
            return False
        fn = self.group.function(ctx, self)
        if fn is None:
            return False
        # NB: every input is materialized before any is read: `_address` and `scalar` record
        # the read on the current line, which must be the call's own (a read recorded before a
        # later input's materialization ended that buffer's lifetime early, and the planner
        # gave the block's output the memory of its input: jit(vmap(bits)(split(k, n))) wrong).
        nodes = []
        for v in self.inputs:
            node = _read(ctx, env, v)
            if v.aval.shape != () and not (type(node) is Leaf and _dense(node.view)):
                node = ctx.materialize(node, ctx.names.var(v) + "_c", contiguous=True)
            nodes.append(node)
        args = [
            ctx.scalar(node) if v.aval.shape == () else _address(ctx, node.view)
            for v, node in safe_zip(self.inputs, nodes)
        ]
        bufs = [node.view.buf for v, node in safe_zip(self.inputs, nodes) if v.aval.shape != ()]
        args += [c_literal(self.lits[k].val, self.lits[k].aval.dtype) for k in self.group.varying]
        outs = []
        for v in self.outputs:
            dest = ctx.out_dest.pop(v, None)
            if dest is None:
                dest = ctx.alloc(ctx.names.var(v), v.aval.dtype, v.aval.shape)
            args.append(_address(ctx, dest))
            outs.append(Leaf(dest, v.aval.dtype))
        if fn.scratch is not None:
            args.append(fn.scratch)
            ctx.touch(fn.scratch)
        ctx.comment(f"equations {self.start}..{self.start + self.size - 1}: {fn.name}")
        # NB: the inputs are read by the call line itself: a buffer materialized for an earlier
        # input must stay live while the later ones are written (else the workspace planner
        # gives a later one the same memory).
        ctx.touch(*bufs, *(o.view.buf for o in outs))
        ctx.line(f"{fn.name}({', '.join(args)});")
        for v, node in safe_zip(self.outputs, outs):
            env[v] = as_scalar(ctx, node)
        return True


def _emit_loop(ctx, env, run: list[Block]) -> bool:
    """Blocks of one group, one after the other, as one C loop calling the function: each
    argument is the same in every call, or moves by a fixed step through one buffer (a chain of
    layers, their residuals), or cycles through a few buffers (the weights of `W[i % 4]`);
    outputs go to one buffer per output, a slice per call; varying literals come from a table.
    False (nothing emitted) when some argument follows no such pattern."""
    g = run[0].group
    fn = g._fn
    n = len(run)
    t = ctx.fresh("t")
    args: list[list[str]] = [[] for _ in run]
    pre: list[str] = []  # the tables, before the loop
    bufs: list[str] = []
    # NB: the outputs first: a block's inputs are often the outputs of the block before it.
    outs, bound = [], {}
    for j, v in enumerate(g.outputs):
        size = max(1, int(np.prod(v.aval.shape, dtype=np.int64)))
        buf = ctx.fresh(f"tmp_{ctx.names.var(run[0].outputs[j])}_run")  # allocated on success
        outs.append((buf, size))
        strides = _dense_strides(v.aval.shape)
        for k, b in enumerate(run):
            bound[b.outputs[j]] = as_scalar(ctx, Leaf(View(buf, v.aval.shape, strides, k * size),
                                                      v.aval.dtype))  # fmt: skip
    env = _Overlay(env, bound)
    # NB: the rank-0 inputs are read after every array input is materialized (as in
    # `Block.emit`): a read records its buffer as used on the current line only.
    texts = {}
    for j, v in enumerate(g.inputs):
        if v.aval.shape == ():
            continue
        where = []
        for b in run:
            node = _read(ctx, env, b.inputs[j])
            if not (type(node) is Leaf and _dense(node.view)):
                node = ctx.materialize(node, ctx.names.var(b.inputs[j]) + "_c", contiguous=True)
            where.append((node.view.buf, node.view.offset))
        texts[j] = _pattern(where, t, CTYPE[v.aval.dtype], pre, ctx)
        if texts[j] is None:
            return False
        bufs += sorted({w[0] for w in where})
    for j, v in enumerate(g.inputs):
        if v.aval.shape == ():
            scalars = {ctx.scalar(_read(ctx, env, b.inputs[j])) for b in run}
            if len(scalars) != 1:
                return False
            (texts[j],) = scalars
        for a in args:
            a.append(texts[j])
    for k in g.varying:
        dt = run[0].lits[k].aval.dtype
        name = ctx.fresh("jl_lit")
        values = ", ".join(c_literal(b.lits[k].val, dt) for b in run)
        pre.append(f"static const {CTYPE[dt]} {name}[{n}] = {{{values}}};")
        for a in args:
            a.append(f"{name}[{t}]")
    for (buf, size), v in safe_zip(outs, g.outputs):
        ctx.alloc("", v.aval.dtype, (n * size,), name=buf)
        bufs.append(buf)
        for a in args:
            a.append(f"{buf} + {t} * {size}")
    if fn.scratch is not None:
        bufs.append(fn.scratch)
        for a in args:
            a.append(fn.scratch)
    ctx.comment(f"equations {run[0].start}..{run[-1].start + run[-1].size - 1}: {fn.name} x {n}")
    for line in pre:
        ctx.line(line)
    with ctx.block(f"for (int64_t {t} = 0; {t} < {n}; {t}++)"):
        ctx.touch(*bufs)
        ctx.line(f"{fn.name}({', '.join(args[0])});")
    env.commit()
    return True


class _Overlay:
    """`env` seen with the values `bound` added; `commit` writes them into `env`."""

    def __init__(self, env: dict, bound: dict):
        self.env, self.bound = env, bound

    def __getitem__(self, v):
        hit = self.bound.get(v)
        return self.env[v] if hit is None else hit

    def commit(self) -> None:
        self.env.update(self.bound)


def _dense(view: View) -> bool:
    # NB: a dimension of size 1 may have any stride (View.contiguous gives it the next one's
    # product, a broadcast gives it 0): only the others must be row-major
    if view.dyn or view.buf is None:
        return False
    dense = [(n, s) for n, s in zip(view.shape, view.strides) if n != 1]
    return all(s == w for (_, s), w in zip(dense, contiguous_strides([n for n, _ in dense])))


def _dense_strides(shape) -> tuple[int, ...]:
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc if d != 1 else 0)
        acc *= d
    return tuple(reversed(out))


def _pattern(where, t: str, ctype: str, pre: list, ctx) -> str | None:
    """A C expression of the loop index `t` for the addresses `where` ((buffer, offset) per
    call), or None."""
    if len(set(where)) == 1:
        buf, off = where[0]
        return f"{buf} + {off}" if off else buf
    # affine but for the first call (a chain reads the run's input) and/or the last one (the
    # backward pass of a chain reads the first layer's residuals, made before the run)
    n = len(where)
    for lo, hi in ((0, n), (1, n), (0, n - 1), (1, n - 1)):
        mid = _affine(where[lo:hi], f"({t} - {lo})" if lo else t)
        if mid is None:
            continue
        if hi < n:
            buf, off = where[-1]
            mid = f"({t} == {n - 1} ? {buf} + {off} : {mid})"
        if lo:
            buf, off = where[0]
            mid = f"({t} ? {mid} : {buf} + {off})"
        return mid
    args = [ctx.arg_index.get(b) for b, o in where]
    if all(k is not None for k in args) and not any(o for _, o in where):
        step = args[1] - args[0]  # the kernel's own inputs, one after the other (distinct weights)
        if all(k == args[0] + i * step for i, k in enumerate(args)):
            return f"(const {ctype} *)jl_args[{args[0]} + {t} * ({step})]"
    for q in range(2, MAX_CYCLE + 1):
        if all(where[k] == where[k % q] for k in range(len(where))):
            name = ctx.fresh("jl_tab")
            items = ", ".join(f"{b} + {o}" if o else b for b, o in where[:q])
            pre.append(f"const {ctype} *const {name}[{q}] = {{{items}}};")
            return f"{name}[{t} % {q}]"
    return None


def _affine(where, t: str) -> str | None:
    """`buf + off + t * step` if the addresses `where` are that, else None."""
    if len(where) < 2 or len({w[0] for w in where}) != 1:
        return None
    step = where[1][1] - where[0][1]
    if all(w[1] == where[0][1] + k * step for k, w in enumerate(where)):
        return f"{where[0][0]} + ({where[0][1]} + {t} * ({step}))"
    return None


def _read(ctx, env, v):
    if type(v) is Literal:
        return Scalar(c_literal(v.val, v.aval.dtype), v.aval.dtype)
    return ctx.resolved(env[v])


def _address(ctx, view: View) -> str:
    assert _dense(view), view
    ctx.touch(view.buf)
    return f"{view.buf} + {view.offset}" if view.offset else view.buf


class _Function:
    __slots__ = ("name", "scratch")

    def __init__(self, name: str, scratch: str | None):
        self.name = name
        self.scratch = scratch  # the caller's workspace buffer the function works in, or None


class Group:
    """Blocks of one structure and their C function (lowered at the first call)."""

    def __init__(self, blocks_eqns: list[JaxprEqn], inputs, outputs):
        self.eqns = blocks_eqns  # the first block's equations: the function's body
        self.inputs = inputs
        self.outputs = outputs
        self.blocks: list[Block] = []
        self.varying: list[int] = []  # indices of the literals passed as parameters
        self._fn: _Function | None | bool = False  # False: not lowered yet; None: failed

    def finish(self) -> None:
        first = self.blocks[0].lits
        self.varying = [
            k
            for k, lit in enumerate(first)
            if any(not _same_literal(b.lits[k], lit) for b in self.blocks[1:])
        ]

    def function(self, ctx, block: Block) -> _Function | None:
        if self._fn is False:
            self._fn = _lower_function(ctx, self)
        return self._fn


def _same_literal(a: Literal, b: Literal) -> bool:
    va, vb = np.asarray(a.val), np.asarray(b.val)
    return va.dtype == vb.dtype and va.tobytes() == vb.tobytes()


def _lower_function(ctx, group: Group) -> _Function | None:
    """The group's C function, added to `ctx.toplevel`; None if its body cannot be outlined
    (it calls Python, or needs constants of its own)."""
    eqns = group.eqns
    varying = {}  # (eqn index, operand index) -> the scalar parameter replacing the literal
    k = 0
    lit_vars = []
    for i, e in enumerate(eqns):
        for j, a in enumerate(e.invars):
            if type(a) is Literal:
                if k in group.varying:
                    v = Var(core.ShapedArray((), a.aval.dtype, a.aval.weak_type))
                    varying[(i, j)] = v
                    lit_vars.append(v)
                k += 1
    body = [
        JaxprEqn(e.primitive, [varying.get((i, j), a) for j, a in enumerate(e.invars)],
                 e.outvars, e.params)
        for i, e in enumerate(eqns)
    ]  # fmt: skip
    invars = list(group.inputs) + lit_vars
    sub = KernelContext(Names(), ctx.fuse)
    sub._counter = ctx._counter
    sub.parallel_min_work = ctx.parallel_min_work
    params, nodes = [], []
    for n, v in enumerate(invars):
        t = CTYPE[v.aval.dtype]
        if v.aval.shape == ():
            params.append(f"const {t} s{n}")
            nodes.append(Scalar(f"s{n}", v.aval.dtype))
        else:
            params.append(f"const {t} *restrict a{n}")
            nodes.append(Leaf(View.contiguous(f"a{n}", v.aval.shape), v.aval.dtype))
    for n, v in enumerate(group.outputs):
        params.append(f"{CTYPE[v.aval.dtype]} *restrict out_{n}")
        sub.out_dest[v] = View.contiguous(f"out_{n}", v.aval.shape)
    outs = sub.lower_jaxpr(Jaxpr([], invars, group.outputs, body), nodes)
    write_outputs(sub, group.outputs, outs)
    ctx._counter = sub._counter
    if sub.consts or sub.host_calls:
        return None
    ctx.runtime = ctx.runtime or sub.runtime
    ctx.openmp = ctx.openmp or sub.openmp
    ctx.toplevel.extend(sub.toplevel)
    name = f"jl_fn{ctx.fresh('')}"
    decls, scratch = [], None
    if sub.buffers:
        offsets, total = plan(sub.buffers, sub.lifetimes)
        params.append("char *restrict ws")
        for (bname, dt, _), off in safe_zip(sub.buffers, offsets):
            decls.append(f"  {CTYPE[dt]} *{bname} = ({CTYPE[dt]} *)(ws + {off});")
        scratch = ctx.alloc(f"ws_{name}", np.dtype(np.uint8), (total,)).buf
    ctx.toplevel += [
        f"static __attribute__((noinline)) void {name}({', '.join(params)}) {{",
        *decls,
        *sub.lines,
        "}",
        "",
    ]
    return _Function(name, scratch)


# ------------------------------------------------------------------------------------------
# Finding the blocks
# ------------------------------------------------------------------------------------------


def _eqn_signature(e: JaxprEqn):
    if has_effects(e) or any(True for _ in sub_jaxprs(e)):
        return None  # never outlined: callbacks, and bodies that may hold constants
    items = tuple(sorted(e.params.items()))
    try:
        hash(items)
    except TypeError:
        return None
    ins = tuple(
        ("l", a.aval.dtype, a.aval.shape) if type(a) is Literal else (a.aval.dtype, a.aval.shape)
        for a in e.invars
    )
    outs = tuple((v.aval.dtype, v.aval.shape) for v in e.outvars)
    return (e.primitive, items, ins, outs)


def find_blocks(jaxpr: Jaxpr) -> dict[int, Block]:
    """The blocks to outline in `jaxpr` (top level), by the position of their first equation."""
    eqns = jaxpr.eqns
    n = len(eqns)
    if n < MIN_EQNS:
        return {}
    ids: dict = {}
    sig = []
    for k, e in enumerate(eqns):
        s = _eqn_signature(e)
        sig.append(-1 - k if s is None else ids.setdefault(s, len(ids)))
    # prefix hashes of the signature sequence: window [i, i+p) in O(1)
    h = [0] * (n + 1)
    pw = [1] * (n + 1)
    for k in range(n):
        h[k + 1] = (h[k] * _BASE + sig[k] % _MOD + 1) % _MOD
        pw[k + 1] = pw[k] * _BASE % _MOD

    def window(i, p):
        return (h[i + p] - h[i] * pw[p]) % _MOD

    nxt = [-1] * n
    seen: dict[int, int] = {}
    for k in range(n - 1, -1, -1):
        nxt[k] = seen.get(sig[k], -1)
        seen[sig[k]] = k
    runs = []  # (start, period, repeats)
    i = 0
    while i < n:
        best = (0, 0, 0)  # (cover, period, repeats)
        j = nxt[i] if sig[i] >= 0 else -1
        for _ in range(CANDIDATES):
            if j < 0 or j - i > MAX_PERIOD:
                break
            p = j - i
            w = window(i, p)
            reps = 1
            while i + (reps + 1) * p <= n and window(i + reps * p, p) == w:
                reps += 1
            if reps >= 2 and reps * p > best[0]:
                best = (reps * p, p, reps)
            j = nxt[j]
        if best[0]:
            runs.append((i, best[1], best[2]))
            i += best[0]
        else:
            i += 1
    if not runs:
        return {}
    return _group_blocks(jaxpr, runs, sig)


def _group_blocks(jaxpr: Jaxpr, runs, sig: list[int]) -> dict[int, Block]:
    eqns = jaxpr.eqns
    last_use: dict[Var, int] = {}
    for k, e in enumerate(eqns):
        for a in e.invars:
            if type(a) is Var:
                last_use[a] = k
    for v in jaxpr.outvars:
        if type(v) is Var:
            last_use[v] = len(eqns)
    groups: dict[tuple, Group] = {}
    blocks: dict[int, Block] = {}
    for start, p, reps in runs:
        for r in range(reps):
            s = start + r * p
            key, inputs, outputs, lits = _structure(eqns, s, s + p, sig, last_use)
            if key is None:
                continue
            g = groups.get(key)
            if g is None:
                g = groups[key] = Group(eqns[s : s + p], inputs, outputs)
            b = Block(g, s, p, inputs, outputs, lits)
            g.blocks.append(b)
    for g in groups.values():
        if len(g.blocks) < 2 or len(g.blocks) * len(g.eqns) < MIN_COVER:
            continue
        g.finish()
        if len(g.inputs) + len(g.varying) + len(g.outputs) + 1 > MAX_PARAMS:
            continue
        for b in g.blocks:
            blocks[b.start] = b
    head = None
    for start in sorted(blocks):
        b = blocks[start]
        if head is not None and b.group is head.group and head.run[-1].start + b.size == start:
            head.run.append(b)
        else:
            head = b
    return blocks


def _structure(eqns: Sequence[JaxprEqn], start: int, end: int, sig: list[int], last_use: dict):
    """(structure key, inputs, outputs, literals) of the block `eqns[start:end]` (`sig`: the
    equations' signatures, as numbers)."""
    local: dict[Var, int] = {}
    inputs: dict[Var, int] = {}
    lits = []
    key = []
    for k in range(start, end):
        e = eqns[k]
        refs = []
        for a in e.invars:
            if type(a) is Literal:
                refs.append(("l", a.aval.dtype))
                lits.append(a)
            elif a in local:
                refs.append(("v", local[a]))
            else:
                refs.append(("i", inputs.setdefault(a, len(inputs))))
        key.append((sig[k], tuple(refs)))
        for v in e.outvars:
            local[v] = len(local)
    outputs = [v for v in local if type(v) is not core.DropVar and last_use.get(v, -1) >= end]
    if not outputs:
        return None, None, None, None
    key.append(tuple(local[v] for v in outputs))
    key.append(tuple((v.aval.dtype, v.aval.shape) for v in inputs))
    return tuple(key), list(inputs), outputs, lits
