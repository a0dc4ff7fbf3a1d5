"""Bad input and edge cases: clear errors, never a crash; eager and compiled code agree at edges.

- A sweep of the public API (every `jnp` function, every `lax` wrapper, `nn`, `random`, the
  transformations): each array argument in turn replaced by a string, None, a ragged list, an
  object array, a complex number or array, a dict must raise TypeError/ValueError naming the
  function; so must out-of-range axes, bad dtypes and incompatible shapes.
- Out-of-bounds indices: gathers clamp and scatters drop, eagerly, under `jit` and under `vmap`.
- NaN, inf and signed zeros propagate identically in eager and compiled code.
- Integer division and remainder by zero (and INT_MIN / -1) never crash a process (SIGFPE).
- Shapes with more than 2**31 elements are indexed with 64-bit integers in the C (read from the
  generated text; nothing is allocated).
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax, nn, random

X = np.arange(1.0, 7.0).reshape(2, 3)
BAD = {
    "str": "abc",
    "None": None,
    "ragged list": [[1.0, 2.0], [3.0]],
    "object array": np.array([object(), 1], dtype=object),
    # (complex numbers are valid since issue 21: bytes and datetimes are not)
    "bytes": b"ab",
    "datetime array": np.array(["2020-01-01", "2021-01-01", "2022-01-01"], "M8[D]"),
    "dict": {"a": 1.0},
}
OK_ERRORS = (TypeError, ValueError)


def expect_clear_error(call, names, what: str) -> None:
    """`call()` raises TypeError/ValueError whose message names one of `names`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except OK_ERRORS as e:
            msg = str(e)
            assert any(n in msg for n in names), f"{what}: the message does not name {names}: {msg}"
            return
        except Exception as e:  # noqa: BLE001 - the point: nothing else may escape
            pytest.fail(f"{what}: raised {type(e).__name__} instead of TypeError/ValueError: {e}")
    pytest.fail(f"{what}: accepted")


def is_array_arg(a) -> bool:
    return isinstance(a, np.ndarray) or (isinstance(a, list) and a and isinstance(a[0], np.ndarray))


# ------------------------------------------------------------------------------------------
# jnp: every public function
# ------------------------------------------------------------------------------------------

# Functions about dtypes and Python objects, not arrays: they follow NumPy (e.g. isscalar("abc")).
NOT_ARRAY_FUNCTIONS = {
    "can_cast", "dtype", "finfo", "iinfo", "isdtype", "iscomplexobj", "isrealobj", "isscalar",
    "issubdtype", "iterable", "promote_types", "result_type", "ndim", "shape", "size",
}  # fmt: skip
V = np.arange(1.0, 4.0)
# Functions the generic candidates below cannot call: a valid call each.
GOOD_CALLS = {
    "astype": (X, np.float32),
    "dsplit": (np.ones((2, 2, 4)), 2),
    "fill_diagonal": (np.ones((3, 3)), 0.0),
    "fromfunction": (lambda i, j: i + j, (2, 3)),
    "interp": (V, V, V * 2),
    "matmul": (X, X.T),
    "moveaxis": (X, 0, 1),
    "polyval": (V, V),
    "ravel_multi_index": ((np.array([0, 1]), np.array([1, 2])), (2, 3)),
    "searchsorted": (V, V),
    "select": ([V > 1], [V]),
    "swapaxes": (X, 0, 1),
    "take_along_axis": (X, np.zeros((2, 3), np.int32), 1),
    "vecmat": (np.ones(2), X),
    "einsum": ("ij->ji", X),
    "einsum_path": ("ij,jk", X, X.T),
    "histogram2d": (V, V),
    "piecewise": (V, [V > 1], [1.0, 2.0]),
    "polyfit": (V, V, 1),
    "convolve": (V, V),
    "correlate": (V, V),
    # (takes a function, not arrays: like JAX's, it accepts any callable and fails at the call)
    "vectorize": (jnp.sin,),
}
CANDIDATES = [(X,), (X, X), (X, 1), (X, 0), (X, 2, 1), (X, X, X), (X, (3, 2)), ((2, 3),), (3,),
              (X, [0, 1]), (X, np.array([0, 1])), (X, 1, X), (2, 3), ([X, X],)]  # fmt: skip
EXTRA_FILL = {"fill_diagonal": dict(inplace=False)}


def jnp_functions() -> dict:
    out = {}
    for name in sorted(dir(jnp)):
        f = getattr(jnp, name)
        if name.startswith("_") or name in NOT_ARRAY_FUNCTIONS or isinstance(f, type):
            continue
        if callable(f) and getattr(f, "__module__", "").startswith("jaxlite"):
            out[name] = f
    return out


def good_call(name, f):
    kw = EXTRA_FILL.get(name, {})
    for args in [GOOD_CALLS[name]] if name in GOOD_CALLS else CANDIDATES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f(*args, **kw)
            return args, kw
        except Exception:  # noqa: BLE001 - try the next candidate
            continue
    return None


