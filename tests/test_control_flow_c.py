"""Control flow in jaxprs and in C: JAX's printed form, JAX's error messages, loops that lower to
C loops whose size does not depend on the trip count, branches that lower to if/switch, and
jit against the eager interpreter (the spec) across dtypes, directions and nestings.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax

f32, i32 = np.float32, np.int32


def dedent(s: str) -> str:
    return textwrap.dedent(s).strip("\n")


def jaxpr_str(f, *args) -> str:
    return str(jaxlite.make_jaxpr(f)(*args))


def c_source(f, *args) -> str:
    return jaxlite.jit(f).lower(*args).as_c()


# ------------------------------------------------------------------------------------------
# Printing, as JAX prints these primitives
# ------------------------------------------------------------------------------------------


def test_scan_prints_like_jax():
    f = lambda c, xs: lax.scan(lambda c, x: (c + x, c), c, xs)  # noqa: E731
    expected = """\
    { lambda ; a:f32[] b:f32[3]. let
        c:f32[] d:f32[3] = scan[
          _split_transpose=False
          jaxpr={ lambda ; e:f32[] f:f32[]. let g:f32[] = add e f in (g, e) }
          length=3
          linear=(False, False)
          num_carry=1
          num_consts=0
          reverse=False
          unroll=1
        ] a b
      in (c, d) }"""
    assert jaxpr_str(f, f32(0), np.ones(3, f32)) == dedent(expected)


def test_while_prints_like_jax():
    def f(x):
        return lax.while_loop(lambda c: lax.lt(c, i32(10)), lambda c: lax.add(c, i32(1)), x)

    expected = """\
    { lambda ; a:i32[]. let
        b:i32[] = while[
          body_jaxpr={ lambda ; c:i32[]. let d:i32[] = add c 1:i32[] in (d,) }
          body_nconsts=0
          cond_jaxpr={ lambda ; e:i32[]. let f:bool[] = lt e 10:i32[] in (f,) }
          cond_nconsts=0
        ] a
      in (b,) }"""
    assert jaxpr_str(f, i32(0)) == dedent(expected)


def test_cond_prints_like_jax_with_hoisted_constants():
    w = np.arange(3, dtype=f32)

    def f(x):
        return lax.cond(x.sum() > 0, lambda x: x * w, lambda x: -x, x)

    expected = """\
    { lambda a:f32[3]; b:f32[3]. let
        c:f32[] = reduce_sum[axes=(0,)] b
        d:bool[] = gt c 0.0:f32[]
        e:i32[] = convert_element_type[new_dtype=int32 weak_type=False] d
        f:f32[3] = cond[
          branches=(
            { lambda ; g:f32[3] h:f32[3]. let i:f32[3] = neg h in (i,) }
            { lambda ; j:f32[3] k:f32[3]. let l:f32[3] = mul k j in (l,) }
          )
        ] e a b
      in (f,) }"""
    assert jaxpr_str(f, np.ones(3, f32)) == dedent(expected)


# ------------------------------------------------------------------------------------------
# Errors, with JAX's messages
# ------------------------------------------------------------------------------------------


def test_carry_type_mismatch_names_path_shapes_and_dtypes():
    init = {"h": np.zeros(2, f32), "n": i32(0)}

    def body(carry, x):
        return {"h": carry["h"][None], "n": carry["n"] * 1.5}, x

    with pytest.raises(TypeError) as e:
        lax.scan(body, init, np.ones(3, f32))
    assert str(e.value) == (
        "scan body function carry input and carry output must have equal types (e.g. shapes "
        "and dtypes of arrays), but they differ:\n\n"
        "  * the input carry component carry['h'] has type float32[2] but the corresponding "
        "output carry component has type float32[1,2], so the shapes do not match;\n"
        "  * the input carry component carry['n'] has type int32[] but the corresponding output "
        "carry component has type float64[], so the dtypes do not match.\n\n"
        "Revise the function so that all output types match the corresponding input types."
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: lax.while_loop(lambda x: x < 3, lambda x: x[None], f32(1)),
         "while_loop body function carry input and carry output must have equal types"),
        (lambda: lax.fori_loop(0, 3, lambda i, val: val.astype(np.float64), f32(1)),
         "The input carry val has type float32[] but the corresponding output carry "
         "component has type float64[], so the dtypes do not match"),
        (lambda: lax.scan(lambda c, x: ([c], x), (f32(1),), np.ones(3)),
         "scan body function carry input and carry output must have the same pytree structure"),
        (lambda: lax.cond(True, lambda x: x, lambda x: x[None], np.ones(2)),
         "true_fun and false_fun output must have identical types, got\n"
         "DIFFERENT float64[2] vs. float64[1,2]."),
        (lambda: lax.switch(1, [lambda x: x, lambda x: x, lambda x: (x, x)], np.ones(2)),
         "branch 0 and 2 outputs must have same type structure"),
        (lambda: lax.cond(np.ones(2), lambda: 0, lambda: 1), "Pred must be a scalar"),
        (lambda: lax.cond(1.5, lambda: 0, lambda: 1),
         "Pred type must be either boolean or number, got float64."),
        (lambda: lax.switch(1.0, [lambda: 0], ), "Index type must be an integer"),
        (lambda: lax.scan(lambda c, x: (c, x), 0.0, np.ones(3), length=4),
         "scan got `length` argument of 4 which disagrees with leading axis sizes [3]."),
        (lambda: lax.scan(lambda c, x: (c, x), 0.0, (np.ones(3), np.ones(2))),
         "scan got values with different leading axis sizes: 3, 2."),
        (lambda: lax.scan(lambda c, x: (c, x), 0.0, None),
         "scan got no values to scan over and `length` not provided."),
        (lambda: lax.scan(lambda c, x: c, 0.0, np.ones(3)), "scan body output must be a pair"),
        (lambda: lax.while_loop(lambda c: c, lambda c: c, 1.0),
         "cond_fun must return a boolean scalar, but got output type(s) [float64[]]."),
    ],
)  # fmt: skip
def test_jax_error_messages(call, message):
    with pytest.raises((TypeError, ValueError)) as e:
        call()
    assert message in str(e.value)


# ------------------------------------------------------------------------------------------
# C: loops stay loops, branches stay branches
# ------------------------------------------------------------------------------------------


def rnn(h, xs):
    w = np.eye(4, dtype=f32) * 0.5
    return lax.scan(lambda h, x: (jnp.tanh(h @ w + x), h.sum()), h, xs)


def _without_numbers(src: str) -> str:
    return re.sub(r"\d+", "N", src)


def test_scan_c_is_the_same_for_10_and_10000_steps():
    h = np.zeros((2, 4), f32)
    short = c_source(rnn, h, np.ones((10, 2, 4), f32))
    long = c_source(rnn, h, np.ones((10_000, 2, 4), f32))
    assert short.count("\n") == long.count("\n")
    assert abs(len(short) - len(long)) <= 12  # only the trip count's digits differ
    assert _without_numbers(short) == _without_numbers(long)
    assert short.count("for (int64_t it") == 1  # one loop, not unrolled
    out = jaxlite.jit(rnn)(h, np.ones((10_000, 2, 4), f32))
    ref = rnn(h, np.ones((10_000, 2, 4), f32))
    np.testing.assert_allclose(out[0], ref[0], rtol=1e-5)
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-4)


def test_while_and_fori_c_is_independent_of_the_trip_count():
    f = lambda n, x: lax.fori_loop(0, n, lambda i, x: x * 0.5 + i, x)  # noqa: E731
    src = c_source(f, 3, np.ones(4))
    assert "for (;;)" in src and "break;" in src
    assert jaxlite.jit(f)(1000, np.ones(4)).shape == (4,)
    np.testing.assert_allclose(jaxlite.jit(f)(7, np.ones(4)), f(7, np.ones(4)), rtol=1e-14)
    static = lambda x: lax.fori_loop(0, 5000, lambda i, x: x * 0.5 + i, x)  # noqa: E731
    assert _without_numbers(c_source(static, np.ones(4))) == _without_numbers(
        c_source(lambda x: lax.fori_loop(0, 50, lambda i, x: x * 0.5 + i, x), np.ones(4))
    )


def test_cond_lowers_to_if_and_switch_to_switch():
    two = c_source(lambda p, x: lax.cond(p, jnp.sin, jnp.cos, x), True, np.ones(3))
    assert "if (" in two and "else {" in two and "switch (" not in two
    three = c_source(lambda i, x: lax.switch(i, [jnp.sin, jnp.cos, jnp.exp], x), 1, np.ones(3))
    assert "switch (" in three and three.count("case ") == 3


# ------------------------------------------------------------------------------------------
# jit == eager, across dtypes, directions, empty loops and nestings
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("reverse", [False, True])
def test_jit_scan_matches_eager(dtype, reverse):
    def f(c, xs):
        def body(c, x):
            return (c * 3 + x) % 1000 if dtype in (np.int32, np.int64) else c * 0.5 + x, c + x

        return lax.scan(body, c, xs, reverse=reverse)

    c, xs = np.arange(3).astype(dtype), np.arange(18).reshape(6, 3).astype(dtype)
    out, ref = jaxlite.jit(f)(c, xs), f(c, xs)
    for a, b in zip(jaxlite.tree_util.tree_leaves(out), jaxlite.tree_util.tree_leaves(ref)):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_jit_empty_loops_and_literal_outputs():
    def f(x):
        c, ys = lax.scan(lambda c, _: (c + 1.0, 2.0), x, None, length=0)
        n = lax.fori_loop(0, 0, lambda i, v: v * 2.0, x)
        w = lax.while_loop(lambda v: v.sum() > 1e9, lambda v: v * 2.0, x)
        return c, ys, n, w

    x = np.ones(3)
    out, ref = jaxlite.jit(f)(x), f(x)
    for a, b in zip(out, ref):
        np.testing.assert_array_equal(a, b)
    assert out[1].shape == (0,)


def test_jit_nested_loops_and_branches():
    def f(x, xs):
        def outer(c, row):
            def inner(c, v):
                c = lax.cond(v > 0, lambda c: c * v, lambda c: c + v, c)
                return c, c.sum()

            c, ys = lax.scan(inner, c, row)
            c = lax.while_loop(lambda c: jnp.abs(c).sum() > 10.0, lambda c: c * 0.5, c)
            k = jnp.clip(jnp.floor(c.sum()), -1, 3).astype(jnp.int32)
            c = lax.switch(k, [lambda c: c, lambda c: c * 2.0, jnp.sin], c)
            return c, ys

        return lax.scan(outer, x, xs)

    x, xs = np.array([0.3, -0.2]), np.random.RandomState(0).randn(4, 5)
    out, ref = jaxlite.jit(f)(x, xs), f(x, xs)
    for a, b in zip(jaxlite.tree_util.tree_leaves(out), jaxlite.tree_util.tree_leaves(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_jit_swapping_carries_and_pass_through():
    # The new carry reads the old ones: (a, b) -> (b, a + b) must not read half-updated values.
    def fib(a, b):
        return lax.fori_loop(0, 10, lambda i, c: (c[1], c[0] + c[1]), (a, b))

    assert [int(v) for v in jaxlite.jit(fib)(0, 1)] == [55, 89]
    va, vb = np.zeros(3), np.ones(3)
    out = jaxlite.jit(fib)(va, vb)
    np.testing.assert_array_equal(out[0], np.full(3, 55.0))
    np.testing.assert_array_equal(out[1], np.full(3, 89.0))


def test_jit_cond_reuses_an_operand_fused_outside():
    # A fused value read by several branches must be computed before the branch.
    def loss(x):
        i = jnp.floor(x.sum()).astype(jnp.int32)
        y = lax.switch(i, [jnp.sin, lambda x: x * x @ np.eye(3), lambda x: jnp.cos(x) * 3.0], x)
        return jnp.sin(y).sum()

    for shift in (-5.0, 0.2, 0.5, 5.0):
        x = np.random.RandomState(1).randn(2, 3) * 0.1 + shift / 6
        np.testing.assert_allclose(
            jaxlite.jit(jaxlite.grad(loss))(x), jaxlite.grad(loss)(x), rtol=1e-12
        )


# ------------------------------------------------------------------------------------------
# scan(unroll=k): k copies of the body per trip of the C loop, one more for the remainder
# ------------------------------------------------------------------------------------------


def _unroll_scan(unroll, reverse):
    """A scan with array, scalar and integer carries, ys of two shapes, a branch and a nested
    jitted call in its body (sub-jaxprs shared by the copies), run `unroll` per trip."""
    inner = jaxlite.jit(lambda v: jnp.tanh(v) * 0.5)

    def f(h, s, xs):
        def body(carry, x):
            h, s, n = carry
            h = inner(h * 0.9 + x) + s * 0.01
            s = lax.cond(s > 1.0, lambda s: s * 0.5, lambda s: s + 0.3, s + h.sum())
            return (h, s, n + 1), (h * 2.0, s)

        return lax.scan(body, (h, s, np.int32(0)), xs, reverse=reverse, unroll=unroll)

    return f


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("reverse", [False, True])
def test_unrolled_scan_equals_unroll_1_and_eager(k, reverse):
    rng = np.random.RandomState(k)
    h, s = rng.randn(2, 3).astype(f32), f32(0.2)
    once, unrolled = _unroll_scan(1, reverse), _unroll_scan(k, reverse)
    for length in sorted({0, 1, k - 1, k, k + 1, 3 * k + 2}):
        xs = rng.randn(length, 2, 3).astype(f32)
        got = jaxlite.tree_util.tree_leaves(jaxlite.jit(unrolled)(h, s, xs))
        want = jaxlite.tree_util.tree_leaves(jaxlite.jit(once)(h, s, xs))
        spec = jaxlite.tree_util.tree_leaves(unrolled(h, s, xs))  # eager: unroll changes nothing
        for a, b, c in zip(got, want, spec):
            assert a.dtype == b.dtype == c.dtype and a.shape == b.shape == c.shape
            np.testing.assert_array_equal(a, b)  # the same operations in the same order
            np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


def _copies(src: str) -> int:
    """How many copies of the RNN body's tanh the C holds."""
    return src.count("= tanh ")


