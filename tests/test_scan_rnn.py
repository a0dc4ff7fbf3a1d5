"""An RNN cell's step in `jit(scan)`: the sum of two small products `h @ Wh + x @ Wx` folded into
one call of the runtime's `jl_gemm_sum2_*` (backend/fold_sum2.py, csrc/jl_gemm.c), and a carry
that is also a `ys` output read from its row of ys (no copy; control_flow/scan.py).

The kernel is called through cffi in this CPU's build and, on x86-64, an AVX2 build
(`-mno-avx512f`: 6 x 2-vector tiles, where AVX-512 takes 4 x 4) against NumPy: every row
remainder (whole tiles, 4-row tiles, 1-3 padded rows), column blocks, single vectors and ragged
widths, operands with row strides wider than their rows, k = 1, float32 and float64, and the
plain loops it falls back to without scratch. The lowering: jit against the eager interpreter
and a NumPy loop at batch and hidden sizes that are not whole vectors, reversed, unrolled,
float64, its gradient (whose backward loop accumulates the weights' gradients in its carries
with one `jl_gemm_upd` call each, written into the carry's next buffer) and vmap, and the cases
the fold must decline.
"""

from __future__ import annotations


import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.backend import compile as cb
from jaxlite.backend import fold_sum2

f32, f64 = np.float32, np.float64
ROWS = [1, 2, 3, 4, 5, 6, 7, 9, 13, 24, 32, 35]
COLS = [3, 8, 10, 16, 21, 32, 40, 64, 67, 80]


@pytest.fixture(scope="module")
def build(runtime_build):
    return runtime_build  # (conftest.runtime_build: this CPU's build and, on x86-64, AVX2's)


def _sum2(lib, tag, a1, b1, a2, b2, m, n, scratch=True):
    """C = A1 B1 + A2 B2 through jl_gemm_sum2; the operands are views (rows wider than used)."""
    s, ct = ("f32", "float") if a1.dtype == f32 else ("f64", "double")
    fn = lib.function(
        f"jl_rt_gemm_sum2_{s}_{tag}",
        f"void(*)(int64_t, int64_t, int64_t, {ct} *, int64_t, {ct} *, int64_t, int64_t, {ct} *, "
        f"int64_t, {ct} *, int64_t, {ct} *, int64_t, {ct} *, int64_t)",
    )
    k1, k2 = b1.shape[0], b2.shape[0]
    c = np.full((m, n + 3), np.nan, a1.dtype)  # ldc > n: the pad columns stay untouched
    nscr = fold_sum2.scratch_elems(k1 + k2) if scratch else 0
    scr = np.zeros(max(nscr, 1), a1.dtype)
    ff = cb.ffi
    p = lambda x: ff.from_buffer(f"{ct}[]", x)  # noqa: E731
    base = [p(x) for x in (a1, b1, a2, b2)]
    fn(m, n, k1, base[0], a1.shape[1], base[1], b1.shape[1], k2, base[2], a2.shape[1], base[3],
       b2.shape[1], p(c), n + 3, p(scr), nscr)  # fmt: skip
    assert np.isnan(c[:, n:]).all()
    return c[:, :n]


@pytest.mark.parametrize("dtype", [f32, f64], ids=["f32", "f64"])
def test_sum2_kernel_tiles_and_remainders(build, dtype):
    flags, lib, tag = build
    rng = np.random.default_rng(5)
    for m in ROWS:
        for n in COLS:
            for k1, k2 in [(19, 6), (1, 1), (64, 64)]:
                # stored with wider rows than used: lda, ldb > the matrix's columns
                a1 = rng.normal(size=(m, k1 + 2)).astype(dtype)
                a2 = rng.normal(size=(m, k2 + 1)).astype(dtype)
                b1 = rng.normal(size=(k1, n + 5)).astype(dtype)
                b2 = rng.normal(size=(k2, n + 1)).astype(dtype)
                got = _sum2(lib, tag, a1, b1, a2, b2, m, n, scratch=(m + n) % 7 != 0)
                x1, x2 = a1[:, :k1].astype(f64), a2[:, :k2].astype(f64)
                y1, y2 = b1[:, :n].astype(f64), b2[:, :n].astype(f64)
                want = x1 @ y1 + x2 @ y2
                tol = 4 * (k1 + k2) * np.finfo(dtype).eps * (abs(x1) @ abs(y1) + abs(x2) @ abs(y2))
                err = np.abs(got - want)
                assert np.all(err <= tol + 1e-30), (flags, m, n, k1, k2, float(np.nanmax(err)))