JNP = jnp_functions()
JNP_CALLS = {name: good_call(name, f) for name, f in JNP.items()}


def test_every_public_jnp_function_is_swept():
    missing = sorted(n for n, c in JNP_CALLS.items() if c is None)
    assert not missing, f"add a valid call to GOOD_CALLS for: {missing}"
    assert len(JNP_CALLS) > 250


def _jnp_names(name: str) -> list[str]:
    # The message names the function called, or the jnp function it is an alias of or built on
    # (`jnp.std` -> "jnp.var: ..."): always a `jnp.` name.
    return [f"jnp.{name}", "jnp."]


@pytest.mark.parametrize("name", sorted(JNP_CALLS))
def test_jnp_function_rejects_bad_arguments_clearly(name):
    f = JNP[name]
    args, kw = JNP_CALLS[name]
    for i, a in enumerate(args):
        if not is_array_arg(a):
            continue
        for bad_name, bad in BAD.items():
            if (
                name
                in (
                    "concatenate",
                    "concat",
                    "hstack",
                    "stack",
                    "vstack",
                    "column_stack",
                    "dstack",
                    "block",
                )
                and bad_name == "ragged list"
            ):
                continue  # a list of two 1-d sequences is a valid argument there
            bad_args = list(args)
            bad_args[i] = bad
            expect_clear_error(lambda bad_args=bad_args: f(*bad_args, **kw), _jnp_names(name),
                               f"jnp.{name} with argument {i} = {bad_name}")  # fmt: skip


def _signature_params(f) -> set[str]:
    try:
        return set(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return set()


AXIS_NOT_SUPPORTED = {"unique"}  # a clear NotImplementedError, documented
AXIS_FUNCTIONS = sorted(n for n, f in JNP.items() if "axis" in _signature_params(f))
DTYPE_FUNCTIONS = sorted(n for n, f in JNP.items() if "dtype" in _signature_params(f))


def valid_call(name: str, keyword: str):
    """`jnp.<name>` and its valid call's arguments, skipping the test when that call already
    passes `keyword` positionally."""
    f = JNP[name]
    args, kw = JNP_CALLS[name]
    if len(args) > 1 and keyword in list(inspect.signature(f).parameters)[: len(args)]:
        pytest.skip(f"{keyword} is passed positionally in the valid call")
    return f, args, kw


def expect_bad_keyword_errors(name: str, keyword: str, values) -> None:
    """The valid call of `jnp.<name>` with `keyword=value` added raises a clear error for each
    value."""
    f, args, kw = valid_call(name, keyword)
    for value in values:
        expect_clear_error(lambda value=value: f(*args, **kw, **{keyword: value}), _jnp_names(name),
                           f"jnp.{name} with {keyword}={value!r}")  # fmt: skip


@pytest.mark.parametrize("name", AXIS_FUNCTIONS)
def test_jnp_out_of_range_and_bad_axes_raise(name):
    if name in AXIS_NOT_SUPPORTED:
        f, args, kw = valid_call(name, "axis")
        with pytest.raises(NotImplementedError, match=f"jnp.{name}"):
            f(*args, **kw, axis=0)
        return
    bad = (7, -9, 1.5, "a", None if name == "expand_dims" else 7)
    expect_bad_keyword_errors(name, "axis", bad)


@pytest.mark.parametrize("name", DTYPE_FUNCTIONS)
def test_jnp_unsupported_dtypes_raise(name):
    expect_bad_keyword_errors(name, "dtype", ("not a dtype", np.dtype("M8[D]"), object))


BAD_SHAPES = [
    ("add", lambda: jnp.add(np.ones((2, 3)), np.ones(4))),
    ("where", lambda: jnp.where(np.ones(3, bool), np.ones(2), 0.0)),
    ("matmul", lambda: jnp.matmul(np.ones((2, 3)), np.ones((2, 3)))),
    ("dot", lambda: jnp.dot(np.ones(3), np.ones(4))),
    ("reshape", lambda: jnp.reshape(np.ones(6), (4, 2))),
    ("reshape", lambda: jnp.reshape(np.ones(6), (-1, -1))),
    ("concatenate", lambda: jnp.concatenate([np.ones((2, 3)), np.ones((2, 4))])),
    ("stack", lambda: jnp.stack([np.ones(2), np.ones(3)])),
    ("broadcast_to", lambda: jnp.broadcast_to(np.ones(3), (2, 4))),
    ("transpose", lambda: jnp.transpose(np.ones((2, 3)), (0, 0))),
    ("split", lambda: jnp.split(np.ones(5), 2)),
    ("einsum", lambda: jnp.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2)))),
    ("take_along_axis", lambda: jnp.take_along_axis(np.ones((2, 3)), np.zeros(3, np.int32), 1)),
    ("linalg.inv", lambda: jnp.linalg.inv(np.ones((2, 3)))),
    ("full", lambda: jnp.full((-1, 2), 0.0)),
    ("zeros", lambda: jnp.zeros((2, "a"))),
    ("pad", lambda: jnp.pad(np.ones(3), ((1, 1), (1, 1)))),
]


