"""Generic lax.reduce_window (any computation, init values, several operands) against JAX:
padding modes, strides, both dilations, a non-associative computation in XLA's order without
padding, pytrees of operands; jvp against JAX (JAX has no VJP of the generic reduce_window: ours by
finite differences), vmap, jit; the monoid cases bind the specialized primitives; bad input.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
from jaxlite import lax
from jaxlite.test_util import check_grads

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jlax = jax.lax

WINDOWS = {
    "valid": dict(window_dimensions=(2, 3)),
    "strided_same": dict(window_dimensions=(3, 2), window_strides=(2, 1), padding="SAME"),
    "same_lower": dict(window_dimensions=(2, 2), window_strides=(1, 1), padding="SAME_LOWER"),
    "base_dilation": dict(window_dimensions=(2, 3), window_strides=(1, 2), padding="SAME",
                          base_dilation=(2, 1)),
    "window_dilation": dict(window_dimensions=(2, 2), window_strides=(1, 1),
                            padding=((1, 0), (2, -1)), window_dilation=(2, 3)),
}  # fmt: skip


def _close(a, b, tol=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _horner(L):
    # associative and commutative (XLA assumes it: its order of application varies with the
    # padding), not a monoid jaxlite has a primitive for, not linear
    return lambda a, b: a + b + a * b * 0.5


@pytest.mark.parametrize("win", WINDOWS)
def test_generic_matches_jax_forward_jvp_vmap(win):
    kw = WINDOWS[win]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7))
    f = lambda x: lax.reduce_window(x, 0.25, _horner(lax), **kw)  # noqa: E731
    fj = lambda x: jlax.reduce_window(x, 0.25, _horner(jlax), **kw)  # noqa: E731
    _close(f(x), fj(x))
    t = rng.standard_normal(x.shape)
    y, dy = jaxlite.jvp(f, (x,), (t,))
    yj, dyj = jax.jvp(fj, (x,), (t,))
    _close(y, yj)
    _close(dy, dyj)
    X = rng.standard_normal((3, 5, 7))
    _close(jaxlite.vmap(f)(X), jax.vmap(fj)(X))
    _close(jaxlite.vmap(f, 1)(X.transpose(1, 0, 2)), jax.vmap(fj)(X))


def test_non_associative_in_xla_order_without_padding():
    x = np.random.default_rng(3).standard_normal((5, 7))
    kw = dict(window_dimensions=(3, 2), window_strides=(2, 1))
    f = lambda L: L.reduce_window(x, 0.25, lambda a, b: a * 0.5 + b * L.sin(b), **kw)  # noqa: E731
    _close(f(lax), f(jlax))


def test_generic_grad_by_finite_differences_and_jit():
    kw = WINDOWS["base_dilation"]
    x = np.random.default_rng(1).standard_normal((4, 5))
    f = lambda x, i: lax.reduce_window(x, i, _horner(lax), **kw)  # noqa: E731
    check_grads(f, (x, 0.3), order=2, modes=("fwd", "rev"))
    vg = jaxlite.value_and_grad(lambda x, i: (f(x, i) ** 2).sum(), (0, 1))
    (v, g), (v2, g2) = vg(x, 0.3), jaxlite.jit(vg)(x, 0.3)
    _close(v2, v)
    _close(g2[0], g[0])
    _close(g2[1], g[1])


def test_several_operands_argmax_pool():
    def argmax_pair(L):
        def comp(a, b):
            (va, ia), (vb, ib) = a, b
            take = vb > va
            return L.select(take, vb, va), L.select(take, ib, ia)

        return comp

    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 7))
    idx = np.arange(x.size, dtype=np.int32).reshape(x.shape)
    kw = dict(window_dimensions=(1, 3, 3), window_strides=(1, 2, 2), padding="SAME")
    init = (-np.inf, np.int32(-1))
    got = lax.reduce_window((x, idx), init, argmax_pair(lax), **kw)
    want = jlax.reduce_window((x, idx), init, argmax_pair(jlax), **kw)
    for a, b in zip(got, want):
        _close(a, b)
    jitted = jaxlite.jit(lambda x, i: lax.reduce_window((x, i), init, argmax_pair(lax), **kw))
    for a, b in zip(jitted(x, idx), want):
        _close(a, b)
    # a dict of operands, float32 and x64 off
    with jaxlite.enable_x64(False):
        x32 = x.astype(np.float32)
        d = lax.reduce_window({"v": x32}, {"v": np.float32(1)}, lambda a, b: {"v": a["v"] * b["v"]},
                              **kw)  # fmt: skip
        with jax.enable_x64(False):
            dj = jlax.reduce_window({"v": x32}, {"v": np.float32(1)},
                                    lambda a, b: {"v": a["v"] * b["v"]}, **kw)  # fmt: skip
        _close(d["v"], dj["v"], tol=1e-6)


def test_monoids_bind_the_specialized_primitives_and_others_do_not():
    x = np.ones((4, 4), np.float32)

    def names(init, op):
        jaxpr = jaxlite.make_jaxpr(lambda x: lax.reduce_window(x, init, op, (2, 2)))(x)
        return {e.primitive.name for e in jaxpr.jaxpr.eqns}

    assert names(0.0, lax.add) == {"reduce_window_sum"}
    assert names(-np.inf, lax.max) == {"reduce_window_max"}
    assert "reduce_window_sum" not in names(1.0, lax.add)  # not the identity: generic
    assert not names(1.0, lax.mul) & {"reduce_window_sum", "reduce_window_max"}
    one = np.float32(1)
    _close(lax.reduce_window(x, one, lax.add, (2, 2)), jlax.reduce_window(x, one, jlax.add, (2, 2)))


def test_integer_product_and_empty_outputs():
    x = np.arange(1, 13, dtype=np.int32).reshape(3, 4)
    for kw in (dict(window_dimensions=(2, 2)),
               dict(window_dimensions=(3, 3), window_strides=(1, 1), padding=((0, 0), (0, -2)))):  # fmt: skip
        _close(lax.reduce_window(x, np.int32(2), lax.mul, **kw),
               jlax.reduce_window(x, np.int32(2), jlax.mul, **kw))  # fmt: skip


def test_bad_input():
    x = np.ones((4, 4))
    with pytest.raises(ValueError, match="tree structure"):
        lax.reduce_window((x, x), 0.0, lax.mul, (2, 2))
    with pytest.raises(ValueError, match="one shape"):
        lax.reduce_window((x, x[:2]), (1.0, 1.0), lambda a, b: a, (2, 2))
    with pytest.raises(TypeError, match="init values must be scalars"):
        lax.reduce_window(x, np.ones(2), lax.mul, (2, 2))
    with pytest.raises(TypeError, match="structure of the operands"):
        lax.reduce_window(x, 1.0, lambda a, b: (a, b), (2, 2))
    with pytest.raises(TypeError, match="window_dimensions"):
        lax.reduce_window(x, 1.0, lax.mul, (2,))
    with pytest.raises(TypeError, match="positive"):
        lax.reduce_window(x, 1.0, lax.mul, (0, 2))


def test_vmap_over_the_init_value_matches_a_loop():
    # (JAX's batching rule raises NotImplementedError for a batched init value; ours batches.)
    x = np.random.default_rng(4).standard_normal((4, 5))
    inits = np.array([0.5, -1.0, 2.0])
    f = lambda i: lax.reduce_window(x, i, _horner(lax), (2, 3), (1, 1), "SAME")  # noqa: E731
    got = jaxlite.vmap(f)(inits)
    for k, i in enumerate(inits):
        _close(got[k], f(i))
