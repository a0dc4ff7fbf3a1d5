"""jaxlite.export.to_c: the exported C, compiled with -Werror and run in a subprocess, computes
what jit computes, bit for bit, for a sample of every primitive (enumerated from the primitive
table: a new primitive fails `test_samples_cover_every_primitive` until it has a sample), for
control flow, for a training step (grad, vmap inside) and for every dtype.

To keep the time small, the samples and the training step share ONE exported function (and one
jit compilation): every export with a product compiles csrc/jl_gemm.c (~15 s of gcc -O3);
each test below compiles one C program.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, dtypes, jaxpr_util, lax
from jaxlite.primitives._collective import COLLECTIVE_PRIMITIVES
from jaxlite import export as jexport
from jaxlite.backend import compile as _compile
from jaxlite.errors import ExportError
from jaxlite.primitives import ALL_PRIMITIVES
from jaxlite.primitives._callback import CALLBACK_PRIMITIVES

CC = shutil.which("gcc") or shutil.which("cc")
pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler")
WARNINGS = ["-Wall", "-Wextra", "-Werror"]  # NB: clang is not installed here; gcc only

# ------------------------------------------------------------------------------------------
# Building and running an export
# ------------------------------------------------------------------------------------------


def driver_c(exp) -> str:
    """A main() that reads the inputs from argv[1] (raw, in order), calls the exported
    function with a malloc'ed workspace, and writes the outputs to argv[2]."""
    n = exp.name
    lines = ["#include <stdio.h>", "#include <stdlib.h>", f'#include "{n}.h"',
             "int main(int argc, char **argv) {",
             "  if (argc != 3) return 90;",
             '  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");',
             "  if (!in || !out) return 91;"]  # fmt: skip
    from jaxlite.backend.c_nodes import CTYPE

    args = []
    for k, p in enumerate((*exp.inputs, *exp.outputs)):
        t = CTYPE[p.aval.dtype]
        lines.append(f"  {t} *a{k} = malloc({p.size} * sizeof({t}) + 1);")
        lines.append(f"  if (!a{k}) return 92;")
        if k < len(exp.inputs):
            lines.append(f"  if (fread(a{k}, sizeof({t}), {p.size}, in) != {p.size}) return 93;")
        args.append(f"a{k}")
    lines.append(f"  void *ws = malloc({n.upper()}_WORKSPACE_SIZE + 1);")
    lines.append(f"  int rc = {n}({', '.join(args + ['ws'])});")
    lines.append("  if (rc) return rc;")
    for k, p in enumerate(exp.outputs, len(exp.inputs)):
        t = CTYPE[p.aval.dtype]
        lines.append(f"  fwrite(a{k}, sizeof({t}), {p.size}, out);")
    lines += ["  fclose(out);", "  return 0;", "}", ""]
    return "\n".join(lines)


