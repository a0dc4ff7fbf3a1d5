"""jaxlite.Array: immutability, zero-copy NumPy interop, printing, operators, methods, pickling,
weak types. Operators and methods are checked eagerly and under tracing against NumPy."""

import copy
import pickle

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core
from jaxlite.array import Array

f32 = np.float32


# ---- immutability and NumPy interop -----------------------------------------------------------


def test_np_asarray_returns_the_buffer_without_a_copy():
    x = jnp.arange(6.0).reshape(2, 3)
    a, b = np.asarray(x), np.asarray(x)
    assert np.shares_memory(a, b)
    assert a.flags.c_contiguous and not a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a[0, 0] = 1.0


def test_np_array_copies_and_dtype_changes_copy():
    x = jnp.arange(3.0)
    c = np.array(x)
    assert c.flags.writeable and not np.shares_memory(c, np.asarray(x))
    c[0] = 7.0
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])
    d = np.asarray(x, dtype=np.float32)
    assert d.dtype == np.float32 and not np.shares_memory(d, np.asarray(x))
    with pytest.raises(ValueError, match="copy"):
        np.array(x, dtype=np.float32, copy=False)


def test_arrays_never_alias_a_writable_numpy_input():
    src = np.arange(4.0)
    for make in (jnp.asarray, jnp.array, Array, lambda a: jnp.reshape(a, (2, 2)),
                 lambda a: jnp.transpose(a), lambda a: a + 0):  # fmt: skip
        out = make(src)
        src[0] = 100.0
        assert float(np.asarray(out).ravel()[0]) == 0.0, make
        src[0] = 0.0


def test_setitem_and_attribute_assignment_are_refused():
    x = jnp.ones(3)
    with pytest.raises(TypeError, match=r"immutable.*x\.at\[idx\]\.set\(y\)"):
        x[1] = 0.0
    with pytest.raises(AttributeError):
        x.foo = 1


def test_copy_deepcopy_and_hash():
    x = jnp.ones(3)
    assert copy.copy(x) is x and copy.deepcopy(x) is x
    y = x.copy()
    assert y is not x and not np.shares_memory(np.asarray(x), np.asarray(y))
    with pytest.raises(TypeError, match="unhashable"):
        hash(x)


def test_block_until_ready_returns_the_array():
    x = jnp.ones(3)
    assert x.block_until_ready() is x


@pytest.mark.parametrize("weak", [False, True])
def test_pickling_keeps_value_dtype_and_weak_type(weak):
    x = jnp.asarray(2.5) if weak else jnp.arange(6, dtype=jnp.int32).reshape(2, 3)
    y = pickle.loads(pickle.dumps(x))
    assert type(y) is Array and y.dtype == x.dtype and y.shape == x.shape
    assert y.weak_type == x.weak_type == weak
    np.testing.assert_array_equal(y, x)
    assert not np.asarray(y).flags.writeable


# ---- printing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: jnp.array([1.0, 2.0], jnp.float32), "Array([1., 2.], dtype=float32)"),
        (lambda: jnp.array(1.0, jnp.float32), "Array(1., dtype=float32)"),
        (lambda: jnp.asarray(1.0), "Array(1., dtype=float64, weak_type=True)"),
        (lambda: jnp.array([1, 2], jnp.int32), "Array([1, 2], dtype=int32)"),
        (lambda: jnp.array([1, 2], jnp.uint8), "Array([1, 2], dtype=uint8)"),
        (lambda: jnp.array([True, False]), "Array([ True, False], dtype=bool)"),
        (lambda: jnp.zeros((0,), jnp.float32), "Array([], shape=(0,), dtype=float32)"),
        (lambda: jnp.zeros((2, 0), jnp.int32), "Array([], shape=(2, 0), dtype=int32)"),
        (
            lambda: jnp.arange(4.0, dtype=jnp.float32).reshape(2, 2),
            "Array([[0., 1.],\n       [2., 3.]], dtype=float32)",
        ),
    ],
)
def test_repr_like_jax(make, expected):
    assert repr(make()) == expected


def test_long_arrays_are_summarised_and_str_is_numpys():
    r = repr(jnp.arange(2000.0))
    assert r.startswith("Array([0.000e+00,") and "..." in r and r.endswith("dtype=float64)")
    x = jnp.array([1.0, 2.0])
    assert str(x) == str(np.array([1.0, 2.0]))
    assert f"{jnp.asarray(3.14159):.2f}" == "3.14"


# ---- weak types -------------------------------------------------------------------------------


