"""64-bit mode off, jaxlite's default as JAX's: every test here runs with x64 off (the rest of the
suite pins it on, see conftest.py). Against JAX where JAX is installed, else against its known
answers. No 64-bit value may exist in this mode: inputs are narrowed at the boundary, rules never
produce one, and asking for one explicitly warns as JAX does."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import dtypes, lax
from jaxlite.test_util import check_grads

TRUNCATED = "Explicitly requested dtype"


@pytest.fixture(autouse=True)
def x64_off():
    with jaxlite.enable_x64(False):
        yield


def _dtypes_in(jaxpr) -> set[str]:
    """Every dtype of every variable of a printed jaxpr ("f32", "i32", ...)."""
    text = str(jaxpr)
    return {t for t in ("f64", "i64", "u64", "f32", "i32", "u32") if f":{t}[" in text}


# ------------------------------------------------------------------------------------ defaults


def test_defaults_are_32_bit():
    assert jnp.zeros(3).dtype == np.float32
    assert jnp.ones((2, 2)).dtype == np.float32
    assert jnp.arange(3).dtype == np.int32
    assert jnp.arange(3.0).dtype == np.float32
    assert jnp.linspace(0, 1, 5).dtype == np.float32
    assert jnp.eye(2).dtype == np.float32
    x = jnp.array(1.5)
    assert x.dtype == np.float32 and x.weak_type
    assert jnp.array(3).dtype == np.int32 and jnp.array([1.0, 2.0]).dtype == np.float32
    assert jnp.result_type(float) == np.float32 and jnp.result_type(int) == np.int32
    assert dtypes.default_float_dtype() == np.float32 and not jaxlite.config.jax_enable_x64


def test_numpy_64_bit_inputs_are_narrowed_everywhere():
    x64 = np.linspace(0, 1, 4)  # float64
    i64 = np.arange(4)  # int64
    assert jnp.asarray(x64).dtype == np.float32 and jnp.asarray(i64).dtype == np.int32
    assert jnp.sin(x64).dtype == np.float32
    assert (jnp.ones(4, jnp.int32) + i64).dtype == np.int32
    assert jaxlite.jit(lambda x: x * 2)(x64).dtype == np.float32
    assert jaxlite.jit(lambda x: x * 2)(np.int64(3)).dtype == np.int32
    assert jaxlite.grad(lambda x: jnp.sum(jnp.sin(x)))(x64).dtype == np.float32
    assert jaxlite.vmap(lambda x: x + 1)(i64).dtype == np.int32
    assert lax.add(x64, x64).dtype == np.float32
    assert jaxlite.Array(x64).dtype == np.float32
    # A closed-over NumPy constant too, in the jaxpr and in the compiled kernel.
    c = np.full(4, 0.1)

    def f(x):
        return x * c

    assert _dtypes_in(jaxlite.make_jaxpr(f)(np.ones(4, np.float32))) == {"f32"}
    np.testing.assert_allclose(jaxlite.jit(f)(np.ones(4)), np.full(4, 0.1, np.float32))


def test_python_ints_beyond_int32_overflow():
    with pytest.raises(OverflowError, match="int32"):
        jnp.array(2**40)
    with pytest.raises(OverflowError, match="int32"):
        jnp.ones(2) + 2**40
    with pytest.raises(OverflowError):
        jaxlite.jit(lambda x: x + 1)(2**40)
    assert (jnp.ones(2) + 2**30).dtype == np.float32


def test_asking_for_64_bits_warns_and_truncates():
    for make in (
        lambda: jnp.zeros(2, dtype=jnp.float64),
        lambda: jnp.ones(2).astype(np.float64),
        lambda: jnp.array([1, 2], dtype="int64"),
        lambda: jnp.float64(1.5),
        lambda: jnp.arange(3, dtype=np.uint64),
        lambda: lax.convert_element_type(1.0, np.float64),
        lambda: lax.iota(np.int64, 3),
    ):
        with pytest.warns(UserWarning, match=f"{TRUNCATED} .* truncated to dtype"):
            out = make()
        assert out.dtype.itemsize == 4, out.dtype
    # Python types ask for the default: no warning (as JAX).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jnp.zeros(2, dtype=float).dtype == np.float32
        assert jnp.arange(3, dtype=int).dtype == np.int32


def test_scalar_types_make_arrays_also_of_tracers():
    x = jnp.float32(1.5)
    assert isinstance(x, jaxlite.Array) and x.dtype == np.float32 and not x.weak_type
    assert np.dtype(jnp.int8) == np.int8 and jnp.float32 == np.float32
    assert {np.float32: 1}[jnp.float32] == 1 and isinstance(np.float32(1), jnp.float32)
    assert jaxlite.jit(lambda v: jnp.int32(v) * 2)(3.7) == 6
    np.testing.assert_array_equal(jaxlite.vmap(jnp.uint8)(jnp.array([1.0, 300.0])), [1, 255])


# ---------------------------------------------------------------------------------- promotion


def test_promotion_in_32_bits():
    i32, u32, f32 = jnp.ones(2, jnp.int32), jnp.ones(2, jnp.uint32), jnp.ones(2, jnp.float32)
    assert (u32 + i32).dtype == np.int32  # JAX's x64-off edge (int64 with x64 on)
    assert (i32 + f32).dtype == np.float32
    assert (i32 * 2.5).dtype == np.float32 and (i32 * 2.5).weak_type is True  # as JAX
    assert jnp.mean(jnp.array([True, False])).dtype == np.float32
    assert jnp.sum(jnp.ones(3, jnp.int8)).dtype == np.int32
    assert jnp.argmax(jnp.ones(3)).dtype == np.int32
    # promote_types is dtype promotion: not canonicalized, as JAX.
    assert jnp.promote_types(jnp.int32, float) == np.float64
    assert jnp.promote_types(np.uint32, np.int32) == np.int32
    with jaxlite.enable_x64(True):
        assert jnp.promote_types(np.uint32, np.int32) == np.int64


def test_weak_scalars_through_control_flow_stay_32_bit():
    def f(x):
        y = lax.cond(x > 0, lambda v: v * 2.0, lambda v: v - 1.0, x)
        return lax.fori_loop(0, 3, lambda i, c: c + 0.5 * i, y)

    assert jaxlite.jit(f)(np.float32(1.0)).dtype == np.float32
    assert _dtypes_in(jaxlite.make_jaxpr(f)(1.0)) <= {"f32", "i32"}


# ------------------------------------------------------------------------- the mode as a key


def test_one_jitted_function_serves_both_modes():
    c = np.full(3, 0.1)
    f = jaxlite.jit(lambda x: x * 2.0 + c)
    assert f(1.0).dtype == np.float32 and f(np.ones(3)).dtype == np.float32
    with jaxlite.enable_x64(True):
        assert f(1.0).dtype == np.float64 and f(np.ones(3)).dtype == np.float64
        np.testing.assert_array_equal(f(1.0), 2.0 + c)  # c kept its float64 value
    assert f(1.0).dtype == np.float32
    assert f._cache_size() == 4  # (weak f32, f32[3]) off, (weak f64, f64[3]) on


def test_control_flow_bodies_are_staged_per_mode():
    def body(c, x):
        return c + x * 0.1, c

    xs = np.arange(3.0)
    assert lax.scan(body, 0.0, xs)[0].dtype == np.float32
    with jaxlite.enable_x64(True):
        assert lax.scan(body, 0.0, xs)[0].dtype == np.float64
    assert lax.scan(body, 0.0, xs)[0].dtype == np.float32


def test_scoped_switches_restore_the_mode():
    from jaxlite.experimental import disable_x64, enable_x64

    with enable_x64():
        assert jnp.zeros(1).dtype == np.float64
        with disable_x64():
            assert jnp.zeros(1).dtype == np.float32
        assert jnp.zeros(1).dtype == np.float64
    assert jnp.zeros(1).dtype == np.float32


def test_the_environment_turns_x64_on_at_import(tmp_path):
    env = dict(os.environ, JAX_ENABLE_X64="1", JAXLITE_CACHE_DIR=str(tmp_path))
    code = "import jaxlite.numpy as jnp, jaxlite; print(jnp.zeros(1).dtype, jaxlite.config.jax_enable_x64)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["float64", "True"], out.stderr


# ------------------------------------------------------------------ programs in float32 (default)


def _mlp(params, x):
    for w, b in params[:-1]:
        x = jnp.tanh(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def _params():
    rng = np.random.default_rng(0)
    sizes = [(5, 8), (8, 3)]
    return [(rng.standard_normal(s) * 0.3, np.zeros(s[1])) for s in sizes]  # float64 NumPy


def test_a_float32_training_step_from_float64_numpy_data():
    params = _params()
    x = np.random.default_rng(1).standard_normal((4, 5))

    def loss(p, x):
        return jnp.mean(_mlp(p, x) ** 2)

    g_eager = jaxlite.grad(loss)(params, x)
    g_jit = jaxlite.jit(jaxlite.grad(loss))(params, x)
    for (a, b), (c, d) in zip(g_eager, g_jit):
        assert a.dtype == c.dtype == np.float32 and b.dtype == np.float32
        np.testing.assert_allclose(a, c, rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(b, d, rtol=2e-5, atol=1e-6)
    # Per-example gradients: vmap against a loop.
    pex = jaxlite.vmap(jaxlite.grad(loss), in_axes=(None, 0))(params, x[:, None])
    for i in range(3):
        gi = jaxlite.grad(loss)(params, x[i : i + 1])
        np.testing.assert_allclose(pex[0][0][i], gi[0][0], rtol=2e-5, atol=1e-6)


def test_float32_gradients_by_finite_differences():
    x = np.array([0.3, -0.7, 1.1], np.float32)
    check_grads(
        lambda v: jnp.sum(jnp.tanh(v) * jnp.exp(v / 2)), (x,), order=2, atol=2e-2, rtol=2e-2
    )


def test_no_64_bit_variable_in_transformed_programs():
    params = _params()

    def loss(p, x):
        return jnp.mean(_mlp(p, x) ** 2) + 0.01 * jnp.sum(jnp.arange(3) * 1.0)

    x = np.ones((2, 5))
    for f in (
        lambda p, x: loss(p, x),
        jaxlite.grad(loss),
        jaxlite.vmap(jaxlite.grad(loss), in_axes=(None, 0)),
    ):
        seen = _dtypes_in(jaxlite.make_jaxpr(f)(params, x))
        assert not seen & {"f64", "i64", "u64"}, seen


# ---------------------------------------------------------------------------- against JAX itself


def test_against_jax_defaults_and_warnings():
    jax = pytest.importorskip("jax")
    jjnp = pytest.importorskip("jax.numpy")
    cases = [
        lambda L, np_: L.zeros(3),
        lambda L, np_: L.arange(5) * 2,
        lambda L, np_: L.asarray(np_.linspace(0, 1, 3)) + 1,
        lambda L, np_: L.ones(2, L.int32) + L.ones(2, L.uint32),
        lambda L, np_: L.mean(L.array([True, False, True])),
        lambda L, np_: L.float64(2.5),
        lambda L, np_: L.ones(3).astype(L.int64) + 2,
        lambda L, np_: L.sum(L.ones((2, 3), L.uint8), axis=0),
        lambda L, np_: L.cumsum(L.arange(4)),
    ]
    with jax.enable_x64(False):
        for case in cases:
            with warnings.catch_warnings(record=True) as w_jx:
                warnings.simplefilter("always")
                want = case(jjnp, np)
            with warnings.catch_warnings(record=True) as w_jl:
                warnings.simplefilter("always")
                got = case(jnp, np)
            assert got.dtype == want.dtype and got.weak_type == want.weak_type, (got, want)
            np.testing.assert_allclose(np.asarray(got), np.asarray(want))
            assert any(TRUNCATED in str(w.message) for w in w_jl) == any(
                TRUNCATED in str(w.message) for w in w_jx
            )
