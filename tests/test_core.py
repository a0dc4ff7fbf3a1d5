"""The core: abstract values, the trace context, staging, make_jaxpr, eval_jaxpr, typecheck."""

import threading

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, dtypes, lax
from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, ShapedArray, Var
from jaxlite.interpreters import staging

f32 = np.float32
F32 = np.dtype(f32)


# ---- abstract values ----------------------------------------------------------------------------


def test_shaped_array_value_semantics():
    a = ShapedArray((2, 3), F32)
    assert a == ShapedArray((2, 3), F32) and hash(a) == hash(ShapedArray((2, 3), F32))
    assert a != ShapedArray((2, 3), F32, weak_type=True) and a != ShapedArray((3, 2), F32)
    assert (a.ndim, a.size, a.str_short(), str(a)) == (2, 6, "f32[2,3]", "f32[2,3]")
    assert repr(ShapedArray((), np.dtype(np.int64), True)) == "ShapedArray(int64[], weak_type=True)"
    assert a.update(shape=(4,)).shape == (4,) and a.update(weak_type=True).weak_type
    assert ShapedArray((), F32, True).strip_weak_type() == ShapedArray((), F32)


@pytest.mark.parametrize(
    "x, aval",
    [
        (1.0, ShapedArray((), dtypes.float64, True)),
        (3, ShapedArray((), dtypes.int64, True)),
        (True, ShapedArray((), dtypes.bool_, True)),
        (np.float32(1), ShapedArray((), F32)),
        (np.zeros((2, 1), np.uint8), ShapedArray((2, 1), dtypes.uint8)),
        (jnp.zeros(3, jnp.int32), ShapedArray((3,), dtypes.int32)),
        (jnp.asarray(2.0), ShapedArray((), dtypes.float64, True)),
    ],
)
def test_get_aval(x, aval):
    assert core.get_aval(x) == aval


# ---- the trace context ------------------------------------------------------------------------


