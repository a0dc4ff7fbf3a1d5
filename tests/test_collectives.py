"""Named-axis collectives under vmap(axis_name=...), against JAX (the oracle), eagerly, under jit
(vmap inside jit and jit inside vmap), and differentiated (grad inside vmap)."""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite._pmap import LocalComm
from jaxlite.primitives import _collective
from jaxlite.test_util import check_grads

jax = pytest.importorskip("jax")
jlax = jax.lax


def _x(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# (name, function of (lax module, x), input shape): each is vmapped over axis 0 named "i".
CASES = [
    ("psum", lambda L, x: L.psum(x, "i"), (3, 4)),
    ("pmean", lambda L, x: L.pmean(x, "i"), (3, 4)),
    ("pmax", lambda L, x: L.pmax(x, "i"), (3, 4)),
    ("pmin", lambda L, x: L.pmin(x, "i"), (3, 2)),
    ("psum_tree", lambda L, x: L.psum({"a": x, "b": (x * 2,)}, "i"), (3, 2)),
    ("psum_const", lambda L, x: x + L.psum(2.0, "i"), (3, 2)),
    ("psum_bool", lambda L, x: L.psum(x > 0, "i"), (4, 3)),
    ("all_gather", lambda L, x: L.all_gather(x, "i"), (3, 2, 5)),
    ("all_gather_axis1", lambda L, x: L.all_gather(x, "i", axis=1), (3, 2, 5)),
    ("all_gather_tiled", lambda L, x: L.all_gather(x, "i", axis=1, tiled=True), (3, 2, 5)),
    ("psum_scatter", lambda L, x: L.psum_scatter(x, "i"), (3, 3, 2)),
    ("psum_scatter_dim1", lambda L, x: L.psum_scatter(x, "i", scatter_dimension=1), (3, 2, 3)),
    ("psum_scatter_tiled", lambda L, x: L.psum_scatter(x, "i", tiled=True), (3, 6, 2)),
    ("all_to_all", lambda L, x: L.all_to_all(x, "i", 0, 1), (3, 3, 2)),
    ("all_to_all_10", lambda L, x: L.all_to_all(x, "i", 1, 0), (3, 2, 3)),
    ("all_to_all_tiled", lambda L, x: L.all_to_all(x, "i", 0, 1, tiled=True), (3, 6, 2)),
    ("all_to_all_tiled_10", lambda L, x: L.all_to_all(x, "i", 1, 0, tiled=True), (3, 4, 6)),
    ("ppermute", lambda L, x: L.ppermute(x, "i", [(0, 1), (1, 2), (2, 0)]), (3, 2)),
    ("pshuffle", lambda L, x: L.pshuffle(x, "i", [2, 0, 1]), (3, 2)),
    ("axis_index", lambda L, x: x * L.axis_index("i"), (3, 2)),
    ("axis_size", lambda L, x: x * L.axis_size("i"), (4, 2)),
    ("softmax", lambda L, x: jnp_exp(L, x) / L.psum(jnp_exp(L, x), "i"), (5, 2)),
    # positional axes: a reduction of each example's operand, with or without named axes
    ("psum_positional", lambda L, x: L.psum(x, 0), (3, 4, 2)),
    ("psum_mixed", lambda L, x: L.psum(x, ("i", 1)), (3, 4, 2)),
    ("pmax_mixed", lambda L, x: L.pmax(x, (0, "i")), (3, 4)),
    ("pmin_positional", lambda L, x: L.pmin(x, (0, 1)), (3, 4, 2)),
    ("psum_bool_positional", lambda L, x: L.psum(x > 0, ("i", 0)), (3, 4)),
    ("psum_unbatched_mixed", lambda L, x: x + L.psum(ONE_ROW, ("i", 0)), (3, 2)),
]
ONE_ROW = np.ones((2, 2), np.float32)


def jnp_exp(L, x):
    return (jax.numpy if L is jlax else jnp).exp(x)


def _run(lib, L, fn, x, jit=False, in_axes=0):
    f = lib.vmap(lambda v: fn(L, v), in_axes=in_axes, axis_name="i")
    return (lib.jit(f) if jit else f)(x)


def _close(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for p, q in zip(la, lb):
        p, q = np.asarray(p), np.asarray(q)
        assert p.shape == q.shape and p.dtype == q.dtype, (p.shape, p.dtype, q.shape, q.dtype)
        np.testing.assert_allclose(p, q, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name,fn,shape", CASES, ids=[c[0] for c in CASES])
def test_against_jax(name, fn, shape):
    x = _x(*shape)
    want = _run(jax, jlax, fn, x)
    _close(_run(jaxlite, lax, fn, x), want)
    _close(_run(jaxlite, lax, fn, x, jit=True), want)


def test_jit_inside_vmap_and_unbatched_inputs():
    x = _x(3, 4)
    f = lambda L, lib: lib.vmap(  # noqa: E731
        lib.jit(lambda v, w: L.psum(v * w, "i") + L.axis_index("i")), in_axes=(0, None),
        axis_name="i",
    )  # fmt: skip
    _close(f(lax, jaxlite)(x, x[0]), f(jlax, jax)(x, x[0]))
    # an unbatched operand: psum multiplies by the axis size; a jit whose operands are all
    # unbatched still sees the axis
    g = lambda L, lib: lib.vmap(  # noqa: E731
        lambda v: lib.jit(lambda: L.psum(np.float32(1.5), "i"))() + v, axis_name="i"
    )
    _close(g(lax, jaxlite)(x), g(jlax, jax)(x))


def test_nested_names():
    x = _x(2, 3, 4)

    def f(L, lib):
        inner = lambda v: (  # noqa: E731
            L.psum(v, ("i", "j")), L.psum(v, "i"), L.axis_index(("i", "j")),
            L.all_gather(v, "i"), L.pmax(v, "j"), L.axis_size(("i", "j")) * v,
        )  # fmt: skip
        return lib.vmap(lib.vmap(inner, axis_name="j"), axis_name="i")

    _close(f(lax, jaxlite)(x), f(jlax, jax)(x))
    _close(jaxlite.jit(f(lax, jaxlite))(x), f(jlax, jax)(x))


def test_grad_inside_vmap_matches_jax():
    x = _x(3, 6)
    fns = [
        lambda L, v: (L.psum(v, "i") ** 2).sum(),  # psum's transpose is psum, as JAX's
        lambda L, v: (L.pmean(v * v, "i") * v).sum(),
        lambda L, v: (L.all_gather(v, "i", axis=1) ** 2 * jnp_arange(L, 3)[None, :]).sum(),
        lambda L, v: (L.psum_scatter(jnp_tile(L, v), "i", tiled=True) ** 3).sum(),
        lambda L, v: (L.ppermute(v, "i", [(0, 1), (1, 2), (2, 0)]) * v).sum(),
        lambda L, v: (L.all_to_all(v[:3], "i", 0, 0) ** 2 * v[3:]).sum(),
    ]
    for k, fn in enumerate(fns):
        want = jax.vmap(jax.grad(lambda v, fn=fn: fn(jlax, v)), axis_name="i")(x)
        got = jaxlite.vmap(jaxlite.grad(lambda v, fn=fn: fn(lax, v)), axis_name="i")(x)
        _close(got, want)
        if k in (0, 2):  # NB: compiled too (a few: each is a compilation)
            f = jaxlite.vmap(jaxlite.grad(lambda v, fn=fn: fn(lax, v)), axis_name="i")
            _close(jaxlite.jit(f)(x), want)


def jnp_arange(L, n):
    return (jax.numpy if L is jlax else jnp).arange(n, dtype=np.float32)


def jnp_tile(L, v):
    return (jax.numpy if L is jlax else jnp).concatenate([v, v])


def test_positional_axes_outside_vmap_and_grad():
    x = _x(3, 2)
    for fn in (
        lambda L, v: L.psum(v, 0),
        lambda L, v: L.pmax(v, (0, 1)),
        lambda L, v: L.pmin(v, 1),
    ):
        _close(fn(lax, x), fn(jlax, x))
        _close(jaxlite.jit(lambda v, fn=fn: fn(lax, v))(x), fn(jlax, x))
    f = lambda L, lib: lib.vmap(  # noqa: E731
        lib.grad(lambda v: (L.psum(v, ("i", 0)) ** 2).sum()), axis_name="i"
    )
    _close(f(lax, jaxlite)(x), f(jlax, jax)(x))


def test_grad_of_pmax_shares_ties():
    # Beyond JAX (no rule there): the tangent of pmax goes to the examples holding the maximum,
    # shared equally between ties (each of the 3 examples' losses counts: psum's transpose is
    # psum, as for lax.psum itself).
    x = np.array([[1.0, 3.0], [3.0, 2.0], [2.0, 3.0]], np.float32)
    g = jaxlite.vmap(jaxlite.grad(lambda v: lax.pmax(v, "i").sum()), axis_name="i")(x)
    np.testing.assert_allclose(g, 3 * np.array([[0, 0.5], [1, 0], [0, 0.5]]))
    check_grads(
        lambda v: jaxlite.vmap(lambda w: lax.pmin(w * w, "i"), axis_name="i")(v), (x + 0.1,), 1
    )


def test_check_grads_second_order():
    x = _x(3, 2).astype(np.float64)
    f = lambda v: jaxlite.vmap(  # noqa: E731
        lambda w: jnp.sin(lax.psum(w * w, "i")) * lax.all_gather(w, "i")[0], axis_name="i"
    )(v)
    check_grads(f, (x,), 2)


def test_vmap_of_function_with_outer_name():
    # the inner vmap maps over another axis: the collective over "i" sees the whole batch
    x = _x(3, 3, 2, 6)

    def per(L, w):  # w: (3, 6), inside an unnamed vmap inside vmap "i"
        return (
            L.all_gather(w, "i", axis=1), L.psum(w, "i"), L.pmin(w, "i"),
            L.psum_scatter(w, "i", scatter_dimension=1, tiled=True),
            L.all_to_all(w, "i", 0, 1), L.ppermute(w, "i", [(0, 2), (2, 1), (1, 0)]),
            L.axis_index("i") + w,
        )  # fmt: skip

    f = lambda L, lib: lib.vmap(  # noqa: E731
        lambda v: lib.vmap(lambda w: per(L, w), in_axes=1)(v), axis_name="i"
    )
    _close(f(lax, jaxlite)(x), f(jlax, jax)(x))
    _close(jaxlite.jit(f(lax, jaxlite))(x), f(jlax, jax)(x))


def test_unbound_name_raises_name_error():
    with pytest.raises(NameError, match="unbound axis name: i"):
        lax.psum(jnp.ones(3), "i")
    with pytest.raises(NameError, match="unbound axis name: j"):
        jaxlite.vmap(lambda v: lax.psum(v, "j"), axis_name="i")(jnp.ones(3))
    with pytest.raises(NameError, match="unbound axis name: i"):
        jaxlite.jit(lambda v: lax.all_gather(v, "i"))(jnp.ones(3))
    with pytest.raises(NameError, match="unbound axis name: k"):
        lax.axis_index("k")


def test_bad_input_messages():
    vm = lambda f, x: jaxlite.vmap(f, axis_name="i")(x)  # noqa: E731
    with pytest.raises(ValueError, match="all_to_all requires the size of the mapped axis"):
        vm(lambda v: lax.all_to_all(v, "i", 0, 0), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="must equal the axis size 3"):
        vm(lambda v: lax.psum_scatter(v, "i"), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="sources and destinations must be unique"):
        vm(lambda v: lax.ppermute(v, "i", [(0, 1), (0, 2)]), jnp.ones(3))
    with pytest.raises(ValueError, match="outside the axis"):
        vm(lambda v: lax.ppermute(v, "i", [(0, 5)]), jnp.ones(3))
    with pytest.raises(ValueError, match="out of bounds"):
        vm(lambda v: lax.all_gather(v, "i", axis=3), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="out-of-bounds"):
        vm(lambda v: lax.psum(v, 2), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="pmean: positional axes are not supported"):
        vm(lambda v: lax.pmean(v, ("i", 0)), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="only supported for sums over just named axes"):
        vm(lambda v: lax.psum(v, ("i", 0), axis_index_groups=[[0, 1, 2]]), jnp.ones((3, 2)))
    with pytest.raises(TypeError, match="axis_name must be a hashable name"):
        vm(lambda v: lax.all_gather(v, 0), jnp.ones((3, 2)))
    with pytest.raises(TypeError, match="axis_name must be a hashable name"):
        vm(lambda v: lax.all_gather(v, v), jnp.ones((3, 2)))
    with pytest.raises(TypeError, match="axis_name must be a hashable name"):
        jaxlite.vmap(lambda v: v, axis_name=["i"])
    with pytest.raises(NotImplementedError, match="axis_index_groups needs exactly one"):
        jaxlite.vmap(
            jaxlite.vmap(lambda v: lax.psum(v, ("i", "j"), axis_index_groups=[[0]]), axis_name="j"),
            axis_name="i",
        )(jnp.ones((1, 1)))


def test_partial_ppermute_zero_fills():
    x = _x(4, 2)
    got = jaxlite.vmap(lambda v: lax.ppermute(v, "i", [(0, 2), (3, 1)]), axis_name="i")(x)
    want = np.zeros_like(x)
    want[2], want[1] = x[0], x[3]
    np.testing.assert_array_equal(got, want)


def test_x64_off_dtypes():
    with jaxlite.enable_x64(False):
        x = jnp.arange(6).reshape(3, 2)
        out = jaxlite.vmap(lambda v: (lax.psum(v, "i"), lax.pmean(v, "i")), axis_name="i")(x)
        assert out[0].dtype == np.int32 and out[1].dtype == np.float32
        assert jaxlite.vmap(lambda v: lax.axis_index("i"), axis_name="i")(x).dtype == np.int32


def test_compiled_collectives_on_a_pmap_axis_match_eager():
    # Over a pmap axis (one process: size 1) the collectives stay primitives in the jaxpr (psum,
    # pmax, pmin, all_gather, reduce_scatter, all_to_all, ppermute, axis_index) and run in the
    # kernel through a host call; the same function op by op runs their eager implementations.
    def f(x):
        return (
            lax.psum(x, "i"), lax.pmax(x, "i"), lax.pmin(x, "i"), lax.all_gather(x, "i"),
            lax.all_gather(x, "i", axis=1, tiled=True), lax.psum_scatter(x[None], "i"),
            lax.all_to_all(x[None], "i", 0, 1), lax.ppermute(x, "i", [(0, 0)]),
            lax.axis_index("i"), jnp.sin(lax.psum(x * 2, "i")),
        )  # fmt: skip

    x = _x(1, 2, 3)
    pf = jaxlite.pmap(f, axis_name="i")
    got = pf(x)
    with jaxlite.disable_jit():
        want = pf(x)
    _close(got, want)
    np.testing.assert_allclose(got[0], x)
    frame = _collective.push_axis("i", 1, LocalComm())
    try:
        text = str(jaxlite.make_jaxpr(f)(x[0]))
    finally:
        _collective.pop_axis(frame)
    for name in ("psum", "pmax", "pmin", "all_gather", "reduce_scatter", "all_to_all",
                 "ppermute", "axis_index"):  # fmt: skip
        assert f" = {name}[" in text, (name, text)


# NB: float32 constants, not weak Python floats: the same dtypes whatever the x64 mode of
# either library (another test may have switched JAX's on).
ONE, ZERO = np.float32(1), np.float32(0)


def _control_flow_cases(L, lib):
    cp = lib.checkpoint
    return [
        lambda v: L.fori_loop(0, 3, lambda i, c: c + L.psum(ONE, "i"), ZERO),  # unbatched carry
        lambda v: L.scan(lambda c, _: (c + L.psum(v, "i"), None), ZERO, None, length=2)[0],
        lambda v: L.cond(v > 0, lambda: L.psum(v, "i"), lambda: -L.psum(v, "i")),
        lambda v: L.while_loop(lambda c: c < 10.0, lambda c: c + L.psum(ONE, "i"), ZERO),
        lambda v: L.fori_loop(
            0, 2, lambda i, c: c + L.all_gather(v, "i").sum() * L.axis_index("i"), ZERO
        ),
        lambda v: cp(lambda w: L.psum(w * w, "i"))(v),
        lambda v: lib.grad(
            lambda w: L.scan(lambda c, _: (c * L.psum(w, "i"), None), ONE, None, length=2)[0]
        )(v),
    ]


def test_collectives_inside_control_flow():
    x = np.arange(3, dtype=np.float32)
    with jaxlite.enable_x64(False):  # NB: as the oracle's JAX (its Python-float carries)
        cases = zip(_control_flow_cases(lax, jaxlite), _control_flow_cases(jlax, jax))
        for k, (a, b) in enumerate(cases):
            want = jax.vmap(b, axis_name="i")(x)
            _close(jaxlite.vmap(a, axis_name="i")(x), want)
            if k in (0, 4, 6):  # NB: compiled too (a few: each is a compilation)
                _close(jaxlite.jit(jaxlite.vmap(a, axis_name="i"))(x), want)


def test_control_flow_trace_cache_is_keyed_by_the_axis_sizes():
    # An eager loop's body is staged once and cached; a body staged under an axis of size 1
    # holds that size (lax.axis_size): under an axis of size 2 it must be staged anew (it once
    # returned 2.0 twice here).
    class Two(LocalComm):
        size = 2

    def loop_body(i, c):
        return c + lax.axis_size("i")

    def scan_body(c, _):
        return c + lax.axis_size("i"), None

    got = []
    for comm in (LocalComm(), Two(), LocalComm()):
        frame = _collective.push_axis("i", comm.size, comm)
        try:
            got.append((
                float(lax.fori_loop(0, 2, loop_body, ZERO)),
                float(lax.scan(scan_body, ZERO, None, length=3)[0]),
            ))  # fmt: skip
        finally:
            _collective.pop_axis(frame)
    assert got == [(2.0, 3.0), (4.0, 6.0), (2.0, 3.0)]


# axis_index_groups: each group runs the collective among its own examples. JAX has no vmap
# rule for them (NotImplementedError), so the reference is JAX's vmap of the same collective
# without groups over each group's examples (in the group's order).
GROUP_CASES = [
    ("psum", lambda L, x, g: L.psum(x, "i", axis_index_groups=g), (2, 3)),
    ("pmean", lambda L, x, g: L.pmean(x, "i", axis_index_groups=g), (2, 3)),
    ("pmax", lambda L, x, g: L.pmax(x, "i", axis_index_groups=g), (3,)),
    ("pmin", lambda L, x, g: L.pmin(x, "i", axis_index_groups=g), (3,)),
    ("psum_const", lambda L, x, g: x + L.psum(np.float32(1), "i", axis_index_groups=g), (2,)),
    ("all_gather", lambda L, x, g: L.all_gather(x, "i", axis_index_groups=g, axis=1), (2, 3)),
    ("all_gather_tiled",
     lambda L, x, g: L.all_gather(x, "i", axis_index_groups=g, tiled=True), (2, 3)),
    ("psum_scatter", lambda L, x, g: L.psum_scatter(x, "i", axis_index_groups=g), (2, 3)),
    ("psum_scatter_tiled", lambda L, x, g: L.psum_scatter(
        x, "i", scatter_dimension=1, axis_index_groups=g, tiled=True), (3, 4)),
    ("all_to_all", lambda L, x, g: L.all_to_all(x, "i", 0, 1, axis_index_groups=g), (2, 3)),
    ("all_to_all_tiled", lambda L, x, g: L.all_to_all(
        x, "i", 1, 0, axis_index_groups=g, tiled=True), (3, 4)),
]  # fmt: skip
GROUPS = [[0, 2], [3, 1]]


def _grouped_reference(fn, x, groups):
    out = [None] * x.shape[0]
    for g in groups:
        res = jax.vmap(lambda v: fn(jlax, v, None), axis_name="i")(x[np.array(g)])
        for pos, i in enumerate(g):
            out[i] = jax.tree_util.tree_map(lambda r, pos=pos: np.asarray(r[pos]), res)
    return jax.tree_util.tree_map(lambda *rows: np.stack(rows), *out)


@pytest.mark.parametrize("name,fn,shape", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_axis_index_groups_under_vmap(name, fn, shape):
    x = _x(4, *shape)
    want = _grouped_reference(fn, x, GROUPS)
    f = jaxlite.vmap(lambda v: fn(lax, v, GROUPS), axis_name="i")
    _close(f(x), want)
    if name in ("psum", "all_to_all_tiled"):  # NB: compiled too (a few: each compiles)
        _close(jaxlite.jit(f)(x), want)


def test_axis_index_groups_grad_and_errors():
    x = _x(4, 3)

    def loss(L, v, g):
        return (
            L.psum(v * v, "i", axis_index_groups=g) * L.all_gather(v, "i", axis_index_groups=g)[0]
        ).sum()  # noqa: E501

    want = _grouped_reference(lambda L, v, g: jax.grad(lambda w: loss(L, w, g))(v), x, GROUPS)
    got = jaxlite.vmap(jaxlite.grad(lambda w: loss(lax, w, GROUPS)), axis_name="i")(x)
    _close(got, want)
    vm = lambda f: jaxlite.vmap(f, axis_name="i")(jnp.ones((4, 2)))  # noqa: E731
    with pytest.raises(ValueError, match="cover all indices exactly once"):
        vm(lambda v: lax.psum(v, "i", axis_index_groups=[[0, 1], [2]]))
    with pytest.raises(ValueError, match="same size"):
        vm(lambda v: lax.psum(v, "i", axis_index_groups=[[0, 1, 2], [3]]))
    with pytest.raises(TypeError, match="list of lists"):
        vm(lambda v: lax.psum(v, "i", axis_index_groups=[[0.5, 1], [2, 3]]))


# Several axis names: the collective over their product, the first name major (as
# lax.axis_index numbers it). JAX's vmap rules reject a tuple here (AssertionError), so the
# reference is JAX's vmap over one axis of the product's size (the batch flattened).
NAMES_CASES = [
    ("all_gather", lambda L, x, n: L.all_gather(x, n, axis=1)),
    ("all_gather_tiled", lambda L, x, n: L.all_gather(x, n, axis=-1, tiled=True)),
    ("psum_scatter", lambda L, x, n: L.psum_scatter(x, n, scatter_dimension=0)),
    ("psum_scatter_tiled", lambda L, x, n: L.psum_scatter(x, n, tiled=True)),
    ("ppermute", lambda L, x, n: L.ppermute(x, n, [(0, 3), (3, 5), (5, 0), (1, 2), (2, 4), (4, 1)])),
    ("pshuffle", lambda L, x, n: L.pshuffle(x, n, [5, 4, 0, 1, 2, 3])),
]  # fmt: skip


@pytest.mark.parametrize("name,fn", NAMES_CASES, ids=[c[0] for c in NAMES_CASES])
def test_several_axis_names(name, fn):
    x = _x(2, 3, 6, 2)
    f = jaxlite.vmap(jaxlite.vmap(lambda v: fn(lax, v, ("i", "j")), axis_name="j"), axis_name="i")
    got = f(x)
    want = jax.vmap(lambda v: fn(jlax, v, "k"), axis_name="k")(x.reshape(6, 6, 2))
    _close(got, np.asarray(want).reshape(np.shape(got)))
    if name == "ppermute":  # NB: grad and compiled too
        _close(jaxlite.jit(f)(x), got)
        g = jaxlite.vmap(
            jaxlite.vmap(jaxlite.grad(lambda v: (fn(lax, v, ("i", "j")) * v).sum()), axis_name="j"),
            axis_name="i",
        )(x)
        w = jax.vmap(jax.grad(lambda v: (fn(jlax, v, "k") * v).sum()), axis_name="k")(
            x.reshape(6, 6, 2)
        )
        _close(g, np.asarray(w).reshape(g.shape))