def start_build(exp, tmp_path, flags=()):
    """Starts compiling the export and a driver (jit's flags, -Wall -Wextra -Werror) in the
    background (tests compute jit's reference meanwhile); `finish_build` links them."""
    d = str(tmp_path / exp.name)
    exp.write(d)
    with open(os.path.join(d, "driver.c"), "w") as f:
        f.write(driver_c(exp))
    cflags = [*jexport.cflags(openmp=exp.kernel.openmp), *WARNINGS, *flags]
    jobs = []
    for src in (exp.name + ".c", "driver.c"):
        cmd = [CC, *cflags, "-I", d, "-c", os.path.join(d, src), "-o", os.path.join(d, src + ".o")]
        jobs.append(
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    return d, cflags, jobs


def finish_build(exp, started) -> tuple[str, str]:
    """(program, object of name.c)."""
    d, cflags, jobs = started
    for job in jobs:
        _, err = job.communicate()
        assert job.returncode == 0, err[-3000:]
    obj, prog = os.path.join(d, exp.name + ".c.o"), os.path.join(d, "prog")
    cmd = [CC, *cflags, os.path.join(d, "driver.c.o"), obj, "-o", prog, "-lm"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    return prog, obj


def build(exp, tmp_path, flags=()) -> tuple[str, str]:
    return finish_build(exp, start_build(exp, tmp_path, flags))


def run(exp, prog, inputs) -> list[np.ndarray]:
    d = os.path.dirname(prog)
    with open(os.path.join(d, "in.bin"), "wb") as f:
        for p, x in zip(exp.inputs, inputs):
            f.write(np.ascontiguousarray(x, p.aval.dtype).tobytes())
    res = subprocess.run([prog, os.path.join(d, "in.bin"), os.path.join(d, "out.bin")])
    assert res.returncode == 0, f"exported program returned {res.returncode}"
    with open(os.path.join(d, "out.bin"), "rb") as f:
        raw = f.read()
    outs, off = [], 0
    for p in exp.outputs:
        n = p.size * p.aval.dtype.itemsize
        outs.append(np.frombuffer(raw[off : off + n], p.aval.dtype).reshape(p.aval.shape))
        off += n
    assert off == len(raw)
    return outs


def assert_bits_equal(got, want, names):
    assert len(got) == len(want)
    bad = []
    for g, w, name in zip(got, want, names):
        w = np.asarray(w)
        if g.dtype != w.dtype or g.shape != w.shape or g.tobytes() != w.tobytes():
            bad.append(f"{name}: C {g.dtype}{g.shape} {g.ravel()[:6]} vs jit {w.dtype}{w.shape} "
                       f"{w.ravel()[:6]}")  # fmt: skip
    assert not bad, "exported C differs from jit:\n" + "\n".join(bad)


def check_against_jit(fn, args, tmp_path, embed=(), runtime_args=None, **kw):
    """Exports fn, runs it, compares with jit(fn)(*args) bit for bit; returns the export."""
    exp = jexport.to_c(fn, *args, embed=embed, **kw)
    started = start_build(exp, tmp_path)
    with jexport.own_products():
        want = jaxlite.tree_util.tree_leaves(jaxlite.jit(fn)(*args))
    prog, obj = finish_build(exp, started)
    inputs = runtime_args if runtime_args is not None else [
        leaf for i, a in enumerate(args) if i not in embed for leaf in jaxlite.tree_util.tree_leaves(a)
    ]  # fmt: skip
    got = run(exp, prog, [np.asarray(x) for x in inputs])
    assert_bits_equal(got, want, [p.path for p in exp.outputs])
    return exp, prog, obj


# ------------------------------------------------------------------------------------------
# A sample of every primitive, in one function
# ------------------------------------------------------------------------------------------

R = np.random.default_rng(0)
X = (R.uniform(0.1, 2.1, (2, 3, 4))).astype(np.float32)  # in every function's domain
Y = R.normal(0, 2, (2, 3, 4)).astype(np.float32)
Y.flat[:4] = [np.nan, -0.0, np.inf, 0.5]
A = R.integers(-9, 9, (2, 3, 4)).astype(np.int32)
B = R.integers(0, 35, (2, 3, 4)).astype(np.int32)  # shift amounts, some out of range
P = R.integers(0, 2, (2, 3, 4)).astype(bool)
IDX0 = np.int32(1)
DN = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
                                start_index_map=(0,))  # fmt: skip
SDN = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                  scatter_dims_to_operand_dims=(0,))  # fmt: skip
IDX = np.array([[2], [0], [2]], np.int32)


@jaxlite.custom_jvp
def _softplus(x):
    return jnp.log1p(jnp.exp(x))


_softplus.defjvp(lambda p, t: (_softplus(p[0]), t[0] * jax_sigmoid(p[0])))


def jax_sigmoid(x):
    return lax.logistic(x)


@jaxlite.custom_vjp
def _clip_grad(x):
    return x * 2.0


_clip_grad.defvjp(lambda x: (x * 2.0, None), lambda _, g: (jnp.clip(g, -1.0, 1.0),))


def _loops(x, i):
    """cond, scan, while (fori_loop with a traced bound), switch."""
    c = lax.cond(i > 0, lambda v: v * 2.0, lambda v: v - 1.0, x)
    s, ys = lax.scan(lambda carry, r: (carry + r, carry * r), x[0, 0], x[0])
    w = lax.fori_loop(0, i + 3, lambda k, v: v * 1.5 + k, x[1])  # traced bound: a while loop
    sw = lax.switch(i, [jnp.sin, jnp.cos, jnp.tanh], x[0])
    return [c, s, ys, w, sw]


