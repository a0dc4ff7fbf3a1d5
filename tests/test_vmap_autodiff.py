"""vmap composed with autodiff: per-example gradients of an MLP, and a composition matrix of base
functions under vmap, vmap∘vmap, grad∘vmap, vmap∘grad, jvp, vjp, jacfwd, jacrev, hessian and
custom rules, all checked against loops and central finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite as jax
import jaxlite.numpy as jnp
from jaxlite import lax, tree_util

vmap, grad = jax.vmap, jax.grad
rng = np.random.default_rng(0)


def A(x):
    return jnp.asarray(np.asarray(x, np.float64))


def close(got, want, tol=1e-6):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------
# Finite differences (central, float64)
# ------------------------------------------------------------------------------------------

EPS = 1e-6


def fd_grad(f, x):
    """d f(x) / d x for a scalar function of one array, by central differences."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = EPS
        g[i] = (float(f(A(x + e))) - float(f(A(x - e)))) / (2 * EPS)
    return g


def fd_jac(f, x):
    """The Jacobian out.shape + x.shape of an array function, by central differences."""
    x = np.asarray(x, np.float64)
    cols = []
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = EPS
        cols.append((np.asarray(f(A(x + e))) - np.asarray(f(A(x - e)))) / (2 * EPS))
    out_shape = cols[0].shape
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


# ------------------------------------------------------------------------------------------
# Per-example gradients of a 2-layer MLP with pytree params
# ------------------------------------------------------------------------------------------


def mlp_loss(params, x, y):
    h = jnp.tanh(jnp.dot(x, params["l1"]["w"]) + params["l1"]["b"])
    logits = jnp.dot(h, params["l2"]["w"]) + params["l2"]["b"]
    m = jnp.max(logits)
    log_probs = logits - m - jnp.log(jnp.sum(jnp.exp(logits - m)))
    return -jnp.sum(y * log_probs)


