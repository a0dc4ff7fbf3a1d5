"""The kernel context lowering rules emit into (lines of C, loops, workspace buffers, and where
each buffer is used, for the planner), the rule tables and their registration, and the lowering
of one equation: elementwise values fused into their readers' loops, layout changes as views.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import contextmanager

import numpy as np

from jaxlite import core
from jaxlite.backend.c_nodes import (
    CTYPE,
    Leaf,
    Names,
    Node,
    Op,
    Scalar,
    View,
    c_literal,
    coalesce,
    comment_text,
    leaves,
    map_views,
    reshape_view,
)
from jaxlite.backend.planner import Lifetimes
from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var
from jaxlite.jaxpr_util import call_info, live_eqns, use_counts
from jaxlite.util import safe_zip

# OpenMP threads pay off above this much work (elements x cost units; a copy or an add costs 1,
# a libm-class function 11), by measurement on this 2-core EPYC (`benchmarks/bench_jit.py --only
# threshold`, threads spinning briefly between loops: GOMP_SPINCOUNT=10000, see compile.py):
# 2 threads won from 2^16-2^18 elements of x*2+1 (1.0x-1.8x) and 2^14-2^16 of tanh (1.1x-1.6x).
PARALLEL_MIN_WORK = 1 << 18

# A parallel loop is shared in about DYNAMIC_CHUNKS chunks that threads claim as they come
# (`schedule(dynamic)`): a worker the scheduler runs late finds the calling thread has taken its
# part (with a static split the caller would wait for the worker's half). Loops with an OpenMP
# reduction clause keep the static split: their partial results would otherwise depend on which
# thread took which chunk.
DYNAMIC_CHUNKS = 32


def _dynamic_chunk(n: int, vector: bool) -> int:
    """Iterations per chunk of a parallel loop of `n` (whole vectors of 16 when `vector`)."""
    c = -(-n // DYNAMIC_CHUNKS)
    return -(-c // 16) * 16 if vector and n >= 16 * DYNAMIC_CHUNKS else c


# ------------------------------------------------------------------------------------------
# The kernel context: buffers, loops and lines
# ------------------------------------------------------------------------------------------


class KernelContext:
    """What lowering rules emit into: lines of C, buffers, loop nests and the jaxpr environment.

    NB: the workspace planner knows which line uses which buffer only from what is recorded as
    the line is emitted: `read`, `write`, `at` and `alloc` record their buffers; a rule that
    names a buffer in C any other way (a pointer passed to a call) calls `touch` for that line,
    and a C pointer into several buffers is declared with `alias`.
    """

    def __init__(self, names: Names, fuse: bool = True):
        self.names = names
        self.fuse = fuse  # False: every equation gets its own loop nest (for debugging)
        self.uses: dict[Var, int] = {}  # how many equations (and outputs) read each variable
        self.buffer_read: set[Var] = set()  # variables a BUFFER_OPERANDS equation reads
        self._materialized: dict[int, tuple[Node, Leaf]] = {}  # id(node) -> (node, its buffer)
        self.lines: list[str] = []
        self.toplevel: list[str] = []  # file-scope definitions (sort comparators)
        self.indent = 1
        self.buffers: list[tuple[str, np.dtype, int]] = []  # workspace: (name, dtype, size)
        self._buffer_names: set[str] = set()
        self.consts: list[np.ndarray] = []  # arrays passed as extra inputs
        self._const_nodes: dict[int, tuple] = {}  # id(constant) -> (constant, its Leaf)
        self.out_dest: dict[Var, View] = {}
        self._counter = 0
        self._in_scope: set[str] = set()
        self.declared: set[str] = set()  # names of the fused values' locals
        self.runtime = False  # whether the kernel calls the runtime library (csrc/jl_blas.h)
        self.openmp = False  # whether it has `#pragma omp parallel` loops
        # Python functions the kernel calls: (const slot, fn, in specs, out specs); such a
        # kernel may exit early (status 2: a callback raised). See rules_callback.py.
        self.host_calls: list[tuple] = []
        self.parallel_min_work = PARALLEL_MIN_WORK  # see `parallel`
        self.lifetimes = Lifetimes()  # which lines touch which buffer, and the loops (planner.py)
        # Blocks of `blocks_jaxpr`'s equations lowered as calls of a C function, by the position
        # of their first equation (outline.py)
        self.blocks: dict = {}
        self.arg_index: dict[str, int] = {}  # the kernel's input pointers: name -> jl_args index
        self.blocks_jaxpr: Jaxpr | None = None

    # --- emission -----------------------------------------------------------------------------
    def line(self, text: str) -> None:
        self.lines.append("  " * self.indent + text)

    def comment(self, text: str) -> None:
        self.line("/* " + comment_text(text, "\n" + "  " * self.indent + "   ") + " */")

    @contextmanager
    def block(self, header: str):
        start = len(self.lines)
        self.line(header + " {")
        self.indent += 1
        try:
            yield
        finally:
            self.indent -= 1
            self.line("}")
            if header.lstrip().startswith(("for", "while", "do")):
                self.lifetimes.loop(start, len(self.lines) - 1)

    def touch(self, *bufs: str | None) -> None:
        """Records that the next line of C reads or writes the buffers `bufs` (names, or
        pointers declared with `alias`). `read`, `write`, `at` and `alloc` record their own."""
        self.lifetimes.touch(bufs, len(self.lines))

    def alias(self, pointer: str, bufs: Sequence[str]) -> None:
        """Declares the C pointer `pointer`, which may point into any of `bufs`: a View of it
        touches all of them."""
        self.lifetimes.alias(pointer, bufs)

    def at(self, view: View, idx: Sequence[str]) -> str:
        """The C lvalue of `view`'s element at `idx`, for the next line of C."""
        self.touch(view.buf)
        return f"{view.buf}[{view.index(idx)}]"

    def fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    @contextmanager
    def loops(self, shape, prefix: str = "i", reverse=(), parallel=False, simd=False, reduction=""):
        """Nested `for` loops over `shape` (the dimensions in `reverse` run backwards); yields the
        index variables. `parallel`: the outermost loop is shared among OpenMP threads; `simd`:
        the innermost loop's iterations are independent (vectorize it); `reduction`: an OpenMP
        reduction clause for both, e.g. "+:acc"."""
        names = []
        start = len(self.lines)
        red = f" reduction({reduction})" if reduction else ""
        region = self._par_open() if parallel and shape else None
        for d, n in enumerate(shape):
            k = 0
            while f"{prefix}{k}" in self._in_scope:
                k += 1
            name = f"{prefix}{k}"
            self._in_scope.add(name)
            names.append(name)
            inner = d == len(shape) - 1
            if d == 0 and region:
                vec = inner and simd
                sched = "" if reduction else f" schedule(dynamic, {_dynamic_chunk(n, vec)})"
                self.line(f"#pragma omp for{' simd' if vec else ''}{red}{sched} nowait")
            elif inner and simd:
                self.line(f"#pragma omp simd{red}")
            if d in reverse:
                self.line(f"for (int64_t {name} = {n - 1}; {name} >= 0; {name}--) {{")
            else:
                self.line(f"for (int64_t {name} = 0; {name} < {n}; {name}++) {{")
            self.indent += 1
        try:
            yield names
        finally:
            for name in names:
                self.indent -= 1
                self.line("}")
                self._in_scope.discard(name)
            if region:
                self._par_close(region)
            if names:
                self.lifetimes.loop(start, len(self.lines) - 1)

    def _par_open(self) -> str:
        """Opens a parallel region whose thread count csrc/jl_threads.h decides (every thread or
        the calling thread alone, whichever this site's regions ran faster on of late): the loop
        that follows is its `omp for ... nowait`. NB: a site's work is the same at every call
        (static shapes): its regions are timed as 1 unit each."""
        self.openmp = True
        r = self.fresh("jl_pr")
        self.toplevel.append(f"static jl_par_state {r}_s;")
        self.line(f"{{ jl_par_region {r}; jl_par_begin(&{r}_s, &{r}, 1);")
        self.line(f"#pragma omp parallel num_threads({r}.nt)")
        self.line("{")
        return r

    def _par_close(self, r: str) -> None:
        self.line("}")
        self.line(f"jl_par_end(&{r}_s, &{r}); }}")

    def parallel(self, work: int) -> bool:
        """Whether a loop nest of `work` (elements x cost) is worth sharing among threads."""
        return work >= self.parallel_min_work

    # --- buffers ------------------------------------------------------------------------------
    def alloc(self, hint: str, dtype: np.dtype, shape, name: str = "") -> View:
        """A fresh contiguous buffer in the workspace (`name`: a name from `fresh`, else one
        made from `hint`)."""
        name = name or f"tmp_{hint}"
        while name in self._buffer_names:
            name = f"tmp_{hint}_{self.fresh('')}"
        self._buffer_names.add(name)
        self.buffers.append((name, dtype, max(math.prod(shape), 1)))
        self.touch(name)
        return View.contiguous(name, shape)

    def new_output(self, eqn: JaxprEqn, i: int = 0) -> View:
        """Where result `i` of `eqn` goes: the caller's output buffer if the jaxpr returns it."""
        v = eqn.outvars[i]
        dest = self.out_dest.pop(v, None)
        if dest is not None:
            return dest
        name = self.names.var(v) if type(v) is not core.DropVar else "drop"
        return self.alloc(name, v.aval.dtype, v.aval.shape)

    def const_input(self, value: np.ndarray) -> View:
        """A constant array passed to the kernel as an extra input."""
        value = np.ascontiguousarray(value)
        self.consts.append(value)
        return View.contiguous(f"const_{len(self.consts) - 1}", value.shape)

    # --- reading and writing ------------------------------------------------------------------
    def read(self, node: Node, idx: Sequence[str], memo: dict | None = None) -> str:
        """A C atom for `node`'s element at `idx`; Op values become `const` locals (once each)."""
        if type(node) is Scalar:
            self.touch(node.buf)
            return node.text
        if type(node) is Leaf:
            self.touch(node.view.buf)
            return node.view.read(idx, node.dtype)
        memo = {} if memo is None else memo
        key = (id(node), tuple(idx))
        if key not in memo:
            args = [self.read(a, idx, memo) for a in node.args]
            name = f"v_{node.name}"
            if name in self.declared:
                name = self.fresh(f"v_{node.name}_")
            self.declared.add(name)
            dt = node.args[0].dtype if node.args else node.dtype
            self.line(f"const {CTYPE[node.dtype]} {name} = {node.rule(dt, *args, **node.params)};")
            memo[key] = name
        return memo[key]

    def write(self, node: Node, dest: View) -> None:
        """One loop nest: dest[idx] = node[idx] for every index of `dest`."""
        self.write_many([(node, dest)])

    def write_many(self, pairs: list[tuple[Node, View]]) -> None:
        """One loop nest writing several values of the same shape (shared parts computed once)."""
        shape = pairs[0][1].shape
        if math.prod(shape) == 0:
            return
        views = [lf.view for node, _ in pairs for lf in leaves(node)] + [d for _, d in pairs]
        cshape = coalesce(shape, [v.strides for v in views])
        if cshape != shape:
            pairs = [(self.reshape(n, cshape), reshape_view(d, cshape)) for n, d in pairs]
        work = math.prod(cshape) * max(1, sum(getattr(n, "cost", 0) for n, _ in pairs))
        with self.loops(cshape, parallel=self.parallel(work), simd=True) as idx:
            memo: dict = {}
            for node, dest in pairs:
                value = self.read(node, idx, memo)
                self.line(f"{self.at(dest, idx)} = {value};")

    def reshape(self, node: Node, shape) -> Node:
        res = map_views(node, lambda v: reshape_view(v, shape))
        assert res is not None, "coalesced dimensions always reshape without a copy"
        return res

    def materialize(self, node: Node, hint: str = "m", contiguous: bool = False) -> Leaf:
        """`node` as a Leaf over a buffer: itself if it already is one (and is contiguous, when
        asked), else a copy, made once: later readers of the same node read the buffer."""
        if (
            type(node) is Leaf
            and node.view.buf is not None
            and (not contiguous or node.view.is_contiguous())
        ):
            return node
        done = self._materialized.get(id(node))
        if done is not None:
            return done[1]
        dest = self.alloc(hint, node.dtype, node.shape)
        self.write(node, dest)
        leaf = Leaf(dest, node.dtype)
        self._materialized[id(node)] = (node, leaf)
        return leaf

    def remember(self, node: Node, leaf: Leaf) -> Leaf:
        """Records that `node` was written to `leaf` (a buffer in any layout): `materialize` and
        `resolved` give `leaf` from now on."""
        self._materialized[id(node)] = (node, leaf)
        return leaf

    def resolved(self, node: Node) -> Node:
        """The buffer `node` was materialized into, if it was; else `node`."""
        done = self._materialized.get(id(node))
        return node if done is None else done[1]

    def scalar(self, node: Node) -> str:
        """The C atom of a rank-0 node."""
        assert node.shape == (), node.shape
        return self.read(node, ())

    # --- sub-jaxprs ---------------------------------------------------------------------------
    def lower_jaxpr(self, closed: ClosedJaxpr | Jaxpr, args: Sequence[Node]) -> list[Node]:
        """Lowers `closed` inline, on the nodes `args`; returns the nodes of its outputs.
        NB: locals declared inside a C block are gone after it: a rule that lowers a sub-jaxpr
        inside a loop must write the results it keeps into buffers before closing the loop."""
        jaxpr = closed.jaxpr if isinstance(closed, ClosedJaxpr) else closed
        consts = closed.consts if isinstance(closed, ClosedJaxpr) else []
        env: dict[Var, Node] = {}
        for v, c in safe_zip(jaxpr.constvars, consts):
            env[v] = self.constant(c, v.aval)
        for v, a in safe_zip(jaxpr.invars, args):
            env[v] = a
        eqns = live_eqns(jaxpr)
        for v, n in use_counts(eqns, jaxpr.outvars).items():
            self.uses[v] = self.uses.get(v, 0) + n
        for e in eqns:
            if e.primitive in BUFFER_OPERANDS:
                self.buffer_read.update(a for a in e.invars if type(a) is Var)
        blocks = self.blocks if jaxpr is self.blocks_jaxpr and len(eqns) == len(jaxpr.eqns) else {}
        folds = _Folds(self, eqns, jaxpr.outvars, blocks, env)
        skip = 0
        for i, eqn in enumerate(eqns):
            if skip:
                skip -= 1
                continue
            if i in folds.absorbed:  # computed by an earlier equation's fold
                self.comment(self.names.eqn(eqn) + " (computed above)")
                continue
            block = blocks.get(i)
            done = block.emit_run(self, env) if block is not None else 0
            if done:  # calls of its C function
                skip = done - 1
                continue
            ins = [_literal(a) if type(a) is Literal else self.resolved(env[a]) for a in eqn.invars]
            if eqn.primitive in FOLDS and folds.try_fold(i, ins):
                continue
            outs = lower_eqn(self, eqn, ins)
            for v, node in safe_zip(eqn.outvars, outs):
                env[v] = node
        return [_literal(v) if type(v) is Literal else self.resolved(env[v]) for v in jaxpr.outvars]

    def constant(self, value, aval) -> Node:
        """A constant of a sub-jaxpr: a literal, or an extra kernel input, one per object (the
        same array closed over by several bodies is passed once)."""
        hit = self._const_nodes.get(id(value))
        if hit is not None and hit[0] is value and hit[1].dtype == aval.dtype:
            return hit[1]
        array = np.asarray(value, aval.dtype)
        if array.ndim == 0:
            return Scalar(c_literal(array, aval.dtype), aval.dtype)
        node = Leaf(self.const_input(array), aval.dtype)
        self._const_nodes[id(value)] = (value, node)  # NB: keeps `value` alive (its id)
        return node


