"""jaxlite.random against JAX 0.10 bit for bit in both of JAX's modes (x64 off, its default, and
on): eagerly, under `jit` with the key traced, and under `vmap` over a batch of keys; plus the
mode's defaults, seeds, warnings and errors."""

import contextlib
import warnings

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as ljnp

jax = pytest.importorskip("jax")
jjnp = jax.numpy

MODES = {"x32": False, "x64": True}


@contextlib.contextmanager
def mode(name):
    with jaxlite.enable_x64(MODES[name]), jax.enable_x64(MODES[name]):
        yield


def libs(which):
    return (jaxlite.random, ljnp) if which == "jaxlite" else (jax.random, jjnp)


P5 = [0.1, 0.2, 0.3, 0.25, 0.15]

# Each case draws from `key` with the library's random module R and numpy module N and returns
# a tuple of arrays. Python scalars are weak (int32/float32 with x64 off), explicit 64-bit
# dtypes appear only in the x64 cases.
EXACT = {
    "split": lambda R, N, k: (R.split(k), R.split(k, (2, 3))),
    "fold_in": lambda R, N, k: (
        R.fold_in(k, 0),
        R.fold_in(k, 2**32 - 1),
        R.fold_in(k, N.int32(-7)),
    ),
    "bits": lambda R, N, k: (
        R.bits(k, (5,)),
        R.bits(k, (2, 3), N.uint8),
        R.bits(k, (4,), N.uint16),
        R.bits(k, (4,), N.uint32),
    ),
    "uniform": lambda R, N, k: (
        R.uniform(k, (6,)),
        R.uniform(k, (6,), N.float32, -1.5, 2.25),
        R.uniform(k, (2, 3), minval=N.array([0.0, 10.0, -3.0]), maxval=N.array([[1.0], [20.0]])),
    ),
    "normal32": lambda R, N, k: (R.normal(k, (5,), N.float32),),
    "randint": lambda R, N, k: (
        R.randint(k, (6,), 0, 10),
        R.randint(k, (6,), -5, 2**31 - 1, N.int32),
        R.randint(k, (6,), -(2**31), 2**31 - 1, N.int32),
        R.randint(k, (6,), 0, 256, N.uint8),
        R.randint(k, (6,), 0.5, 7.9),
        R.randint(k, (6,), 7, -2, N.uint32),  # maxval <= minval: minval
        R.randint(k, (6,), np.uint32(5), np.uint32(2**32 - 1), N.int32),
        R.randint(k, (2, 3), N.array([0, -3, 5]), N.array([[10], [4]])),
    ),
    "bernoulli": lambda R, N, k: (
        R.bernoulli(k, 0.3, (6,)),
        R.bernoulli(k, N.array([0.1, 0.5, 0.9], N.float32)),
        R.bernoulli(k, 1e-6, (6,), mode="high"),
        R.bernoulli(k),
    ),
    "permutation": lambda R, N, k: (
        R.permutation(k, 7),
        R.permutation(k, N.arange(12).reshape(3, 4), axis=1),
        R.permutation(k, N.arange(12.0).reshape(3, 4), independent=True),
    ),
    "choice": lambda R, N, k: (
        R.choice(k, 5, (3,), replace=False),
        R.choice(k, N.arange(12.0).reshape(3, 4), (2,), axis=1),
        R.choice(k, 5, (4,), p=N.array(P5)),
        R.choice(k, 5, (3,), replace=False, p=N.array(P5)),
    ),
    "categorical": lambda R, N, k: (
        R.categorical(k, N.array([0.1, 1.0, -2.0]), shape=(5,)),
        R.categorical(k, N.array([[0.1, 1.0, -2.0], [1.0, 2.0, 3.0]]), axis=0),
        R.categorical(k, N.array([0.1, 1.0, -2.0]), shape=(2,), replace=False),
    ),
}
# The 64-bit draws of x64 mode (uint64 bits, float64 mantissas, int64 randint's uint64 math)
EXACT_X64 = {
    "bits64": lambda R, N, k: (R.bits(k, (5,), N.uint64),),
    "uniform64": lambda R, N, k: (R.uniform(k, (5,), N.float64, -3.0, 1e10),),
    "randint64": lambda R, N, k: (
        R.randint(k, (6,), 0, 2**40),
        R.randint(k, (6,), -(2**63), 2**63 - 1),
        R.randint(k, (6,), np.uint64(5), np.uint64(2**64 - 1), N.uint64),
        R.randint(k, (6,), 0, 2**40, N.int8),  # JAX wraps the bound to int32 first: all 0
    ),
}
# Built from log, log1p, erf and erf_inv, whose XLA approximations differ from jaxlite's (NumPy's
# and C's) by a few ulps: the same draws, values equal to a few eps (relative or, where they
# cancel near 0, absolute).
CLOSE = {
    "normal": lambda R, N, k: (R.normal(k, (64,)),),
    "gumbel": lambda R, N, k: (R.gumbel(k, (64,)), R.gumbel(k, (64,), mode="high")),
    "truncated_normal": lambda R, N, k: (
        R.truncated_normal(k, -1.0, 2.0, (64,)),
        R.truncated_normal(k, N.array([-1.0, 0.5]), 2.0),
    ),
}
TOL_EPS = 256


