"""`jaxlite.config`: JAX's option names and jaxlite's own, their environment variables, and what
each one changes (jit disabled, compile logs, NaN/inf checks, the compiler and its cache)."""

import importlib
import logging

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import _config, core
from jaxlite.backend import compile as jl_compile
from jaxlite.errors import CompilerNotFoundError

config = jaxlite.config
jit_mod = importlib.import_module("jaxlite.jit")  # (jaxlite.jit is the function)


@pytest.fixture
def restore():
    """Puts every option back as it was (value given to `update`, or none), hooks included."""
    saved = {name: opt.value for name, opt in config._options.items()}
    yield
    for name, value in saved.items():
        opt = config._options[name]
        if opt.value is not value:
            opt.value = value
            for hook in opt.hooks:
                hook(config.read(name))


def test_every_option_is_readable_and_listed():
    values = config.values()
    assert values["jax_enable_x64"] is True  # the suite's mode (tests/conftest.py)
    assert values["jax_debug_nans"] is False and values["jax_disable_jit"] is False
    assert "jaxlite_cache_dir" in dir(config)
    assert jaxlite.config is _config.config


def test_an_unknown_option_names_the_known_ones():
    with pytest.raises(AttributeError, match="jax_debug_nans"):
        config.update("jax_debug_nan", True)
    with pytest.raises(AttributeError, match="no option 'jax_nope'"):
        config.jax_nope  # noqa: B018


def test_bool_options_take_bools(restore):
    with pytest.raises(TypeError, match="takes a bool"):
        config.update("jax_debug_nans", "yes")


def test_x64_switches_both_ways(restore):
    config.update("jax_enable_x64", False)
    assert config.jax_enable_x64 is False and jnp.zeros(2).dtype == np.float32
    config.update("jax_enable_x64", True)
    assert config.jax_enable_x64 is True and jnp.zeros(2).dtype == np.float64


def test_environment_variables_count_until_update(monkeypatch, restore):
    monkeypatch.setenv("JAXLITE_CACHE_MAX_BYTES", "123")
    assert config.jaxlite_cache_max_bytes == 123 == jl_compile.cache_max_bytes()
    config.update("jaxlite_cache_max_bytes", 456)
    assert jl_compile.cache_max_bytes() == 456
    monkeypatch.setenv("JAXLITE_CACHE_MAX_BYTES", "nope")
    assert config.jaxlite_cache_max_bytes == 456  # the updated value wins over the environment


def test_a_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("JAX_DEBUG_NANS", "maybe")
    with pytest.raises(ValueError, match="JAX_DEBUG_NANS"):
        config.jax_debug_nans  # noqa: B018


def test_jax_disable_jit_runs_the_python_function(restore):
    calls = []

    def f(x):
        calls.append(1)
        return x + 1

    g = jaxlite.jit(f)
    g(np.ones(3))
    g(np.ones(3))
    assert len(calls) == 1  # traced once, then compiled code
    config.update("jax_disable_jit", True)
    g(np.ones(3))
    assert len(calls) == 2
    config.update("jax_disable_jit", False)
    g(np.ones(3))
    assert len(calls) == 2


def test_jax_log_compiles_logs_each_compile(caplog, restore):
    config.update("jax_log_compiles", True)
    with caplog.at_level(logging.WARNING, logger="jaxlite.jit"):
        jaxlite.jit(lambda x: x * 3.0 - 1.0)(np.ones(5))
    assert any("jit of `<lambda>`" in r.getMessage() for r in caplog.records)


def test_the_compiler_option(restore):
    config.update("jaxlite_cc", "/nonexistent/cc")
    with pytest.raises(CompilerNotFoundError, match="/nonexistent/cc"):
        jl_compile.find_compiler()


def test_debug_nans_names_the_primitive_eagerly(restore):
    assert core.EvalTrace.process_primitive is core._process_unchecked  # free while off
    assert np.isnan(jnp.log(jnp.array([-1.0]))[0])
    config.update("jax_debug_nans", True)
    with pytest.raises(FloatingPointError, match=r"invalid value \(nan\) encountered in log"):
        jnp.log(jnp.array([-1.0, 2.0]))
    jnp.log(jnp.array([1.0, np.inf]))  # infinities are not NaNs
    np.testing.assert_array_equal(jnp.array([1, 2]) // 0, [0, 0])  # integers are not checked


def test_debug_nans_finds_the_primitive_inside_jit(restore):
    f = jaxlite.jit(lambda x: jnp.sum(jnp.sqrt(x) * 2.0))
    assert np.isnan(f(np.array([-1.0, 4.0])))
    config.update("jax_debug_nans", True)
    with pytest.raises(FloatingPointError, match="encountered in sqrt"):
        f(np.array([-1.0, 4.0]))
    with pytest.raises(FloatingPointError, match="encountered in sqrt"):
        jaxlite.grad(lambda x: f(x))(np.array([-1.0, 4.0]))
    assert float(f(np.array([1.0, 4.0]))) == 6.0
    config.update("jax_debug_nans", False)
    assert jit_mod.JitFunction.__call__ is jit_mod._call_unchecked  # free again


def test_debug_infs(restore):
    config.update("jax_debug_infs", True)
    with pytest.raises(FloatingPointError, match=r"invalid value \(inf\) encountered in div"):
        jnp.array([1.0]) / 0.0
    with pytest.raises(FloatingPointError, match=r"\(inf\) encountered in exp"):
        jaxlite.jit(lambda x: jnp.exp(x) + 1.0)(np.array([1000.0]))
    assert np.isnan(jnp.log(jnp.array([-1.0]))[0])  # NaNs pass when only infs are checked
