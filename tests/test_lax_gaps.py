"""lax gaps of issue 16: the *_in_dim slicing helpers, associative_scan, top_k, generic reduce
and reduce_precision, against JAX (when installed) and NumPy, under jit, vmap and grad."""

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.test_util import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 5))


def jax_or_skip():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# ------------------------------------------------------------------------------ *_in_dim


def test_slicing_helpers_match_numpy():
    x = np.arange(24.0).reshape(4, 6)
    np.testing.assert_array_equal(lax.slice_in_dim(x, 1, None, 2, axis=1), x[:, 1::2])
    np.testing.assert_array_equal(lax.slice_in_dim(x, -3, -1), x[-3:-1])
    np.testing.assert_array_equal(lax.index_in_dim(x, -1, 1, keepdims=False), x[:, -1])
    np.testing.assert_array_equal(lax.index_in_dim(x, 2), x[2:3])
    np.testing.assert_array_equal(lax.dynamic_slice_in_dim(x, 2, 3, axis=1), x[:, 2:5])
    # negative starts count from the end, then clamp so that the slice fits (JAX)
    np.testing.assert_array_equal(lax.dynamic_slice_in_dim(x, -2, 3), x[1:4])
    np.testing.assert_array_equal(
        lax.dynamic_slice_in_dim(x, -2, 2, allow_negative_indices=False), x[0:2]
    )
    np.testing.assert_array_equal(lax.dynamic_index_in_dim(x, -1, 1, False), x[:, -1])
    u = -np.ones((4, 2))
    want = x.copy()
    want[:, 3:5] = u
    np.testing.assert_array_equal(lax.dynamic_update_slice_in_dim(x, u, -3, 1), want)


def test_slicing_helpers_bad_input():
    with pytest.raises(IndexError, match="out of bounds"):
        lax.index_in_dim(X, 3)
    with pytest.raises(ValueError, match="axis 2 out of range"):
        lax.slice_in_dim(X, 0, 1, axis=2)
    with pytest.raises(TypeError, match="integer"):
        lax.dynamic_slice_in_dim(X, 1.5, 2)
    with pytest.raises(TypeError, match="do not fit"):
        lax.slice_in_dim(X, 2, 1)
    with pytest.raises(TypeError, match="do not fit"):
        lax.slice_in_dim(X, 0, 9, axis=1)
    with pytest.raises(TypeError, match="does not fit"):
        jaxlite.vmap(lambda r: lax.dynamic_slice_in_dim(r, 0, 6))(X)
    with pytest.raises(TypeError, match="does not fit"):
        lax.dynamic_update_slice_in_dim(X, np.ones((3, 6)), 0, 1)


def test_dynamic_helpers_traced_index_jit_vmap_grad():
    f = jaxlite.jit(lambda x, i: lax.dynamic_index_in_dim(x, i, 1, keepdims=False))
    for i in range(-5, 5):
        np.testing.assert_array_equal(f(X, np.int32(i)), X[:, i])
    g = jaxlite.vmap(lambda x, i: lax.dynamic_slice_in_dim(x, i, 2), in_axes=(None, 0))
    idx = np.array([-1, 0, 1, 2], np.int32)
    want = np.stack([X[max(0, min(i % 3 if i < 0 else i, 1)) :][:2] for i in idx])
    np.testing.assert_array_equal(g(X, idx), want)
    h = lambda x, u: lax.dynamic_update_slice_in_dim(x, u * u, np.int32(-2), 1)
    check_grads(h, (X, np.ones((3, 2)) * 0.5), order=2)


def test_slicing_helpers_vs_jax():
    jax = jax_or_skip()
    cases = [("slice_in_dim", (1, 3)), ("slice_in_dim", (-3, -1)), ("slice_in_dim", (None, 2)),
             ("dynamic_slice_in_dim", (-2, 2)), ("dynamic_slice_in_dim", (4, 3)),
             ("dynamic_index_in_dim", (-1,)), ("index_in_dim", (-2,))]  # fmt: skip
    want = jax.jit(lambda x: [getattr(jax.lax, f)(x, *args, axis=1) for f, args in cases])(X)
    for (f, args), w in zip(cases, want):
        np.testing.assert_array_equal(getattr(lax, f)(X, *args, axis=1), w)


# ------------------------------------------------------------------------------ associative_scan


