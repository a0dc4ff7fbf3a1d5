"""The autodiff API (jvp, linearize, vjp, grad, value_and_grad, jacfwd, jacrev, hessian,
linear_transpose, checkpoint): known values, pytrees, errors, composition with jit and vmap, and
an MLP's gradient against hand-written NumPy backprop."""

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import dtypes, lax
from jaxlite.errors import UnexpectedTracerError
from jaxlite.test_util import check_grads

# --- known values ----------------------------------------------------------------------------


def test_known_value_from_the_issue():
    f = lambda x, y: (x + y) * jnp.sin(x)  # noqa: E731
    pi = jnp.array(np.pi, dtype=jnp.float32)
    gx, gy = jaxlite.grad(f, argnums=(0, 1))(pi, pi)
    assert gx.dtype == np.float32 and gy.dtype == np.float32
    np.testing.assert_allclose(float(gx), -6.2832, rtol=1e-4)
    np.testing.assert_allclose(float(gy), -8.7423e-08, rtol=1e-3)


def test_third_derivative_of_tanh_matches_closed_form():
    d3 = jaxlite.grad(jaxlite.grad(jaxlite.grad(jnp.tanh)))
    for x in (-1.3, 0.0, 0.4, 2.0):
        t = np.tanh(x)
        np.testing.assert_allclose(float(d3(x)), (1 - t * t) * (6 * t * t - 2), rtol=1e-12)


def _random_functions():
    rng = np.random.default_rng(0)
    A = jnp.asarray(rng.normal(size=(3, 4)))
    B = jnp.asarray(rng.normal(size=(4, 2)))
    return [
        lambda x: jnp.tanh(A @ x) * jnp.sin(x[0]),
        lambda x: jnp.exp(-(x**2)) @ B + jnp.sum(jnp.cos(x) * x),
        lambda x: jnp.cumprod(jnp.sort(x) + 1.5)[::-1] / (1.0 + jnp.max(x) ** 2),
        lambda x: {"a": jnp.outer(x, jnp.log1p(x**2)), "b": (jnp.prod(x), jnp.mean(x))},
    ]


@pytest.mark.parametrize("i", range(4))
def test_jacfwd_equals_jacrev(i):
    f = _random_functions()[i]
    x = jnp.asarray(np.random.default_rng(i).normal(size=4))
    fwd, rev = jaxlite.jacfwd(f)(x), jaxlite.jacrev(f)(x)
    for a, b in zip(jaxlite.tree_util.tree_leaves(fwd), jaxlite.tree_util.tree_leaves(rev)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)
    check_grads(f, (x,), order=2)


def test_jacobian_shapes_and_pytrees():
    f = lambda p, x: {"y": p["w"] @ x, "s": jnp.sum(p["b"] * x)}  # noqa: E731
    p = {"w": jnp.ones((2, 3)), "b": jnp.arange(3.0)}
    x = jnp.arange(3.0)
    for jac in (jaxlite.jacfwd, jaxlite.jacrev):
        J = jac(f, argnums=(0, 1))(p, x)
        assert J["y"][0]["w"].shape == (2, 2, 3)
        assert J["y"][1].shape == (2, 3)
        assert J["s"][0]["b"].shape == (3,)
        np.testing.assert_allclose(np.asarray(J["y"][1]), np.ones((2, 3)))
        np.testing.assert_allclose(np.asarray(J["s"][0]["b"]), np.arange(3.0))


def test_hessian_of_a_quadratic_form():
    A = np.random.default_rng(1).normal(size=(4, 4))
    f = lambda x: x @ (jnp.asarray(A) @ x)  # noqa: E731
    H = jaxlite.hessian(f)(jnp.ones(4))
    np.testing.assert_allclose(np.asarray(H), A + A.T, rtol=1e-12)


def test_forward_over_reverse_hvp():
    f = lambda x: jnp.sum(jnp.tanh(x) ** 3 * jnp.exp(0.3 * x[::-1]))  # noqa: E731
    rng = np.random.default_rng(2)
    x, v = jnp.asarray(rng.normal(size=5)), jnp.asarray(rng.normal(size=5))
    _, hvp = jaxlite.jvp(jaxlite.grad(f), (x,), (v,))
    expected = np.asarray(jaxlite.hessian(f)(x)) @ np.asarray(v)
    np.testing.assert_allclose(np.asarray(hvp), expected, rtol=1e-10)


# --- an MLP against hand-written backprop ----------------------------------------------------


def _mlp_loss(params, x, labels):
    h = jnp.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    logits = logits - jnp.max(logits, axis=1, keepdims=True)
    logp = logits - jnp.log(jnp.sum(jnp.exp(logits), axis=1, keepdims=True))
    return -jnp.mean(jnp.sum(labels * logp, axis=1))