def test_python_scalars_are_weak_and_never_widen_float32():
    x = jnp.ones(3, jnp.float32)
    for y in (x + 1.0, 2 * x, x / 3, x**2, x - jnp.asarray(1.0), jnp.asarray(0.5) * x):
        assert y.dtype == np.float32 and not y.weak_type
    w = jnp.asarray(1.0) + 2
    assert w.dtype == np.float64 and w.weak_type
    i = jnp.ones(3, jnp.int32)
    assert (i + 1).dtype == np.int32 and (i * 2.0).dtype == np.float64
    assert (jnp.ones(3, jnp.uint8) + 1).dtype == np.uint8


def test_numpy_arrays_are_strongly_typed():
    x = jnp.ones(3, jnp.float32)
    assert (x + np.float64(1.0)).dtype == np.float64
    assert (x + np.ones(3)).dtype == np.float64
    assert (np.ones(3) + x).dtype == np.float64 and type(np.ones(3) + x) is Array


# ---- operators and methods, eagerly and under tracing -----------------------------------------

X = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], f32)
Y = np.array([[2.0, 1.0, -3.0], [1.5, -2.0, 4.0]], f32)
K = np.array([[3, -7, 8], [1, 6, -2]], np.int32)
L = np.array([[2, 3, -3], [4, 5, 1]], np.int32)

