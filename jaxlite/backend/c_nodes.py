"""The values of the C lowering: C types and literals, strided `View`s onto buffers, the nodes
a jaxpr variable maps to while lowering (`Scalar`, `Leaf`, `Op`), and the names and comments
written into the C. No emission here: see lower_ctx.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import core, dtypes
from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var

# ------------------------------------------------------------------------------------------
# C types and literals
# ------------------------------------------------------------------------------------------

CTYPE = {
    dtypes.bool_: "bool",
    dtypes.uint8: "uint8_t",
    dtypes.uint16: "uint16_t",
    dtypes.uint32: "uint32_t",
    dtypes.uint64: "uint64_t",
    dtypes.int8: "int8_t",
    dtypes.int16: "int16_t",
    dtypes.int32: "int32_t",
    dtypes.int64: "int64_t",
    dtypes.float16: "uint16_t",  # 16-bit floats: their bits (computed in float32: half.py)
    dtypes.float32: "float",
    dtypes.float64: "double",
    dtypes.complex64: "float _Complex",  # complex (issue 21): csrc/jl_complex.h
    dtypes.complex128: "double _Complex",
}
SUFFIX = {
    dtypes.bool_: "b",
    dtypes.uint8: "u8",
    dtypes.uint16: "u16",
    dtypes.uint32: "u32",
    dtypes.uint64: "u64",
    dtypes.int8: "i8",
    dtypes.int16: "i16",
    dtypes.int32: "i32",
    dtypes.int64: "i64",
    dtypes.float16: "f16",
    dtypes.float32: "f32",
    dtypes.float64: "f64",
    dtypes.complex64: "c64",
    dtypes.complex128: "c128",
}
# bfloat16's entries: added when ml_dtypes loads (jaxlite imports it only when bfloat16 is used).
dtypes.on_bfloat16(lambda bf16: (CTYPE.update({bf16: "uint16_t"}), SUFFIX.update({bf16: "bf16"})))
_INT_MIN = {dtypes.int32: "INT32_MIN", dtypes.int64: "INT64_MIN"}


def c_literal(value, dtype: np.dtype) -> str:
    """An exact C literal of `dtype`, parenthesized when negative (an atom in any expression)."""
    v = np.asarray(value, dtype)[()]
    if dtype in dtypes.HALF_DTYPES:  # a 16-bit float: its bits
        return f"((uint16_t)0x{int(np.asarray(v).view(np.uint16)):04x}u)"
    if dtype.kind == "c":  # a constant expression of gcc's (C has no complex literals)
        part = dtypes.to_real(dtype)
        return f"__builtin_complex({c_literal(v.real, part)}, {c_literal(v.imag, part)})"
    if dtype.kind == "b":
        return "true" if v else "false"
    if dtypes.is_float(dtype):
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
        text = str(int(v)) + {dtypes.uint32: "u", dtypes.uint64: "ULL", dtypes.int64: "LL"}.get(
            dtype, ""
        )
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
        terms += [scaled(i, s) for i, s in zip(idx, self.strides) if s and i != "0"]
        if self.offset:
            terms.append(str(self.offset))
        return " + ".join(terms).replace("+ -", "- ") if terms else "0"

    def read(self, idx: Sequence[str], dtype) -> str:
        if self.buf is None:
            return f"(({CTYPE[dtype]})({self.index(idx)}))"
        if dtype == dtypes.bool_:
            # NB: read as bytes: gcc 12 vectorizes no loop that loads a _Bool (the causal mask's
            # select in an attention softmax ran scalar, exp and all: 2 ms of a 75 ms step)
            return f"(((const uint8_t *){self.buf})[{self.index(idx)}] != 0)"
        return f"{self.buf}[{self.index(idx)}]"

    def __repr__(self) -> str:
        return f"View({self.buf}, {self.shape}, {self.strides}, {self.offset}, {self.dyn!r})"


def scaled(i: str, s: int) -> str:
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
    """A value that is the same at every index: a C atom, seen with some shape. `buf` names the
    buffer the atom reads (`tmp_c[0]`), if it reads one (the planner must know)."""

    __slots__ = ("buf", "dtype", "shape", "text")

    def __init__(self, text: str, dtype: np.dtype, shape=(), buf: str | None = None):
        self.text, self.dtype, self.shape, self.buf = text, dtype, tuple(shape), buf


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
        shape = fn(View(None, node.shape, (0,) * len(node.shape))).shape
        res = Scalar(node.text, node.dtype, shape, node.buf)
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


def reshape_view(v: View, shape) -> View | None:
    """`v` seen with `shape` (the same elements in order), or None if that needs a copy."""
    strides = reshape_strides(v.shape, v.strides, shape)
    return None if strides is None else View(v.buf, shape, strides, v.offset, v.dyn)
