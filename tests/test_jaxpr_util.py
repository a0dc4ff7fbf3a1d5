"""jaxlite/jaxpr_util.py: liveness, DCE, substitution, constvars, sub-jaxpr traversal and the
registry through which call primitives declare their backend behaviour."""

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, jaxpr_util, lax
from jaxlite.backend import lower, passes
from jaxlite.control_flow import cond_p, scan_p, while_p
from jaxlite.core import Jaxpr, JaxprEqn, ShapedArray, Var
from jaxlite.errors import JaxliteError
from jaxlite.jit import pjit_p

f32 = np.dtype(np.float32)


def jaxpr_of(f, *args) -> Jaxpr:
    return jaxlite.make_jaxpr(f)(*args).jaxpr


def test_live_eqns_and_dce_drop_what_no_output_reads():
    j = jaxpr_of(lambda x: (jnp.sin(x), jnp.cos(x) * 2.0), np.ones(3, f32))
    assert [e.primitive.name for e in jaxpr_util.live_eqns(j)] == ["sin", "cos", "mul"]
    only_sin = jaxpr_util.dce_jaxpr(j, [True, False])
    assert [e.primitive.name for e in only_sin.eqns] == ["sin"]
    assert only_sin.invars == j.invars and len(only_sin.outvars) == 1
    assert [e.primitive.name for e in jaxpr_util.live_eqns(j, j.outvars[1:])] == ["cos", "mul"]
    with pytest.raises(ValueError):
        jaxpr_util.dce_jaxpr(j, [True])  # one flag per output


def test_use_counts_count_operands_and_outputs():
    j = jaxpr_of(lambda x: (x * x, x), np.ones(3, f32))
    uses = jaxpr_util.use_counts(j.eqns, j.outvars)
    assert uses[j.invars[0]] == 3 and uses[j.outvars[0]] == 1


def test_copy_eqns_and_fresh_copy_compute_the_same_with_new_variables():
    closed = jaxlite.make_jaxpr(lambda x: jnp.exp(x) + x)(np.ones(3, f32))
    copy = jaxpr_util.fresh_copy(closed)
    old = {*closed.jaxpr.invars, *(v for e in closed.jaxpr.eqns for v in e.outvars)}
    new = {*copy.jaxpr.invars, *(v for e in copy.jaxpr.eqns for v in e.outvars)}
    assert not old & new
    x = np.arange(3, dtype=f32)
    np.testing.assert_array_equal(core.eval_jaxpr(copy.jaxpr, [], x)[0],
                                  core.eval_jaxpr(closed.jaxpr, [], x)[0])  # fmt: skip


def test_substitute_replaces_variables_only():
    a, b = Var(ShapedArray((), f32)), Var(ShapedArray((), f32))
    lit = core.Literal(np.float32(1), ShapedArray((), f32))
    assert jaxpr_util.substitute([a, lit, b], {a: b}) == [b, lit, b]


def test_constvars_become_leading_inputs():
    y = jnp.arange(3.0)
    closed = jaxlite.make_jaxpr(lambda x: x + y)(np.ones(3))
    assert len(closed.jaxpr.constvars) == 1
    opened, consts = jaxpr_util.hoist_consts(closed)
    assert not opened.jaxpr.constvars and opened.consts == []
    assert opened.jaxpr.invars == closed.jaxpr.constvars + closed.jaxpr.invars
    assert consts[0] is closed.consts[0]
    assert jaxpr_util.hoist_consts(opened) == (opened, [])


def test_sub_jaxprs_follow_the_declared_params():
    def f(x):
        c = lax.cond(x[0] > 0, jnp.sin, jnp.cos, x)
        return lax.scan(lambda h, t: (h + t, h), c[0], x)[1]

    j = jaxpr_of(f, np.ones(3, f32))
    by_name = {e.primitive.name: e for e in j.eqns}
    assert len(list(jaxpr_util.sub_jaxprs(by_name["cond"]))) == 2
    assert len(list(jaxpr_util.sub_jaxprs(by_name["scan"]))) == 1
    assert list(jaxpr_util.sub_jaxprs(j.eqns[0])) == []  # not a call primitive
    same = jaxpr_util.map_sub_jaxprs(by_name["cond"], lambda jx: jx)
    assert same is by_name["cond"]  # nothing changed: the same equation
    dropped = jaxpr_util.map_sub_jaxprs(by_name["scan"], jaxpr_util.dce_jaxpr)
    assert dropped is not by_name["scan"]
    assert dropped.params["jaxpr"].consts == by_name["scan"].params["jaxpr"].consts


def test_every_call_primitive_declares_itself():
    infos = {p.name: jaxpr_util.call_info(p) for p in jaxpr_util.call_primitives()}
    assert infos["pjit"].inline_body == "jaxpr"
    assert infos["checkpoint"].inline_body == "jaxpr"
    assert infos["custom_jvp_call"].inline_body == "call_jaxpr"
    assert infos["custom_vjp_call"].inline_body == "call_jaxpr"
    assert jaxpr_util.call_info(scan_p).hoist is not None  # the backend asks, scan answers
    for p in (cond_p, while_p, scan_p):
        assert jaxpr_util.call_info(p).inline_body is None
    assert jaxpr_util.call_info(pjit_p).hoist is None


def _call_eqn(prim: core.Primitive) -> Jaxpr:
    """`out = prim[body=...] x`, with a body computing sin(x)."""
    body = jaxlite.make_jaxpr(jnp.sin)(np.ones(2, f32))
    x, out = Var(body.in_avals[0]), Var(body.out_avals[0])
    return Jaxpr([], [x], [out], [JaxprEqn(prim, [x], [out], {"body": body})])


def test_an_unregistered_call_primitive_is_rejected_clearly():
    p = core.Primitive("my_call", multiple_results=True)
    jaxpr = _call_eqn(p)
    with pytest.raises(JaxliteError, match="'my_call'.*register_call_primitive"):
        passes.simplify(jaxpr)
    with pytest.raises(JaxliteError, match="'my_call'"):
        list(jaxpr_util.sub_jaxprs(jaxpr.eqns[0]))
    assert not lower.has_lowering(p)


def test_a_registered_call_primitive_is_inlined_only_when_it_says_so(monkeypatch):
    p = core.Primitive("my_call", multiple_results=True)
    monkeypatch.setitem(jaxpr_util._CALLS, p, jaxpr_util.CallInfo(("body",)))
    kept = passes.simplify(_call_eqn(p))
    assert [e.primitive for e in kept.eqns] == [p]  # not inlined: no inline_body
    assert not lower.has_lowering(p)
    monkeypatch.setitem(jaxpr_util._CALLS, p, jaxpr_util.CallInfo(("body",), "body"))
    inlined = passes.simplify(_call_eqn(p))
    assert [e.primitive.name for e in inlined.eqns] == ["sin"]
    assert lower.has_lowering(p)


def test_inline_body_must_be_a_declared_sub_jaxpr():
    with pytest.raises(ValueError, match="inline_body"):
        jaxpr_util.register_call_primitive(core.Primitive("bad"), sub_jaxprs=(), inline_body="b")