class _Folds:
    """The folds of one jaxpr's lowering (`FOLDS`): which equations an earlier one computed."""

    def __init__(self, ctx, eqns, outvars, blocks, env):
        self.ctx, self.eqns, self.env = ctx, eqns, env
        self.absorbed: set[int] = set()
        self._outvars, self._blocks = outvars, blocks
        self._uses: dict | None = None
        self._covered: set[int] | None = None

    def lookup(self, a) -> Node | None:
        """The node of atom `a` if it is computed by now, else None."""
        if type(a) is Literal:
            return _literal(a)
        node = self.env.get(a)
        return None if node is None else self.ctx.resolved(node)

    def try_fold(self, i: int, ins: list[Node]) -> bool:
        if self._uses is None:
            self._uses = use_counts(self.eqns, self._outvars)
            # NB: equations lowered as calls of an outlined function are never folded
            self._covered = {p for b in self._blocks.values() for r in b.run
                             for p in range(r.start, r.start + r.size)}  # fmt: skip
        eqn = self.eqns[i]
        if i in self._covered:
            return False
        done = FOLDS[eqn.primitive](self.ctx, self.eqns, i, ins, self.lookup, self._uses)
        if done is None:
            return False
        nodes, taken = done
        if any(j in self._covered or j in self.absorbed or j <= i for j in taken):
            raise AssertionError("a fold took an equation it must not")  # (the rule checks)
        for v, node in nodes.items():
            self.env[v] = as_scalar(self.ctx, node)
        self.absorbed.update(taken)
        return True


