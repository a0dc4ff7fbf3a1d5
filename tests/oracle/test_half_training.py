"""A small training step with bfloat16 (and float16) parameters against JAX: an MLP, softmax
cross-entropy, grads, and sgd with momentum (optax's formulas, written out on the JAX side),
under jit, then eager. (Not adam: it normalizes a gradient that is zero but for rounding into a
full step, so last-bit differences become large ones.) 16-bit floats compute in float32 and round per operation in both libraries; the
products' float32 sums are in different orders, so a few 16-bit ulps may differ."""

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is the oracle: pip install -e '.[oracle]'")

import jax.numpy as xnp  # noqa: E402

import jaxlite  # noqa: E402
from .harness import FULL  # noqa: E402
import jaxlite.numpy as jnp  # noqa: E402
from jaxlite import optim  # noqa: E402


def _data(dt):
    rng = np.random.default_rng(0)
    params = {
        "w1": (rng.normal(size=(8, 16)) * 0.3).astype(dt),
        "b1": np.zeros(16, dt),
        "w2": (rng.normal(size=(16, 4)) * 0.3).astype(dt),
    }
    x = rng.normal(size=(32, 8)).astype(dt)
    y = rng.integers(0, 4, 32)
    return params, x, y


def _loss(L, np_):
    def loss(p, x, y):
        h = L.nn.relu(x @ p["w1"] + p["b1"])
        logits = np_.tanh(h @ p["w2"]) * 3
        logp = L.nn.log_softmax(logits)
        return -np_.mean(np_.take_along_axis(logp, y[:, None], axis=1))

    return loss


def _jax_sgd_step(p, g, tr, lr=0.1, decay=0.9):
    # optax.sgd(lr, momentum): trace (g + decay * t), then scale by -lr
    tr = jax.tree.map(lambda g, t: g + decay * t, g, tr)
    u = jax.tree.map(lambda t: -lr * t, tr)
    return jax.tree.map(lambda p, u: (p + u).astype(p.dtype), p, u), tr


@pytest.mark.parametrize("dt", ["bfloat16", "float16"] if FULL else ["bfloat16"])
def test_training_steps_match_jax(dt):
    dt = jnp.dtype(dt)
    params, x, y = _data(dt)
    with jax.enable_x64(False), jaxlite.enable_x64(False):
        # JAX
        jl = _loss(jax, xnp)
        p, tr = dict(params), jax.tree.map(xnp.zeros_like, params)
        grad = jax.jit(jax.value_and_grad(jl))
        jax_losses = []
        for _ in range(3):
            loss, g = grad(p, x, y)
            jax_losses.append(float(loss))
            p, tr = _jax_sgd_step(p, g, tr)
        # jaxlite, its optax-style adam, eager and jit
        ll = _loss(jaxlite, jnp)
        opt = optim.sgd(0.1, momentum=0.9)

        @jaxlite.jit
        def step(q, s, x, y):
            loss, g = jaxlite.value_and_grad(ll)(q, x, y)
            u, s = opt.update(g, s, q)
            return optim.apply_updates(q, u), s, loss

        q, s = dict(params), opt.init(params)
        losses = []
        for _ in range(3):
            q, s, loss = step(q, s, x, y)
            losses.append(float(loss))
        assert all(np.asarray(q[k]).dtype == dt for k in q)
        np.testing.assert_allclose(losses, jax_losses, rtol=2e-2)
        eps = float(jnp.finfo(dt).eps)
        for k in params:
            a, b = np.asarray(q[k], np.float32), np.asarray(p[k], np.float32)
            np.testing.assert_allclose(
                a, b, rtol=4 * eps, atol=4 * eps * np.abs(b).max(), err_msg=k
            )
        # and the eager loss and grads of the final parameters
        lg, gg = jaxlite.value_and_grad(ll)(q, x, y)
        lx, gx = jax.value_and_grad(jl)(jax.tree.map(xnp.asarray, q), x, y)
        assert np.asarray(lg).dtype == dt
        np.testing.assert_allclose(float(lg), float(lx), rtol=2e-2)
        for k in params:
            a, b = np.asarray(gg[k], np.float32), np.asarray(gx[k], np.float32)
            np.testing.assert_allclose(
                a, b, rtol=8 * eps, atol=8 * eps * np.abs(b).max(), err_msg=k
            )
