"""`to_c`: a function, traced and lowered as jit does, packaged as standalone C99."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from jaxlite import core, jaxpr_util, tree_util
from jaxlite._tracing_api import ShapeDtypeStruct
from jaxlite._version import __version__
from jaxlite.backend import compile as _compile
from jaxlite.backend import runtime
from jaxlite.backend.c_nodes import CTYPE
from jaxlite.errors import ConcretizationTypeError, ExportError, NonConcreteBooleanIndexError
from jaxlite.export import _adapter, _emit, _names
from jaxlite.jit import JitFunction, jit
from jaxlite.primitives._callback import CALLBACK_PRIMITIVES
from jaxlite.primitives._eig import eig_p

RUNTIME_FILE = "jl_gemm.c"


@dataclass(frozen=True)
class Port:
    """One input, output or embedded array of the exported function."""

    ident: str  # its C identifier (escaped)
    path: str  # the pytree path it comes from, as Python text (shown in comments only)
    aval: core.ShapedArray
    slot: int | None = None  # the kernel input it feeds (None: a constant of the lowering)
    value: np.ndarray | None = None  # embedded: the array, bit for bit
    cname: str = ""  # embedded: the name of its static const array

    @property
    def size(self) -> int:
        return math.prod(self.aval.shape)


class ExportedC:
    """A function exported as C: `header` and `source` text, the ports, and `write`.

    Attributes:
      name: the C function's name (`name.h`, `name.c`).
      inputs, outputs: `Port`s, in the C function's argument order (inputs, then outputs).
      embedded: the arrays compiled into `name.c` (embedded arguments, the function's own
        constants).
      workspace_bytes: what `name_workspace_size()` returns.
      header, source: the text of `name.h` and `name.c`; `files()` every file `write` writes.
    """

    def __init__(self, name, fun_name, kernel, inputs, outputs, embedded, in_tree, out_tree):
        self.name = name
        self.fun_name = fun_name
        self.kernel = kernel
        self.inputs, self.outputs, self.embedded = inputs, outputs, embedded
        self.in_tree, self.out_tree = in_tree, out_tree  # of the run-time inputs, the outputs
        self.version = __version__
        ws = kernel.workspace_size
        self.workspace_bytes = ws + 63 if ws else 0  # + room to align the caller's pointer
        self.header = _emit.header(self)
        self.source = _emit.source(self)

    @property
    def in_avals(self):
        return tuple(p.aval for p in self.inputs)

    @property
    def out_avals(self):
        return tuple(p.aval for p in self.outputs)

    def csrc_files(self) -> list[str]:
        """The files of jaxlite's csrc/ that `name.c` includes."""
        # NB: every csrc header the kernel includes, in its order, and the ones they include
        # (jaxlite.h: jl_threads.h); a new header needs no entry
        names = _csrc_includes(self.kernel.source, [])
        if self.kernel.runtime:
            for h in ("jaxlite.h", "jl_blas.h"):
                if h not in names:
                    _csrc_includes(f'#include "{h}"', names)
            names.append(RUNTIME_FILE)
        return names

    def files(self) -> dict[str, str]:
        """File name -> text of everything `write` writes."""
        out = {f"{self.name}.h": self.header, f"{self.name}.c": self.source}
        for f in self.csrc_files():
            with open(os.path.join(_compile.CSRC_DIR, f)) as fh:
                out[f] = fh.read()
        out["README.txt"] = readme(self)
        return out

    def write(self, directory: str) -> dict[str, str]:
        """Writes the files into `directory` (created if needed); returns name -> path."""
        os.makedirs(directory, exist_ok=True)
        paths = {}
        for fname, text in self.files().items():
            paths[fname] = os.path.join(directory, fname)
            with open(paths[fname], "w") as f:
                f.write(text)
        return paths

    def __repr__(self) -> str:
        sig = ", ".join(f"{p.ident}: {_emit.aval_text(p.aval)}" for p in self.inputs)
        outs = ", ".join(_emit.aval_text(p.aval) for p in self.outputs)
        return f"<jaxlite.export.ExportedC {self.name}({sig}) -> ({outs})>"


def _csrc_includes(text: str, names: list[str]) -> list[str]:
    """`names` plus the csrc/ files `text` includes (`#include "x"`), depth first, each once."""
    for h in re.findall(r'^#include "([^"/]+)"', text, re.M):
        path = os.path.join(_compile.CSRC_DIR, h)
        if h not in names and os.path.exists(path):
            names.append(h)
            with open(path) as f:
                _csrc_includes(f.read(), names)
    return names