# name -> fn(x, y, a, b, p, i) -> array or list of arrays
# fmt: off
SAMPLES = {
    "unary_float": lambda x, y, a, b, p, i: [f(x) for f in (
        lax.neg, lax.sign, lax.abs, lax.exp, lax.exp2, lax.log, lax.log1p, lax.expm1, lax.tanh,
        lax.logistic, lax.sin, lax.cos, lax.tan, lax.atan, lax.sinh, lax.cosh, lax.asinh,
        lax.sqrt, lax.rsqrt, lax.cbrt, lax.erf, lax.floor, lax.ceil, lax.is_finite, lax.copy,
        lax.stop_gradient, lax.lgamma, lax.digamma, lax.bessel_i0e, lax.bessel_i1e, lax.erfc,
        lambda v: lax.round(v, 1), lambda v: lax.integer_pow(v, 3),
        lambda v: lax.reduce_precision(v, 5, 10))]
        + [lax.asin(x / 3), lax.acos(x / 3), lax.atanh(x / 3), lax.acosh(x + 1),
           lax.erf_inv(x / 3)],
    "binary_float": lambda x, y, a, b, p, i: [f(x, y) for f in (
        lax.add, lax.sub, lax.mul, lax.div, lax.rem, lax.pow, lax.max, lax.min, lax.atan2,
        lax.nextafter, lax.add_any, lax.eq, lax.ne, lax.lt, lax.le, lax.gt, lax.ge)]
        + [lax.igamma(x, x + 1), lax.igammac(x, x + 1), lax.igamma_grad_a(x, x + 1),
           lax.zeta(x + 1, x), lax.betainc(x, x + 1, x / 3)],
    "integer": lambda x, y, a, b, p, i: [f(a, b) for f in (
        lax.add, lax.mul, lax.div, lax.rem, lax.pow, lax.bitwise_and, lax.bitwise_or,
        lax.bitwise_xor, lax.shift_left, lax.shift_right_arithmetic, lax.shift_right_logical,
        lax.max)] + [lax.bitwise_not(a), lax.bitwise_not(p), lax.bitwise_and(p, ~p),
                     lax.reduce_and(p, (1,)), lax.reduce_or(p, (2,)), lax.reduce_max(a, (0,))],
    "select_convert": lambda x, y, a, b, p, i: [
        lax.select_n(p, x, y), lax.clamp(0.5, y, 1.5), lax.convert_element_type(y, np.int32),
        lax.convert_element_type(a, np.float32), lax.convert_element_type(y, np.uint8),
        lax.bitcast_convert_type(x, np.int32)],
    "reductions": lambda x, y, a, b, p, i: [
        lax.reduce_sum(x, (1,)), lax.reduce_prod(x, (2,)), lax.reduce_max(y, (0, 2)),
        lax.reduce_min(x, (0, 1, 2)), lax.argmax(y, 1, np.int32), lax.argmin(x, 2, np.int32),
        lax.cumsum(x, 2), lax.cumprod(x, 1, True), lax.cummax(y, 0), lax.cummin(x, 2)],
    "shapes": lambda x, y, a, b, p, i: [
        lax.broadcast_in_dim(x[:, :1], (5, 2, 1, 4), (1, 2, 3)), lax.reshape(x, (4, 6)),
        lax.transpose(x, (2, 0, 1)), lax.squeeze(x[:1], (0,)), lax.expand_dims(x, (0, 3)),
        lax.rev(x, (0, 2)), lax.concatenate([x, y], 1), lax.pad(x, 0.5, ((1, 2, 0), (-1, 1, 1), (0, 0, 0))),
        lax.slice(x, (0, 1, 0), (2, 3, 4), (1, 1, 3)), lax.dynamic_slice(x, (i, 1, i), (1, 2, 3)),
        lax.dynamic_update_slice(x, y[:1, 1:], (i, i, i)), lax.broadcasted_iota(np.float32, (3, 4), 1)],
    "products_sort": lambda x, y, a, b, p, i: [
        lax.dot_general(x[0], y[0], (((1,), (1,)), ((), ()))),
        lax.dot_general(x, y, (((2,), (2,)), ((0,), (0,)))),
        lax.dot_general(a[0], b[0], (((1,), (1,)), ((), ()))),
        lax.sort(y, 2), *lax.sort((x, a), 1, num_keys=1)],
    "indexing": lambda x, y, a, b, p, i: [
        lax.gather(x[0], IDX, DN, (1, 4)),
        lax.scatter(x[0], IDX, y[0, :3], SDN), lax.scatter_add(x[0], IDX, y[0, :3], SDN),
        lax.scatter_mul(x[0], IDX, y[0, :3], SDN), lax.scatter_min(x[0], IDX, y[0, :3], SDN),
        lax.scatter_max(x[0], IDX, y[0, :3], SDN)],
    "windows": lambda x, y, a, b, p, i: [
        lax.conv(x[None], (x[:, :2, :2] * y[:, :2, :2])[None], (1, 1), "SAME"),
        lax.reduce_window(x, 0.0, lax.add, (1, 2, 2), (1, 1, 1)),
        lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2), (1, 1, 2)),
        lax.reduce_window(x, np.inf, lax.min, (2, 1, 2), (1, 1, 1)),
        # a max pool's derivatives (select_and_gather_add, select_and_scatter_add)
        jaxlite.jvp(lambda v: lax.reduce_window(v, -np.inf, lax.max, (1, 2, 2), (1, 1, 2)),
                    (x,), (y,))[1],
        jaxlite.grad(lambda v: lax.reduce_window(v, -np.inf, lax.max, (1, 2, 2), (1, 2, 1),
                                                 "SAME").sum())(x),
        jaxlite.scipy.linalg.solve_triangular(jnp.tril(x[0, :, :3]) + 3 * jnp.eye(3), y[0, :, :2],
                                              lower=True)],
    "calls": lambda x, y, a, b, p, i: [
        _softplus(x), _clip_grad(x), jaxlite.checkpoint(jnp.sin)(x), jaxlite.jit(jnp.cos)(x),
        *_loops(x, i)],
    "complex": lambda x, y, a, b, p, i: (lambda z: [
        lax.real(z), lax.imag(z), lax.conj(z), z * z / (z + 1), jnp.abs(z), jnp.exp(z),
        jnp.fft.fft(z), jnp.fft.ifft(z, axis=1), jnp.fft.rfft(x), jnp.fft.irfft(z, n=6),
        jnp.fft.fft2(z[0]), jnp.sum(z, axis=0)])(lax.complex(x, y)),
    # named-axis collectives are bound only under vmap(axis_name=...) or pmap: under vmap they
    # batch into ordinary array code before lowering, which is what exports
    "collectives": lambda x, y, a, b, p, i: jaxlite.vmap(lambda r: [
        lax.psum(r, "i"), lax.pmax(r, "i"), lax.pmin(r, "i"), lax.pmean(r, "i"),
        lax.all_gather(r, "i"), lax.psum_scatter(r[:2], "i", tiled=True),
        lax.all_to_all(r[:2], "i", 0, 0, tiled=True), lax.ppermute(r, "i", [(0, 1), (1, 0)]),
        lax.axis_index("i") + r], axis_name="i")(x),
}
# fmt: on
# Primitives with no sample, and why.
NOT_EXPORTABLE = {
    p.name: "calls back into Python (test_callbacks_are_refused)" for p in CALLBACK_PRIMITIVES
}  # fmt: skip
NOT_EXPORTABLE.update({
    p.name: "a named-axis collective: no jaxpr holds it outside vmap/pmap; under vmap it batches "
    "into ordinary code (the 'collectives' sample), under pmap it is an MPI host call"
    for p in COLLECTIVE_PRIMITIVES
})  # fmt: skip
NOT_EXPORTABLE["eig"] = "a host call to LAPACK through NumPy under jit (test_eig_is_refused)"


