"""jaxlite.optim: every optimizer's update math against a hand-written NumPy version over several
steps of a pytree, the schedules against their closed forms, and jit/make_jaxpr compatibility."""

import math

import numpy as np
import pytest

import jaxlite
import jaxlite.optim as optim
from jaxlite import tree_util

f32, f64 = np.float32, np.float64


def _problem(dtype, steps=5, seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "w": rng.normal(size=(3, 2)).astype(dtype),
        "b": (rng.normal(size=(2,)).astype(dtype),),
    }
    grads = [
        tree_util.tree_map(lambda p: rng.normal(size=p.shape).astype(dtype), params)
        for _ in range(steps)
    ]
    return params, grads


def _run(opt, params, grads):
    state = opt.init(params)
    for g in grads:
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
    return tree_util.tree_map(np.asarray, params)


def _run_numpy(step, params, grads):
    """Runs `step(t, p, g, state) -> (p, state)` leaf by leaf with NumPy."""
    leaves, tree = tree_util.tree_flatten(params)
    leaves = [np.array(p) for p in leaves]
    states = [{} for _ in leaves]
    for t, g in enumerate(grads, 1):
        gl = tree_util.tree_leaves(g)
        for i in range(len(leaves)):
            leaves[i] = step(t, leaves[i], gl[i], states[i])
    return tree_util.tree_unflatten(tree, leaves)


def np_sgd(lr, momentum=None, nesterov=False):
    def step(t, p, g, s):
        if momentum is not None:
            s["m"] = g + momentum * s.get("m", np.zeros_like(g))
            g = g + momentum * s["m"] if nesterov else s["m"]
        return p + np.asarray(-lr, p.dtype) * g

    return step


def np_adam(lr, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, wd=None):
    def step(t, p, g, s):
        s["m"] = (1 - b1) * g + b1 * s.get("m", np.zeros_like(g))
        s["v"] = (1 - b2) * g**2 + b2 * s.get("v", np.zeros_like(g))
        m_hat = s["m"] / np.asarray(1 - b1**t, p.dtype)
        v_hat = s["v"] / np.asarray(1 - b2**t, p.dtype)
        u = m_hat / (np.sqrt(v_hat + eps_root) + eps)
        if wd is not None:
            u = u + wd * p
        return p + np.asarray(-lr, p.dtype) * u

    return step


def np_rmsprop(lr, decay=0.9, eps=1e-8, centered=False, momentum=None):
    def step(t, p, g, s):
        s["nu"] = (1 - decay) * g**2 + decay * s.get("nu", np.zeros_like(g))
        if centered:
            s["mu"] = (1 - decay) * g + decay * s.get("mu", np.zeros_like(g))
            u = g / np.sqrt(s["nu"] - s["mu"] ** 2 + eps)
        else:
            u = g / np.sqrt(s["nu"] + eps)
        u = np.asarray(-lr, p.dtype) * u
        if momentum is not None:
            s["tr"] = u + momentum * s.get("tr", np.zeros_like(g))
            u = s["tr"]
        return p + u

    return step


