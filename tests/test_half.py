"""float16 and bfloat16: conversions bit for bit with NumPy/ml_dtypes (every 16-bit value, many
float32 and float64 bit patterns), JAX's promotion, jit against eager, grads, vmap."""

from __future__ import annotations

import functools

import ml_dtypes
import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import dtypes, lax

F16, BF16 = np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)
HALF = [F16, BF16]
IDS = ["f16", "bf16"]


def bits(x):
    return np.asarray(x).view(np.uint16)


@functools.cache
def _convert(src, dst):
    return jaxlite.jit(lambda x: lax.convert_element_type(x, dst))


@pytest.mark.parametrize("dt", HALF, ids=IDS)
def test_every_16_bit_value_widens_exactly(dt):
    h = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(dt)
    got = np.asarray(_convert(dt, np.float32)(h))
    want = h.astype(np.float32)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    back = np.asarray(_convert(np.float32, dt)(got))  # and rounds back to itself
    nan = np.isnan(want)
    assert np.array_equal(bits(back)[~nan], bits(h)[~nan])
    assert np.isnan(back[nan].astype(np.float32)).all()


def _f32_patterns():
    rng = np.random.default_rng(0)
    u = rng.integers(0, 1 << 32, size=1 << 20, dtype=np.uint64).astype(np.uint32)
    # ties and near-ties at both widths' rounding bits, subnormals, the overflow edges
    base = rng.integers(0, 1 << 16, size=4096, dtype=np.uint32) << 16
    near = (base[:, None] + np.array([0x7FFF, 0x8000, 0x8001, 0x17FFF, 0x18000], np.uint32)).ravel()
    h = rng.integers(0, 1 << 19, size=4096, dtype=np.uint32) << 13
    near16 = (h[:, None] + np.array([0xFFF, 0x1000, 0x1001, 0x2FFF, 0x3000], np.uint32)).ravel()
    edges = np.array([65504, 65519, 65520, 65536, 2.0**-24, 2.0**-25, 3 * 2.0**-26, 2.0**-14,
                      np.inf, -np.inf, 3.3895e38, 3.4e38, 1e-45, -0.0], np.float32).view(np.uint32)  # fmt: skip
    return np.concatenate([u, near, near16, edges]).view(np.float32)


@pytest.mark.parametrize("dt", HALF, ids=IDS)
def test_float32_rounds_to_nearest_even_as_numpy(dt):
    x = _f32_patterns()
    with np.errstate(over="ignore", invalid="ignore"):
        want = x.astype(dt)
    got = np.asarray(_convert(np.float32, dt)(x))
    nan = np.isnan(x)
    assert np.array_equal(bits(got)[~nan], bits(want)[~nan])
    assert np.isnan(got[nan].astype(np.float32)).all()


@pytest.mark.parametrize("dt", HALF, ids=IDS)
def test_float64_and_ints_round_once(dt):
    with jaxlite.enable_x64(True):
        rng = np.random.default_rng(1)
        d = np.concatenate([rng.normal(size=100000) * 10.0 ** rng.integers(-9, 6, 100000),
                            [65519.99999, 65520.0, 1 + 2.0**-11 + 2.0**-40, 1 + 2.0**-8 + 2.0**-40]])  # fmt: skip
        with np.errstate(over="ignore"):
            want = d.astype(dt)
        assert np.array_equal(bits(_convert(np.float64, dt)(d)), bits(want))
        for it in (np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64):
            info = np.iinfo(it)
            i = rng.integers(info.min, info.max, size=20000, dtype=np.int64).astype(it)
            with np.errstate(over="ignore"):
                want = i.astype(dt)
            assert np.array_equal(bits(_convert(it, dt)(i)), bits(want)), it
            back = np.asarray(_convert(dt, it)(want))
            np.testing.assert_array_equal(back, np.asarray(lax.convert_element_type(want, it)))
        b = np.array([True, False])
        assert np.array_equal(bits(_convert(np.bool_, dt)(b)), bits(b.astype(dt)))


def test_f16_bf16_convert_into_each_other():
    h = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(F16)
    with np.errstate(all="ignore"):
        want = h.astype(BF16)
    got = np.asarray(_convert(F16, BF16)(h))
    nan = np.isnan(h)
    assert np.array_equal(bits(got)[~nan], bits(want)[~nan])