def all_samples(x, y, a, b, p, i):
    out = []
    for fn in SAMPLES.values():
        r = fn(x, y, a, b, p, i)
        out += list(r) if isinstance(r, (list, tuple)) else [r]
    return out


def _primitives_of(jaxpr, found: set) -> set:
    for e in jaxpr.eqns:
        found.add(e.primitive.name)
        for sub in jaxpr_util.sub_jaxprs(e):
            _primitives_of(sub, found)
    return found


def test_samples_cover_every_primitive():
    jaxpr = jaxlite.make_jaxpr(all_samples)(X, Y, A, B, P, IDX0).jaxpr
    found = _primitives_of(jaxpr, set())
    wanted = {p.name for p in ALL_PRIMITIVES} | {p.name for p in jaxpr_util.call_primitives()}
    missing = sorted(wanted - found - set(NOT_EXPORTABLE))
    assert not missing, f"add a sample of {missing} to SAMPLES in tests/test_export.py"


def test_loops_stay_loops():
    def f(x):
        return lax.fori_loop(0, 1000, lambda k, v: jnp.sin(v) + 1.0, x)

    def g(x):
        return lax.fori_loop(0, 10, lambda k, v: jnp.sin(v) + 1.0, x)

    x = jaxlite.ShapeDtypeStruct((8,), np.float32)
    a, b = jexport.to_c(f, x).source, jexport.to_c(g, x).source
    assert "1000" in a and abs(len(a) - len(b)) < 40  # the same loop, another bound


# ------------------------------------------------------------------------------------------
# Training step (grad and vmap inside), every dtype, embedded parameters
# ------------------------------------------------------------------------------------------


def _mlp_loss(params, x, y):
    h = jaxlite.nn.relu(x @ params["w1"] + params["b1"])
    logp = jaxlite.nn.log_softmax(h @ params["w2"] + params["b2"])
    return -jnp.mean(jnp.sum(logp * jaxlite.nn.one_hot(y, 3, dtype=jnp.float32), -1))


def train_step(params, x, y):
    loss, grads = jaxlite.value_and_grad(_mlp_loss)(params, x, y)
    per_example = jaxlite.vmap(jaxlite.grad(_mlp_loss), (None, 0, 0))(
        params, x[:, None], y[:, None]
    )
    new = jaxlite.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    return new, loss, per_example["b2"]


def _step_params_and_batch():
    r = np.random.default_rng(1)
    params = {"w1": r.normal(size=(5, 8)).astype(np.float32), "b1": np.zeros(8, np.float32),
              "w2": r.normal(size=(8, 3)).astype(np.float32), "b2": np.ones(3, np.float32)}  # fmt: skip
    x, y = r.normal(size=(6, 5)).astype(np.float32), r.integers(0, 3, 6).astype(np.int32)
    return params, x, y


def step_and_samples(params, x, y, *sample_args):
    return train_step(params, x, y), all_samples(*sample_args)


def test_every_primitive_control_flow_and_a_training_step_bit_for_bit(tmp_path):
    """The samples of every primitive and the training step in ONE export (and one jit): each
    export with a product compiles csrc/jl_gemm.c into its object, ~15 s of gcc -O3, so the
    step does not get a program of its own. A difference names its output (result[0]: the
    step, result[1][k]: the k-th sample)."""
    params, x, y = _step_params_and_batch()
    exp, prog, obj = check_against_jit(step_and_samples, (params, x, y, X, Y, A, B, P, IDX0),
                                       tmp_path, name="prims")  # fmt: skip
    # nothing of Python, cffi or NumPy in the object or the program
    syms = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    assert not re.search(r"Py|cffi|numpy|PyArray", syms), syms
    assert "U cblas" not in syms  # no BLAS either
    ldd = subprocess.run(["ldd", prog], capture_output=True, text=True).stdout
    assert not re.search(r"python|cffi|numpy|openblas", ldd, re.I), ldd
    # loops stay loops: the while loop's C has no trace of its trip count
    assert "while (" in exp.source or "for (" in exp.source
    # the parameters' names: a pytree's keys in the inputs' and outputs' names
    assert [p.ident for p in exp.inputs[:4]] == ["params_b1", "params_b2", "params_w1", "params_w2"]
    assert [p.path for p in exp.outputs[:2]] == ["result[0][0]['b1']", "result[0][0]['b2']"]