@pytest.mark.parametrize("n", [0, 1, 2, 5, 8, 13])
def test_associative_scan_is_the_cumulative_op(n):
    x = RNG.standard_normal((n, 3))
    np.testing.assert_allclose(lax.associative_scan(lax.add, x), np.cumsum(x, 0), rtol=1e-12)
    np.testing.assert_allclose(
        lax.associative_scan(lax.max, x, reverse=True, axis=0),
        np.maximum.accumulate(x[::-1], 0)[::-1],
    )


def test_associative_scan_pytree_jit_vmap_grad():
    # a linear recurrence h_t = a_t h_{t-1} + b_t as pairs (the classic pytree use)
    def comb(p, q):
        return (p[0] * q[0], q[0] * p[1] + q[1])

    a, b = RNG.uniform(0.5, 1.0, 9), RNG.standard_normal(9)
    h, want = 0.0, []
    for t in range(9):
        h = a[t] * h + b[t]
        want.append(h)
    out = jaxlite.jit(lambda a, b: lax.associative_scan(comb, (a, b))[1])(a, b)
    np.testing.assert_allclose(out, want, rtol=1e-12)
    batched = jaxlite.vmap(lambda a, b: lax.associative_scan(comb, (a, b))[1])(
        np.stack([a, a]), np.stack([b, -b])
    )
    np.testing.assert_allclose(batched[1], -np.asarray(want), rtol=1e-12)
    dict_comb = lambda p, q: {"k": comb(p["k"], q["k"])}
    check_grads(lambda a, b: lax.associative_scan(dict_comb, {"k": (a, b)})["k"][1], (a, b), 2)


def test_associative_scan_vs_jax_and_errors():
    jax = jax_or_skip()
    x = RNG.standard_normal((4, 7))
    kws = [{}, {"reverse": True, "axis": 1}]  # (JAX fails on reverse with axis=-1)
    want = jax.jit(lambda x: [jax.lax.associative_scan(jax.lax.mul, x, **kw) for kw in kws])(x)
    for kw, w in zip(kws, want):
        np.testing.assert_allclose(lax.associative_scan(lax.mul, x, **kw), w, rtol=1e-14)
    with pytest.raises(ValueError, match="same size"):
        lax.associative_scan(lambda a, b: a, (np.ones(3), np.ones(4)))


# ------------------------------------------------------------------------------ top_k

SPECIAL = np.array([1.0, np.nan, 3.0, -np.nan, np.inf, 3.0, -0.0, 0.0, -np.inf])


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "int8", "int64", "uint8", "uint64", "bool"]
)
def test_top_k_order_and_ties_vs_jax(dtype):
    jax = jax_or_skip()
    a = RNG.integers(0, 4, (3, 9)).astype(dtype)
    if dtype.startswith("float"):
        a = np.concatenate([a, SPECIAL[None].astype(dtype)])
    cases = [(0, -1), (4, -1), (9, 1), (2, 0)]
    wants = jax.jit(lambda a: [jax.lax.top_k(a, k, axis=axis) for k, axis in cases])(a)
    for (k, axis), want in zip(cases, wants):
        got = lax.top_k(a, k, axis=axis)
        assert got[1].dtype == np.int32 and got[0].dtype == a.dtype
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0], want[0])


def test_top_k_jit_vmap_grad():
    x = RNG.standard_normal((4, 6))
    v, i = lax.top_k(x, 3)
    np.testing.assert_array_equal(i, np.argsort(-x, axis=1, kind="stable")[:, :3])
    jv, ji = jaxlite.jit(lambda x: lax.top_k(x, 3))(x)
    np.testing.assert_array_equal(jv, v)
    np.testing.assert_array_equal(ji, i)
    bv, bi = jaxlite.vmap(lambda r: lax.top_k(r, 3))(x)
    np.testing.assert_array_equal(bi, i)
    check_grads(lambda x: lax.top_k(x, 3)[0], (x,), order=2)
    g = jaxlite.grad(lambda x: lax.top_k(x, 2)[0].sum())(x)
    np.testing.assert_array_equal(g, (np.argsort(np.argsort(-x, 1), 1) < 2).astype(float))


def test_top_k_bad_input():
    with pytest.raises(ValueError, match="larger than"):
        lax.top_k(np.ones(3), 4)
    with pytest.raises(ValueError, match="nonnegative"):
        lax.top_k(np.ones(3), -1)
    with pytest.raises(TypeError, match="scalar"):
        lax.top_k(np.float64(1.0), 1)


