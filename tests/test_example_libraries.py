"""jaxlite.example_libraries (stax, optimizers) against JAX 0.10's jax.example_libraries.

jaxlite.random is bit-identical to JAX's, so the same key gives the same initial parameters: each
layer's init (output shape, parameters) and apply (values, gradients) are compared with JAX's in
both 64-bit modes; jit is exercised on whole networks (one compilation covers many layers) and on
each optimizer's update step; two small trainings (JAX's mnist_classifier MLP, a small CNN) must
follow JAX's loss under jit.
"""

from contextlib import contextmanager

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is the reference: pip install -e '.[oracle]'")

from jax.example_libraries import optimizers as JO  # noqa: E402
from jax.example_libraries import stax as JS  # noqa: E402

import jaxlite  # noqa: E402
from jaxlite.example_libraries import optimizers as LO  # noqa: E402
from jaxlite.example_libraries import stax as LS  # noqa: E402

LIBS = {"jaxlite": (jaxlite, LS, LO), "jax": (jax, JS, JO)}


@contextmanager
def mode(x64: bool):
    with jax.enable_x64(x64), jaxlite.enable_x64(x64):
        yield


def leaves(tree, lib):
    return lib.tree_util.tree_leaves(tree)


def assert_trees_close(ours, theirs, tol):
    a, b = leaves(ours, jaxlite), leaves(theirs, jax)
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype, (x.shape, x.dtype, y.shape, y.dtype)
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def init_params(lib, make_net, key_seed, shape):
    """make_net(S)'s init with PRNGKey(key_seed), run by jaxlite for both libraries (the layer
    tests above show JAX's init gives the same parameters; JAX's own init compiles for seconds)."""
    shape_out, params = make_net(LS)[0](jaxlite.random.PRNGKey(key_seed), shape)
    params = jaxlite.tree_util.tree_map(np.asarray, params)
    L = LIBS[lib][0]
    return shape_out, L.tree_util.tree_map(L.numpy.asarray, params)


def shape_tree(s):
    """Output shapes with NumPy ints made Python ints (JAX's pooling returns np.int64)."""
    if isinstance(s, (list, tuple)) and all(isinstance(d, (int, np.integer)) for d in s):
        return tuple(int(d) for d in s)
    return [shape_tree(t) for t in s]


