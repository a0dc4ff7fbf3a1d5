"""The speed paths of issue 20 agree with the general ones: jnp's eager fast paths (numpy/
_ufuncs.py), kernels that keep their workspace between calls (jaxlite.h's jl_ws_take /
jl_ws_give), and bool buffers read as bytes in kernels (c_nodes.View.read)."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax

f32 = np.float32

# --- eager fast paths ------------------------------------------------------------------------


@contextlib.contextmanager
def _option(name: str, value):
    """Option `name` set to `value`, then put back as it was (unset: read from the environment
    again), its hooks run."""
    opt = jaxlite.config._options[name]
    saved = opt.value
    jaxlite.config.update(name, value)
    try:
        yield
    finally:
        opt.value = saved
        for hook in opt.hooks:
            hook(jaxlite.config.read(name))


def _bound():
    """jnp's functions bind their primitives (the fast paths are off while a debug check is on;
    these inputs have no infinities)."""
    return _option("jax_debug_infs", True)


@pytest.mark.parametrize("name", ["sin", "exp", "tanh", "sqrt", "log1p"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_unary_fast_path_matches_bind(name, dtype):
    x = jnp.asarray(np.linspace(0.1, 2.0, 8).astype(dtype))
    got = getattr(jnp, name)(x)
    want = getattr(lax, name)(x)  # lax: the bound primitive, never the jnp fast path
    with _bound():
        assert getattr(jnp, name)(x).weak_type == got.weak_type
    assert got.dtype == want.dtype and got.weak_type == want.weak_type
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    with pytest.raises(ValueError):  # read-only, as every Array's value
        np.asarray(got)[0] = 0


@pytest.mark.parametrize("x64", [True, False])
def test_fast_paths_keep_weak_types_and_scalars(x64):
    with jaxlite.enable_x64(x64):
        w = jnp.asarray(1.5)  # weak, rank 0, the default float dtype
        assert w.weak_type
        for out in (jnp.sin(w), jnp.add(w, w), jnp.multiply(w, w), jnp.divide(w, w), w * w):
            assert out.weak_type and out.shape == () and out.dtype == w.dtype
    s = jnp.asarray(np.float32(2.0))  # strong, rank 0: NumPy gives a scalar, wrapped as an array
    assert type(np.asarray(jnp.sin(s))) is np.ndarray and not jnp.sin(s).weak_type


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "maximum", "divide"])
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint16, np.float32, np.bool_])
def test_binary_fast_path_matches_bind(op, dtype):
    rng = np.random.default_rng(0)
    a = rng.integers(1, 5, size=(2, 3)).astype(dtype)
    b = rng.integers(1, 5, size=(2, 3)).astype(dtype)
    fn = getattr(jnp, op)
    if dtype == np.bool_ and op == "subtract":
        with pytest.raises(TypeError):
            fn(jnp.asarray(a), jnp.asarray(b))
        return
    got = fn(jnp.asarray(a), jnp.asarray(b))
    with _bound():
        want = fn(jnp.asarray(a), jnp.asarray(b))
    assert got.dtype == want.dtype and got.weak_type == want.weak_type
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    traced = jaxlite.jit(fn)(a, b)
    assert traced.dtype == got.dtype
    np.testing.assert_allclose(np.asarray(traced), np.asarray(got), rtol=1e-6)


def test_fast_paths_yield_to_debug_nans_and_transformations():
    x = jnp.asarray(np.array([-1.0, 4.0], f32))
    with _option("jax_debug_nans", True):
        with pytest.raises(FloatingPointError):
            jnp.sqrt(x)
        with pytest.raises(FloatingPointError):
            jnp.divide(jnp.zeros(2), jnp.zeros(2))
    assert np.isnan(np.asarray(jnp.sqrt(x))[0])  # off again: the fast path, NaN as NumPy
    g = jaxlite.grad(lambda v: jnp.sum(jnp.sin(v) * jnp.add(v, v)))(jnp.asarray(np.ones(3, f32)))
    want = np.cos(1.0) * 2 + np.sin(1.0) * 2
    np.testing.assert_allclose(np.asarray(g), np.full(3, want, f32), rtol=1e-6)
    vm = jaxlite.vmap(jnp.sin)(jnp.asarray(np.ones((2, 3), f32)))
    np.testing.assert_allclose(np.asarray(vm), np.sin(np.ones((2, 3), f32)))


# --- kept workspaces -------------------------------------------------------------------------


def _workspace_fn(x, w):
    h = jnp.tanh(x @ w)  # buffers in the workspace: the product, its tanh, ...
    return jnp.sum(h @ w.T, axis=1) + jnp.exp(h).mean()


def test_kept_workspace_gives_the_same_results_call_after_call():
    rng = np.random.default_rng(1)
    f = jaxlite.jit(_workspace_fn)
    c = f.lower(np.zeros((16, 8), f32), np.zeros((8, 8), f32)).as_c()
    assert "jl_ws_take(" in c and "jl_ws_give(ws," in c
    for _ in range(3):  # fresh inputs each call: nothing stale read from the kept block
        x, w = rng.normal(size=(16, 8)).astype(f32), rng.normal(size=(8, 8)).astype(f32)
        with jaxlite.disable_jit():
            want = _workspace_fn(x, w)
        np.testing.assert_allclose(np.asarray(f(x, w)), np.asarray(want), rtol=2e-5, atol=2e-5)


def test_kept_workspace_under_concurrent_calls():
    rng = np.random.default_rng(2)
    f = jaxlite.jit(_workspace_fn)
    inputs = [(rng.normal(size=(16, 8)).astype(f32), rng.normal(size=(8, 8)).astype(f32))
              for _ in range(4)]  # fmt: skip
    want = [np.asarray(f(x, w)) for x, w in inputs]
    errors = []

    def run(i):
        try:
            for _ in range(50):
                np.testing.assert_array_equal(np.asarray(f(*inputs[i])), want[i])
        except AssertionError as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# --- bool buffers read as bytes ----------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 16, 33, 128])
def test_masked_softmax_with_a_bool_buffer(n):
    rng = np.random.default_rng(n)
    s = rng.normal(size=(3, n, n)).astype(f32)
    mask = np.tril(np.ones((n, n), bool))

    def f(s, mask):
        return jaxlite.nn.softmax(jnp.where(mask, s, -1e9), axis=-1)

    got = jaxlite.jit(f)(s, mask)
    with jaxlite.disable_jit():
        want = f(s, mask)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-7)
    # a bool buffer holding bytes other than 0 and 1 (a NumPy view of uint8) reads as True
    raw = np.where(mask, np.uint8(7), np.uint8(0)).view(bool)
    got = jaxlite.jit(lambda s, m: jnp.where(m, s, 0.0))(s, raw)
    np.testing.assert_array_equal(np.asarray(got), np.where(mask, s, 0.0))


# --- scan products left in the loop on one thread ---------------------------------------------


@pytest.mark.parametrize("threads, hoisted", [("1", 0), ("2", 1)])
def test_scan_hoists_its_input_product_only_with_threads(monkeypatch, threads, hoisted):
    from jaxlite.backend import passes

    monkeypatch.setenv("OMP_NUM_THREADS", threads)
    rng = np.random.default_rng(3)
    wh, wx = rng.normal(size=(2, 8, 8)).astype(f32) / 3
    h0, xs = rng.normal(size=(5, 8)).astype(f32), rng.normal(size=(9, 5, 8)).astype(f32)

    def f(wh, wx, h0, xs):
        # (x @ wx + 0.5 first: `h @ wh + x @ wx` stays in the loop on any thread count, as one
        # jl_gemm_sum2 call per step; tests/test_scan_hoist.py)
        return lax.scan(lambda h, x: (jnp.tanh(x @ wx + 0.5 + h @ wh),) * 2, h0, xs)

    simple = passes.simplify(jaxlite.make_jaxpr(f)(wh, wx, h0, xs).jaxpr)
    assert [e.primitive.name for e in simple.eqns].count("dot_general") == hoisted
    got = jaxlite.jit(f)(wh, wx, h0, xs)
    with jaxlite.disable_jit():
        want = f(wh, wx, h0, xs)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-5, atol=2e-6)
