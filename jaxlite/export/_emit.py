"""The text of `name.h` and `name.c`: the header that documents the exported function, and the
source that wraps the lowered kernel (embedded arrays, workspace, argument checks)."""

from __future__ import annotations

import textwrap

import numpy as np

from jaxlite.backend.c_nodes import CTYPE, comment_text

# The unsigned integer type of each element size: embedded arrays are written as their bits.
_BITS = {1: ("uint8_t", np.uint8), 2: ("uint16_t", np.uint16), 4: ("uint32_t", np.uint32),
         8: ("uint64_t", np.uint64)}  # fmt: skip
PER_LINE = 8  # values per line of an embedded array


def c(text: str) -> str:
    """User text (paths, function names) made safe inside a `/* */` comment: it can neither
    end it nor open another (gcc's -Wcomment)."""
    return comment_text(str(text)).replace("/*", "/ *")


def _wrap(text: str) -> list[str]:
    return [" * " + line for line in textwrap.wrap(text, 88)]


def aval_text(aval) -> str:
    return f"{aval.dtype.name}[{','.join(map(str, aval.shape))}]"


def header(exp) -> str:
    n, N = exp.name, exp.name.upper()
    params = ", ".join(
        [f"const {CTYPE[p.aval.dtype]} *{p.ident}" for p in exp.inputs]
        + [f"{CTYPE[p.aval.dtype]} *{p.ident}" for p in exp.outputs]
        + ["void *workspace"]
    )
    width = max([len(p.ident) for p in (*exp.inputs, *exp.outputs, *exp.embedded)] + [4])

    def rows(ports, with_path=True):
        out = []
        for p in ports:
            row = f" *   {p.ident:<{width}}  {aval_text(p.aval):<20}"
            out.append((row + f"  {c(p.path)}" if with_path else row).rstrip())
        return out or [" *   (none)"]

    lines = [
        f"/* {n}.h: `{c(exp.fun_name)}` exported by jaxlite {exp.version} as standalone C99",
        " * (jaxlite.export.to_c): the C that jaxlite.jit runs for this signature, with no",
        " * Python, cffi or NumPy. Generated: do not edit.",
        " *",
        f" *   int {n}({params});",
        " *",
        " * Inputs (caller-owned, C-contiguous row-major arrays; a rank-0 value is a pointer to",
        " * one element): C name, dtype[shape], pytree path of the argument given to to_c",
        *rows(exp.inputs),
        " * Outputs (caller-owned, written by the call; no output may overlap another or an input):",
        *rows(exp.outputs),
        f" * Embedded in {n}.c as static const arrays (bit-exact copies of the values given):",
        *rows(exp.embedded),
        " *",
        *_wrap(
            f"Workspace: {N}_WORKSPACE_SIZE bytes (any alignment: the call aligns it), owned by "
            "the caller and reused across calls; NULL when that size is 0. Compiled with "
            f"-D{N}_STATIC_WORKSPACE, NULL means the library's own static workspace (then the "
            "function is not reentrant). No other global mutable state"
            + (
                " (but the product kernels' path table, which only "
                f"jl_rt_gemm_set_choice_{n} changes: nothing needs to call it); no malloc in the "
                "call (products pack their operands in the workspace)."
                if exp.kernel.runtime
                else "; no malloc in the call."
            )
            + " Thread-safe when each thread passes its own workspace."
        ),  # fmt: skip
        " *",
        f" * Returns {N}_OK (0), or {N}_ERR_NULL_POINTER (an argument is NULL), or",
        f" * {N}_ERR_NO_WORKSPACE (workspace NULL but needed). Never aborts.",
        " */",
        f"#ifndef {N}_H_",
        f"#define {N}_H_",
        "",
        "#include <stdbool.h>",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        f"#define {N}_OK 0",
        f"#define {N}_ERR_NULL_POINTER 1",
        f"#define {N}_ERR_NO_WORKSPACE 2",
        f"#define {N}_WORKSPACE_SIZE {exp.workspace_bytes}",
        "/* elements of each input and output */",
        *[f"#define {N}_{p.ident}_SIZE {p.size}" for p in (*exp.inputs, *exp.outputs)],
        "",
        f"/* The workspace's size in bytes ({N}_WORKSPACE_SIZE). */",
        f"size_t {n}_workspace_size(void);",
        f"int {n}({params});",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        f"#endif /* {N}_H_ */",
        "",
    ]
    return "\n".join(lines)


def embedded_array(cname: str, value: np.ndarray) -> list[str]:
    """`static const union {bits; values}` holding `value` bit for bit (NaN payloads too)."""
    ctype = CTYPE[value.dtype]
    words_per = 2 if value.dtype.kind == "c" else 1  # complex: its two parts' bits
    unit = value.dtype.itemsize // words_per
    bits_t, bits_np = _BITS[unit]
    flat = np.ascontiguousarray(value).reshape(-1).view(bits_np)
    n = max(value.size, 1)  # NB: C has no zero-length arrays
    digits = 2 * unit
    words = [f"0x{int(v):0{digits}x}" for v in flat] or ["0"]
    body = [
        "    " + ", ".join(words[i : i + PER_LINE]) + "," for i in range(0, len(words), PER_LINE)
    ]
    return [
        f"static const union {{ {bits_t} bits[{n * words_per}]; {ctype} v[{n}]; }} {cname} = {{{{",
        *body,
        "}};",
    ]