# (id, layer made from a stax module S, input shape)
LAYERS = [
    ("Dense", lambda S: S.Dense(3), (2, 4)),
    ("Dense_3d", lambda S: S.Dense(5, W_init=S.normal(0.5)), (2, 3, 4)),
    ("Conv", lambda S: S.Conv(3, (2, 2)), (2, 5, 5, 2)),
    ("Conv_same_stride", lambda S: S.Conv(2, (3, 3), strides=(2, 2), padding="SAME"), (1, 6, 5, 3)),
    ("GeneralConv_NCHW", lambda S: S.GeneralConv(("NCHW", "OIHW", "NCHW"), 3, (2, 3)), (2, 2, 5, 6)),
    ("ConvTranspose", lambda S: S.ConvTranspose(2, (3, 3), strides=(2, 2)), (1, 3, 4, 2)),
    ("ConvTranspose_same", lambda S: S.ConvTranspose(3, (2, 2), padding="SAME"), (2, 4, 4, 1)),
    ("Conv1DTranspose", lambda S: S.Conv1DTranspose(3, (3,), strides=(2,)), (2, 5, 2)),
    ("GeneralConvTranspose", lambda S: S.GeneralConvTranspose(("NCH", "OIH", "NCH"), 2, (2,)),
     (1, 3, 6)),
    ("BatchNorm", lambda S: S.BatchNorm(), (3, 2, 2, 4)),
    ("BatchNorm_axis", lambda S: S.BatchNorm(axis=0, center=False), (5, 3)),
    ("BatchNorm_noscale", lambda S: S.BatchNorm(axis=(0, 1), scale=False), (3, 4, 2)),
    ("BatchNorm_plain", lambda S: S.BatchNorm(axis=(0,), center=False, scale=False), (4, 3)),
    ("MaxPool", lambda S: S.MaxPool((2, 2)), (2, 4, 5, 3)),
    ("MaxPool_strided_same", lambda S: S.MaxPool((3, 3), (2, 2), "SAME"), (1, 5, 5, 2)),
    ("MaxPool_spec", lambda S: S.MaxPool((2, 2), spec="NCHW"), (1, 2, 4, 4)),
    ("SumPool", lambda S: S.SumPool((2, 3), (1, 2)), (2, 4, 6, 1)),
    ("AvgPool", lambda S: S.AvgPool((2, 2), (2, 2)), (2, 4, 4, 3)),
    ("AvgPool_same", lambda S: S.AvgPool((3, 3), padding="SAME"), (1, 4, 5, 2)),
    ("AvgPool_spec", lambda S: S.AvgPool((3,), padding="SAME", spec="NCW"), (2, 3, 5)),
    ("Flatten", lambda S: S.Flatten, (2, 3, 4)),
    ("Identity", lambda S: S.Identity, (2, 3)),
    ("serial", lambda S: S.serial(S.Dense(4), S.Tanh, S.Dense(2)), (3, 5)),
    ("residual", lambda S: S.serial(S.FanOut(2), S.parallel(S.Dense(3), S.Identity), S.FanInSum),
     (2, 3)),
    ("concat", lambda S: S.serial(S.FanOut(3), S.parallel(S.Dense(2), S.Relu, S.Dense(1)),
                                  S.FanInConcat()), (2, 3)),
    ("concat_axis0", lambda S: S.serial(S.FanOut(2), S.parallel(S.Identity, S.Exp),
                                        S.FanInConcat(0)), (2, 3)),
    ("shape_dependent", lambda S: S.shape_dependent(lambda shape: S.Dense(shape[-1] * 2)), (2, 3)),
]  # fmt: skip
ELEMENTWISE = "Tanh Relu Exp LogSoftmax Softmax Softplus Sigmoid Elu LeakyRelu Selu Gelu".split()
# every elementwise layer in one case (one compilation of JAX's side), the outputs concatenated
LAYERS += [("elementwise_all", lambda S: S.serial(
    S.FanOut(len(ELEMENTWISE)), S.parallel(*(getattr(S, n) for n in ELEMENTWISE)),
    S.FanInConcat()), (2, 5))]  # fmt: skip
LAYERS += [("elementwise_kw", lambda S: S.elementwise(S.leaky_relu, negative_slope=0.3), (2, 5))]


def run_layer(make, shape, x, lib):
    """(output shape, params, outputs, grads of a loss wrt params and inputs); jaxlite's eagerly
    (its jit is tested on whole networks below: one compilation covers many layers)."""
    L, S, _ = LIBS[lib]
    init, apply = make(S)
    out_shape = []

    def run(key, xs):
        shape_out, params = init(key, shape)
        out_shape.append(shape_out)

        def loss(p, xx):
            return L.numpy.sum(L.tree_util.tree_leaves(apply(p, xx))[0] ** 2)

        return params, apply(params, xs), L.grad(loss, argnums=(0, 1))(params, xs)

    if lib == "jax":  # one compilation; eagerly JAX compiles every op of init and grad apart
        run = jax.jit(run)
    res = run(L.random.PRNGKey(3), L.numpy.asarray(x))
    return (out_shape[0], *res)


# 64-bit mode on a sample of the layers (JAX's eager mode compiles every op anew per dtype)
X64_SAMPLE = "Dense ConvTranspose BatchNorm AvgPool_same residual elementwise_all".split()
LAYER_CASES = [(*c, False) for c in LAYERS] + [(*c, True) for c in LAYERS if c[0] in X64_SAMPLE]