def _mlp_backprop_numpy(p, x, labels):
    z1 = x @ p["W1"] + p["b1"]
    h = np.tanh(z1)
    logits = h @ p["W2"] + p["b2"]
    e = np.exp(logits - logits.max(1, keepdims=True))
    probs = e / e.sum(1, keepdims=True)
    d_logits = (probs - labels) / x.shape[0]
    d_h = d_logits @ p["W2"].T
    d_z1 = d_h * (1 - h**2)
    return {
        "W1": x.T @ d_z1, "b1": d_z1.sum(0), "W2": h.T @ d_logits, "b2": d_logits.sum(0),
    }  # fmt: skip


def test_mlp_gradient_equals_numpy_backprop():
    rng = np.random.default_rng(3)
    p = {
        "W1": rng.normal(size=(5, 7)), "b1": rng.normal(size=7),
        "W2": rng.normal(size=(7, 3)), "b2": rng.normal(size=3),
    }  # fmt: skip
    x = rng.normal(size=(8, 5))
    labels = np.eye(3)[rng.integers(0, 3, 8)]
    g = jaxlite.grad(_mlp_loss)(p, x, labels)
    expected = _mlp_backprop_numpy(p, x, labels)
    assert set(g) == set(expected)
    for k in expected:
        np.testing.assert_allclose(np.asarray(g[k]), expected[k], rtol=1e-5, atol=1e-12)


# --- the API: pytrees, argnums, aux, linearize, vjp, transposition ---------------------------


def test_grad_of_pytree_argument_and_argnums():
    f = lambda p, s: jnp.sum(p["a"] * p["b"][0]) * s  # noqa: E731
    p = {"a": jnp.arange(3.0), "b": [jnp.ones(3)]}
    g = jaxlite.grad(f)(p, 2.0)
    np.testing.assert_allclose(np.asarray(g["a"]), 2 * np.ones(3))
    np.testing.assert_allclose(np.asarray(g["b"][0]), 2 * np.arange(3.0))
    g0, g1 = jaxlite.grad(f, argnums=(0, 1))(p, 2.0)
    assert float(g1) == 3.0
    assert float(jaxlite.grad(f, argnums=-1)(p, 2.0)) == 3.0


def test_value_and_grad_and_has_aux():
    f = lambda x: (jnp.sum(x**2), {"n": x.shape[0]})  # noqa: E731
    (v, aux), g = jaxlite.value_and_grad(f, has_aux=True)(jnp.arange(3.0))
    assert float(v) == 5.0 and aux == {"n": 3}
    np.testing.assert_allclose(np.asarray(g), [0.0, 2.0, 4.0])
    g2, aux2 = jaxlite.grad(f, has_aux=True)(jnp.arange(3.0))
    np.testing.assert_allclose(np.asarray(g2), [0.0, 2.0, 4.0])


def test_aux_values_are_not_traced():
    def f(x):
        y = jnp.sin(x)
        return jnp.sum(y), y

    g, aux = jaxlite.grad(f, has_aux=True)(jnp.arange(2.0))
    assert type(aux) is jaxlite.Array
    np.testing.assert_allclose(np.asarray(aux), np.sin([0.0, 1.0]))


def test_weak_types_follow_jax():
    g = jaxlite.grad(lambda x: x * x)(3.0)
    assert g.dtype == np.float64 and g.weak_type and float(g) == 6.0
    g32 = jaxlite.grad(lambda x: x * 2.0)(jnp.float32(1.0))
    assert g32.dtype == np.float32 and not g32.weak_type


def test_jvp_pytrees_and_linearize_agree():
    f = lambda d: {"s": jnp.sin(d["x"]) * d["y"], "t": (d["x"] + 1.0,)}  # noqa: E731
    primal = {"x": jnp.arange(3.0), "y": jnp.ones(3)}
    tangent = {"x": jnp.ones(3), "y": jnp.arange(3.0)}
    out, t_out = jaxlite.jvp(f, (primal,), (tangent,))
    out2, f_jvp = jaxlite.linearize(f, primal)
    t_lin = f_jvp(tangent)
    np.testing.assert_allclose(np.asarray(t_out["s"]), np.asarray(t_lin["s"]))
    np.testing.assert_allclose(np.asarray(t_out["t"][0]), np.ones(3))
    np.testing.assert_allclose(np.asarray(t_lin["t"][0]), np.ones(3))
    expected = np.cos(np.arange(3.0)) + np.sin(np.arange(3.0)) * np.arange(3.0)
    np.testing.assert_allclose(np.asarray(t_out["s"]), expected)