# Flags that make the C compute what jit computes, bit for bit (compile.compiler_command's
# code-generation flags; tests/test_export.py checks that they stay the same).
SEMANTIC_FLAGS = (
    "-std=c99",
    "-fwrapv",  # required: signed overflow wraps (as in NumPy), never undefined behaviour
    "-ffp-contract=off",  # required for jit's results: no fused multiply-add
    "-fno-math-errno",  # libm need not set errno; results unchanged
    "-fno-trapping-math",  # FP exceptions masked; results unchanged
)


def cflags(*, openmp: bool = False, native: bool = True) -> list[str]:
    """The compiler flags jit uses, for the exported C: `-O3 -march=native` (the speed; drop
    `native` for a binary that runs on other CPUs), SEMANTIC_FLAGS, and OpenMP threads
    (`-fopenmp`) or only its vectorization hints (`-fopenmp-simd`)."""
    return ["-O3", *(["-march=native"] if native else []), *SEMANTIC_FLAGS,
            "-fopenmp" if openmp else "-fopenmp-simd"]  # fmt: skip


def readme(exp: ExportedC) -> str:
    n = exp.name
    return "\n".join([
        f"{n}: `{exp.fun_name}` exported by jaxlite {exp.version} (jaxlite.export.to_c).",
        "",
        f"Build (C99; no Python, cffi, NumPy or BLAS; {n}.h documents the function):",
        f"  cc {' '.join(cflags())} -c {n}.c -o {n}.o",
        f"  cc ... main.o {n}.o -lm",
        "Required: -fwrapv and -ffp-contract=off (the semantics jit compiles with). With these",
        "flags on the same CPU the results equal jaxlite.jit's bit for bit, when jit's products",
        "use jaxlite's own kernels (jaxlite.export.own_products()). Another -O or -march gives",
        "the same results except in the last bits of float reductions (sums that",
        "`#pragma omp simd reduction` lets the compiler split into vector lanes).",
        "-fopenmp instead of -fopenmp-simd runs large loops on OpenMP threads (libgomp); the",
        "code needs no other macro. -ffast-math compiles but is not supported: isnan,",
        "infinities and signed zeros stop behaving as in NumPy and results differ from jit.",
        "",
        "No malloc in a call: products pack their operands into the workspace (up to 288 KiB",
        "float32, 576 KiB float64 per product, shared with the other buffers), and run on the",
        "calling thread even with -fopenmp (loops outside products still use threads).",
        "Stack: a few KiB in a product.",
        "",
    ])  # fmt: skip


# ------------------------------------------------------------------------------------------
# to_c
# ------------------------------------------------------------------------------------------


def to_c(
    fun: Callable,
    *args,
    name: str = "model",
    embed: Sequence[int | str] = (),
    static_argnums: int | Sequence[int] = (),
    static_argnames: str | Sequence[str] = (),
    directory: str | None = None,
    **kwargs,
) -> ExportedC:
    """Exports `fun`, traced for these arguments, as a standalone C99 function.

    The C is what `jaxlite.jit(fun)` runs for this signature (the same jaxpr, passes and
    lowering), packaged with no Python, cffi or NumPy: `name.h` documents each input and output
    (pytree path, dtype, shape) and declares `int name(inputs..., outputs..., void *workspace)`.

    Args:
      fun: the function (or a `jaxlite.jit` of it); control flow, `vmap` and `grad` inside are
        fine. It must not call back into Python.
      *args, **kwargs: example arguments: arrays, scalars, or `jaxlite.ShapeDtypeStruct`s
        for run-time inputs; embedded arguments must be arrays (their values are compiled in).
      name: the C function's name (a C identifier); the files are `name.h` and `name.c`.
      embed: arguments (positions, or parameter names) whose values are compiled into `name.c`
        as `static const` arrays, bit for bit (a pytree of weights flattens to named arrays);
        every other argument is an input of the C function.
      static_argnums, static_argnames: as for `jit`: Python values fixed in the export.
      directory: if given, the files are written there (see `ExportedC.write`).
    Returns:
      An `ExportedC`.
    Raises:
      ExportError: the function calls back into Python, has a shape known only at run time, or
        an embedded argument is not an array. Nothing is written then.

    Example:
      >>> exp = jaxlite.export.to_c(predict, params, jaxlite.ShapeDtypeStruct((1, 64),
      ...                           jnp.float32), name="digits", embed=("params",))
      >>> exp.write("build/digits")  # digits.h, digits.c, csrc headers, README.txt
    """
    _names.check_function_name(name)
    if isinstance(fun, JitFunction):
        if static_argnums or static_argnames:
            raise ExportError(
                "jaxlite.export.to_c: pass static_argnums/static_argnames to jit(fun), which "
                "already fixes them, or pass the un-jitted function."
            )
        jf = fun
    else:
        jf = jit(fun, static_argnums=static_argnums, static_argnames=static_argnames)
    embedded_args = _embedded_positions(jf, args, kwargs, embed)
    _check_leaves(jf, args, kwargs, embedded_args)
    try:
        lowered = jf.lower(*args, **kwargs)
    except (ConcretizationTypeError, NonConcreteBooleanIndexError) as e:
        raise ExportError(
            f"jaxlite.export.to_c: `{jf._name}` cannot be exported: a value it needs to know "
            "while tracing (a shape, a Python bool or int) is known only at run time. C export "
            "needs static shapes: give sizes explicitly (`jnp.nonzero(x, size=...)`, "
            f"`jnp.where(mask, x, 0)` instead of `x[mask]`), or mark the argument static.\n{e}"
        ) from e
    entry = lowered._entry
    if entry.const_arrays is None:
        raise ExportError(
            f"jaxlite.export.to_c: `{jf._name}` closes over values of an outer transformation "
            "(tracers); export a function of concrete arguments."
        )
    check_exportable(entry.jaxpr.jaxpr, jf._name)
    kernel = _adapter.lower_kernel(entry.jaxpr.jaxpr, jf._name)
    return _package(jf, name, args, kwargs, embedded_args, entry, kernel, directory)


