"""A max (min) pool's derivatives: the primitives select_and_gather_add (the JVP) and
select_and_scatter_add (the gradient) against JAX's, bit for bit, at ties, -inf windows and NaNs,
eager and under jit (each C path: one scalar loop nest per output; the channels innermost with
overlapping windows; the channels innermost with disjoint windows, covered or not), 1-D to 4-D,
strides, padding, base dilation; window dilation through the composite; transposes of each other;
vmap against a loop; grads by finite differences; float32 with x64 off; bad input.

NB: the gradients equal JAX's everywhere. The JVP at ties takes the first extremum in row-major
window order (XLA's select semantics, and JAX's on CPU without padding); on padded windows XLA's
CPU emitter visits the window in another order (a padded last dimension of the window outermost,
in blocks), so there JAX's JVP at ties is compared on inputs without ties.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
from jaxlite import lax
from jaxlite.primitives import _pooling
from jaxlite.test_util import check_grads

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
from jax._src.lax import windowed_reductions as jwr  # noqa: E402

# name -> (shape, window, strides, padding, base_dilation)
CASES = {
    "1d_same": ((9,), (3,), (1,), "SAME", None),
    "1d_base_dilation": ((6,), (2,), (1,), "VALID", (2,)),
    "1d_dilated_strided": ((7,), (2,), (2,), "SAME", (3,)),
    "2d_overlap": ((6, 7), (3, 3), (2, 2), "SAME", None),
    "2d_explicit": ((5, 6), (2, 3), (1, 2), ((1, 0), (0, 2)), None),
    "2d_base_dilation": ((4, 5), (2, 2), (1, 1), "SAME", (2, 1)),
    "3d": ((4, 5, 3), (2, 2, 2), (1, 2, 1), "VALID", None),
    "nhwc_tiled": ((2, 6, 4, 5), (1, 2, 2, 1), (1, 2, 2, 1), "VALID", None),
    "nhwc_overlap": ((2, 7, 5, 3), (1, 3, 3, 1), (1, 2, 2, 1), "SAME", None),
    "nhwc_gaps": ((2, 7, 8, 3), (1, 2, 2, 1), (1, 3, 3, 1), "VALID", None),
    "nhwc_padded": ((2, 5, 5, 4), (1, 2, 2, 1), (1, 2, 2, 1), ((0, 0), (1, 0), (0, 1), (0, 0)),
                    None),
}  # fmt: skip


def _pool(L, kind, case):
    shape, window, strides, padding, bd = CASES[case]
    init, op = (-np.inf, L.lax.max) if kind == "max" else (np.inf, L.lax.min)

    def f(x):
        return L.lax.reduce_window(x, init, op, window, strides, padding, base_dilation=bd)

    return f


def _padded(case) -> bool:
    shape, window, strides, padding, bd = CASES[case]
    if isinstance(padding, str):
        padding = lax.padtype_to_pads(shape, window, strides, padding) if bd is None else [(1, 0)]
    return any(p != (0, 0) for p in map(tuple, padding))


def _input(shape, seed, specials=True, ties=True):
    """Small integers (many ties), and some -inf/+inf and NaNs."""
    rng = np.random.default_rng(seed)
    if not ties:
        return rng.permutation(np.prod(shape)).reshape(shape) * 0.25 - 3.0
    x = rng.integers(-2, 3, shape).astype(np.float64)
    if specials:
        flat = x.reshape(-1)
        k = rng.choice(flat.size, size=max(2, flat.size // 6), replace=False)
        flat[k[: len(k) // 3]] = np.nan
        flat[k[len(k) // 3 : 2 * len(k) // 3]] = -np.inf
        flat[k[2 * len(k) // 3 :]] = np.inf
    return x


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_array_equal(a, b)


def _jvp_and_grad(L, f, x, t, w):
    _, dy = L.jvp(f, (x,), (t,))
    g = L.grad(lambda x: (f(x) * w).sum())(x)
    return dy, g


_JITTED = {}


def _jitted(kind, case):
    # one compilation per case and kind, shared by the tests below
    if (kind, case) not in _JITTED:
        f = _pool(jaxlite, kind, case)
        _JITTED[kind, case] = jaxlite.jit(lambda x, t, w: _jvp_and_grad(jaxlite, f, x, t, w))
    return _JITTED[kind, case]


@pytest.mark.parametrize("kind", ["max", "min"])
@pytest.mark.parametrize("case", CASES)
def test_jvp_and_grad_match_jax_at_ties_infs_and_nans(case, kind):
    shape = CASES[case][0]
    x = _input(shape, 0)
    f, fj = _pool(jaxlite, kind, case), _pool(jax, kind, case)
    t = np.random.default_rng(1).standard_normal(shape)
    w = np.random.default_rng(2).standard_normal(np.shape(fj(x)))
    want = _jvp_and_grad(jax, fj, x, t, w)
    for got in (_jvp_and_grad(jaxlite, f, x, t, w), _jitted(kind, case)(x, t, w)):
        _same(got[1], want[1])
        if not _padded(case):
            _same(got[0], want[0])
    if _padded(case):  # (see the module's docstring)
        x = _input(shape, 0, ties=False)
        want = _jvp_and_grad(jax, fj, x, t, w)
        _same(_jitted(kind, case)(x, t, w)[0], want[0])


def test_grad_uses_the_primitives_as_jax():
    f = _pool(jaxlite, "max", "2d_overlap")
    text = str(jaxlite.make_jaxpr(jaxlite.grad(lambda x: f(x).sum()))(np.ones((6, 7))))
    assert "select_and_scatter_add" in text and "select_prim=ge" in text
    text = str(jaxlite.make_jaxpr(lambda x, t: jaxlite.jvp(f, (x,), (t,)))(np.ones((6, 7)),
                                                                          np.ones((6, 7))))  # fmt: skip
    assert "select_and_gather_add" in text


PRIM_CASES = ["1d_same", "2d_explicit", "nhwc_overlap", "nhwc_tiled", "nhwc_gaps"]


def _params(case):
    shape, window, strides, padding, bd = CASES[case]
    if isinstance(padding, str):
        padding = tuple(lax.padtype_to_pads(shape, window, strides, padding))
    return window, strides, tuple(padding)


@pytest.mark.parametrize("case", PRIM_CASES)
@pytest.mark.parametrize("sel", ["ge", "le"])
def test_primitives_match_jax_eager_and_jit(case, sel):
    shape = CASES[case][0]
    window, strides, padding = _params(case)
    ones = (1,) * len(shape)
    x = _input(shape, 3)
    xg = x if not _padded(case) else _input(shape, 3, ties=False)  # (see the module's docstring)
    t = np.random.default_rng(4).standard_normal(shape)
    ours, theirs = (lax.ge_p, jax.lax.ge_p) if sel == "ge" else (lax.le_p, jax.lax.le_p)
    out_shape = lax.reduce_window_shape_tuple(shape, window, strides, padding)
    s = np.random.default_rng(5).standard_normal(out_shape)

    def both(L, prims, t, xg, x, s):
        gather = _pooling.select_and_gather_add if L is jaxlite else jwr._select_and_gather_add
        scatter = (_pooling.select_and_scatter_add if L is jaxlite
                   else jwr._select_and_scatter_add)  # fmt: skip
        return (gather(t, xg, prims, window, strides, padding, ones, ones),
                scatter(s, x, prims, window, strides, padding))  # fmt: skip

    want = jax.jit(lambda *a: both(jax, theirs, *a))(t, xg, x, s)
    got_eager = both(jaxlite, ours, t, xg, x, s)
    got_jit = jaxlite.jit(lambda *a: both(jaxlite, ours, *a))(t, xg, x, s)
    for got in (got_eager, got_jit):
        _same(got[0], want[0])
        _same(got[1], want[1])


@pytest.mark.parametrize("case", ["1d_dilated_strided", "2d_base_dilation", "nhwc_overlap"])
def test_transposes_of_each_other(case):
    # Without -inf windows or NaNs, gather and scatter select the same elements: exact transposes.
    shape, window, strides, padding, bd = CASES[case]
    bd = bd or (1,) * len(shape)
    if isinstance(padding, str):
        dil = [(d - 1) * b + 1 for d, b in zip(shape, bd)]
        padding = tuple(lax.padtype_to_pads(dil, window, strides, padding))
    x = _input(shape, 6, specials=False)
    ones = (1,) * len(shape)

    def gather(t):
        return _pooling.select_and_gather_add(t, x, lax.ge_p, window, strides, padding, bd, ones)

    t = np.random.default_rng(7).standard_normal(shape)
    c = np.random.default_rng(8).standard_normal(np.shape(gather(t)))
    (ct,) = jaxlite.linear_transpose(gather, t)(c)
    np.testing.assert_allclose(np.vdot(gather(t), c), np.vdot(t, ct), rtol=1e-12)
    if bd == ones:
        scatter = _pooling.select_and_scatter_add(c, x, lax.ge_p, window, strides, padding)
        _same(ct, scatter)
        (back,) = jaxlite.linear_transpose(
            lambda c: _pooling.select_and_scatter_add(c, x, lax.ge_p, window, strides, padding),
            c)(ct)  # fmt: skip
        np.testing.assert_allclose(np.vdot(back, c), np.vdot(ct, ct), rtol=1e-12)


@pytest.mark.parametrize("case", ["2d_overlap", "nhwc_tiled"])
def test_vmap_matches_loop(case):
    shape = CASES[case][0]
    window, strides, padding = _params(case)
    ones = (1,) * len(shape)
    X = np.stack([_input(shape, 10 + i) for i in range(3)])
    T = np.random.default_rng(11).standard_normal((3, *shape))
    out_shape = lax.reduce_window_shape_tuple(shape, window, strides, padding)
    S = np.random.default_rng(12).standard_normal((3, *out_shape))

    def gather(t, x):
        return _pooling.select_and_gather_add(t, x, lax.ge_p, window, strides, padding, ones, ones)

    def scatter(s, x):
        return _pooling.select_and_scatter_add(s, x, lax.ge_p, window, strides, padding)

    for fn, A in ((gather, T), (scatter, S)):
        loop = np.stack([fn(A[i], X[i]) for i in range(3)])
        _same(jaxlite.vmap(fn)(A, X), loop)
        _same(jaxlite.vmap(fn, (0, None))(A, X[0]), np.stack([fn(a, X[0]) for a in A]))
        _same(jaxlite.vmap(fn, (None, 0))(A[0], X), np.stack([fn(A[0], x) for x in X]))
        moved = np.moveaxis(A, 0, 1)
        _same(jaxlite.jit(jaxlite.vmap(fn, (1, 0)))(moved, X), loop)


@pytest.mark.parametrize("case", ["2d_overlap", "1d_base_dilation", "nhwc_overlap"])
def test_grads_by_finite_differences(case):
    shape = CASES[case][0]
    x = np.random.default_rng(13).permutation(np.prod(shape)).reshape(shape) * 0.1  # no ties
    check_grads(_pool(jaxlite, "max", case), (x,), order=2, modes=("fwd", "rev"))


def test_window_dilation_differentiates_through_the_composite():
    # JAX cannot transpose a window-dilated select_and_gather_add; jaxlite's JVP of such a pool
    # is its composite, whose gradient comes by transposition.
    x = np.random.default_rng(14).permutation(30).reshape(5, 6) * 0.1
    kw = dict(window_dimensions=(2, 2), window_strides=(1, 1), padding="SAME",
              window_dilation=(2, 1))  # fmt: skip
    f = lambda L: lambda x: L.lax.reduce_window(x, -np.inf, L.lax.max, **kw)  # noqa: E731
    t = np.random.default_rng(15).standard_normal(x.shape)
    _same(jaxlite.jvp(f(jaxlite), (x,), (t,))[1], jax.jvp(f(jax), (x,), (t,))[1])
    check_grads(f(jaxlite), (x,), order=2, modes=("fwd", "rev"))


def test_float32_x64_off_matches_jax():
    x = _input((2, 6, 4, 5), 16).astype(np.float32)
    w = np.random.default_rng(17).standard_normal((2, 3, 2, 5)).astype(np.float32)
    jax.config.update("jax_enable_x64", False)
    try:
        with jaxlite.enable_x64(False):
            t = x * 0.5
            f, fj = _pool(jaxlite, "max", "nhwc_tiled"), _pool(jax, "max", "nhwc_tiled")
            want = _jvp_and_grad(jax, fj, x, t, w)
            got = jaxlite.jit(lambda x, t, w: _jvp_and_grad(jaxlite, f, x, t, w))(x, t, w)
            _same(got[0], want[0])
            _same(got[1], want[1])
            assert np.asarray(got[1]).dtype == np.float32
    finally:
        jax.config.update("jax_enable_x64", True)


@pytest.mark.parametrize("dtype", [np.int32, np.float16])
def test_other_dtypes_jit_matches_eager(dtype):
    shape, window, strides, padding = (2, 5, 4, 3), (1, 3, 2, 1), (1, 2, 1, 1), "SAME"
    padding = tuple(lax.padtype_to_pads(shape, window, strides, padding))
    x = _input(shape, 18, specials=False).astype(dtype)
    out_shape = lax.reduce_window_shape_tuple(shape, window, strides, padding)
    s = np.random.default_rng(19).integers(-3, 4, out_shape).astype(dtype)
    ones = (1,) * 4

    def both(s, x):
        return (_pooling.select_and_gather_add(x, x, lax.ge_p, window, strides, padding, ones,
                                               ones),
                _pooling.select_and_scatter_add(s, x, lax.le_p, window, strides, padding))  # fmt: skip

    for a, b in zip(jaxlite.jit(both)(s, x), both(s, x)):
        _same(a, b)


def test_bad_input():
    x = np.zeros((4, 4))
    with pytest.raises(TypeError, match="select_and_gather_add.*same shape"):
        _pooling.select_and_gather_add(np.zeros((4, 3)), x, lax.ge_p, (2, 2), (1, 1),
                                       ((0, 0), (0, 0)), (1, 1), (1, 1))  # fmt: skip
    with pytest.raises(TypeError, match=r"select_and_scatter_add.*\(2, 2\)"):
        _pooling.select_and_scatter_add(np.zeros((3, 3)), x, lax.ge_p, (2, 2), (2, 2),
                                        ((0, 0), (0, 0)))  # fmt: skip
    with pytest.raises(TypeError, match="select_prim"):
        _pooling.select_and_scatter_add(np.zeros((2, 2)), x, lax.gt_p, (2, 2), (2, 2),
                                        ((0, 0), (0, 0)))  # fmt: skip
    with pytest.raises(TypeError, match="one entry per dimension"):
        _pooling.select_and_scatter_add(np.zeros((2,)), x, lax.ge_p, (2,), (2,), ((0, 0),))
    with pytest.raises(NotImplementedError, match="window dilation"):
        jaxlite.linear_transpose(
            lambda t: _pooling.select_and_gather_add(t, x, lax.ge_p, (2, 2), (1, 1),
                                                     ((0, 0), (0, 0)), (1, 1), (2, 1)), x)(
            np.zeros((2, 3)))  # fmt: skip


def test_relu_fuses_into_pools_and_their_gradients():
    # relu(x + b) is computed where the disjoint windows read it: no buffer of its own.
    rng = np.random.default_rng(20)
    x = rng.integers(-2, 3, (2, 4, 6, 3)).astype(np.float64)
    b = rng.integers(-1, 2, (3,)).astype(np.float64)
    w = rng.standard_normal((2, 2, 3, 3))
    W = (1, 2, 2, 1)

    def loss(L, x, b):
        h = L.nn.relu(x + b)
        mx = L.lax.reduce_window(h, -np.inf, L.lax.max, W, W, "VALID")
        avg = L.lax.reduce_window(h, 0.0, L.lax.add, W, W, "VALID") * 0.25
        return ((mx + avg) * w).sum()

    def f(x, b):
        return loss(jaxlite, x, b)

    g = jaxlite.jit(jaxlite.value_and_grad(f, (0, 1)))
    c = g.lower(x, b).as_c()
    assert "tmp_rw" not in c and "tmp_sel" not in c
    v, (gx, gb) = g(x, b)
    with jaxlite.disable_jit():
        v0, (gx0, gb0) = jaxlite.value_and_grad(f, (0, 1))(x, b)
    vj, (gxj, gbj) = jax.value_and_grad(lambda x, b: loss(jax, x, b), (0, 1))(x, b)
    np.testing.assert_allclose(v, v0, rtol=1e-14)
    _same(gx, gx0)
    np.testing.assert_allclose(gb, gb0, rtol=1e-14)
    np.testing.assert_allclose(v, vj, rtol=1e-14)
    _same(gx, gxj)
    np.testing.assert_allclose(gb, gbj, rtol=1e-14)