def write_outputs(ctx: KernelContext, outvars, outs: list[Node]) -> None:
    """Writes the values `outs` of `outvars` into the buffers `out_0`, `out_1`, ... (those
    not already written there by the equation that computed them)."""
    ctx.comment("outputs")
    groups: dict[tuple, list] = {}  # outputs of one shape are written by one loop nest
    for k, (v, node) in enumerate(safe_zip(outvars, outs)):
        dest = View.contiguous(f"out_{k}", v.aval.shape)
        written = (type(node) is Leaf and node.view.buf == dest.buf and node.view.is_contiguous()
                   or type(node) is Scalar and node.text == f"{dest.buf}[0]")  # fmt: skip
        if not written:
            node = broadcast_to(node, dest.shape) if node.shape == () else node
            groups.setdefault(dest.shape, []).append((node, dest))
    for pairs in groups.values():
        ctx.write_many(pairs)


def _literal(lit: Literal) -> Scalar:
    return Scalar(c_literal(lit.val, lit.aval.dtype), lit.aval.dtype)


# ------------------------------------------------------------------------------------------
# Lowering one equation
# ------------------------------------------------------------------------------------------

ElementwiseRule = Callable[..., str]
LayoutRule = Callable[..., "View | None"]
KernelRule = Callable[..., list]
ELEMENTWISE: dict[core.Primitive, ElementwiseRule] = {}
LAYOUT: dict[core.Primitive, LayoutRule] = {}
KERNELS: dict[core.Primitive, KernelRule] = {}
# Folds: an equation computed together with later equations that read its result, in one call
# (rules_dot: a product and the SGD update `w - lr * grad` that reads it).
#   FOLDS[prim] = rule(ctx, eqns, i, args, lookup, uses) -> ({var: node}, {j, ...}) | None
# `eqns[i]` is the equation (`args` its nodes), `lookup(atom)` the node of an atom computed by
# now (else None), `uses` each variable's readers in this jaxpr (outputs count); the rule
# returns the nodes of the variables it computed (those read later) and the positions (> i)
# of the equations it took, or None to be lowered as usual. It emits nothing when it declines.
FoldRule = Callable[..., "tuple[dict, set] | None"]
FOLDS: dict[core.Primitive, FoldRule] = {}
# Primitives whose lowering reads every array operand from a buffer (a product: a fused operand
# is written to memory first). An elementwise value read by one of them and by other equations
# is written once where it is defined, and the others read that buffer (`_materialize_now`).
BUFFER_OPERANDS: set[core.Primitive] = set()
# Costly elementwise ops (libm calls, divisions): the fusion policy avoids computing them twice.
EXPENSIVE: set[core.Primitive] = set()
# Those costly only on complex operands (a complex mul, sqrt or abs, not a real one).
EXPENSIVE_COMPLEX: set[core.Primitive] = set()


