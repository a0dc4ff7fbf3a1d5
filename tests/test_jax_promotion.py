"""JAX's dtype rules, pinned: its type-promotion lattice (not NumPy's) with weak Python scalars,
and the float dtype that functions needing floats give integer and bool inputs.

The expected dtypes are JAX 0.10.2's with x64 enabled, hard-coded below; where JAX is importable
(`pip install jax`, the test-only oracle) every entry is also checked against it live.
"""

import numpy as np
import pytest

import jaxlite.numpy as jnp
from jaxlite import dtypes

try:
    import jax
    import jax.numpy as jjnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # the live checks skip; the hard-coded tables still run
    jax = jjnp = None

needs_jax = pytest.mark.skipif(jax is None, reason="JAX not installed: pip install jax (oracle)")

SHORT = {"b": "bool", "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
         "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64", "f32": "float32",
         "f64": "float64"}  # fmt: skip

# jax.dtypes.result_type(a, b, return_weak_type_flag=True) with x64; "i*"/"f*" are Python int and
# float, a trailing "*" marks a weakly typed result.
# fmt: off
JAX_TABLE = [
    #       b    u8   u16   u32   u64    i8   i16   i32   i64   f32   f64    i*    f*
    "   b     b    u8   u16   u32   u64    i8   i16   i32   i64   f32   f64  i64*  f64*",
    "  u8    u8    u8   u16   u32   u64   i16   i16   i32   i64   f32   f64    u8  f64*",
    " u16   u16   u16   u16   u32   u64   i32   i32   i32   i64   f32   f64   u16  f64*",
    " u32   u32   u32   u32   u32   u64   i64   i64   i64   i64   f32   f64   u32  f64*",
    " u64   u64   u64   u64   u64   u64  f64*  f64*  f64*  f64*   f32   f64   u64  f64*",
    "  i8    i8   i16   i32   i64  f64*    i8   i16   i32   i64   f32   f64    i8  f64*",
    " i16   i16   i16   i32   i64  f64*   i16   i16   i32   i64   f32   f64   i16  f64*",
    " i32   i32   i32   i32   i64  f64*   i32   i32   i32   i64   f32   f64   i32  f64*",
    " i64   i64   i64   i64   i64  f64*   i64   i64   i64   i64   f32   f64   i64  f64*",
    " f32   f32   f32   f32   f32   f32   f32   f32   f32   f32   f32   f64   f32   f32",
    " f64   f64   f64   f64   f64   f64   f64   f64   f64   f64   f64   f64   f64   f64",
    "  i*  i64*    u8   u16   u32   u64    i8   i16   i32   i64   f32   f64  i64*  f64*",
    "  f*  f64*  f64*  f64*  f64*  f64*  f64*  f64*  f64*  f64*   f32   f64  f64*  f64*",
]
# fmt: on
_COLS = ["b", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64", "i*", "f*"]
TABLE = {}
for _row in JAX_TABLE:
    _a, *_cells = _row.split()
    for _b, _cell in zip(_COLS, _cells, strict=True):
        TABLE[_a, _b] = (SHORT[_cell.rstrip("*")], _cell.endswith("*"))

SUPPORTED = ["b", "u8", "u32", "i32", "i64", "f32", "f64"]
_NAMES = {v: k for k, v in SHORT.items()}


def jax_promote(a, b) -> np.dtype:
    """JAX's promotion of two (strong) dtypes, from the table: for other tests' expectations."""
    return np.dtype(TABLE[_NAMES[np.dtype(a).name], _NAMES[np.dtype(b).name]][0])


WEAK = ["i*", "f*"]
PAIRS = [(a, b) for a in SUPPORTED + WEAK for b in SUPPORTED + WEAK]


def _dtype_weak(k):
    """A table key as jaxlite's `(dtype, weak_type)`: Python scalars are weak x64 defaults."""
    if k == "i*":
        return np.dtype("int64"), True
    if k == "f*":
        return np.dtype("float64"), True
    return np.dtype(SHORT[k]), False


def _type(k):
    """A table key as a dtype argument of promote_types/result_type (Python types are weak)."""
    return {"i*": int, "f*": float}.get(k) or SHORT[k]


def _value(mod, k):
    """A table key as a value: a Python scalar or a 1-d array of that dtype."""
    if k == "i*":
        return 2
    if k == "f*":
        return 2.0
    return mod.asarray(np.array([1, 0, 1], SHORT[k]))


@pytest.mark.parametrize("a,b", PAIRS)
def test_result_type_pairs(a, b):
    """`dtypes.result_type` gives JAX's dtype and weak type for every pair jaxlite holds."""
    dt, weak = dtypes.result_type(_dtype_weak(a), _dtype_weak(b))
    assert (dt.name, weak) == TABLE[a, b]


def test_lattice_covers_the_coming_int_dtypes():
    """The lattice already places int8/int16/uint16/uint64: every pair of strong dtypes, and
    every strong dtype with a Python scalar, joins as in JAX's table."""
    for a in _COLS:
        for b in _COLS:
            if a in WEAK and b in WEAK:
                continue  # all-weak inputs join their strong dtypes (checked above)
            node = dtypes._lub(frozenset({SHORT.get(a, a), SHORT.get(b, b)}))
            got = {"i*": ("int64", True), "f*": ("float64", True)}.get(node, (node, False))
            assert got == TABLE[a, b], (a, b)


@pytest.mark.parametrize("a,b", PAIRS)
def test_jnp_promote_types_and_result_type(a, b):
    want, weak = TABLE[a, b]
    if weak:  # jnp.result_type / promote_types give the default dtype of a weak result's kind
        want = "int64" if want[0] in "iu" else "float64"
    assert jnp.promote_types(_type(a), _type(b)) == np.dtype(want)
    assert jnp.result_type(_type(a), _type(b)) == np.dtype(want)
    assert jnp.result_type(_value(jnp, a), _value(jnp, b)) == np.dtype(want)


@pytest.mark.parametrize("a,b", PAIRS)
def test_binary_ops_promote_on_the_lattice(a, b):
    """jnp.add, where, concatenate, dot, clip, ... all promote through the same lattice."""
    want, weak = TABLE[a, b]
    x, y = _value(jnp, a), _value(jnp, b)
    r = jnp.multiply(x, y)
    assert (r.dtype.name, r.weak_type) == (want, weak)
    assert jnp.where(jnp.asarray([True, False, True]), x, y).dtype == np.dtype(want)
    if a not in WEAK and b not in WEAK:
        assert jnp.concatenate([x, y]).dtype == np.dtype(want)
        assert jnp.stack([x, y]).dtype == np.dtype(want)
        assert jnp.dot(x, y).dtype == np.dtype(want)
        assert jnp.clip(x, y, y).dtype == np.dtype(want)


def test_the_issue_examples():
    """Issue 15, known wrong result 3: int32 + float32 is float32 (NumPy: float64)."""
    r = jnp.arange(3, dtype=jnp.int32) + jnp.ones(3, jnp.float32)
    assert r.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(r), [1.0, 2.0, 3.0])
    assert (jnp.ones(3, jnp.uint32) + jnp.ones(3, jnp.int32)).dtype == np.int64
    assert (jnp.ones(3, jnp.int64) * jnp.ones(3, jnp.float32)).dtype == np.float32
    assert (jnp.ones(3, jnp.uint8) + 3).dtype == np.uint8
    with pytest.raises(OverflowError):
        jnp.ones(3, jnp.uint8) + 300  # as JAX: a Python int must fit the weak dtype it takes