CASES = {
    "sgd": (optim.sgd(0.1), np_sgd(0.1)),
    "momentum": (optim.sgd(0.1, momentum=0.9), np_sgd(0.1, 0.9)),
    "nesterov": (optim.sgd(0.05, momentum=0.8, nesterov=True), np_sgd(0.05, 0.8, True)),
    "adam": (optim.adam(1e-2), np_adam(1e-2)),
    "adam_eps_root": (optim.adam(1e-2, b1=0.5, eps_root=1e-6), np_adam(1e-2, 0.5, eps_root=1e-6)),
    "adamw": (optim.adamw(1e-2, weight_decay=0.1), np_adam(1e-2, wd=0.1)),
    "rmsprop": (optim.rmsprop(1e-2), np_rmsprop(1e-2)),
    "rmsprop_centered": (optim.rmsprop(1e-2, centered=True), np_rmsprop(1e-2, centered=True)),
    "rmsprop_momentum": (optim.rmsprop(1e-2, momentum=0.9), np_rmsprop(1e-2, momentum=0.9)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [f32, f64])
def test_optimizer_matches_numpy(name, dtype):
    opt, ref_step = CASES[name]
    params, grads = _problem(dtype)
    out = _run(opt, params, grads)
    ref = _run_numpy(ref_step, params, grads)
    for o, r in zip(tree_util.tree_leaves(out), tree_util.tree_leaves(ref)):
        assert o.dtype == dtype
        np.testing.assert_allclose(o, r, rtol=2e-6 if dtype == f32 else 1e-14, atol=1e-7)


def test_adamw_mask_skips_masked_leaves():
    params, grads = _problem(f64)
    mask = {"w": True, "b": (False,)}
    out = _run(optim.adamw(1e-2, weight_decay=0.5, mask=mask), params, grads)
    decayed = _run_numpy(np_adam(1e-2, wd=0.5), params, grads)
    plain = _run_numpy(np_adam(1e-2), params, grads)
    np.testing.assert_allclose(out["w"], decayed["w"], rtol=1e-14)
    np.testing.assert_allclose(out["b"][0], plain["b"][0], rtol=1e-14)
    fn_mask = _run(optim.adamw(1e-2, weight_decay=0.5, mask=lambda p: mask), params, grads)
    np.testing.assert_allclose(fn_mask["w"], out["w"])


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_clip_by_global_norm(max_norm):
    params, grads = _problem(f64, steps=1)
    g = grads[0]
    norm = math.sqrt(sum(float((x**2).sum()) for x in tree_util.tree_leaves(g)))
    assert float(optim.global_norm(g)) == pytest.approx(norm)
    clipped, _ = optim.clip_by_global_norm(max_norm).update(g, optim.EmptyState())
    factor = 1.0 if norm < max_norm else max_norm / norm
    for c, x in zip(tree_util.tree_leaves(clipped), tree_util.tree_leaves(g)):
        np.testing.assert_allclose(np.asarray(c), x * factor, rtol=1e-13)


def test_chain_of_clip_and_adam_equals_manual_composition():
    params, grads = _problem(f32)
    opt = optim.chain(optim.clip_by_global_norm(0.5), optim.adam(1e-2))
    out = _run(opt, params, grads)
    clipped = []
    for g in grads:
        n = math.sqrt(sum(float((x.astype(f64) ** 2).sum()) for x in tree_util.tree_leaves(g)))
        factor = None if n < 0.5 else f32(n)
        clipped.append(
            tree_util.tree_map(lambda x, c=factor: x if c is None else x / c * f32(0.5), g)
        )
    ref = _run_numpy(np_adam(1e-2), params, clipped)
    for o, r in zip(tree_util.tree_leaves(out), tree_util.tree_leaves(ref)):
        np.testing.assert_allclose(o, r, rtol=2e-5)


def test_schedule_counts_from_zero_in_scale_by_schedule():
    params, grads = _problem(f64, steps=3)
    seen = []

    def lr(count):
        seen.append(int(count))
        return 0.1 / (1 + int(count))

    out = _run(optim.sgd(lr), params, grads)
    assert seen == [0, 1, 2]
    ref = params["w"] - sum(0.1 / (1 + t) * g["w"] for t, g in enumerate(grads))
    np.testing.assert_allclose(out["w"], ref, rtol=1e-14)


def test_state_is_a_pytree_and_apply_updates_keeps_dtypes():
    params, grads = _problem(f32)
    opt = optim.adamw(1e-3)
    state = opt.init(params)
    leaves, tree = tree_util.tree_flatten(state)
    assert len(leaves) == 5  # count, mu (w, b), nu (w, b); the other states are empty
    rebuilt = tree_util.tree_unflatten(tree, leaves)
    assert type(rebuilt[0]) is optim.ScaleByAdamState and type(rebuilt[1]) is optim.EmptyState
    assert np.asarray(state[0].count).dtype == np.int32
    new = optim.apply_updates(params, tree_util.tree_map(lambda p: p.astype(f64), params))
    assert all(np.asarray(x).dtype == f32 for x in tree_util.tree_leaves(new))


def test_update_step_traces_and_jits():
    params, grads = _problem(f32)
    opt = optim.adam(optim.warmup_cosine_decay_schedule(0.0, 1e-2, 2, 10))

    def step(params, state, g):
        updates, state = opt.update(g, state, params)
        return optim.apply_updates(params, updates), state

    state = opt.init(params)
    closed = jaxlite.make_jaxpr(step)(params, state, grads[0])
    assert len(closed.eqns) > 0
    if not hasattr(jaxlite, "jit"):
        pytest.skip("jaxlite.jit is not available yet")
    jstep = jaxlite.jit(step)
    p1, s1 = params, state
    p2, s2 = params, state
    for g in grads:
        p1, s1 = step(p1, s1, g)
        p2, s2 = jstep(p2, s2, g)
    for x, y in zip(tree_util.tree_leaves((p1, s1)), tree_util.tree_leaves((p2, s2))):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6)