def register_elementwise(
    prim, rule: ElementwiseRule, expensive: bool = False, expensive_complex: bool = False
) -> None:
    ELEMENTWISE[prim] = rule
    if expensive:
        EXPENSIVE.add(prim)
    if expensive_complex:
        EXPENSIVE_COMPLEX.add(prim)


def _expensive(prim, dtype) -> bool:
    return prim in EXPENSIVE or (dtype.kind == "c" and prim in EXPENSIVE_COMPLEX)


def register_layout(prim, rule: LayoutRule) -> None:
    LAYOUT[prim] = rule


def register_kernel(prim, rule: KernelRule) -> None:
    KERNELS[prim] = rule


def register_fold(prim, rule: FoldRule) -> None:
    FOLDS[prim] = rule


def has_lowering(prim: core.Primitive) -> bool:
    return (
        prim in ELEMENTWISE or prim in LAYOUT or prim in KERNELS or _inline_body(prim) is not None
    )


def _inline_body(prim: core.Primitive) -> str | None:
    info = call_info(prim)
    return None if info is None else info.inline_body


def lower_eqn(ctx: KernelContext, eqn: JaxprEqn, args: list[Node]) -> list[Node]:
    prim = eqn.primitive
    ctx.comment(ctx.names.eqn(eqn))
    if prim in ELEMENTWISE:
        outs = [_elementwise(ctx, eqn, args)]
    elif prim in LAYOUT:
        outs = [_layout(ctx, eqn, args[0])]
    elif prim in KERNELS:
        outs = KERNELS[prim](ctx, eqn, args, **eqn.params)
    elif _inline_body(prim) is not None:
        outs = ctx.lower_jaxpr(eqn.params[_inline_body(prim)], args)
    else:
        raise NotImplementedError(
            f"jit: primitive '{prim.name}' has no C lowering (jaxlite/backend/lower.py). "
            "Use jaxlite.disable_jit() to evaluate it with NumPy."
        )
    return [as_scalar(ctx, n) for n in outs]