DTYPES = list(dtypes.SUPPORTED_DTYPES)  # every one, float16 and bfloat16 included


def test_every_dtype_and_embedded_bits(tmp_path):
    r = np.random.default_rng(2)

    def arr(dt):
        dt = np.dtype(dt)
        if dt.kind == "c":  # the float specials in both parts
            part = arr(np.float32 if dt == np.complex64 else np.float64)
            v = np.empty(part.shape, dt)
            v.real, v.imag = part, part[::-1]
            return v
        if dtypes.is_float(dt):
            v = r.normal(size=7).astype(dt)
            v[:3] = [np.nan, -0.0, np.inf]
            if dt == np.float32:  # a NaN with a payload and its sign: embedded bit for bit
                v[3:4] = np.array([0xFFC01234], np.uint32).view(np.float32)
            return v
        if dt.kind == "b":
            return r.integers(0, 2, 7).astype(bool)
        info = np.iinfo(dt)
        return r.integers(info.min, info.max, 7, dtype=np.int64 if dt.kind == "i" else np.uint64,
                          endpoint=True).astype(dt)  # fmt: skip

    xs = {np.dtype(d).name: arr(d) for d in DTYPES}
    es = {np.dtype(d).name: arr(d) for d in DTYPES}

    def f(es, xs):
        out = {}
        for k in xs:
            e, x = es[k], xs[k]
            both = (x | e) if x.dtype == bool else x + e * 3
            # NB: complex has no order (lax.max raises, as in JAX): a product instead
            pair = x * e if x.dtype.kind == "c" else lax.max(x, e)
            out[k] = (e, both, pair, lax.convert_element_type(x, np.float64))
        return out

    exp, _, _ = check_against_jit(f, (es, xs), tmp_path, embed=("es",), name="dtypes",
                                  runtime_args=list(jaxlite.tree_util.tree_leaves(xs)))  # fmt: skip
    assert len(exp.embedded) == len(DTYPES) and len(exp.inputs) == len(DTYPES)


# ------------------------------------------------------------------------------------------
# Names, errors, flags
# ------------------------------------------------------------------------------------------


def test_hostile_names_never_reach_c_unescaped(tmp_path):
    hostile = {"a */ int evil; /*": 1.0, "b\n#include <x>": 2.0, "int": 3.0, "9lives": 4.0,
               "a-b": 5.0, "a_b": 6.0, "ünï": 7.0, "\\": 8.0}  # fmt: skip
    tree = {k: np.full((2,), v, np.float32) for k, v in hostile.items()}

    def f(tree, x):
        return {k: v * x for k, v in tree.items()}

    exp = jexport.to_c(f, tree, np.ones(2, np.float32), name="hostile", embed=(0,))
    idents = [p.ident for p in (*exp.inputs, *exp.outputs, *exp.embedded)]
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", s) for s in idents), idents
    assert len(set(idents)) == len(idents)
    assert "int" not in idents and not any(s[0].isdigit() for s in idents)
    for text in (exp.header, exp.source):  # no user text outside comments
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        assert "int evil" not in code and "#include <x>" not in code and "ü" not in code
    prog, _ = build(exp, tmp_path)
    got = run(exp, prog, [np.array([1.0, -2.0], np.float32)])
    with jexport.own_products():
        want = jaxlite.tree_util.tree_leaves(
            jaxlite.jit(f)(tree, np.array([1.0, -2.0], np.float32))
        )
    assert_bits_equal(got, want, idents)


def test_callbacks_are_refused(tmp_path):
    def f(x):
        jaxlite.debug.print("x = {}", x)
        return x * 2

    def g(x):
        return jaxlite.pure_callback(np.sin, jaxlite.ShapeDtypeStruct(x.shape, x.dtype), x)

    for fn, prim in ((f, "debug_callback"), (g, "pure_callback")):
        with pytest.raises(ExportError, match=f"calls back into Python \\({prim}\\)"):
            jexport.to_c(lambda x, fn=fn: lax.cond(x[0] > 0, fn, fn, x), np.ones(3, np.float32),
                         directory=str(tmp_path / "out"))  # fmt: skip
    assert not (tmp_path / "out").exists()  # nothing written