# ------------------------------------------------------------------------------ reduce


def test_reduce_monoids_are_the_specialized_reductions():
    x = RNG.standard_normal((3, 4, 2))
    for op, init, red in [(lax.add, 0.0, lax.reduce_sum_p), (lax.max, -np.inf, lax.reduce_max_p),
                          (lax.mul, 1.0, lax.reduce_prod_p), (lax.min, np.inf, lax.reduce_min_p)]:  # fmt: skip
        jaxpr = jaxlite.make_jaxpr(lambda x, i=init, o=op: lax.reduce(x, i, o, (0, 2)))(x)
        assert [e.primitive for e in jaxpr.jaxpr.eqns] == [red]
    b = RNG.integers(0, 2, (3, 4)).astype(bool)
    np.testing.assert_array_equal(lax.reduce(b, False, lax.bitwise_or, (1,)), b.any(1))
    np.testing.assert_array_equal(lax.reduce(b, True, lax.bitwise_and, (0,)), b.all(0))


def _logaddexp_reduce(x, dims):
    return lax.reduce(x, -np.inf, jnp.logaddexp, dims)


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1), ()])
def test_reduce_generic_computation(dims):
    x = RNG.standard_normal((5, 7))
    want = np.log(np.exp(x).sum(dims)) if dims else x
    np.testing.assert_allclose(_logaddexp_reduce(x, dims), want, rtol=1e-12)
    f = jaxlite.jit(lambda x: _logaddexp_reduce(x, dims))
    np.testing.assert_allclose(f(x), want, rtol=1e-12)


def test_reduce_generic_pytree_argmax_jit_vmap():
    def comb(a, b):
        (va, ia), (vb, ib) = a, b
        take_b = lax.bitwise_or(lax.gt(vb, va), lax.bitwise_and(lax.eq(vb, va), lax.lt(ib, ia)))
        return lax.select(take_b, vb, va), lax.select(take_b, ib, ia)

    x = RNG.integers(0, 4, (6, 9)).astype(np.float64)
    idx = np.broadcast_to(np.arange(9, dtype=np.int32), x.shape)
    f = lambda x, i: lax.reduce((x, i), (-np.inf, np.int32(0)), comb, (1,))
    for g in (f, jaxlite.jit(f)):
        v, i = g(x, idx)
        np.testing.assert_array_equal(i, np.argmax(x, 1))
        np.testing.assert_array_equal(v, x.max(1))
    vv, vi = jaxlite.vmap(f)(x[:, None], idx[:, None])
    np.testing.assert_array_equal(vi[:, 0], np.argmax(x, 1))


def test_reduce_generic_grads_and_vs_jax():
    x = RNG.standard_normal((4, 5))
    check_grads(lambda x: _logaddexp_reduce(x, (0, 1)), (x,), order=2)
    jax = jax_or_skip()
    import jax.numpy as jjnp

    for dims in [(0,), (1, 0)]:
        np.testing.assert_allclose(
            _logaddexp_reduce(x, dims),
            jax.lax.reduce(x, -np.inf, jjnp.logaddexp, dims),
            rtol=1e-13,
        )
        # (JAX's own generic-reduce gradient takes ~8 s to trace: compared with softmax)
        g = jaxlite.grad(lambda x, d=dims: _logaddexp_reduce(x, d).sum())(x)
        e = np.exp(x - x.max(dims, keepdims=True))
        np.testing.assert_allclose(g, e / e.sum(dims, keepdims=True), rtol=1e-13)
    # an init that is no identity counts once; a one-element reduction is the element (XLA)
    for shape in [(3, 4), (3, 1), (3, 0)]:
        y = np.arange(np.prod(shape), dtype=float).reshape(shape)
        np.testing.assert_array_equal(
            lax.reduce(y, 5.0, lax.add, (1,)), jax.lax.reduce(y, 5.0, jax.lax.add, (1,))
        )
        np.testing.assert_array_equal(
            lax.reduce(y, 5.0, jnp.maximum, (1,)), jax.lax.reduce(y, 5.0, jjnp.maximum, (1,))
        )