# ------------------------------------------------------------------------------------------
# Schedules against closed forms
# ------------------------------------------------------------------------------------------

COUNTS = [0, 1, 4, 5, 9, 10, 11, 30, 100]


def _check(schedule, formula):
    for c in COUNTS:
        assert float(schedule(c)) == pytest.approx(formula(c), rel=1e-12, abs=1e-15), c
        assert float(schedule(np.int32(c))) == pytest.approx(formula(c), rel=1e-12, abs=1e-15)


def test_constant_and_linear_schedules():
    _check(optim.constant_schedule(0.3), lambda c: 0.3)
    _check(optim.linear_schedule(1.0, 0.1, 10), lambda c: 1.0 + min(c, 10) / 10 * (0.1 - 1.0))
    _check(
        optim.linear_schedule(1.0, 0.1, 10, transition_begin=5),
        lambda c: 1.0 + min(max(c - 5, 0), 10) / 10 * (0.1 - 1.0),
    )
    _check(optim.polynomial_schedule(1.0, 0.0, 2, 10), lambda c: (1 - min(c, 10) / 10) ** 2)


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("end_value", [None, 0.4])
def test_exponential_decay(staircase, end_value):
    def formula(c):
        e = c - 5
        if e <= 0:
            return 2.0
        p = math.floor(e / 10) if staircase else e / 10
        v = 2.0 * 0.5**p
        return v if end_value is None else max(v, end_value)

    _check(optim.exponential_decay(2.0, 10, 0.5, 5, staircase, end_value), formula)


@pytest.mark.parametrize("alpha,exponent", [(0.0, 1.0), (0.1, 1.0), (0.0, 2.0)])
def test_cosine_decay(alpha, exponent):
    def formula(c):
        cos = 0.5 * (1 + math.cos(math.pi * min(c, 30) / 30))
        return 3.0 * ((1 - alpha) * cos**exponent + alpha)

    _check(optim.cosine_decay_schedule(3.0, 30, alpha, exponent), formula)


def test_warmup_schedules_join_at_the_boundary():
    def cosine_formula(c):
        if c < 10:
            return 0.0 + c / 10 * 1.0
        t = min(c - 10, 90)
        return 1.0 * ((1 - 0.05) * 0.5 * (1 + math.cos(math.pi * t / 90)) + 0.05)

    _check(optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 100, end_value=0.05), cosine_formula)

    def exp_formula(c):
        if c < 10:
            return 0.1 + c / 10 * 0.9
        return 1.0 * 0.5 ** ((c - 10) / 20) if c > 10 else 1.0

    _check(optim.warmup_exponential_decay_schedule(0.1, 1.0, 10, 20, 0.5), exp_formula)
    joined = optim.join_schedules([optim.constant_schedule(1.0), optim.constant_schedule(2.0)], [3])
    assert [float(joined(c)) for c in range(5)] == [1.0, 1.0, 1.0, 2.0, 2.0]


def test_errors():
    params, grads = _problem(f32, steps=1)
    opt = optim.adam(1e-3)
    with pytest.raises(ValueError, match="state has 1 entries for 2"):
        opt.update(grads[0], (opt.init(params)[0],), params)
    with pytest.raises(ValueError, match="needs the params"):
        optim.adamw(1e-3).update(grads[0], optim.adamw(1e-3).init(params))
    with pytest.raises(ValueError, match="decay_steps"):
        optim.cosine_decay_schedule(1.0, 0)
