"""Gather/scatter primitives and NumPy indexing (`x[idx]`, `x.at[idx]`, `take`), checked against
NumPy and against loop references, eagerly and staged (make_jaxpr + eval_jaxpr)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxlite as jax
import jaxlite.numpy as jnp
from jaxlite import Array, lax
from jaxlite.core import eval_jaxpr
from jaxlite.errors import NonConcreteBooleanIndexError
from jaxlite.lax import GatherDimensionNumbers, GatherScatterMode, ScatterDimensionNumbers

A = np.array
XN = np.arange(120.0).reshape(4, 5, 6)


def staged(f, *args):
    """Runs `f` by staging it to a jaxpr and evaluating the jaxpr (the traced code path)."""
    closed = jax.make_jaxpr(f)(*args)
    out = eval_jaxpr(closed.jaxpr, closed.consts, *args)
    return out[0] if len(out) == 1 else out


def prims_of(f, *args) -> list[str]:
    return [e.primitive.name for e in jax.make_jaxpr(f)(*args).eqns]


# ------------------------------------------------------------------------------------------
# x[idx] against NumPy
# ------------------------------------------------------------------------------------------

GETITEM_CASES = [
    0,
    -1,
    (1, 2),
    (1, 2, 3),
    (-1, -2, -3),
    slice(None),
    slice(1, 3),
    slice(None, None, 2),
    slice(None, None, -1),
    slice(-2, None),
    slice(3, 0, -1),
    slice(10, 20),
    slice(5, 1),
    (Ellipsis, 1),
    (1, Ellipsis),
    (None, 1),
    (1, None, slice(None), None),
    (Ellipsis, None),
    (),
    Ellipsis,
    A(2),
    np.int32(1),
    A([0, 2]),
    A([[0, 1], [2, 3]]),
    A([-1, 0]),
    A([0, 0, 3, 3]),
    A([], int),
    (A([0, 1]), A([1, 2])),
    (A([0, 1]), slice(None), A([1, 2])),
    (slice(None), A([0, 1]), A([1, 2])),
    (1, slice(None), A([1, 2])),
    (slice(None), 1, A([1, 2])),
    (A([[0], [1]]), A([0, 1, 2])),
    (A([0, 1]), Ellipsis, A([1, 2])),
    (slice(None), A([0, 1]), Ellipsis, A([1, 2])),
    (A([0, 1]), None, A([1, 2])),
    (None, slice(1, 3), A([[1], [2]]), slice(None, None, 3)),
    (A(1), A([2, 3])),
    (A([0, 1])[:, None], slice(None), A([1, 2, 3])),
    (0, slice(None), None, A([1, 2])),
    (slice(None, None, -2), A([0, 1])),
    (A([0, 1]), slice(None, None, -1), 2),
    (A([3, 1]), slice(1, 4), slice(None, None, -2)),
    XN > 10,
    A([True, False, True, False]),
    (slice(None), A([True, False, True, False, True])),
    (Ellipsis, A([True] * 6)),
    (slice(None), A([[True, False] * 3] * 5)),
    A([[True] * 5] * 4),
    True,
    False,
    (0, True),
    (Ellipsis, False),
    (slice(None), None, A([0, 1]), True),
    ([0, 1],),
    (slice(None), [0, 2]),
    ([[0, 1]], [[1], [2]]),
    (slice(0, 0),),
    (None, A([0, 1]), None),
]


def _case_id(idx) -> str:
    if type(idx) is object:
        return "object()"  # NB: not its address: ids must be the same in every process (xdist)
    r = repr(idx).replace("\n", "")
    return r if len(r) < 50 else r[:47] + "..."


@pytest.mark.parametrize("idx", GETITEM_CASES, ids=_case_id)
def test_getitem_matches_numpy(idx):
    want = XN[idx]
    x = Array(XN)
    for got in (x[idx], staged(lambda x: x[idx], x)):
        assert got.shape == want.shape
        np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint8, np.bool_, np.int64])
def test_getitem_keeps_dtype_and_weak_type(dtype):
    x = Array(XN.astype(dtype))
    for idx in (1, slice(1, 3), A([0, 3]), XN > 50):
        assert x[idx].dtype == dtype
        np.testing.assert_array_equal(np.asarray(x[idx]), XN.astype(dtype)[idx])
    w = Array(np.arange(5.0), weak_type=True)
    assert w[1].weak_type and w[A([1, 2])].weak_type and w[::2].weak_type


slice_part = st.one_of(st.none(), st.integers(-8, 8))


@st.composite
def basic_index(draw):
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=1, max_size=3)))
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["slice", "slice", "int", "none", "skip"]))
        if kind == "slice":
            step = draw(st.sampled_from([None, 1, 2, 3, -1, -2, -3]))
            items.append(slice(draw(slice_part), draw(slice_part), step))
        elif kind == "int" and n > 0:
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "none":
            items.append(None)
            items.append(slice(None))
        else:
            items.append(slice(None))
    if draw(st.booleans()):
        k = draw(st.integers(0, len(items)))
        items = items[:k] + [Ellipsis] + [e for e in items[k:] if e is not None][: len(items) - k]
        while sum(e is not None and e is not Ellipsis for e in items) > len(shape):
            items.pop()
    return shape, tuple(items)


@settings(deadline=None)
@given(basic_index())
def test_basic_indexing_hypothesis(case):
    shape, idx = case
    xn = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    want = xn[idx]
    x = Array(xn)
    got = x[idx]
    np.testing.assert_array_equal(np.asarray(got), want)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(staged(lambda x: x[idx], x)), want)
    assert "gather" not in prims_of(lambda x: x[idx], x)


@st.composite
def advanced_index(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    bshape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=2)))
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["array", "array", "int", "slice", "none"]))
        if kind == "array":
            sub = bshape[draw(st.integers(0, len(bshape))) :]
            vals = draw(
                st.lists(
                    st.integers(-n, n - 1), min_size=int(np.prod(sub)), max_size=int(np.prod(sub))
                )
            )
            items.append(np.array(vals, np.int64).reshape(sub))
        elif kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "none":
            items += [None, slice(None)]
        else:
            items.append(
                slice(draw(slice_part), draw(slice_part), draw(st.sampled_from([None, 2, -1])))
            )
    return shape, tuple(items)


@settings(deadline=None)
@given(advanced_index())
def test_advanced_indexing_hypothesis(case):
    shape, idx = case
    xn = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * 1.5
    want = xn[idx]
    x = Array(xn)
    np.testing.assert_array_equal(np.asarray(x[idx]), want)
    np.testing.assert_array_equal(np.asarray(staged(lambda x: x[idx], x)), want)


def test_traced_index_arrays_and_scalars():
    x = Array(XN)
    idx = Array(A([3, -1, 0]))
    f = lambda x, i, j: x[i, 1:, j]  # noqa: E731
    got = staged(f, x, idx, Array(A(-2)))
    np.testing.assert_array_equal(np.asarray(got), XN[A([3, -1, 0]), 1:, -2])
    for i in range(-4, 4):
        got = staged(lambda x, i: x[i, ::-1], x, Array(np.int32(i)))
        np.testing.assert_array_equal(np.asarray(got), XN[i, ::-1])
    names = prims_of(lambda x, i: x[i], x, Array(np.int32(1)))
    assert "dynamic_slice" in names and "gather" not in names


def test_static_indexing_lowers_to_slices():
    x = Array(XN)
    assert prims_of(lambda x: x[1], x) == ["slice", "squeeze"]
    assert prims_of(lambda x: x[::2, 1:3], x) == ["slice"]
    assert prims_of(lambda x: x[::-1], x) == ["rev"]
    assert prims_of(lambda x: x[:, None], x) == ["expand_dims"]
    assert prims_of(lambda x: x[...], x) == []
    assert prims_of(lambda x: x[A([0, 1])], x) == ["gather"]
    s = str(jax.make_jaxpr(lambda x: x[::2])(Array(np.zeros(5, np.float32))))
    assert s == (
        "{ lambda ; a:f32[5]. let\n    b:f32[3] = slice[limit_indices=(5,) start_indices=(0,) "
        "strides=(2,)] a\n  in (b,) }"
    )


def test_gather_jaxpr_params():
    s = str(
        jax.make_jaxpr(lambda x, i: x[i])(
            Array(np.zeros(5, np.float32)), Array(np.zeros(2, np.int32))
        )
    )
    assert "gather[" in s
    assert "mode=GatherScatterMode.PROMISE_IN_BOUNDS" in s
    assert (
        "dimension_numbers=GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0,), "
        "start_index_map=(0,), operand_batching_dims=(), start_indices_batching_dims=())"
    ) in s
    assert "slice_sizes=(1,)" in s and "fill_value=None" in s


# ------------------------------------------------------------------------------------------
# Out-of-bounds rules (JAX's): gathers clamp, scatters drop
# ------------------------------------------------------------------------------------------


def test_getitem_out_of_bounds_clamps():
    x = Array(np.arange(5.0))
    assert float(x[7]) == 4.0 and float(x[-9]) == 0.0
    np.testing.assert_array_equal(np.asarray(x[A([7, -9, 2])]), [4.0, 0.0, 2.0])
    for i, want in [(7, 4.0), (-9, 0.0), (-1, 4.0)]:
        assert float(staged(lambda x, i: x[i], x, Array(np.int32(i)))) == want
        assert float(staged(lambda x, i=i: x[i], x)) == want
    y = Array(XN)
    np.testing.assert_array_equal(np.asarray(y[5, 1:3, A([9])]), XN[3, 1:3, [5]])


def test_get_modes():
    x = Array(np.arange(5.0, dtype=np.float32))
    got = x.at[A([1, 7, -9, -1])].get(mode="fill", fill_value=-1.0)
    np.testing.assert_array_equal(np.asarray(got), [1.0, -1.0, -1.0, 4.0])
    assert got.dtype == np.float32
    assert np.isnan(float(x.at[7].get(mode="fill")))
    assert float(x.at[7].get(mode="clip")) == 4.0
    assert (
        float(staged(lambda x, i: x.at[i].get(mode="fill", fill_value=9.0), x, Array(np.int32(5))))
        == 9.0
    )
    xi = Array(np.arange(5, dtype=np.int32))
    assert int(xi.at[9].get(mode="fill")) == np.iinfo(np.int32).min
    xu = Array(np.arange(5, dtype=np.uint8))
    assert int(xu.at[9].get(mode="fill")) == 255
    with pytest.raises(ValueError, match="Unknown gather/scatter mode"):
        x.at[0].get(mode="nearest")


def test_scatter_out_of_bounds_dropped_or_clipped():
    x = Array(np.zeros(5))
    np.testing.assert_array_equal(np.asarray(x.at[7].set(1.0)), np.zeros(5))
    np.testing.assert_array_equal(np.asarray(x.at[A([7, -9, 1])].add(1.0)), [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(np.asarray(x.at[-1].set(2.0)), [0, 0, 0, 0, 2])
    np.testing.assert_array_equal(np.asarray(x.at[7].set(1.0, mode="clip")), [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(
        np.asarray(x.at[A([7, -9])].add(1.0, mode="clip")), [1, 0, 0, 0, 1]
    )
    f = lambda x, i: x.at[i].add(3.0)  # noqa: E731
    for i in (7, -9, 2, -1):
        want = np.zeros(5)
        if -5 <= i < 5:
            want[i] = 3.0
        np.testing.assert_array_equal(np.asarray(staged(f, x, Array(np.int32(i)))), want)
    y = Array(np.zeros((3, 4)))
    got = y.at[A([0, 5]), 1:3].set(1.0)
    want = np.zeros((3, 4))
    want[0, 1:3] = 1
    np.testing.assert_array_equal(np.asarray(got), want)


# ------------------------------------------------------------------------------------------
# x.at[idx].op(y) against NumPy
# ------------------------------------------------------------------------------------------

AT_INDEXES = [
    1,
    -1,
    (1, 2),
    slice(1, 3),
    slice(None, None, -2),
    (Ellipsis, 0),
    (None, 2),
    A([0, 2, 2, 0, 3]),
    (A([0, 1, 1]), slice(None), A([2, 2, 2])),
    (slice(None), A([[1, 1], [4, 0]])),
    XN > 60,
    (1, A([True, False, True, False, True])),
    (A([3, 3]), 1, slice(None, None, 3)),
]
AT_OPS = {
    "add": np.add.at,
    "multiply": np.multiply.at,
    "min": np.minimum.at,
    "max": np.maximum.at,
    "subtract": np.subtract.at,
}


def _np_at_set(a, idx, v):
    a[idx] = v


@pytest.mark.parametrize("op", ["set"] + list(AT_OPS), ids=str)
@pytest.mark.parametrize("idx", AT_INDEXES, ids=_case_id)
def test_at_ops_match_numpy(op, idx):
    rng = np.random.default_rng(0)
    xn = rng.normal(size=XN.shape).astype(np.float32)
    shape = xn[idx].shape
    vals = rng.normal(size=shape).astype(np.float32)
    want = xn.copy()
    if op == "set":
        # NumPy's assignment also lets the last repeated index win.
        _np_at_set(want, idx, vals)
    else:
        AT_OPS[op](want, idx, vals)
    f = lambda x, v: getattr(x.at[idx], op)(v)  # noqa: E731
    x, v = Array(xn), Array(vals)
    for got in (f(x, v), staged(f, x, v)):
        assert got.dtype == np.float32
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float64])
def test_at_ops_dtypes(dtype):
    xn = np.arange(12).reshape(3, 4).astype(dtype)
    idx = (A([0, 2, 0]), A([1, 3, 1]))
    for op, ufunc in [
        ("add", np.add),
        ("multiply", np.multiply),
        ("min", np.minimum),
        ("max", np.maximum),
    ]:
        want = xn.copy()
        ufunc.at(want, idx, dtype(2))
        got = getattr(Array(xn).at[idx], op)(2)
        assert got.dtype == dtype
        np.testing.assert_array_equal(np.asarray(got), want)
    xb = np.zeros(5, bool)
    got = Array(xb).at[A([1, 3])].set(True)
    np.testing.assert_array_equal(np.asarray(got), [False, True, False, True, False])


def test_at_set_promotes_then_casts_back():
    x = Array(np.arange(4, dtype=np.int32))
    got = x.at[1].add(0.5).at[1].add(0.5)  # each step truncates, as in JAX
    assert got.dtype == np.int32 and np.asarray(got).tolist() == [0, 1, 2, 3]
    got = x.at[A([1, 1])].add(0.5)  # one scatter: 1 + 0.5 + 0.5 = 2
    assert np.asarray(got).tolist() == [0, 2, 2, 3]
    w = Array(np.zeros(3), weak_type=True)
    assert w.at[0].set(1.0).weak_type
    s = Array(np.zeros(3, np.float32))
    assert s.at[0].set(1.0).dtype == np.float32


def test_at_divide_and_get():
    x = Array(np.arange(1.0, 6.0))
    np.testing.assert_allclose(np.asarray(x.at[A([0, 0, 4])].divide(2.0)), [0.25, 2, 3, 4, 2.5])
    np.testing.assert_array_equal(np.asarray(x.at[1:3].get()), [2.0, 3.0])
    xi = Array(np.arange(4, dtype=np.int32))
    assert xi.at[1].divide(2).dtype == np.float32  # as JAX (to_inexact of int32)


def test_at_update_broadcasts_values():
    x = Array(np.zeros((3, 4)))
    np.testing.assert_array_equal(
        np.asarray(x.at[:, 1].set(A([1.0, 2, 3]))), [[0, 1, 0, 0], [0, 2, 0, 0], [0, 3, 0, 0]]
    )
    np.testing.assert_array_equal(np.asarray(x.at[1].set(A([1.0, 2, 3, 4]))[1]), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="broadcast"):
        x.at[1].set(np.ones(3))


def test_at_with_traced_values_and_indices():
    def f(x, i, v):
        return x.at[i].add(v).at[i + 1].multiply(v)

    x = Array(np.ones(6))
    got = staged(f, x, Array(np.int32(2)), Array(np.float64(3.0)))
    np.testing.assert_array_equal(np.asarray(got), [1, 1, 4, 3, 1, 1])
    names = prims_of(f, x, Array(np.int32(2)), Array(np.float64(3.0)))
    assert "scatter-add" in names and "scatter-mul" in names


# ------------------------------------------------------------------------------------------
# take, take_along_axis
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_take_matches_numpy(axis):
    xn = np.arange(24.0).reshape(4, 6)
    idx = A([[0, 3], [-1, 2]])
    want = np.take(xn, idx, axis=axis)
    np.testing.assert_array_equal(np.asarray(jnp.take(Array(xn), idx, axis=axis)), want)
    got = staged(lambda x, i: jnp.take(x, i, axis=axis), Array(xn), Array(idx))
    np.testing.assert_array_equal(np.asarray(got), want)
    for mode in ("clip", "wrap"):
        big = A([7, -9, 30])
        want = np.take(xn, big, axis=axis, mode=mode)
        np.testing.assert_array_equal(
            np.asarray(jnp.take(Array(xn), big, axis=axis, mode=mode)), want
        )


def test_take_fill_default():
    x = Array(np.arange(4.0))
    got = jnp.take(x, A([1, 5, -1, -5]))
    np.testing.assert_array_equal(np.isnan(np.asarray(got)), [False, True, False, True])
    assert float(got[2]) == 3.0
    got = jnp.take(x, A([5]), fill_value=-2.0)
    assert float(got[0]) == -2.0
    with pytest.raises(ValueError, match="invalid mode"):
        jnp.take(x, A([0]), mode="nope")
    with pytest.raises(TypeError, match="integer"):
        jnp.take(x, A([0.5]))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, None])
def test_take_along_axis_matches_numpy(axis):
    rng = np.random.default_rng(1)
    xn = rng.normal(size=(3, 4, 5))
    if axis is None:
        idx = rng.integers(0, xn.size, size=7)
    else:
        ishape = list(xn.shape)
        ishape[axis] = 6
        idx = rng.integers(-xn.shape[axis], xn.shape[axis], size=ishape)
    want = np.take_along_axis(xn, idx, axis=axis)
    np.testing.assert_array_equal(np.asarray(jnp.take_along_axis(Array(xn), idx, axis=axis)), want)
    got = staged(lambda x, i: jnp.take_along_axis(x, i, axis=axis), Array(xn), Array(idx))
    np.testing.assert_array_equal(np.asarray(got), want)


def test_take_along_axis_broadcasts_and_argsort():
    xn = np.array([[5, 3, 4], [2, 7, 6]])
    idx = np.argsort(xn, axis=1)
    np.testing.assert_array_equal(
        np.asarray(jnp.take_along_axis(Array(xn), idx, axis=1)), np.sort(xn, axis=1)
    )
    xb = np.arange(12.0).reshape(1, 3, 4)  # arr broadcast along dim 0, idx along dim 2
    ib = np.array([[[0], [2], [1]], [[1], [1], [0]]])
    got = jnp.take_along_axis(Array(xb), ib, axis=2)
    want = np.take_along_axis(np.broadcast_to(xb, (2, 3, 4)), ib, axis=2)
    np.testing.assert_array_equal(np.asarray(got), want)
    assert np.isnan(float(jnp.take_along_axis(Array(np.ones((2,))), A([5]), axis=0)[0]))


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


def test_boolean_mask_under_tracing_raises():
    x = Array(np.arange(5.0))
    with pytest.raises(NonConcreteBooleanIndexError, match="boolean indices must be concrete"):
        jax.make_jaxpr(lambda x: x[lax.gt(x, 2.0)])(x)
    with pytest.raises(IndexError):  # it is also an IndexError, as in JAX
        jax.make_jaxpr(lambda x, m: x.at[m].set(0.0))(x, Array(np.ones(5, bool)))
    mask = np.array([True, False, True, False, True])  # a concrete mask is fine under tracing
    np.testing.assert_array_equal(np.asarray(staged(lambda x: x[mask], x)), [0.0, 2.0, 4.0])


@pytest.mark.parametrize(
    "idx, err, match",
    [
        (1.5, TypeError, "integer or boolean"),
        (A([0.5]), TypeError, "integer or boolean"),
        ("a", TypeError, "string"),
        ([0, 1], TypeError, "non-tuple sequence"),
        ((0, 0, 0, 0), IndexError, "Too many indices"),
        ((Ellipsis, Ellipsis), IndexError, "single ellipsis"),
        (A([True, False]), IndexError, "did not match"),
        ((A([0, 1]), A([0, 1, 2])), IndexError, "could not be broadcast"),
        (slice(0, 2, 0), ValueError, "step cannot be zero"),
        (slice(0.5, 2), TypeError, "slice indices"),
        (object(), IndexError, "not supported"),
    ],
    ids=_case_id,
)
def test_index_errors(idx, err, match):
    with pytest.raises(err, match=match):
        Array(XN)[idx]


def test_traced_slice_bound_and_empty_axis_errors():
    with pytest.raises(IndexError, match="static start/stop/step"):
        jax.make_jaxpr(lambda x, i: x[i:])(Array(np.zeros(4)), Array(np.int32(1)))
    with pytest.raises(IndexError, match="size 0"):
        Array(np.zeros((0, 3)))[0]
    assert Array(np.zeros((0, 3)))[A([], int)].shape == (0, 3)


def test_item_assignment_message():
    with pytest.raises(TypeError, match=r"\.at\[idx\]\.set"):
        Array(np.zeros(3))[0] = 1.0


# ------------------------------------------------------------------------------------------
# lax.gather / lax.scatter* against loop references, with random dimension numbers
# ------------------------------------------------------------------------------------------


def _random_config(seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 4))
    op_shape = tuple(int(s) for s in rng.integers(1, 5, size=rank))
    dims = list(rng.permutation(rank))
    n_batch = int(rng.integers(0, 2)) if rank > 1 else 0
    op_batch = sorted(dims[:n_batch])
    rest = dims[n_batch:]
    n_col = int(rng.integers(0, len(rest) + 1))
    collapsed = sorted(rest[:n_col])
    window = sorted(rest[n_col:])
    candidates = [d for d in range(rank) if d not in op_batch]
    k = int(rng.integers(len(collapsed), len(candidates) + 1))
    others = [d for d in candidates if d not in collapsed]
    index_map = collapsed + list(rng.permutation(others)[: k - len(collapsed)])
    index_map = [int(d) for d in rng.permutation(index_map)]
    sizes = [1] * rank
    for d in window:
        sizes[d] = int(rng.integers(0, op_shape[d] + 1))
    extra = [int(s) for s in rng.integers(1, 4, size=int(rng.integers(0, 3)))]
    nb = len(extra) + len(op_batch)
    idx_batch = [int(d) for d in rng.permutation(nb)[: len(op_batch)]]
    bshape = [0] * nb
    it = iter(extra)
    for i in range(nb):
        bshape[i] = op_shape[op_batch[idx_batch.index(i)]] if i in idx_batch else next(it)
    hi = max(op_shape) + 2
    indices = rng.integers(-2, hi, size=tuple(bshape) + (len(index_map),))
    out_rank = nb + len(window)
    offset_dims = sorted(int(d) for d in rng.permutation(out_rank)[: len(window)])
    return dict(
        op_shape=op_shape,
        indices=indices.astype(np.int32),
        sizes=tuple(sizes),
        gdn=GatherDimensionNumbers(
            tuple(offset_dims),
            tuple(collapsed),
            tuple(index_map),
            tuple(op_batch),
            tuple(idx_batch),
        ),
        rng=rng,
    )


def _starts(op_shape, idx_vec, batch, dn_map, op_batch, idx_batch, sizes):
    start = [0] * len(op_shape)
    for k, d in enumerate(dn_map):
        start[d] = int(idx_vec[k])
    for ob, ib in zip(op_batch, idx_batch):
        start[ob] = batch[ib]
    inb = all(0 <= start[d] <= op_shape[d] - sizes[d] for d in dn_map)
    clamped = [
        min(max(s, 0), op_shape[d] - sizes[d]) if d in dn_map else s for d, s in enumerate(start)
    ]
    return clamped, inb


def gather_reference(op, indices, dn, sizes, mode, fill):
    window = [
        d
        for d in range(op.ndim)
        if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims
    ]
    nb = indices.ndim - 1
    out_rank = nb + len(dn.offset_dims)
    wit, bit = iter(sizes[d] for d in window), iter(indices.shape[:-1])
    out_shape = tuple(next(wit) if p in dn.offset_dims else next(bit) for p in range(out_rank))
    out = np.empty(out_shape, op.dtype)
    for o in np.ndindex(*out_shape):
        batch = [o[p] for p in range(out_rank) if p not in dn.offset_dims]
        offs = [o[p] for p in dn.offset_dims]
        start, inb = _starts(
            op.shape,
            indices[tuple(batch)],
            batch,
            dn.start_index_map,
            dn.operand_batching_dims,
            dn.start_indices_batching_dims,
            sizes,
        )
        for w, d in enumerate(window):
            start[d] += offs[w]
        out[o] = fill if (mode == "fill" and not inb) else op[tuple(start)]
    return out


def scatter_reference(ufunc, op, indices, updates, dn, mode):
    window = [
        d
        for d in range(op.ndim)
        if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims
    ]
    sizes = [1] * op.ndim
    for d, u in zip(window, dn.update_window_dims):
        sizes[d] = updates.shape[u]
    out = op.copy()
    writes = np.zeros(op.shape, int)
    scatter_dims = [i for i in range(updates.ndim) if i not in dn.update_window_dims]
    for u in np.ndindex(*updates.shape):
        batch = [u[i] for i in scatter_dims]
        start, inb = _starts(
            op.shape,
            indices[tuple(batch)],
            batch,
            dn.scatter_dims_to_operand_dims,
            dn.operand_batching_dims,
            dn.scatter_indices_batching_dims,
            sizes,
        )
        if mode != "clip" and not inb:
            continue
        for w, d in enumerate(window):
            start[d] += u[dn.update_window_dims[w]]
        t = tuple(start)
        out[t] = updates[u] if ufunc is None else ufunc(out[t], updates[u])
        writes[t] += 1
    return out, writes


@pytest.mark.parametrize("mode", ["clip", "fill", "promise_in_bounds"])
@pytest.mark.parametrize("seed", range(40))
def test_gather_random_dnums_vs_loop(seed, mode):
    c = _random_config(seed)
    op = c["rng"].normal(size=c["op_shape"])
    want = gather_reference(op, c["indices"], c["gdn"], c["sizes"], mode, -7.0)
    f = lambda o, i: lax.gather(o, i, c["gdn"], c["sizes"], mode=mode, fill_value=-7.0)  # noqa
    np.testing.assert_array_equal(np.asarray(f(Array(op), Array(c["indices"]))), want)
    assert jax.make_jaxpr(f)(Array(op), Array(c["indices"])).out_avals[0].shape == want.shape


SCATTERS = [
    (lax.scatter, None),
    (lax.scatter_add, np.add),
    (lax.scatter_mul, np.multiply),
    (lax.scatter_min, np.minimum),
    (lax.scatter_max, np.maximum),
]


@pytest.mark.parametrize("mode", ["clip", "drop"])
@pytest.mark.parametrize("which", range(len(SCATTERS)))
@pytest.mark.parametrize("seed", range(25))
def test_scatter_random_dnums_vs_loop(seed, which, mode):
    c = _random_config(seed)
    g = c["gdn"]
    sdn = ScatterDimensionNumbers(
        g.offset_dims,
        g.collapsed_slice_dims,
        g.start_index_map,
        g.operand_batching_dims,
        g.start_indices_batching_dims,
    )
    op = c["rng"].normal(size=c["op_shape"])
    ushape = gather_reference(op, c["indices"], g, c["sizes"], "clip", 0).shape
    upd = c["rng"].normal(size=ushape)
    fn, ufunc = SCATTERS[which]
    want, writes = scatter_reference(ufunc, op, c["indices"], upd, sdn, mode)
    if ufunc is None and writes.max(initial=0) > 1:
        # Overlapping overwrites happen in an unspecified order: use equal updates.
        upd = np.full(ushape, 3.25)
        want, _ = scatter_reference(ufunc, op, c["indices"], upd, sdn, mode)
    got = fn(Array(op), Array(c["indices"]), Array(upd), sdn, mode=mode)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


def test_gather_scatter_abstract_eval_errors():
    x = Array(np.zeros((3, 4)))
    dn = GatherDimensionNumbers((1,), (0,), (0,))
    with pytest.raises(TypeError, match="integer dtype"):
        lax.gather(x, np.zeros((2, 1)), dn, (1, 4))
    with pytest.raises(TypeError, match="index vector"):
        lax.gather(x, np.zeros((2, 2), np.int32), dn, (1, 4))
    with pytest.raises(TypeError, match="slice size 1"):
        lax.gather(x, np.zeros((2, 1), np.int32), dn, (2, 4))
    with pytest.raises(TypeError, match="out of range"):
        lax.gather(x, np.zeros((2, 1), np.int32), dn, (1, 5))
    with pytest.raises(TypeError, match="rank >= 1"):
        lax.gather(x, np.int32(0), dn, (1, 4))
    sdn = ScatterDimensionNumbers((1,), (0,), (0,))
    with pytest.raises(TypeError, match="same dtypes"):
        lax.scatter_add(x, np.zeros((2, 1), np.int32), np.zeros((2, 4), np.float32), sdn)
    with pytest.raises(TypeError, match="scatter dimensions"):
        lax.scatter_add(x, np.zeros((2, 1), np.int32), np.zeros((3, 4)), sdn)
    with pytest.raises(TypeError, match="larger than"):
        lax.scatter(x, np.zeros((2, 1), np.int32), np.zeros((2, 5)), sdn)
    assert GatherScatterMode.from_any("drop") is GatherScatterMode.FILL_OR_DROP


def test_scatter_jaxpr_names_and_hashable_params():
    x = Array(np.zeros(4, np.float32))
    closed = jax.make_jaxpr(lambda x: x.at[A([1, 1])].add(1.0))(x)
    (eqn,) = [e for e in closed.eqns if e.primitive.name == "scatter-add"]
    hash(tuple(sorted(eqn.params.items())))
    g = jax.make_jaxpr(lambda x: x.at[A([9])].get(mode="fill"))(x).eqns[-1]
    assert g.params["fill_value"] != g.params["fill_value"]  # NaN
    assert hash(tuple(sorted(g.params.items()))) == hash(tuple(sorted(g.params.items())))


# ------------------------------------------------------------------------------------------
# Transformations: jvp / vjp against finite differences, vmap against a loop, jit vs eager
# ------------------------------------------------------------------------------------------

from jaxlite import api  # noqa: E402
from jaxlite.test_util import check_grads  # noqa: E402


IDX = A([0, 3, 3, 1])
GRAD_CASES = {
    "getitem_array": lambda x: lax.sin(x[IDX, 1:]),
    "getitem_basic": lambda x: x[1, ::-2] * x[2, :3],
    "getitem_2d_adv": lambda x: x[A([[0, 1], [3, 3]]), A([2, 0])],
    "getitem_mask": lambda x: x[np.arange(20).reshape(4, 5) % 3 == 0],
    "get_fill": lambda x: x.at[A([0, 9, -9, 2])].get(mode="fill", fill_value=0.0),
    "take": lambda x: jnp.take(x, A([[0, 4], [19, 3]])),
    "take_along_axis": lambda x: jnp.take_along_axis(x, A([[0, 4, 4], [1, 1, 0]] * 2), axis=1),
    "set_unique": lambda x: x.at[1:3, 2].set(x[0, :2] ** 2),
    "set_repeated": lambda x: x.at[IDX].set(x[:, ::-1] * 3.0),
    "add": lambda x: x.at[IDX, 1].add(lax.sin(x[:, 0])),
    "add_oob": lambda x: x.at[A([0, 7, -9])].add(x[1:4] * x[1:4]),
    "multiply_operand": lambda x: x.at[IDX].multiply(3.0),
    "multiply_unique": lambda x: x.at[A([0, 2])].multiply(x[1:3], unique_indices=True),
    "min": lambda x: x.at[IDX].min(x[:, ::-1]),
    "max": lambda x: x.at[IDX, :2].max(x[:, 3:] * 2.0),
    "subtract": lambda x: x.at[IDX].subtract(lax.exp(x[:, 1:2])),
    "divide": lambda x: x.at[A([1, 2])].divide(x[0, :] + 3.0, unique_indices=True),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_grads_of_indexing(name):
    x = np.random.default_rng(3).normal(size=(4, 5))
    fn = GRAD_CASES[name]
    check_grads(lambda x: fn(jnp.asarray(x)), (x,), order=2)


def test_grad_of_max_ties_splits_equally():
    f = lambda x, y: lax.reduce_sum(x.at[A([0, 0])].max(y), (0,))  # noqa: E731
    gx, gy = api.grad(f, argnums=(0, 1))(Array(np.array([2.0, 1.0])), Array(np.array([2.0, 2.0])))
    np.testing.assert_allclose(np.asarray(gx), [1 / 3, 1.0])
    np.testing.assert_allclose(np.asarray(gy), [1 / 3, 1 / 3])


def test_grad_of_out_of_bounds_is_zero():
    f = lambda y: lax.reduce_sum(Array(np.zeros(3)).at[A([1, 5])].add(y), (0,))  # noqa: E731
    np.testing.assert_array_equal(np.asarray(api.grad(f)(Array(np.ones(2)))), [1.0, 0.0])
    g = lambda x: lax.reduce_sum(x.at[A([1, 5])].get(mode="fill", fill_value=0.0), (0,))  # noqa
    np.testing.assert_array_equal(np.asarray(api.grad(g)(Array(np.ones(3)))), [0.0, 1.0, 0.0])


def test_scatter_mul_updates_grad_needs_unique_indices():
    f = lambda x: lax.reduce_sum(x.at[A([0, 0])].multiply(x[1:3]), (0,))  # noqa: E731
    with pytest.raises(NotImplementedError, match="unique_indices=True"):
        api.grad(f)(Array(np.ones(3)))


def _stack(outs):
    return np.stack([np.asarray(o) for o in outs])


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("batched", ["operand", "indices", "both"])
def test_vmap_gather_matches_loop(seed, batched):
    c = _random_config(seed)
    rng = c["rng"]
    B = 3
    op_b = rng.normal(size=(B,) + c["op_shape"])
    idx_b = np.stack(
        [rng.integers(-2, max(c["op_shape"]) + 2, size=c["indices"].shape) for _ in range(B)]
    ).astype(np.int32)
    op_ax = 1 if c["indices"].ndim > 0 and len(c["op_shape"]) > 0 else 0
    ops = np.moveaxis(op_b, 0, op_ax)
    ax_op = op_ax if batched != "indices" else None
    ax_idx = 0 if batched != "operand" else None
    op_in = ops if ax_op is not None else op_b[0]
    idx_in = idx_b if ax_idx is not None else idx_b[0]
    for mode in ("clip", "fill"):
        f = lambda o, i, mode=mode: lax.gather(o, i, c["gdn"], c["sizes"], mode=mode)  # noqa
        got = api.vmap(f, in_axes=(ax_op, ax_idx))(Array(op_in), Array(idx_in))
        want = _stack(
            [
                f(
                    Array(op_b[b] if ax_op is not None else op_b[0]),
                    Array(idx_b[b] if ax_idx is not None else idx_b[0]),
                )
                for b in range(B)
            ]
        )
        np.testing.assert_array_equal(np.asarray(got), want)
    names = [
        e.primitive.name
        for e in jax.make_jaxpr(api.vmap(f, in_axes=(ax_op, ax_idx)))(
            Array(op_in), Array(idx_in)
        ).eqns
    ]
    assert names.count("gather") == 1  # one gather, no loop


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("which", range(len(SCATTERS)))
@pytest.mark.parametrize("batched", ["operand", "indices", "updates", "all"])
def test_vmap_scatter_matches_loop(seed, which, batched):
    c = _random_config(seed)
    g, rng, B = c["gdn"], c["rng"], 3
    sdn = ScatterDimensionNumbers(
        g.offset_dims,
        g.collapsed_slice_dims,
        g.start_index_map,
        g.operand_batching_dims,
        g.start_indices_batching_dims,
    )
    ushape = gather_reference(np.zeros(c["op_shape"]), c["indices"], g, c["sizes"], "clip", 0).shape
    op_b = rng.normal(size=(B,) + c["op_shape"])
    up_b = rng.normal(size=(B,) + ushape)
    idx_b = np.stack(
        [rng.integers(-2, max(c["op_shape"]) + 2, size=c["indices"].shape) for _ in range(B)]
    ).astype(np.int32)
    fn, _ = SCATTERS[which]
    if which == 0:
        up_b[:] = 1.5  # overwrites in an unspecified order: equal values
    axes = {
        "operand": (0, None, None),
        "indices": (None, 0, None),
        "updates": (None, None, 0),
        "all": (0, 0, 0),
    }[batched]
    ins = [a if ax is not None else a[0] for a, ax in zip((op_b, idx_b, up_b), axes)]
    f = lambda o, i, u: fn(o, i, u, sdn, mode="drop")  # noqa: E731
    got = api.vmap(f, in_axes=axes)(*map(Array, ins))
    want = _stack(
        [
            f(
                *[
                    Array(a[b] if ax is not None else a[0])
                    for a, ax in zip((op_b, idx_b, up_b), axes)
                ]
            )
            for b in range(B)
        ]
    )
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


def test_vmap_of_jnp_indexing_and_updates():
    xs = Array(np.arange(24.0).reshape(2, 3, 4))
    idx = Array(np.array([[0, 2], [3, 3]]))
    got = api.vmap(lambda x, i: x[1:, i])(xs, idx)
    want = np.stack([np.asarray(xs)[b][1:, np.asarray(idx)[b]] for b in range(2)])
    np.testing.assert_array_equal(np.asarray(got), want)
    got = api.vmap(lambda x, i: x.at[:, i].add(1.0))(xs, idx)
    want = np.asarray(xs).copy()
    for b in range(2):
        np.add.at(want[b], (slice(None), np.asarray(idx)[b]), 1.0)
    np.testing.assert_array_equal(np.asarray(got), want)
    got = api.vmap(lambda i: xs[0, i])(Array(np.array([0, 2, -1])))  # dynamic scalar index
    np.testing.assert_array_equal(np.asarray(got), np.asarray(xs)[0, [0, 2, -1]])
    g = api.vmap(api.grad(lambda x, i: lax.reduce_sum(x[i] * x[i], (0,))))(
        Array(np.ones((2, 4))), Array(np.array([[1, 1], [0, 3]]))
    )
    np.testing.assert_array_equal(np.asarray(g), [[0, 4, 0, 0], [2, 0, 0, 2]])


# --- jit (C) against eager (NumPy), including out-of-bounds indices and every dtype ----------


@pytest.mark.parametrize("seed", range(10))
def test_jit_gather_and_scatters_match_eager(seed):
    c = _random_config(seed)
    g = c["gdn"]
    sdn = ScatterDimensionNumbers(
        g.offset_dims,
        g.collapsed_slice_dims,
        g.start_index_map,
        g.operand_batching_dims,
        g.start_indices_batching_dims,
    )
    rng = c["rng"]
    ushape = gather_reference(np.zeros(c["op_shape"]), c["indices"], g, c["sizes"], "clip", 0).shape
    dtype = [np.float32, np.float64, np.int32, np.uint8, np.int64][seed % 5]
    op = (rng.normal(size=c["op_shape"]) * 5).astype(dtype)
    up = (rng.normal(size=ushape) * 5).astype(dtype)
    idx = c["indices"].astype(
        [np.int32, np.int64, np.uint8][seed % 3] if seed % 3 != 2 else np.int32
    )

    def f(o, i, u):
        outs = [
            lax.gather(o, i, g, c["sizes"], mode=m) for m in ("clip", "fill", "promise_in_bounds")
        ]
        for fn, _ in SCATTERS[1:]:
            outs += [fn(o, i, u, sdn, mode=m) for m in ("clip", "drop")]
        return outs

    args = (Array(op), Array(idx), Array(up))
    want = f(*args)
    got = jax.jit(f)(*args)
    for w, gt in zip(want, got):
        assert gt.dtype == w.dtype and gt.shape == w.shape
        np.testing.assert_array_equal(np.asarray(gt), np.asarray(w))


def test_jit_indexing_and_at_match_eager():
    x = Array(np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32))

    def f(x, i, j):
        return [
            x[i],
            x[j, 1:4],
            x[::-1, j],
            x.at[i].set(2.0),
            x.at[A([0, 9]), j].add(1.0),
            x.at[j].max(x[0]),
            x.at[:, i].get(mode="fill", fill_value=-1.0),
            jnp.take(x, A([3, 25, -1])),
            x.at[i, 2].set(x[0, 0], mode="clip"),
        ]

    for i, j in [(1, 2), (7, -9), (-1, 3)]:
        args = (x, Array(np.int32(i)), Array(np.array([j, 0], np.int64)))
        for w, g in zip(f(*args), jax.jit(f)(*args)):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_jit_of_grad_and_vmap_of_indexing():
    x = Array(np.random.default_rng(1).normal(size=(5, 3)))
    i = Array(np.array([4, 0, 4]))
    loss = lambda x, i: lax.reduce_sum(lax.sin(x[i]) * x.at[i, 0].add(1.0)[1:4], (0, 1))  # noqa
    np.testing.assert_allclose(
        np.asarray(jax.jit(api.grad(loss))(x, i)), np.asarray(api.grad(loss)(x, i)), rtol=1e-12
    )
    per_ex = jax.jit(api.vmap(lambda r, k: r[k], in_axes=(0, 0)))(
        x, Array(np.array([2, 0, 1, 1, 2]))
    )
    np.testing.assert_array_equal(np.asarray(per_ex), np.asarray(x)[np.arange(5), [2, 0, 1, 1, 2]])


def test_lowered_c_uses_64_bit_index_arithmetic():
    f = lambda x, i: x.at[i].add(1.0)[i]  # noqa: E731
    src = jax.jit(f).lower(Array(np.zeros((3, 4))), Array(np.array([1, 2], np.int32))).as_c()
    assert "jl_clamp_start((int64_t)" in src and "const int64_t start" in src
    assert "const int64_t at" in src and " int " not in src.replace("int64_t", "")