def export(fun: Callable, **options) -> Callable[..., ExportedC]:
    """`to_c` in the shape of `jax.export.export`: `export(fun, name=..., embed=...)(*args)`.

    Example:
      >>> exp = jaxlite.export.export(jaxlite.jit(predict), embed=(0,))(params, x)
    """
    return lambda *args, **kwargs: to_c(fun, *args, **options, **kwargs)


def check_exportable(jaxpr, fun_name: str) -> None:
    """Raises ExportError if `jaxpr` (or a sub-jaxpr) calls back into Python."""
    for eqn in jaxpr.eqns:
        if eqn.primitive in CALLBACK_PRIMITIVES:
            raise ExportError(
                f"jaxlite.export.to_c: `{fun_name}` calls back into Python "
                f"({eqn.primitive.name}), which standalone C cannot do. Remove the callback "
                "(jax.debug.print, pure_callback, io_callback) from the exported function, or "
                "export the parts before and after it separately."
            )
        if eqn.primitive is eig_p:
            raise ExportError(
                f"jaxlite.export.to_c: `{fun_name}` computes a general eigendecomposition "
                "(eig: jnp.linalg.eig/eigvals), which compiled jaxlite code runs by calling back "
                "into Python (LAPACK's geev through NumPy, as JAX's CPU eig calls LAPACK) and "
                "standalone C cannot. For a symmetric or Hermitian matrix use jnp.linalg.eigh, "
                "which exports; otherwise export the parts before and after it separately."
            )
        for sub in jaxpr_util.sub_jaxprs(eqn):
            check_exportable(sub, fun_name)
    for v in jaxpr.invars + jaxpr.outvars:
        aval = getattr(v, "aval", None)
        if aval is not None and aval.dtype not in CTYPE:
            raise ExportError(
                f"jaxlite.export.to_c: `{fun_name}` has a value of dtype {aval.dtype}, which "
                "has no C type."
            )


def _param_names(jf: JitFunction) -> list[str]:
    return list(jf._params)


def _embedded_positions(jf, args, kwargs, embed) -> set:
    """The embedded arguments, as positions (ints) and keyword names (strs) of the call."""
    embed = (embed,) if isinstance(embed, (int, str)) else tuple(embed)
    params = _param_names(jf)
    out = set()
    for e in embed:
        if isinstance(e, int) and not isinstance(e, bool):
            i = e if e >= 0 else len(args) + e
            if not 0 <= i < len(args):
                raise ExportError(
                    f"jaxlite.export.to_c: embed={e} is not a positional argument "
                    f"({len(args)} given)."
                )
            out.add(i)
        elif isinstance(e, str):
            if e in kwargs:
                out.add(e)
            elif e in params and params.index(e) < len(args):
                out.add(params.index(e))
            else:
                raise ExportError(
                    f"jaxlite.export.to_c: embed={e!r} names no argument of `{jf._name}` in this "
                    f"call (its positional parameters: {params}; keywords given: "
                    f"{sorted(kwargs)})."
                )
        else:
            raise ExportError(
                f"jaxlite.export.to_c: embed entries are argument positions or names, got {e!r}."
            )
    for i in out:
        if (
            i in jf._static_argnums
            or i in jf._static_argnames
            or (isinstance(i, int) and i < len(params) and params[i] in jf._static_argnames)
        ):
            raise ExportError(
                f"jaxlite.export.to_c: argument {i!r} is static: it cannot be embedded."
            )
    return out


