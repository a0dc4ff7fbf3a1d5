"""jnp gaps of issue 16: vectorize, piecewise, the histograms, polyfit, interp's edge cases and
einsum_path, against JAX (when installed) and NumPy, under jit, vmap and grad."""

import types

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
import jaxlite.numpy._dot as dot_module
from jaxlite.test_util import check_grads

RNG = np.random.default_rng(0)


def jax_or_skip():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def assert_same(got, want, rtol=1e-12, atol=1e-14):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w, rtol, atol)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (
        got.dtype,
        want.dtype,
        got.shape,
        want.shape,
    )
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------ vectorize


def _cross(a, b):
    return jnp.stack(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


def test_vectorize_signature_broadcasts_like_a_gufunc():
    cross = jnp.vectorize(_cross, signature="(k),(k)->(k)")
    a, b = RNG.standard_normal((1, 2, 3)), RNG.standard_normal((4, 1, 3))
    assert_same(cross(a, b), np.cross(a, b))
    mv = jnp.vectorize(lambda m, v: m @ v, signature="(n,m),(m)->(n)")
    m, v = RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3))
    assert_same(mv(m, v), v @ m.T)
    two = jnp.vectorize(lambda a: (a.sum(), a * 2), signature="(n)->(),(n)")
    s, d = two(RNG.standard_normal((5, 3)))
    assert s.shape == (5,) and d.shape == (5, 3)


def test_vectorize_scalars_excluded_and_none():
    f = jnp.vectorize(lambda a, p, b: a**p + b, excluded={1})
    x = np.arange(3.0)
    assert_same(f(x[:, None], 2, x), x[:, None] ** 2 + x)
    g = jnp.vectorize(lambda a, scale=1.0: a * scale, excluded={"scale"})
    assert_same(g(x, scale=3.0), x * 3)
    h = jnp.vectorize(lambda a, b: a if b is None else a + b)
    assert_same(h(x, None), x)


def test_vectorize_jit_vmap_grad():
    norm = jnp.vectorize(lambda v: jnp.sqrt(jnp.sum(v * v)), signature="(n)->()")
    x = RNG.standard_normal((4, 3))
    assert_same(jaxlite.jit(norm)(x), np.linalg.norm(x, axis=1))
    assert_same(jaxlite.vmap(norm)(x[None]), np.linalg.norm(x, axis=1)[None])
    check_grads(norm, (x,), order=2)