# fmt: off
PROMOTIONS = [  # JAX 0.10's jnp.promote_types / result_type (x64 off)
    (F16, BF16, np.float32), (F16, np.float32, np.float32), (BF16, np.float64, np.float64),
    (F16, np.int32, F16), (BF16, np.uint8, BF16), (BF16, np.int64, BF16), (F16, np.bool_, F16),
    (F16, float, F16), (BF16, int, BF16),
]
# fmt: on


@pytest.mark.parametrize("a,b,want", PROMOTIONS)
def test_promotion(a, b, want):
    assert jnp.promote_types(a, b) == want
    assert jnp.promote_types(b, a) == want


def test_dtypes_and_scalar_types():
    assert jnp.dtype(jnp.bfloat16) == BF16 and jnp.dtype("float16") == F16
    assert jnp.bfloat16 == ml_dtypes.bfloat16 and jnp.float16 == np.float16
    x = jnp.bfloat16(1.5)
    assert x.dtype == BF16 and float(x) == 1.5
    assert jnp.issubdtype(jnp.bfloat16, jnp.floating) and jnp.issubdtype(F16, jnp.inexact)
    assert jnp.finfo(jnp.bfloat16).eps == 2.0**-7 and jnp.finfo(jnp.float16).max == 65504
    assert dtypes.is_float(BF16) and dtypes.kind(BF16) == "f"
    y = jnp.ones(3, jnp.bfloat16)
    assert (y * 2.0).dtype == BF16 and (y + 1).dtype == BF16 and (y * 2.0).weak_type is False
    assert (y + jnp.ones(3, jnp.float16)).dtype == np.float32
    assert y.astype(jnp.float16).dtype == F16 and jnp.exp(y).dtype == BF16
    assert jnp.arange(4, dtype=jnp.bfloat16).dtype == BF16


OPS = [
    ("arith", lambda x, y: (x + y) * x - y / (jnp.abs(x) + 1)),
    (
        "unary",
        lambda x, y: jnp.exp(x / 4) + jnp.tanh(y) + jnp.sqrt(jnp.abs(x)) + jnp.log1p(jnp.abs(y)),
    ),
    ("compare", lambda x, y: jnp.where(x > y, x, y) + jnp.maximum(x, y) - jnp.minimum(x, 2.0)),
    (
        "reduce",
        lambda x, y: jnp.stack([jnp.max(x, 1), jnp.min(y, 1), jnp.sum(x, 1), jnp.mean(y, 1)]),
    ),
    ("cumsum", lambda x, y: jnp.cumsum(x, 1) + jnp.cumprod(y / 4, 0)),
    ("sort", lambda x, y: jnp.sort(x, 1) + jnp.argsort(y, 0).astype(x.dtype)),
    ("dot", lambda x, y: jnp.dot(x, y.T)),
    (
        "dot_f32",
        lambda x, y: lax.dot_general(
            x, y, (((1,), (1,)), ((), ())), preferred_element_type=jnp.float32
        ),
    ),
    (
        "moves",
        lambda x, y: jnp.concatenate([x[:, ::-1], jnp.pad(y, 1)[1:-1, 1:-1]], 0).T.reshape(-1),
    ),
    (
        "gather_scatter",
        lambda x, y: x.at[jnp.array([0, 2, 2])].add(y[1]) + y[jnp.array([3, 0, 1, 1])],
    ),
    ("argmax", lambda x, y: jnp.argmax(x, 1) + jnp.argmin(y, 1)),
    ("isnan", lambda x, y: jnp.isnan(x / y) | jnp.isinf(y * 1e4)),
]