def cases(name):
    return EXACT | EXACT_X64 if MODES[name] else EXACT


def run(which, fn, key):
    R, N = libs(which)
    return tuple(np.asarray(x) for x in fn(R, N, key))


def check(got, want, close=False):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert (g.dtype, g.shape) == (w.dtype, w.shape), (i, g.dtype, g.shape, w.dtype, w.shape)
        if close:
            tol = TOL_EPS * np.finfo(w.dtype).eps
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=f"output {i}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"output {i}")


def _params():
    for m in MODES:
        for name in cases(m):
            yield pytest.param(m, name, False, id=f"{m}-{name}")
        for name in CLOSE:
            yield pytest.param(m, name, True, id=f"{m}-{name}")


@pytest.mark.parametrize("m,name,close", list(_params()))
def test_eager_matches_jax(m, name, close):
    fn = (CLOSE if close else cases(m))[name]
    with mode(m):
        key = np.asarray(jax.random.PRNGKey(42))
        check(run("jaxlite", fn, key), run("jax", fn, key), close)


# One small program per mode for jit (one C compilation) and vmap: every sampler once.
TRACED = {  # the calls of EXACT (so JAX's compilations are shared)
    "split": lambda R, N, k: (R.split(k),),
    "bits": lambda R, N, k: (R.bits(k, (5,)), R.bits(k, (2, 3), N.uint8)),
    "uniform": lambda R, N, k: (R.uniform(k, (6,), N.float32, -1.5, 2.25),),
    "normal32": lambda R, N, k: (R.normal(k, (5,), N.float32),),
    "randint": lambda R, N, k: (R.randint(k, (6,), 0, 10), R.randint(k, (6,), 0, 256, N.uint8)),
    "bernoulli": lambda R, N, k: (R.bernoulli(k, 0.3, (6,)),),
    "permutation": lambda R, N, k: (R.permutation(k, 7),),
    "choice": lambda R, N, k: (R.choice(k, 5, (4,), p=N.array(P5)),),
    "categorical": lambda R, N, k: (R.categorical(k, N.array([0.1, 1.0, -2.0]), shape=(5,)),),
}


def _all(key):
    R, N = libs("jaxlite")
    return {n: tuple(f(R, N, key)) for n, f in TRACED.items()}


@pytest.mark.parametrize("m", MODES)
def test_jit_and_vmap_of_the_key_match_jax(m):
    """jaxlite's jit (key traced) and vmap over keys give JAX's draws for each key (JAX's
    vmap and jit of these give its eager draws: one JAX compilation per sampler, not three)."""
    with mode(m):
        keys = np.asarray(jax.random.split(jax.random.PRNGKey(7), 3))
        want = [{n: run("jax", f, k) for n, f in TRACED.items()} for k in keys]
        got = jaxlite.jit(_all)(keys[0])
        batched = jaxlite.vmap(_all)(keys)
        for n in TRACED:
            check(tuple(map(np.asarray, got[n])), want[0][n])
            stacked = tuple(np.stack(ws) for ws in zip(*(w[n] for w in want)))
            check(tuple(map(np.asarray, batched[n])), stacked)


SEEDS = [0, 7, -1, 2**31, 2**40 + 5, 2**63 - 1, -(2**63)]
NP_SEEDS = [np.int64(2**40 + 5), np.uint64(2**63 + 9), np.int8(-3), np.uint32(2**32 - 1)]


@pytest.mark.parametrize("m", MODES)
def test_seeds_match_jax(m):
    """With x64 off a Python int seed is taken modulo 2**32 (JAX narrows np.int64(seed)); with
    it on, 64-bit seeds give both words. Traced seeds too."""
    with mode(m):
        for s in SEEDS + NP_SEEDS:
            want = np.asarray(jax.random.PRNGKey(s))
            np.testing.assert_array_equal(np.asarray(jaxlite.random.PRNGKey(s)), want, str(s))
            np.testing.assert_array_equal(np.asarray(jaxlite.random.key(s)), want, str(s))
        seeds = np.asarray(jjnp.array([3, -1, 2**31 - 1] + ([2**40 + 5] if MODES[m] else [])))
        want = jax.vmap(jax.random.PRNGKey)(seeds)
        got = jaxlite.jit(jaxlite.vmap(jaxlite.random.PRNGKey))(seeds)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
        for s in (2**63, 2**64 - 1):
            for R in (jax.random, jaxlite.random):
                with pytest.raises(OverflowError):
                    R.PRNGKey(s)