@pytest.mark.parametrize(
    "name,make,shape,x64", LAYER_CASES, ids=[c[0] + ("-x64" if c[3] else "") for c in LAYER_CASES]
)
def test_layer_init_apply_grad_match_jax(name, make, shape, x64):
    x = np.random.RandomState(1).randn(*shape)
    with mode(x64):
        x = x.astype(np.float64 if x64 else np.float32)
        ours = run_layer(make, shape, x, "jaxlite")
        theirs = run_layer(make, shape, x, "jax")
    assert shape_tree(ours[0]) == shape_tree(theirs[0])
    assert jaxlite.tree_util.tree_structure(ours[1]) is not None
    tol = 1e-10 if x64 else 2e-5
    assert_trees_close(ours[1], theirs[1], tol)  # the same key gives the same parameters
    assert_trees_close(ours[2], theirs[2], tol)
    assert_trees_close(ours[3], theirs[3], 1e-8 if x64 else 1e-4)
    # the declared output shape is the real one
    declared = shape_tree(ours[0])
    assert [tuple(a.shape) for a in leaves(ours[2], jaxlite)] == [declared]


def test_param_structure_is_jax():
    init, _ = LS.serial(LS.Dense(2), LS.Relu, LS.BatchNorm(axis=0))
    jinit, _ = JS.serial(JS.Dense(2), JS.Relu, JS.BatchNorm(axis=0))
    _, p = init(jaxlite.random.PRNGKey(0), (3, 4))
    _, q = jinit(jax.random.PRNGKey(0), (3, 4))
    assert str(jaxlite.tree_util.tree_structure(p)) == str(jax.tree_util.tree_structure(q))
    assert isinstance(p, list) and isinstance(p[0], tuple) and p[1] == ()
    shapes, params = LS.parallel(LS.Dense(2), LS.Identity)[0](
        jaxlite.random.PRNGKey(0), [(3, 4), (3, 1)]
    )
    assert shapes == ((3, 2), (3, 1)) and params[1] == ()


def test_dropout_matches_jax_and_needs_a_key():
    x = np.random.RandomState(0).randn(4, 6).astype(np.float32)
    with mode(False):
        _, apply = LS.serial(LS.Dense(6), LS.Dropout(0.7))
        init, _ = LS.serial(LS.Dense(6), LS.Dropout(0.7))
        jinit, japply = JS.serial(JS.Dense(6), JS.Dropout(0.7))
        _, p = init(jaxlite.random.PRNGKey(0), (4, 6))
        _, q = jinit(jax.random.PRNGKey(0), (4, 6))
        ours = apply(p, x, rng=jaxlite.random.PRNGKey(5))
        theirs = japply(q, x, rng=jax.random.PRNGKey(5))
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-5, atol=2e-6)
        assert (np.asarray(ours) == 0).any()
        d_init, d_apply = LS.Dropout(0.5)
        with pytest.raises(ValueError, match="PRNG key"):
            d_apply((), x)
        _, t_apply = LS.Dropout(0.5, mode="test")
        with pytest.raises(ValueError, match="PRNG key"):  # as JAX: a key even when testing
            t_apply((), x)
        np.testing.assert_array_equal(np.asarray(t_apply((), x, rng=jaxlite.random.PRNGKey(0))), x)
    for S in (LS, JS):
        with pytest.raises(ValueError):
            S.serial()
        with pytest.raises(ValueError):
            S.parallel()


def _net(S):
    """Every kind of layer in two networks, so that two compilations cover them under jit."""
    cnn = S.serial(
        S.Conv(3, (3, 3), padding="SAME"), S.BatchNorm(), S.Elu, S.MaxPool((2, 2), (2, 2)),
        S.ConvTranspose(2, (2, 2), (2, 2)), S.AvgPool((2, 2), padding="SAME"), S.SumPool((2, 2)),
        S.Softplus, S.Flatten,
        S.FanOut(2), S.parallel(S.Dense(4), S.serial(S.Dense(4), S.Gelu)), S.FanInSum,
        S.Selu, S.LeakyRelu, S.Sigmoid, S.Tanh, S.Dense(5), S.Softmax, S.Exp, S.LogSoftmax,
    )  # fmt: skip
    return cnn