def test_reduce_bad_input():
    with pytest.raises(ValueError, match="tree structure"):
        lax.reduce((X, X), 0.0, lax.add, (0,))
    with pytest.raises(TypeError, match="dtypes"):
        lax.reduce(X, np.int32(0), lambda a, b: a, (0,))
    with pytest.raises(TypeError, match="computation must return"):
        lax.reduce(X, 0.0, lambda a, b: lax.convert_element_type(a, "int32"), (0,))
    with pytest.raises(ValueError, match="repeated"):
        lax.reduce(X, 0.0, lax.add, (0, 0))


# ------------------------------------------------------------------------------ reduce_precision


def _float_samples(dtype):
    fi = np.finfo(dtype)
    with np.errstate(over="ignore"):
        x = np.concatenate([
            RNG.standard_normal(500) * 10.0 ** RNG.integers(-40, 40, 500),
            [0.0, -0.0, np.inf, -np.inf, np.nan, fi.max, fi.tiny, fi.tiny / 2, 1.5, 2.5, 65504,
             65520, 65519.99, 3.0e38],
        ]).astype(dtype)  # fmt: skip
    bits = x.view(f"u{x.itemsize}")
    return np.concatenate([x, (bits ^ np.array(1, bits.dtype)).view(dtype)])


FORMATS = [(5, 10), (8, 7), (1, 0), (2, 1), (4, 3), (3, 0), (8, 23), (11, 52)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reduce_precision_bits_vs_jax_eager_and_jit(dtype):
    jax = jax_or_skip()
    x = _float_samples(dtype)
    fmts = [(e, m) for e, m in FORMATS if e <= np.finfo(dtype).nexp and m <= np.finfo(dtype).nmant]
    # one compilation per library: every format in one function
    wants = jax.jit(lambda v: [jax.lax.reduce_precision(v, e, m) for e, m in fmts])(x)
    jitted = jaxlite.jit(lambda v: [lax.reduce_precision(v, e, m) for e, m in fmts])(x)
    u = f"u{x.itemsize}"
    for (e, m), want, got_jit in zip(fmts, wants, jitted):
        want = np.asarray(want)
        for got in (np.asarray(lax.reduce_precision(x, e, m)), np.asarray(got_jit)):
            same = (got.view(u) == want.view(u)) | (np.isnan(got) & np.isnan(want))
            assert same.all(), (e, m, x[~same][:3], got[~same][:3], want[~same][:3])


def test_reduce_precision_is_float16_and_bfloat16_rounding():
    x = _float_samples("float32")
    finite16 = np.abs(x) < 65504
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).astype(np.float32)
    got = np.asarray(lax.reduce_precision(x, 5, 10))
    normal = finite16 & (np.abs(want) >= np.finfo(np.float16).tiny)  # XLA flushes subnormals
    np.testing.assert_array_equal(got[normal], want[normal])


def test_reduce_precision_rules():
    x = RNG.standard_normal((3, 4))
    t = RNG.standard_normal((3, 4))
    y, ty = jaxlite.jvp(lambda x: lax.reduce_precision(x, 8, 7), (x,), (t,))
    np.testing.assert_array_equal(ty, lax.reduce_precision(t, 8, 7))  # linear, as JAX
    g = jaxlite.grad(lambda x: (lax.reduce_precision(x, 5, 10) * t).sum())(x)
    np.testing.assert_array_equal(g, lax.reduce_precision(t, 5, 10))
    v = jaxlite.vmap(lambda r: lax.reduce_precision(r, 5, 2), in_axes=1)(x)
    np.testing.assert_array_equal(v, np.asarray(lax.reduce_precision(x, 5, 2)).T)
    assert lax.reduce_precision(np.float32(1.0), 5, 10).dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        lax.reduce_precision(np.arange(3), 5, 10)
    with pytest.raises(ValueError, match="exponent_bits"):
        lax.reduce_precision(x, 0, 10)
    with pytest.raises(ValueError, match="mantissa_bits"):
        lax.reduce_precision(x, 5, -1)


def test_reduce_generic_batched_and_differentiated_init():
    # (JAX raises NotImplementedError for both; the composite handles them)
    x = RNG.standard_normal((4, 5))

    def f(x, i):
        return lax.reduce(x, i, lambda a, b: lax.max(a, b), (1,))

    inits = np.array([0.0, 10.0, -10.0, 0.5])
    out = jaxlite.vmap(f, in_axes=(None, 0))(x, inits)
    np.testing.assert_allclose(out, np.maximum(x.max(1)[None, :], inits[:, None]))
    assert jaxlite.grad(lambda i: f(x, i).sum())(10.0) == 4.0
