"""Fusion, BLAS and the other part-2 paths of the C backend, against the eager interpreter on the
same jaxpr: elementwise chains become one loop nest, reductions read their producers in place,
matrix products call BLAS (transposed and batched operands without copies), and all of it is
right for broadcasting, non-contiguous inputs, size-0 and size-1 dimensions and lengths that do
not divide the vector width.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from tests.test_jit_primitives import assert_same, run_both

f32, f64 = np.float32, np.float64


def c_of(fn, *args) -> str:
    return jaxlite.jit(fn).lower(*args).as_c()


def for_loops(c: str) -> int:
    return len(re.findall(r"^\s*for \(", c, flags=re.MULTILINE))


def chain(x):
    return jnp.tanh(x) * lax.logistic(1.7 * x + 0.3) + x * x


def test_elementwise_chain_is_one_loop_nest_reading_each_input_once():
    c = c_of(chain, jaxlite.ShapeDtypeStruct((4 * 1024 * 1024,), np.dtype(f32)))
    body = c.split("/* outputs */")[1]
    assert for_loops(c) == 1 and "tmp_" not in c  # no intermediate buffer
    assert body.count("out_0[") == 1  # each output written once
    loads = set(re.findall(r"in_a\[[^\]]*\]", body))
    assert loads == {"in_a[i0]"}  # one element of the input per iteration
    x = np.linspace(-5, 5, 4097, dtype=f32)  # 4097: not a multiple of the vector width
    got, want = run_both(chain, x)
    assert_same(got[0], want[0], ulps=4)


def test_reduction_reads_its_producers_in_place():
    c = c_of(lambda x, y: jnp.sum(jnp.exp(x) * y, axis=1), np.ones((8, 33), f32), np.ones(33, f32))
    assert "tmp_" not in c and for_loops(c) == 2
    x = np.random.default_rng(0).normal(size=(8, 33)).astype(f32)
    y = np.arange(33, dtype=f32)
    got, want = run_both(lambda x, y: jnp.sum(jnp.exp(x) * y, axis=1), x, y)
    assert_same(got[0], want[0], rtol=1e-5)


def test_matmul_epilogue_is_fused_into_one_loop():
    def layer(x, w, b):
        return jnp.maximum(x @ w + b, 0.0) * 0.5

    args = (np.ones((5, 7), f32), np.ones((7, 3), f32), np.ones(3, f32))
    c = c_of(layer, *args)
    assert c.count("jl_gemm_ws_f32(") == 1 and for_loops(c) == 2  # the gemm, then one epilogue nest
    rng = np.random.default_rng(1)
    args = [rng.normal(size=a.shape).astype(f32) for a in args]
    got, want = run_both(layer, *args)
    assert_same(got[0], want[0], rtol=1e-5)


def test_shared_costly_values_are_computed_once():
    def f(x):
        e = jnp.exp(x)
        return e + 1.0, e * 2.0, jnp.sum(e)

    c = c_of(f, np.ones((64, 3), f32))
    assert c.count("jl_exp_f32(") == 1


# ------------------------------------------------------------------------------------------
# dot_general through BLAS
# ------------------------------------------------------------------------------------------

DOTS = [
    ("mm", (5, 7), (7, 3), (((1,), (0,)), ((), ()))),
    ("lhs_transposed", (7, 5), (7, 3), (((0,), (0,)), ((), ()))),
    ("rhs_transposed", (5, 7), (3, 7), (((1,), (1,)), ((), ()))),
    ("both_transposed", (7, 5), (3, 7), (((0,), (1,)), ((), ()))),
    ("batched", (4, 5, 7), (4, 7, 3), (((2,), (1,)), ((0,), (0,)))),
    ("batch_in_the_middle", (5, 4, 7), (7, 4, 3), (((2,), (0,)), ((1,), (1,)))),
    ("two_contractions", (2, 5, 3), (3, 2, 4), (((0, 2), (1, 0)), ((), ()))),
    ("matrix_vector", (5, 7), (7,), (((1,), (0,)), ((), ()))),
    ("vector_vector", (7,), (7,), (((0,), (0,)), ((), ()))),
    ("size_1", (1, 7), (7, 1), (((1,), (0,)), ((), ()))),
    ("size_0_free", (0, 7), (7, 3), (((1,), (0,)), ((), ()))),
    ("size_0_contraction", (5, 0), (0, 3), (((1,), (0,)), ((), ()))),
    ("odd_sizes", (17, 33), (33, 19), (((1,), (0,)), ((), ()))),
    ("outer", (5,), (3,), (((), ()), ((), ()))),
    ("batched_outer", (4, 5), (4, 3), (((), ()), ((0,), (0,)))),
]


@pytest.mark.parametrize("dtype", [f32, f64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,ls,rs,dn", DOTS, ids=[d[0] for d in DOTS])
def test_dot_general_variants(name, ls, rs, dn, dtype):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=ls).astype(dtype), rng.normal(size=rs).astype(dtype)
    fn = lambda x, y: lax.dot_general(x, y, dn)
    got, want = run_both(fn, x, y)
    assert_same(got[0], want[0], rtol=1e-5 if dtype == f32 else 1e-12)
    c = c_of(fn, x, y)
    if dn[0][0] and 0 not in ls + rs:
        assert f"jl_gemm_ws_{'f32' if dtype == f32 else 'f64'}(" in c
        copies = re.findall(r"\btmp_\w*_mat\b", c)
        assert bool(copies) == (name == "two_contractions"), copies  # BLAS reads in place


def test_dot_of_non_contiguous_and_broadcast_operands():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 9)).astype(f32)
    w = rng.normal(size=(9, 4)).astype(f32)
    f = jaxlite.jit(lambda a, w: (a[:, ::2] @ w[::2]) + lax.rev(a, (0,)) @ w)
    np.testing.assert_allclose(f(a, w), a[:, ::2] @ w[::2] + a[::-1] @ w, rtol=1e-5)
    g = jaxlite.jit(lambda a, w: a @ w)
    np.testing.assert_allclose(g(a.T.copy().T, w), a @ w, rtol=1e-5)  # a C-contiguous copy
    np.testing.assert_allclose(g(np.asfortranarray(a), w), a @ w, rtol=1e-5)  # Fortran order


# ------------------------------------------------------------------------------------------
# Random fused programs
# ------------------------------------------------------------------------------------------

UNARY = [jnp.sin, jnp.tanh, jnp.exp, lambda x: x * 1.5, jnp.abs, lambda x: -x, jnp.negative]
BINARY = [jnp.add, jnp.multiply, jnp.maximum, jnp.subtract, lambda a, b: jnp.where(a > b, a, b)]


@st.composite
def programs(draw):
    dims = draw(st.lists(st.sampled_from([0, 1, 2, 3, 17]), min_size=0, max_size=3))
    shape = tuple(dims)
    # operands broadcast against `shape`: some dims dropped or set to 1
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        s = tuple(1 if draw(st.booleans()) else d for d in shape)
        shapes.append(s[draw(st.integers(0, len(s))) :])
    steps = draw(st.lists(st.tuples(st.integers(0, len(UNARY) - 1), st.integers(0, len(BINARY) - 1),
                                    st.integers(0, 2)), min_size=1, max_size=6))  # fmt: skip
    transpose = draw(st.booleans())
    return shapes, steps, transpose


@given(programs())
def test_random_fused_programs_match_eager(program):
    shapes, steps, transpose = program
    rng = np.random.default_rng(len(steps))
    args = [rng.normal(size=s).astype(f32) for s in shapes]
    if transpose and args[0].ndim >= 2:  # a non-contiguous input
        args[0] = np.swapaxes(np.swapaxes(args[0], 0, 1).copy(), 0, 1)

    def fn(*xs):
        acc = xs[0]
        for u, b, k in steps:
            acc = BINARY[b](UNARY[u](acc), xs[k % len(xs)])
        return acc, jnp.sum(acc, axis=0) if acc.ndim else acc

    got, want = run_both(fn, *args)
    for g, w in zip(got, want):
        assert_same(g, w, rtol=2e-5)


def test_fused_value_reshaped_to_rank_0():
    # Regression: a fused f32[1] (or a scalar product) reshaped to f32[] feeds an elementwise op.
    def f(x, v):
        s = lax.reshape(jnp.exp(x[:1]) * 2.0, ())
        d = lax.dot_general(v[0], v[1], (((), ()), ((), ())))
        return s + x * d

    x, v = np.linspace(0, 1, 5, dtype=f32), np.array([2.0, 3.0], f32)
    got, want = run_both(f, x, v)
    assert_same(got[0], want[0], ulps=4)


def test_dot_general_without_the_blas_wheel_uses_c_loops(monkeypatch):
    from jaxlite.backend import compile as jl_compile

    monkeypatch.setattr(jl_compile, "_BLAS", [None])  # as if scipy-openblas32 were missing
    assert "-DJL_HAVE_BLAS" not in jl_compile.compiler_command(
        ["cc"], "k.c", "k.so", blas=True, openmp=False
    )
    rng = np.random.default_rng(4)
    for ls, rs, dn in [d[1:] for d in DOTS if d[0] in ("lhs_transposed", "batched", "odd_sizes")]:
        x, y = rng.normal(size=ls).astype(f32), rng.normal(size=rs).astype(f32)
        f = jaxlite.jit(lambda x, y, dn=dn: lax.dot_general(x, y, dn))
        np.testing.assert_allclose(f(x, y), lax.dot_general(x, y, dn), rtol=1e-5, atol=1e-6)
