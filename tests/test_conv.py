"""Convolutions and windowed reductions against JAX: conv_general_dilated (padding modes,
strides, both dilations, feature and batch groups, layouts, 1-D/2-D/3-D), forward and both
gradients, under jit and vmap; reduce_window_sum/max/min; lax's wrappers and shape helpers;
jnp.convolve/correlate; bad input. Small shapes and one jit compilation per case.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.test_util import check_grads

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jlax = jax.lax

NHWC = ("NHWC", "HWIO", "NHWC")

# (lhs shape, rhs shape, parameters)
CONVS = {
    "same": ((2, 3, 6, 5), (4, 3, 3, 2), dict(window_strides=(1, 1), padding="SAME")),
    "valid_strided": ((2, 3, 7, 6), (4, 3, 3, 3), dict(window_strides=(2, 3), padding="VALID")),
    "same_lower": ((1, 2, 5, 6), (3, 2, 2, 3), dict(window_strides=(2, 1), padding="SAME_LOWER")),
    "dilations": ((2, 3, 7, 6), (4, 3, 3, 2), dict(
        window_strides=(2, 1), padding=((1, 2), (0, 1)), lhs_dilation=(2, 1),
        rhs_dilation=(1, 2))),
    "negative_pad_1d": ((2, 3, 9), (4, 3, 3), dict(
        window_strides=(3,), padding=((2, -1),), rhs_dilation=(2,))),
    "nhwc_feature_groups": ((2, 5, 6, 4), (3, 2, 2, 6), dict(
        window_strides=(2, 2), padding="VALID", dimension_numbers=NHWC, feature_group_count=2)),
    "nhwc_batch_groups": ((4, 5, 6, 4), (3, 2, 4, 6), dict(
        window_strides=(1, 2), padding="SAME", dimension_numbers=NHWC, batch_group_count=2)),
    "depthwise": ((2, 5, 5, 4), (3, 3, 1, 8), dict(
        window_strides=(1, 1), padding="SAME", dimension_numbers=NHWC, feature_group_count=4)),
    "3d_mixed_layout": ((1, 2, 4, 5, 3), (2, 2, 2, 3, 2), dict(
        window_strides=(1, 2, 1), padding="SAME",
        dimension_numbers=("NCHWD", "OIHWD", "NDHWC"))),
    "gemm_nchw_groups": ((2, 6, 6, 5), (6, 3, 3, 3), dict(
        window_strides=(1, 1), padding=((1, 1), (2, 0)), feature_group_count=2)),
}  # fmt: skip


def _args(name, dtype=np.float64, seed=0):
    ls, rs, kw = CONVS[name]
    rng = np.random.default_rng(seed)
    return rng.standard_normal(ls).astype(dtype), rng.standard_normal(rs).astype(dtype), kw


def _close(a, b, rtol=1e-9, atol=1e-9):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", CONVS)
def test_conv_forward_and_vjp_match_jax(name):
    x, w, kw = _args(name)
    y, vjp = jaxlite.vjp(lambda x, w: lax.conv_general_dilated(x, w, **kw), x, w)
    yj, vjpj = jax.vjp(lambda x, w: jlax.conv_general_dilated(x, w, **kw), x, w)
    _close(y, yj)
    ct = np.random.default_rng(1).standard_normal(y.shape)
    for a, b in zip(vjp(ct), vjpj(ct)):
        _close(a, b)


@pytest.mark.parametrize("name", CONVS)
def test_conv_jit_value_and_grads_match_eager(name):
    x, w, kw = _args(name)

    def f(x, w):
        y = lax.conv_general_dilated(x, w, **kw)
        return (jnp.sin(y) * y).sum()

    vg = jaxlite.value_and_grad(f, (0, 1))
    (v, g), (vj, gj) = vg(x, w), jaxlite.jit(vg)(x, w)
    _close(vj, v)
    for a, b in zip(gj, g):
        _close(a, b)


@pytest.mark.parametrize("name", ["same", "nhwc_feature_groups", "gemm_nchw_groups", "depthwise"])
def test_conv_float32_and_int32_under_jit(name):
    x, w, kw = _args(name, np.float32)
    f = jaxlite.jit(lambda x, w: lax.conv_general_dilated(x, w, **kw))
    _close(f(x, w), jlax.conv_general_dilated(x, w, **kw), rtol=1e-5, atol=1e-5)
    xi, wi = (np.round(a * 3).astype(np.int32) for a in (x, w))
    _close(f(xi, wi), jlax.conv_general_dilated(xi, wi, **kw))
    # preferred_element_type accumulates in the wider type (the direct loop)
    g = jaxlite.jit(
        lambda x, w: lax.conv_general_dilated(x, w, **kw, preferred_element_type=np.int64)
    )
    _close(g(xi, wi), jlax.conv_general_dilated(xi, wi, **kw, preferred_element_type=np.int64))


@pytest.mark.parametrize("name", ["same", "dilations", "nhwc_feature_groups", "nhwc_batch_groups",
                                  "3d_mixed_layout"])  # fmt: skip
def test_conv_vmap_matches_jax(name):
    x, w, kw = _args(name)
    rng = np.random.default_rng(2)
    X, W = rng.standard_normal((2, *x.shape)), rng.standard_normal((2, *w.shape))
    f = lambda x, w: lax.conv_general_dilated(x, w, **kw)  # noqa: E731
    fj = lambda x, w: jlax.conv_general_dilated(x, w, **kw)  # noqa: E731
    Xm, Wm = np.moveaxis(X, 0, 2), np.moveaxis(W, 0, 1)
    for axes, args in [((0, None), (X, w)), ((None, 0), (x, W)), ((0, 0), (X, W)),
                       ((2, 1), (Xm, Wm)), ((2, None), (Xm, w)), ((None, 1), (x, Wm))]:  # fmt: skip
        _close(jaxlite.vmap(f, axes)(*args), jax.vmap(fj, axes)(*args))


def test_conv_vmap_of_grad_under_jit():
    x, w, kw = _args("nhwc_feature_groups")
    X = np.random.default_rng(3).standard_normal((3, *x.shape))

    def loss(w, x):
        return (lax.conv_general_dilated(x, w, **kw) ** 2).sum()

    g = jaxlite.jit(jaxlite.vmap(jaxlite.grad(loss), (None, 0)))(w, X)
    gj = jax.vmap(jax.grad(lambda w, x: (jlax.conv_general_dilated(x, w, **kw) ** 2).sum()),
                  (None, 0))(w, X)  # fmt: skip
    _close(g, gj)


@pytest.mark.parametrize("name", ["dilations", "nhwc_batch_groups", "negative_pad_1d"])
def test_conv_check_grads_order_2(name):
    ls, rs, kw = CONVS[name]
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(ls), rng.standard_normal(rs)
    check_grads(lambda x, w: lax.conv_general_dilated(x, w, **kw), (x, w), order=2)


# --- windowed reductions --------------------------------------------------------------------

WINDOWS = {
    "pool": dict(window_dimensions=(1, 1, 2, 2), window_strides=(1, 1, 2, 2), padding="VALID"),
    "same_overlap": dict(window_dimensions=(1, 3, 3, 1), window_strides=(1, 2, 1, 1),
                         padding="SAME"),
    "dilated": dict(window_dimensions=(1, 1, 3, 2), window_strides=(1, 1, 2, 1),
                    padding=((0, 0), (0, 0), (1, 2), (1, 0)), base_dilation=(1, 1, 2, 1)),
}  # fmt: skip
MONOIDS = {"sum": (0.0, "add"), "max": (-np.inf, "max"), "min": (np.inf, "min")}


@pytest.mark.parametrize("monoid", MONOIDS)
@pytest.mark.parametrize("win", WINDOWS)
def test_reduce_window_matches_jax(win, monoid):
    init, op = MONOIDS[monoid]
    kw = WINDOWS[win]
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 6))
    f = lambda x: lax.reduce_window(x, init, getattr(lax, op), **kw)  # noqa: E731
    fj = lambda x: jlax.reduce_window(x, init, getattr(jlax, op), **kw)  # noqa: E731
    y, vjp = jaxlite.vjp(f, x)
    yj, vjpj = jax.vjp(fj, x)
    _close(y, yj)
    ct = np.random.default_rng(6).standard_normal(y.shape)
    _close(vjp(ct)[0], vjpj(ct)[0])
    t = np.random.default_rng(7).standard_normal(x.shape)
    _close(jaxlite.jvp(f, (x,), (t,))[1], jax.jvp(fj, (x,), (t,))[1])
    X = np.random.default_rng(8).standard_normal((2, 3, 2, 7, 6))
    _close(jaxlite.vmap(f, 2)(X), jax.vmap(fj, 2)(X))
    # under jit: the value and the gradient, one compilation
    vg = jaxlite.value_and_grad(lambda x: (f(x) * f(x)).sum())
    (v, g), (v2, g2) = vg(x), jaxlite.jit(vg)(x)
    _close(v2, v)
    _close(g2, g)


def test_max_pool_with_window_dilation_grad_by_finite_differences():
    # (JAX has no VJP for a max pool with window dilation; ours comes from its tangent's rule.)
    x = np.random.default_rng(9).permutation(48).reshape(1, 6, 8).astype(np.float64)
    kw = dict(window_dimensions=(1, 2, 3), window_strides=(1, 1, 2), padding="SAME",
              window_dilation=(1, 2, 2))  # fmt: skip
    check_grads(lambda x: lax.reduce_window(x, -np.inf, lax.max, **kw), (x,), order=2)


def test_reduce_window_integers_and_float32_under_jit():
    xi = np.random.default_rng(10).integers(-50, 50, (2, 7, 6)).astype(np.int32)
    kw = dict(window_dimensions=(1, 3, 2), window_strides=(1, 2, 1), padding="SAME")
    for op, init in (
        (lax.max, np.iinfo(np.int32).min),
        (lax.add, 0),
        (lax.min, np.iinfo(np.int32).max),
    ):
        jop = getattr(jlax, op.__name__)
        out = jaxlite.jit(lambda x, op=op, init=init: lax.reduce_window(x, init, op, **kw))(xi)
        _close(out, jlax.reduce_window(xi, np.int32(init), jop, **kw))
    xf = xi.astype(np.float32)
    out = jaxlite.jit(lambda x: lax.reduce_window(x, 0.0, lax.add, **kw))(xf)
    _close(out, jlax.reduce_window(xf, np.float32(0), jlax.add, **kw))


# --- wrappers and shape helpers -------------------------------------------------------------


def test_conv_wrappers_match_jax():
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    _close(lax.conv(x, w, (1, 2), "SAME"), jlax.conv(x, w, (1, 2), "SAME"))
    args = (x, w, (2, 1), ((1, 0), (2, 1)), (1, 2), (2, 1))
    _close(lax.conv_with_general_padding(*args), jlax.conv_with_general_padding(*args))
    xt, wt = rng.standard_normal((2, 5, 4, 3)), rng.standard_normal((3, 2, 3, 4))
    for pad in ("SAME", "VALID", ((1, 2), (0, 1))):
        for tk in (False, True):
            w2 = wt if not tk else np.swapaxes(wt, 2, 3).copy()
            kw = dict(transpose_kernel=tk, rhs_dilation=(1, 2))
            _close(lax.conv_transpose(xt, w2, (2, 2), pad, **kw),
                   jlax.conv_transpose(xt, w2, (2, 2), pad, **kw))  # fmt: skip
    kw = dict(lhs_dilation=(1, 2), rhs_dilation=(2, 1), dimension_numbers=NHWC)
    pads = ((1, 0), (2, 1))
    _close(lax.conv_general_dilated_patches(xt, (2, 3), (1, 2), pads, **kw),
           jlax.conv_general_dilated_patches(xt, (2, 3), (1, 2), pads, **kw))  # fmt: skip
    _close(lax.conv_general_dilated_patches(x, (2, 3), (1, 2), "SAME"),
           jlax.conv_general_dilated_patches(x, (2, 3), (1, 2), "SAME"))  # fmt: skip


def test_shape_helpers_match_jax():
    dn = lax.conv_dimension_numbers((2, 5, 6, 3), (3, 3, 3, 4), NHWC)
    assert dn == tuple(jlax.conv_dimension_numbers((2, 5, 6, 3), (3, 3, 3, 4), NHWC))
    assert isinstance(dn, lax.ConvDimensionNumbers)
    for mode in ("SAME", "VALID", "SAME_LOWER"):
        assert lax.padtype_to_pads((7, 6), (3, 2), (2, 3), mode) == list(
            jlax.padtype_to_pads((7, 6), (3, 2), (2, 3), mode)
        )
    args = ((2, 7, 6, 3), (3, 2, 3, 4), (2, 1), "SAME", NHWC)
    assert lax.conv_general_shape_tuple(*args) == tuple(jlax.conv_general_shape_tuple(*args))
    assert lax.conv_transpose_shape_tuple(*args) == tuple(
        int(d) for d in jlax.conv_transpose_shape_tuple(*args)
    )
    assert lax.conv_shape_tuple((2, 3, 7, 6), (4, 3, 3, 2), (2, 1), ((1, 1), (0, 2))) == tuple(
        jlax.conv_shape_tuple((2, 3, 7, 6), (4, 3, 3, 2), (2, 1), ((1, 1), (0, 2)))
    )
    args = ((4, 7, 6), (2, 3, 2), (2, 2, 1), ((0, 0), (1, 1), (0, 2)), (1, 2, 1), (1, 1, 2))
    assert lax.reduce_window_shape_tuple(*args) == tuple(jlax.reduce_window_shape_tuple(*args))
    assert lax.conv_general_permutations(("NCHW", "OIHW", "NHWC")) == tuple(
        tuple(p) for p in jlax.conv_general_permutations(("NCHW", "OIHW", "NHWC"))
    )


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_jnp_convolve_and_correlate_match_jax(mode):
    rng = np.random.default_rng(12)
    for a, v in ((rng.standard_normal(7), rng.standard_normal(3)),
                 (rng.standard_normal(2), rng.standard_normal(5)),
                 (np.arange(5), np.array([1, -2, 3])),
                 (rng.standard_normal(6).astype(np.float32), rng.standard_normal(4).astype(np.float32))):  # fmt: skip
        for fn in ("convolve", "correlate"):
            got, want = getattr(jnp, fn)(a, v, mode), getattr(jax.numpy, fn)(a, v, mode)
            _close(got, want, rtol=1e-5, atol=1e-6)
    got = jaxlite.jit(lambda a, v: jnp.convolve(a, v, mode))(np.arange(6.0), np.ones(3))
    _close(got, jax.numpy.convolve(np.arange(6.0), np.ones(3), mode))


# --- a small CNN training step --------------------------------------------------------------


def test_cnn_value_and_grad_matches_jax():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((4, 8, 8, 1)).astype(np.float32)
    params = [rng.standard_normal((3, 3, 1, 4)).astype(np.float32) * 0.5,
              rng.standard_normal((2, 2, 4, 6)).astype(np.float32) * 0.5,
              rng.standard_normal((6 * 2 * 2, 3)).astype(np.float32) * 0.5]  # fmt: skip

    def make(L, nn_relu):
        def loss(params, x):
            w1, w2, d = params
            h = nn_relu(L.lax.conv_general_dilated(x, w1, (1, 1), "SAME", dimension_numbers=NHWC))
            h = L.lax.reduce_window(h, -np.inf, L.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
            h = nn_relu(L.lax.conv_general_dilated(h, w2, (1, 1), "SAME", dimension_numbers=NHWC))
            h = L.lax.reduce_window(h, 0.0, L.lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") / 4
            return (L.numpy.tanh(h.reshape(h.shape[0], -1) @ d) ** 2).mean()

        return loss

    ours = jaxlite.jit(jaxlite.value_and_grad(make(jaxlite, jaxlite.nn.relu)))(params, x)
    theirs = jax.value_and_grad(make(jax, jax.nn.relu))(params, x)
    _close(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[1], theirs[1]):
        _close(a, b, rtol=1e-4, atol=1e-5)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda x, w: lax.conv_general_dilated(np.ones((1, 2, 5, 5)), w, (1, 1), "VALID"),
         ValueError, r"conv_general_dilated: .*feature.* 2 // 1 != 3 .*lhs shape \(1, 2, 5, 5\)"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1.5, 1), "VALID"),
         TypeError, "conv_general_dilated: window_strides must be integers"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1,), "VALID"),
         TypeError, "one entry per spatial dimension"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                               dimension_numbers=("NCHW", "OIHW", "NHHW")),
         TypeError, "'N' and 'C' exactly once"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                               dimension_numbers=("NCHW", "OIHW", "NCHWD")),
         TypeError, "one character per dimension"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                               dimension_numbers=("NCHW", "OIHD", "NCHW")),
         TypeError, "spatial characters"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "FULL"),
         ValueError, "padding must be 'SAME', 'VALID', 'SAME_LOWER'"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), ((1, 1),)),
         ValueError, "sequence of 2"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), ((-6, 0), (0, 0))),
         ValueError, "negative padding"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME", lhs_dilation=(2, 1)),
         ValueError, "string padding 'SAME' is not implemented for a transposed"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "VALID", feature_group_count=2),
         ValueError, "feature_group_count"),
        (lambda x, w: lax.conv_general_dilated(x, w.astype(np.float32), (1, 1), "VALID"),
         TypeError, "same dtypes"),
    ],
)  # fmt: skip
def test_bad_input_raises_clear_errors(call, error, match):
    x, w = np.ones((1, 3, 5, 5)), np.ones((2, 3, 2, 2))
    with pytest.raises(error, match=match):
        call(x, w)
    with pytest.raises(error, match=match):  # the same error when traced
        jaxlite.make_jaxpr(call)(x, w)


def test_window_larger_than_padded_input_gives_an_empty_result_as_jax():
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 5, 5))
    assert lax.conv(x, w, (1, 1), "VALID").shape == jlax.conv(x, w, (1, 1), "VALID").shape
    assert jaxlite.jit(lambda x, w: lax.conv(x, w, (1, 1), "VALID"))(x, w).shape == (1, 1, 0, 0)


def test_shallow_nhwc_conv_runs_the_direct_loop_along_features():
    # LeNet's first layer's shape class (a 5x5 window, one input feature, NHWC/HWIO), with
    # feature groups, batch groups and strides: the vectorized direct loop, no product.
    cases = [((2, 9, 8, 1), (5, 5, 1, 16), dict(window_strides=(1, 1), padding="SAME")),
             ((2, 7, 6, 4), (3, 2, 2, 6), dict(window_strides=(2, 1), padding="VALID",
                                               feature_group_count=2)),
             ((4, 6, 5, 2), (3, 3, 2, 4), dict(window_strides=(1, 2), padding="SAME",
                                               batch_group_count=2, rhs_dilation=(2, 1)))]  # fmt: skip
    for ls, rs, kw in cases:
        rng = np.random.default_rng(12)
        x, w = rng.standard_normal(ls), rng.standard_normal(rs)
        f = jaxlite.jit(
            lambda x, w, kw=kw: lax.conv_general_dilated(x, w, dimension_numbers=NHWC, **kw)
        )
        c = f.lower(x, w).as_c()
        assert "jl_gemm" not in c and "acc1[" in c
        _close(f(x, w), jlax.conv_general_dilated(x, w, dimension_numbers=NHWC, **kw))


def test_conv_im2col_in_chunks_matches_eager(monkeypatch):
    # Large convolutions run im2col and the product chunk by chunk of images: force one image
    # per chunk on small shapes (a direct output, a buffered NCHW output, batch groups).
    from jaxlite.backend import rules_conv

    monkeypatch.setattr(rules_conv, "PATCH_CHUNK_BYTES", 1)
    monkeypatch.setattr(rules_conv, "IMPLICIT_GEMM", False)
    monkeypatch.setattr(rules_conv, "MIN_CHUNK_ROWS", 1)
    monkeypatch.setattr(rules_conv, "FEATURES_INNER_MAX_DEPTH", 0)
    for name in ("nhwc_feature_groups", "gemm_nchw_groups", "nhwc_batch_groups"):
        x, w, kw = _args(name)
        f = jaxlite.jit(lambda x, w, kw=kw: lax.conv_general_dilated(x, w, **kw))
        assert "blk0 < " in f.lower(x, w).as_c()
        _close(f(x, w), lax.conv_general_dilated(x, w, **kw))


@pytest.mark.parametrize("chunk_bytes", [1, 1 << 20])
def test_kernel_gradient_im2col_along_the_batch(monkeypatch, chunk_bytes):
    # NHWC kernel gradients (batch and features swapped, the batch contiguous) build patches
    # along the batch; small chunks split the contraction and add the parts.
    from jaxlite.backend import rules_conv

    monkeypatch.setattr(rules_conv, "PATCH_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(rules_conv, "IMPLICIT_GEMM", False)
    rng = np.random.default_rng(14)
    for groups, kw in ((1, dict(window_strides=(2, 1), padding="SAME", rhs_dilation=(1, 2))),
                       (2, dict(window_strides=(1, 1), padding=((1, 0), (2, 1))))):  # fmt: skip
        x = rng.standard_normal((3, 7, 6, 8))
        w = rng.standard_normal((3, 2, 8 // groups, 4))

        def f(x, w, kw=kw, groups=groups):
            y = lax.conv_general_dilated(x, w, **kw, dimension_numbers=NHWC,
                                         feature_group_count=groups)  # fmt: skip
            return (y * y).sum()

        g = jaxlite.jit(jaxlite.grad(f, 1))
        assert "patches_t" in g.lower(x, w).as_c()
        _close(g(x, w), jax.grad(_jf, 1)(x, w, kw, groups))


# NHWC float convolutions without groups or lhs dilation: the implicit product (jl_conv_gemm),
# forward (rows: output pixels, the padding read as zeros in place), input gradient (the same,
# of the flipped kernel) and kernel gradient (rows: window positions x input features, a padded
# copy). Odd sizes: row tiles with a remainder, output features not whole vectors (20, 33) and
# more than one strip of 4 vectors (70), strides, kernel dilation, asymmetric padding, batch 1.
IMPLICIT_CASES = [
    ((2, 7, 9, 9), (3, 3, 9, 20), dict(window_strides=(1, 1), padding="SAME")),
    ((1, 9, 8, 17), (3, 2, 17, 33), dict(window_strides=(2, 1), padding="SAME")),
    ((2, 10, 11, 16), (3, 3, 16, 70), dict(window_strides=(1, 1), padding="VALID",
                                           rhs_dilation=(2, 2))),
    ((3, 6, 7, 12), (2, 3, 12, 16), dict(window_strides=(1, 2), padding=((1, 2), (0, 1)))),
    ((8, 10, 24), (3, 24, 40), dict(window_strides=(1,), padding="SAME")),
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(IMPLICIT_CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_implicit_gemm_forward_and_both_gradients_match_eager(case, dtype, monkeypatch):
    from jaxlite.backend import rules_conv

    ls, rs, kw = IMPLICIT_CASES[case]
    dn = NHWC if len(ls) == 4 else ("NWC", "WIO", "NWC")
    rng = np.random.default_rng(20 + case)
    x, w = rng.standard_normal(ls).astype(dtype), rng.standard_normal(rs).astype(dtype)
    ct = rng.standard_normal(lax.conv_general_dilated(x, w, dimension_numbers=dn, **kw).shape)

    def f(x, w):
        y = lax.conv_general_dilated(x, w, dimension_numbers=dn, **kw)
        return (y * ct.astype(dtype)).sum()

    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else {}
    g = jaxlite.value_and_grad(f, (0, 1))
    want = g(x, w)
    if case == 3:  # the padded copy where the padding cannot be read in place
        monkeypatch.setattr(rules_conv, "CG_ZEROS", 1)
    jg = jaxlite.jit(g)
    # (strides: the input gradient has lhs dilation; batch 1: the kernel gradient is shallow)
    assert jg.lower(x, w).as_c().count("jl_conv_gemm") == {1: 1, 3: 2}.get(case, 3)
    got = jg(x, w)
    for a, b in zip(jaxlite.tree_util.tree_leaves(got), jaxlite.tree_util.tree_leaves(want)):
        _close(a, b, **tol)
    if dtype == np.float64:  # and against JAX
        jx = jax.grad(lambda x, w: (jlax.conv_general_dilated(x, w, dimension_numbers=dn, **kw)
                                    * ct).sum(), (0, 1))(x, w)  # fmt: skip
        _close(got[1][0], jx[0])
        _close(got[1][1], jx[1])


def test_implicit_gemm_large_enough_for_threads_matches_eager():
    # from 2^22 multiply-adds jl_conv_gemm shares its row tiles among OpenMP threads (each
    # thread the same tiles in every block of the contraction): 70 features, 2 strips
    rng = np.random.default_rng(30)
    x = rng.standard_normal((8, 16, 16, 32)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 70)).astype(np.float32)

    def f(x, w):
        return (lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC) ** 2).sum()

    g = jaxlite.value_and_grad(f, (0, 1))
    for a, b in zip(jaxlite.tree_util.tree_leaves(jaxlite.jit(g)(x, w)),
                    jaxlite.tree_util.tree_leaves(g(x, w))):  # fmt: skip
        _close(a, b, rtol=1e-4, atol=1e-5 * np.abs(np.asarray(b)).max())  # (float32 sums)


def _jf(x, w, kw, groups):
    y = jlax.conv_general_dilated(x, w, **kw, dimension_numbers=NHWC, feature_group_count=groups)
    return (y * y).sum()


def test_max_pool_gradient_with_ties_matches_jax():
    # Tiled windows (strides = window) take the one-hot path; ties go to the first element.
    x = np.round(np.random.default_rng(15).standard_normal((3, 7, 5, 2)))
    for op, init in ((lax.max, -np.inf), (lax.min, np.inf)):
        jop = getattr(jlax, op.__name__)

        def f(x, L=lax, op=op, init=init):
            return (L.reduce_window(x, init, op, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") ** 2).sum()

        want = jax.grad(lambda x, jop=jop: f(x, jlax, jop))(x)
        _close(jaxlite.grad(f)(x), want)
        _close(jaxlite.jit(jaxlite.grad(f))(x), want)


DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64")  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_matches_jax(dtype):
    # Eager on every dtype (integers wrap as XLA's); under jit on a few of them.
    rng = np.random.default_rng(16)
    x = rng.integers(0 if dtype[0] in "bu" else -3, 4, (2, 5, 4, 3)).astype(dtype)
    w = rng.integers(0 if dtype[0] in "bu" else -3, 4, (2, 2, 3, 4)).astype(dtype)
    kw = dict(window_strides=(2, 1), padding="SAME", dimension_numbers=NHWC)
    lo = np.array(
        -np.inf if dtype[0] == "f" else 0 if dtype == "bool" else np.iinfo(dtype).min, dtype
    )

    def f(L, x, w):
        y = L.lax.conv_general_dilated(x, w, **kw)
        p = L.lax.reduce_window(x, lo, L.lax.max, (1, 2, 2, 1), (1, 1, 2, 1), "VALID")
        s = (
            ()
            if dtype == "bool"
            else (
                L.lax.reduce_window(
                    x, np.array(0, dtype), L.lax.add, (1, 3, 1, 2), (1, 1, 1, 1), "SAME"
                ),
            )
        )
        return (y, p, *s)

    want = f(jax, x, w)
    for got in [f(jaxlite, x, w)] + ([jaxlite.jit(lambda x, w: f(jaxlite, x, w))(x, w)]
                                     if dtype in ("bool", "int8", "uint64", "float32") else []):  # fmt: skip
        for a, b in zip(got, want):
            _close(a, b, rtol=1e-6, atol=1e-6)


def test_reduce_window_binds_the_monoid_primitives():
    x = np.ones((4, 4), np.float32)
    for op, init, prim in ((lax.add, 0.0, "reduce_window_sum"), (lax.max, -np.inf, "reduce_window_max"),
                           (lax.min, np.inf, "reduce_window_min"), (jnp.maximum, -np.inf, "reduce_window_max")):  # fmt: skip
        jaxpr = jaxlite.make_jaxpr(
            lambda x, init=init, op=op: lax.reduce_window(x, init, op, (2, 2), (1, 1), "VALID")
        )(x)
        assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == [prim]
    jaxpr = jaxlite.make_jaxpr(lambda x: lax.conv(x[None, None], x[None, None], (1, 1), "SAME"))(x)
    assert "conv_general_dilated" in [e.primitive.name for e in jaxpr.jaxpr.eqns]


def test_scipy_signal_matches_scipy_and_grads():
    scipy_signal = pytest.importorskip("scipy.signal")
    import jaxlite.scipy.signal as sig

    rng = np.random.default_rng(11)
    for name in ("convolve", "correlate", "convolve2d", "correlate2d"):
        for sa, sb in (((6, 5), (3, 2)), ((3, 2), (6, 5)), ((4, 4), (4, 4))):
            a, b = rng.standard_normal(sa), rng.standard_normal(sb)
            for mode in ("full", "same", "valid"):
                want = getattr(scipy_signal, name)(a, b, mode)
                _close(getattr(sig, name)(a, b, mode), want)
    a, b = rng.standard_normal((5, 4, 3)), rng.standard_normal((2, 3, 2))
    check_grads(lambda a, b: sig.correlate(a, b, "same"), (a, b), order=2)
    out = jaxlite.jit(lambda a, b: sig.convolve(a, b, method="direct"))(a, b)
    _close(out, scipy_signal.convolve(a, b))


def test_scipy_signal_bad_input():
    import jaxlite.scipy.signal as sig

    x = np.ones((4, 4))
    with pytest.raises(ValueError, match="smaller than the other in every dimension"):
        sig.convolve(x, np.ones((5, 2)))
    with pytest.raises(ValueError, match="same number of dimensions"):
        sig.correlate(x, np.ones(3))
    with pytest.raises(ValueError, match="mode must be one of"):
        sig.convolve(x, x, "circular")
    with pytest.raises(ValueError, match="expected 'auto', 'fft', or 'direct'"):
        sig.convolve(x, x, method="overlap-add")
    with pytest.raises(NotImplementedError, match="boundary='fill'"):
        sig.convolve2d(x, x, boundary="wrap")
    with pytest.raises(ValueError, match="2-dimensional"):
        sig.correlate2d(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="zero-size"):
        sig.convolve(np.ones((0,)), np.ones(2))