def test_linearize_does_not_rerun_the_function():
    calls = []

    def f(x):
        calls.append(1)
        return jnp.sin(x) * x

    y, f_jvp = jaxlite.linearize(f, jnp.arange(3.0))
    n = len(calls)
    for v in (jnp.ones(3), jnp.arange(3.0)):
        t = f_jvp(v)
        x = np.arange(3.0)
        np.testing.assert_allclose(np.asarray(t), (np.cos(x) * x + np.sin(x)) * np.asarray(v))
    assert len(calls) == n


def test_vjp_with_pytree_output_and_aux():
    f = lambda x, y: ((x * y, jnp.sum(x)), "aux")  # noqa: E731
    out, f_vjp, aux = jaxlite.vjp(f, jnp.arange(3.0), 2.0, has_aux=True)
    assert aux == "aux"
    gx, gy = f_vjp((jnp.ones(3), 1.0))
    np.testing.assert_allclose(np.asarray(gx), [3.0, 3.0, 3.0])
    assert float(gy) == 3.0


def test_integer_inputs_get_float0():
    f = lambda x, n: x * n  # noqa: E731
    out, t = jaxlite.jvp(f, (2.0, 3), (1.0, np.zeros((), dtypes.float0)))
    assert float(t) == 3.0
    gx, gn = jaxlite.grad(f, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert float(gx) == 3.0 and gn.dtype == dtypes.float0
    _, t_int = jaxlite.jvp(lambda x: (x * 2.0).astype(jnp.int32), (2.0,), (1.0,))
    assert t_int.dtype == dtypes.float0


def test_python_control_flow_on_values_under_eager_grad():
    def f(x):
        if x > 0:  # concrete under eager grad, as in JAX
            return x * x
        return -x

    assert float(jaxlite.grad(f)(3.0)) == 6.0
    assert float(jaxlite.grad(f)(-3.0)) == -1.0


def test_nested_grads_do_not_confuse_perturbations():
    # The classic perturbation-confusion test: d/dx [x * d/dy (x + y)] = 1.
    f = lambda x: x * jaxlite.grad(lambda y: x + y)(1.0)  # noqa: E731
    assert float(jaxlite.grad(f)(2.0)) == 1.0
    g = lambda x: jaxlite.grad(lambda y: x * y * y)(1.0)  # closes over the outer tracer
    assert float(jaxlite.grad(g)(3.0)) == 2.0


def test_linear_transpose():
    A = jnp.asarray(np.random.default_rng(4).normal(size=(3, 2)))
    f = lambda x: (A @ x, 2.0 * jnp.sum(x))  # noqa: E731
    f_t = jaxlite.linear_transpose(f, jnp.ones(2))
    (ct,) = f_t((jnp.arange(3.0), 1.0))
    np.testing.assert_allclose(np.asarray(ct), np.asarray(A).T @ np.arange(3.0) + 2.0)
    assert jaxlite.tree_util.tree_leaves(f_t)  # a pytree (tree_util.Partial)


def test_stop_gradient():
    f = lambda x: x * lax.stop_gradient(x)  # noqa: E731
    assert float(jaxlite.grad(f)(3.0)) == 3.0
    tree = lax.stop_gradient({"w": jnp.ones(2), "n": 3})  # pytrees; ints pass through
    assert tree["n"] == 3 and tree["w"].shape == (2,)
    g = jaxlite.grad(lambda p: jnp.sum(lax.stop_gradient(p)["w"] * p["w"]))({"w": jnp.ones(2)})
    np.testing.assert_allclose(np.asarray(g["w"]), np.ones(2))


# --- composition with jit and vmap -----------------------------------------------------------


def _g(x):
    return jnp.sum(jnp.tanh(jnp.sin(x) * x + 1.0) ** 2)


def test_grad_composes_with_jit():
    x = jnp.asarray(np.linspace(-1, 1, 4))
    expected = np.asarray(jaxlite.grad(_g)(x))
    for f in (jaxlite.grad(jaxlite.jit(_g)), jaxlite.jit(jaxlite.grad(_g)),
              jaxlite.jit(jaxlite.grad(jaxlite.jit(_g)))):  # fmt: skip
        np.testing.assert_allclose(np.asarray(f(x)), expected, rtol=1e-12)
    h = jaxlite.jit(jaxlite.hessian(_g))(x)
    np.testing.assert_allclose(np.asarray(h), np.asarray(jaxlite.hessian(_g)(x)), rtol=1e-10)


def test_vmap_of_grad_matches_a_loop():
    xs = jnp.asarray(np.random.default_rng(5).normal(size=(4, 3)))
    batched = jaxlite.vmap(jaxlite.grad(_g))(xs)
    for i in range(4):
        np.testing.assert_allclose(np.asarray(batched[i]), np.asarray(jaxlite.grad(_g)(xs[i])))


# --- checkpoint ------------------------------------------------------------------------------


def test_checkpoint_recomputes_in_the_backward_pass():
    f = lambda x: jnp.sin(jnp.sin(x))  # noqa: E731
    fc = jaxlite.checkpoint(f)
    x = jnp.asarray([0.3, 1.2])
    np.testing.assert_allclose(np.asarray(jaxlite.grad(lambda x: jnp.sum(fc(x)))(x)),
                               np.asarray(jaxlite.grad(lambda x: jnp.sum(f(x)))(x)))  # fmt: skip
    text = str(jaxlite.make_jaxpr(fc)(x))
    assert text.splitlines()[1].strip().startswith("b:f64[2] = checkpoint[")
    # The linearized (backward) part is a checkpoint that recomputes sin from the input.
    _, f_vjp = jaxlite.vjp(fc, x)
    bwd = str(jaxlite.make_jaxpr(f_vjp)(jnp.ones(2)))
    assert "checkpoint[" in bwd and "sin" in bwd
    check_grads(fc, (x,), order=2)


def test_checkpoint_counts_the_recomputation():
    calls = []
    impl = lax.sin_p.impl

    def counting(*a, **k):
        calls.append(1)
        return impl(*a, **k)

    f = lambda x: jnp.sin(jnp.sin(x))  # noqa: E731
    lax.sin_p.impl = counting
    try:
        jaxlite.grad(lambda x: jnp.sum(f(x)))(jnp.ones(2))
        plain = len(calls)
        calls.clear()
        jaxlite.grad(lambda x: jnp.sum(jaxlite.checkpoint(f)(x)))(jnp.ones(2))
        remat = len(calls)
    finally:
        lax.sin_p.impl = impl
    assert (plain, remat) == (2, 3)  # one sin recomputed in the backward pass


# --- errors ------------------------------------------------------------------------------------


def test_grad_of_non_scalar_output():
    with pytest.raises(TypeError) as e:
        jaxlite.grad(jnp.sin)(jnp.ones(3))
    assert str(e.value) == (
        "Gradient only defined for scalar-output functions. Output had shape: (3,)."
    )


def test_grad_of_integer_output():
    with pytest.raises(TypeError, match="real-valued outputs .* int32"):
        jaxlite.grad(lambda x: jnp.sum(x).astype(jnp.int32))(jnp.ones(2))


def test_grad_with_respect_to_an_integer_input():
    with pytest.raises(TypeError) as e:
        jaxlite.grad(lambda x: x * 2)(3)
    msg = str(e.value)
    assert "int64" in msg and "allow_int" in msg and "float" in msg


def test_jvp_structure_shape_and_dtype_mismatches_name_both():
    with pytest.raises(TypeError, match="tree structure.*primals .*tangents"):
        jaxlite.jvp(jnp.sin, (1.0,), (1.0, 2.0))
    shapes = r"primal has shape f64\[3\] and its tangent has shape \(2,\)"
    with pytest.raises(ValueError, match=shapes):
        jaxlite.jvp(jnp.sin, (jnp.ones(3),), (jnp.ones(2),))
    with pytest.raises(TypeError, match="primal dtype float32 .* tangent dtype f64"):
        jaxlite.jvp(jnp.sin, (jnp.ones(3, jnp.float32),), (jnp.ones(3),))
    with pytest.raises(TypeError, match="must be tuples or lists"):
        jaxlite.jvp(jnp.sin, jnp.ones(3), jnp.ones(3))


def test_vjp_cotangent_mismatch():
    _, f_vjp = jaxlite.vjp(lambda x: (x, x), jnp.ones(2))
    with pytest.raises(TypeError, match="Tree structure of cotangent input"):
        f_vjp(jnp.ones(2))
    with pytest.raises(ValueError, match="shape of cotangent"):
        f_vjp((jnp.ones(2), jnp.ones(3)))


def test_argnums_and_aux_errors():
    with pytest.raises(TypeError, match="argnums=2 requires at least 3 positional arguments"):
        jaxlite.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="has_aux=True requires"):
        jaxlite.grad(lambda x: x * x, has_aux=True)(1.0)
    with pytest.raises(TypeError, match="Expected a callable"):
        jaxlite.grad(3)


def test_escaped_tracer_is_reported():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * x

    jaxlite.grad(f)(1.0)
    with pytest.raises(UnexpectedTracerError):
        jnp.sin(leaked[0])
