"""The scan product hoisting pass (jaxlite/backend/scan_hoist.py): which products leave the loop,
the shape of the rewritten jaxpr, and that `jit` (which runs the pass) agrees with eager
evaluation, which never does.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, lax
from jaxlite.backend import passes, scan_hoist
from jaxlite.interpreters import staging

f32, f64 = np.float32, np.float64
RNG = np.random.default_rng(0)


def rand(*shape, dtype=f32):
    return RNG.normal(size=shape).astype(dtype)


def simplified(fn, *args) -> tuple[core.Jaxpr, core.Jaxpr, list]:
    """`(original, simplified, consts)` jaxprs of `fn`, constvars as leading inputs."""
    closed = jaxlite.make_jaxpr(fn)(*args)
    jaxpr = staging.convert_constvars_jaxpr(closed.jaxpr)
    simple = passes.simplify(jaxpr)
    core.typecheck_jaxpr(simple)
    return jaxpr, simple, closed.consts


def scans(jaxpr: core.Jaxpr) -> list[core.JaxprEqn]:
    return [e for e in jaxpr.eqns if e.primitive.name == "scan"]


def count(jaxpr: core.Jaxpr, name: str = "dot_general") -> int:
    return sum(e.primitive.name == name for e in jaxpr.eqns)


def hoisted_and_left(fn, *args) -> tuple[int, int]:
    """(products before the first scan, products left in its body) of the simplified jaxpr."""
    _, simple, _ = simplified(fn, *args)
    first = next(i for i, e in enumerate(simple.eqns) if e.primitive.name == "scan")
    before = core.Jaxpr([], [], [], simple.eqns[:first])
    body = simple.eqns[first].params["jaxpr"].jaxpr
    core.typecheck_jaxpr(body)
    return count(before), count(body)


def assert_close(a, b, dtype=f32):
    tol = 1e-5 if dtype == f32 else 1e-12
    for x, y in zip(jaxlite.tree_util.tree_leaves(a), jaxlite.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------
# The functions: (name, function, arguments, products hoisted, products left in the body)
# ------------------------------------------------------------------------------------------


def rnn(reverse=False, unroll=1):
    """An RNN cell whose input product is hoisted: x @ Wx + b, then + h @ Wh (the sum of the two
    products, `rnn_sum`, stays in the loop: fold_sum2.folds_in_loop)."""

    def f(p, h0, xs):
        def cell(h, x):
            h = jnp.tanh(x @ p["Wx"] + p["b"] + h @ p["Wh"])
            return h, h

        return lax.scan(cell, h0, xs, reverse=reverse, unroll=unroll)

    return f


def rnn_args(steps=7, hidden=16, batch=5, dtype=f32):
    p = {"Wh": rand(hidden, hidden, dtype=dtype) / 4, "Wx": rand(hidden, hidden, dtype=dtype),
         "b": rand(hidden, dtype=dtype)}  # fmt: skip
    return p, rand(batch, hidden, dtype=dtype), rand(steps, batch, hidden, dtype=dtype)


def rnn_sum(p, h0, xs):  # h @ Wh + x @ Wx: one jl_gemm_sum2 call per step, nothing hoisted
    return lax.scan(lambda h, x: (jnp.tanh(h @ p["Wh"] + x @ p["Wx"] + p["b"]),) * 2, h0, xs)


def rnn_sum_transposed(p, h0, xs):  # h @ Wh + x_t.T @ Wx: no fold (x_t.T is strided): hoisted
    return lax.scan(lambda h, x: (jnp.tanh(h @ p["Wh"] + x.T @ p["Wx"]),) * 2, h0, xs)


def lstm_like(p, init, xs):  # pytree carry, two xs
    def cell(carry, x):
        a, b = x
        h = jnp.tanh(carry["h"] @ p["W"] + a @ p["A"] + b @ p["B"])
        return {"h": h, "n": carry["n"] + 1.0}, (h, carry["n"])

    return lax.scan(cell, init, xs)


def lstm_args():
    p = {"W": rand(6, 6) / 3, "A": rand(4, 6), "B": rand(3, 6)}
    return p, {"h": rand(2, 6), "n": np.float32(0)}, (rand(5, 2, 4), rand(5, 2, 3))


def rhs_xs(w, h0, xs):  # y = W @ x_t: the stacked product X.W needs a transposed view per step
    return lax.scan(lambda h, x: (jnp.tanh(h + w @ x), w @ x), h0, xs)


def rhs_vector_xs(w, h0, xs):  # W @ x_t with x_t a vector: no transpose
    return lax.scan(lambda h, x: (jnp.sin(h * (w @ x)), h), h0, xs)


def vector_lhs_rhs_xs(v, h0, xs):  # v @ x_t with v a vector: no transpose
    return lax.scan(lambda h, x: (jnp.sin(h + v @ x), h), h0, xs)


def contract_leading(w, h0, xs):  # contracting x_t's first axis: dimension shifts to 1
    dn = (((0,), (1,)), ((), ()))
    return lax.scan(lambda h, x: (h + lax.dot_general(x, w, dn), h), h0, xs)


def converted_transposed_xs(w, h0, xs):  # x_t: f64 (4, 2), read as f32 (2, 4): both ops hoist
    return lax.scan(lambda h, x: (jnp.tanh(h + x.astype(f32).T @ w), h), h0, xs)


def const_only(w, h0, xs):  # a product of two constants: computed once, before the loop
    return lax.scan(lambda h, x: (jnp.tanh(h @ (w @ w.T) + x), h), h0, xs)


def xs_reused(w, h0, xs):  # x_t also read elsewhere: the body keeps it
    return lax.scan(lambda h, x: (jnp.tanh(h @ w + x @ w) * x, x @ w + x), h0, xs)


def chained(p, h0, xs):  # (x_t @ A) @ B: both products leave the loop
    return lax.scan(lambda h, x: (jnp.tanh(h + (x @ p[0]) @ p[1]), h), h0, xs)


def carry_only(w, h0, xs):  # the product reads the carry
    def body(h, x):
        y = h @ w
        return jnp.tanh(y) + x, y

    return lax.scan(body, h0, xs)


def integer_dot(w, h0, xs):  # integer products are C loops: not hoisted
    return lax.scan(lambda h, x: (h + x @ w, h), h0, xs)


def two_xs_product(h0, xs):  # x_t . x_t: a batched product, not hoisted
    return lax.scan(lambda h, x: (h + x @ x.T, h), h0, xs)


def nested(w, h0, xs):  # an inner scan's product hoists out of both loops
    def outer(h, x):
        return lax.scan(lambda g, y: (jnp.tanh(g + y @ w), g), h, x)

    return lax.scan(outer, h0, xs)


W6 = rand(6, 6)
CASES = [
    ("rnn", rnn(), rnn_args(), 1, 1),
    ("rnn reverse", rnn(reverse=True), rnn_args(), 1, 1),
    ("rnn unroll 3, reverse", rnn(reverse=True, unroll=3), rnn_args(), 1, 1),
    ("rnn, a sum of products", rnn_sum, rnn_args(), 0, 2),
    ("rnn, transposed xs", rnn_sum_transposed, (*rnn_args()[:2], rand(7, 16, 5)), 1, 1),
    ("pytree carry, two xs", lstm_like, lstm_args(), 1, 2),  # h @ W + a @ A: in the loop
    ("xs on the rhs", rhs_xs, (rand(3, 4), rand(3, 5), rand(6, 4, 5)), 1, 0),
    ("xs vector on the rhs", rhs_vector_xs, (rand(3, 4), rand(3), rand(6, 4)), 1, 0),
    ("vector lhs, xs rhs", vector_lhs_rhs_xs, (rand(4), rand(5), rand(6, 4, 5)), 1, 0),
    ("contract xs axis 0", contract_leading, (rand(3, 4), rand(5, 3), rand(6, 4, 5)), 1, 0),
    (
        "convert, transpose",
        converted_transposed_xs,
        (W6[:4], rand(2, 6), rand(5, 4, 2, dtype=f64)),
        1,
        0,
    ),  # fmt: skip
    ("const product", const_only, (W6, rand(2, 6), rand(4, 2, 6)), 1, 1),
    ("xs read elsewhere", xs_reused, (W6, rand(2, 6), rand(4, 2, 6)), 1, 2),
    ("chained", chained, ((rand(6, 4), rand(4, 6)), rand(2, 6), rand(4, 2, 6)), 2, 0),
    ("carry products only", carry_only, (W6, rand(2, 6), rand(4, 2, 6)), 0, 1),
    ("length 1", rnn(), rnn_args(steps=1), 0, 2),
    ("length 0", rnn(), rnn_args(steps=0), 0, 2),
    ("float64", rnn(), rnn_args(dtype=f64), 1, 1),
    (
        "int32",
        integer_dot,
        (
            np.ones((3, 3), np.int32),
            np.zeros((2, 3), np.int32),
            np.arange(24, dtype=np.int32).reshape(4, 2, 3),
        ),
        0,
        1,
    ),  # fmt: skip
    ("two xs operands", two_xs_product, (rand(3, 3), rand(5, 3, 4)), 0, 1),
]


@pytest.mark.parametrize("name, fn, args, n_hoisted, n_left", CASES, ids=[c[0] for c in CASES])
def test_hoisted_products_and_jit_equals_eager(name, fn, args, n_hoisted, n_left):
    assert hoisted_and_left(fn, *args) == (n_hoisted, n_left)
    dtype = f64 if name == "float64" else f32
    assert_close(jaxlite.jit(fn)(*args), fn(*args), dtype)


@pytest.mark.parametrize("name, fn, args, n_hoisted, n_left", CASES, ids=[c[0] for c in CASES])
def test_simplified_jaxpr_evaluates_the_same(name, fn, args, n_hoisted, n_left):
    jaxpr, simple, consts = simplified(fn, *args)
    flat = jaxlite.tree_util.tree_leaves(args)
    dtype = f64 if name == "float64" else f32
    assert_close(core.eval_jaxpr(simple, [], *consts, *flat),
                 core.eval_jaxpr(jaxpr, [], *consts, *flat), dtype)  # fmt: skip


def test_the_rnn_body_reads_the_stacked_product_and_drops_what_it_no_longer_reads():
    p, h0, xs = rnn_args()
    _, simple, _ = simplified(rnn(), p, h0, xs)
    dot, scan = simple.eqns
    assert dot.primitive.name == "dot_general" and scan.primitive.name == "scan"
    assert dot.params["dimension_numbers"] == (((2,), (0,)), ((), ()))
    assert dot.outvars[0].aval.shape == (7, 5, 16)
    params, body = scan.params, scan.params["jaxpr"].jaxpr
    # consts b, Wh (Wx is gone); carry h; xs: the stacked product (x_t is read no more)
    assert [v.aval.shape for v in body.invars] == [(16,), (16, 16), (5, 16), (5, 16)]
    assert (params["num_consts"], params["num_carry"]) == (2, 1)
    assert scan.invars[-1] is dot.outvars[0] and len(params["linear"]) == 4
    assert [e.primitive.name for e in body.eqns].count("dot_general") == 1


def test_nested_scans_hoist_out_of_both_loops():
    w, h0, xs = W6, rand(2, 6), rand(3, 4, 2, 6)
    assert hoisted_and_left(nested, w, h0, xs) == (1, 0)
    assert_close(jaxlite.jit(nested)(w, h0, xs), nested(w, h0, xs))


def test_scan_inside_cond_is_rewritten():
    def f(p, h0, xs):
        return lax.cond(p["b"][0] > 0, rnn(), rnn(reverse=True), p, h0, xs)

    args = rnn_args()
    _, simple, _ = simplified(f, *args)
    (cond,) = [e for e in simple.eqns if e.primitive.name == "cond"]
    for branch in cond.params["branches"]:
        assert [e.primitive.name for e in branch.jaxpr.eqns] == ["dot_general", "scan"]
    assert_close(jaxlite.jit(f)(*args), f(*args))


def test_stacked_products_above_the_memory_bound_stay_in_the_loop(monkeypatch):
    args = rnn_args(steps=7, hidden=16, batch=5)
    monkeypatch.setattr(scan_hoist, "MAX_HOISTED_BYTES", 7 * 5 * 16 * 4 - 1)
    assert hoisted_and_left(rnn(), *args) == (0, 2)
    monkeypatch.setattr(scan_hoist, "MAX_HOISTED_BYTES", 7 * 5 * 16 * 4)
    assert hoisted_and_left(rnn(), *args) == (1, 1)


def test_grad_through_the_scan():
    def loss(p, h0, xs):
        h, ys = rnn()(p, h0, xs)
        return jnp.mean(ys * ys) + jnp.sum(h)

    args = rnn_args()
    _, simple, _ = simplified(jaxlite.grad(loss), *args)
    forward = scans(simple)[0]
    assert simple.eqns.index(forward) > 0 and simple.eqns[0].primitive.name == "dot_general"
    assert count(forward.params["jaxpr"].jaxpr) == 1
    assert_close(jaxlite.jit(jaxlite.grad(loss))(*args), jaxlite.grad(loss)(*args))


def test_vmap_of_the_scan():
    p, h0, xs = rnn_args()
    hs = np.stack([h0, 2 * h0, -h0])
    f = jaxlite.vmap(rnn(), in_axes=(None, 0, None))
    assert hoisted_and_left(f, p, hs, xs)[0] == 1
    assert_close(jaxlite.jit(f)(p, hs, xs), f(p, hs, xs))


def test_user_jaxprs_print_unchanged():
    args = rnn_args()
    before = str(jaxlite.make_jaxpr(rnn())(*args))
    jaxpr, simple, _ = simplified(rnn(), *args)
    text = str(jaxpr)
    jaxlite.jit(rnn())(*args)
    passes.simplify(jaxpr)
    assert str(jaxlite.make_jaxpr(rnn())(*args)) == before and str(jaxpr) == text
    assert before.count("dot_general") == 2 and str(simple) != text


def loop_body(c_source: str) -> tuple[str, str]:
    """(the C before the scan's loop, the loop's block)."""
    start = re.search(r"for \(int64_t it\d+ = 0;", c_source).start()
    depth, i = 0, c_source.index("{", start)
    for j in range(i, len(c_source)):
        depth += {"{": 1, "}": -1}.get(c_source[j], 0)
        if depth == 0:
            return c_source[:start], c_source[i : j + 1]
    raise AssertionError("unbalanced C")


def test_the_rnn_loop_calls_one_gemm_per_step():
    args = rnn_args(steps=50, hidden=64, batch=32)
    before, loop = loop_body(jaxlite.jit(rnn()).lower(*args).as_c())
    # (the recurrent product and the add of the hoisted one's row: one call, rules_dot._fold_accumulate)
    assert loop.count("jl_gemm_ws_f32(") + loop.count("jl_gemm_upd_f32(") == 1
    assert before.count("jl_gemm_ws_f32(") == 1
    assert re.search(r"jl_gemm_ws_f32\(false, false, 1600, 64, 64, in_\w+", before)


# ------------------------------------------------------------------------------------------
# Every layout of a product with one xs operand, checked on the eager interpreter
# ------------------------------------------------------------------------------------------


@st.composite
def products(draw):
    """(x_t shape, w shape, dimension_numbers, xs on the lhs?, length, reverse)."""
    x_shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    xc = draw(st.integers(0, len(x_shape) - 1))
    w_free = draw(st.lists(st.integers(1, 3), max_size=2))
    wc = draw(st.integers(0, len(w_free)))
    w_shape = w_free[:wc] + [x_shape[xc]] + w_free[wc:]
    lhs = draw(st.booleans())
    dn = (((xc,), (wc,)), ((), ())) if lhs else (((wc,), (xc,)), ((), ()))
    return tuple(x_shape), tuple(w_shape), dn, lhs, draw(st.integers(2, 4)), draw(st.booleans())


@given(products())
def test_every_layout_is_hoisted_correctly(case):
    x_shape, w_shape, dn, lhs, length, reverse = case

    def f(w, xs):
        def body(c, x):
            y = lax.dot_general(x, w, dn) if lhs else lax.dot_general(w, x, dn)
            return c + jnp.sum(jnp.sin(y)), y * c

        return lax.scan(body, np.float64(1.0), xs, reverse=reverse)

    w, xs = rand(*w_shape, dtype=f64), rand(length, *x_shape, dtype=f64)
    jaxpr, simple, consts = simplified(f, w, xs)
    assert count(simple) == 1 and count(scans(simple)[0].params["jaxpr"].jaxpr) == 0
    assert_close(core.eval_jaxpr(simple, [], *consts, w, xs),
                 core.eval_jaxpr(jaxpr, [], *consts, w, xs), f64)  # fmt: skip