def _arg_heads(jf, args, kwargs) -> list[tuple[str, object, tuple, object]]:
    """(head name, position or keyword, path, leaf) of every leaf of the dynamic arguments,
    in jit's order."""
    params = _param_names(jf)
    n = len(args)
    dyn = [i for i in range(n) if i not in jf._static_argnums and i - n not in jf._static_argnums]
    dyn_args, dyn_kwargs, _ = jf._split(args, kwargs)
    pairs, _ = tree_util.tree_flatten_with_path((dyn_args, dyn_kwargs))
    out = []
    for path, leaf in pairs:
        if path[0].idx == 0:
            pos = dyn[path[1].idx]
            head = params[pos] if pos < len(params) else f"args[{pos}]"
        else:
            pos = head = path[1].key
            head = str(head)
        out.append((head, pos, tuple(path[2:]), leaf))
    return out


def _check_leaves(jf, args, kwargs, embedded) -> None:
    """Static shapes for inputs, arrays for embedded arguments: checked before tracing."""
    for head, pos, path, leaf in _arg_heads(jf, args, kwargs):
        where = _names.path_text(head, path)
        shape = getattr(leaf, "shape", ())
        if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in shape):
            raise ExportError(
                f"jaxlite.export.to_c: argument {where} has shape {tuple(shape)}, with a "
                "dimension known only at run time; C export needs static shapes: export one "
                "function per shape (e.g. per batch size)."
            )
        if pos in embedded and isinstance(leaf, (ShapeDtypeStruct, core.ShapedArray)):
            raise ExportError(
                f"jaxlite.export.to_c: argument {where} is embedded, so its value goes into the "
                "C: pass the array itself, not a ShapeDtypeStruct."
            )


def _package(jf, name, args, kwargs, embedded_args, entry, kernel, directory) -> ExportedC:
    namer = _names.Namer({name})
    n_const = len(entry.consts)
    in_avals = entry.jaxpr.in_avals
    embedded, inputs = [], []
    for k, (value, aval) in enumerate(zip(entry.const_arrays, in_avals[:n_const])):
        ident = namer(f"const_{k}")
        embedded.append(Port(ident, f"a constant of `{jf._name}`", aval, k,
                             np.ascontiguousarray(value, aval.dtype), f"{name}_{ident}_"))  # fmt: skip
    leaves = _arg_heads(jf, args, kwargs)
    assert len(leaves) == len(in_avals) - n_const, (len(leaves), len(in_avals), n_const)
    for slot, ((head, pos, path, leaf), aval) in enumerate(zip(leaves, in_avals[n_const:])):
        slot += n_const
        ident = namer(_names.path_identifier(head, path))
        text = _names.path_text(head, path)
        if pos in embedded_args:
            value = runtime.as_input(core.to_numpy(leaf), aval.dtype)
            embedded.append(Port(ident, text, aval, slot, value, f"{name}_{ident}_"))
        else:
            inputs.append(Port(ident, text, aval, slot))
    for k, value in enumerate(kernel.consts):
        ident = namer(f"lowering_const_{k}")
        aval = core.ShapedArray(value.shape, value.dtype)
        embedded.append(Port(ident, "a constant of the lowering", aval, None, value,
                             f"{name}_{ident}_"))  # fmt: skip
    outputs = []
    out_paths, _ = tree_util.tree_flatten_with_path(
        entry.out_tree.unflatten(list(range(entry.out_tree.num_leaves)))
    )
    for (path, _), aval in zip(out_paths, kernel.out_avals):
        ident = namer(_names.path_identifier("out", path))
        outputs.append(Port(ident, _names.path_text("result", path), aval))
    in_tree = tree_util.tree_structure([p.ident for p in inputs])
    exp = ExportedC(name, jf._name, kernel, inputs, outputs, embedded, in_tree, entry.out_tree)
    if directory is not None:
        exp.write(directory)
    return exp