def test_eig_is_refused(tmp_path):
    with pytest.raises(ExportError, match=r"eigendecomposition \(eig.*use jnp.linalg.eigh"):
        jexport.to_c(lambda a: jnp.linalg.eigvals(a).real, np.eye(3, dtype=np.float32),
                     directory=str(tmp_path / "out"))  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_shapes_known_only_at_run_time_are_refused(tmp_path):
    with pytest.raises(ExportError, match="known only at run time"):
        jexport.to_c(lambda x: jnp.nonzero(x)[0], np.ones(3, np.float32),
                     directory=str(tmp_path / "a"))  # fmt: skip

    class Symbolic:  # a spec whose batch dimension is symbolic, as jax.export allows
        shape, dtype = ("b", 3), np.dtype(np.float32)

    with pytest.raises(ExportError, match=r"argument x has shape \('b', 3\)"):
        jexport.to_c(lambda x: x + 1, Symbolic(), directory=str(tmp_path / "b"))
    assert not os.listdir(tmp_path)


def test_bad_arguments_are_refused():
    x = np.ones(3, np.float32)
    spec = jaxlite.ShapeDtypeStruct((3,), np.float32)
    with pytest.raises(ValueError, match="not usable as the C function's name"):
        jexport.to_c(lambda x: x, x, name="my model")
    with pytest.raises(ExportError, match="embedded, so its value goes into the C"):
        jexport.to_c(lambda w, x: w * x, spec, x, embed=("w",))
    with pytest.raises(ExportError, match="names no argument"):
        jexport.to_c(lambda w, x: w * x, x, x, embed=("v",))