@pytest.mark.parametrize("name, call", BAD_SHAPES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_SHAPES)])  # fmt: skip
def test_jnp_incompatible_shapes_raise(name, call):
    expect_clear_error(call, [f"jnp.{name}"], f"jnp.{name} with incompatible shapes")


def test_too_many_indices_raise_index_error():
    # (a static out-of-bounds integer index is clamped, as JAX does: jnp.arange(10)[11] == 9)
    np.testing.assert_array_equal(jnp.asarray(X)[5], X[1])
    with pytest.raises(IndexError, match="(?i)too many indices"):
        jnp.asarray(X)[0, 0, 0]


# ------------------------------------------------------------------------------------------
# lax wrappers
# ------------------------------------------------------------------------------------------

I = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
IDX = np.array([[0], [2]], np.int32)
GDN = lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0,), start_index_map=(0,))
SDN = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                  scatter_dims_to_operand_dims=(0,))  # fmt: skip
L3, R3 = np.ones((1, 1, 5)), np.ones((1, 1, 3))  # a 1-d convolution's input and kernel
DN3 = ("NCH", "OIH", "NCH")
LAX_CALLS = {
    "argmax": (X, 1), "argmin": (X, 0), "bitcast_convert_type": (X, np.int64),
    "broadcast": (X, (2,)), "broadcast_in_dim": (V, (2, 3), (1,)),
    "clamp": (0.0, X, 3.0), "concatenate": ([X, X], 0), "convert_element_type": (X, np.int32),
    "cummax": (X,), "cummin": (X,), "cumprod": (X,), "cumsum": (X,), "dot": (X, X.T),
    "dot_general": (X, X, (((1,), (1,)), ((), ()))), "dynamic_slice": (X, (0, 1), (1, 2)),
    "dynamic_update_slice": (X, X[:1], (1, 0)), "expand_dims": (X, (0,)),
    "gather": (V, IDX, GDN, (1,)), "integer_pow": (X, 3), "pad": (X, 0.0, ((1, 0, 0), (0, 1, 1))),
    "reduce_and": (X > 1, (0,)), "reduce_or": (X > 1, (1,)), "reduce_max": (X, (0,)),
    "reduce_min": (X, (1,)), "reduce_prod": (X, (0,)), "reduce_sum": (X, (0, 1)),
    "reshape": (X, (3, 2)), "rev": (X, (0,)), "round": (X,), "scatter": (V, IDX, V[:2], SDN),
    "scatter_add": (V, IDX, V[:2], SDN), "scatter_max": (V, IDX, V[:2], SDN),
    "scatter_min": (V, IDX, V[:2], SDN), "scatter_mul": (V, IDX, V[:2], SDN),
    "select": (X > 2, X, X), "select_n": (X > 2, X, X), "slice": (X, (0, 1), (2, 3)),
    "sort": (X,), "squeeze": (X[:1], (0,)), "transpose": (X, (1, 0)),
    "shift_left": (I, I), "shift_right_arithmetic": (I, I), "shift_right_logical": (I, I),
    "bitwise_and": (I, I), "bitwise_or": (I, I), "bitwise_xor": (I, I), "bitwise_not": (I,),
    "not_": (I,), "rem": (I, I), "div": (I, I),
    "associative_scan": (lax.add, X), "slice_in_dim": (X, 0, 1), "index_in_dim": (X, 1),
    "dynamic_slice_in_dim": (X, 0, 1), "dynamic_index_in_dim": (X, 1),
    "dynamic_update_slice_in_dim": (X, X[:1], 1, 0), "top_k": (X, 2),
    "reduce": (X, 0.0, lax.add, (0,)), "reduce_precision": (X, 5, 10),
    "betainc": (X, X, X / 10),
    "conv": (L3, R3, (1,), "SAME"), "conv_general_dilated": (L3, R3, (1,), "VALID"),
    "conv_with_general_padding": (L3, R3, (1,), [(1, 1)], (1,), (1,)),
    "conv_transpose": (L3, R3, (1,), "SAME", None, DN3),
    "conv_general_dilated_patches": (L3, (3,), (1,), "VALID"),
    "conv_dimension_numbers": ((1, 1, 5), (1, 1, 3), DN3), "conv_general_permutations": (DN3,),
    "conv_general_shape_tuple": ((1, 1, 5), (1, 1, 3), (1,), [(0, 0)], DN3),
    "conv_shape_tuple": ((1, 1, 5), (1, 1, 3), (1,), [(0, 0)]),
    "conv_transpose_shape_tuple": ((1, 1, 5), (1, 1, 3), (1,), [(0, 0)], DN3),
    "padtype_to_pads": ((5,), (3,), (1,), "SAME"),
    "reduce_window": (X, 0.0, lax.add, (1, 2), (1, 1), "VALID"),
    "reduce_window_shape_tuple": ((2, 3), (1, 2), (1, 1), [(0, 0), (0, 0)]),
    # complex (issue 21)
    "complex": (X, X), "real": (X + 1j,), "imag": (X + 1j,), "conj": (X + 1j,),
    "fft": (X + 1j, "FFT", (3,)),
}  # fmt: skip
# The primitive a wrapper binds, where its name differs from the wrapper's.
LAX_PRIMITIVE = {"square": "integer_pow", "not_": "not", "bitwise_not": "not",
                 "bitwise_and": "and", "bitwise_or": "or", "bitwise_xor": "xor",
                 "broadcast": "broadcast_in_dim", "select": "select_n", "dot": "dot_general",
                 "scatter_add": "scatter-add", "scatter_mul": "scatter-mul",
                 "scatter_min": "scatter-min", "scatter_max": "scatter-max",
                 "betainc": "regularized_incomplete_beta", "conv": "conv_general_dilated",
                 "conv_with_general_padding": "conv_general_dilated",
                 "conv_transpose": "conv_general_dilated",
                 "conv_general_dilated_patches": "conv_general_dilated",
                 "reduce_window": "reduce_window_sum"}  # fmt: skip
