"""A training step's code outside its products (issue 20.3, the VAE step): jit's dispatch of
pytree arguments (the fast signature key of tuples, lists, dicts and None of arrays, and the
output tree rebuilt by a function made once), and the lowering of the backward pass's
elementwise loops (a column sum fused with the materialisation of the array it sums)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import tree_util

jit = jaxlite.jit
f32 = np.float32


def _count(fn):
    def wrapped(*args):
        wrapped.calls += 1
        return fn(*args)

    wrapped.calls = 0
    return wrapped


# --- dispatch of pytree arguments ------------------------------------------------------------


def test_pytree_arguments_take_the_fast_path_and_agree_with_the_general_one():
    body = _count(lambda p, x: {"y": p["w"] @ x + p["b"][0], "n": [p["b"][1] * 2.0, None]})
    f = jit(body)
    rng = np.random.default_rng(0)
    p = {"w": rng.normal(size=(3, 4)).astype(f32), "b": (np.ones(3, f32), 1.5)}
    x = rng.normal(size=4).astype(f32)
    out = f(p, x)
    assert body.calls == 1
    # the second call is found by the fast key (no tracing, no tree_flatten of the arguments)
    fast = f._fast[jaxlite.dtypes._x64]
    assert len(fast) == 1
    out2 = f(p, x)
    assert body.calls == 1
    ref = body(p, x)  # eagerly (counted: the counts below are one higher)
    for a, b, c in zip(*(tree_util.tree_leaves(t) for t in (out, out2, ref))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert tree_util.tree_structure(out) == tree_util.tree_structure(ref)
    assert out["n"][1] is None
    # the same leaves in another structure are another signature
    f({"w": p["w"], "b": [p["b"][0], 1.5]}, x)
    assert body.calls == 3
    f({"w": p["w"], "b": (p["b"][0], 2)}, x)  # an int where a float was: another signature
    assert body.calls == 4
    f(p, x.astype(np.float64))  # another dtype
    assert body.calls == 5
    f(p, x)
    assert body.calls == 5


def test_fast_key_declines_what_the_general_path_must_see():
    jit_mod = __import__("jaxlite.jit", fromlist=["_fast_key"])
    key = jit_mod._fast_key
    a = np.ones((2, 3), f32)
    assert key(({1: a, "x": a},))[0] is None  # keys that do not sort
    assert key(([a.T],))[0] is None  # not contiguous
    P, Q = namedtuple("P", "a b"), namedtuple("Q", "a b")
    assert key((P(a, a),))[0] == ((P, 2),) + key((a, a))[0]  # a namedtuple: its fields in order
    assert key((P(a, a),))[0] != key((Q(a, a),))[0] != key(((a, a),))[0]
    R = namedtuple("R", "a b")
    tree_util.register_pytree_node(R, lambda r: ((r.b,), r.a), lambda a, c: R(a, *c))
    assert key((R(1, a),))[0] is None  # registered with its own flattening: the general path
    assert key(({"a": object()},))[0] is None
    k1, arrays = key(({"b": [a, None], "a": 2.0}, a))
    assert len(arrays) == 3 and arrays[0].shape == () and arrays[1] is a
    assert k1 != key(({"b": (a, None), "a": 2.0}, a))[0]
    assert k1 != key(({"b": [a], "a": 2.0}, a))[0]
    # a flat argument list keeps its key (no marker): the dispatch fast path of plain arrays
    assert key((a, 1.0))[0] == (((2, 3), np.dtype(f32), False), float)


def test_pytree_fast_path_errors_and_namedtuples_still_work():
    P = namedtuple("P", "w b")
    body = _count(lambda p, x: P(p.w * x, p.b + 1.0))
    f = jit(body)
    for _ in range(2):
        out = f(P(np.ones(3, f32), np.zeros(3, f32)), 2.0)
        assert isinstance(out, P)
        np.testing.assert_array_equal(np.asarray(out.w), np.full(3, 2.0, f32))
    assert body.calls == 1 and len(f._fast[jaxlite.dtypes._x64]) == 1
    Q = namedtuple("Q", "w b")
    f(Q(np.ones(3, f32), np.zeros(3, f32)), 2.0)  # another namedtuple class: another signature
    assert body.calls == 2
    g = jit(lambda d: d[1] + d["x"])
    with pytest.raises(TypeError):
        g({1: np.ones(2, f32), "x": np.ones(2, f32)})


def test_unflattener_rebuilds_every_kind_of_tree():
    P = namedtuple("P", "a b")
    for t in [((1, 2), {"a": [3, 4], "b": (5,)}, None, P(6, 7), []), 1, {"x": {}}, [[1], (2, 3)]]:
        leaves, td = tree_util.tree_flatten(t)
        assert tree_util._unflattener(td)(leaves) == t
    with pytest.raises(ValueError, match="leaves"):
        tree_util._unflattener(td)([1])


def test_pytree_step_under_x64_off():
    with jaxlite.enable_x64(False):
        f = jit(lambda p: [p[0] * 2, p[1]])
        out = f((np.arange(3.0), np.arange(3)))
        out = f((np.arange(3.0), np.arange(3)))
        assert out[0].dtype == np.float32 and out[1].dtype == np.int32


# --- the backward pass's elementwise loops ---------------------------------------------------


def _layer_grads(p, x, y):
    """A ReLU layer's loss: the masked gradient `dz = (x @ w + b > 0) * g` is read by the
    weight gradient's product, the input gradient's product and the bias's column sum."""
    w, b = p
    z = x @ w + b
    return jnp.sum(jaxlite.nn.relu(z) * y)