@needs_jax
@pytest.mark.parametrize("a,b", PAIRS)
def test_table_agrees_with_live_jax(a, b):
    d, w = jax.dtypes.result_type(_type(a), _type(b), return_weak_type_flag=True)
    assert (np.dtype(d).name, w) == TABLE[a, b]
    r = jjnp.multiply(_value(jjnp, a), _value(jjnp, b))
    assert (r.dtype.name, r.aval.weak_type) == TABLE[a, b]


@needs_jax
def test_full_table_agrees_with_live_jax():
    for a in _COLS:
        for b in _COLS:
            d, w = jax.dtypes.result_type(_type(a), _type(b), return_weak_type_flag=True)
            assert (np.dtype(d).name, w) == TABLE[a, b], (a, b)


# ------------------------------------------------------------------------------------------
# Inexact results of integer and bool inputs (JAX's `to_inexact_dtype`)
# ------------------------------------------------------------------------------------------

# bool and ints of up to 32 bits give float32 even with x64; 64-bit ints give float64.
INEXACT = {"b": "float32", "u8": "float32", "u16": "float32", "u32": "float32", "u64": "float64",
           "i8": "float32", "i16": "float32", "i32": "float32", "i64": "float64",
           "f32": "float32", "f64": "float64"}  # fmt: skip