NOT_LAX_WRAPPERS = {"get_aval", "operator_index", "iota", "broadcasted_iota", "stop_gradient",
                    "cond", "switch", "scan", "map", "while_loop", "fori_loop"}  # fmt: skip
# The named-axis collectives need a bound axis name (vmap/pmap axis_name): their bad input is
# checked in tests/test_collectives.py (test_bad_input_messages).
NOT_LAX_WRAPPERS |= {"psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter",
                     "all_to_all", "ppermute", "pshuffle", "axis_index", "axis_size"}  # fmt: skip


def lax_wrappers() -> dict:
    out = {}
    for name in sorted(dir(lax)):
        f = getattr(lax, name)
        if name.startswith("_") or name.endswith("_p") or name in NOT_LAX_WRAPPERS:
            continue
        ours = getattr(f, "__module__", "").startswith("jaxlite")
        if callable(f) and not isinstance(f, type) and ours:
            out[name] = f
    return out


LAX = lax_wrappers()


def lax_call(name, f):
    if name in LAX_CALLS:
        return LAX_CALLS[name]
    params = [p for p in inspect.signature(f).parameters.values() if p.default is p.empty]
    return (X,) * len(params)


def test_every_lax_wrapper_has_a_valid_call():
    for name, f in LAX.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f(*lax_call(name, f))


@pytest.mark.parametrize("name", sorted(LAX))
@pytest.mark.parametrize("route", ["eager", "jit", "vmap"])
def test_lax_wrapper_rejects_bad_arguments_clearly(name, route):
    f = LAX[name]
    args = lax_call(name, f)
    names = [name, LAX_PRIMITIVE.get(name, name)]
    for i, a in enumerate(args):
        if not is_array_arg(a):
            continue
        for bad_name, bad in BAD.items():
            bad_args = list(args)
            bad_args[i] = bad
            if route == "eager":
                call = lambda bad_args=bad_args: f(*bad_args)
            elif route == "jit":
                call = lambda bad_args=bad_args: jaxlite.jit(lambda z: f(*bad_args))(1.0)
            else:
                others = [j for j, b in enumerate(bad_args) if isinstance(b, np.ndarray) and j != i]
                if not others:
                    continue  # nothing else to map over
                k = others[0]

                def call(k=k, bad_args=bad_args):
                    def g(z):
                        inner = list(bad_args)
                        inner[k] = z
                        return f(*inner)

                    return jaxlite.vmap(g)(np.stack([bad_args[k], bad_args[k]]))

            expect_clear_error(call, names, f"lax.{name} ({route}) with argument {i} = {bad_name}")


# ------------------------------------------------------------------------------------------
# Transformations, control flow, random, nn
# ------------------------------------------------------------------------------------------


def _f(x):
    return jnp.sum(jnp.sin(x))