def test_vectorize_errors():
    mv = jnp.vectorize(lambda m, v: m @ v, signature="(n,m),(m)->(n)")
    with pytest.raises(ValueError, match="not have enough dimensions"):
        mv(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="inconsistent size"):
        mv(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        jnp.vectorize(lambda a: a, signature="(n->()")(np.ones(3))
    with pytest.raises(ValueError, match="does not match core dimensions"):
        jnp.vectorize(lambda a: a, signature="(n)->()")(np.ones(3))
    with pytest.raises(TypeError, match="exclude integer or string"):
        jnp.vectorize(lambda a: a, excluded={1.5})
    with pytest.raises(ValueError, match="negative"):
        jnp.vectorize(lambda a: a, excluded={-1})


def test_vectorize_vs_jax():
    jax = jax_or_skip()
    a, b = RNG.standard_normal((1, 2, 3)), RNG.standard_normal((4, 1, 3))
    f = lambda M: M.vectorize(lambda x, y: (x @ y, x * 2), signature="(k),(k)->(),(k)")
    assert_same(f(jnp)(a, b), f(jax.numpy)(a, b))


# ------------------------------------------------------------------------------ piecewise


def test_piecewise_matches_numpy():
    x = np.linspace(-3, 3, 13)
    funcs = [lambda v: -v, lambda v: v * 10, 7.0]
    assert_same(jnp.piecewise(x, [x < 0, x > 1], funcs), np.piecewise(x, [x < 0, x > 1], funcs))
    # no "otherwise": zero there; the last true condition wins
    f2 = [lambda v: -v, lambda v: v * 10]
    assert_same(jnp.piecewise(x, [x < 0, x < -1], f2), np.piecewise(x, [x < 0, x < -1], f2))
    xi = np.arange(5)
    assert_same(jnp.piecewise(xi, [xi < 2], [lambda v: v / 2, 3]), np.array([0, 0, 3, 3, 3]))
    assert_same(
        jnp.piecewise(x, [x > 0], [lambda v, k: v * k, 1.0], 4.0), np.where(x > 0, 4 * x, 1.0)
    )
    with pytest.raises(ValueError, match="functions are expected"):
        jnp.piecewise(x, [x > 0], [1.0, 2.0, 3.0])


def test_piecewise_jit_vmap_grad():
    f = lambda x: jnp.piecewise(x, [x < 0, x > 1], [lambda v: v * v, lambda v: jnp.sin(v), 0.5])
    x = np.array([-2.0, -0.5, 0.3, 0.9, 1.5, 2.5])
    want = np.where(x > 1, np.sin(x), np.where(x < 0, x * x, 0.5))
    assert_same(f(x), want)
    assert_same(jaxlite.jit(f)(x), want)
    assert_same(jaxlite.vmap(f)(x[:, None])[:, 0], want)
    g = jaxlite.grad(lambda x: f(x).sum())(x)
    assert_same(g, np.where(x > 1, np.cos(x), np.where(x < 0, 2 * x, 0.0)))
    check_grads(f, (x,), order=2)


# ------------------------------------------------------------------------------ histograms

DATA = np.array([1, 2, 3, 10, 11, 15, 19, 25, np.nan, -1.0])


@pytest.mark.parametrize(
    "kw",
    [{}, {"bins": 8}, {"range": (0, 25), "bins": 5}, {"bins": np.array([0, 10, 20, 30])},
     {"density": True}, {"weights": np.arange(10.0)}, {"bins": 3, "range": (2.0, 2.0)}],
)  # fmt: skip
def test_histogram_matches_numpy(kw):
    a = DATA[:8]  # (NumPy refuses NaN when it computes the range)
    if "weights" in kw:
        kw = {**kw, "weights": kw["weights"][:8]}
    counts, edges = jnp.histogram(a, **kw)
    want_c, want_e = np.histogram(a, **kw)
    np.testing.assert_allclose(edges, want_e, atol=1e-13)  # (float, as JAX: NumPy keeps int bins)
    assert edges.dtype == np.float64
    np.testing.assert_allclose(counts, want_c, rtol=1e-12)
    assert counts.dtype == np.float64


def test_histogram_vs_jax_nan_and_out_of_range():
    jax = jax_or_skip()
    # (NaN data: NaN edges for a default range; with a range, NaN and outliers are not counted.
    # An edge that linspace rounds differently can move a value on it: (2, 12) puts 10 on the
    # edge JAX computes as 10 + 2 ulp, so ranges here have exact edges in both.)
    for kw in [{"bins": 4}, {"range": (0, 25), "bins": 5}, {"weights": np.arange(10.0), "bins": 3},
               {"range": (2, 12), "bins": 4, "weights": np.arange(10.0)}]:  # fmt: skip
        assert_same(jnp.histogram(DATA, **kw), jax.numpy.histogram(DATA, **kw), atol=1e-13)
    ai = np.array([1, 2, 2, 5], np.int32)
    assert_same(jnp.histogram(ai, bins=4), jax.numpy.histogram(ai, bins=4))
    assert_same(jnp.histogram_bin_edges(ai, bins=3), jax.numpy.histogram_bin_edges(ai, bins=3))


def test_histogramdd_and_2d_vs_numpy():
    s = RNG.standard_normal((50, 3))
    for kw in [{}, {"bins": [2, 3, 4]}, {"range": [(-1, 1), None, (0, 2)], "bins": 4},
               {"density": True, "bins": 3}, {"weights": np.arange(50.0), "bins": 3}]:  # fmt: skip
        h, e = jnp.histogramdd(s, **kw)
        wh, we = np.histogramdd(s, **kw)
        np.testing.assert_allclose(h, wh, rtol=1e-12)
        for a, b in zip(e, we):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    x, y = s[:, 0], s[:, 1]
    for kw in [{}, {"bins": [3, 5]}, {"bins": np.linspace(-2, 2, 5)}, {"density": True}]:
        got, want = jnp.histogram2d(x, y, **kw), np.histogram2d(x, y, **kw)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_histograms_jit_vmap_and_errors():
    a = RNG.standard_normal((3, 20))
    f = lambda v: jnp.histogram(v, bins=4, range=(-2, 2))[0]
    want = np.stack([np.histogram(r, bins=4, range=(-2, 2))[0] for r in a])
    np.testing.assert_allclose(jaxlite.vmap(f)(a), want)
    np.testing.assert_allclose(jaxlite.jit(f)(a[0]), want[0])
    c, e = jaxlite.jit(lambda v: jnp.histogram(v, bins=5))(a[0])  # traced data range
    np.testing.assert_allclose(e, np.histogram(a[0], bins=5)[1], rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="same shape"):
        jnp.histogram(a[0], weights=np.ones(3))
    with pytest.raises(ValueError, match="range"):
        jnp.histogram(a[0], range=(0, 1, 2))
    with pytest.raises(NotImplementedError):
        jnp.histogram(a[0], bins="auto")
    with pytest.raises(ValueError, match="bin for each dimension"):
        jnp.histogramdd(np.ones((4, 2)), bins=[2, 2, 2])


# ------------------------------------------------------------------------------ polyfit

PX = np.linspace(-1, 2, 9)
PY = 1 + 2 * PX - PX**2 + 0.1 * RNG.standard_normal(9)


@pytest.mark.parametrize(
    "kw", [{}, {"w": np.arange(1.0, 10.0)}, {"rcond": 1e-3}, {"cov": True}, {"cov": "unscaled"}]
)
@pytest.mark.parametrize("two_d", [False, True])
def test_polyfit_matches_numpy(kw, two_d):
    y = np.stack([PY, 2 * PY - 1], 1) if two_d else PY
    got, want = jnp.polyfit(PX, y, 2, **kw), np.polyfit(PX, y, 2, **kw)
    if kw.get("cov"):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-10)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-8, atol=1e-12)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_polyfit_full_vs_jax_and_float32():
    jax = jax_or_skip()
    assert_same(
        jnp.polyfit(PX, PY, 3, full=True), jax.numpy.polyfit(PX, PY, 3, full=True), 1e-9, 1e-12
    )
    x32, y32 = PX.astype(np.float32), PY.astype(np.float32)
    got = jnp.polyfit(x32, y32, 2)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, jax.numpy.polyfit(x32, y32, 2), rtol=1e-5)


