"""Programs of any size (issue 22): constants captured once per object, kernels with any number
of inputs, outputs and constants, and compile time that follows distinct structure."""

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.backend import passes
from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Var
from jaxlite import primitives as P

RNG = np.random.default_rng(0)
WEIGHTS = [RNG.standard_normal((4, 4)).astype(np.float32) * 0.3 for _ in range(4)]


def deep(n, weights):
    """The issue's network: a Python loop over `n` layers, `weights` used in turn."""

    def f(x):
        for i in range(n):
            x = jnp.tanh(x @ weights[i % len(weights)] + 0.1 * i)
        return jnp.sum(x)

    return f


def deep_numpy(n, weights, x):
    for i in range(n):
        x = np.tanh(x @ weights[i % len(weights)] + np.float32(0.1 * i))
    return x


X = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)


# --- constants captured once per object -----------------------------------------------------


def test_make_jaxpr_captures_each_array_once():
    closed = jaxlite.make_jaxpr(deep(40, WEIGHTS))(X)
    assert len(closed.jaxpr.constvars) == 4
    assert all(c is not w for c in closed.consts for w in WEIGHTS)  # copies (arrays immutable)
    np.testing.assert_array_equal(np.asarray(closed.consts[1]), WEIGHTS[1])


def test_grad_and_jit_capture_each_array_once():
    f = deep(40, WEIGHTS)
    assert len(jaxlite.make_jaxpr(jaxlite.grad(f))(X).jaxpr.constvars) == 4
    lowered = jaxlite.jit(jaxlite.grad(f)).lower(X)
    assert len(lowered.jaxpr.jaxpr.invars) == 5  # the 4 weights, then x


def test_control_flow_bodies_share_the_captured_array():
    w = WEIGHTS[0]

    def f(x):
        y = lax.fori_loop(0, 3, lambda i, c: jnp.tanh(c @ w), x)
        z = lax.fori_loop(0, 3, lambda i, c: jnp.sin(c @ w), x)
        return (y + z + x @ w).sum()

    assert len(jaxlite.make_jaxpr(f)(X).jaxpr.constvars) == 1
    assert len(jaxlite.make_jaxpr(jaxlite.grad(f))(X).jaxpr.constvars) == 1
    g = jaxlite.jit(jaxlite.grad(f))
    np.testing.assert_allclose(g(X), jaxlite.grad(f)(X), rtol=1e-5, atol=1e-6)


def test_captured_copy_is_taken_at_trace_time():
    w = WEIGHTS[0].copy()
    closed = jaxlite.make_jaxpr(lambda x: x @ w + (x @ w))(X)
    w[:] = 0  # the traced function captured the value it saw
    assert len(closed.consts) == 1
    np.testing.assert_array_equal(np.asarray(closed.consts[0]), WEIGHTS[0])
    # eagerly, every use copies: nothing is remembered between calls
    np.testing.assert_array_equal(np.asarray(jnp.asarray(X) @ w), np.zeros((2, 4), np.float32))


def test_dedup_consts_merges_constvars_of_one_object():
    w = WEIGHTS[0]
    a, b, x = (
        Var(jaxlite.core.get_aval(w)),
        Var(jaxlite.core.get_aval(w)),
        Var(jaxlite.core.get_aval(X)),
    )
    dn = (((1,), (0,)), ((), ()))
    y, z, s = (Var(jaxlite.core.get_aval(X)) for _ in range(3))
    eqns = [
        JaxprEqn(P.dot_general_p, [x, a], [y], {"dimension_numbers": dn,
                                                "preferred_element_type": None}),
        JaxprEqn(P.dot_general_p, [y, b], [z], {"dimension_numbers": dn,
                                                "preferred_element_type": None}),
        JaxprEqn(P.add_p, [y, z], [s], {}),
    ]  # fmt: skip
    closed = ClosedJaxpr(Jaxpr([a, b], [x], [s], eqns), [w, w])
    merged = passes.dedup_consts(closed)
    assert len(merged.jaxpr.constvars) == 1 and merged.consts[0] is w
    want = jaxlite.core.eval_jaxpr(closed.jaxpr, closed.consts, X)
    got = jaxlite.core.eval_jaxpr(merged.jaxpr, merged.consts, X)
    np.testing.assert_array_equal(np.asarray(got[0]), np.asarray(want[0]))
    distinct = ClosedJaxpr(Jaxpr([a, b], [x], [s], eqns), [w, w.copy()])
    assert passes.dedup_consts(distinct) is distinct


