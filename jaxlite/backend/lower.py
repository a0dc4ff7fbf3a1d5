"""Jaxpr -> C source: one C function per jaxpr, one small entry per primitive in three tables.

A jaxpr becomes `int jl_kernel(const T *in_a, ..., T *out_0, ...)` (0 on success, 1 when out of
memory). The caller allocates the outputs; intermediates live in one workspace allocation.

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
`ctx.loops`, `ctx.read` and `ctx.line`, or returns nodes it built from its arguments. Register
more with `register_elementwise`, `register_layout` and `register_kernel`. Call-like primitives
whose body is a closed jaxpr param (pjit, custom_jvp_call, ...) are lowered inline (CALL_PARAMS).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from contextlib import contextmanager

import numpy as np

from jaxlite import core, dtypes
from jaxlite import primitives as P
from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var
from jaxlite.jaxpr_util import call_info, live_eqns, sub_jaxprs, use_counts

# ------------------------------------------------------------------------------------------
# C types and literals
# ------------------------------------------------------------------------------------------

CTYPE = {
    dtypes.bool_: "bool",
    dtypes.uint8: "uint8_t",
    dtypes.uint32: "uint32_t",
    dtypes.int32: "int32_t",
    dtypes.int64: "int64_t",
    dtypes.float32: "float",
    dtypes.float64: "double",
}
SUFFIX = {
    dtypes.bool_: "b",
    dtypes.uint8: "u8",
    dtypes.uint32: "u32",
    dtypes.int32: "i32",
    dtypes.int64: "i64",
    dtypes.float32: "f32",
    dtypes.float64: "f64",
}
_INT_MIN = {dtypes.int32: "INT32_MIN", dtypes.int64: "INT64_MIN"}


def c_literal(value, dtype: np.dtype) -> str:
    """An exact C literal of `dtype`, parenthesized when negative (an atom in any expression)."""
    v = np.asarray(value, dtype)[()]
    if dtype.kind == "b":
        return "true" if v else "false"
    if dtype.kind == "f":
        if np.isnan(v):
            text = "NAN"
        elif np.isinf(v):
            text = "-INFINITY" if v < 0 else "INFINITY"
        else:
            # str(np.float32) is the shortest text that reads back as the same float32
            text = str(v) if dtype == dtypes.float32 else repr(float(v))
            text += "f" if dtype == dtypes.float32 else ""
    elif dtype in _INT_MIN and v == np.iinfo(dtype).min:
        text = _INT_MIN[dtype]
    else:
        text = str(int(v)) + {dtypes.uint32: "u", dtypes.int64: "LL"}.get(dtype, "")
    if dtype == dtypes.float64 and text in ("NAN", "INFINITY", "-INFINITY"):
        text = f"(double){text}" if not text.startswith("-") else "-(double)INFINITY"
    return f"({text})" if text.startswith("-") else text


def sfx(dtype: np.dtype) -> str:
    return SUFFIX[dtype]


# ------------------------------------------------------------------------------------------
# Views: strided windows onto a buffer
# ------------------------------------------------------------------------------------------


class View:
    """Elements `buf[offset + dyn + sum(idx[k] * strides[k])]`; `buf` None: that number itself.

    `dyn` is a C expression (a runtime offset, from dynamic_slice) or "".
    """

    __slots__ = ("buf", "dyn", "offset", "shape", "strides")

    def __init__(self, buf, shape, strides, offset: int = 0, dyn: str = ""):
        self.buf = buf
        self.shape = tuple(shape)
        self.strides = tuple(strides)
        self.offset = offset
        self.dyn = dyn

    @staticmethod
    def contiguous(buf, shape) -> View:
        return View(buf, shape, contiguous_strides(shape))

    def is_contiguous(self) -> bool:
        dense = [(n, s) for n, s in zip(self.shape, self.strides) if n != 1]
        want = contiguous_strides([n for n, _ in dense])
        return not self.offset and not self.dyn and all(s == w for (_, s), w in zip(dense, want))

    def index(self, idx: Sequence[str]) -> str:
        terms = [self.dyn] if self.dyn else []
        terms += [_scaled(i, s) for i, s in zip(idx, self.strides) if s and i != "0"]
        if self.offset:
            terms.append(str(self.offset))
        return " + ".join(terms).replace("+ -", "- ") if terms else "0"

    def read(self, idx: Sequence[str], dtype) -> str:
        if self.buf is None:
            return f"(({CTYPE[dtype]})({self.index(idx)}))"
        return f"{self.buf}[{self.index(idx)}]"

    def __repr__(self) -> str:
        return f"View({self.buf}, {self.shape}, {self.strides}, {self.offset}, {self.dyn!r})"


def _scaled(i: str, s: int) -> str:
    return i if s == 1 else f"-{i}" if s == -1 else f"{i} * {s}"


def contiguous_strides(shape) -> tuple[int, ...]:
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= n
    return tuple(reversed(strides))


def reshape_strides(shape, strides, new_shape) -> tuple[int, ...] | None:
    """Strides that show the same elements in `new_shape` without a copy, or None (NumPy's
    `_attempt_nocopy_reshape`)."""
    if math.prod(shape) == 0:
        return contiguous_strides(new_shape)
    old = [(n, s) for n, s in zip(shape, strides) if n != 1]
    odims, ostr = [n for n, _ in old], [s for _, s in old]
    new = list(new_shape)
    nstr = [0] * len(new)
    oi, oj, ni, nj = 0, 1, 0, 1
    while ni < len(new) and oi < len(odims):
        np_, op = new[ni], odims[oi]
        while np_ != op:
            if np_ < op:
                np_ *= new[nj]
                nj += 1
            else:
                op *= odims[oj]
                oj += 1
        for ok in range(oi, oj - 1):
            if ostr[ok] != odims[ok + 1] * ostr[ok + 1]:
                return None
        nstr[nj - 1] = ostr[oj - 1]
        for nk in range(nj - 1, ni, -1):
            nstr[nk - 1] = nstr[nk] * new[nk]
        ni, nj, oi, oj = nj, nj + 1, oj, oj + 1
    return tuple(nstr)


def coalesce(shape, strides_list) -> tuple[int, ...]:
    """The shape of the fewest loops that visit `shape` in order: size-1 dimensions dropped,
    neighbours merged where every view steps through them as through one dimension."""
    dims = [d for d, n in enumerate(shape) if n != 1]
    out = []  # (size, last original dim)
    for d in dims:
        if out:
            n_prev, d_prev = out[-1]
            if all(st[d_prev] == st[d] * shape[d] for st in strides_list):
                out[-1] = (n_prev * shape[d], d)
                continue
        out.append((shape[d], d))
    return tuple(n for n, _ in out)


# ------------------------------------------------------------------------------------------
# Nodes
# ------------------------------------------------------------------------------------------


class Scalar:
    """A value that is the same at every index: a C atom, seen with some shape."""

    __slots__ = ("dtype", "shape", "text")

    def __init__(self, text: str, dtype: np.dtype, shape=()):
        self.text, self.dtype, self.shape = text, dtype, tuple(shape)


class Leaf:
    """The elements of a buffer (or of the integers) seen through a View."""

    __slots__ = ("dtype", "view")

    def __init__(self, view: View, dtype: np.dtype):
        self.view, self.dtype = view, dtype

    @property
    def shape(self):
        return self.view.shape


class Op:
    """An elementwise operation, computed where it is read (fused into the reader's loops)."""

    __slots__ = ("args", "cost", "dtype", "name", "params", "rule", "shape")

    def __init__(self, rule, params, args, dtype, shape, name: str, cost: int):
        self.rule, self.params, self.args = rule, params, list(args)
        self.dtype, self.shape, self.name, self.cost = dtype, tuple(shape), name, cost


Node = Scalar | Leaf | Op


def leaves(node: Node, out: dict | None = None) -> list[Leaf]:
    """The Leaf nodes under `node` (each once)."""
    out = {} if out is None else out
    if type(node) is Leaf:
        out[id(node)] = node
    elif type(node) is Op:
        for a in node.args:
            leaves(a, out)
    return list(out.values())


def map_views(node: Node, fn: Callable[[View], View | None], memo=None) -> Node | None:
    """`node` with `fn` applied to every View under it (a layout change pushed to the leaves);
    None if some view cannot take it."""
    memo = {} if memo is None else memo
    key = id(node)
    if key in memo:
        return memo[key]
    if type(node) is Scalar:
        res = Scalar(
            node.text, node.dtype, fn(View(None, node.shape, (0,) * len(node.shape))).shape
        )
    elif type(node) is Leaf:
        v = fn(node.view)
        res = None if v is None else Leaf(v, node.dtype)
    else:
        args = [map_views(a, fn, memo) for a in node.args]
        if any(a is None for a in args):
            res = None
        else:
            shape = fn(View(None, node.shape, (0,) * len(node.shape))).shape
            res = Op(node.rule, node.params, args, node.dtype, shape, node.name, node.cost)
    memo[key] = res
    return res


# ------------------------------------------------------------------------------------------
# Names and comments
# ------------------------------------------------------------------------------------------


def comment_text(text: str, newline: str = "\\n") -> str:
    """`text` made safe inside a C `/* */` comment: user strings (function names, static
    arguments) can neither end the comment nor splice lines. NB: a backslash or `??/` before any
    line end (\\n, \\r, \\f + \\n, ...) splices lines even inside a comment, so characters outside
    printable ASCII are escaped, each \\n becomes `newline` and `*/` is broken up."""
    if not (text.isascii() and text.isprintable()):
        text = newline.join(
            "".join(
                c if c.isascii() and c.isprintable() else c.encode("unicode_escape").decode()
                for c in line
            )
            for line in text.split("\n")
        )
    return text.replace("*/", "* /")


class Names:
    """Names jaxpr variables in order of appearance (a, b, ..., z, ba, ...), as the printer does."""

    def __init__(self):
        self.names: dict[Var, str] = {}

    def var(self, v) -> str:
        if type(v) is Literal:
            return repr(v)
        if type(v) is core.DropVar:
            return "_"
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = core._var_name(len(self.names))
        return name

    def eqn(self, eqn: JaxprEqn) -> str:
        """The equation on one line, in the jaxpr text format (sub-jaxprs elided)."""
        outs = " ".join(f"{self.var(v)}:{v.aval.str_short()}" for v in eqn.outvars)
        params = " ".join(f"{k}={_param_str(v)}" for k, v in sorted(eqn.params.items()))
        ins = " ".join(self.var(v) for v in eqn.invars)
        head = eqn.primitive.name + (f"[{params}]" if params else "")
        return f"{outs} = {head} {ins}".rstrip()


def _param_str(v) -> str:
    if isinstance(v, (Jaxpr, ClosedJaxpr)):
        return "{...}"
    if isinstance(v, np.dtype):
        return v.name
    if callable(v) and hasattr(v, "__name__"):
        return v.__name__
    if isinstance(v, tuple) and v and isinstance(v[0], (Jaxpr, ClosedJaxpr)):
        return "(...)"
    return str(v)


# ------------------------------------------------------------------------------------------
# The kernel context: buffers, loops and lines
# ------------------------------------------------------------------------------------------


class KernelContext:
    """What lowering rules emit into: lines of C, buffers, loop nests and the jaxpr environment."""

    def __init__(self, names: Names, fuse: bool = True):
        self.names = names
        self.fuse = fuse  # False: every equation gets its own loop nest (for debugging)
        self.uses: dict[Var, int] = {}  # how many equations (and outputs) read each variable
        self._materialized: dict[int, tuple[Node, Leaf]] = {}  # id(node) -> (node, its buffer)
        self.lines: list[str] = []
        self.toplevel: list[str] = []  # file-scope definitions (sort comparators)
        self.indent = 1
        self.buffers: list[tuple[str, np.dtype, int]] = []  # workspace: (name, dtype, size)
        self.consts: list[np.ndarray] = []  # arrays passed as extra inputs
        self.out_dest: dict[Var, View] = {}
        self._counter = 0
        self._in_scope: set[str] = set()
        self.declared: set[str] = set()  # names of the fused values' locals
        self.runtime = False  # whether the kernel calls the runtime library (csrc/jl_blas.h)
        self.openmp = False  # whether it has `#pragma omp parallel` loops
        self.parallel_min_work = PARALLEL_MIN_WORK  # see `parallel`
        self.loop_ranges: list[tuple[int, int]] = []  # (first, last) line of each loop

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
                self.loop_ranges.append((start, len(self.lines) - 1))

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
        for d, n in enumerate(shape):
            k = 0
            while f"{prefix}{k}" in self._in_scope:
                k += 1
            name = f"{prefix}{k}"
            self._in_scope.add(name)
            names.append(name)
            inner = d == len(shape) - 1
            if d == 0 and parallel:
                self.openmp = True
                self.line(f"#pragma omp parallel for{' simd' if inner and simd else ''}{red}")
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
            if names:
                self.loop_ranges.append((start, len(self.lines) - 1))

    def parallel(self, work: int) -> bool:
        """Whether a loop nest of `work` (elements x cost) is worth sharing among threads."""
        return work >= self.parallel_min_work

    # --- buffers ------------------------------------------------------------------------------
    def alloc(self, hint: str, dtype: np.dtype, shape) -> View:
        """A fresh contiguous buffer in the workspace."""
        name = f"tmp_{hint}"
        taken = {b[0] for b in self.buffers}
        while name in taken:
            name = f"tmp_{hint}_{self.fresh('')}"
        self.buffers.append((name, dtype, max(math.prod(shape), 1)))
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
            return node.text
        if type(node) is Leaf:
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
            pairs = [(self.reshape(n, cshape), _reshape_view(d, cshape)) for n, d in pairs]
        work = math.prod(cshape) * max(1, sum(getattr(n, "cost", 0) for n, _ in pairs))
        with self.loops(cshape, parallel=self.parallel(work), simd=True) as idx:
            memo: dict = {}
            for node, dest in pairs:
                self.line(f"{dest.buf}[{dest.index(idx)}] = {self.read(node, idx, memo)};")

    def reshape(self, node: Node, shape) -> Node:
        res = map_views(node, lambda v: _reshape_view(v, shape))
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
        for v, c in zip(jaxpr.constvars, consts):
            env[v] = self.constant(c, v.aval)
        for v, a in zip(jaxpr.invars, args):
            env[v] = a
        eqns = live_eqns(jaxpr)
        for v, n in use_counts(eqns, jaxpr.outvars).items():
            self.uses[v] = self.uses.get(v, 0) + n
        for eqn in eqns:
            ins = [_literal(a) if type(a) is Literal else self.resolved(env[a]) for a in eqn.invars]
            outs = lower_eqn(self, eqn, ins)
            for v, node in zip(eqn.outvars, outs):
                env[v] = node
        return [_literal(v) if type(v) is Literal else self.resolved(env[v]) for v in jaxpr.outvars]

    def constant(self, value, aval) -> Node:
        value = np.asarray(value, aval.dtype)
        if value.ndim == 0:
            return Scalar(c_literal(value, aval.dtype), aval.dtype)
        return Leaf(self.const_input(value), aval.dtype)


def _reshape_view(v: View, shape) -> View:
    strides = reshape_strides(v.shape, v.strides, shape)
    return None if strides is None else View(v.buf, shape, strides, v.offset, v.dyn)


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
# Costly elementwise ops (libm calls, divisions): the fusion policy avoids computing them twice.
EXPENSIVE: set[core.Primitive] = set()


def register_elementwise(prim, rule: ElementwiseRule, expensive: bool = False) -> None:
    ELEMENTWISE[prim] = rule
    if expensive:
        EXPENSIVE.add(prim)


def register_layout(prim, rule: LayoutRule) -> None:
    LAYOUT[prim] = rule


def register_kernel(prim, rule: KernelRule) -> None:
    KERNELS[prim] = rule


def has_lowering(prim: core.Primitive) -> bool:
    return prim in ELEMENTWISE or prim in LAYOUT or prim in KERNELS or _inline_body(prim) is not None


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
    return [_as_scalar(ctx, n) for n in outs]


def _as_scalar(ctx: KernelContext, node: Node) -> Node:
    # Rank-0 values are C atoms: no loops, no buffers.
    if node.shape == () and type(node) is Leaf:
        return Scalar(node.view.read((), node.dtype), node.dtype)
    if node.shape == () and type(node) is Op:  # e.g. a reshape of a fused f32[1] to f32[]
        return Scalar(ctx.read(node, ()), node.dtype)
    return node


def _elementwise(ctx: KernelContext, eqn: JaxprEqn, args: list[Node]) -> Node:
    out = eqn.outvars[0].aval
    args = [_broadcast_to(a, out.shape) for a in args]
    rule = ELEMENTWISE[eqn.primitive]
    name = ctx.names.var(eqn.outvars[0])
    if out.shape == ():
        dt = args[0].dtype if args else out.dtype
        text = rule(dt, *[ctx.scalar(a) for a in args], **eqn.params)
        ctx.line(f"const {CTYPE[out.dtype]} v_{name} = {text};")
        ctx.declared.add(f"v_{name}")
        return Scalar(f"v_{name}", out.dtype)
    cost = 1 + (eqn.primitive in EXPENSIVE) * 10 + sum(getattr(a, "cost", 0) for a in args)
    node = Op(rule, eqn.params, args, out.dtype, out.shape, name, cost)
    if _materialize_now(ctx, eqn.outvars[0], node):
        dest = ctx.new_output(eqn)
        ctx.write(node, dest)
        return Leaf(dest, out.dtype)
    return node  # fused into the loops of whoever reads it


# OpenMP threads pay off above this much work (elements x cost units; a copy or an add costs 1,
# a libm-class function 11), by measurement on this 2-core EPYC (`benchmarks/bench_jit.py --only
# threshold`, threads spinning briefly between loops: GOMP_SPINCOUNT=10000, see compile.py):
# 2 threads won from 2^16-2^18 elements of x*2+1 (1.0x-1.8x) and 2^14-2^16 of tanh (1.1x-1.6x).
PARALLEL_MIN_WORK = 1 << 18

# In a kernel that also calls BLAS on products big enough for its threads, our loops wait for
# sleeping threads to wake after each product and contend with BLAS's: the MLP step of
# bench_jit.py took 3.4 ms with its 128x512 loops shared among threads and 2.3 ms without.
PARALLEL_MIN_WORK_WITH_BLAS = 1 << 23
BLAS_THREADED_MNK = 1 << 22  # multiply-adds from which a BLAS product counts as threaded


def _calls_threaded_blas(jaxpr: Jaxpr) -> bool:
    """Whether `jaxpr` (or a sub-jaxpr) has a float product big enough for BLAS's threads."""
    for e in jaxpr.eqns:
        if e.primitive is P.dot_general_p and e.outvars[0].aval.dtype.kind == "f":
            (lc, _), _ = e.params["dimension_numbers"]
            k = math.prod(e.invars[0].aval.shape[d] for d in lc)
            if math.prod(e.outvars[0].aval.shape) * k >= BLAS_THREADED_MNK:
                return True
        if any(_calls_threaded_blas(sub) for sub in sub_jaxprs(e)):
            return True
    return False


# The fusion policy. An elementwise value is computed inside its readers' loops (it never touches
# memory) unless it is read by several equations and costly enough that computing it again in
# each of their loops would cost more than a buffer (one libm call or division is).
SHARED_COST_LIMIT = 8


def _materialize_now(ctx: KernelContext, var: Var, node: Op) -> bool:
    if not ctx.fuse:
        return True
    uses = ctx.uses.get(var, 0)
    if var in ctx.out_dest:  # an output: written once, into the caller's buffer
        return uses > 1
    return uses > 1 and node.cost >= SHARED_COST_LIMIT


def _broadcast_to(node: Node, shape) -> Node:
    if node.shape == tuple(shape):
        return node
    assert node.shape == (), (node.shape, shape)
    return Scalar(node.text, node.dtype, shape)


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


# ------------------------------------------------------------------------------------------
# The whole jaxpr
# ------------------------------------------------------------------------------------------


class Lowered:
    """The C source of a jaxpr and its calling convention.

    The kernel is `int jl_kernel(inputs..., consts..., outputs...)`, all contiguous buffers.
    """

    def __init__(self, source, in_avals, out_avals, consts, runtime=False, openmp=False):
        self.source = source
        self.in_avals = in_avals
        self.out_avals = out_avals
        self.consts = consts
        self.runtime = runtime  # calls the runtime library's products (csrc/jl_blas.h)
        self.openmp = openmp  # has `#pragma omp parallel` loops (compile with -fopenmp)

    @property
    def ctype(self) -> str:
        n = len(self.in_avals) + len(self.consts) + len(self.out_avals)
        return f"int(*)({', '.join(['void *'] * n) or 'void'})"


SYMBOL = "jl_kernel"


def lower_jaxpr(jaxpr: Jaxpr, name: str = "f") -> Lowered:
    """The C source of `jaxpr` (its constvars are leading inputs)."""
    names = Names()
    ctx = KernelContext(names)
    if _calls_threaded_blas(jaxpr):
        ctx.parallel_min_work = PARALLEL_MIN_WORK_WITH_BLAS
    invars = list(jaxpr.constvars) + list(jaxpr.invars)
    env: dict[Var, Node] = {}
    params = []
    for v in invars:
        cname = f"in_{names.var(v)}"
        params.append(f"const {CTYPE[v.aval.dtype]} *restrict {cname}")
        leaf = Leaf(View.contiguous(cname, v.aval.shape), v.aval.dtype)
        env[v] = _as_scalar(ctx, leaf)
    produced = {v for e in jaxpr.eqns for v in e.outvars}
    for k, v in enumerate(jaxpr.outvars):
        if type(v) is Var and v in produced and v not in ctx.out_dest:
            ctx.out_dest[v] = View.contiguous(f"out_{k}", v.aval.shape)
    outs = ctx.lower_jaxpr(Jaxpr([], invars, jaxpr.outvars, jaxpr.eqns), [env[v] for v in invars])
    ctx.comment("outputs")
    groups: dict[tuple, list] = {}  # outputs of one shape are written by one loop nest
    for k, (v, node) in enumerate(zip(jaxpr.outvars, outs)):
        dest = View.contiguous(f"out_{k}", v.aval.shape)
        written = (type(node) is Leaf and node.view.buf == dest.buf and node.view.is_contiguous()
                   or type(node) is Scalar and node.text == f"{dest.buf}[0]")  # fmt: skip
        if not written:
            node = _broadcast_to(node, dest.shape) if node.shape == () else node
            groups.setdefault(dest.shape, []).append((node, dest))
    for pairs in groups.values():
        ctx.write_many(pairs)
    for k, c in enumerate(ctx.consts):
        params.append(f"const {CTYPE[c.dtype]} *restrict const_{k}")
    for k, v in enumerate(jaxpr.outvars):
        params.append(f"{CTYPE[v.aval.dtype]} *restrict out_{k}")
    signature = (
        f"({', '.join(f'{names.var(v)}:{v.aval.str_short()}' for v in invars)}) -> "
        f"({', '.join(names.var(v) if type(v) is Var else repr(v) for v in jaxpr.outvars)})"
    )
    source = _assemble(name, signature, params, ctx)
    in_avals = [v.aval for v in invars]
    outs = [v.aval for v in jaxpr.outvars]
    return Lowered(source, in_avals, outs, ctx.consts, ctx.runtime, ctx.openmp)


def _assemble(name: str, signature: str, params: list[str], ctx: KernelContext) -> str:
    safe = comment_text  # no user text may close the comment
    head = [
        f"/* jaxlite.jit kernel for `{safe(name)}`: {safe(signature)} */",
        '#include "jaxlite.h"',
        '#include "jl_math.h"',
        *(['#include "jl_blas.h"'] if ctx.runtime else []),
        "",
        *ctx.toplevel,
        f"int {SYMBOL}({', '.join(params) or 'void'}) {{",
    ]
    body = []
    if ctx.buffers:
        offsets, total = plan_workspace(ctx)
        body.append(f"  char *ws = jl_alloc({total});")
        body.append("  if (!ws) return 1;")
        for (bname, dt, _), off in zip(ctx.buffers, offsets):
            body.append(f"  {CTYPE[dt]} *{bname} = ({CTYPE[dt]} *)(ws + {off});")
    tail = ["  free(ws);"] if ctx.buffers else []
    return "\n".join(head + body + ctx.lines + tail + ["  return 0;", "}", ""])


_BUFFER_NAME = re.compile(r"\btmp_\w+")


def plan_workspace(ctx: KernelContext) -> tuple[list[int], int]:
    """Offsets of the workspace buffers, and the workspace size: buffers whose lifetimes do not
    overlap share memory (first fit). A lifetime runs from the first line of C that names the
    buffer to the last, widened to the whole of any loop it crosses into or out of."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, ln in enumerate(ctx.lines):
        for name in _BUFFER_NAME.findall(ln):
            first.setdefault(name, i)
            last[name] = i
    spans = {}
    for name, _, _ in ctx.buffers:
        a, b = first.get(name, 0), last.get(name, 0)
        changed = True
        while changed:  # NB: a value live across a loop's back edge needs its memory throughout
            changed = False
            for s, e in ctx.loop_ranges:
                if a <= e and b >= s and (a < s or b > e) and not (a <= s and b >= e):
                    a, b, changed = min(a, s), max(b, e), True
        spans[name] = (a, b)
    offsets, placed = [], []  # placed: (offset, size, span)
    for name, dt, n in ctx.buffers:
        size = -(-n * dt.itemsize // 64) * 64
        a, b = spans[name]
        busy = sorted((o, sz) for o, sz, (pa, pb) in placed if pa <= b and a <= pb)
        off = 0
        for o, sz in busy:
            if off + size <= o:
                break
            off = max(off, o + sz)
        offsets.append(off)
        placed.append((off, size, (a, b)))
    return offsets, max((o + sz for o, sz, _ in placed), default=0)


# ------------------------------------------------------------------------------------------
# ELEMENTWISE: C expressions (arguments are atoms: locals, array reads, literals)
# ------------------------------------------------------------------------------------------


def infix(op: str) -> ElementwiseRule:
    return lambda dt, x, y: f"{x} {op} {y}"


def prefix(op: str) -> ElementwiseRule:
    return lambda dt, x: f"{op}{x}"


def libm(fn: str) -> ElementwiseRule:
    """A <math.h> function: `sinf` for float32, `sin` for float64."""
    return lambda dt, *xs: f"{fn}{'f' if dt == dtypes.float32 else ''}({', '.join(xs)})"


def helper(fn: str) -> ElementwiseRule:
    """A jaxlite.h function named by the operand dtype: `jl_div_i32`."""
    return lambda dt, *xs: f"jl_{fn}_{sfx(dt)}({', '.join(xs)})"


def by_kind(f=None, i=None, u=None, b=None) -> ElementwiseRule:
    """Dispatch on the operand's kind: f(loat), i(nt), u(nsigned), b(ool); u defaults to i."""
    table = {"f": f, "i": i, "u": u or i, "b": b}
    return lambda dt, *xs, **params: table[dt.kind](dt, *xs, **params)


def identity(dt, x):
    return x


_ELEMENTWISE_RULES = {
    P.neg_p: prefix("-"),
    P.sign_p: helper("sign"),
    P.abs_p: by_kind(f=libm("fabs"), i=helper("abs"), u=identity),
    P.exp_p: helper("exp"),  # csrc/jl_math.h: these four vectorize
    P.exp2_p: libm("exp2"),
    P.log_p: helper("log"),
    P.log1p_p: libm("log1p"),
    P.expm1_p: libm("expm1"),
    P.tanh_p: helper("tanh"),
    P.logistic_p: helper("logistic"),
    P.sin_p: libm("sin"),
    P.cos_p: libm("cos"),
    P.tan_p: libm("tan"),
    P.asin_p: libm("asin"),
    P.acos_p: libm("acos"),
    P.atan_p: libm("atan"),
    P.sinh_p: libm("sinh"),
    P.cosh_p: libm("cosh"),
    P.asinh_p: libm("asinh"),
    P.acosh_p: libm("acosh"),
    P.atanh_p: libm("atanh"),
    P.sqrt_p: libm("sqrt"),
    P.rsqrt_p: lambda dt, x: f"{c_literal(1, dt)} / {libm('sqrt')(dt, x)}",
    P.cbrt_p: libm("cbrt"),
    P.erf_p: lambda dt, x: f"jl_erf_f32({x})" if dt == dtypes.float32 else f"erf({x})",
    P.erf_inv_p: helper("erf_inv"),
    P.floor_p: libm("floor"),
    P.ceil_p: libm("ceil"),
    P.round_p: lambda dt, x, rounding_method: libm("rint" if rounding_method else "round")(dt, x),
    P.is_finite_p: lambda dt, x: f"isfinite({x})",
    P.not_p: by_kind(i=prefix("~"), b=prefix("!")),
    P.copy_p: identity,
    P.stop_gradient_p: identity,
    P.integer_pow_p: lambda dt, x, y: f"jl_ipow_{sfx(dt)}({x}, {y})",
    P.add_p: infix("+"),
    P.add_any_p: infix("+"),
    P.sub_p: infix("-"),
    P.mul_p: infix("*"),
    P.div_p: by_kind(f=infix("/"), i=helper("div")),
    P.rem_p: by_kind(f=libm("fmod"), i=helper("rem")),
    P.pow_p: by_kind(f=libm("pow"), i=helper("pow")),
    P.max_p: helper("max"),
    P.min_p: helper("min"),
    P.atan2_p: libm("atan2"),
    P.nextafter_p: libm("nextafter"),
    P.and_p: infix("&"),
    P.or_p: infix("|"),
    P.xor_p: infix("^"),
    P.shift_left_p: helper("shl"),
    P.shift_right_arithmetic_p: helper("shra"),
    P.shift_right_logical_p: helper("shrl"),
    P.eq_p: infix("=="),
    P.ne_p: infix("!="),
    P.lt_p: infix("<"),
    P.le_p: infix("<="),
    P.gt_p: infix(">"),
    P.ge_p: infix(">="),
    P.clamp_p: lambda dt, lo, x, hi: f"jl_min_{sfx(dt)}(jl_max_{sfx(dt)}({x}, {lo}), {hi})",
}
_EXPENSIVE = {
    P.exp_p, P.exp2_p, P.log_p, P.log1p_p, P.expm1_p, P.tanh_p, P.logistic_p, P.sin_p, P.cos_p,
    P.tan_p, P.asin_p, P.acos_p, P.atan_p, P.sinh_p, P.cosh_p, P.asinh_p, P.acosh_p, P.atanh_p,
    P.cbrt_p, P.erf_p, P.erf_inv_p, P.pow_p, P.atan2_p, P.div_p, P.rem_p, P.rsqrt_p,
}  # fmt: skip
for _p, _rule in _ELEMENTWISE_RULES.items():
    register_elementwise(_p, _rule, expensive=_p in _EXPENSIVE)


def _select_n(dt, which, *cases):
    if dt.kind == "b":
        return f"{which} ? {cases[1]} : {cases[0]}" if len(cases) == 2 else cases[0]
    # An integer `which` is clamped to [0, n): `which <= 0 ? c0 : which == 1 ? c1 : ... : c_last`
    text = cases[-1]
    for k in range(len(cases) - 2, -1, -1):
        text = f"{which} {'<=' if k == 0 else '=='} {k} ? {cases[k]} : {text}"
    return text


register_elementwise(P.select_n_p, _select_n)


def convert(src: np.dtype, dst: np.dtype, x: str) -> str:
    """C for convert_element_type: saturating float -> int, `!= 0` to bool, else a C cast."""
    if src == dst:
        return x
    if dst.kind == "b":
        return f"{x} != 0"
    if src.kind == "f" and dst.kind in "iu":
        return f"jl_f2i_{sfx(dst)}({x})"
    if src.kind == "b":  # NB: gcc 12 does not vectorize a (float) cast of a bool; a select it does
        return f"({x} ? {c_literal(1, dst)} : {c_literal(0, dst)})"
    return f"({CTYPE[dst]}){x}"


register_elementwise(
    P.convert_element_type_p, lambda dt, x, new_dtype, weak_type=False: convert(dt, new_dtype, x)
)
register_elementwise(
    P.bitcast_convert_type_p,
    lambda dt, x, new_dtype: (
        x if dt == new_dtype else f"jl_bitcast_{sfx(dt)}_{sfx(new_dtype)}({x})"
    ),
)


# ------------------------------------------------------------------------------------------
# LAYOUT: new views of the same elements
# ------------------------------------------------------------------------------------------


def _transpose(v: View, permutation) -> View:
    return View(v.buf, [v.shape[p] for p in permutation], [v.strides[p] for p in permutation],
                v.offset, v.dyn)  # fmt: skip


def _broadcast_in_dim(v: View, shape, broadcast_dimensions) -> View:
    strides = [0] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        strides[d] = v.strides[i] if v.shape[i] == shape[d] else 0
    return View(v.buf, shape, strides, v.offset, v.dyn)


def _reshape(v: View, new_sizes, dimensions) -> View | None:
    return _reshape_view(v, new_sizes)


def _squeeze(v: View, dimensions) -> View:
    keep = [d for d in range(len(v.shape)) if d not in dimensions]
    return View(v.buf, [v.shape[d] for d in keep], [v.strides[d] for d in keep], v.offset, v.dyn)


def _expand_dims(v: View, dimensions) -> View:
    shape, strides = list(v.shape), list(v.strides)
    for d in sorted(dimensions):
        shape.insert(d, 1)
        strides.insert(d, 0)
    return View(v.buf, shape, strides, v.offset, v.dyn)


def _slice(v: View, start_indices, limit_indices, strides) -> View:
    steps = strides or (1,) * len(v.shape)
    shape = [max(0, -(-(hi - lo) // st)) for lo, hi, st in zip(start_indices, limit_indices, steps)]
    offset = v.offset + sum(lo * s for lo, s in zip(start_indices, v.strides))
    return View(v.buf, shape, [s * st for s, st in zip(v.strides, steps)], offset, v.dyn)


def _rev(v: View, dimensions) -> View:
    strides, offset = list(v.strides), v.offset
    for d in dimensions:
        offset += max(v.shape[d] - 1, 0) * strides[d]
        strides[d] = -strides[d]
    return View(v.buf, v.shape, strides, offset, v.dyn)


register_layout(P.transpose_p, _transpose)
register_layout(P.broadcast_in_dim_p, _broadcast_in_dim)
register_layout(P.reshape_p, _reshape)
register_layout(P.squeeze_p, _squeeze)
register_layout(P.expand_dims_p, _expand_dims)
register_layout(P.slice_p, _slice)
register_layout(P.rev_p, _rev)


# ------------------------------------------------------------------------------------------
# KERNELS: primitives that need loops of their own
# ------------------------------------------------------------------------------------------


def _iota(ctx, eqn, args, *, dtype, shape, dimension):
    strides = [1 if d == dimension else 0 for d in range(len(shape))]
    return [Leaf(View(None, shape, strides), dtype)]


register_kernel(P.iota_p, _iota)


def _dynamic_slice(ctx, eqn, args, *, slice_sizes):
    x, starts = args[0], args[1:]
    names = []
    for k, (s, d, z) in enumerate(zip(starts, x.shape, slice_sizes)):
        names.append(ctx.fresh("start"))
        ctx.line(f"const int64_t {names[-1]} = jl_clamp_start((int64_t){ctx.scalar(s)}, {d}, {z});")

    def window(v: View) -> View:
        dyn = " + ".join(
            [v.dyn] * bool(v.dyn) + [_scaled(n, s) for n, s in zip(names, v.strides) if s]
        )
        return View(v.buf, slice_sizes, v.strides, v.offset, dyn.replace("+ -", "- "))

    return [map_views(x, window)]


register_kernel(P.dynamic_slice_p, _dynamic_slice)


def _dynamic_update_slice(ctx, eqn, args):
    x, update, starts = args[0], args[1], args[2:]
    out = ctx.new_output(eqn)
    ctx.write(x, out)
    dyn = []
    for s, d, z, st in zip(starts, x.shape, update.shape, out.strides):
        name = ctx.fresh("start")
        ctx.line(f"const int64_t {name} = jl_clamp_start((int64_t){ctx.scalar(s)}, {d}, {z});")
        dyn.append(_scaled(name, st))
    ctx.write(update, View(out.buf, update.shape, out.strides, 0, " + ".join(dyn)))
    return [Leaf(out, eqn.outvars[0].aval.dtype)]


register_kernel(P.dynamic_update_slice_p, _dynamic_update_slice)


def _concatenate(ctx, eqn, args, *, dimension):
    out = ctx.new_output(eqn)
    at = 0
    for x in args:
        n = x.shape[dimension]
        lo = [0] * len(out.shape)
        hi = list(out.shape)
        lo[dimension], hi[dimension] = at, at + n
        ctx.write(x, _slice(out, lo, hi, None))
        at += n
    return [Leaf(out, eqn.outvars[0].aval.dtype)]


register_kernel(P.concatenate_p, _concatenate)


def _pad(ctx, eqn, args, *, padding_config):
    x, value = args
    out = ctx.new_output(eqn)
    ctx.write(Scalar(ctx.scalar(value), value.dtype, out.shape), out)
    src_lo, src_hi, dst_lo, dst_hi, steps = [], [], [], [], []
    for n, m, (lo, _, interior) in zip(x.shape, out.shape, padding_config):
        step = interior + 1
        first = max(0, -(lo // step) if lo < 0 else 0)  # first source index that lands in range
        last = min(n, (m - 1 - lo) // step + 1) if m > 0 else 0  # one past the last one
        last = max(last, first)
        src_lo.append(first)
        src_hi.append(last)
        dst_lo.append(lo + first * step)
        dst_hi.append(lo + (last - 1) * step + 1 if last > first else lo + first * step)
        steps.append(step)
    if all(h > lo for lo, h in zip(src_lo, src_hi)):
        part = map_views(x, lambda v: _slice(v, src_lo, src_hi, None))
        ctx.write(part, _slice(out, dst_lo, dst_hi, steps))
    return [Leaf(out, eqn.outvars[0].aval.dtype)]


register_kernel(P.pad_p, _pad)


# --- reductions ----------------------------------------------------------------------------


def _acc_dtype(prim, dt):
    # NB: float32 sums accumulate in float64 along the innermost axes (NumPy sums pairwise:
    # both are accurate where a float32 running sum of many terms is not).
    return dtypes.float64 if prim is P.reduce_sum_p and dt == dtypes.float32 else dt


def _combine(prim, dt) -> Callable[[str, str], str]:
    if prim in (P.reduce_sum_p, P.cumsum_p):
        return lambda a, b: f"{a} + {b}"
    if prim in (P.reduce_prod_p, P.cumprod_p):
        return lambda a, b: f"{a} * {b}"
    if prim in (P.reduce_max_p, P.cummax_p):
        return lambda a, b: f"jl_max_{sfx(dt)}({a}, {b})"
    if prim in (P.reduce_min_p, P.cummin_p):
        return lambda a, b: f"jl_min_{sfx(dt)}({a}, {b})"
    op = {P.reduce_and_p: "&", P.reduce_or_p: "|"}[prim]
    return lambda a, b: f"{a} {op * 2 if dt.kind == 'b' else op} {b}"


def _identity(prim, dt) -> str:
    if prim is P.reduce_sum_p:
        return c_literal(0, dt)
    if prim is P.reduce_prod_p:
        return c_literal(1, dt)
    if prim is P.reduce_and_p:
        return (
            "true" if dt.kind == "b" else c_literal(-1 if dt.kind == "i" else np.iinfo(dt).max, dt)
        )
    if prim is P.reduce_or_p:
        return c_literal(0, dt)
    big = prim is P.reduce_min_p
    if dt.kind == "f":
        return c_literal(np.inf if big else -np.inf, dt)
    if dt.kind == "b":
        return "true" if big else "false"
    return c_literal(np.iinfo(dt).max if big else np.iinfo(dt).min, dt)


def _reduce(ctx, eqn, args, *, axes):
    prim, (x,), dt = eqn.primitive, args, eqn.outvars[0].aval.dtype
    out = ctx.new_output(eqn)
    init, combine = _identity(prim, dt), _combine(prim, dt)
    if math.prod(out.shape) == 0:
        return [Leaf(out, dt)]
    if math.prod(x.shape) == 0:
        ctx.write(Scalar(init, dt, out.shape), out)
        return [Leaf(out, dt)]
    # The output seen in the input's index space: stride 0 along the reduced axes.
    ostrides, k = [], 0
    for d in range(len(x.shape)):
        ostrides.append(0 if d in axes else out.strides[k])
        k += d not in axes
    target = View(out.buf, x.shape, ostrides)
    shape = coalesce(x.shape, [lf.view.strides for lf in leaves(x)] + [ostrides])
    x, target = ctx.reshape(x, shape), _reshape_view(target, shape)
    reduced = [s == 0 and n > 1 for s, n in zip(target.strides, shape)]
    if not any(reduced):  # only size-1 axes are reduced
        ctx.write(x, target)
        return [Leaf(out, dt)]
    # Loops over the input in memory order; the innermost run of reduced axes accumulates in a
    # local, the output accumulates across the outer reduced axes (initialized first).
    t = len(shape)
    while t > 0 and reduced[t - 1]:
        t -= 1
    outer_reduced = any(reduced[:t])
    if outer_reduced:
        ctx.write(Scalar(init, dt, out.shape), out)
    acc_t = CTYPE[_acc_dtype(prim, dt)]
    work = math.prod(shape) * (1 + getattr(x, "cost", 0))
    # Threads share the outer loops when each writes its own outputs, else the reduction itself.
    outer_parallel = t > 0 and not outer_reduced and ctx.parallel(work)
    op = _OMP_REDUCTION.get((prim, dt.kind))
    with ctx.loops(shape[:t], parallel=outer_parallel, simd=t == len(shape)) as oidx:
        o = f"{out.buf}[{target.index(oidx + ['0'] * (len(shape) - t))}]"
        if t == len(shape):
            ctx.line(f"{o} = {combine(o, ctx.read(x, oidx))};")
        else:
            acc = ctx.fresh("acc")
            ctx.line(f"{acc_t} {acc} = {_identity(prim, _acc_dtype(prim, dt))};")
            inner_parallel = t == 0 and op is not None and ctx.parallel(work)
            with ctx.loops(shape[t:], prefix="r", parallel=inner_parallel, simd=op is not None,
                           reduction=f"{op}:{acc}" if op else "") as ridx:  # fmt: skip
                ctx.line(f"{acc} = {combine(acc, ctx.read(x, oidx + ridx))};")
            ctx.line(f"{o} = {combine(o, acc) if outer_reduced else acc};")
    return [Leaf(out, dt)]


# The reductions OpenMP may reorder (and so vectorize): sums and products (floats too: the
# result changes in the last bits, as NumPy's pairwise sums do) and the bitwise ones.
_OMP_REDUCTION = {
    **{(P.reduce_sum_p, k): "+" for k in "fiu"},
    **{(P.reduce_prod_p, k): "*" for k in "fiu"},
    (P.reduce_and_p, "i"): "&", (P.reduce_and_p, "u"): "&", (P.reduce_and_p, "b"): "&&",
    (P.reduce_or_p, "i"): "|", (P.reduce_or_p, "u"): "|", (P.reduce_or_p, "b"): "||",
}  # fmt: skip


for _p in (P.reduce_sum_p, P.reduce_prod_p, P.reduce_max_p, P.reduce_min_p, P.reduce_and_p,
           P.reduce_or_p):  # fmt: skip
    register_kernel(_p, _reduce)


def _argminmax(ctx, eqn, args, *, axes, index_dtype):
    (x,), (axis,) = args, axes
    out = ctx.new_output(eqn)
    x = ctx.materialize(x, "arg") if type(x) is Op else x
    op = ">" if eqn.primitive is P.argmax_p else "<"
    t = CTYPE[x.dtype]
    kept = [n for d, n in enumerate(x.shape) if d != axis]
    with ctx.loops(kept) as oidx:
        best, bi = ctx.fresh("best"), ctx.fresh("arg")
        at = lambda k: oidx[:axis] + [k] + oidx[axis:]
        ctx.line(f"{t} {best} = {ctx.read(x, at('0'))};")
        ctx.line(f"int64_t {bi} = 0;")
        with ctx.loops([x.shape[axis]], prefix="r") as (r,):
            v = ctx.fresh("v")
            ctx.line(f"const {t} {v} = {ctx.read(x, at(r))};")
            better = f"{v} {op} {best}"
            if x.dtype.kind == "f":  # the first NaN wins, as in NumPy
                better = f"{better} || (isnan({v}) && !isnan({best}))"
            with ctx.block(f"if ({better})"):
                ctx.line(f"{best} = {v};")
                ctx.line(f"{bi} = {r};")
        ctx.line(f"{out.buf}[{out.index(oidx)}] = ({CTYPE[index_dtype]}){bi};")
    return [Leaf(out, index_dtype)]


register_kernel(P.argmax_p, _argminmax)
register_kernel(P.argmin_p, _argminmax)


def _cumulative(ctx, eqn, args, *, axis, reverse):
    (x,), dt = args, eqn.outvars[0].aval.dtype
    out = ctx.new_output(eqn)
    if math.prod(x.shape) == 0:
        return [Leaf(out, dt)]
    combine = _combine(eqn.primitive, dt)
    with ctx.loops(x.shape, reverse={axis} if reverse else ()) as idx:
        v = ctx.read(x, idx)
        first = f"{idx[axis]} == {x.shape[axis] - 1 if reverse else 0}"
        prev = list(idx)
        prev[axis] = f"({idx[axis]} {'+' if reverse else '-'} 1)"
        o = f"{out.buf}[{out.index(idx)}]"
        ctx.line(f"{o} = {first} ? {v} : {combine(f'{out.buf}[{out.index(prev)}]', v)};")
    return [Leaf(out, dt)]


for _p in (P.cumsum_p, P.cumprod_p, P.cummax_p, P.cummin_p):
    register_kernel(_p, _cumulative)


# --- dot_general ---------------------------------------------------------------------------


def _dot_general(ctx, eqn, args, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = args
    dt, out_dt = lhs.dtype, eqn.outvars[0].aval.dtype
    lfree = [d for d in range(len(lhs.shape)) if d not in lc and d not in lb]
    rfree = [d for d in range(len(rhs.shape)) if d not in rc and d not in rb]
    if out_dt != dt and dt.kind != "b":  # accumulate in the preferred type, as XLA (and eager)
        rule = ELEMENTWISE[P.convert_element_type_p]
        lhs, rhs = [Op(rule, {"new_dtype": out_dt}, [a], out_dt, a.shape, "cvt", 1 + a.cost
                       if type(a) is Op else 1) for a in (lhs, rhs)]  # fmt: skip
        dt = out_dt
    if not lc and out_dt == dt:  # no contraction: an elementwise product, fused like one
        return [_outer_product(ctx, eqn, lhs, rhs, list(lb) + lfree, list(rb) + rfree, len(lb))]
    lhs, rhs = [ctx.materialize(a, "dot") if type(a) is Op else a for a in (lhs, rhs)]
    if dt.kind == "f" and out_dt == dt:
        return [_gemm(ctx, eqn, lhs, rhs, (lb, lfree, lc), (rb, rc, rfree))]
    return [_dot_loops(ctx, eqn, lhs, rhs, lc, rc, lb, rb, lfree, rfree)]


def _outer_product(ctx, eqn, lhs, rhs, ldims, rdims, nb):
    out = eqn.outvars[0].aval
    nlf = len(ldims) - nb
    lpos = list(range(nb + nlf))
    rpos = list(range(nb)) + list(range(nb + nlf, len(out.shape)))
    placed = []
    for x, dims, pos in ((lhs, ldims, lpos), (rhs, rdims, rpos)):
        if type(x) is Op and x.cost > 2:
            x = ctx.materialize(x, "dot")

        def place(v, dims=dims, pos=pos):
            return _broadcast_in_dim(_transpose(v, dims), out.shape, pos)

        placed.append(map_views(x, place))
    rule = ELEMENTWISE[P.and_p if out.dtype.kind == "b" else P.mul_p]
    cost = 1 + sum(getattr(a, "cost", 0) for a in placed)
    return Op(rule, {}, placed, out.dtype, out.shape, ctx.names.var(eqn.outvars[0]), cost)


def _gemm(ctx, eqn, lhs, rhs, ldims, rdims):
    """dot_general as one BLAS gemm per batch element (csrc/jl_blas.h)."""
    out = ctx.new_output(eqn)
    dt = lhs.dtype
    (lb, lfree, lc), (rb, rc, rfree) = ldims, rdims
    size = lambda x, dims: math.prod(x.shape[d] for d in dims)
    nbatch, m, n, k = size(lhs, lb), size(lhs, lfree), size(rhs, rfree), size(lhs, lc)
    if m * n * nbatch == 0:
        return Leaf(out, dt)
    if k == 0:
        ctx.write(Scalar(c_literal(0, dt), dt, out.shape), out)
        return Leaf(out, dt)
    ctx.runtime = True
    a_ptr, a_batch, ta, lda = _matrix(ctx, lhs, lb, lfree, lc)
    b_ptr, b_batch, tb, ldb = _matrix(ctx, rhs, rb, rc, rfree)
    t = lambda flag: "true" if flag else "false"

    def call(b: str) -> str:
        a_at = a_ptr + (f" + {_scaled(b, a_batch)}" if a_batch and b != "0" else "")
        b_at = b_ptr + (f" + {_scaled(b, b_batch)}" if b_batch and b != "0" else "")
        c_at = out.buf + (f" + {_scaled(b, m * n)}" if b != "0" else "")
        return (f"jl_gemm_{sfx(dt)}({t(ta)}, {t(tb)}, {m}, {n}, {k}, {a_at}, {lda}, {b_at}, "
                f"{ldb}, {c_at}, {n});")  # fmt: skip

    if nbatch == 1:
        ctx.line(call("0"))
    else:
        with ctx.loops([nbatch], prefix="b") as (b,):
            ctx.line(call(b))
    return Leaf(out, dt)


def _matrix(ctx, x: Leaf, batch, rows, cols):
    """`x` as a batch of BLAS matrices: (pointer, batch stride, transposed, leading dimension),
    copying it to a contiguous (batch, rows, cols) buffer only when no strides fit BLAS."""
    sizes = [math.prod(x.shape[d] for d in dims) for dims in (batch, rows, cols)]
    perm = list(batch) + list(rows) + list(cols)
    v = _reshape_view(_transpose(x.view, perm), sizes) if x.view.buf is not None else None
    layout = _blas_layout(v) if v is not None else None
    if layout is None:
        dest = ctx.alloc(f"{x.view.buf or 'iota'}_mat", x.dtype, [x.shape[d] for d in perm])
        ctx.write(Leaf(_transpose(x.view, perm), x.dtype), dest)
        v = _reshape_view(dest, sizes)
        layout = _blas_layout(v)
    offset = v.index(["0"] * 3)
    ptr = v.buf if offset == "0" else f"({v.buf} + {offset})"
    return ptr, v.strides[0] if sizes[0] > 1 else 0, layout[0], layout[1]


def _blas_layout(v: View) -> tuple[bool, int] | None:
    """(transposed, leading dimension) of a (batch, rows, cols) view that BLAS can read, or None."""
    (_, r, c), (_, sr, sc) = v.shape, v.strides
    if (sc == 1 or c == 1) and (r == 1 or sr >= max(c, 1)):
        return False, sr if r > 1 else max(c, 1)
    if (sr == 1 or r == 1) and (c == 1 or sc >= max(r, 1)):
        return True, sc if c > 1 else max(r, 1)
    return None


def _dot_loops(ctx, eqn, lhs, rhs, lc, rc, lb, rb, lfree, rfree):
    """dot_general as C loops: integers, bools, and a preferred_element_type."""
    out = ctx.new_output(eqn)
    dt, out_dt = lhs.dtype, eqn.outvars[0].aval.dtype
    csizes = [lhs.shape[d] for d in lc]
    with ctx.loops(out.shape) as oidx:
        acc = ctx.fresh("acc")
        ctx.line(f"{CTYPE[dt]} {acc} = {c_literal(0, dt)};")
        with ctx.loops(csizes, prefix="k") as cidx:

            def index(nd, c, b, free, free_at):
                return [
                    cidx[c.index(d)] if d in c else oidx[b.index(d)] if d in b
                    else oidx[free_at + free.index(d)]
                    for d in range(nd)
                ]  # fmt: skip

            a = ctx.read(lhs, index(len(lhs.shape), lc, lb, lfree, len(lb)))
            b = ctx.read(rhs, index(len(rhs.shape), rc, rb, rfree, len(lb) + len(lfree)))
            step = f"{acc} || ({a} && {b})" if dt.kind == "b" else f"{acc} + {a} * {b}"
            ctx.line(f"{acc} = {step};")
        ctx.line(f"{out.buf}[{out.index(oidx)}] = {convert(dt, out_dt, acc)};")
    return Leaf(out, out_dt)


register_kernel(P.dot_general_p, _dot_general)


# --- sort ----------------------------------------------------------------------------------


def _sort(ctx, eqn, args, *, dimension, is_stable, num_keys):
    ops = [ctx.materialize(a, "sort") for a in args]
    shape = ops[0].shape
    n = shape[dimension]
    outs = [ctx.new_output(eqn, i) for i in range(len(ops))]
    if math.prod(shape) == 0:
        return [Leaf(o, a.dtype) for o, a in zip(outs, ops)]
    # A comparator over the keys' rows: lexicographic, NaN last (NumPy's order).
    tag = ctx.fresh("")
    fields = "".join(
        f" const {CTYPE[k.dtype]} *k{j}; int64_t s{j};" for j, k in enumerate(ops[:num_keys])
    )
    ctx.toplevel.append(f"typedef struct {{{fields} }} jl_sort_keys{tag};")
    body = [f"static bool jl_less{tag}(const void *p, int64_t a, int64_t b) {{",
            f"  const jl_sort_keys{tag} *c = p;"]  # fmt: skip
    for j, k in enumerate(ops[:num_keys]):
        t = CTYPE[k.dtype]
        body.append(f"  {{ const {t} x = c->k{j}[a * c->s{j}], y = c->k{j}[b * c->s{j}];")
        if k.dtype.kind == "f":
            body.append("    if (x < y || (isnan(y) && !isnan(x))) return true;")
            body.append("    if (y < x || (isnan(x) && !isnan(y))) return false; }")
        else:
            body.append("    if (x < y) return true;")
            body.append("    if (y < x) return false; }")
    body += ["  return false;", "}", ""]
    ctx.toplevel.extend(body)
    perm = ctx.alloc(f"perm{tag}", dtypes.int64, (2 * n,))
    rows = [m for d, m in enumerate(shape) if d != dimension]
    with ctx.loops(rows) as ridx:
        at = lambda k: ridx[:dimension] + [k] + ridx[dimension:]
        keys = ctx.fresh("keys")
        inits = ", ".join(f"&{k.view.buf}[{k.view.index(at('0'))}], {k.view.strides[dimension]}"
                          for k in ops[:num_keys])  # fmt: skip
        ctx.line(f"const jl_sort_keys{tag} {keys} = {{{inits}}};")
        with ctx.loops([n], prefix="j") as (j,):
            ctx.line(f"{perm.buf}[{j}] = {j};")
        ctx.line(f"jl_merge_sort({perm.buf}, {perm.buf} + {n}, {n}, jl_less{tag}, &{keys});")
        with ctx.loops([n], prefix="j") as (j,):
            for a, o in zip(ops, outs):
                ctx.line(f"{o.buf}[{o.index(at(j))}] = {ctx.read(a, at(f'{perm.buf}[{j}]'))};")
    return [Leaf(o, a.dtype) for o, a in zip(outs, ops)]


register_kernel(P.sort_p, _sort)


# ---- gather / scatter ----
# One loop nest over the index batch (the start indices are read and clamped, or checked, once
# per window) around a loop nest over the window. Index arithmetic is int64_t throughout. The
# out-of-bounds rules are those of the NumPy impl: gathers clamp or fill, scatters clamp or drop.


def _window_dims_of(rank: int, dropped, batching) -> list[int]:
    return [d for d in range(rank) if d not in dropped and d not in batching]


def _window_starts(ctx, idx: Node, bidx, index_map, op_shape, sizes, check: bool):
    """Per operand dimension, the C name of its window start; and the in-bounds flag (or None)."""
    starts, ok_terms = {}, []
    for k, d in enumerate(index_map):
        s = ctx.fresh("start")
        raw = f"(int64_t){ctx.read(idx, list(bidx) + [str(k)])}"
        if check:
            ctx.line(f"const int64_t {s} = {raw};")
            ok_terms.append(f"{s} >= 0 && {s} <= {op_shape[d] - sizes[d]}")
        else:
            ctx.line(f"const int64_t {s} = jl_clamp_start({raw}, {op_shape[d]}, {sizes[d]});")
        starts[d] = s
    if not check:
        return starts, None
    ok = ctx.fresh("inbounds")
    ctx.line(f"const bool {ok} = {' && '.join(f'({t})' for t in ok_terms) or 'true'};")
    return starts, ok


def _operand_index(ctx, starts: dict, widx, window, rank: int) -> list[str]:
    names = []
    for d in range(rank):
        terms = [starts[d]] if d in starts else []
        if d in window:
            terms.append(widx[window.index(d)])
        name = ctx.fresh("at")
        ctx.line(f"const int64_t {name} = {' + '.join(terms) or '0'};")
        names.append(name)
    return names


def _gather(ctx, eqn, args, *, dimension_numbers, slice_sizes, mode, fill_value, **_):
    x, idx = [ctx.materialize(a, "gather_in") if type(a) is Op else a for a in args]
    dn, dt = dimension_numbers, eqn.outvars[0].aval.dtype
    out = ctx.new_output(eqn)
    if math.prod(out.shape) == 0:
        return [Leaf(out, dt)]
    rank, bshape = len(x.shape), idx.shape[:-1]
    window = _window_dims_of(rank, dn.collapsed_slice_dims, dn.operand_batching_dims)
    # The output seen in (batch dims, window dims) order.
    b_pos = [p for p in range(len(out.shape)) if p not in dn.offset_dims]
    strides = [out.strides[p] for p in b_pos] + [out.strides[p] for p in dn.offset_dims]
    dest = View(out.buf, bshape + tuple(slice_sizes[d] for d in window), strides)
    fill = mode is P.GatherScatterMode.FILL_OR_DROP
    with ctx.loops(bshape, prefix="b") as bidx:
        starts, ok = _window_starts(ctx, idx, bidx, dn.start_index_map, x.shape, slice_sizes, fill)
        for ob, ib in zip(dn.operand_batching_dims, dn.start_indices_batching_dims):
            starts[ob] = bidx[ib]
        with ctx.loops([slice_sizes[d] for d in window], prefix="w") as widx:
            value = ctx.read(x, _operand_index(ctx, starts, widx, window, rank))
            if fill:  # NB: the ternary never reads the operand out of bounds
                value = f"{ok} ? {value} : {c_literal(fill_value, dt)}"
            ctx.line(f"{out.buf}[{dest.index(list(bidx) + list(widx))}] = {value};")
    return [Leaf(out, dt)]


register_kernel(P.gather_p, _gather)


def _scatter_combine(prim, dt):
    if prim is P.scatter_p:
        return lambda old, new: new
    rule = {P.scatter_add_p: P.add_p, P.scatter_mul_p: P.mul_p, P.scatter_min_p: P.min_p,
            P.scatter_max_p: P.max_p}[prim]  # fmt: skip
    return lambda old, new: ELEMENTWISE[rule](dt, old, new)


def _scatter(ctx, eqn, args, *, dimension_numbers, mode, **_):
    x, idx, upd = args
    idx = ctx.materialize(idx, "scatter_idx") if type(idx) is Op else idx
    dn, dt = dimension_numbers, eqn.outvars[0].aval.dtype
    out = ctx.new_output(eqn)
    ctx.write(x, out)
    if math.prod(out.shape) == 0 or math.prod(upd.shape) == 0:
        return [Leaf(out, dt)]
    rank, bshape = len(out.shape), idx.shape[:-1]
    window = _window_dims_of(rank, dn.inserted_window_dims, dn.operand_batching_dims)
    sizes = [1] * rank
    for d, u in zip(window, dn.update_window_dims):
        sizes[d] = upd.shape[u]
    scatter_dims = [i for i in range(len(upd.shape)) if i not in dn.update_window_dims]
    combine = _scatter_combine(eqn.primitive, dt)
    drop = mode is not P.GatherScatterMode.CLIP

    def window_loops(bidx, starts):
        with ctx.loops([sizes[d] for d in window], prefix="w") as widx:
            at = _operand_index(ctx, starts, widx, window, rank)
            uidx = [
                bidx[scatter_dims.index(i)]
                if i in scatter_dims
                else widx[dn.update_window_dims.index(i)]
                for i in range(len(upd.shape))
            ]
            target = f"{out.buf}[{out.index(at)}]"
            ctx.line(f"{target} = {combine(target, ctx.read(upd, uidx))};")

    with ctx.loops(bshape, prefix="b") as bidx:
        starts, ok = _window_starts(
            ctx, idx, bidx, dn.scatter_dims_to_operand_dims, out.shape, sizes, drop
        )
        for ob, ib in zip(dn.operand_batching_dims, dn.scatter_indices_batching_dims):
            starts[ob] = bidx[ib]
        if drop:  # an out-of-bounds window is skipped whole
            with ctx.block(f"if ({ok})"):
                window_loops(bidx, starts)
        else:
            window_loops(bidx, starts)
    return [Leaf(out, dt)]


for _p in (P.scatter_p, P.scatter_add_p, P.scatter_mul_p, P.scatter_min_p, P.scatter_max_p):
    register_kernel(_p, _scatter)

# ---- end gather / scatter ----
