"""Custom reverse-mode rules with `jaxlite.custom_vjp`.

1. `log1pexp`: `log(1 + exp(x))` whose automatic derivative `exp(x) / (1 + exp(x))` is
   `inf / inf = nan` for large x; a custom backward pass uses the stable `sigmoid(x)`.
2. `clip_gradient(lo, hi, x)`: the identity going forward, clipping the cotangent going back
   (a standard trick for taming exploding gradients), with `nondiff_argnums` for the bounds.
Both keep working under `jit`, `vmap` and `grad`-of-`grad` where that makes sense.

    python examples/custom_vjp.py
"""

from __future__ import annotations

import argparse
import sys
from functools import partial

import numpy as np

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import nn

# 64-bit mode, as a JAX user turns it on for double precision: the checks below are to 1e-12.
jaxlite.config.update("jax_enable_x64", True)


def naive_log1pexp(x):
    return jnp.log(1.0 + jnp.exp(x))


@jaxlite.custom_vjp
def log1pexp(x):
    return nn.softplus(x)


def _log1pexp_fwd(x):
    return log1pexp(x), x  # the residual for the backward pass: x itself


def _log1pexp_bwd(x, g):
    return (g * nn.sigmoid(x),)  # one cotangent per primal input


log1pexp.defvjp(_log1pexp_fwd, _log1pexp_bwd)


@partial(jaxlite.custom_vjp, nondiff_argnums=(0, 1))
def clip_gradient(lo, hi, x):
    return x


def _clip_fwd(lo, hi, x):
    return x, None


def _clip_bwd(lo, hi, _, g):
    return (jnp.clip(g, lo, hi),)


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Custom VJPs with jaxlite.custom_vjp.")
    p.add_argument("--quick", action="store_true", help="smoke test (the example is small)")
    p.parse_args(argv)

    xs = np.array([-800.0, -3.0, 0.0, 3.0, 800.0])
    naive = np.array([float(jaxlite.grad(naive_log1pexp)(v)) for v in xs])
    custom = np.array([float(jaxlite.grad(log1pexp)(v)) for v in xs])
    print("d/dx log(1 + exp(x)) at", xs)
    print("  automatic :", naive)
    print("  custom_vjp:", custom)
    assert np.isnan(naive[-1]), "exp(800) overflows: the automatic derivative is 0 * inf"
    np.testing.assert_allclose(custom, 0.5 * (1 + np.tanh(xs / 2)), rtol=1e-12)  # sigmoid

    batched = jaxlite.jit(jaxlite.vmap(jaxlite.grad(log1pexp)))(xs)
    np.testing.assert_allclose(np.asarray(batched), custom, rtol=1e-12)
    print("  jit(vmap(grad(log1pexp))) agrees:", np.asarray(batched))

    def loss(w):
        return jnp.sum(clip_gradient(-1.0, 1.0, w) ** 3)

    w = np.array([-2.0, 0.1, 0.5, 3.0])
    g_plain = np.asarray(jaxlite.grad(lambda w: jnp.sum(w**3))(w))
    g_clip = np.asarray(jaxlite.grad(loss)(w))
    print("gradient of sum(w**3) at", w)
    print("  plain                :", g_plain)
    print("  with clip_gradient   :", g_clip)
    np.testing.assert_allclose(g_clip, np.clip(3 * w**2, -1, 1))
    np.testing.assert_allclose(np.asarray(jaxlite.jit(loss)(w)), np.sum(w**3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