def as_scalar(ctx: KernelContext, node: Node) -> Node:
    """`node`, a rank-0 value as a C atom (a Scalar: no loops, no buffers), else itself."""
    if node.shape == () and type(node) is Leaf:
        return Scalar(node.view.read((), node.dtype), node.dtype, buf=node.view.buf)
    if node.shape == () and type(node) is Op:  # e.g. a reshape of a fused f32[1] to f32[]
        return Scalar(ctx.read(node, ()), node.dtype)
    return node


def _elementwise(ctx: KernelContext, eqn: JaxprEqn, args: list[Node]) -> Node:
    out = eqn.outvars[0].aval
    args = [broadcast_to(a, out.shape) for a in args]
    rule = ELEMENTWISE[eqn.primitive]
    name = ctx.names.var(eqn.outvars[0])
    if out.shape == ():
        dt = args[0].dtype if args else out.dtype
        text = rule(dt, *[ctx.scalar(a) for a in args], **eqn.params)
        ctx.line(f"const {CTYPE[out.dtype]} v_{name} = {text};")
        ctx.declared.add(f"v_{name}")
        return Scalar(f"v_{name}", out.dtype)
    in_dt = args[0].dtype if args else out.dtype
    cost = 1 + _expensive(eqn.primitive, in_dt) * 10 + sum(getattr(a, "cost", 0) for a in args)
    node = Op(rule, eqn.params, args, out.dtype, out.shape, name, cost)
    if _materialize_now(ctx, eqn.outvars[0], node):
        dest = ctx.new_output(eqn)
        ctx.write(node, dest)
        return Leaf(dest, out.dtype)
    return node  # fused into the loops of whoever reads it