def mlp_grad_numpy(P, x, y):
    """Hand-written backprop of `mlp_loss` for one example."""
    h = np.tanh(x @ P["l1"]["w"] + P["l1"]["b"])
    z = h @ P["l2"]["w"] + P["l2"]["b"]
    p = np.exp(z - z.max())
    p /= p.sum()
    dz = p * y.sum() - y
    dh = (P["l2"]["w"] @ dz) * (1 - h**2)
    return {
        "l1": {"w": np.outer(x, dh), "b": dh},
        "l2": {"w": np.outer(h, dz), "b": dz},
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_example_gradients_of_an_mlp(dtype):
    d_in, d_hid, d_out, n = 5, 7, 3, 6
    P = {
        "l1": {"w": rng.normal(size=(d_in, d_hid)), "b": rng.normal(size=d_hid)},
        "l2": {"w": rng.normal(size=(d_hid, d_out)), "b": rng.normal(size=d_out)},
    }
    P = tree_util.tree_map(lambda a: a.astype(dtype), P)
    xs = rng.normal(size=(n, d_in)).astype(dtype)
    ys = np.eye(d_out, dtype=dtype)[rng.integers(0, d_out, size=n)]
    params = tree_util.tree_map(jnp.asarray, P)

    got = vmap(grad(mlp_loss), in_axes=(None, 0, 0))(params, jnp.asarray(xs), jnp.asarray(ys))
    loop = [grad(mlp_loss)(params, jnp.asarray(xs[i]), jnp.asarray(ys[i])) for i in range(n)]
    want = tree_util.tree_map(lambda *gs: np.stack([np.asarray(g) for g in gs]), *loop)
    hand = [mlp_grad_numpy(P, xs[i], ys[i]) for i in range(n)]
    hand = tree_util.tree_map(lambda *gs: np.stack(gs), *hand)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for path_got, path_want, path_hand in zip(
        tree_util.tree_leaves(got), tree_util.tree_leaves(want), tree_util.tree_leaves(hand)
    ):
        assert np.asarray(path_got).dtype == dtype
        close(path_got, path_want, tol)
        close(path_got, path_hand, 10 * tol)
    assert tree_util.tree_structure(got) == tree_util.tree_structure(params)


# ------------------------------------------------------------------------------------------
# The composition matrix
# ------------------------------------------------------------------------------------------

M = rng.normal(size=(4, 3))


def f_elementwise(x):
    return jnp.sum(jnp.sin(x) * jnp.exp(x) + x**2)


def f_matvec(x):
    return jnp.sum(jnp.tanh(jnp.dot(A(M), x)))


def f_logsumexp(x):
    m = jnp.max(x)
    return jnp.log(jnp.sum(jnp.exp(x - lax.stop_gradient(m)))) + lax.stop_gradient(m)


def f_scan_sort(x):
    return jnp.sum(jnp.cumsum(x) * jnp.sort(jnp.sin(x)))


def f_select(x):
    return jnp.sum(jnp.where(x > 0.1, x**3, jnp.cos(x)))


def f_shapes(x):
    outer = jnp.reshape(x[:, None] * x[None, :], (9,))
    y = jnp.concatenate([outer, jnp.transpose(jnp.reshape(outer, (3, 3))).ravel()])
    return jnp.sum(lax.pad(y, 0.5, [(1, 2, 1)]) ** 2) / 10.0


def f_dynamic_slice(x):
    i = lax.argmax(x, 0)  # an index that depends on the example: batched under vmap
    window = lax.dynamic_slice(x, (i,), (2,))
    updated = lax.dynamic_update_slice(x, jnp.sin(window), (i,))
    return jnp.sum(window * 3.0) + jnp.sum(updated**2)


@jax.custom_jvp
def softplus(x):
    return jnp.log(1.0 + jnp.exp(x))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * (1.0 / (1.0 + jnp.exp(-x)))


@jax.custom_vjp
def scaled_square(x):
    return x * x * 0.5


scaled_square.defvjp(lambda x: (scaled_square(x), x), lambda x, g: (g * x,))


def f_custom_jvp(x):
    return jnp.sum(softplus(x) * jnp.sin(x))


def f_custom_vjp(x):  # reverse mode only: forward mode of a custom_vjp function is an error
    return jnp.sum(softplus(x) * scaled_square(x))


FORWARD = [f_elementwise, f_matvec, f_logsumexp, f_scan_sort, f_select, f_shapes,
           f_dynamic_slice, f_custom_jvp]  # fmt: skip
BASE = FORWARD + [f_custom_vjp]
ids = [f.__name__ for f in BASE]
N = 3


def batch(seed=1, shape=(N, 3)):
    return np.random.default_rng(seed).normal(size=shape)


def per_example(f, xs):
    return np.stack([np.asarray(f(A(x))) for x in xs])


@pytest.mark.parametrize("f", BASE, ids=ids)
def test_vmap_and_nested_vmap(f):
    xs = batch()
    close(vmap(f)(A(xs)), per_example(f, xs), 1e-12)
    xss = batch(2, (2, N, 3))
    close(vmap(vmap(f))(A(xss)), np.stack([per_example(f, x) for x in xss]), 1e-12)
    # features first: the outer vmap maps the last axis (N), the inner one the middle axis (2)
    got = vmap(vmap(f, in_axes=1), in_axes=2)(A(np.moveaxis(xss, 2, 0)))
    close(got, np.stack([per_example(f, x) for x in xss]).T, 1e-12)


@pytest.mark.parametrize("f", BASE, ids=ids)
def test_vmap_of_grad_and_grad_of_vmap(f):
    xs = batch()
    want = np.stack([fd_grad(f, x) for x in xs])
    close(vmap(grad(f))(A(xs)), want, 1e-5)
    close(grad(lambda xs: jnp.sum(vmap(f)(xs)))(A(xs)), want, 1e-5)
    close(vmap(vmap(grad(f)))(A(xs[None])), want[None], 1e-5)


@pytest.mark.parametrize("f", BASE, ids=ids)
def test_jacrev_with_vmap(f):
    xs = batch()
    grads = np.stack([fd_grad(f, x) for x in xs])
    close(vmap(jax.jacrev(f))(A(xs)), grads, 1e-5)
    block = np.zeros((N, N, 3))
    block[np.arange(N), np.arange(N)] = grads  # d f(x_i) / d x_j is zero for i != j
    close(jax.jacrev(vmap(f))(A(xs)), block, 1e-5)


@pytest.mark.parametrize("f", FORWARD, ids=ids[: len(FORWARD)])
def test_jacfwd_and_hessian_with_vmap(f):
    xs = batch()
    grads = np.stack([fd_grad(f, x) for x in xs])
    close(vmap(jax.jacfwd(f))(A(xs)), grads, 1e-5)
    block = np.zeros((N, N, 3))
    block[np.arange(N), np.arange(N)] = grads
    close(jax.jacfwd(vmap(f))(A(xs)), block, 1e-5)
    hess = np.stack([fd_jac(grad(f), x) for x in xs])
    close(vmap(jax.hessian(f))(A(xs)), hess, 1e-5)
    total = jax.hessian(lambda xs: jnp.sum(vmap(f)(xs)))(A(xs))
    for i in range(N):
        close(total[i, :, i], hess[i], 1e-5)


@pytest.mark.parametrize("f", FORWARD, ids=ids[: len(FORWARD)])
def test_jvp_with_vmap(f):
    xs, ts = batch(), batch(3)
    directional = np.stack([fd_grad(f, x) @ t for x, t in zip(xs, ts)])
    y, dy = jax.jvp(vmap(f), (A(xs),), (A(ts),))
    close(y, per_example(f, xs), 1e-12)
    close(dy, directional, 1e-5)
    y, dy = vmap(lambda x, t: jax.jvp(f, (x,), (t,)))(A(xs), A(ts))
    close(dy, directional, 1e-5)


def test_forward_mode_of_custom_vjp_under_vmap_is_the_autodiff_error():
    with pytest.raises(TypeError, match="forward-mode autodiff"):
        vmap(jax.jacfwd(f_custom_vjp))(A(batch()))


@pytest.mark.parametrize("f", BASE, ids=ids)
def test_vjp_with_vmap(f):
    xs = batch()
    cts = batch(4, (N,))
    want = np.stack([fd_grad(f, x) * c for x, c in zip(xs, cts)])
    _, pullback = jax.vjp(vmap(f), A(xs))
    close(pullback(A(cts))[0], want, 1e-5)
    close(vmap(lambda x, c: jax.vjp(f, x)[1](c)[0])(A(xs), A(cts)), want, 1e-5)


def test_vmap_of_grad_with_an_unbatched_argument_sums_nothing():
    # grad with respect to an unmapped argument inside vmap: one gradient per example.
    w, xs = rng.normal(size=3), rng.normal(size=(4, 3))

    def loss(w, x):
        return jnp.sum(jnp.tanh(w * x))

    got = vmap(grad(loss), in_axes=(None, 0))(A(w), A(xs))
    close(got, np.stack([fd_grad(lambda w, x=x: loss(w, A(x)), w) for x in xs]), 1e-5)


def test_vmap_and_checkpoint_compose():
    xs = batch()
    f = jax.checkpoint(f_elementwise)
    close(vmap(f)(A(xs)), per_example(f_elementwise, xs), 1e-12)
    want = np.stack([fd_grad(f_elementwise, x) for x in xs])
    close(vmap(grad(f))(A(xs)), want, 1e-5)
    close(grad(lambda xs: jnp.sum(vmap(f)(xs)))(A(xs)), want, 1e-5)
