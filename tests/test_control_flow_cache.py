"""The control-flow trace cache: a body is staged once per signature (counted by the body's own
side effects), staged again for a new shape, dtype, weak type, tree or trace, never kept alive
by the cache, never reused with stale tracers, and right under jit, grad and vmap when one body
object reads different tracers. And eager loops, which run their bodies on NumPy directly, give
exactly what the eager interpreter gives.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax, tree_util
from jaxlite.control_flow import common

# Every test collects garbage (`_collect` below): cheaply, over this module's objects only.
pytestmark = pytest.mark.usefixtures("frozen_heap")

f32 = np.float32
XS = np.linspace(-1.0, 1.0, 12).reshape(4, 3)  # scanned over: 4 steps of f64[3]


class Counted:
    """A function that counts its calls: for a cached body, how often it was staged."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


def _affine(t):
    return tree_util.tree_map(lambda a: a * 2.0 + 1.0, t)


def _negative(t):
    return tree_util.tree_map(jnp.negative, t)


def _scan_body(c, x):
    tm = tree_util.tree_map
    return tm(lambda a, b: a * 0.5 + b, c, x), tm(lambda a, b: a * b, c, x)


def _below_ten(c):
    return c[0] < 10


def _while_body(c):
    return c[0] + 1, _affine(c[1])


def _stack(x, n=4):
    return tree_util.tree_map(lambda a: jnp.stack([a * (k + 1) for k in range(n)]), x)


def _loop_np(f, x, n):
    for _ in range(n):
        x = f(x)
    return x


# One line per API: (the user function, how the API calls it on `x`, the result in NumPy).
CASES = {
    "cond": (_affine, lambda f, x: lax.cond(True, f, _negative, x), lambda x: x * 2 + 1),
    "switch": (
        _affine,
        lambda f, x: lax.switch(1, [_negative, f, _affine], x),
        lambda x: x * 2 + 1,
    ),
    "scan": (
        _scan_body,
        lambda f, x: lax.scan(f, x, _stack(x))[0],
        lambda x: x * (0.0625 + 0.125 * 1 + 0.25 * 2 + 0.5 * 3 + 1.0 * 4),
    ),
    "while_loop": (
        _while_body,
        lambda f, x: lax.while_loop(_below_ten, f, (0, x))[1],
        lambda x: _loop_np(lambda v: v * 2 + 1, x, 10),
    ),
    "fori_loop": (
        lambda i, c: c * 0.5 + i,
        lambda f, x: lax.fori_loop(0, 4, f, x),
        lambda x: x * 0.0625 + 0 * 0.125 + 1 * 0.25 + 2 * 0.5 + 3,
    ),
    "map": (lambda v: v * v, lambda f, x: lax.map(f, _stack(x)), lambda x: _stack(x) ** 2),
    "map batch_size": (
        lambda v: v * v,
        lambda f, x: lax.map(f, _stack(x), batch_size=2),  # NB: a remainder would call f
        lambda x: _stack(x) ** 2,
    ),
}


def _check(name, out, x):
    expected = CASES[name][2](np.asarray(x, np.float64))
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected), rtol=1e-6)


@pytest.fixture(autouse=True)
def _collect():
    gc.collect()  # functions of earlier tests leave the cache now, not in the middle of a test


# ------------------------------------------------------------------------------------------
# Hits and misses
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_second_call_is_not_staged_again(name):
    fn, run, _ = CASES[name]
    body = Counted(fn)
    x = np.array([0.5, -1.0, 2.0])
    _check(name, run(body, x), x)
    staged = body.calls
    assert staged >= 1
    for k in range(3):
        x2 = x + k  # new values, same types: a hit
        _check(name, run(body, x2), x2)
    assert body.calls == staged


# Each variant changes one thing the staging depends on.
VARIANTS = {
    "shape": np.array([0.5, -1.0]),
    "dtype": np.array([0.5, -1.0, 2.0], f32),
    "weak type": 0.5,
    "rank": np.array(0.5),
}


