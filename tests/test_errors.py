"""Every error the foundation promises: what it is, what it names, and what fix it suggests."""

import inspect
import operator
import traceback

import ml_dtypes
import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, lax
from jaxlite.errors import (
    ConcretizationTypeError,
    JaxliteError,
    TracerArrayConversionError,
    TracerBoolConversionError,
    TracerIntegerConversionError,
    UnexpectedTracerError,
)

f32 = np.float32


def here() -> int:
    """The line number of the caller."""
    return inspect.currentframe().f_back.f_lineno


# ---- shape and dtype errors name the primitive, the shapes and the dtypes ---------------------


def traced_and_eager(fn, *args):
    """Yields a runner per route: staged (abstract eval) and eager (NumPy impl)."""
    return [lambda: jaxlite.make_jaxpr(fn)(*args), lambda: fn(*args)]


@pytest.mark.parametrize("route", [0, 1], ids=["traced", "eager"])
def test_incompatible_shapes_name_primitive_and_shapes(route):
    run = traced_and_eager(lax.add, np.ones(3, f32), np.ones(4, f32))[route]
    with pytest.raises(
        TypeError, match=r"^add got incompatible shapes for broadcasting: \(3,\), \(4,\)$"
    ):
        run()


# fmt: off
@pytest.mark.parametrize(
    "fn, args, pattern",
    [
        (lax.add, (np.ones(3, f32), np.ones(3, np.int32)),
         r"add requires arguments to have the same dtypes, got float32, int32"),
        (lax.sin, (np.ones(3, np.int32),), r"sin does not accept dtype int32"),
        (lax.bitwise_and, (np.ones(3, f32), np.ones(3, f32)), r"and does not accept dtype float32"),
        (lambda x: lax.reduce_sum(x, (3,)), (np.ones((2, 3), f32),),
         r"\[reduce_sum\] axis 3 out of range for shape \(2, 3\)"),
        (lambda x: lax.reshape(x, (4, 2)), (np.ones((2, 3), f32),),
         r"reshape: cannot reshape an array of shape \(2, 3\) into shape \(4, 2\)"),
        (lambda x, y: lax.dot_general(x, y, (((1,), (0,)), ((), ()))),
         (np.ones((2, 3), f32), np.ones((4, 5), f32)),
         r"dot_general: contracting dimensions \(1,\) of \(2, 3\) and \(0,\) of \(4, 5\)"),
        (lambda x, y: lax.concatenate([x, y], 0), (np.ones((2, 3), f32), np.ones((2, 4), f32)),
         r"concatenate: .*\[\(2, 3\), \(2, 4\)\]"),
        (lambda x: lax.transpose(x, (0, 0)), (np.ones((2, 3), f32),),
         r"transpose: permutation \(0, 0\) .* shape \(2, 3\)"),
        (lambda x: lax.broadcast_in_dim(x, (2, 4), (1,)), (np.ones(3, f32),),
         r"broadcast_in_dim: operand shape \(3,\) cannot be broadcast to \(2, 4\)"),
        (lambda p, x: lax.select_n(p, x, x), (np.ones(2, bool), np.ones(3, f32)),
         r"select_n: `which` has shape \(2,\), cases have shape \(3,\)"),
        (lambda x: lax.convert_element_type(x, np.longdouble), (np.ones(3, f32),),
         r"convert_element_type: dtype float128 is not supported"),
    ],
    ids=["dtypes", "unary-kind", "bitwise-float", "axis", "reshape", "dot", "concat",
         "transpose", "broadcast", "select", "convert"],
)
# fmt: on
def test_shape_and_dtype_errors_under_tracing(fn, args, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        jaxlite.make_jaxpr(fn)(*args)


def test_jnp_broadcasting_errors_name_both_shapes():
    with pytest.raises((TypeError, ValueError)) as e:
        jnp.add(jnp.ones(3), jnp.ones(4))
    assert "(3,)" in str(e.value) and "(4,)" in str(e.value)


# ---- concretization errors ----------------------------------------------------------------


def branchy(x):
    if x > 0:  # the line the message must point at
        return x
    return -x


BRANCH_LINE = inspect.getsourcelines(branchy)[1] + 1


def check_concretization_message(msg: str, what: str, transform: str, fn: str, line: int):
    assert f"{what} was applied to a traced array" in msg
    assert f"{transform} of `{fn}`" in msg
    assert f"{__file__}:{line} (in {fn})" in msg
    assert "lax.cond" in msg and "static_argnums" in msg


@pytest.mark.parametrize(
    "transform, arg",
    [("make_jaxpr", f32(1)), ("jit", f32(1)), ("vmap", np.ones(3, f32))],
)
def test_bool_of_a_tracer_names_operation_function_and_line(transform, arg):
    with pytest.raises(TracerBoolConversionError) as e:
        getattr(jaxlite, transform)(branchy)(arg)
    assert isinstance(e.value, ConcretizationTypeError) and isinstance(e.value, TypeError)
    check_concretization_message(str(e.value), "bool()", transform, "branchy", BRANCH_LINE)


def test_int_float_index_and_asarray_of_a_tracer():
    lines = {}

    def as_int(x):
        lines["int()"] = here() + 1
        return int(x)

    def as_float(x):
        lines["float()"] = here() + 1
        return float(x)

    def as_index(x):
        lines["operator.index()"] = here() + 1
        return list(range(10))[x]

    def as_numpy(x):
        lines["np.asarray()"] = here() + 1
        return np.asarray(x)

    cases = [
        (as_int, TracerIntegerConversionError, "int()"),
        (as_float, ConcretizationTypeError, "float()"),
        (as_index, TracerIntegerConversionError, "operator.index()"),
        (as_numpy, TracerArrayConversionError, "np.asarray()"),
    ]
    for fn, err, what in cases:
        with pytest.raises(err) as e:
            jaxlite.make_jaxpr(fn)(np.int32(3))
        check_concretization_message(str(e.value), what, "make_jaxpr", fn.__name__, lines[what])


def test_item_and_tolist_of_a_tracer():
    for method in ("item", "tolist"):
        with pytest.raises(ConcretizationTypeError, match=rf"\.{method}\(\)"):
            jaxlite.make_jaxpr(lambda x, m=method: getattr(x, m)())(f32(1))


def test_concretization_messages_cost_nothing_while_tracing(monkeypatch):
    # Building the message walks the stack; tracing must never do it unless it raises.
    def forbidden(*a, **k):
        raise AssertionError("the stack was walked during tracing")

    monkeypatch.setattr(core, "user_frame", forbidden)
    monkeypatch.setattr(traceback, "extract_stack", forbidden)

    def f(x):
        for _ in range(20):
            x = jnp.sin(x) * 2.0 + x.sum()
        return x.reshape(3, 1).T

    jaxlite.make_jaxpr(f)(np.ones(3, f32))


# ---- immutability -------------------------------------------------------------------------


def test_item_assignment_on_an_array_shows_the_at_set_form():
    x = jnp.arange(3.0)
    with pytest.raises(TypeError) as e:
        x[0] = 5.0
    msg = str(e.value)
    assert "immutable" in msg and "x.at[idx].set(y)" in msg
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])