@pytest.mark.parametrize("k", [2, 4])
def test_unrolled_c_holds_k_copies_and_does_not_grow_with_length(k):
    h = np.zeros((2, 4), f32)

    def rnn_k(h, xs):
        return lax.scan(lambda h, x: (jnp.tanh(h @ np.ones((4, 4), f32) + x), h.sum()), h, xs,
                        unroll=k)  # fmt: skip

    even = c_source(rnn_k, h, np.ones((10 * k, 2, 4), f32))
    assert _copies(even) == k and even.count(f"of {k} per trip */ {{") == k
    assert _copies(c_source(rnn_k, h, np.ones((10 * k + 1, 2, 4), f32))) == k + 1  # remainder
    for n in (100 * k, 1000 * k):
        assert _without_numbers(c_source(rnn_k, h, np.ones((n, 2, 4), f32))) == _without_numbers(
            even
        )
    assert _without_numbers(c_source(rnn_k, h, np.ones((1000 * k + 1, 2, 4), f32))) == (
        _without_numbers(c_source(rnn_k, h, np.ones((10 * k + 1, 2, 4), f32)))
    )


def test_unroll_true_unrolls_short_loops_fully_and_long_ones_by_max_unroll():
    from jaxlite.control_flow.scan import MAX_UNROLL

    def f(c, xs):
        return lax.scan(lambda c, x: (jnp.tanh(c + x), c), c, xs, unroll=True)

    c = np.zeros(3)
    assert "unroll=5" in jaxpr_str(f, c, np.ones((5, 3)))  # as JAX: True means `length`
    short = c_source(f, c, np.ones((5, 3)))
    assert _copies(short) == 5 and "it" not in re.findall(r"for \(int64_t (\w+?)\d", short)
    long = c_source(f, c, np.ones((10 * MAX_UNROLL + 3, 3)))
    assert _copies(long) == MAX_UNROLL + 1
    xs = np.random.RandomState(0).randn(10 * MAX_UNROLL + 3, 3)
    for a, b in zip(jaxlite.jit(f)(c, xs), f(c, xs)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_fori_loop_unroll_reaches_the_c_loop():
    f = lambda x: lax.fori_loop(0, 9, lambda i, x: jnp.tanh(x) + i, x, unroll=3)  # noqa: E731
    assert _copies(c_source(f, np.ones(2))) == 3
    np.testing.assert_allclose(jaxlite.jit(f)(np.ones(2)), f(np.ones(2)), rtol=1e-12)


@pytest.mark.parametrize(
    "unroll, error, message",
    [
        (0, ValueError, "`unroll` must be a `bool` or a positive `int`"),
        (-2, ValueError, "`unroll` must be a `bool` or a positive `int`"),
        (2.5, TypeError, "`unroll` must be a `bool` or a positive `int`, got 2.5"),
        ("2", TypeError, "`unroll` must be a `bool` or a positive `int`"),
        (None, TypeError, "`unroll` must be a `bool` or a positive `int`"),
    ],
)
def test_bad_unroll_raises_like_jax(unroll, error, message):
    with pytest.raises(error, match=re.escape(message)):
        lax.scan(lambda c, x: (c + x, c), 0.0, np.ones(3), unroll=unroll)


@pytest.mark.parametrize("unroll, param", [(False, 1), (np.int64(2), 2), (7, 7), (True, 3)])
def test_good_unroll_values_as_jax_records_them(unroll, param):
    f = lambda c, xs: lax.scan(lambda c, x: (c + x, c), c, xs, unroll=unroll)  # noqa: E731
    assert f"unroll={param}\n" in jaxpr_str(f, 0.0, np.ones(3))


def test_traced_unroll_and_unroll_with_traced_fori_bounds_raise():
    with pytest.raises(TypeError, match="expects a concrete `int` or `bool`"):
        jaxlite.jit(lambda k: lax.scan(lambda c, x: (c + x, c), 0.0, np.ones(3), unroll=k))(2)
    with pytest.raises(ValueError, match="loop bounds are statically known"):
        jaxlite.jit(lambda n: lax.fori_loop(0, n, lambda i, x: x + i, 0, unroll=2))(3)
