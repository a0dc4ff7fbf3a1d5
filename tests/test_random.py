"""jaxlite.random: JAX's exact bits (pinned values and an independent NumPy threefry), the
samplers' distributions, and the same results under vmap, jit and make_jaxpr."""

import math

import numpy as np
import pytest

import jaxlite
import jaxlite.random as jr

f32, f64 = np.float32, np.float64

# ------------------------------------------------------------------------------------------
# An independent reference: threefry-2x32 on NumPy uint64 with explicit 32-bit masks
# ------------------------------------------------------------------------------------------

M32 = np.uint64(0xFFFFFFFF)


def _rotl(x, r):
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & M32


def ref_threefry(key, x0, x1):
    k0, k1 = np.uint64(int(key[0])), np.uint64(int(key[1]))
    ks = [k0, k1, k0 ^ k1 ^ np.uint64(0x1BD11BDA)]
    x = [(np.asarray(x0, np.uint64) + ks[0]) & M32, (np.asarray(x1, np.uint64) + ks[1]) & M32]
    rots = [[13, 15, 26, 6], [17, 29, 16, 24]]
    for i in range(5):
        for r in rots[i % 2]:
            x[0] = (x[0] + x[1]) & M32
            x[1] = _rotl(x[1], r) ^ x[0]
        x[0] = (x[0] + ks[(i + 1) % 3]) & M32
        x[1] = (x[1] + ks[(i + 2) % 3] + np.uint64(i + 1)) & M32
    return x[0], x[1]


def ref_words(key, shape):
    n = math.prod(shape)
    w0, w1 = ref_threefry(key, np.zeros(n, np.uint64), np.arange(n, dtype=np.uint64))
    return w0.reshape(shape), w1.reshape(shape)


def ref_split(key, n=2):
    w0, w1 = ref_words(key, (n,))
    return np.stack([w0, w1], 1).astype(np.uint32)


def ref_bits32(key, shape):
    w0, w1 = ref_words(key, shape)
    return (w0 ^ w1).astype(np.uint32)


def ref_bits64(key, shape):
    w0, w1 = ref_words(key, shape)
    return (w0 << np.uint64(32)) | w1


def ref_uniform(key, shape, dtype):
    if dtype == f32:
        b = ref_bits32(key, shape)
        return ((b >> np.uint32(9)) | np.uint32(0x3F800000)).view(f32) - f32(1)
    b = ref_bits64(key, shape)
    return ((b >> np.uint64(12)) | np.uint64(0x3FF0000000000000)).view(f64) - 1.0