def test_item_assignment_on_a_tracer_shows_the_at_set_form():
    def f(x):
        x[0] = 1.0
        return x

    with pytest.raises(TypeError, match=r"immutable.*x\.at\[idx\]\.set\(y\)"):
        jaxlite.make_jaxpr(f)(np.ones(3, f32))


def test_in_place_operators_rebind_instead_of_mutating():
    x = jnp.ones(3)
    y = x
    y += 1
    np.testing.assert_array_equal(x, [1, 1, 1])
    np.testing.assert_array_equal(y, [2, 2, 2])


# ---- escaped tracers --------------------------------------------------------------------------


def leak():
    store = []

    def f(x):
        store.append(x)
        return x

    jaxlite.make_jaxpr(f)(np.ones(3, f32))
    return store[0]


@pytest.mark.parametrize(
    "use",
    [
        lambda t: lax.sin(t),
        lambda t: t + 1.0,
        lambda t: jnp.sum(t),
        lambda t: jaxlite.make_jaxpr(lambda y: y * t)(np.ones(3, f32)),
        lambda t: jaxlite.jit(lambda y: y * t)(np.ones(3, f32)),
    ],
    ids=["lax", "operator", "jnp", "make_jaxpr", "jit"],
)
def test_a_leaked_tracer_raises_unexpected_tracer_error(use):
    t = leak()
    with pytest.raises(UnexpectedTracerError) as e:
        use(t)
    msg = str(e.value)
    assert "make_jaxpr of `f`" in msg and "f32[3]" in msg
    assert "Return it from the function" in msg
    assert isinstance(e.value, JaxliteError)


