"""vmap's public API: in_axes/out_axes pytrees, keyword arguments, axis_size, nesting, the jaxprs
it builds, batch_jaxpr for call primitives, and its error messages.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
from jaxlite import core, lax
from jaxlite.array import Array
from jaxlite.errors import ConcretizationTypeError, UnexpectedTracerError
from jaxlite.interpreters import vmap as batching

vmap = jaxlite.vmap
rng = np.random.default_rng(0)


def arr(*shape, dtype=np.float64):
    return Array(rng.normal(size=shape).astype(dtype))


def loop(f, in_axes, args, n, out_axis=0):
    """The reference: call f on each example and stack along out_axis."""
    outs = []
    for i in range(n):
        ex = [
            a if ax is None else np.take(np.asarray(a), i, axis=ax) for a, ax in zip(args, in_axes)
        ]
        outs.append(np.asarray(f(*[Array(np.asarray(e)) for e in ex])))
    return np.moveaxis(np.stack(outs), 0, out_axis)


def f2(x, y):
    return lax.add(lax.mul(lax.sin(x), 2.0), lax.reduce_sum(y, (0,)))


@pytest.mark.parametrize(
    "in_axes, shapes",
    [
        (0, [(4, 3), (4, 5)]),
        (1, [(3, 4), (5, 4)]),
        (-1, [(3, 4), (5, 4)]),
        ((0, None), [(4, 3), (5,)]),
        ((None, 1), [(3,), (5, 4)]),
        ((-2, -1), [(4, 3), (5, 4)]),
        ([1, 0], [(3, 4), (4, 5)]),  # a top-level list is one entry per argument
    ],
)
@pytest.mark.parametrize("out_axes", [0, 1, -1])
def test_in_axes_and_out_axes(in_axes, shapes, out_axes):
    args = [arr(*s) for s in shapes]
    axes = list(in_axes) if isinstance(in_axes, (tuple, list)) else [in_axes] * 2
    got = vmap(f2, in_axes=in_axes, out_axes=out_axes)(*args)
    np.testing.assert_allclose(got, loop(f2, axes, args, 4, out_axes), rtol=1e-12)


def test_pytree_in_axes_prefixes_and_kwargs():
    params = {"w": arr(3, 2), "b": arr(2)}
    xs = {"a": arr(5, 3), "b": arr(3, 5)}

    def f(p, x, *, scale):
        h = lax.add(lax.dot(x["a"], p["w"]), p["b"])
        return {"h": lax.mul(h, scale), "s": lax.reduce_sum(x["b"], (0,))}

    scale = arr(5)
    got = vmap(f, in_axes=(None, {"a": 0, "b": 1}))(params, xs, scale=scale)
    P = {k: np.asarray(v) for k, v in params.items()}
    A, B, S = np.asarray(xs["a"]), np.asarray(xs["b"]), np.asarray(scale)
    np.testing.assert_allclose(got["h"], (A @ P["w"] + P["b"]) * S[:, None], rtol=1e-12)
    np.testing.assert_allclose(got["s"], B.sum(0), rtol=1e-12)


def test_out_axes_pytree_and_none():
    x, c = arr(4, 3), arr(3)

    def f(x, c):
        return (lax.mul(x, 2.0), {"c": lax.neg(c), "x": lax.sin(x)})

    a, d = vmap(f, in_axes=(0, None), out_axes=(1, {"c": None, "x": -1}))(x, c)
    np.testing.assert_allclose(a, 2 * np.asarray(x).T)
    np.testing.assert_allclose(d["c"], -np.asarray(c))
    np.testing.assert_allclose(d["x"], np.sin(np.asarray(x)).T)


def test_unmapped_output_is_broadcast_and_axis_size():
    x = arr(3)
    out = vmap(lambda x, y: lax.mul(x, 2.0), in_axes=(None, 0))(x, arr(5, 2))
    np.testing.assert_allclose(out, np.broadcast_to(2 * np.asarray(x), (5, 3)))
    out = vmap(lambda x: lax.exp(x), in_axes=None, axis_size=4, out_axes=1)(x)
    np.testing.assert_allclose(out, np.broadcast_to(np.exp(np.asarray(x))[:, None], (3, 4)))


def test_numpy_inputs_and_empty_batch():
    xs = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(vmap(lambda v: lax.reduce_sum(v, (0,)))(xs), xs.sum(1))
    out = vmap(lambda v: lax.dot(v, v))(np.zeros((0, 3)))
    assert out.shape == (0,)


def test_nested_vmaps_match_numpy():
    x = arr(2, 3, 4)
    w = arr(4, 5)

    def f(v):  # one row of length 4
        return lax.tanh(lax.dot(v, w))

    out = vmap(vmap(vmap(lambda s: lax.mul(s, s))))(x)
    np.testing.assert_allclose(out, np.asarray(x) ** 2)
    out = vmap(vmap(f, in_axes=0), in_axes=1, out_axes=-1)(x)  # maps axis 1, then axis 0
    np.testing.assert_allclose(out, np.tanh(np.asarray(x) @ np.asarray(w)).transpose(0, 2, 1))
    # an inner vmap that closes over an outer batched value
    out = vmap(lambda a: vmap(lambda b: lax.mul(a, b))(arr_b))(arr_a)
    np.testing.assert_allclose(out, np.asarray(arr_a)[:, None] * np.asarray(arr_b)[None, :])


arr_a, arr_b = arr(3), arr(5)


def test_matvec_jaxpr_has_one_dot_general():
    m, xs = arr(4, 3), arr(7, 3)
    mv = lambda m, v: lax.dot(m, v)
    single = jaxlite.make_jaxpr(mv)(m, xs[0])
    batched = jaxlite.make_jaxpr(vmap(mv, in_axes=(None, 0)))(m, xs)
    names = [e.primitive.name for e in batched.eqns]
    assert names.count("dot_general") == 1
    assert len(batched.eqns) <= len(single.eqns) + 1  # plus at most one move of the batch axis
    np.testing.assert_allclose(vmap(mv, in_axes=(None, 0))(m, xs), np.asarray(xs) @ np.asarray(m).T)
    # batched on both sides: the batch axis becomes a batch dimension of the one dot_general
    batched2 = jaxlite.make_jaxpr(vmap(mv))(arr(7, 4, 3), xs)
    assert [e.primitive.name for e in batched2.eqns] == ["dot_general"]


def test_vmap_of_make_jaxpr_and_make_jaxpr_of_vmap_agree():
    f = lambda x: lax.reduce_max(lax.cumsum(lax.exp(x), axis=0), (0,))
    x = arr(6, 4)
    closed = jaxlite.make_jaxpr(f)(x[0])
    via_jaxpr = vmap(lambda v: core.jaxpr_as_fun(closed)(v)[0])(x)
    np.testing.assert_allclose(via_jaxpr, vmap(f)(x))
    staged = jaxlite.make_jaxpr(vmap(f))(x)
    np.testing.assert_allclose(core.jaxpr_as_fun(staged)(x)[0], np.asarray(vmap(f)(x)))


@pytest.mark.parametrize("in_dims", [(0, None), (None, 1), (1, 0)])
def test_batch_jaxpr(in_dims):
    f = lambda x, y: (lax.mul(x, lax.reduce_sum(y, (0,))), lax.neg(x))
    x, y = arr(3), arr(2, 3)
    closed = jaxlite.make_jaxpr(f)(x, y)
    n = 5
    bx = arr(*batching.batch_aval(core.get_aval(x), in_dims[0], n).shape)
    by = arr(*batching.batch_aval(core.get_aval(y), in_dims[1], n).shape)
    want = vmap(f, in_axes=in_dims)(bx, by)
    batched, out_dims = batching.batch_jaxpr(closed, n, in_dims, True)
    assert out_dims == [0, 0]
    for got, w in zip(core.jaxpr_as_fun(batched)(bx, by), want):
        np.testing.assert_allclose(got, w)
    batched, out_dims = batching.batch_jaxpr(closed, n, in_dims, False)
    assert out_dims[1] == (None if in_dims[0] is None else in_dims[0])
    forced = batching.batch_jaxpr_to(closed, n, in_dims, [1, 0])
    got = core.jaxpr_as_fun(forced)(bx, by)
    np.testing.assert_allclose(got[0], np.moveaxis(np.asarray(want[0]), 0, 1))
    np.testing.assert_allclose(got[1], want[1])
    core.typecheck_jaxpr(forced.jaxpr)


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


def test_inconsistent_sizes_names_each_argument():
    def f(x, y):
        return lax.add(x["a"], y)

    with pytest.raises(ValueError) as e:
        vmap(f)({"a": arr(2, 3)}, arr(4, 3))
    msg = str(e.value)
    assert msg.startswith("vmap got inconsistent sizes for array axes to be mapped:\n")
    assert "`x` (args[0])['a']: axis 0 of f64[2,3] has size 2" in msg
    assert "`y` (args[1]): axis 0 of f64[4,3] has size 4" in msg
    with pytest.raises(ValueError, match="axis_size=3"):
        vmap(lambda x: x, axis_size=3)(arr(2))


def test_in_axes_out_of_range_names_argument_shape_and_axis():
    with pytest.raises(ValueError) as e:
        vmap(lambda p, q: p, in_axes=(0, 2))(arr(3), {"k": arr(3, 4)})
    msg = str(e.value)
    assert "`q` (args[1])['k']" in msg and "axis 2" in msg and "(3, 4)" in msg
    with pytest.raises(ValueError, match="axis -2"):
        vmap(lambda v: v, in_axes=-2)(arr(3))
    with pytest.raises(ValueError, match=r"kwargs\['z'\]"):
        vmap(lambda x, z: x)(arr(3), z=Array(np.float64(1.0)))


def test_in_axes_structure_errors():
    with pytest.raises(ValueError, match=r"len\(in_axes\)=2, len\(args\)=1"):
        vmap(lambda x: x, in_axes=(0, 0))(arr(3))
    with pytest.raises(ValueError, match="tree prefix.*argument `x`"):
        vmap(lambda x: x, in_axes=({"a": 0},))({"b": arr(3)})
    with pytest.raises(TypeError, match="in_axes must be an int, None"):
        vmap(lambda x: x, in_axes=1.0)
    with pytest.raises(TypeError, match="tuple of entries corresponding to the positional"):
        vmap(lambda x: x, in_axes={"a": 0})
    with pytest.raises(TypeError, match="out_axes must be an int, None"):
        vmap(lambda x: x, out_axes=(0, "1"))
    with pytest.raises(ValueError, match="at least one non-None value in in_axes"):
        vmap(lambda x: x, in_axes=None)(arr(3))


def test_out_axes_errors():
    with pytest.raises(ValueError, match="mapped output but out_axes is None"):
        vmap(lambda x: x, out_axes=None)(arr(3))
    with pytest.raises(ValueError, match="out_axes=2 is out of range"):
        vmap(lambda x: x, out_axes=2)(arr(3))


def test_missing_batching_rule_names_the_primitive():
    p = core.Primitive("my_custom_op")
    p.def_impl(lambda x: x * 2)
    p.def_abstract_eval(lambda x: x)
    assert np.asarray(p.bind(arr(2))).shape == (2,)  # fine outside vmap
    with pytest.raises(NotImplementedError, match="'my_custom_op' has no batching rule"):
        vmap(p.bind)(arr(3, 2))
    # unbatched operands never need the rule
    out = vmap(lambda x, c: lax.add(x, p.bind(c)), in_axes=(0, None))(arr(3, 2), arr(2))
    assert out.shape == (3, 2)


def test_python_control_flow_on_batched_value():
    with pytest.raises(ConcretizationTypeError, match="vmap of `<lambda>`"):
        vmap(lambda x: x if lax.gt(lax.reduce_sum(x, (0,)), 0.0) else lax.neg(x))(arr(3, 2))


def test_escaped_tracer():
    leaked = []
    vmap(lambda x: leaked.append(x) or x)(arr(3))
    with pytest.raises(UnexpectedTracerError):
        lax.sin(leaked[0])


def test_vmap_and_jit_compose():
    def f(x):
        return lax.reduce_sum(lax.mul(lax.sin(x), x), (0,))

    xs = arr(4, 3)
    want = (np.sin(np.asarray(xs)) * np.asarray(xs)).sum(1)
    np.testing.assert_allclose(vmap(jaxlite.jit(f))(xs), want, rtol=1e-12)
    np.testing.assert_allclose(jaxlite.jit(vmap(f))(xs), want, rtol=1e-12)