def test_the_bottom_trace_is_eager_and_restored_after_errors():
    assert core.current_trace() is core.eval_trace

    def boom(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        jaxlite.make_jaxpr(boom)(1.0)
    assert core.current_trace() is core.eval_trace
    with pytest.raises(RuntimeError):
        with core.set_current_trace(staging.StagingTrace(core.eval_trace)):
            raise RuntimeError
    assert core.current_trace() is core.eval_trace


def test_new_trace_finishes_the_trace():
    t = staging.StagingTrace(core.current_trace())
    with core.new_trace(t):
        assert core.current_trace() is t and not t._finished
    assert t._finished and core.current_trace() is core.eval_trace


def test_the_trace_context_is_per_thread():
    seen = {}

    def other_thread():
        seen["trace"] = core.current_trace()

    def f(x):
        th = threading.Thread(target=other_thread)
        th.start()
        th.join()
        return x

    jaxlite.make_jaxpr(f)(1.0)
    assert seen["trace"] is core.eval_trace


def test_an_inner_trace_sees_outer_tracers_as_constants():
    inner = []

    def outer(x):
        y = lax.sin(x)
        inner.append(jaxlite.make_jaxpr(lambda z: lax.mul(z, y))(np.ones(3, f32)))
        return y

    closed = jaxlite.make_jaxpr(outer)(np.ones(3, f32))
    (j,) = inner
    assert str(j) == "{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = mul b a in (c,) }"
    assert isinstance(j.consts[0], core.Tracer)  # the outer trace's tracer, finished now
    assert str(closed) == "{ lambda ; a:f32[3]. let b:f32[3] = sin a in (b,) }"


def test_eager_results_are_arrays_and_weak_only_if_all_inputs_are():
    out = lax.add(np.ones(2, f32), np.ones(2, f32))
    assert type(out) is jaxlite.Array and not out.weak_type
    assert lax.add(1.0, 2.0).weak_type
    assert not lax.add(jnp.asarray(1.0), np.float64(2.0)).weak_type


def test_a_primitive_without_impl_says_so():
    p = core.Primitive("nothing")
    with pytest.raises(NotImplementedError, match="'nothing' has no eager implementation"):
        p.bind(np.ones(2))


def test_def_impl_keeps_the_numpy_function():
    p = core.Primitive("twice")
    fn = p.def_impl(lambda x: x * 2)
    assert p.impl.numpy_impl is fn
    p.def_abstract_eval(lambda x: x)
    np.testing.assert_array_equal(p.bind(np.arange(3.0)), [0.0, 2.0, 4.0])


# ---- make_jaxpr ---------------------------------------------------------------------------------


def test_make_jaxpr_pytrees_kwargs_and_static_argnums():
    def f(params, x, n, *, scale):
        w, b = params["w"], params["b"]
        y = lax.add(lax.mul(w, x), b)
        for _ in range(n):
            y = lax.tanh(y)
        return {"y": lax.mul(y, scale), "n": n}

    params = {"w": np.ones(3, f32), "b": np.zeros(3, f32)}
    closed = jaxlite.make_jaxpr(f, static_argnums=2)(params, np.ones(3, f32), 2, scale=f32(2))
    assert [str(a) for a in closed.in_avals] == ["f32[3]", "f32[3]", "f32[3]", "f32[]"]
    assert [e.primitive.name for e in closed.eqns] == ["mul", "add", "tanh", "tanh", "mul"]
    assert len(closed.out_avals) == 2  # leaves of {"n": 2, "y": ...}: n is a weak i64 literal


def test_make_jaxpr_return_shape_and_eval_shape():
    closed, shape = jaxlite.make_jaxpr(lambda x: (x, lax.reduce_sum(x, (0,))), return_shape=True)(
        np.ones((2, 3), f32)
    )
    S = jaxlite.ShapeDtypeStruct
    assert shape == (S((2, 3), f32), S((3,), f32))
    assert jaxlite.eval_shape(lambda x: lax.convert_element_type(x, np.int32), S((4,), f32)) == (
        S((4,), np.int32)
    )


def test_constants_become_literals_or_constvars():
    c = np.arange(3, dtype=f32)

    def f(x):
        return lax.add(lax.add(x, c), lax.mul(c, np.float32(2)))  # c used twice: one constvar

    closed = jaxlite.make_jaxpr(f)(np.ones(3, f32))
    assert len(closed.jaxpr.constvars) == 1 and closed.consts[0] is c
    assert isinstance(closed.eqns[1].invars[1], Literal)
    assert str(closed) == dedent_one(
        """
        { lambda a:f32[3]; b:f32[3]. let
            c:f32[3] = add b a
            d:f32[3] = mul a 2.0:f32[]
            e:f32[3] = add c d
          in (e,) }"""
    )


def dedent_one(s):
    import textwrap

    return textwrap.dedent(s).strip("\n")


def test_weak_typed_inputs_are_traced_as_weak():
    closed = jaxlite.make_jaxpr(lambda x, y: lax.add(x, y))(1.0, 2.0)
    assert all(a.weak_type for a in closed.in_avals)
    assert closed.out_avals[0].weak_type


# ---- eval_jaxpr and typecheck ------------------------------------------------------------------


def test_eval_jaxpr_and_jaxpr_as_fun():
    c = np.array([1.0, 2.0, 3.0], f32)
    closed = jaxlite.make_jaxpr(lambda x: lax.sin(lax.mul(x, c)))(np.ones(3, f32))
    x = np.array([0.5, 1.0, 2.0], f32)
    (out,) = core.eval_jaxpr(closed.jaxpr, closed.consts, x)
    np.testing.assert_allclose(out, np.sin(x * c), rtol=1e-6)
    (again,) = core.jaxpr_as_fun(closed)(x)
    np.testing.assert_array_equal(again, out)
    with pytest.raises(TypeError, match="expected 1 arguments, got 2"):
        core.eval_jaxpr(closed.jaxpr, closed.consts, x, x)


def test_eval_jaxpr_under_staging_reproduces_the_jaxpr():
    closed = jaxlite.make_jaxpr(lambda x: lax.exp(lax.neg(x)))(np.ones(2, f32))
    again = jaxlite.make_jaxpr(lambda x: core.eval_jaxpr(closed.jaxpr, closed.consts, x))(
        np.ones(2, f32)
    )
    assert str(again) == str(closed)


def _vars(*avals):
    return [Var(a) for a in avals]


def test_typecheck_accepts_staged_jaxprs():
    closed = jaxlite.make_jaxpr(lambda x: lax.reduce_max(lax.cos(x), (0,)))(np.ones((2, 3), f32))
    core.typecheck_jaxpr(closed.jaxpr)


def test_typecheck_names_the_equation():
    a, b, c = _vars(ShapedArray((3,), F32), ShapedArray((3,), F32), ShapedArray((4,), F32))
    bad_type = Jaxpr([], [a], [c], [JaxprEqn(lax.sin_p, [a], [c], {})])
    with pytest.raises(
        core.JaxprTypeError,
        match=r"^equation 0 `b:f32\[4\] = sin a`: output b has type f32\[4\] but the rule gives "
        r"f32\[3\]$",
    ):
        core.typecheck_jaxpr(bad_type)
    undefined = Jaxpr([], [a], [c], [JaxprEqn(lax.sin_p, [b], [c], {})])
    with pytest.raises(
        core.JaxprTypeError,
        match=r"^variable c is used before it is defined in equation 0 `b:f32\[4\] = sin c`$",
    ):
        core.typecheck_jaxpr(undefined)
    rule_fails = Jaxpr([], [a, c], [b], [JaxprEqn(lax.add_p, [a, c], [b], {})])
    with pytest.raises(core.JaxprTypeError, match=r"equation 0 .*add got incompatible shapes"):
        core.typecheck_jaxpr(rule_fails)
    out_undefined = Jaxpr([], [a], [b], [])
    with pytest.raises(core.JaxprTypeError, match="variable b is used .* the jaxpr's outputs"):
        core.typecheck_jaxpr(out_undefined)


def test_closed_jaxpr_accessors():
    closed = jaxlite.make_jaxpr(lambda x: lax.neg(x))(np.ones(2, f32))
    assert isinstance(closed, ClosedJaxpr) and closed.consts == []
    assert closed.in_avals == [ShapedArray((2,), F32)] == closed.out_avals
    assert closed.eqns is closed.jaxpr.eqns


def test_staging_deduplicates_nothing_it_should_not():
    # Two calls of the same op are two equations (no CSE at staging time).
    closed = jaxlite.make_jaxpr(lambda x: (lax.sin(x), lax.sin(x)))(np.ones(2, f32))
    assert [e.primitive.name for e in closed.eqns] == ["sin", "sin"]


def test_quickstart_example_runs():
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, str(root / "examples" / "quickstart.py")],
        capture_output=True, text=True, timeout=300, cwd=root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c,) }" in (
        proc.stdout
    )


def test_readme_example_runs_and_prints_what_it_says(capsys):
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "0.040321294",
        "True",
        "{ lambda ; a:f32[3,2]. let b:f32[3,2] = sin a in (b,) }",
        "{'w': (2,), 'x': (3, 2)}",
    ]
