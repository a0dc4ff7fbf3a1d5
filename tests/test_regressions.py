"""Regression tests: every bug found by the differential fuzzer (tests/test_fuzz.py) and by the
reliability sweeps (tests/test_bad_input.py, tests/test_cache_security.py, ...), each reduced to
the smallest program that showed it, with what went wrong in its docstring.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax, nn, random
from jaxlite.backend import compile as jl_compile


def same(a, b) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------------------
# Found by the fuzzer
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("f", [jnp.fmax, jnp.fmin, jnp.heaviside])
@pytest.mark.parametrize("args", [
    (np.array([np.nan, 1.0, -1.0, 0.0], np.float32), 0.5),
    (0.5, np.array([np.nan, 1.0, -1.0, 0.0], np.float32)),
    (np.float32(0.0), np.array([np.nan, 2.0], np.float32)),
    (np.array([[np.nan], [1.0]]), np.array([2.0, np.nan])),
])  # fmt: skip
def test_fmax_fmin_heaviside_with_a_0d_operand_under_jit_and_vmap(f, args):
    """Fuzzer program `v1 = fmax(v0:f32[1], 0.5)`: eager worked, but under jit/vmap tracing failed
    with "select_n cases must have the same shapes, got [(1,), ()]" (the 0-d operand was never
    broadcast before `lax.select`). Fixed in jaxlite/numpy/_ufuncs.py."""
    want = f(*args)
    same(jaxlite.jit(f)(*args), want)
    batched = [np.stack([a, a]) if np.ndim(a) else a for a in args]
    axes = [0 if np.ndim(a) else None for a in args]
    same(jaxlite.vmap(f, in_axes=tuple(axes))(*batched), np.stack([want, want]))


# ------------------------------------------------------------------------------------------
# Found by the hostile-name test of the compile cache
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("splice", ["\\\n", "\\ \n", "??/\n", "\\\r", "\\\f\n"])
def test_function_name_cannot_close_the_c_comment_by_splicing_lines(splice, tmp_path):
    """A function named `a*\\<newline>/ int jl_pwned = 1; /*` put `int jl_pwned = 1;` into the
    compiled C: the kernel's header comment only replaced `*/`, but a backslash (or the trigraph
    `??/`) before a line end splices `*` and `/` into `*/`. Fixed by `lower.comment_text`."""

    def f(x):
        return x + 1.0

    f.__name__ = f"a*{splice}/ int jl_pwned = 1; /*"
    g = jaxlite.jit(f)
    src = tmp_path / "k.c"
    src.write_text(g.lower(np.ones(2)).as_c())
    cc = jl_compile.find_compiler()
    out = subprocess.run([*cc, "-std=c99", "-E", "-I", jl_compile.CSRC_DIR, str(src)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "jl_pwned" not in out
    same(g(np.ones(2)), np.full(2, 2.0))


# ------------------------------------------------------------------------------------------
# Found by the bad-input sweep: crashes and unclear errors
# ------------------------------------------------------------------------------------------


def test_lax_op_with_none_under_vmap_is_a_type_error_naming_the_primitive():
    """`vmap(lambda x: lax.add(x, None))` raised AttributeError ('NoneType' object has no
    attribute 'shape') from inside the batching rule. Fixed in core.Primitive.bind."""
    with pytest.raises(TypeError, match="add: argument 1 is None"):
        jaxlite.vmap(lambda x: lax.add(x, None))(np.ones(3))
    with pytest.raises(TypeError, match="sin: argument 0 is 'abc'"):
        jaxlite.jit(lambda x: lax.sin("abc"))(1.0)


def test_vmap_of_a_string_argument_is_a_type_error():
    """`vmap(f)("abc")` raised AttributeError ('str' object has no attribute 'shape')."""
    with pytest.raises(TypeError, match="jaxlite.vmap: value 'abc' of type str"):
        jaxlite.vmap(jnp.sin)("abc")


@pytest.mark.parametrize("transform", [jaxlite.jit, jaxlite.vmap, jaxlite.make_jaxpr,
                                       jaxlite.grad])  # fmt: skip
def test_transformations_reject_a_non_callable_at_once(transform):
    """`jit(3)`, `vmap(3)` and `make_jaxpr(3)` were accepted; the error came at the first call
    (or, for `jit(3)`, as "'int' object is not callable" from deep inside tracing)."""
    with pytest.raises(TypeError, match=f"{transform.__name__}: Expected a callable value, got 3"):
        transform(3)


def test_lax_wrappers_name_themselves_for_none_and_non_sequences():
    """`lax.concatenate(None, 0)` raised "Primitive.bind() argument after * must be an
    iterable"; `lax.clamp(0., None, 1.)` "NoneType is not a valid jaxlite scalar"; scatter with
    ragged indices a raw NumPy ValueError."""
    with pytest.raises(TypeError, match="concatenate: expected a sequence of arrays"):
        lax.concatenate(None, 0)
    with pytest.raises(TypeError, match="lax.clamp: value None"):
        lax.clamp(0.0, None, 1.0)
    with pytest.raises(TypeError, match="lax.pad: value None"):
        lax.pad(None, 0.0, ((1, 1, 0),))
    dn = lax.ScatterDimensionNumbers((), (0,), (0,))
    with pytest.raises(TypeError, match="lax.scatter: indices"):
        lax.scatter(np.ones(3), [[0], [1, 2]], np.ones(2), dn)


def test_unsupported_dtype_errors_name_the_function_called():
    """An object array reaching a lax wrapper said "jaxlite: dtype object is not supported"."""
    with pytest.raises(TypeError, match="lax.expand_dims: dtype object is not supported"):
        lax.expand_dims(np.array([object()]), (0,))
    with pytest.raises(TypeError, match="lax.sort: dtype datetime64"):
        lax.sort(np.array(["2020-01-01"], "M8[D]"))


def test_nanquantile_with_q_none_is_an_error_not_the_median():
    """`jnp.nanquantile(x, None)` silently returned the median (None is the internal marker of
    `nanmedian`); NumPy and JAX reject it."""
    with pytest.raises(TypeError, match="jnp.nanquantile: q must be"):
        jnp.nanquantile(np.arange(5.0), None)
    assert float(jnp.nanmedian(np.arange(5.0))) == 2.0


def test_select_with_non_sequences_is_a_clear_error():
    """`jnp.select(None, [x])` raised "object of type 'NoneType' has no len()"."""
    with pytest.raises(TypeError, match="jnp.select: condlist and choicelist must be sequences"):
        jnp.select(None, [np.ones(2)])


@pytest.mark.parametrize("call, match", [
    (lambda: random.uniform(random.PRNGKey(0), (2,), minval="a"), "jaxlite.random.uniform: value"),
    (lambda: random.bernoulli(random.PRNGKey(0), "a"), "jaxlite.random.bernoulli: value"),
    (lambda: random.choice(random.PRNGKey(0), "abc"), "jaxlite.random.choice: a must be an int"),
    (lambda: random.permutation(random.PRNGKey(0), None), "jaxlite.random.permutation: x must"),
    (lambda: nn.one_hot(np.arange(3), "a"), "jaxlite.nn.one_hot: num_classes must be an int"),
    (lambda: nn.relu([[1.0], [1.0, 2.0]]), "jaxlite.nn.relu requires ndarray or scalar arguments"),
    (lambda: jaxlite.value_and_grad(lambda d: d["a"])({"a": "abc"}), "jaxlite.value_and_grad"),
    (lambda: lax.scan(lambda c, x: (c, x), 0.0, "abc"), "lax.scan: value 'abc'"),
    (lambda: lax.cond("abc", jnp.sin, jnp.cos, 1.0), "lax.cond: value 'abc'"),
    (lambda: lax.cond(np.ones(3) > 0, jnp.sin, jnp.cos, 1.0), "lax.cond: Pred must be a scalar"),
    (lambda: lax.switch(1.5, [jnp.sin], 1.0), "lax.switch: Index type must be an integer"),
    (lambda: lax.while_loop(lambda c: c, lambda c: c, 1.0), "lax.while_loop: cond_fun must"),
])  # fmt: skip
def test_errors_that_did_not_name_the_function_now_do(call, match):
    """Each of these raised a bare message ("could not convert string to float: 'a'", "'str'
    object cannot be interpreted as an integer", "Value 'abc' of type str is not a valid jaxlite
    type", JAX's "Pred must be a scalar" ...) that did not say which function was called."""
    with pytest.raises((TypeError, ValueError), match=match):
        call()