# Builds beside jit's flags: OpenMP threads (libgomp), and -ffast-math (documented as
# unsupported for results, but it compiles).
@pytest.mark.parametrize("extra", [[], ["-fopenmp"], ["-ffast-math"]], ids=["", "omp", "fastmath"])
def test_workspace_threads_and_null_pointers(tmp_path, extra):
    """The caller's workspace at any alignment, the static one, NULL arguments, and four
    threads calling at once, each with its own workspace."""

    def f(x):  # sort's index buffers live in the workspace (no product: a quick compile)
        h = jnp.tanh(x)
        return jnp.sort(h, 0).sum(0), jnp.sort(h * h, 1)

    exp = jexport.to_c(f, jaxlite.ShapeDtypeStruct((16, 16), np.float32), name="ws")
    assert exp.workspace_bytes > 0
    d = tmp_path / "ws"
    exp.write(str(d))
    main = """
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ws.h"
static float x[256], r1[16], r2[256];
static void *worker(void *arg) {  /* its own workspace: the same results as the main thread */
  float o1[16], o2[256];
  char *w = malloc(WS_WORKSPACE_SIZE);
  long bad = 0;
  for (int k = 0; k < 200 && w; k++) {
    ws(x, o1, o2, w + (long)arg);
    bad += memcmp(o1, r1, sizeof o1) != 0 || memcmp(o2, r2, sizeof o2) != 0;
  }
  free(w);
  return (void *)bad;
}
int main(void) {
  float o1[16], o2[256];
  for (int i = 0; i < 256; i++) x[i] = (float)(i % 7) * 0.25f - 0.5f;
  char *buf = malloc(WS_WORKSPACE_SIZE + 3);
  if (ws_workspace_size() != WS_WORKSPACE_SIZE) return 10;
  if (ws(x, r1, r2, buf) != WS_OK) return 11;
  if (ws(x, o1, o2, buf + 3) != WS_OK) return 12;  /* misaligned: aligned by the call */
  if (memcmp(o1, r1, sizeof o1) || memcmp(o2, r2, sizeof o2)) return 13;
  if (ws(x, o1, o2, NULL) != WS_OK) return 14;  /* the static workspace (-DWS_STATIC_WORKSPACE) */
  if (memcmp(o1, r1, sizeof o1)) return 15;
  if (ws(NULL, o1, o2, buf) != WS_ERR_NULL_POINTER) return 16;
  pthread_t t[4];
  for (long k = 0; k < 4; k++) pthread_create(&t[k], NULL, worker, (void *)k);
  for (int k = 0; k < 4; k++) {
    void *bad;
    pthread_join(t[k], &bad);
    if (bad) return 17;
  }
  printf("ok\\n");
  return 0;
}
"""
    (d / "main.c").write_text(main)
    cmd = [CC, *jexport.cflags(), *WARNINGS, *extra, "-pthread", "-DWS_STATIC_WORKSPACE",
           "-I", str(d), str(d / "main.c"), str(d / "ws.c"), "-o", str(d / "prog"), "-lm"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    res = subprocess.run([str(d / "prog")], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout == "ok\n", res.returncode


def test_export_flags_are_jits_code_generation_flags():
    cmd = _compile.compiler_command(["cc"], "SRC", "OUT", blas=False, openmp=False)
    # (less gcc's scheduling flags: a speed choice of jit's kernels, which clang would reject)
    sched = _compile._schedule_flags("cc")
    codegen = [f for f in cmd if f.startswith(("-std", "-O", "-march", "-f"))
               and f != "-fPIC" and f not in sched]  # fmt: skip
    assert sorted(codegen) == sorted(jexport.cflags()), (codegen, jexport.cflags())


def test_exported_function_signature_and_header():
    params = {"w": np.ones((3, 2), np.float32)}
    exp = jexport.to_c(lambda p, x, n: (x @ p["w"], n + 1), params,
                       jaxlite.ShapeDtypeStruct((4, 3), np.float32), np.int32(2), name="lin",
                       embed=(0,))  # fmt: skip
    assert (
        "int lin(const float *x, const int32_t *n, float *out_0, int32_t *out_1, "
        "void *workspace);" in exp.header
    )
    assert "p['w']" in exp.header and "float32[3,2]" in exp.header  # the parameter's name
    assert exp.in_avals == (core.ShapedArray((4, 3), np.float32), core.ShapedArray((), np.int32))


def test_jitted_functions_static_arguments_and_x64_off():
    def f(x, n, scale=1.0):
        return x * scale + n

    exp = jexport.export(jaxlite.jit(f, static_argnums=1))(np.ones(3, np.float32), 2, scale=2.0)
    assert [p.ident for p in exp.inputs] == ["x", "scale"]  # n is static: fixed in the C
    with pytest.raises(ExportError, match="static"):
        jexport.to_c(f, np.ones(3, np.float32), 2, static_argnums=1, embed=(1,))
    with jaxlite.enable_x64(False):
        exp = jexport.to_c(lambda x, s: x * s, np.ones(3), 2.0)
    assert [p.aval.dtype for p in exp.inputs] == [np.float32, np.float32]
    assert "int model(const float *x, const float *s, float *out, void *workspace);" in exp.header


def test_two_exports_link_into_one_program(tmp_path):
    """Every name the exported C defines carries its function's name (products included)."""
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    a = jexport.to_c(lambda w, x: x @ w, w, np.ones((1, 3), np.float32), name="first", embed=(0,))
    b = jexport.to_c(lambda w, x: x @ w.T, w, np.ones((1, 2), np.float32), name="second",
                     embed=(0,))  # fmt: skip
    a.write(str(tmp_path))
    b.write(str(tmp_path))  # NB: the same csrc/ files, written twice
    (tmp_path / "main.c").write_text("""
#include <stdio.h>
#include "first.h"
#include "second.h"
int main(void) {
  float x[3] = {1, 2, 3}, y[2], z[3];
  static char ws1[FIRST_WORKSPACE_SIZE + 1], ws2[SECOND_WORKSPACE_SIZE + 1];
  if (first(x, y, ws1) || second(y, z, ws2)) return 1;
  printf("%g %g %g %g %g\\n", y[0], y[1], z[0], z[1], z[2]);
  return 0;
}
""")
    objs = []
    for src in ("first.c", "second.c", "main.c"):  # -O0: linking is what is tested here
        objs.append(str(tmp_path / (src + ".o")))
        cmd = [CC, "-O0", "-std=c99", "-fwrapv", "-ffp-contract=off", *WARNINGS, "-I",
               str(tmp_path), "-c", str(tmp_path / src), "-o", objs[-1]]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-2000:]
    res = subprocess.run([CC, *objs, "-o", str(tmp_path / "prog"), "-lm"], capture_output=True,
                         text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    out = subprocess.run([str(tmp_path / "prog")], capture_output=True, text=True, check=True)
    y = np.array([1, 2, 3], np.float32) @ w
    assert out.stdout.split() == [f"{v:g}" for v in [*y, *(y @ w.T)]]


def test_no_malloc_in_a_call(tmp_path):
    """Products (packed and register-blocked, transposed and ragged B, float32 and float64, a
    convolution's) pack into the workspace: linked with counting wrappers of every allocator
    (-Wl,--wrap) and -fopenmp on two threads, calls allocate nothing, give jit's results bit
    for bit, and the products take the paths named (the packed kernel for the large ones). The
    runtime's plain entry point, which allocates, shows that the wrappers count. An elementwise
    loop large enough for a parallel region runs its thread policy too (jl_threads.h, which
    samples /proc/stat for busy CPUs: with open and read, as stdio's buffers are allocated
    inside libc, where the wrappers cannot see them)."""

    def f(x, w, v, u, img, ker, big):
        return (x @ w, x @ v.T, u @ u.T,
                lax.conv_general_dilated(img, ker, (1, 1), "SAME"),
                jnp.tanh(big) * 2.0)  # fmt: skip

    rng = np.random.default_rng(1)
    shapes = [((192, 320), np.float32), ((320, 200), np.float32), ((136, 320), np.float32),
              ((40, 24), np.float64), ((1, 3, 12, 12), np.float32),
              ((5, 3, 3, 3), np.float32), (((1 << 21) + 5,), np.float32)]  # fmt: skip
    args = [rng.standard_normal(s).astype(dt) for s, dt in shapes]
    from jaxlite.backend.c_nodes import CTYPE as CT

    exp = jexport.to_c(f, *args, name="nm")
    assert "jl_par_begin(" in exp.kernel.source  # (the loop's region)
    assert "jl_gemm_f32(" not in exp.kernel.source and "jl_gemm_f64(" not in exp.kernel.source
    d = tmp_path / "nm"
    exp.write(str(d))
    assert "fopen" not in (d / "jl_threads.h").read_text()  # (see above)
    decls = ["#include <stdio.h>", "#include <stdlib.h>", '#include "nm.h"',
             "static int counting; static long allocs;"]  # fmt: skip
    wraps = {  # name: (return type, parameters, arguments)
        "malloc": ("void *", "size_t n", "n"),
        "calloc": ("void *", "size_t n, size_t s", "n, s"),
        "realloc": ("void *", "void *p, size_t n", "p, n"),
        "aligned_alloc": ("void *", "size_t a, size_t n", "a, n"),
        "posix_memalign": ("int ", "void **p, size_t a, size_t n", "p, a, n"),
    }
    for name, (ret, params, call) in wraps.items():
        decls += [f"{ret}__real_{name}({params});",
                  f"{ret}__wrap_{name}({params}) {{ allocs += counting; "
                  f"return __real_{name}({call}); }}"]  # fmt: skip
    ins = "".join(
        f"  static {CT[p.aval.dtype]} i{k}[{p.size}];\n" for k, p in enumerate(exp.inputs)
    )
    outs = "".join(
        f"  static {CT[p.aval.dtype]} o{k}[{p.size}];\n" for k, p in enumerate(exp.outputs)
    )
    reads = "".join(f"  if (fread(i{k}, sizeof i{k}[0], {p.size}, in) != {p.size}) return 2;\n"
                    for k, p in enumerate(exp.inputs))  # fmt: skip
    writes = "".join(f"  fwrite(o{k}, sizeof o{k}[0], {p.size}, out);\n"
                     for k, p in enumerate(exp.outputs))  # fmt: skip
    argl = ", ".join([f"i{k}" for k in range(len(exp.inputs))]
                     + [f"o{k}" for k in range(len(exp.outputs))] + ["ws"])  # fmt: skip
    main = "\n".join([*decls,
        "void jl_rt_gemm_f32_nm(bool, bool, int64_t, int64_t, int64_t, const float *, int64_t,",
        "                       const float *, int64_t, float *, int64_t);",
        "int jl_rt_gemm_path_nm(int, bool, int64_t, int64_t, int64_t);",
        "int main(int argc, char **argv) {",
        "  (void)argc;",
        '  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");',
        "  if (!in || !out) return 1;",
        ins + outs + reads,
        "  void *ws = malloc(NM_WORKSPACE_SIZE);",
        "  counting = 1;",
        "  for (int r = 0; r < 3; r++)",
        f"    if (nm({argl})) return 3;",
        "  counting = 0;",
        "  long in_calls = allocs;",
        writes,
        "  counting = 1;  /* the control: the entry point without scratch allocates */",
        "  jl_rt_gemm_f32_nm(false, false, 192, 200, 320, i0, 320, i1, 200, o0, 200);",
        "  counting = 0;",
        '  printf("%ld %ld %d %d %d\\n", in_calls, allocs - in_calls,',
        "         jl_rt_gemm_path_nm(0, false, 192, 200, 320),",
        "         jl_rt_gemm_path_nm(0, true, 192, 136, 320), jl_rt_gemm_path_nm(1, true, 40, 40, 24));",
        "  free(ws);",
        "  fclose(out);",
        "  return 0;",
        "}", ""])  # fmt: skip
    (d / "main.c").write_text(main)
    wrap = "-Wl," + ",".join(f"--wrap={n}" for n in wraps)
    cmd = [CC, *jexport.cflags(openmp=True), *WARNINGS, "-I", str(d), str(d / "main.c"),
           str(d / "nm.c"), wrap, "-o", str(d / "prog"), "-lm"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    with open(d / "in.bin", "wb") as fh:
        for a in args:
            fh.write(a.tobytes())
    env = dict(os.environ, OMP_NUM_THREADS="2")  # the threaded path would be open
    res = subprocess.run([str(d / "prog"), str(d / "in.bin"), str(d / "out.bin")],
                         capture_output=True, text=True, env=env)  # fmt: skip
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    in_calls, control, *paths = map(int, res.stdout.split())
    assert in_calls == 0, f"{in_calls} allocations in 3 calls"
    assert control > 0, "the counting wrappers saw no allocation in the control"
    assert paths == [2, 2, 1], paths  # packed, packed (B transposed), register-blocked
    raw = (d / "out.bin").read_bytes()
    got, off = [], 0
    for p in exp.outputs:
        nbytes = p.size * p.aval.dtype.itemsize
        got.append(np.frombuffer(raw[off : off + nbytes], p.aval.dtype).reshape(p.aval.shape))
        off += nbytes
    with jexport.own_products():
        want = jaxlite.jit(f)(*args)
    assert_bits_equal(got, want, [p.path for p in exp.outputs])