def ref_randint(key, shape, lo, hi, dtype):
    """JAX's randint algorithm in Python integers."""
    info = np.iinfo(dtype)
    if info.bits < 32:
        lo, hi = min(max(lo, info.min), info.max), min(max(hi, info.min), info.max + 1)
        return ref_randint(key, shape, lo, hi, np.int32).astype(dtype)
    nbits, mod = info.bits, 2**info.bits
    k1, k2 = ref_split(key)
    if nbits == 32:
        hb, lb = ref_bits32(k1, shape), ref_bits32(k2, shape)
    else:
        hb, lb = ref_bits64(k1, shape), ref_bits64(k2, shape)
    lo_c, hi_c = min(max(lo, info.min), info.max), min(max(hi, info.min), info.max)
    span = (hi_c - lo_c) % mod
    if hi_c <= lo_c:
        span = 1
    if hi > info.max and hi_c > lo_c:
        span = (span + 1) % mod

    def rem(a, s):  # XLA: x % 0 == x
        return a if s == 0 else a % s

    mult = rem(rem(2 ** (nbits // 2), span) ** 2 % mod, span)
    out = [
        (lo_c + rem((rem(int(h), span) * mult % mod + rem(int(lo_), span)) % mod, span))
        for h, lo_ in zip(hb.ravel(), lb.ravel())
    ]
    wrapped = [(v - info.min) % mod + info.min for v in out]
    return np.array(wrapped, dtype).reshape(shape)


def a(x):
    return np.asarray(x)


# ------------------------------------------------------------------------------------------
# Known values from JAX 0.10 (float32 / int32 / uint32)
# ------------------------------------------------------------------------------------------

K1 = np.array([1797259609, 2579123966], np.uint32)
K2 = np.array([928981903, 3453687069], np.uint32)


def test_known_values_from_jax():
    key = jr.PRNGKey(0)
    np.testing.assert_array_equal(a(key), [0, 0])
    assert a(key).dtype == np.uint32
    np.testing.assert_array_equal(a(jr.split(key)), np.stack([K1, K2]))
    np.testing.assert_array_equal(
        a(jr.uniform(K1, (4,), f32)), np.array([0.8423141, 0.18237865, 0.2271781, 0.12072563], f32)
    )
    np.testing.assert_array_equal(
        a(jr.normal(K2, (4,), f32)),
        np.array([-2.4424558, -2.0356805, 0.20554423, -0.35355020], f32),
    )
    np.testing.assert_array_equal(a(jr.fold_in(key, 7)), [2716826189, 292468403])
    np.testing.assert_array_equal(
        a(jr.bits(key, (4,), np.uint32)), [4070199207, 4202968722, 1427181096, 2012915765]
    )
    bits64 = a(jr.bits(key, (4,)))  # the suite runs with x64 on: JAX's default is then uint64
    assert bits64.dtype == np.uint64
    np.testing.assert_array_equal(bits64, ref_bits64(a(key), (4,)))
    np.testing.assert_array_equal(a(jr.randint(K1, (4,), 0, 10, np.int32)), [1, 1, 7, 7])


def test_key_is_a_raw_uint32_pair():
    assert a(jr.key(5)).tolist() == a(jr.PRNGKey(5)).tolist() == [0, 5]
    assert a(jr.PRNGKey(2**40 + 5)).tolist() == [256, 5]
    assert a(jr.PRNGKey(-1)).tolist() == [2**32 - 1, 2**32 - 1]  # a 64-bit seed
    assert a(jr.PRNGKey(np.int32(-1))).tolist() == [0, 2**32 - 1]  # a 32-bit seed
    assert a(jr.PRNGKey(np.int64(-1))).tolist() == [2**32 - 1, 2**32 - 1]
    assert a(jr.key_data(jr.split(jr.key(0), 3))).shape == (3, 2)


# ------------------------------------------------------------------------------------------
# Bits against the reference
# ------------------------------------------------------------------------------------------

SEEDS = [0, 1, 42, 2**32 + 7, 2**63 - 1]
SHAPES = [(), (1,), (5,), (2, 3), (0,), (3, 0, 2)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_bits_and_split_match_reference(seed, shape):
    key = a(jr.PRNGKey(seed))
    np.testing.assert_array_equal(a(jr.bits(key, shape, np.uint32)), ref_bits32(key, shape))
    np.testing.assert_array_equal(a(jr.bits(key, shape)), ref_bits64(key, shape))  # x64 on
    np.testing.assert_array_equal(
        a(jr.bits(key, shape, np.uint8)), ref_bits32(key, shape).astype(np.uint8)
    )
    keys = a(jr.split(key, shape))
    assert keys.shape == (*shape, 2) and keys.dtype == np.uint32
    w0, w1 = ref_words(key, shape)
    np.testing.assert_array_equal(keys[..., 0], w0)
    np.testing.assert_array_equal(keys[..., 1], w1)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("data", [0, 1, 7, 2**31, 2**32 - 1])
def test_fold_in_matches_reference(seed, data):
    key = a(jr.PRNGKey(seed))
    w0, w1 = ref_threefry(key, np.zeros(1, np.uint64), np.array([data], np.uint64))
    expected = [int(w0[0]), int(w1[0])]
    assert a(jr.fold_in(key, data)).tolist() == expected
    assert a(jr.fold_in(key, np.array(data, np.uint32))).tolist() == expected


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("shape", [(), (7,), (3, 4)])
@pytest.mark.parametrize("dtype", [f32, f64])
def test_uniform_bits_match_reference(seed, shape, dtype):
    key = a(jr.PRNGKey(seed))
    out = a(jr.uniform(key, shape, dtype))
    assert out.dtype == dtype and out.shape == shape
    np.testing.assert_array_equal(out, ref_uniform(key, shape, dtype))


def test_uniform_default_dtype_is_float64_and_range_is_scaled():
    key = jr.PRNGKey(3)
    assert a(jr.uniform(key, (3,))).dtype == f64
    u = a(jr.uniform(key, (1000,), f32, -2.0, 3.0))
    ref = ref_uniform(a(key), (1000,), f32)
    # JAX's `floats * 5 + -2` is one fused multiply-add on XLA's CPU backend; in float64 it is
    # exact here (at most 51 significant bits), so one rounding to float32 is the fma
    fma = (ref.astype(f64) * 5 - 2).astype(f32)
    np.testing.assert_array_equal(u, np.maximum(f32(-2), fma))
    lo = np.array([0.0, 10.0, 100.0])
    u = a(jr.uniform(key, (4, 3), f64, lo, lo + 1))
    assert np.all((u >= lo) & (u < lo + 1))


RANDINT_CASES = [
    (np.int32, 0, 10),
    (np.int32, -5, 7),
    (np.int32, 3, 3),  # empty range -> minval
    (np.int32, -(2**31), 2**31),  # the whole range: the span wraps to 0
    (np.uint32, 0, 2**32),
    (np.uint32, 5, 1000),
    (np.int64, 0, 10),
    (np.int64, -(2**62), 2**62 + 12345),
    (np.int64, -(2**63), 2**63 - 1),  # span >= 2**63: the large-divisor branch
    (np.int64, 7, -3),
    (np.uint8, 0, 256),
    (np.uint8, 10, 20),
]


@pytest.mark.parametrize("dtype,lo,hi", RANDINT_CASES)
def test_randint_matches_reference(dtype, lo, hi):
    key = a(jr.PRNGKey(11))
    out = a(jr.randint(key, (64,), lo, hi, dtype))
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, ref_randint(key, (64,), lo, hi, dtype))


def test_randint_default_dtype_and_array_bounds():
    key = jr.PRNGKey(0)
    out = a(jr.randint(key, (2, 3), np.array([0, 10, 100]), np.array([5, 20, 200])))
    assert out.dtype == np.int64
    assert np.all((out >= [0, 10, 100]) & (out < [5, 20, 200]))


# ------------------------------------------------------------------------------------------
# Distributions
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [f32, f64])
def test_normal_moments_and_inverse_cdf(dtype):
    key = jr.PRNGKey(1)
    z = a(jr.normal(key, (20000,), dtype))
    assert z.dtype == dtype
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    # normal = sqrt(2) * erfinv(u) for the uniform drawn from (-1, 1)
    from scipy.special import erfinv

    lo = np.nextafter(dtype(-1), dtype(0))
    u = ref_uniform(a(key), (20000,), dtype) * (dtype(1) - lo) + lo
    np.testing.assert_allclose(z, np.sqrt(2) * erfinv(u.astype(f64)), rtol=2e-5, atol=2e-6)


def test_uniform_is_uniform():
    u = a(jr.uniform(jr.PRNGKey(2), (20000,), f32))
    assert u.min() >= 0 and u.max() < 1
    counts, _ = np.histogram(u, bins=10, range=(0, 1))
    chi2 = ((counts - 2000) ** 2 / 2000).sum()
    assert chi2 < 30  # 9 degrees of freedom: p ~ 4e-4


def test_truncated_normal_stays_inside_and_has_the_right_mean():
    key = jr.PRNGKey(4)
    x = a(jr.truncated_normal(key, -1.0, 2.0, (5000,), f32))
    assert x.min() > -1 and x.max() < 2
    from scipy.stats import truncnorm

    assert abs(x.mean() - truncnorm(-1, 2).mean()) < 0.04
    assert a(jr.truncated_normal(key, np.zeros(3), np.ones(3))).shape == (3,)
    tight = a(jr.truncated_normal(key, 0.5, 0.5000001, (100,), f32))
    assert np.all((tight > 0.5) & (tight < f32(0.5000001)))


@pytest.mark.parametrize("mode", ["low", "high"])
def test_gumbel_mean_is_euler_gamma(mode):
    g = a(jr.gumbel(jr.PRNGKey(5), (20000,), f64, mode=mode))
    assert abs(g.mean() - np.euler_gamma) < 0.03
    assert abs(g.std() - np.pi / np.sqrt(6)) < 0.03


@pytest.mark.parametrize("mode", ["low", "high"])
def test_bernoulli_frequency(mode):
    p = np.array([0.1, 0.5, 0.9])
    b = a(jr.bernoulli(jr.PRNGKey(6), p, (5000, 3), mode=mode))
    assert b.dtype == np.bool_
    np.testing.assert_allclose(b.mean(0), p, atol=0.03)
    assert a(jr.bernoulli(jr.PRNGKey(6), 0.5)).shape == ()


def test_bernoulli_is_uniform_below_p():
    key = a(jr.PRNGKey(7))
    b = a(jr.bernoulli(key, f32(0.3), (100,)))
    np.testing.assert_array_equal(b, ref_uniform(key, (100,), f32) < f32(0.3))


def test_categorical_frequencies_and_shapes():
    probs = np.array([0.1, 0.2, 0.7])
    key = jr.PRNGKey(8)
    s = a(jr.categorical(key, np.log(probs), shape=(20000,)))
    assert s.dtype == np.int64
    np.testing.assert_allclose(np.bincount(s, minlength=3) / 20000, probs, atol=0.015)
    logits = np.array([[np.log(0.5), np.log(0.5), -np.inf], [-np.inf, -np.inf, 0.0]])
    s = a(jr.categorical(key, logits, axis=1, shape=(100, 2)))
    assert s.shape == (100, 2) and set(s[:, 1]) == {2} and set(s[:, 0]) <= {0, 1}
    s = a(jr.categorical(key, logits.T, axis=0))
    assert s.shape == (2,) and s[1] == 2
    no_rep = a(jr.categorical(key, np.zeros(5), shape=(5,), replace=False))
    assert sorted(no_rep.tolist()) == [0, 1, 2, 3, 4]


def test_categorical_is_gumbel_argmax():
    key = jr.PRNGKey(9)
    logits = np.array([0.3, -1.0, 2.0, 0.0], f32)
    g = a(jr.gumbel(key, (6, 4), f32))
    np.testing.assert_array_equal(
        a(jr.categorical(key, logits, shape=(6,))), np.argmax(g + logits, axis=1)
    )


@pytest.mark.parametrize("n", [1, 10, 1437, 2000])
def test_permutation_is_a_permutation(n):
    p = a(jr.permutation(jr.PRNGKey(10), n))
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(n))


def test_permutation_of_arrays():
    key = jr.PRNGKey(12)
    x = np.arange(20).reshape(5, 4)
    rows = a(jr.permutation(key, x))
    perm = a(jr.permutation(key, 5))
    np.testing.assert_array_equal(rows, x[perm])  # the same permutation as of arange(5)
    cols = a(jr.permutation(key, x, axis=1))
    np.testing.assert_array_equal(cols, x[:, a(jr.permutation(key, 4))])
    ind = a(jr.permutation(key, x, independent=True, axis=1))
    assert all(sorted(r) == sorted(xr) for r, xr in zip(ind.tolist(), x.tolist()))
    # one sort round for small arrays: sort by the bits of the second key of split
    k_sub = ref_split(a(key))[1]
    np.testing.assert_array_equal(perm, np.argsort(ref_bits32(k_sub, (5,)), kind="stable"))


def test_choice():
    key = jr.PRNGKey(13)
    c = a(jr.choice(key, 10, (6,), replace=False))
    assert len(set(c.tolist())) == 6 and c.max() < 10
    assert a(jr.choice(key, 10, (3, 2))).shape == (3, 2)
    p = np.array([0.0, 0.0, 1.0, 0.0])
    assert set(a(jr.choice(key, 4, (50,), p=p)).tolist()) == {2}
    no_rep = a(jr.choice(key, 4, (2,), replace=False, p=np.array([0.5, 0.0, 0.5, 0.0])))
    assert sorted(no_rep.tolist()) == [0, 2]
    x = np.arange(12.0).reshape(3, 4)
    rows = a(jr.choice(key, x, (2,), replace=False))
    assert rows.shape == (2, 4) and all(r.tolist() in x.tolist() for r in rows)
    freq = np.bincount(a(jr.choice(key, 3, (30000,), p=np.array([0.2, 0.3, 0.5]))), minlength=3)
    np.testing.assert_allclose(freq / 30000, [0.2, 0.3, 0.5], atol=0.015)
    assert a(jr.choice(key, x, (0,))).shape == (0,)  # sic: JAX returns zeros(shape, a.dtype)


def test_choice_with_replacement_from_an_array():
    key = jr.PRNGKey(14)
    x = np.arange(12.0).reshape(3, 4)
    picks = a(jr.choice(key, x, (5,), axis=1))
    idx = a(jr.randint(key, (5,), 0, 4))
    np.testing.assert_array_equal(picks, x[:, idx])


# ------------------------------------------------------------------------------------------
# Transformations: a key is an ordinary array
# ------------------------------------------------------------------------------------------

SAMPLERS = {
    "split": lambda k: jr.split(k, 3),
    "fold_in": lambda k: jr.fold_in(k, 3),
    "bits": lambda k: jr.bits(k, (4,)),
    "uniform": lambda k: jr.uniform(k, (2, 3), f32),
    "normal": lambda k: jr.normal(k, (3,)),
    "randint32": lambda k: jr.randint(k, (4,), -5, 7, np.int32),
    "randint64": lambda k: jr.randint(k, (4,), 0, 2**40),
    "permutation": lambda k: jr.permutation(k, 6),
    "categorical": lambda k: jr.categorical(k, np.array([0.1, 1.0, -2.0, 0.0]), shape=(5,)),
    "bernoulli": lambda k: jr.bernoulli(k, 0.5, (3,)),
    "truncated_normal": lambda k: jr.truncated_normal(k, -1.0, 1.0, (3,), f32),
    "gumbel": lambda k: jr.gumbel(k, (2,), f32),
    "choice": lambda k: jr.choice(k, 8, (3,), replace=False),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_vmap_over_keys_equals_a_loop(name):
    f = SAMPLERS[name]
    keys = jr.split(jr.PRNGKey(21), 4)
    out = a(jaxlite.vmap(f)(keys))
    np.testing.assert_array_equal(out, np.stack([a(f(k)) for k in a(keys)]))


def test_vmap_of_key_constructors():
    np.testing.assert_array_equal(
        a(jaxlite.vmap(jr.PRNGKey)(np.arange(3))), [[0, 0], [0, 1], [0, 2]]
    )
    fold = jaxlite.vmap(lambda d: jr.fold_in(jr.PRNGKey(0), d))(np.arange(3, dtype=np.uint32))
    np.testing.assert_array_equal(a(fold)[2], a(jr.fold_in(jr.PRNGKey(0), 2)))


@pytest.mark.parametrize("name", ["split", "uniform", "normal", "randint64", "permutation"])
def test_traced_equals_eager(name):
    """Samplers use lax ops only: the staged jaxpr evaluates to the same bits."""
    f = SAMPLERS[name]
    key = jr.PRNGKey(22)
    closed = jaxlite.make_jaxpr(f)(key)
    out = jaxlite.core.eval_jaxpr(closed.jaxpr, closed.consts, key)[0]
    np.testing.assert_array_equal(a(out), a(f(key)))
    assert {e.primitive.name for e in closed.eqns} <= {p.name for p in jaxlite.lax.ALL_PRIMITIVES}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_jit_equals_eager(name):
    if not hasattr(jaxlite, "jit"):
        pytest.skip("jaxlite.jit is not available yet")
    f = SAMPLERS[name]
    key = jr.PRNGKey(23)
    np.testing.assert_array_equal(a(jaxlite.jit(f)(key)), a(f(key)))


def test_jit_of_key_from_traced_seed():
    if not hasattr(jaxlite, "jit"):
        pytest.skip("jaxlite.jit is not available yet")
    seed = np.int64(2**40 + 3)
    np.testing.assert_array_equal(a(jaxlite.jit(jr.PRNGKey)(seed)), a(jr.PRNGKey(2**40 + 3)))


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


def test_errors_name_the_function_and_the_fix():
    key = jr.PRNGKey(0)
    with pytest.raises(TypeError, match=r"uniform.*u32\[2\].*f32\[2\]"):
        jr.uniform(np.zeros(2, f32), (3,))
    with pytest.raises(TypeError, match="vmap"):
        jr.normal(jr.split(key, 3), (2,))
    with pytest.raises(ValueError, match="float dtype"):
        jr.uniform(key, (2,), np.int32)
    with pytest.raises(TypeError, match="integer dtype"):
        jr.randint(key, (2,), 0, 3, f32)
    with pytest.raises(ValueError, match="broadcast"):
        jr.uniform(key, (3,), f32, np.zeros(4))
    with pytest.raises(TypeError, match="scalar"):
        jr.PRNGKey(np.arange(3))
    with pytest.raises(TypeError, match="integer"):
        jr.PRNGKey(1.5)
    with pytest.raises(ValueError, match="larger sample"):
        jr.choice(key, 3, (4,), replace=False)
    with pytest.raises(ValueError, match="unsigned"):
        jr.bits(key, (2,), np.int32)