def test_network_under_jit_and_grad():
    # x32 (the default); every layer is compared in x64 too, eagerly, above
    x = np.random.RandomState(2).randn(2, 6, 6, 2).astype(np.float32)
    out = {}
    with mode(False):
        for lib in LIBS:
            L, S, _ = LIBS[lib]
            apply = _net(S)[1]
            shape, params = init_params(lib, _net, 1, x.shape)

            def loss(p, xx, apply=apply, L=L):
                y = apply(p, xx)
                return L.numpy.sum(y * L.numpy.arange(5.0)), y

            f = L.jit(L.value_and_grad(loss, argnums=(0, 1), has_aux=True))
            out[lib] = (shape, params, f(params, x), f(params, 0.5 * x))
    assert shape_tree(out["jaxlite"][0]) == (2, 5)
    assert_trees_close(out["jaxlite"][2:], out["jax"][2:], 1e-4)
    # jit agrees with eager
    _, apply = _net(LS)
    np.testing.assert_allclose(
        np.asarray(out["jaxlite"][2][0][1]), np.asarray(apply(out["jaxlite"][1], x)), rtol=1e-5,
        atol=1e-6,
    )  # fmt: skip


# ---------------------------------------------------------------------------------- optimizers

OPTIMIZERS = [
    ("sgd", lambda Opt: Opt.sgd(0.1)),
    ("sgd_schedule", lambda Opt: Opt.sgd(Opt.exponential_decay(0.2, 2, 0.5))),
    ("momentum", lambda Opt: Opt.momentum(0.05, 0.9)),
    ("momentum_piecewise", lambda Opt: Opt.momentum(Opt.piecewise_constant([1, 3], [0.1, 0.05, 0.01]),
                                                mass=0.8)),
    ("nesterov", lambda Opt: Opt.nesterov(0.05, 0.9)),
    ("adagrad", lambda Opt: Opt.adagrad(0.1)),
    ("rmsprop", lambda Opt: Opt.rmsprop(0.01)),
    ("rmsprop_momentum", lambda Opt: Opt.rmsprop_momentum(0.01, momentum=0.5)),
    ("adam", lambda Opt: Opt.adam(0.01)),
    ("adam_decay", lambda Opt: Opt.adam(Opt.inverse_time_decay(0.05, 2, 0.5, staircase=True))),
    ("adamax", lambda Opt: Opt.adamax(0.02)),
    ("sm3", lambda Opt: Opt.sm3(0.1)),
]  # fmt: skip


def _quadratic_problem():
    r = np.random.RandomState(4)
    return (
        {"w": r.randn(3, 2), "b": r.randn(2), "s": np.float64(r.randn())},
        r.randn(6, 3),
        r.randn(6, 2),
    )


def run_optimizer(make, lib, x64, steps=5, jit=True):
    L, _, Opt = LIBS[lib]
    jnp = L.numpy
    dt = np.float64 if x64 else np.float32
    params, a, t = _quadratic_problem()
    params = {k: jnp.asarray(np.asarray(v, dt)) for k, v in params.items()}
    a, t = jnp.asarray(a.astype(dt)), jnp.asarray(t.astype(dt))
    init, update, get_params = make(Opt)

    def loss(p):
        return jnp.sum((a @ p["w"] + p["b"] - t) ** 2) + p["s"] ** 2

    def step(i, state):
        return update(i, L.grad(loss)(get_params(state)), state)

    if jit:
        step = L.jit(step)
    state = init(params)
    traj = []
    for i in range(steps):
        state = step(i, state)
        traj.append(get_params(state))
    return traj, state