@pytest.mark.parametrize("name", ["cond", "switch", "scan", "while_loop", "fori_loop"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_new_signature_is_staged_again(name, variant):
    fn, run, _ = CASES[name]
    body = Counted(fn)
    x = np.array([0.5, -1.0, 2.0])
    run(body, x)
    staged = body.calls
    y = VARIANTS[variant]
    _check(name, run(body, y), y)
    assert body.calls > staged
    staged = body.calls
    _check(name, run(body, y), y)  # and that one is cached too
    assert body.calls == staged


@pytest.mark.parametrize("name", ["cond", "scan", "while_loop"])
def test_new_tree_is_staged_again(name):
    fn, run, _ = CASES[name]
    body = Counted(fn)
    x = np.array([0.5, -1.0, 2.0])
    run(body, {"a": x})
    staged = body.calls
    for tree in ({"b": x}, (x,), [x], {"a": x, "b": x}):
        out = run(body, tree)
        for got, want in zip(tree_util.tree_leaves(out), tree_util.tree_leaves(tree)):
            _check(name, got, want)
        assert body.calls > staged
        staged = body.calls


def test_weakly_typed_carry_promotion_is_cached_with_the_body():
    body = Counted(lambda c, x: (c + x, c))  # f32 xs promote the weakly typed 0.0 carry
    xs = np.ones(3, f32)
    for _ in range(3):
        c, ys = lax.scan(body, 0.0, xs)
        assert c.dtype == f32 and ys.dtype == f32 and float(c) == 3.0
    assert body.calls == 2  # staged on the weak carry, then again on the promoted one: once


def test_staged_once_within_one_trace_and_again_in_the_next():
    body = Counted(lambda c, x: (c * x, c))

    def f(a):
        c1, _ = lax.scan(body, a, XS)
        c2, _ = lax.scan(body, a * 2.0, XS)
        return c1 + c2

    a = np.ones(3)
    np.testing.assert_allclose(jaxlite.jit(f)(a), 3.0 * np.prod(XS, axis=0))
    assert body.calls == 1
    jaxlite.make_jaxpr(f)(a)  # another trace: staged again, once
    assert body.calls == 2
    f(a), f(a)  # eager calls share one entry
    assert body.calls == 3


def test_same_function_in_other_apis_is_staged_per_api():
    body = Counted(lambda x: x * 3.0)
    x = np.ones(3)
    lax.cond(True, body, body, x)
    n = body.calls
    lax.switch(0, [body, body, body], x)
    assert body.calls > n  # a different key
    n = body.calls
    lax.cond(True, body, body, x), lax.switch(0, [body, body, body], x)
    assert body.calls == n


# ------------------------------------------------------------------------------------------
# Lifetimes
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_cache_does_not_keep_dead_functions_alive(name):
    fn, run, _ = CASES[name]
    before = common.trace_cache_size()
    body = Counted(fn)
    run(body, np.array([0.5, -1.0, 2.0]))
    assert common.trace_cache_size() > before
    ref = weakref.ref(body)
    del body
    gc.collect()
    assert ref() is None
    assert common.trace_cache_size() == before  # its entries went with it (wrappers' too)


def _closing_over(big):
    return Counted(lambda c, x: (c + jnp.sum(big) * x, c))


def test_closed_over_arrays_go_with_the_function():
    big = jnp.ones(1000)
    body, big_ref = _closing_over(big), weakref.ref(big)
    del big
    lax.scan(body, np.zeros(3), XS)
    lax.scan(body, np.zeros(3), XS)
    assert body.calls == 1  # cached: the entry's jaxpr holds `big` as a constant
    del body
    gc.collect()
    assert big_ref() is None


def test_entries_holding_tracers_are_never_stored():
    cell = {}
    body = Counted(lambda c, x: (c * cell["w"] + x, c))  # reads the jit tracer put in `cell`

    def f(w):
        cell["w"] = w
        return lax.scan(body, np.zeros(3), XS)[0]

    before = common.trace_cache_size()
    c = np.zeros(3)
    for x in XS:
        c = c * 0.5 + x
    np.testing.assert_allclose(jaxlite.jit(f)(0.5), c, rtol=1e-12)
    assert body.calls == 1
    assert common.trace_cache_size() == before  # `body` lives, but its jaxpr held a tracer


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(common, "TRACE_CACHE_SIZE", 4)
    bodies = [Counted(lambda c, x, k=k: (c + k * x, c)) for k in range(10)]
    for k, body in enumerate(bodies):
        c, _ = lax.scan(body, np.zeros(3), XS)
        np.testing.assert_allclose(c, k * XS.sum(0), atol=1e-12)
        assert common.trace_cache_size() <= 4
    c, _ = lax.scan(bodies[0], np.zeros(3), XS)  # evicted long ago: staged again, still right
    assert bodies[0].calls == 2 and np.allclose(c, 0.0)


def test_functions_that_cannot_be_weakly_referenced_are_staged_every_time():
    class Slotted:
        __slots__ = ("calls",)

        def __init__(self):
            self.calls = 0

        def __call__(self, x):
            self.calls += 1
            return x * 2.0

    f, before = Slotted(), common.trace_cache_size()
    for _ in range(3):
        np.testing.assert_allclose(lax.cond(True, f, f, np.ones(2)), 2.0)
    assert f.calls == 6 and common.trace_cache_size() == before


class _UnhashableAux:
    def __init__(self, x, meta):
        self.x, self.meta = x, meta


tree_util.register_pytree_node(
    _UnhashableAux,
    lambda n: ((n.x,), list(n.meta)),
    lambda meta, kids: _UnhashableAux(kids[0], meta),
)


def test_unhashable_tree_aux_data_is_compared_by_equality():
    # As JAX: aux data need not be hashable; equal aux data (by ==) reuses the staged body.
    body = Counted(lambda n: _UnhashableAux(n.x + 1.0, n.meta))
    for _ in range(2):
        out = lax.cond(True, body, body, _UnhashableAux(np.ones(2), ["m"]))
        np.testing.assert_allclose(out.x, 2.0)
    assert body.calls == 2
    out = lax.cond(True, body, body, _UnhashableAux(np.ones(2), ["other"]))
    assert body.calls == 4 and out.meta == ["other"]


# ------------------------------------------------------------------------------------------
# One body object, different closed-over values: transformations
# ------------------------------------------------------------------------------------------


def _make_f():
    """`f(w)` scans a body that reads `w` from a mutable cell: one body object for all calls,
    closing over a concrete value in eager code and over a different tracer in each trace."""
    cell = {}

    def body(c, x):
        return c * cell["w"] + x, jnp.sin(c * cell["w"])

    def f(w):
        cell["w"] = w
        c, ys = lax.scan(body, jnp.ones(3), XS)
        return (c + ys.sum(0)).sum()

    return f


def _f_np(w):
    c, total = np.ones(3), 0.0
    for x in XS:
        c, y = c * w + x, np.sin(c * w)
        total = total + y
    return float((c + total).sum())


def _df_np(w, eps=1e-6):
    return (_f_np(w + eps) - _f_np(w - eps)) / (2 * eps)


def test_one_body_reading_different_tracers_under_every_transformation():
    f = _make_f()
    np.testing.assert_allclose(f(0.7), _f_np(0.7), rtol=1e-12)  # cached for eager calls
    checks = [
        (jaxlite.jit(f), 1.3, _f_np),  # a new trace: the eager entry (w = 0.7) is not used
        (jaxlite.grad(f), 0.4, _df_np),
        (jaxlite.jit(jaxlite.grad(f)), 0.9, _df_np),
        (jaxlite.grad(jaxlite.jit(f)), 1.1, _df_np),
    ]
    for g, w, ref in checks:
        np.testing.assert_allclose(g(w), ref(w), rtol=1e-6)
    ws = np.array([0.2, 0.5, 0.8])
    np.testing.assert_allclose(jaxlite.vmap(f)(ws), [_f_np(w) for w in ws], rtol=1e-12)
    np.testing.assert_allclose(
        jaxlite.vmap(jaxlite.grad(f))(ws), [_df_np(w) for w in ws], rtol=1e-6
    )
    np.testing.assert_allclose(
        jaxlite.jit(jaxlite.vmap(f))(ws + 0.1), [_f_np(w) for w in ws + 0.1], rtol=1e-12
    )
    second = jaxlite.grad(jaxlite.grad(f))(0.3)
    h = 1e-4
    fd2 = (_f_np(0.3 + h) - 2 * _f_np(0.3) + _f_np(0.3 - h)) / h**2
    np.testing.assert_allclose(second, fd2, rtol=1e-4)


def test_nested_scans_share_an_inner_body_closing_over_the_outer_carry():
    cell = {}

    def inner(c, x):
        return c * cell["w"] + x, c

    def outer(c, w):
        cell["w"] = w  # a tracer of the outer body's staging
        c, _ = lax.scan(inner, c, XS)
        return c * 0.1, c.sum()

    def f(ws):
        return lax.scan(outer, jnp.ones(3), ws)[1].sum()

    def f_np(ws):
        c, total = np.ones(3), 0.0
        for w in ws:
            for x in XS:
                c = c * w + x
            total, c = total + c.sum(), c * 0.1
        return total

    ws = np.array([0.5, -0.3, 0.8])
    for g in (f, jaxlite.jit(f)):
        np.testing.assert_allclose(g(ws), f_np(ws), rtol=1e-12)
    eps, e0 = 1e-6, np.eye(3)
    fd = [(f_np(ws + eps * e) - f_np(ws - eps * e)) / (2 * eps) for e in e0]
    for g in (jaxlite.grad(f), jaxlite.jit(jaxlite.grad(f))):
        np.testing.assert_allclose(g(ws), fd, rtol=1e-5)
    batch = np.stack([ws, ws * 0.5])
    np.testing.assert_allclose(jaxlite.vmap(f)(batch), [f_np(w) for w in batch], rtol=1e-12)


def test_jvp_with_different_tangents_reuses_nothing_stale():
    f = _make_f()
    for w, t in ((0.7, 1.0), (0.7, 2.0), (1.2, -1.0)):
        y, dy = jaxlite.jvp(f, (w,), (t,))
        np.testing.assert_allclose(y, _f_np(w), rtol=1e-12)
        np.testing.assert_allclose(dy, t * _df_np(w), rtol=1e-6)


def test_rebound_global_is_read_when_first_staged_as_in_jax():
    # The documented caveat (JAX's too): the key is the function and the operand types, not
    # what the function reads besides its operands.
    f = _make_f()
    assert f(0.7) == pytest.approx(_f_np(0.7))
    assert f(1.3) == pytest.approx(_f_np(0.7))  # stale in eager code: pass `w` as an operand
    assert jaxlite.jit(f)(1.3) == pytest.approx(_f_np(1.3))  # a new trace stages it again


# ------------------------------------------------------------------------------------------
# Eager loops run their bodies on NumPy directly: the same results as the eager interpreter
# ------------------------------------------------------------------------------------------


def _int_body(c, x):
    q = lax.div(x, c[0] % 3)  # division by zero gives 0
    return (c[0] + 1, c[1] ^ x), (q, lax.rem(x, c[0] - 2), (x > 1) & (c[1] < 5))


def _mixed_body(c, x):
    h, s = c
    s = s + jnp.sum(jnp.tanh(h * x))  # a 0-d reduction of f32 in the carry
    return (jnp.where(x > 0, h * 0.5, -h), s), (2.0, s, h)  # a literal y, a pass-through y


EAGER_LOOPS = {
    "scan int": lambda: lax.scan(
        _int_body, (np.int32(0), np.int32(7)), np.arange(-3, 5, dtype=np.int32)
    ),
    "scan f32 mixed": lambda: lax.scan(
        _mixed_body, (np.ones(3, f32), 0.5), np.linspace(-1, 1, 15, dtype=f32).reshape(5, 3)
    ),
    "scan reverse, weak carry": lambda: lax.scan(
        lambda c, x: (c * 0.5 + x, c), 0.0, np.arange(4.0), reverse=True
    ),
    "fori": lambda: lax.fori_loop(0, 6, lambda i, v: v * 0.5 + i, np.ones(2, f32)),
    "while": lambda: lax.while_loop(lambda c: c[0] < 7, lambda c: (c[0] + 2, c[1] * 1.5), (0, 1.0)),
    "map": lambda: lax.map(lambda v: (v.sum(), v > 0), np.linspace(-1, 1, 6).reshape(3, 2)),
}


@pytest.mark.parametrize("name", list(EAGER_LOOPS))
def test_numpy_loops_equal_the_eager_interpreter(name, monkeypatch):
    made, real = [], common.numpy_evaluator
    monkeypatch.setattr(
        common, "numpy_evaluator", lambda closed: made.append(real(closed)) or made[-1]
    )
    fast = tree_util.tree_leaves(EAGER_LOOPS[name]())
    assert made and None not in made  # the NumPy path was taken
    monkeypatch.setattr(common, "numpy_evaluator", lambda closed: None)
    slow = tree_util.tree_leaves(EAGER_LOOPS[name]())
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow):
        assert type(a) is type(b) is jaxlite.Array
        assert (a.dtype, a.shape, a.weak_type) == (b.dtype, b.shape, b.weak_type)
        np.testing.assert_array_equal(a, b)


def test_numpy_loop_failure_falls_back_to_the_eager_interpreter(monkeypatch):
    from jaxlite import primitives

    def broken(*args, **params):
        raise FloatingPointError("not this path")

    monkeypatch.setattr(primitives.sin_p.impl, "numpy_impl", broken)
    c, ys = lax.scan(lambda c, x: (c + jnp.sin(x), c), 0.0, np.arange(3.0))
    np.testing.assert_allclose(c, np.sin(np.arange(3.0)).sum(), rtol=1e-15)
    out = lax.while_loop(lambda v: v < 2.0, lambda v: v + jnp.sin(1.0), 0.0)
    np.testing.assert_allclose(out, 3 * np.sin(1.0), rtol=1e-15)