KEY = random.PRNGKey(0)
API_CASES = [
    # (names the message must mention (one of), call)
    (["grad"], lambda: jaxlite.grad(3)),
    (["grad", "str"], lambda: jaxlite.grad(_f)("abc")),
    (["grad", "int"], lambda: jaxlite.grad(_f)(np.arange(3))),
    (["grad", "scalar"], lambda: jaxlite.grad(jnp.sin)(np.ones(3))),
    (["grad", "argnums"], lambda: jaxlite.grad(_f, argnums=3)(np.ones(3))),
    (["grad", "argnums"], lambda: jaxlite.grad(_f, argnums="a")(np.ones(3))),
    (["grad", "None"], lambda: jaxlite.grad(_f)(None)),
    (["value_and_grad"], lambda: jaxlite.value_and_grad(_f)({"a": "abc"})),
    (["jvp", "shape"], lambda: jaxlite.jvp(_f, (np.ones(3),), (np.ones(2),))),
    (["jvp"], lambda: jaxlite.jvp(_f, np.ones(3), np.ones(3))),
    (["vjp", "shape"], lambda: jaxlite.vjp(jnp.sin, np.ones(3))[1](np.ones(2))),
    (["jacfwd", "str"], lambda: jaxlite.jacfwd(_f)("abc")),
    (["hessian", "int"], lambda: jaxlite.hessian(_f)(np.arange(3))),
    (["vmap"], lambda: jaxlite.vmap(3)),
    (["vmap", "axis"], lambda: jaxlite.vmap(_f, in_axes=3)(np.ones(3))),
    (["vmap", "size"], lambda: jaxlite.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))),
    (["vmap", "in_axes"], lambda: jaxlite.vmap(_f, in_axes="a")(np.ones(3))),
    (["vmap", "in_axes"], lambda: jaxlite.vmap(_f, in_axes=(0, 0))(np.ones(3))),
    (["vmap", "str"], lambda: jaxlite.vmap(_f)("abc")),
    (["vmap", "out_axes"], lambda: jaxlite.vmap(jnp.sin, out_axes=4)(np.ones(3))),
    (["vmap", "0-d", "rank", "axis"], lambda: jaxlite.vmap(jnp.sin)(1.0)),
    (["jit"], lambda: jaxlite.jit(3)),
    (["jit", "str"], lambda: jaxlite.jit(_f)("abc")),
    (["jit", "object"], lambda: jaxlite.jit(_f)(np.array([object()]))),
    (["jit", "datetime64"], lambda: jaxlite.jit(_f)(np.array(["2020-01-01"], "M8[D]"))),
    (["jit", "hashable"], lambda: jaxlite.jit(lambda x, n: x * len(n), static_argnums=1)(1.0, [1])),
    (["jit", "output"], lambda: jaxlite.jit(lambda x: "abc")(1.0)),
    (["make_jaxpr"], lambda: jaxlite.make_jaxpr(3)),
    (["cond"], lambda: lax.cond("abc", jnp.sin, jnp.cos, 1.0)),
    (["cond"], lambda: lax.cond(True, jnp.sin, lambda x: (x, x), 1.0)),
    (["cond"], lambda: lax.cond(np.ones(3) > 0, jnp.sin, jnp.cos, 1.0)),
    (["switch"], lambda: lax.switch(1.5, [jnp.sin, jnp.cos], 1.0)),
    (["scan"], lambda: lax.scan(lambda c, x: (c, x), 0.0, "abc")),
    (["scan", "length"], lambda: lax.scan(lambda c, x: (c, x), 0.0, (np.ones(3), np.ones(4)))),
    (["while_loop"], lambda: lax.while_loop(lambda c: c, lambda c: c + 1.0, 0.0)),
    (["while_loop"], lambda: lax.while_loop(lambda c: c < 3, lambda c: (c, c), 0.0)),
    (["fori_loop"], lambda: lax.fori_loop(0, "a", lambda i, c: c, 0.0)),
    (["map"], lambda: lax.map(jnp.sin, "abc")),
    (["PRNGKey", "key"], lambda: random.PRNGKey("abc")),
    (["PRNGKey", "key"], lambda: random.PRNGKey(1.5)),
    (["normal", "key"], lambda: random.normal("abc", (2,))),
    (["normal", "key"], lambda: random.normal(np.ones(3), (2,))),
    (["normal", "shape"], lambda: random.normal(KEY, (-1,))),
    (["normal", "shape"], lambda: random.normal(KEY, "ab")),
    (["normal", "dtype"], lambda: random.normal(KEY, (2,), dtype=np.int32)),
    (["uniform", "minval"], lambda: random.uniform(KEY, (2,), minval="a")),
    (["randint", "dtype"], lambda: random.randint(KEY, (2,), 0, 5, dtype=np.float32)),
    (["split", "num"], lambda: random.split(KEY, -1)),
    (["choice"], lambda: random.choice(KEY, "abc")),
    (["choice", "replace"], lambda: random.choice(KEY, 3, (5,), replace=False)),
    (["permutation"], lambda: random.permutation(KEY, None)),
    (["bernoulli", "p"], lambda: random.bernoulli(KEY, "a")),
    (["nn.relu"], lambda: nn.relu("abc")),
    (["nn.softmax", "axis"], lambda: nn.softmax(X, axis=5)),
    (["nn.logsumexp", "axis"], lambda: nn.logsumexp(X, axis=-3)),
    (["nn.one_hot", "num_classes"], lambda: nn.one_hot(np.arange(3), "a")),
    (["nn.gelu"], lambda: nn.gelu([[1.0], [1.0, 2.0]])),
]


@pytest.mark.parametrize("k", range(len(API_CASES)))
def test_transformations_control_flow_random_and_nn_reject_bad_input_clearly(k):
    names, call = API_CASES[k]
    expect_clear_error(call, names, f"case {k} {names}")


