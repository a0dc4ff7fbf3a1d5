"""Control flow (cond, switch, scan, fori_loop, while_loop, map) against the unrolled Python
equivalents, under eval, jit, jvp, grad (check_grads), vmap and their compositions.

Each case is one spec line: the control-flow function, its unrolled Python twin (ordinary jnp
code with Python `if`/`for`/`while` on concrete values), the arguments, the derivative order to
check in reverse mode (None: forward mode only, as for while_loop) and the vmap axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.test_util import check_grads

RNG = np.random.RandomState(0)
W = RNG.randn(3, 3) * 0.5  # closed over by bodies: hoisted as operands of the primitives


def rand(*shape):
    return RNG.randn(*shape)


# ------------------------------------------------------------------------------------------
# The cases: control flow and its unrolled twin
# ------------------------------------------------------------------------------------------


def cond_f(x):
    return lax.cond(x.sum() > 0, lambda x: jnp.sin(x) * 2.0, lambda x: x * x, x)


def cond_py(x):
    return jnp.sin(x) * 2.0 if x.sum() > 0 else x * x


def cond_pytree_f(x, y):
    # Pytree operands and outputs, a closure over an array, an integer predicate.
    def yes(ops):
        a, b = ops["a"], ops["b"]
        return {"s": jnp.tanh(a @ W) + b, "t": (a * b).sum()}

    def no(ops):
        a, b = ops["a"], ops["b"]
        return {"s": a - b, "t": jnp.exp(b).sum()}

    return lax.cond((x.sum() > 0).astype(jnp.int32), yes, no, {"a": x, "b": y})


def cond_pytree_py(x, y):
    if x.sum() > 0:  # NB: bool() of a JVP tracer is its primal's (as JAX); float() raises
        return {"s": jnp.tanh(x @ W) + y, "t": (x * y).sum()}
    return {"s": x - y, "t": jnp.exp(y).sum()}


BRANCHES = [lambda x: jnp.sin(x), lambda x: x * x @ W, lambda x: jnp.cos(x) * 3.0]


def switch_f(x):
    i = jnp.floor(x.sum()).astype(jnp.int32)  # clamped into [0, 2] by switch
    return lax.switch(i, BRANCHES, x)


def switch_py(x):
    i = min(max(int(jnp.floor(x.sum())), 0), 2)
    return BRANCHES[i](x)


def rnn_cell(carry, x):
    h, n = carry["h"], carry["n"]
    h = jnp.tanh(h @ W + x)
    return {"h": h, "n": n + 1}, (h.sum(), h * 2.0)


def scan_f(h0, xs):
    carry, ys = lax.scan(rnn_cell, {"h": h0, "n": 0}, xs)
    return carry["h"], ys


def scan_py(h0, xs):
    carry, ys0, ys1 = {"h": h0, "n": 0}, [], []
    for x in xs:
        carry, (a, b) = rnn_cell(carry, x)
        ys0.append(a)
        ys1.append(b)
    return carry["h"], (jnp.stack(ys0), jnp.stack(ys1))


def scan_rev_f(c, xs):
    return lax.scan(lambda c, x: (c * jnp.cos(x) + x, c * x), c, xs, reverse=True)


def scan_rev_py(c, xs):
    ys = [None] * len(xs)
    for t in reversed(range(len(xs))):
        c, ys[t] = c * jnp.cos(xs[t]) + xs[t], c * xs[t]
    return c, jnp.stack(ys)


def scan_nox_f(c):
    return lax.scan(lambda c, _: (jnp.sin(c) + c, c * c), c, None, length=4)


def scan_nox_py(c):
    ys = []
    for _ in range(4):
        c, y = jnp.sin(c) + c, c * c
        ys.append(y)
    return c, jnp.stack(ys)


def fori_f(x):
    return lax.fori_loop(0, 5, lambda i, x: jnp.sin(x) * x + i, x)


def fori_py(x):
    for i in range(5):
        x = jnp.sin(x) * x + i
    return x


def fori_dyn_f(n, x):
    return lax.fori_loop(0, n, lambda i, x: x * 0.9 + jnp.sin(x) * i, x)


def fori_dyn_py(n, x):
    for i in range(int(n)):
        x = x * 0.9 + jnp.sin(x) * i
    return x


def while_f(x):
    # Iterates until the norm is small: the trip count depends on the value.
    return lax.while_loop(lambda c: (c[0] ** 2).sum() > 0.01, lambda c: (c[0] * 0.5, c[1] + 1),
                          (x, 0))  # fmt: skip


def while_py(x):
    c = (x, 0)
    while (c[0] ** 2).sum() > 0.01:
        c = (c[0] * 0.5, c[1] + 1)
    return c


def map_f(xs):
    return lax.map(lambda x: jnp.tanh(x @ W).sum() * x, xs)


def map_py(xs):
    return jnp.stack([jnp.tanh(x @ W).sum() * x for x in xs])


@dataclass
class Case:
    name: str
    f: Callable
    py: Callable
    args: tuple
    grad_order: int | None  # reverse-mode order to check; None: forward mode only
    batch: tuple  # vmap in_axes
    diff_argnums: tuple = (0,)


CASES = [
    Case("cond", cond_f, cond_py, (rand(3),), 2, (0,)),
    Case("cond_pytree", cond_pytree_f, cond_pytree_py, (rand(4, 3), rand(4, 3)), 2, (0, 0)),
    Case("switch", switch_f, switch_py, (rand(2, 3) + 0.7,), 2, (0,)),
    Case("scan", scan_f, scan_py, (rand(3), rand(6, 3)), 2, (0, 0), (0, 1)),
    Case("scan_reverse", scan_rev_f, scan_rev_py, (rand(2), rand(5, 2)), 2, (None, 0), (0, 1)),
    Case("scan_no_xs", scan_nox_f, scan_nox_py, (rand(3),), 2, (0,)),
    Case("fori_static", fori_f, fori_py, (rand(3),), 1, (0,)),
    Case("fori_dynamic", fori_dyn_f, fori_dyn_py, (4, rand(3)), None, (None, 0), (1,)),
    Case("while", while_f, while_py, (rand(3) * 3,), None, (0,)),
    Case("map", map_f, map_py, (rand(4, 3),), 1, (0,)),
]
IDS = [c.name for c in CASES]


def assert_trees_close(a, b, rtol=1e-9, atol=1e-9):
    la, ta = jaxlite.tree_util.tree_flatten(a)
    lb, tb = jaxlite.tree_util.tree_flatten(b)
    assert ta == tb, (ta, tb)
    for x, y in zip(la, lb):
        if np.asarray(x).dtype == jaxlite.dtypes.float0:  # tangents of integers
            assert np.asarray(y).dtype == jaxlite.dtypes.float0 and np.shape(x) == np.shape(y)
            continue
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def _diff_fn(case):
    """The case as a function of its differentiable arguments only (others closed over)."""

    def f(*diff):
        args = list(case.args)
        for k, v in zip(case.diff_argnums, diff):
            args[k] = v
        return case.f(*args)

    return f, tuple(case.args[k] for k in case.diff_argnums)


def _scalar_loss(fn):
    def loss(*args):
        leaves = jaxlite.tree_util.tree_leaves(fn(*args))
        return sum(jnp.sum(jnp.sin(x)) for x in leaves if jnp.asarray(x).dtype.kind == "f")

    return loss


# ------------------------------------------------------------------------------------------
# eval, jit, jvp, grad, vmap
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_eval_matches_unrolled(case):
    assert_trees_close(case.f(*case.args), case.py(*case.args))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jit_matches_unrolled(case):
    assert_trees_close(jaxlite.jit(case.f)(*case.args), case.py(*case.args))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jvp_matches_unrolled(case):
    f, primals = _diff_fn(case)
    tangents = tuple(np.ones_like(p) * 0.3 for p in primals)
    out, t_out = jaxlite.jvp(f, primals, tangents)

    def py(*diff):
        args = list(case.args)
        for k, v in zip(case.diff_argnums, diff):
            args[k] = v
        return case.py(*args)

    out_py, t_py = jaxlite.jvp(py, primals, tangents)
    assert_trees_close(out, out_py)
    assert_trees_close(t_out, t_py)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_grads(case):
    f, primals = _diff_fn(case)
    loss = _scalar_loss(f)
    if case.grad_order is None:
        check_grads(loss, primals, order=2, modes=["fwd"])
    else:
        check_grads(loss, primals, order=case.grad_order, modes=["fwd", "rev"])


@pytest.mark.parametrize("case", [c for c in CASES if c.grad_order], ids=lambda c: c.name)
def test_grad_matches_unrolled(case):
    f, primals = _diff_fn(case)

    def py(*diff):
        args = list(case.args)
        for k, v in zip(case.diff_argnums, diff):
            args[k] = v
        return case.py(*args)

    argnums = tuple(range(len(primals)))
    g = jaxlite.grad(_scalar_loss(f), argnums)(*primals)
    g_py = jaxlite.grad(_scalar_loss(py), argnums)(*primals)
    assert_trees_close(g, g_py)


def _batched_args(case, n=3):
    out = []
    for a, ax in zip(case.args, case.batch):
        if ax is None:
            out.append(a)
        else:
            out.append(np.stack([np.asarray(a) * (1.0 + 0.4 * k) - 0.3 * k for k in range(n)]))
    return out


def _per_example(fn, case, batched, n=3):
    outs = []
    for k in range(n):
        args = [b if ax is None else b[k] for b, ax in zip(batched, case.batch)]
        outs.append(fn(*args))
    return jaxlite.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *outs)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_vmap_matches_unrolled(case):
    # The batched arguments make predicates and trip counts differ between examples.
    batched = _batched_args(case)
    out = jaxlite.vmap(case.f, in_axes=case.batch)(*batched)
    assert_trees_close(out, _per_example(case.py, case, batched))


# ------------------------------------------------------------------------------------------
# Compositions (a few cases: each jit costs a C compile)
# ------------------------------------------------------------------------------------------

COMPOSED = [c for c in CASES if c.name in ("cond_pytree", "scan", "switch")]


@pytest.mark.parametrize("case", COMPOSED, ids=lambda c: c.name)
def test_compositions(case):
    f, primals = _diff_fn(case)
    loss = _scalar_loss(f)
    argnums = tuple(range(len(primals)))
    g = jaxlite.grad(loss, argnums)(*primals)
    assert_trees_close(jaxlite.jit(jaxlite.grad(loss, argnums))(*primals), g, 1e-7, 1e-9)
    assert_trees_close(jaxlite.grad(jaxlite.jit(loss), argnums)(*primals), g, 1e-7, 1e-9)
    batched = _batched_args(case)
    per_ex = _per_example(jaxlite.grad(_scalar_loss(case.f), case.diff_argnums), case, batched)
    vg = jaxlite.vmap(jaxlite.grad(_scalar_loss(case.f), case.diff_argnums), in_axes=case.batch)
    assert_trees_close(vg(*batched), per_ex, 1e-7, 1e-9)
    assert_trees_close(jaxlite.jit(jaxlite.vmap(case.f, in_axes=case.batch))(*batched),
                       _per_example(case.py, case, batched), 1e-7, 1e-9)  # fmt: skip


def test_jvp_of_vmap_and_hessian_through_scan():
    h0, xs = rand(3), rand(4, 3)
    loss = _scalar_loss(lambda h: scan_f(h, xs))
    loss_py = _scalar_loss(lambda h: scan_py(h, xs))
    np.testing.assert_allclose(jaxlite.hessian(loss)(h0), jaxlite.hessian(loss_py)(h0), rtol=1e-8)
    hs = np.stack([h0, h0 * 0.5])
    out = jaxlite.jvp(jaxlite.vmap(loss), (hs,), (np.ones_like(hs),))
    ref = jaxlite.jvp(jaxlite.vmap(loss_py), (hs,), (np.ones_like(hs),))
    assert_trees_close(out, ref)


def test_nested_control_flow_matches_unrolled():
    # A cond and a fori_loop inside a scan body, and a scan inside a cond branch.
    def body(c, x):
        c = lax.cond(x > 0, lambda c: c * x, lambda c: c - x, c)
        c = lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) + i * 0.1, c)
        return c, c.sum()

    def f(c, xs):
        inner = lambda c: lax.scan(body, c, xs)  # noqa: E731
        return lax.cond(xs.sum() > -100.0, inner, lambda c: (c, xs * 0), c)

    def py(c, xs):
        ys = []
        for x in xs:
            c = c * x if x > 0 else c - x
            for i in range(3):
                c = jnp.sin(c) + i * 0.1
            ys.append(c.sum())
        return c, jnp.stack(ys)

    c, xs = rand(2), rand(5)
    assert_trees_close(f(c, xs), py(c, xs))
    assert_trees_close(jaxlite.jit(f)(c, xs), py(c, xs))
    loss, loss_py = _scalar_loss(f), _scalar_loss(py)
    assert_trees_close(jaxlite.grad(loss, (0, 1))(c, xs), jaxlite.grad(loss_py, (0, 1))(c, xs))
    check_grads(loss, (c, xs), order=1)


# ------------------------------------------------------------------------------------------
# The named scenarios
# ------------------------------------------------------------------------------------------


def test_rnn_50_steps_trained_with_grad_through_scan():
    rng = np.random.RandomState(1)
    hidden, steps, batch = 8, 50, 4
    params = {
        "Wh": rng.randn(hidden, hidden) * 0.3,
        "Wx": rng.randn(2, hidden) * 0.5,
        "b": np.zeros(hidden),
        "v": rng.randn(hidden) * 0.3,
    }
    xs = rng.randn(steps, batch, 2)
    targets = np.sin(np.cumsum(xs[..., 0], axis=0) * 0.3)  # (steps, batch)

    def loss(p):
        def cell(h, x):
            h = jnp.tanh(h @ p["Wh"] + x @ p["Wx"] + p["b"])
            return h, h @ p["v"]

        _, preds = lax.scan(cell, jnp.zeros((batch, hidden)), xs)
        return jnp.mean((preds - targets) ** 2)

    def loss_py(p):
        h, preds = jnp.zeros((batch, hidden)), []
        for x in xs:
            h = jnp.tanh(h @ p["Wh"] + x @ p["Wx"] + p["b"])
            preds.append(h @ p["v"])
        return jnp.mean((jnp.stack(preds) - targets) ** 2)

    g, g_py = jaxlite.grad(loss)(params), jaxlite.grad(loss_py)(params)
    assert_trees_close(g, g_py, 1e-8, 1e-10)
    step = jaxlite.jit(lambda p: jaxlite.tree_util.tree_map(
        lambda w, dw: w - 0.05 * dw, p, jaxlite.grad(loss)(p)))  # fmt: skip
    first = float(loss(params))
    for _ in range(60):
        params = step(params)
    assert float(loss(params)) < 0.8 * first


def test_newton_in_while_loop_under_jvp():
    def newton_sqrt(a):
        def body(c):
            x, _ = c
            return (x + a / x) / 2, x

        def not_done(c):
            x, prev = c
            return jnp.abs(x - prev) > 1e-12

        return lax.while_loop(not_done, body, (a, a + 1.0))[0]

    for a in (2.0, 9.0, 0.3):
        y, dy = jaxlite.jvp(newton_sqrt, (a,), (1.0,))
        np.testing.assert_allclose(y, np.sqrt(a), rtol=1e-12)
        np.testing.assert_allclose(dy, 0.5 / np.sqrt(a), rtol=1e-9)
    # jacfwd, jit(jvp) and vmap(jvp) (a batched predicate: lanes stop at different steps)
    np.testing.assert_allclose(jaxlite.jacfwd(newton_sqrt)(4.0), 0.25, rtol=1e-9)
    _, dy = jaxlite.jit(lambda a: jaxlite.jvp(newton_sqrt, (a,), (1.0,)))(9.0)
    np.testing.assert_allclose(dy, 1 / 6, rtol=1e-9)
    a = jnp.array([0.01, 2.0, 1e4])
    _, dy = jaxlite.vmap(lambda a: jaxlite.jvp(newton_sqrt, (a,), (1.0,)))(a)
    np.testing.assert_allclose(dy, 0.5 / np.sqrt(np.asarray(a)), rtol=1e-9)


def test_while_loop_reverse_mode_raises_jax_error():
    f = lambda x: lax.while_loop(lambda x: x < 10.0, lambda x: x * 2.0, x)  # noqa: E731
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for "
                       "lax.while_loop or lax.fori_loop with dynamic start/stop values. "
                       "Try using lax.scan"):  # fmt: skip
        jaxlite.grad(f)(1.0)
    with pytest.raises(ValueError, match="Reverse-mode differentiation"):
        # under jit the trip count is traced: the fori_loop is a while loop
        jaxlite.grad(lambda x: jaxlite.jit(fori_dyn_f)(4, x).sum())(rand(3))
    # forward mode and linearize work
    np.testing.assert_allclose(jaxlite.jvp(f, (1.5,), (1.0,))[1], 8.0)
    np.testing.assert_allclose(jaxlite.linearize(f, 1.5)[1](1.0), 8.0)


@pytest.mark.parametrize("jit", [False, True])
def test_switch_three_branches_vmap_batched_index(jit):
    branches = [lambda x: x + 1.0, lambda x: jnp.sin(x) * x, lambda x: -2.0 * x]

    def f(i, x):
        return lax.switch(i, branches, x)

    idx = np.array([0, 1, 2, -5, 7, 1], np.int32)  # out-of-range indices are clamped
    xs = rand(6, 3)
    g = jaxlite.vmap(f)
    out = (jaxlite.jit(g) if jit else g)(idx, xs)
    ref = np.stack([np.asarray(branches[min(max(i, 0), 2)](x)) for i, x in zip(idx, xs)])
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    # gradients per example through the batched select
    gv = jaxlite.vmap(jaxlite.grad(lambda i, x: f(i, x).sum(), 1))(idx, xs)
    ref_g = np.stack([jaxlite.grad(lambda x, i=i: branches[min(max(i, 0), 2)](x).sum())(x)
                      for i, x in zip(idx, xs)])  # fmt: skip
    np.testing.assert_allclose(gv, ref_g, rtol=1e-12)


def test_batched_while_freezes_finished_lanes():
    # Each lane counts its own steps: finished lanes must not keep counting.
    def f(x):
        return lax.while_loop(lambda c: c[0] < 100.0, lambda c: (c[0] * 2.0, c[1] + 1), (x, 0))

    xs = np.array([1.0, 30.0, 99.0, 150.0])
    vals, counts = jaxlite.vmap(f)(xs)
    ref = [f(x) for x in xs]
    np.testing.assert_array_equal(counts, [r[1] for r in ref])
    np.testing.assert_array_equal(vals, [r[0] for r in ref])
    vals_j, counts_j = jaxlite.jit(jaxlite.vmap(f))(xs)
    np.testing.assert_array_equal(counts_j, counts)


def test_cond_unbatched_predicate_with_batched_operands():
    def f(p, x):
        return lax.cond(p, lambda x: x @ W, lambda x: jnp.exp(x), x)

    xs = rand(4, 3)
    for p in (True, False):
        out = jaxlite.vmap(f, in_axes=(None, 0))(p, xs)
        np.testing.assert_allclose(out, np.stack([f(p, x) for x in xs]), rtol=1e-12)
    jaxpr = str(jaxlite.make_jaxpr(jaxlite.vmap(f, in_axes=(None, 0)))(True, xs))
    assert "cond[" in jaxpr and "select_n" not in jaxpr  # not converted to a select


def test_batched_predicate_becomes_select_like_jax():
    f = jaxlite.vmap(cond_f)
    jaxpr = str(jaxlite.make_jaxpr(f)(rand(4, 3)))
    assert "cond[" not in jaxpr and "select_n" in jaxpr


def test_scan_residuals_are_stacked_and_invariant_ones_are_not():
    # The linearized scan reads W once (a loop-invariant residual) and stacks per-step values.
    xs = rand(7, 3)
    _, f_vjp = jaxlite.vjp(lambda h: scan_f(h, xs)[0], rand(3))
    jaxpr = str(jaxlite.make_jaxpr(lambda h: jaxlite.vjp(lambda h: scan_f(h, xs)[0], h)[1](h))(
        rand(3)))  # fmt: skip
    assert jaxpr.count("scan[") == 2
    assert "f64[7,3,3]" not in jaxpr  # W is not stacked 7 times
    np.testing.assert_allclose(f_vjp(np.ones(3))[0].shape, (3,))


def test_map_with_batch_size_matches_map():
    xs = rand(7, 3)
    for bs in (1, 2, 3, 7, 10):
        out = lax.map(lambda x: jnp.tanh(x @ W), xs, batch_size=bs)
        np.testing.assert_allclose(out, np.tanh(xs @ W), rtol=1e-12)


def test_fori_loop_static_is_scan_dynamic_is_while():
    assert "scan[" in str(jaxlite.make_jaxpr(fori_f)(rand(3)))
    assert "while[" in str(jaxlite.make_jaxpr(fori_dyn_f)(4, rand(3)))
    assert lax.fori_loop(3, 1, lambda i, x: x + i, 0) == 0  # empty range
    assert lax.fori_loop(0, 5, lambda i, x: x + i, 0) == 10


def test_weakly_typed_init_is_promoted_like_jax():
    xs = np.ones(4, np.float32)
    c, ys = lax.scan(lambda c, x: (c + x, c), 0.0, xs)
    assert c.dtype == np.float32 and ys.dtype == np.float32
    assert lax.fori_loop(0, 3, lambda i, x: x + np.float32(1), 0.0).dtype == np.float32
    out = lax.while_loop(lambda x: x < 5, lambda x: x + np.float32(1.5), 0.0)
    assert out.dtype == np.float32 and float(out) == 6.0
    # a weak branch output takes the other branch's dtype
    r = lax.cond(True, lambda: np.float32(1), lambda: 2.0)
    assert r.dtype == np.float32


# ------------------------------------------------------------------------------------------
# Properties over random lengths, shapes, directions and indices (eager: no compiles)
# ------------------------------------------------------------------------------------------


@given(
    length=st.integers(0, 5),
    width=st.integers(1, 3),
    reverse=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_scan_property_matches_loop_and_its_gradient(length, width, reverse, seed):
    rng = np.random.RandomState(seed)
    w, c0, xs = rng.randn(width, width) * 0.5, rng.randn(width), rng.randn(length, width)

    def body(c, x):
        c = jnp.sin(c @ w) + x
        return c, c * x

    def loop(c, xs):
        ys = [None] * length
        for t in reversed(range(length)) if reverse else range(length):
            c, ys[t] = body(c, xs[t])
        return c, jnp.stack(ys) if ys else jnp.zeros((0, width))

    def f(c, xs):
        return lax.scan(body, c, xs, reverse=reverse)

    assert_trees_close(f(c0, xs), loop(c0, xs))
    assert_trees_close(
        jaxlite.grad(_scalar_loss(f), (0, 1))(c0, xs),
        jaxlite.grad(_scalar_loss(loop), (0, 1))(c0, xs),
    )


@given(n=st.integers(1, 4), index=st.integers(-3, 6), batch=st.integers(1, 4))
def test_switch_property_clamps_index_eager_and_batched(n, index, batch):
    branches = [lambda x, k=k: x * (k + 1.0) + k for k in range(n)]
    x = np.arange(3.0)
    expected = branches[min(max(index, 0), n - 1)](x)
    np.testing.assert_allclose(lax.switch(index, branches, x), expected)
    idx = np.array([index - k for k in range(batch)], np.int32)
    out = jaxlite.vmap(lambda i: lax.switch(i, branches, x))(idx)
    ref = np.stack([branches[min(max(int(i), 0), n - 1)](x) for i in idx])
    np.testing.assert_allclose(out, ref)