@pytest.mark.parametrize("name,fn", OPS, ids=[n for n, _ in OPS])
@pytest.mark.parametrize("dt", HALF, ids=IDS)
def test_jit_matches_eager(dt, name, fn):
    rng = np.random.default_rng(2)
    x = (rng.normal(size=(4, 6)) * 3).astype(dt)
    y = (rng.normal(size=(4, 6)) * 3).astype(dt)
    got, want = jaxlite.jit(fn)(x, y), fn(jnp.asarray(x), jnp.asarray(y))
    assert got.dtype == want.dtype and got.shape == want.shape
    g, w = np.asarray(got).astype(np.float64), np.asarray(want).astype(np.float64)
    # orders and libms differ; a scatter-add into one element adds in float32 under jit
    if name in ("reduce", "cumsum", "dot", "dot_f32", "unary", "gather_scatter"):
        eps = float(dtypes.finfo(dt).eps)
        np.testing.assert_allclose(g, w, rtol=4 * eps, atol=4 * eps * np.abs(w).max())
    else:
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dt", HALF, ids=IDS)
def test_grad_and_vmap_through_16_bits(dt):
    def f(w):  # a float32 function that casts through 16 bits
        h = (w * 0.5).astype(dt)
        return jnp.sum(jnp.tanh(h).astype(jnp.float32) ** 2)

    w = np.linspace(-1, 1, 5).astype(np.float32)
    g = jaxlite.grad(f)(w)
    assert g.dtype == np.float32
    # d/dw sum(tanh(w/2)^2): the cast's derivative is the identity (as JAX's)
    t = np.tanh(w / 2)
    np.testing.assert_allclose(np.asarray(g), t * (1 - t * t), rtol=0.05, atol=0.01)
    np.testing.assert_allclose(
        np.asarray(jaxlite.jit(jaxlite.grad(f))(w)), np.asarray(g), rtol=1e-2, atol=1e-3
    )
    gh = jaxlite.grad(lambda h: jnp.sum(h * h))(w.astype(dt))
    assert gh.dtype == dt
    np.testing.assert_array_equal(np.asarray(gh), (2 * w.astype(dt)).astype(dt))
    xs = w.reshape(5, 1).astype(dt) * np.ones((5, 3), dt)
    v = jaxlite.vmap(lambda r: jnp.max(r) + r)(xs)
    np.testing.assert_array_equal(np.asarray(v), np.stack([np.max(r) + r for r in xs]))


# JAX 0.10.2's bits (x64 off) of random draws with key PRNGKey(1), shape (8,): for 16-bit floats
# JAX draws 16 random bits (8 for bfloat16, whose mantissa has 7) and rounds each operation.
JAX_RANDOM = {
    ("float16", "uniform"): "2cbb60bf283efc3e0c3b3ebe4441603e",
    ("float16", "normal"): "27ba6fbf633861392a3268bdd13da338",
    ("float16", "truncated_normal"): "f4b83dbd76385c39643333bc5e3db138",
    ("bfloat16", "uniform"): "c83f4abfc03e2c409a3fd63f883ecebf",
    ("bfloat16", "normal"): "103f31bf5dbdc63fbb3e223fe6bdb4bf",
    ("bfloat16", "truncated_normal"): "113f10bf0000b23fc33e203f5dbd8cbf",
}
_DRAWS = {
    "uniform": lambda k, dt: jaxlite.random.uniform(k, (8,), dt, -2, 3),
    "normal": lambda k, dt: jaxlite.random.normal(k, (8,), dt),
    "truncated_normal": lambda k, dt: jaxlite.random.truncated_normal(k, -1.5, 2.0, (8,), dt),
}


@pytest.mark.parametrize("dt,name", list(JAX_RANDOM), ids=[f"{d}-{n}" for d, n in JAX_RANDOM])
def test_random_bit_exact_with_jax(dt, name):
    key = jaxlite.random.PRNGKey(1)
    with jaxlite.enable_x64(False):
        for fn in (_DRAWS[name], jaxlite.jit(_DRAWS[name], static_argnums=1)):
            got = np.asarray(fn(key, jnp.dtype(dt)))
            assert got.dtype == jnp.dtype(dt)
            assert got.view(np.uint16).tobytes().hex() == JAX_RANDOM[dt, name]


def test_reductions_compute_in_float32_as_jax():
    # JAX's jnp.sum/prod/mean/var of 16-bit floats: convert to float32, reduce, round once
    x = np.full(4096, 0.1, BF16)
    s = jnp.sum(x)
    assert s.dtype == BF16 and float(s) == float(
        np.float32(x.astype(np.float32).sum()).astype(BF16)
    )
    assert float(jaxlite.jit(jnp.sum)(x)) == float(s)  # a bfloat16 running sum would stall at 32
    text = str(jaxlite.make_jaxpr(lambda x: jnp.mean(x))(x))
    assert "f32[4096] = convert_element_type" in text and "bf16[] = convert_element_type" in text
    v = np.linspace(-3, 3, 12).astype(F16).reshape(3, 4)
    want = v.astype(np.float32).var(axis=1).astype(F16)
    np.testing.assert_array_equal(np.asarray(jnp.var(v, axis=1)), want)