@pytest.mark.parametrize("name,make", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_trajectory_matches_jax(name, make):
    # sm3's state holds the parameter's shape as ints: leaves that jit traces, so its whole
    # state cannot pass through jit (in JAX neither: both raise a TypeError)
    jit = name != "sm3"
    with mode(False):  # float32 under jit
        ours, state = run_optimizer(make, "jaxlite", False, jit=jit)
        theirs, jstate = run_optimizer(make, "jax", False, jit=jit)
        if not jit:
            for lib in LIBS:
                with pytest.raises(TypeError):
                    run_optimizer(make, lib, False, steps=1)
    assert isinstance(state, LO.OptimizerState)
    assert str(state.tree_def) == str(jstate.tree_def)
    assert_trees_close(ours, theirs, 2e-5)
    assert_trees_close(state.packed_state, jstate.packed_state, 2e-5)
    if name in ("adam", "adagrad", "rmsprop_momentum", "adamax"):  # a sample in float64
        with mode(True):
            ours, _ = run_optimizer(make, "jaxlite", True, steps=3)
            theirs, _ = run_optimizer(make, "jax", True, steps=3)
        assert_trees_close(ours, theirs, 1e-11)


def test_optimizer_errors():
    init, update, get_params = LO.sgd(0.1)
    state = init({"a": jaxlite.numpy.ones(2)})
    with pytest.raises(TypeError, match="gradient tree that did not match"):
        update(0, [jaxlite.numpy.ones(2)], state)

    @LO.optimizer
    def bad(step_size):
        return (lambda x: (x, x), lambda i, g, s: (s[0], s[1], s[0]), lambda s: s[0])

    init, update, _ = bad(0.1)
    with pytest.raises(TypeError, match="output structure"):
        update(0, jaxlite.numpy.ones(2), init(jaxlite.numpy.ones(2)))
    with pytest.raises(TypeError):
        LO.make_schedule(np.ones(3))
    with pytest.raises(ValueError, match="one shorter"):
        LO.piecewise_constant([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="sequences"):
        LO.piecewise_constant(1, [0.1, 0.2])


def test_optimizer_names_and_state_pytree():
    opt = LO.adam(0.1)
    assert isinstance(opt, LO.Optimizer) and opt._fields == ("init_fn", "update_fn", "params_fn")
    assert LO.adam.__name__ == "adam"
    state = opt.init_fn([jaxlite.numpy.ones(2), (jaxlite.numpy.zeros(3),)])
    leaves_, treedef = jaxlite.tree_util.tree_flatten(state)
    assert len(leaves_) == 6  # x, m, v per parameter
    again = jaxlite.tree_util.tree_unflatten(treedef, leaves_)
    assert isinstance(again, LO.OptimizerState) and again.tree_def == state.tree_def
    doubled = jaxlite.tree_util.tree_map(lambda v: 2 * v, state)
    np.testing.assert_array_equal(np.asarray(opt.params_fn(doubled)[0]), 2.0)
    # a scalar parameter (sm3 keeps it as 1-d and restores the shape)
    s = LO.sm3(0.1).init_fn(jaxlite.numpy.float32(2.0))
    assert LO.sm3(0.1).params_fn(s).shape == ()


@pytest.mark.parametrize("x64", [False, True], ids=["x32", "x64"])
def test_schedules_match_jax(x64):
    def schedules(Opt):
        return [
            Opt.constant(0.1), Opt.exponential_decay(0.1, 3, 0.5), Opt.inverse_time_decay(0.1, 2, 0.3),
            Opt.inverse_time_decay(0.1, 2, 0.3, staircase=True), Opt.polynomial_decay(0.1, 4, 0.01),
            Opt.polynomial_decay(0.2, 5, 0.0, power=2.0),
            Opt.piecewise_constant([2, 5], [1.0, 0.5, 0.1]), Opt.make_schedule(0.3),
            Opt.make_schedule(lambda i: 0.5 * i),
        ]  # fmt: skip

    with mode(x64):
        for ls, js in zip(schedules(LO), schedules(JO)):
            for i in range(8):
                a, b = ls(i), js(i)
                assert np.asarray(a).dtype == np.asarray(b).dtype, (i, a, b)
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
            a, b = ls(jaxlite.numpy.asarray(3)), js(jax.numpy.asarray(3))
            assert np.asarray(a).dtype == np.asarray(b).dtype
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


@pytest.mark.parametrize("x64", [False, True], ids=["x32", "x64"])
def test_l2_norm_and_clip_grads_match_jax(x64):
    r = np.random.RandomState(0)
    tree = {"a": r.randn(3, 2), "b": [r.randn(4)]}
    with mode(x64):
        out = {}
        for lib in LIBS:
            L, _, Opt = LIBS[lib]
            t = L.tree_util.tree_map(L.numpy.asarray, tree)
            out[lib] = (Opt.l2_norm(t), Opt.clip_grads(t, 1.0), Opt.clip_grads(t, 100.0),
                        L.grad(lambda t, Opt=Opt: Opt.l2_norm(Opt.clip_grads(t, 1.5)))(t))  # fmt: skip
    assert_trees_close(out["jaxlite"], out["jax"], 1e-12 if x64 else 1e-5)


def test_unpack_pack_round_trip():
    opt = LO.momentum(0.1, 0.9)
    params = {"w": jaxlite.numpy.ones((2, 2)), "b": [jaxlite.numpy.zeros(3)]}
    state = opt.update_fn(0, params, opt.init_fn(params))
    marked = LO.unpack_optimizer_state(state)
    assert isinstance(marked["w"], LO.JoinPoint) and isinstance(marked["b"][0], LO.JoinPoint)
    x, v = marked["w"].subtree
    np.testing.assert_allclose(np.asarray(v), 1.0)
    assert list(marked["w"]) == [marked["w"].subtree]
    back = LO.pack_optimizer_state(marked)
    assert back.tree_def == state.tree_def and back.subtree_defs == state.subtree_defs
    for a, b in zip(jaxlite.tree_util.tree_leaves(back), jaxlite.tree_util.tree_leaves(state)):
        assert a is b
    with pytest.raises(TypeError, match="JoinPoint"):
        LO.pack_optimizer_state({"w": 1.0})
    # the same marked layout as JAX's
    jopt = JO.momentum(0.1, 0.9)
    jparams = {"w": jax.numpy.ones((2, 2)), "b": [jax.numpy.zeros(3)]}
    jmarked = JO.unpack_optimizer_state(jopt.update_fn(0, jparams, jopt.init_fn(jparams)))
    assert str(jax.tree_util.tree_structure(jmarked)).count("*") == 2
    assert sorted(marked) == sorted(jmarked) and len(marked["b"]) == len(jmarked["b"])


# ---------------------------------------------------------------------------------- trainings


def _train(lib, make_net, in_shape, steps=3):
    L, S, Opt = LIBS[lib]
    jnp = L.numpy
    r = np.random.RandomState(7)
    x = jnp.asarray(r.randn(*in_shape).astype(np.float32))
    labels = r.randint(0, 10, in_shape[0])
    y = jnp.asarray(np.eye(10, dtype=np.float32)[labels])
    predict = make_net(S)[1]
    _, params = init_params(lib, make_net, 0, in_shape)
    opt_init, opt_update, get_params = Opt.adam(1e-3)

    def loss(p):
        return -jnp.mean(jnp.sum(predict(p, x) * y, axis=1))

    @L.jit
    def update(i, state):
        value, g = L.value_and_grad(loss)(get_params(state))
        return value, opt_update(i, g, state)

    state = opt_init(params)
    losses = []
    for i in range(steps + 1):  # the last value: the loss after `steps` steps
        value, state = update(i, state)
        losses.append(float(value))
    return np.array(losses)


def _mnist_mlp(S):
    # examples/mnist_classifier.py's network
    return S.serial(S.Dense(1024), S.Relu, S.Dense(1024), S.Relu, S.Dense(10), S.LogSoftmax)


def _small_cnn(S):
    return S.serial(S.Conv(8, (3, 3), padding="SAME"), S.Relu, S.MaxPool((2, 2), (2, 2)),
                    S.Flatten, S.Dense(10), S.LogSoftmax)  # fmt: skip


@pytest.mark.parametrize(
    "make_net,in_shape", [(_mnist_mlp, (16, 64)), (_small_cnn, (8, 8, 8, 1))], ids=["mlp", "cnn"]
)
def test_training_follows_jax(make_net, in_shape):
    with mode(False):
        ours = _train("jaxlite", make_net, in_shape)
        theirs = _train("jax", make_net, in_shape)
    np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=1e-5)
    assert ours[-1] < ours[0]