# ---- inputs that are not arrays --------------------------------------------------------------

BAD_INPUTS = [
    ("str", "abc"),
    ("None", None),
    ("ragged", [[1, 2], [3]]),
    ("object-array", np.array([object(), 1], dtype=object)),
    ("str-array", np.array(["a", "b"])),
    ("dict", {"a": 1}),
    # (complex numbers are valid since issue 21: bytes and datetimes are not)
    ("bytes", b"ab"),
    ("datetime-array", np.array(["2020-01-01", "2021-01-01"], "M8[D]")),
    ("object", object()),
]
ENTRY_POINTS = [
    ("jnp.array", jnp.array),
    ("jnp.asarray", jnp.asarray),
    ("jnp.sin", jnp.sin),
    ("jnp.add", lambda x: jnp.add(x, 1)),
    ("jnp.sum", jnp.sum),
    ("lax.sin", lax.sin),
    ("lax.add", lambda x: lax.add(x, x)),
    ("Array", jaxlite.Array),
]


@pytest.mark.parametrize("entry, fn", ENTRY_POINTS, ids=[e for e, _ in ENTRY_POINTS])
@pytest.mark.parametrize("kind, bad", BAD_INPUTS, ids=[k for k, _ in BAD_INPUTS])
def test_non_array_inputs_raise_a_clear_type_error(entry, fn, kind, bad):
    if entry == "Array" and kind in ("dict", "object"):
        pytest.skip("jaxlite.Array() wraps NumPy's conversion; covered by the object-array case")
    with pytest.raises(TypeError) as e:
        fn(bad)
    msg = str(e.value)
    assert type(e.value) is TypeError or isinstance(e.value, JaxliteError), repr(e.value)
    assert len(msg) > 20 and ("jaxlite" in msg or "array" in msg.lower()), msg


LEAF_INPUTS = [b for b in BAD_INPUTS if b[0] not in ("None", "dict", "ragged")]


@pytest.mark.parametrize("kind, bad", LEAF_INPUTS, ids=[k for k, _ in LEAF_INPUTS])
def test_non_array_inputs_to_transformations(kind, bad):
    # None, dicts and lists are pytrees (of no leaves / of leaves), so they are valid arguments.
    for transform in (jaxlite.make_jaxpr, jaxlite.jit):
        with pytest.raises(TypeError):
            transform(lambda x: x)(bad)


def test_unsupported_numpy_dtypes_name_the_dtype():
    for fn in (lax.sin, lambda x: lax.add(x, x), jaxlite.make_jaxpr(lambda x: x)):
        with pytest.raises(TypeError, match="float8_e4m3fn.*not support"):
            fn(np.ones(2, ml_dtypes.float8_e4m3fn))


def test_operator_index_of_a_concrete_array_works():
    assert operator.index(jnp.asarray(3)) == 3
    assert list(range(5))[jnp.asarray(2)] == 2