@pytest.mark.parametrize("m", MODES)
def test_default_dtypes_follow_the_mode(m):
    x64 = MODES[m]
    i, u, f = ("int64", "uint64", "float64") if x64 else ("int32", "uint32", "float32")
    R = jaxlite.random
    with mode(m), warnings.catch_warnings():
        warnings.simplefilter("error")  # the defaults never warn
        k = R.PRNGKey(1)
        assert R.bits(k, (2,)).dtype == u
        for fn in (R.uniform, R.normal, R.gumbel):
            assert fn(k, (2,)).dtype == f
        assert R.truncated_normal(k, -1.0, 1.0, (2,)).dtype == f
        assert R.randint(k, (2,), 0, 5).dtype == i
        assert R.permutation(k, 4).dtype == i
        assert R.choice(k, 4, (2,)).dtype == i
        assert R.choice(k, 4, (2,), p=ljnp.ones(4) / 4).dtype == i
        assert R.choice(k, 4, (0,)).dtype == i
        assert R.categorical(k, ljnp.zeros(3)).dtype == i
        assert R.categorical(k, ljnp.zeros(3), shape=(2,), replace=False).dtype == "int32"


def test_64_bit_requests_warn_and_narrow_with_x64_off():
    R = jaxlite.random
    with mode("x32"):
        k = R.PRNGKey(1)
        for call, dt in [
            (lambda: R.uniform(k, (2,), ljnp.float64), "float32"),
            (lambda: R.normal(k, (2,), "float64"), "float32"),
            (lambda: R.bits(k, (2,), ljnp.uint64), "uint32"),
            (lambda: R.randint(k, (2,), 0, 3, ljnp.int64), "int32"),
        ]:
            with pytest.warns(UserWarning, match="truncated to dtype"):
                assert call().dtype == dt
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert R.uniform(k, (2,), float).dtype == "float32"  # a Python type: no warning


def test_out_of_range_python_ints_raise_as_in_jax():
    with mode("x32"):
        k = jaxlite.random.PRNGKey(0)
        for bounds in [(0, 2**31), (-(2**40), 5)]:
            with pytest.raises(OverflowError, match="randint.*int32"):
                jaxlite.random.randint(k, (2,), *bounds)
            with pytest.raises(OverflowError):
                jax.random.randint(jax.random.PRNGKey(0), (2,), *bounds)
    for m in MODES:
        with mode(m):
            with pytest.raises(OverflowError, match="fold_in"):
                jaxlite.random.fold_in(jaxlite.random.PRNGKey(0), -1)


def test_fma_emulation_rounds_once():
    """`_fma(a, b, c)` is `a * b + c` rounded once, checked with exact rationals."""
    from fractions import Fraction

    from jaxlite.random import _fma

    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        with mode("x64"):
            n = 300
            a = (rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)).astype(dt)
            b = (rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)).astype(dt)
            c = (-a.astype(np.float64) * b + rng.standard_normal(n) * 1e-3).astype(dt)
            got = np.asarray(_fma(ljnp.asarray(a), ljnp.asarray(b), ljnp.asarray(c)))
            for x, y, z, g in zip(a, b, c, got):
                exact = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
                assert g == _round_exact(exact, dt), (dt, x, y, z, g)


def _round_exact(exact, dt):
    """The rational `exact` rounded to nearest `dt`, ties to even."""
    from fractions import Fraction

    near = dt(float(exact))  # within an ulp (float64 then dt may round twice)
    cands = [np.nextafter(near, dt(-np.inf)), near, np.nextafter(near, dt(np.inf))]
    bits = np.dtype(f"uint{np.dtype(dt).itemsize * 8}")
    return min(cands, key=lambda v: (abs(Fraction(float(v)) - exact), int(v.view(bits)) & 1))


def test_nothing_64_bit_is_traced_with_x64_off():
    """With x64 off every sampler computes in 32 bits (as JAX): no 64-bit dtype in the jaxprs."""
    import re

    with mode("x32"):
        for name, fn in (EXACT | CLOSE).items():
            jaxpr = str(jaxlite.make_jaxpr(lambda k, fn=fn: fn(*libs("jaxlite"), k))(K0))
            assert not re.findall(r"\b[fiu]64\b|float64|int64", jaxpr), name


K0 = np.zeros(2, np.uint32)