def jax_inexact(dtype) -> np.dtype:
    """JAX's `to_inexact_dtype` of a supported dtype, from the table: for other tests."""
    return np.dtype(INEXACT[_NAMES[np.dtype(dtype).name]])


UNARY = ["sin", "cos", "tan", "arcsin", "arctan", "sinh", "cosh", "tanh", "arcsinh", "exp",
         "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "reciprocal", "fabs",
         "deg2rad", "rad2deg", "sinc", "mean", "std", "var", "nanmean", "nanstd", "nanvar",
         "average", "median", "nanmedian", "linalg.norm", "cov", "corrcoef",
         "trapezoid"]  # fmt: skip
BINARY = ["true_divide", "divide", "arctan2", "hypot", "logaddexp", "logaddexp2", "copysign",
          "float_power", "nextafter", "heaviside"]  # fmt: skip
QUANTILE = ["quantile", "percentile", "nanquantile"]


def _fn(mod, name):
    for part in name.split("."):
        mod = getattr(mod, part)
    return mod


def _arg(mod, k):
    return mod.asarray(np.array([1, 0, 1, 1], SHORT[k]))


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("k", SUPPORTED)
def test_inexact_unary(name, k):
    assert _fn(jnp, name)(_arg(jnp, k)).dtype == np.dtype(INEXACT[k])


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("a,b", [(a, b) for a in SUPPORTED for b in SUPPORTED])
def test_inexact_binary(name, a, b):
    """The lattice's result, then `to_inexact`: int32 / int32 is float32, int32 / uint32 (int64)
    is float64."""
    want = INEXACT[next(k for k, v in SHORT.items() if v == TABLE[a, b][0])]
    assert _fn(jnp, name)(_arg(jnp, a), _arg(jnp, b)).dtype == np.dtype(want)


@pytest.mark.parametrize("name", QUANTILE)
@pytest.mark.parametrize("k", SUPPORTED)
def test_inexact_quantile(name, k):
    """The dtype of `a` made inexact; q does not take part (JAX, unlike NumPy)."""
    q = 50.0 if "percentile" in name else 0.5
    assert _fn(jnp, name)(_arg(jnp, k), q).dtype == np.dtype(INEXACT[k])
    assert _fn(jnp, name)(_arg(jnp, k), jnp.asarray(q, jnp.float64)).dtype == INEXACT[k]


def test_the_mean_of_bools_is_float32():
    """Issue 15, known wrong result 2: `jnp.mean(pred == label)` accuracies are float32."""
    r = jnp.mean(jnp.array([True, False]))
    assert r.dtype == np.float32 and float(r) == 0.5
    assert jnp.sin(jnp.arange(3, dtype=jnp.int32)).dtype == np.float32
    assert jnp.sin(jnp.arange(3, dtype=jnp.int64)).dtype == np.float64
    assert jnp.sin(1).dtype == np.float64 and jnp.sin(1).weak_type


@needs_jax
@pytest.mark.parametrize("name", UNARY + QUANTILE)
@pytest.mark.parametrize("k", SUPPORTED)
def test_inexact_unary_agrees_with_live_jax(name, k):
    args = (0.5,) if name in QUANTILE else ()
    assert str(_fn(jjnp, name)(_arg(jjnp, k), *args).dtype) == INEXACT[k]


@needs_jax
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("a", SUPPORTED)
def test_inexact_binary_agrees_with_live_jax(name, a):
    for b in SUPPORTED + WEAK:
        x, y = _arg(jjnp, a), (_value(jjnp, b) if b in WEAK else _arg(jjnp, b))
        r, m = _fn(jjnp, name)(x, y), _fn(jnp, name)(_arg(jnp, a), y if b in WEAK else _arg(jnp, b))
        assert r.dtype == m.dtype, (a, b)