# ------------------------------------------------------------------------------------------
# The lowering
# ------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """Products on one thread: the input product stays in the loop (scan_hoist hoists it out
    as one stacked product only where threads share it), so the body sums two products."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def cell(params, h, x):
    return jnp.tanh(h @ params["Wh"] + x @ params["Wx"] + params["b"])


def rnn(reverse=False, unroll=1):
    def run(params, h0, xs):
        def body(h, x):
            h = cell(params, h, x)
            return h, h

        return lax.scan(body, h0, xs, reverse=reverse, unroll=unroll)

    return run


def rnn_args(steps, batch, hidden, inputs, dtype=f32, seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "Wh": (rng.normal(size=(hidden, hidden)) / np.sqrt(hidden)).astype(dtype),
        "Wx": (rng.normal(size=(inputs, hidden)) / np.sqrt(inputs)).astype(dtype),
        "b": rng.normal(size=hidden).astype(dtype),
    }
    h0 = rng.normal(size=(batch, hidden)).astype(dtype)
    xs = rng.normal(size=(steps, batch, inputs)).astype(dtype)
    return params, h0, xs


def numpy_rnn(params, h0, xs, reverse=False):
    h, ys = h0.astype(f64), np.empty(xs.shape[:2] + h0.shape[1:])
    order = range(xs.shape[0] - 1, -1, -1) if reverse else range(xs.shape[0])
    for t in order:
        h = np.tanh(h @ params["Wh"] + xs[t] @ params["Wx"] + params["b"])
        ys[t] = h
    return h, ys


def loop_of(c_source: str) -> str:
    start = c_source.index("for (int64_t it")
    return c_source[start:]


CASES = [  # (steps, batch, hidden, inputs, dtype, reverse, unroll)
    (7, 32, 64, 64, f32, False, 1),
    (6, 5, 20, 13, f32, True, 1),  # batch and sizes not whole vectors, reversed
    (9, 3, 17, 40, f64, False, 2),  # float64, unrolled (two body copies per trip, one rest)
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]}x{c[2]}x{c[3]}-{c[4].__name__}")
def test_jit_scan_matches_eager_and_numpy(case):
    steps, batch, hidden, inputs, dtype, reverse, unroll = case
    args = rnn_args(steps, batch, hidden, inputs, dtype)
    with jaxlite.enable_x64(dtype == f64):
        f = jaxlite.jit(rnn(reverse, unroll))
        c_source = f.lower(*args).as_c()
        h, ys = f(*args)
        h_eager, ys_eager = rnn(reverse, unroll)(*args)
    loop = loop_of(c_source)
    sfx = "f32" if dtype == f32 else "f64"
    assert f"jl_gemm_sum2_{sfx}(" in loop and f"jl_gemm_ws_{sfx}(" not in loop
    assert "carry_cur1 = (out_" in loop  # the carry is read from its row of ys
    assert np.asarray(ys).dtype == dtype
    tol = 2e-5 if dtype == f32 else 1e-12
    h_np, ys_np = numpy_rnn(args[0], args[1], args[2], reverse)
    for got, want in ((h, h_eager), (ys, ys_eager), (h, h_np), (ys, ys_np)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)