# name, jaxlite function of (x, y), NumPy reference, inputs
# fmt: off
OPS = [
    ("add", lambda x, y: x + y, np.add, (X, Y)),
    ("sub", lambda x, y: x - y, np.subtract, (X, Y)),
    ("mul", lambda x, y: x * y, np.multiply, (X, Y)),
    ("truediv", lambda x, y: x / y, np.true_divide, (X, Y)),
    ("floordiv", lambda x, y: x // y, np.floor_divide, (X, Y)),
    ("floordiv-int", lambda x, y: x // y, np.floor_divide, (K, L)),
    ("mod", lambda x, y: x % y, np.mod, (X, Y)),
    ("mod-int", lambda x, y: x % y, np.mod, (K, L)),
    ("pow", lambda x, y: abs(x) ** y, lambda x, y: np.abs(x) ** y, (X, Y)),
    ("matmul", lambda x, y: x @ y.T, lambda x, y: x @ y.T, (X, Y)),
    ("neg", lambda x, y: -x, lambda x, y: -x, (X, Y)),
    ("pos", lambda x, y: +x, lambda x, y: +x, (X, Y)),
    ("abs", lambda x, y: abs(x), lambda x, y: np.abs(x), (X, Y)),
    ("lt", lambda x, y: x < y, np.less, (X, Y)),
    ("le", lambda x, y: x <= y, np.less_equal, (X, Y)),
    ("gt", lambda x, y: x > y, np.greater, (X, Y)),
    ("ge", lambda x, y: x >= y, np.greater_equal, (X, Y)),
    ("eq", lambda x, y: x == y, np.equal, (X, X)),
    ("ne", lambda x, y: x != y, np.not_equal, (X, Y)),
    ("and", lambda x, y: x & y, np.bitwise_and, (K, L)),
    ("or", lambda x, y: x | y, np.bitwise_or, (K, L)),
    ("xor", lambda x, y: x ^ y, np.bitwise_xor, (K, L)),
    ("invert", lambda x, y: ~x, lambda x, y: ~x, (K, L)),
    ("lshift", lambda x, y: x << 2, lambda x, y: x << 2, (K, L)),
    ("rshift", lambda x, y: x >> 1, lambda x, y: x >> 1, (K, L)),
    ("radd", lambda x, y: 1.0 + x, lambda x, y: 1.0 + x, (X, Y)),
    ("rsub", lambda x, y: 1.0 - x, lambda x, y: 1.0 - x, (X, Y)),
    ("rmul", lambda x, y: 2 * x, lambda x, y: 2 * x, (X, Y)),
    ("rtruediv", lambda x, y: 1.0 / y, lambda x, y: 1.0 / y, (X, Y)),
    ("rpow", lambda x, y: 2.0**x, lambda x, y: np.float32(2.0) ** x, (X, Y)),
    ("getitem", lambda x, y: x[1, ::-1], lambda x, y: x[1, ::-1], (X, Y)),
    ("getitem-none", lambda x, y: x[None, :, 0], lambda x, y: x[None, :, 0], (X, Y)),
    ("T", lambda x, y: x.T, lambda x, y: x.T, (X, Y)),
    ("reshape", lambda x, y: x.reshape(3, 2), lambda x, y: x.reshape(3, 2), (X, Y)),
    ("reshape-tuple", lambda x, y: x.reshape((-1,)), lambda x, y: x.reshape(-1), (X, Y)),
    ("astype", lambda x, y: x.astype(jnp.int32), lambda x, y: x.astype(np.int32), (X, Y)),
    ("sum", lambda x, y: x.sum(), lambda x, y: x.sum(), (X, Y)),
    ("sum-axis", lambda x, y: x.sum(axis=0), lambda x, y: x.sum(axis=0), (X, Y)),
    ("mean", lambda x, y: x.mean(1), lambda x, y: x.mean(1), (X, Y)),
    ("max", lambda x, y: x.max(), lambda x, y: x.max(), (X, Y)),
    ("min", lambda x, y: x.min(axis=1), lambda x, y: x.min(axis=1), (X, Y)),
    ("prod", lambda x, y: x.prod(0), lambda x, y: x.prod(0), (X, Y)),
    ("transpose", lambda x, y: x.transpose(), lambda x, y: x.transpose(), (X, Y)),
    ("transpose-axes", lambda x, y: x.transpose(1, 0), lambda x, y: x.transpose(1, 0), (X, Y)),
    ("squeeze", lambda x, y: x[:1].squeeze(), lambda x, y: x[:1].squeeze(), (X, Y)),
    ("ravel", lambda x, y: x.ravel(), lambda x, y: x.ravel(), (X, Y)),
    ("dot", lambda x, y: x.dot(y.T), lambda x, y: x.dot(y.T), (X, Y)),
    ("clip", lambda x, y: x.clip(-1, 1), lambda x, y: x.clip(-1, 1), (X, Y)),
    ("argmax", lambda x, y: x.argmax(), lambda x, y: x.argmax(), (X, Y)),
    ("argmin", lambda x, y: x.argmin(axis=1), lambda x, y: x.argmin(axis=1), (X, Y)),
]
# fmt: on


def _check(got, want, name):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, name
    assert got.dtype.kind == want.dtype.kind, (name, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("name, fn, ref, args", OPS, ids=[o[0] for o in OPS])
def test_operators_and_methods_eagerly(name, fn, ref, args):
    out = fn(*map(jnp.asarray, args))
    assert type(out) is Array, name
    _check(out, ref(*args), name)


@pytest.mark.parametrize("name, fn, ref, args", OPS, ids=[o[0] for o in OPS])
def test_operators_and_methods_on_tracers(name, fn, ref, args):
    closed = jaxlite.make_jaxpr(fn)(*args)
    (out,) = core.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    _check(out, ref(*args), name)


def test_metadata_len_iteration_and_conversions():
    x = jnp.asarray(X)
    assert (x.shape, x.dtype, x.ndim, x.size) == ((2, 3), np.float32, 2, 6)
    assert x.nbytes == 24 and x.itemsize == 4 and len(x) == 2
    rows = list(x)
    assert len(rows) == 2 and type(rows[0]) is Array
    np.testing.assert_array_equal(rows[1], X[1])
    s = x[0, 0]
    assert float(s) == 1.5 and int(s) == 1 and bool(s) and s.item() == 1.5
    assert x.tolist() == X.tolist()
    with pytest.raises(TypeError, match="len"):
        len(s)


def test_tracer_metadata_and_len():
    def f(x):
        assert (x.shape, x.dtype, x.ndim, x.size, len(x)) == ((2, 3), np.float32, 2, 6, 2)
        assert x.T.shape == (3, 2)
        return x

    jaxlite.make_jaxpr(f)(X)


@pytest.mark.parametrize(
    "method, ref",
    [
        ("set", lambda a, i, v: _np_at(a, i, v, lambda o, n: n)),
        ("add", lambda a, i, v: _np_at(a, i, v, np.add)),
        ("multiply", lambda a, i, v: _np_at(a, i, v, np.multiply)),
        ("min", lambda a, i, v: _np_at(a, i, v, np.minimum)),
        ("max", lambda a, i, v: _np_at(a, i, v, np.maximum)),
    ],
)
def test_at_updates_return_new_arrays(method, ref):
    x = jnp.asarray(X)
    for idx, val in [((0, 1), 10.0), ((slice(None), 2), -5.0), ((1,), np.ones(3, f32))]:
        out = getattr(x.at[idx], method)(val)
        assert type(out) is Array and out.dtype == np.float32
        np.testing.assert_array_equal(out, ref(X, idx, val))
    np.testing.assert_array_equal(x, X)  # the original is unchanged


def _np_at(a, idx, v, op):
    out = a.copy()
    out[idx] = op(out[idx], v)
    return out


def test_at_get():
    x = jnp.asarray(X)
    np.testing.assert_array_equal(x.at[1, ::2].get(), X[1, ::2])
