"""The jaxpr passes run before lowering (jaxlite/backend/passes.py): each does what it says, and
the simplified jaxpr computes exactly what the original does (eager interpreter on both).
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, lax
from jaxlite.backend import passes
from jaxlite.interpreters import staging

f32 = np.float32


def jaxpr_of(fn, *args) -> core.ClosedJaxpr:
    closed = jaxlite.make_jaxpr(fn)(*args)
    return core.ClosedJaxpr(staging.convert_constvars_jaxpr(closed.jaxpr), []), closed.consts


def prims(jaxpr) -> list[str]:
    return [e.primitive.name for e in jaxpr.eqns]


def same_results(fn, *args):
    closed, consts = jaxpr_of(fn, *args)
    simple = passes.simplify(closed.jaxpr)
    core.typecheck_jaxpr(simple)
    a = core.eval_jaxpr(closed.jaxpr, [], *consts, *args)
    b = core.eval_jaxpr(simple, [], *consts, *args)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    return simple


def test_common_subexpressions_are_computed_once():
    simple = same_results(lambda x: jnp.sin(x * 2.0) + jnp.sin(x * 2.0), jnp.ones(3, f32))
    assert prims(simple) == ["mul", "sin", "add"]


def test_scalar_constants_fold():
    simple = same_results(lambda x: x * (-(2.0**3) / 4.0 + jnp.sqrt(16.0)), jnp.ones(3))
    assert prims(simple) == ["mul"]


def test_no_op_equations_are_forwarded():
    def f(x):
        y = lax.convert_element_type(x, np.float32)
        y = lax.reshape(lax.transpose(y, (0, 1)), (2, 3))
        return lax.stop_gradient(lax.broadcast_in_dim(y, (2, 3), (0, 1))) + 1.0

    simple = same_results(f, jnp.ones((2, 3), f32))
    assert prims(simple) == ["add"]


def test_calls_are_inlined_with_fresh_variables():
    inner = jaxlite.jit(lambda x: jnp.exp(x) * 2.0)
    simple = same_results(lambda x: inner(x) + inner(x + 1.0), jnp.ones(4, f32))
    assert "pjit" not in prims(simple) and prims(simple).count("exp") == 2
    assert len({v for e in simple.eqns for v in e.outvars}) == len(simple.eqns)


def test_dead_code_is_removed():
    def f(x):
        unused = jnp.cos(x) * 3.0  # noqa: F841
        return x + 1.0

    assert prims(same_results(f, jnp.ones(2))) == ["add"]


def test_a_transposed_product_is_computed_transposed():
    def f(a, b):
        return lax.transpose(lax.dot_general(a, b, (((0,), (0,)), ((), ()))), (1, 0)) * 2.0

    a, b = np.arange(12.0).reshape(4, 3), np.arange(20.0).reshape(4, 5)
    simple = same_results(f, a, b)
    assert prims(simple) == ["dot_general", "mul"]
    np.testing.assert_allclose(jaxlite.jit(f)(a, b), (a.T @ b).T * 2)


@pytest.mark.parametrize("fn", [
    lambda x: jnp.sum(jnp.tanh(x @ x.T) * 2.0, axis=0),
    lambda x: jaxlite.grad(lambda x: jnp.sum(jnp.sin(x) * x ** 2))(x),
    lambda x: jaxlite.vmap(lambda r: jnp.dot(r, r) + jnp.max(r))(x),
])  # fmt: skip
def test_simplified_jaxprs_compute_the_same(fn):
    same_results(fn, np.linspace(-1, 1, 12, dtype=f32).reshape(3, 4))