def test_grad_and_vmap_of_the_scan():
    args = rnn_args(5, 3, 10, 6, f64, seed=1)

    def loss(p, h0, xs):
        h, ys = rnn()(p, h0, xs)
        return jnp.sum(ys * ys) + jnp.sum(h)

    with jaxlite.enable_x64(True):
        # the backward loop accumulates both weight gradients in its carries, each by one call
        # (rules_dot._fold_accumulate) that writes the carry's next buffer (no copy)
        c_source = jaxlite.jit(jaxlite.grad(loss)).lower(*args).as_c()
        back = c_source[c_source.rindex("for (int64_t it") :]
        assert back.count("jl_gemm_upd_f64(") == 2 and ", carry_nxt" in back
        g = jaxlite.jit(jaxlite.grad(loss))(*args)
        g_eager = jaxlite.grad(loss)(*args)
        for k in g:
            np.testing.assert_allclose(np.asarray(g[k]), np.asarray(g_eager[k]), rtol=1e-10)
        # vmap over a batch of initial states, against a loop
        h0s = np.stack([args[1], 2 * args[1]])
        hv, ysv = jaxlite.jit(jaxlite.vmap(rnn(), in_axes=(None, 0, None)))(args[0], h0s, args[2])
        for i in range(2):
            h, ys = numpy_rnn(args[0], h0s[i], args[2])
            np.testing.assert_allclose(np.asarray(hv[i]), h, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(np.asarray(ysv[i]), ys, rtol=1e-12, atol=1e-12)


def test_the_fold_declines_a_product_read_twice_and_transposed_operands():
    args = rnn_args(4, 6, 8, 8, f32, seed=2)

    def twice(params, h0, xs):
        def body(h, x):
            u = h @ params["Wh"]
            return jnp.tanh(u + x @ params["Wx"]) + u, u

        return lax.scan(body, h0, xs)

    def transposed(params, h0, xs):
        def body(h, x):
            return jnp.tanh(h @ params["Wh"].T + x @ params["Wx"]), h

        return lax.scan(body, h0, xs)

    for fn in (twice, transposed):
        f = jaxlite.jit(fn)
        assert "jl_gemm_sum2" not in f.lower(*args).as_c()
        for got, want in zip(f(*args), fn(*args)):
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=2e-5, atol=2e-5)


def test_a_carry_in_ys_and_a_passthrough_carry():
    """Two carries, one the state returned as ys too (read from its row), one passed through
    unchanged; and a carry that is an xs slice returned as ys."""
    args = rnn_args(5, 4, 8, 8, f32, seed=3)

    def two(params, h0, xs):
        def body(carry, x):
            h, c = carry
            h = cell(params, h, x)
            return (h, c), (h, c * 2)

        return lax.scan(body, (h0, h0), xs)

    def xs_carry(params, h0, xs):
        return lax.scan(lambda c, x: (x, x + c), xs[0], xs)

    for fn in (two, xs_carry):
        f = jaxlite.jit(fn)
        got, want = f(*args), fn(*args)
        for a, b in zip(jaxlite.tree_util.tree_leaves(got), jaxlite.tree_util.tree_leaves(want)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_the_cell_stays_in_the_loop_on_any_thread_count(monkeypatch, threads):
    """`h @ Wh + x @ Wx` is not hoisted (scan_hoist asks fold_sum2.folds_in_loop): one
    jl_gemm_sum2 call per step reading x_t in place, and no product before the loop; a sum whose
    products are too large for the fold (k1 + k2 > MAX_K) still has its input product hoisted
    where products run on several threads."""
    from jaxlite.backend import passes

    monkeypatch.setenv("OMP_NUM_THREADS", threads)
    args = rnn_args(6, 4, 16, 8, f32, seed=4)
    c_source = jaxlite.jit(rnn()).lower(*args).as_c()
    start = c_source.index("for (int64_t it")
    assert "jl_gemm" not in c_source[:start] and loop_of(c_source).count("jl_gemm") == 1
    assert "jl_gemm_sum2_f32(" in loop_of(c_source) and "(in_e + it" in loop_of(c_source)
    for hidden, inputs, hoisted in ((16, 8, 0), (8, fold_sum2.MAX_K, int(threads) > 1)):
        args = rnn_args(3, 2, hidden, inputs, f32)
        simple = passes.simplify(jaxlite.make_jaxpr(rnn())(*args).jaxpr)
        assert [e.primitive.name for e in simple.eqns].count("dot_general") == hoisted
    got, want = jaxlite.jit(rnn())(*args), rnn()(*args)
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-5)