def source(exp) -> str:
    n, N, k = exp.name, exp.name.upper(), exp.kernel
    kernel_name = f"{n}_kernel_"
    lines = [
        f"/* {n}.c: `{c(exp.fun_name)}` exported by jaxlite {exp.version} (see {n}.h). */",
        "",
        "/* jaxlite's C runtime (csrc/), first: jaxlite.h selects the POSIX features before any",
        " * system header. Its helpers are written once for signed and unsigned types (where",
        " * `y < 0` is always false), and its `#pragma omp` lines are plain loops without",
        " * -fopenmp: neither is worth a warning. */",
        "#pragma GCC diagnostic push",
        '#pragma GCC diagnostic ignored "-Wtype-limits"',
        '#pragma GCC diagnostic ignored "-Wsign-compare"',
        '#pragma GCC diagnostic ignored "-Wunknown-pragmas"',
        *[f'#include "{h}"' for h in exp.csrc_files() if h.endswith(".h") and h != "jl_blas.h"],
    ]
    if k.runtime:
        lines += [
            "/* The products of dot_general: jaxlite's own kernels (no BLAS), their names tagged",
            f" * with `{n}` so that several exported functions link into one program. */",
            f"#define JL_RT_TAG {n}",
            "/* Products pack into the workspace: never malloc (on the calling thread). */",
            "#define JL_GEMM_NO_ALLOC 1",
            "/* gcc 12 at -O3, after constant-propagating one product shape into the small kernel,",
            " * warns that an iteration ~5.8e16 of its row loop would overflow a pointer: the loop",
            " * stops at the product's row count long before. */",
            '#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"',
            '#include "jl_gemm.c"',
        ]
    lines += [
        "#pragma GCC diagnostic pop",
        "",
        f'#include "{n}.h"',
        "",
        "/* ---- the kernel, as jaxlite.jit lowers it ---- */",
        "/* It may ignore inputs (a function that does not read them); `#pragma omp` as above. */",
        "#pragma GCC diagnostic push",
        '#pragma GCC diagnostic ignored "-Wunknown-pragmas"',
        '#pragma GCC diagnostic ignored "-Wunused-parameter"',
        f"#define {k.symbol} {kernel_name}",
        k.source,
        f"#undef {k.symbol}",
        "#pragma GCC diagnostic pop",
        "",
        "/* ---- embedded arrays ---- */",
    ]
    for p in exp.embedded:
        lines.append(f"/* {p.ident}: {aval_text(p.aval)} {c(p.path)} */")
        lines += embedded_array(p.cname, p.value)
    lines += [
        "",
        f"size_t {n}_workspace_size(void) {{ return {N}_WORKSPACE_SIZE; }}",
        "",
        f"#if defined({N}_STATIC_WORKSPACE) && {N}_WORKSPACE_SIZE > 0",
        f"static char {n}_static_workspace_[{N}_WORKSPACE_SIZE];",
        "#endif",
        "",
    ]
    params = ", ".join(
        [f"const {CTYPE[p.aval.dtype]} *{p.ident}" for p in exp.inputs]
        + [f"{CTYPE[p.aval.dtype]} *{p.ident}" for p in exp.outputs]
        + ["void *workspace"]
    )
    pointers = [p.ident for p in (*exp.inputs, *exp.outputs)]
    body = [f"int {n}({params}) {{"]
    if pointers:
        body.append(f"  if ({' || '.join(f'!{q}' for q in pointers)}) return {N}_ERR_NULL_POINTER;")
    # NB: locals and file-scope names end with `_`; ports never do (no shadowing)
    body.append("  char *ws_ = (char *)workspace;")
    if k.workspace_size:
        body += [
            f"#if defined({N}_STATIC_WORKSPACE)",
            f"  if (!ws_) ws_ = {n}_static_workspace_;",
            "#endif",
            f"  if (!ws_) return {N}_ERR_NO_WORKSPACE;",
            "  ws_ += (64 - (uintptr_t)ws_ % 64) % 64; /* the kernel's buffers are 64-byte aligned */",
        ]
    # The kernel's inputs in order: embedded arrays where they are, the caller's otherwise.
    by_slot = {p.slot: p for p in exp.embedded if p.slot is not None}
    runtime_inputs = iter(exp.inputs)
    ins = [f"{by_slot[s].cname}.v" if s in by_slot else next(runtime_inputs).ident
           for s in range(len(k.in_avals))]  # fmt: skip
    consts = [f"{p.cname}.v" for p in exp.embedded if p.slot is None]
    outs = [p.ident for p in exp.outputs]
    body += k.call(kernel_name, ins, consts, outs, "ws_")
    body.append("}")
    return "\n".join(lines + body + [""])
