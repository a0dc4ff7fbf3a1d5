"""quantile, percentile, nanquantile and nanpercentile against JAX itself: every method
(inverted_cdf with and without `weights`), NaNs, axes, keepdims, q scalar or 1-D; the errors JAX
raises; gradients; jit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite.test_util import check_grads

FNS = ("quantile", "percentile", "nanquantile", "nanpercentile")
METHODS = ("linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf")


@pytest.fixture(scope="module")
def jjnp():
    jax = pytest.importorskip("jax", reason="JAX is the test oracle: pip install 'jax[cpu]'")
    import jax.numpy as jjnp

    with jax.enable_x64(False):
        yield jjnp


def _inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 7)).astype(np.float32)
    x[0, 2] = np.nan  # one NaN in a row
    x[1, :] = np.nan  # a row of NaNs
    ties = np.array([[1, 2, 2, 3], [5, 5, 5, 5], [0, 9, 4, 4]], np.int32)  # nearest at halves
    return {"f32": x, "i32": ties}


def _call(mod, fn, x, q, **kw):
    try:
        return np.asarray(getattr(mod, fn)(x, q, **kw)), None
    except Exception as e:  # noqa: BLE001 - compared below
        return None, type(e)


@pytest.mark.parametrize("method", METHODS)
def test_against_jax(jjnp, method):
    # NB: few combinations: each is a JAX compilation (0.1-0.3 s)
    x = _inputs()
    q = np.asarray([0.0, 0.3, 0.5, 0.75, 1.0], np.float32)
    with jaxlite.enable_x64(False):
        for fn, (name, axis, keepdims) in itertools.product(
            FNS, (("f32", 1, True), ("i32", None, False))
        ):
            qq = q * (100 if "percentile" in fn else 1)
            kw = dict(axis=axis, method=method, keepdims=keepdims)
            theirs, terr = _call(jjnp, fn, x[name], qq, **kw)
            ours, oerr = _call(jnp, fn, x[name], qq, **kw)
            assert terr is None and oerr is None, (fn, name, terr, oerr)
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (fn, name)
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=f"{fn} {name}")


def test_weights_against_jax(jjnp):
    # NB: one case per function: JAX compiles inverted_cdf with weights slowly (~1-2 s)
    rng = np.random.default_rng(1)
    x = _inputs()["f32"]
    cases = ((None, x.shape, 0.2, False), (0, (4,), [0.1, 0.5, 0.9], True), (1, x.shape, [0.1, 0.9], False),
             (1, (7,), 0.6, True))  # fmt: skip
    with jaxlite.enable_x64(False):
        for fn, (axis, shape, q, keepdims) in zip(FNS, cases, strict=True):
            w = rng.integers(0, 3, size=shape).astype(np.float32)
            if len(shape) == 2:
                w[2, 1] = -1.0  # a negative weight: NaN for its slice
            qq = np.asarray(q, np.float32) * (100 if "percentile" in fn else 1)
            kw = dict(axis=axis, method="inverted_cdf", keepdims=keepdims, weights=w)
            theirs, ours = (
                np.asarray(getattr(jjnp, fn)(x, qq, **kw)),
                np.asarray(getattr(jnp, fn)(x, qq, **kw)),
            )
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, fn
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=f"{fn} {axis} {q} {shape}")


@pytest.mark.parametrize(
    "kw",
    [
        dict(method="linear", weights=np.ones(7, np.float32)),  # only inverted_cdf takes weights
        dict(method="inverted_cdf", weights=np.ones(5, np.float32)),  # wrong weights shape
        dict(method="cubic"),
        dict(overwrite_input=True),
    ],
)
def test_errors_as_jax(jjnp, kw):
    x = np.arange(7.0, dtype=np.float32)
    for fn in FNS:
        _, terr = _call(jjnp, fn, x, 0.5, **kw)
        _, oerr = _call(jnp, fn, x, 0.5, **kw)
        assert terr is not None and terr == oerr, (fn, kw, terr, oerr)


def test_q_of_rank_two_is_an_error():
    with pytest.raises(ValueError, match="q must be a scalar or 1-D"):
        jnp.quantile(jnp.arange(4.0), jnp.ones((2, 2)) / 2)


def test_jit_and_grad_agree_with_eager():
    x = jnp.asarray(np.random.default_rng(2).normal(size=(3, 9)))
    for fn in (jnp.nanpercentile, jnp.percentile):

        def f(v, fn=fn):
            return fn(v, jnp.asarray([10.0, 45.0, 90.0]), axis=1).sum()

        np.testing.assert_allclose(jaxlite.jit(f)(x), f(x), rtol=1e-12)
        np.testing.assert_allclose(jaxlite.jit(jaxlite.grad(f))(x), jaxlite.grad(f)(x), rtol=1e-12)
    check_grads(lambda v: jnp.nanpercentile(v, 37.0), (x,), order=2)