# The fusion policy. An elementwise value is computed inside its readers' loops (it never touches
# memory) unless it is read by several equations and costly enough that computing it again in
# each of their loops would cost more than a buffer (one libm call or division is).
SHARED_COST_LIMIT = 8
# A fused expression is written to memory once it costs this much (a chain of ~256 adds, ~23
# libm calls): one more pass over memory is nothing beside it, and the expressions the lowering
# walks (recursively) and gcc compiles stay bounded in a long chain (a sum of 1,500 arrays).
FUSED_COST_LIMIT = 256


def _materialize_now(ctx: KernelContext, var: Var, node: Op) -> bool:
    if not ctx.fuse or node.cost >= FUSED_COST_LIMIT:
        return True
    uses = ctx.uses.get(var, 0)
    if var in ctx.out_dest:  # an output: written once, into the caller's buffer
        return uses > 1
    # NB: read by a product too, it gets a buffer anyway: written here, every reader reads it
    # (a ReLU's masked gradient, which a product and its bias's column sum read: 32x512 in
    # the VAE step, computed in two loops before)
    return uses > 1 and (node.cost >= SHARED_COST_LIMIT or var in ctx.buffer_read)


def broadcast_to(node: Node, shape) -> Node:
    """`node`, or the rank-0 Scalar `node` seen with `shape`."""
    if node.shape == tuple(shape):
        return node
    assert node.shape == (), (node.shape, shape)
    return Scalar(node.text, node.dtype, shape, node.buf)


def _layout(ctx: KernelContext, eqn: JaxprEqn, x: Node) -> Node:
    rule = LAYOUT[eqn.primitive]
    out_size = math.prod(eqn.outvars[0].aval.shape)
    if type(x) is Op and out_size > math.prod(x.shape) and x.cost > 2:
        x = ctx.materialize(x, ctx.names.var(eqn.invars[0]))  # broadcast: compute once, read many
    res = map_views(x, lambda v: rule(v, **eqn.params))
    if res is None:  # e.g. a reshape of a transposed view: copy to a contiguous buffer first
        x = ctx.materialize(x, ctx.names.var(eqn.invars[0]) + "_c", contiguous=True)
        res = map_views(x, lambda v: rule(v, **eqn.params))
    return res