# ------------------------------------------------------------------------------------------
# Out-of-bounds indices: gathers clamp, scatters drop, eagerly and compiled
# ------------------------------------------------------------------------------------------

OOB = np.array([-7, -3, -1, 0, 2, 3, 9], np.int32)
A = np.array([10.0, 20.0, 30.0])


def clamp(idx, n):
    return np.clip(np.where(idx < 0, idx + n, idx), 0, n - 1)


def keep(idx, n):
    i = np.where(idx < 0, idx + n, idx)
    return i[(i >= 0) & (i < n)]


def _set(i):
    out = A.copy()
    out[i] = 5.0
    return out


def _add(i):
    out = A.copy()
    np.add.at(out, i, 5.0)
    return out


OOB_CASES = {
    "x[idx]": (lambda x, i: x[i], lambda: A[clamp(OOB, 3)]),
    "x[idx, None]": (lambda x, i: x[i, None], lambda: A[clamp(OOB, 3)][:, None]),
    "x.at[idx].get()": (lambda x, i: x.at[i].get(), lambda: A[clamp(OOB, 3)]),
    "x.at[idx].set": (lambda x, i: x.at[i].set(5.0), lambda: _set(keep(OOB, 3))),
    "x.at[idx].add": (lambda x, i: x.at[i].add(5.0), lambda: _add(keep(OOB, 3))),
    "x.at[idx].mul": (
        lambda x, i: x.at[i].mul(2.0),
        lambda: A * np.bincount(keep(OOB, 3), minlength=3).choose([1, 2, 4]),
    ),
    "x.at[idx].min": (
        lambda x, i: x.at[i].min(0.0),
        lambda: np.where(np.isin([0, 1, 2], keep(OOB, 3)), 0.0, A),
    ),
    "take clip": (lambda x, i: jnp.take(x, i, mode="clip"), lambda: A[np.clip(OOB, 0, 2)]),
    "take wrap": (lambda x, i: jnp.take(x, i, mode="wrap"), lambda: A[OOB % 3]),
    "take fill": (
        lambda x, i: jnp.take(x, i, mode="fill", fill_value=-1.0),
        lambda: np.where((OOB >= -3) & (OOB < 3), A[np.clip(OOB, -3, 2)], -1.0),
    ),
    "take_along_axis clip": (
        lambda x, i: jnp.take_along_axis(x, i, 0, mode="clip"),
        lambda: A[clamp(OOB, 3)],
    ),  # (negative indices wrap once first)
    "dynamic_slice": (lambda x, i: lax.dynamic_slice(x, (i[-1],), (2,)), lambda: A[1:3]),
    "dynamic_slice negative": (lambda x, i: lax.dynamic_slice(x, (i[0],), (2,)), lambda: A[0:2]),
    "dynamic_update_slice": (
        lambda x, i: lax.dynamic_update_slice(x, np.array([1.0, 2.0]), (i[-1],)),
        lambda: np.array([10.0, 1.0, 2.0]),
    ),
}


@pytest.mark.parametrize("case", sorted(OOB_CASES))
def test_out_of_bounds_indices_follow_jax_rules_eager_jit_and_vmap(case):
    f, want = OOB_CASES[case]
    want = want()
    eager = np.asarray(f(jnp.asarray(A), OOB))
    np.testing.assert_array_equal(eager, want, err_msg=f"{case} eager")
    np.testing.assert_array_equal(np.asarray(jaxlite.jit(f)(A, OOB)), want, err_msg=f"{case} jit")
    batched = jaxlite.vmap(f, in_axes=(0, None))(np.stack([A, A]), OOB)
    np.testing.assert_array_equal(np.asarray(batched), np.stack([want] * 2), err_msg=f"{case} vmap")
    jitted = jaxlite.jit(jaxlite.vmap(f, in_axes=(None, 0)))(A, np.stack([OOB, OOB]))
    np.testing.assert_array_equal(np.asarray(jitted), np.stack([want] * 2), err_msg=f"{case} jit")


# ------------------------------------------------------------------------------------------
# NaN, inf and signed zeros propagate identically in eager and compiled code
# ------------------------------------------------------------------------------------------