# --- no fixed limits on a kernel's inputs, outputs and constants ----------------------------


def test_kernel_signature_is_the_same_for_any_number_of_buffers():
    # cffi could not declare a function of ~500 pointers ("internal type complexity limit")
    xs = [np.float32(i) for i in range(400)]
    f = jaxlite.jit(lambda *xs: (sum(xs), *[x * 2 for x in xs[:200]]))
    c = f.lower(*xs).as_c()
    assert "int jl_kernel(void **jl_args) {" in c
    assert "float *restrict out_200 = (float *)jl_args[600];" in c
    out = f(*xs)
    assert len(out) == 201 and float(out[0]) == sum(range(400))
    np.testing.assert_array_equal(np.asarray(out[1:]), 2 * np.arange(200, dtype=np.float32))


def test_long_fused_chain_does_not_overflow_the_stack():
    # 1,500 chained adds were one fused expression the lowering walked recursively
    def f(x):
        for _ in range(1500):
            x = x * 1.0 + 1.0
        return x

    np.testing.assert_array_equal(np.asarray(jaxlite.jit(f)(np.zeros(3, np.float32))),
                                  np.full(3, 1500, np.float32))  # fmt: skip


# --- deep loops: the crash of issue 22, pinned ----------------------------------------------


def _distinct(n):
    rng = np.random.default_rng(1)
    return [w for w in rng.standard_normal((n, 4, 4)).astype(np.float32) * 0.3]


# NB: 10,000 layers with distinct weights under grad takes ~20 s (tracing and lowering 160,000
# equations); the forward pass below pins its 10,001-input kernel in ~3 s.
@pytest.mark.parametrize("n,shared", [(1000, True), (1000, False), (10000, True)])
def test_deep_loop_jit_grad(n, shared):
    weights = WEIGHTS if shared else _distinct(n)
    f = deep(n, weights)
    g = jaxlite.jit(jaxlite.grad(f))
    got = np.asarray(g(X))
    # the reference: the same derivative by hand in NumPy (backpropagation through the layers)
    hs, x = [], X
    for i in range(n):
        x = np.tanh(x @ weights[i % len(weights)] + np.float32(0.1 * i))
        hs.append(x)
    ct = np.ones_like(X)
    for i in reversed(range(n)):
        ct = (ct * (1 - hs[i] * hs[i])) @ weights[i % len(weights)].T
    np.testing.assert_allclose(got, ct, rtol=1e-4, atol=1e-6)
    if n <= 1000:  # (lowering again costs as much as the first call)
        c = g.lower(X).as_c()
        assert c.count("static __attribute__((noinline)) void jl_fn") <= 4  # one per layer kind
        assert c.count("jl_fn") < 40  # the layers are loops calling them, not a call per layer


def test_deep_loop_distinct_weights_10000_layers():
    weights = _distinct(10000)
    f = jaxlite.jit(deep(10000, weights))
    np.testing.assert_allclose(np.asarray(f(X)), deep_numpy(10000, weights, X).sum(), rtol=1e-4)


def test_deep_loop_forward_matches_numpy():
    f = deep(300, WEIGHTS)
    np.testing.assert_allclose(np.asarray(jaxlite.jit(f)(X)), deep_numpy(300, WEIGHTS, X).sum(),
                               rtol=1e-5)  # fmt: skip


def test_too_large_program_falls_back_to_eager_with_one_warning(monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules["jaxlite.jit"], "MAX_KERNEL_SOURCE", 1000)
    f = jaxlite.jit(deep(30, WEIGHTS))
    with pytest.warns(RuntimeWarning, match="too large to compile") as record:
        got = f(X)
        again = f(X)
    assert len([w for w in record if "too large" in str(w.message)]) == 1
    want = deep_numpy(30, WEIGHTS, X).sum()
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(again), want, rtol=1e-5)


def test_outlined_blocks_write_outputs_with_unit_dimensions():
    # Regression (examples/cnn.py's Adam step after the merge): an outlined block's output bound
    # for a kernel output of shape (3, 3, 1, 4) was refused as not dense, because a dimension of
    # size 1 has a nonzero stride in a contiguous view.
    rng = np.random.default_rng(0)
    ps = [rng.standard_normal((3, 3, 1, 4)).astype(np.float32) for _ in range(80)]

    def step(ps, g):
        return [p - 0.1 * jnp.tanh(p * g) + 0.01 * p * p for p in ps]

    g = np.float32(0.5)
    got = jaxlite.jit(step)(ps, g)
    for a, b in zip(got, step(ps, g)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
