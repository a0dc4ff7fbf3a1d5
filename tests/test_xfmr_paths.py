"""The passes and product paths the transformer and VAE steps take (issue 20): each rewritten
jaxpr computes what the original does (eager interpreter on both), and jit agrees with eager at
the shapes that exercise the path."""

from __future__ import annotations

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, lax
from jaxlite.backend import passes
from jaxlite.interpreters import staging

f32 = np.float32
RNG = np.random.default_rng(0)


def simplified(fn, *args):
    """The simplified jaxpr of `fn`, checked against the original on `args`."""
    closed = jaxlite.make_jaxpr(fn)(*args)
    jaxpr = staging.convert_constvars_jaxpr(closed.jaxpr)
    simple = passes.simplify(jaxpr)
    core.typecheck_jaxpr(simple)
    a = core.eval_jaxpr(jaxpr, [], *closed.consts, *args)
    b = core.eval_jaxpr(simple, [], *closed.consts, *args)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    return simple


def prims(jaxpr) -> list[str]:
    return [e.primitive.name for e in jaxpr.eqns]


def jit_matches_eager(fn, *args, rtol=2e-5, atol=1e-6):
    want = fn(*args)
    got = jaxlite.jit(fn)(*args)
    for x, y in zip(jaxlite.tree_util.tree_leaves(got), jaxlite.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def split3(x):
    q, k, v = x[0], x[1], x[2]
    return jnp.sum(jnp.sin(q) * k * jnp.cos(v))


def test_gradient_of_three_slices_is_one_concatenate():
    x = RNG.normal(size=(3, 4, 5)).astype(f32)
    simple = simplified(jaxlite.grad(split3), x)
    assert "concatenate" in prims(simple)
    assert "pad" not in prims(simple) and "add_any" not in prims(simple)
    jit_matches_eager(jaxlite.grad(split3), x)


def test_gradient_of_complex_slices_is_one_concatenate():
    z = (RNG.normal(size=(3, 4)) + 1j * RNG.normal(size=(3, 4))).astype(np.complex64)
    grad = jaxlite.grad(lambda z: jnp.real(jnp.sum(jnp.sin(z[0]) * z[1] * z[2])))
    assert "concatenate" in prims(simplified(grad, z))
    jit_matches_eager(grad, z, rtol=1e-5)


def test_pads_with_a_gap_or_a_nonzero_value_stay_pads():
    x = RNG.normal(size=(3, 4)).astype(f32)
    gap = jaxlite.grad(lambda x: jnp.sum(jnp.sin(x[0]) * x[2]))
    assert "concatenate" not in prims(simplified(gap, x))
    jit_matches_eager(gap, x)

    def padded(a, b):  # pad value 1: a sum of such pads is not a concatenate
        pa = lax.pad(a, f32(1), [(0, 2, 0), (0, 0, 0)])
        pb = lax.pad(b, f32(1), [(1, 0, 0), (0, 0, 0)])
        return pa + pb

    a, b = RNG.normal(size=(1, 4)).astype(f32), RNG.normal(size=(2, 4)).astype(f32)
    assert "concatenate" not in prims(simplified(padded, a, b))


def test_transposed_concatenate_moves_the_transpose_onto_the_parts():
    x = RNG.normal(size=(2, 6, 3 * 8)).astype(f32)

    def f(x):  # attention's q, k, v split and transposed to heads
        qkv = x.reshape(2, 6, 3, 2, 4).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        return jnp.sum(jnp.tanh(q @ k.transpose(0, 1, 3, 2)) @ v)

    simple = simplified(jaxlite.grad(f), x)
    cats = [e for e in simple.eqns if e.primitive.name == "concatenate"]
    assert len(cats) == 1 and cats[0].outvars[0].aval.shape == (2, 6, 3, 2, 4)
    jit_matches_eager(jaxlite.grad(f), x)


def test_transpose_of_transpose_composes():
    def f(x):
        return lax.transpose(lax.transpose(x, (1, 2, 0)), (2, 0, 1)) * 2.0

    x = RNG.normal(size=(2, 3, 4)).astype(f32)
    assert prims(simplified(f, x)) == ["mul"]

    def g(x):
        return lax.transpose(lax.transpose(x, (1, 2, 0)), (1, 0, 2)) * 2.0

    simple = simplified(g, x)
    assert prims(simple) == ["transpose", "mul"]
    assert simple.eqns[0].params["permutation"] == (2, 1, 0)
    jit_matches_eager(g, x)


def test_weight_gradient_of_a_transposed_operand_has_no_transpose():
    q = RNG.normal(size=(2, 4, 3)).astype(f32)
    k = RNG.normal(size=(2, 5, 3)).astype(f32)
    grad = jaxlite.grad(lambda q, k: jnp.sum(jnp.sin(q @ k.transpose(0, 2, 1))), argnums=(0, 1))
    simple = simplified(grad, q, k)
    assert prims(simple).count("transpose") == 1  # the forward's k.T only
    jit_matches_eager(grad, q, k)


def attention(x, w, b, wo):
    """Heads of q, k, v read from one projection (batch, seq, 3, heads, dh) plus its bias;
    the heads' outputs back to (batch, seq, heads * dh) and projected."""
    bsz, t, _ = x.shape
    qkv = (x @ w + b).reshape(bsz, t, 3, 3, 5).transpose(2, 0, 3, 1, 4)
    s = jnp.tanh(qkv[0] @ qkv[1].transpose(0, 1, 3, 2))
    return (s @ qkv[2]).transpose(0, 2, 1, 3).reshape(bsz, t, 15) @ wo


def test_heads_are_read_in_place_and_k_transposed_by_the_product():
    x = RNG.normal(size=(2, 7, 6)).astype(f32)
    w = (RNG.normal(size=(6, 45)) / 3).astype(f32)
    b = RNG.normal(size=(45,)).astype(f32)
    wo = (RNG.normal(size=(15, 4)) / 4).astype(f32)
    jit_matches_eager(attention, x, w, b, wo)
    grad = jaxlite.grad(lambda *a: jnp.sum(attention(*a) ** 2), (0, 1, 2, 3))
    jit_matches_eager(grad, x, w, b, wo, rtol=1e-3, atol=1e-3)  # float32 sums, another order
    # the heads' products read the (batch, seq, heads * dh) cotangent in place (no "_mat" copy)
    src = jaxlite.jit(grad).lower(x, w, b, wo).as_c()
    assert "_mat[" not in src


def test_batched_product_with_two_unmerged_batch_dimensions():
    a = RNG.normal(size=(3, 4, 2, 5)).astype(f32)  # read as (3, 2) batches of 4 x 5
    c = RNG.normal(size=(3, 2, 5, 6)).astype(f32)

    def f(a, c):
        return lax.dot_general(a, c, (((3,), (2,)), ((0, 2), (0, 1))))

    jit_matches_eager(f, a, c)