def test_a_product_operand_read_elsewhere_is_written_once_where_it_is_defined():
    rng = np.random.default_rng(1)
    p = (rng.normal(size=(24, 40)).astype(f32), rng.normal(size=40).astype(f32))
    x, y = rng.normal(size=(8, 24)).astype(f32), rng.normal(size=(8, 40)).astype(f32)

    def step(p, x, y):
        g = jaxlite.grad(_layer_grads, argnums=(0, 1))(p, x, y)
        return g  # (dw, db), dx: the mask's select read by two products and a column sum

    src = jit(step).lower(p, x, y).as_c()
    # the select of the masked gradient is computed in one loop (before: once in the column
    # sum's loop, again in the loop that wrote the products' operand)
    assert src.count("? ") == 1, src
    got = jit(step)(p, x, y)
    with jaxlite.disable_jit():
        want = step(p, x, y)
    for a, b in zip(tree_util.tree_leaves(got), tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-6, atol=1e-6)


def test_vae_benchmark_step_matches_eager():
    """The VAE benchmark's step (benchmarks/bench_vae.py, smaller widths): jit against eager."""
    rng = np.random.default_rng(2)

    def dense(m, n):
        return (rng.normal(size=(m, n)).astype(f32) / np.sqrt(m), np.full(n, 0.01, f32))

    p = {"enc": [dense(30, 20), dense(20, 20)], "mu": dense(20, 4), "sig": dense(20, 4),
         "dec": [dense(4, 20), dense(20, 20), dense(20, 30)]}  # fmt: skip
    x = (rng.random(size=(6, 30)) < 0.3).astype(f32)
    eps = rng.normal(size=(6, 4)).astype(f32)

    def mlp(layers, h, last_linear):
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if not (last_linear and i == len(layers) - 1):
                h = jaxlite.nn.relu(h)
        return h

    def loss(p, x, eps):
        h = mlp(p["enc"], x, False)
        mu = h @ p["mu"][0] + p["mu"][1]
        sigmasq = jaxlite.nn.softplus(h @ p["sig"][0] + p["sig"][1])
        z = mu + jnp.sqrt(sigmasq) * eps
        logits = mlp(p["dec"], z, True)
        nll = -jnp.sum(x * logits - jaxlite.nn.softplus(logits), axis=-1)
        kl = 0.5 * jnp.sum(sigmasq + mu**2 - 1.0 - jnp.log(sigmasq), axis=-1)
        return jnp.mean(nll + kl)

    def step(p, x, eps):
        v, g = jaxlite.value_and_grad(loss)(p, x, eps)
        return v, tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g)

    f = jit(step)
    got = f(p, x, eps)
    got = f(p, x, eps)  # the fast path
    with jaxlite.disable_jit():
        want = step(p, x, eps)
    assert tree_util.tree_structure(got) == tree_util.tree_structure(want)
    for a, b in zip(tree_util.tree_leaves(got), tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