SPECIAL = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-310, 1e308, 3.5, -2.5]
S64 = np.array(SPECIAL)
PAIRS = np.array(np.meshgrid(S64, S64)).reshape(2, -1)
NAN_CASES = {
    # name: (f, exact) -- exact: correctly rounded, so eager and C agree bit for bit
    "add": (lambda x, y: x + y, True),
    "sub": (lambda x, y: x - y, True),
    "mul": (lambda x, y: x * y, True),
    "div": (lambda x, y: x / y, True),
    "maximum": (jnp.maximum, True),
    "minimum": (jnp.minimum, True),
    "fmax": (jnp.fmax, True),
    "fmin": (jnp.fmin, True),
    "lax.max": (lax.max, True),
    "lax.min": (lax.min, True),
    "copysign": (jnp.copysign, True),
    "floor_divide": (jnp.floor_divide, True),
    "remainder": (jnp.remainder, True),
    "fmod": (jnp.fmod, True),
    "power": (jnp.power, False),
    "arctan2": (jnp.arctan2, False),
    "hypot": (jnp.hypot, False),
    "logaddexp": (jnp.logaddexp, False),
    "nextafter": (jnp.nextafter, True),
    "compare": (lambda x, y: jnp.stack([x < y, x <= y, x == y, x != y, x > y]), True),
    "where": (lambda x, y: jnp.where(x > y, x, y), True),
    "clip": (lambda x, y: jnp.clip(x, -1.0, y), True),
    "heaviside": (jnp.heaviside, True),
}
UNARY_CASES = {
    "sqrt": (jnp.sqrt, True), "abs": (jnp.abs, True), "negative": (jnp.negative, True),
    "sign": (jnp.sign, True), "floor": (jnp.floor, True), "ceil": (jnp.ceil, True),
    "round": (jnp.round, True), "trunc": (jnp.trunc, True), "exp": (jnp.exp, False),
    "log": (jnp.log, False), "log1p": (jnp.log1p, False), "expm1": (jnp.expm1, False),
    "tanh": (jnp.tanh, False), "sin": (jnp.sin, False), "sigmoid": (nn.sigmoid, False),
    "softplus": (nn.softplus, False), "relu": (nn.relu, True), "square": (jnp.square, True),
    "reciprocal": (jnp.reciprocal, True), "isnan": (jnp.isnan, True), "isinf": (jnp.isinf, True),
    "isfinite": (jnp.isfinite, True), "signbit": (jnp.signbit, True),
    "nan_to_num": (jnp.nan_to_num, True),
    "to int32": (lambda x: x.astype(np.int32), True),
    "to uint8": (lambda x: x.astype(np.uint8), True),
    "to int64": (lambda x: x.astype(np.int64), True), "to bool": (lambda x: x.astype(bool), True),
    "to float32": (lambda x: x.astype(np.float32), True),
    "sort": (jnp.sort, True), "argsort": (jnp.argsort, True), "argmax": (jnp.argmax, True),
    "argmin": (jnp.argmin, True), "max": (jnp.max, True), "min": (jnp.min, True),
    "nanmax": (jnp.nanmax, True), "nanargmin": (jnp.nanargmin, True), "sum": (jnp.sum, False),
    "prod": (jnp.prod, False), "mean": (jnp.mean, False), "nansum": (jnp.nansum, False),
    "cumsum": (jnp.cumsum, False), "cummax": (lambda x: lax.cummax(x, 0), True),
    "median": (jnp.median, True), "logsumexp": (nn.logsumexp, False),
    "softmax": (nn.softmax, False), "var": (jnp.var, False), "ptp": (jnp.ptp, True),
    "any": (jnp.any, True), "all": (jnp.all, True), "count_nonzero": (jnp.count_nonzero, True),
}  # fmt: skip


def assert_identical(got, want, exact: bool, what: str):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if got.dtype.kind != "f":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaNs")
    if exact:
        np.testing.assert_array_equal(got, want, err_msg=what)
        zero = (got == 0) & (want == 0)
        np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]),
                                      err_msg=f"{what}: signed zeros")  # fmt: skip
    else:
        np.testing.assert_allclose(got, want, rtol=2e-6 if got.dtype == np.float32 else 1e-14,
                                   atol=0, err_msg=what)  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(NAN_CASES))