def test_polyfit_jit_grad_and_errors():
    f = jaxlite.jit(lambda y: jnp.polyfit(PX, y, 2))
    np.testing.assert_allclose(f(PY), np.polyfit(PX, PY, 2), rtol=1e-10)
    # the fit is linear in y: its gradient is a row sum of the pseudo-inverse
    g = jaxlite.grad(lambda y: jnp.polyfit(PX, y, 2).sum())(PY)
    np.testing.assert_allclose(g, np.linalg.pinv(np.vander(PX, 3)).sum(0), rtol=1e-8)
    with pytest.raises(ValueError, match="deg >= 0"):
        jnp.polyfit(PX, PY, -1)
    with pytest.raises(TypeError, match="same length"):
        jnp.polyfit(PX, PY[:3], 1)
    with pytest.raises(ValueError, match="exceed order"):
        jnp.polyfit(PX[:3], PY[:3], 2, cov=True)


# ------------------------------------------------------------------------------ interp

X = np.array([-2.0, -1, 0, 0.5, 1, 1.5, 2, 2.5, 3, 4, 7, np.nan, np.inf, -np.inf])
XP = np.array([0.0, 1, 1, 2, 3])  # a repeated point
FP = np.array([1.0, 2, 4, 3, 0])


@pytest.mark.parametrize(
    "kw",
    [{}, {"left": -5.0, "right": 9.0}, {"left": "extrapolate", "right": "extrapolate"},
     {"period": 2.5}, {"period": -2.5}],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_interp_vs_jax(kw, dtype):
    jax = jax_or_skip()
    x, xp, fp = (v.astype(dtype) for v in (X, XP, FP))
    assert_same(jnp.interp(x, xp, fp, **kw), jax.numpy.interp(x, xp, fp, **kw), 1e-6, 1e-6)


def test_interp_edge_cases():
    # left or right alone (JAX 0.10.2 mixes them up when only one is given: NumPy's answer)
    for kw in [{"left": -5.0}, {"right": 9.0}]:
        np.testing.assert_allclose(jnp.interp(X, XP, FP, **kw), np.interp(X, XP, FP, **kw))
    # extrapolation continues the end segments; an unsorted xp is fine with a period
    e = jnp.interp(np.array([-1.0, 4.0]), XP, FP, left="extrapolate", right="extrapolate")
    np.testing.assert_allclose(e, [0.0, -3.0])
    xp, fp = np.array([3.0, 0.0, 1.5]), np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(
        jnp.interp(X[:11], xp, fp, period=4), np.interp(X[:11], xp, fp, period=4), rtol=1e-12
    )
    i32 = np.arange(3, dtype=np.int32)
    assert jnp.interp(i32, i32, i32).dtype == np.float32  # (JAX: int32 -> float32)
    np.testing.assert_array_equal(
        jnp.interp(X, XP[:1], FP[:1]), np.ones(len(X))
    )  # (NaN too, as JAX)
    with pytest.raises(ValueError, match="extrapolate"):
        jnp.interp(X, XP, FP, left="linear")
    with pytest.raises(ValueError, match="period must be a scalar"):
        jnp.interp(X, XP, FP, period=np.ones(2))


def test_interp_grads_no_nan_at_repeated_points():
    x = np.array([-0.5, 0.25, 0.5, 1.5, 2.75, 3.5])
    for argnum in range(3):
        g = jaxlite.grad(lambda *a: jnp.interp(*a).sum(), argnums=argnum)(x, XP, FP)
        assert np.isfinite(g).all()
    check_grads(lambda x, fp: jnp.interp(x, XP, fp), (x, FP), order=2)
    f = lambda x: jnp.interp(x, XP, FP, period=3.0)
    np.testing.assert_allclose(jaxlite.jit(f)(x), f(x), rtol=1e-14)


# ------------------------------------------------------------------------------ einsum_path


def test_einsum_path_vs_jax():
    jax = jax_or_skip()
    x, y, z = np.ones((2, 3)), np.ones((3, 100)), np.ones((100, 5))
    for opt in ["auto", "greedy", "optimal", True, False, [(1, 2), (0, 1)]]:
        got, want = (
            jnp.einsum_path("ij,jk,kl", x, y, z, optimize=opt),
            jax.numpy.einsum_path("ij,jk,kl", x, y, z, optimize=opt),
        )
        assert got[0] == want[0]
        assert str(got[1]) == str(want[1])


def test_einsum_path_without_opt_einsum(monkeypatch):
    def missing(name):
        raise ImportError(name)

    monkeypatch.setattr(dot_module, "importlib", types.SimpleNamespace(import_module=missing))
    x, y, z = np.ones((2, 3)), np.ones((3, 100)), np.ones((100, 5))
    for opt in ["auto", "greedy", "optimal", True]:
        path, info = jnp.einsum_path("ij,jk,kl", x, y, z, optimize=opt)
        assert path == [(1, 2), (0, 1)] and "Complete contraction" in info
    assert jnp.einsum_path("ij,jk,kl", x, y, z, optimize=False)[0] == [(0, 1), (0, 1)]
    # tracers have shapes: usable under jit
    paths = []
    jaxlite.jit(lambda a, b: paths.append(jnp.einsum_path("ij,jk", a, b)[0]) or a)(x, y)
    assert paths == [[(0, 1)]]