def test_nan_and_inf_propagate_identically_eager_and_compiled_binary(name, dtype):
    f, exact = NAN_CASES[name]
    with np.errstate(over="ignore"):  # float64 extremes become +-inf in float32, on purpose
        x, y = PAIRS.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager = f(jnp.asarray(x), jnp.asarray(y))
    assert_identical(jaxlite.jit(f)(x, y), eager, exact, f"{name} {np.dtype(dtype)}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY_CASES))
def test_nan_and_inf_propagate_identically_eager_and_compiled_unary(name, dtype):
    f, exact = UNARY_CASES[name]
    with np.errstate(over="ignore"):  # float64 extremes become +-inf in float32, on purpose
        xs = S64.astype(dtype)
    for x in (xs, xs[np.isfinite(xs) | np.isinf(xs)][::-1], np.array([np.nan, 1.0], dtype)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eager = f(jnp.asarray(x))
        assert_identical(jaxlite.jit(f)(x), eager, exact, f"{name} {np.dtype(dtype)}")


def test_nan_semantics_match_numpy_where_jax_does():
    x = np.array([1.0, np.nan, 3.0])
    for f in (jnp.maximum, jnp.minimum):
        want = getattr(np, f.__name__)(x, x[::-1])
        np.testing.assert_array_equal(jaxlite.jit(f)(x, x[::-1]), want)
    assert int(jaxlite.jit(jnp.argmax)(x)) == 1 == int(jaxlite.jit(jnp.argmin)(x))  # NaN wins
    np.testing.assert_array_equal(jaxlite.jit(jnp.sort)(x), np.sort(x))  # NaN last
    assert np.isnan(jaxlite.jit(jnp.max)(x)) and float(jaxlite.jit(jnp.nanmax)(x)) == 3.0
    np.testing.assert_array_equal(
        jaxlite.jit(lambda v: v.astype(np.int32))(np.array([np.nan, np.inf, -np.inf, 3e9, -3e9])),
        [0, 2**31 - 1, -(2**31), 2**31 - 1, -(2**31)],
    )


# ------------------------------------------------------------------------------------------
# Integer division by zero never crashes
# ------------------------------------------------------------------------------------------

DIVISION = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    import jaxlite, jaxlite.numpy as jnp
    from jaxlite import lax
    warnings.simplefilter("ignore")
    out = {}
    for dt in ["int32", "int64", "uint8", "uint32"]:
        info = np.iinfo(dt)
        x = np.array([info.min, info.max, 7, 0, 1, info.min + 1], dt)
        y = np.array([0, 0, 0, 0, 0, 0], dt)
        if info.min < 0:
            y = np.array([-1, 0, -1, 0, -1, -1], dt)
        for name, f in [("floor_divide", jnp.floor_divide), ("remainder", jnp.remainder),
                        ("fmod", jnp.fmod), ("divmod", lambda a, b: jnp.stack(jnp.divmod(a, b))),
                        ("lax.div", lax.div), ("lax.rem", lax.rem),
                        ("by scalar 0", lambda a, b: a // 0 + a % 0),
                        ("integer_pow neg", lambda a, b: lax.integer_pow(a, -1))]:
            try:
                eager = np.asarray(f(x, y)).tolist()
            except (TypeError, ValueError) as e:
                eager = "error: " + type(e).__name__
            try:
                jitted = np.asarray(jaxlite.jit(f)(x, y)).tolist()
            except (TypeError, ValueError) as e:
                jitted = "error: " + type(e).__name__
            out[f"{name} {dt}"] = [eager, jitted]
    print(json.dumps(out))
    """
)


def test_integer_division_by_zero_does_not_crash_and_agrees(tmp_path):
    res = subprocess.run([sys.executable, "-c", DIVISION], capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert res.returncode == 0, f"the process died (exit status {res.returncode}): {res.stderr}"
    results = json.loads(res.stdout)
    assert len(results) == 32
    for what, (eager, jitted) in results.items():
        assert eager == jitted, f"{what}: eager {eager} != jit {jitted}"
    for dt in ["int32", "int64", "uint8", "uint32"]:  # documented: division by zero gives 0
        lo = results[f"lax.div {dt}"][0]
        assert lo[3] == 0 and lo[1] == 0, (dt, lo)


# ------------------------------------------------------------------------------------------
# More than 2**31 elements: 64-bit indexing in the generated C
# ------------------------------------------------------------------------------------------

BIG_2D = np.broadcast_to(np.float32(1), (2**16, 2**16 + 3))  # 4.3e9 elements, no memory
BIG_1D = np.broadcast_to(np.float32(1), (2**32 + 5,))
BIG_IDX = np.zeros(3, np.int64)
HUGE = {
    "elementwise": (lambda x: jnp.tanh(x) * 2 + 1, BIG_2D),
    "reduction": (lambda x: jnp.sum(x, axis=0), BIG_2D),
    "transpose": (lambda x: x.T * 1.5, BIG_2D),
    "cumsum": (jnp.cumsum, BIG_1D),
    "argmax": (jnp.argmax, BIG_1D),
    "gather": (lambda x: x[BIG_IDX + 2**32], BIG_1D),
    "reverse": (lambda x: x[::-1] + 1, BIG_1D),
    "sort": (jnp.sort, BIG_1D),
    "concatenate": (lambda x: jnp.concatenate([x, x]), BIG_1D),
    "dynamic_slice": (lambda x: lax.dynamic_slice(x, (jnp.int64(2**32),), (4,)), BIG_1D),
    "matvec": (lambda x: x @ np.ones(2**16 + 3, np.float32), BIG_2D),
}
INT32_DECL = re.compile(r"\b(int|int32_t|unsigned|uint32_t|short|long)\s+\**\w+\s*[=;,)]")


@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_shapes_are_indexed_with_64_bit_integers(name):
    f, x = HUGE[name]
    source = jaxlite.jit(f).lower(x).as_c()
    body = source.split("jl_kernel(", 1)[1]
    assert not INT32_DECL.findall(body), INT32_DECL.findall(body)
    assert "(int)" not in body and "(unsigned)" not in body
    loops = re.findall(r"for \((\w+) \w+ = ", body)
    assert loops and set(loops) == {"int64_t"}, loops
    assert str(x.shape[-1]) in body, "the loop bounds are written out in full"
