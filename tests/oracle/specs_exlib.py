"""Oracle specs of jaxlite.example_libraries (stax layers, optimizers, schedules).

A stax layer is an (init_fun, apply_fun) pair: its spec builds the layer, initializes it with
PRNGKey(0) on the input's shape (jaxlite.random is bit-identical to JAX's) and applies it, by
every route. An optimizer's spec runs two update steps with the input as parameters and gradient.
tests/test_example_libraries.py compares the same names more closely (parameters, shapes,
trajectories, trainings).
"""

from __future__ import annotations

import importlib

from .harness import FLOATS, Call, Spec

SPECS: dict = {}

ST = "example_libraries.stax."
OPT = "example_libraries.optimizers."
X = [((3, 4),)]
IMG = [((2, 5, 5, 2),)]


def _stax(L):
    return importlib.import_module(L.name + ".example_libraries.stax")


def _run_layer(L, layer, x, **kw):
    init, apply = layer
    _, params = init(L.random.PRNGKey(0), x.shape)
    return apply(params, x, **kw)


def layer(make, shapes=X, diff=True, **kw):
    """make(f, S) -> the layer (f: the name's object, S: the library's stax)."""
    return Spec(
        [Call(lambda f, L, x: _run_layer(L, make(f, _stax(L)), x, **kw), shapes)],
        dtypes=FLOATS, diff=diff, tol=10.0,
    )  # fmt: skip


SPECS[ST + "Dense"] = layer(lambda f, S: f(3))
SPECS[ST + "Conv"] = layer(lambda f, S: f(3, (2, 2), padding="SAME"), IMG)
SPECS[ST + "GeneralConv"] = layer(lambda f, S: f(("NCHW", "OIHW", "NCHW"), 2, (2, 3)), IMG)
SPECS[ST + "ConvTranspose"] = layer(lambda f, S: f(2, (3, 3), strides=(2, 2)), IMG)
SPECS[ST + "Conv1DTranspose"] = layer(lambda f, S: f(2, (3,), padding="SAME"), [((2, 5, 3),)])
SPECS[ST + "GeneralConvTranspose"] = layer(
    lambda f, S: f(("NCH", "OIH", "NCH"), 2, (2,)), [((2, 3, 5),)]
)
SPECS[ST + "BatchNorm"] = layer(lambda f, S: f(axis=(0, 1, 2)), IMG)
SPECS[ST + "MaxPool"] = layer(lambda f, S: f((2, 2), (1, 2), "SAME"), IMG)
SPECS[ST + "SumPool"] = layer(lambda f, S: f((2, 3)), IMG)
SPECS[ST + "AvgPool"] = layer(lambda f, S: f((3, 3), padding="SAME"), IMG)
SPECS[ST + "Flatten"] = layer(lambda f, S: f, IMG)
SPECS[ST + "Identity"] = layer(lambda f, S: f)
SPECS[ST + "elementwise"] = layer(lambda f, S: f(S.leaky_relu, negative_slope=0.2))
for _n in "Tanh Relu Exp LogSoftmax Softmax Softplus Sigmoid Elu LeakyRelu Selu Gelu".split():
    SPECS[ST + _n] = layer(lambda f, S: f)
SPECS[ST + "FanOut"] = layer(lambda f, S: S.serial(f(3), S.FanInSum))
SPECS[ST + "FanInSum"] = layer(lambda f, S: S.serial(S.FanOut(2), f))
SPECS[ST + "FanInConcat"] = layer(lambda f, S: S.serial(S.FanOut(2), f(0)))
SPECS[ST + "Dropout"] = Spec(
    [Call(lambda f, L, x: _run_layer(L, f(0.6), x, rng=L.random.PRNGKey(1)), X)],
    dtypes=FLOATS, diff=True,
)  # fmt: skip
SPECS[ST + "serial"] = layer(lambda f, S: f(S.Dense(4), S.Tanh, S.Dense(2)))
SPECS[ST + "parallel"] = layer(
    lambda f, S: S.serial(S.FanOut(2), f(S.Dense(2), S.Relu), S.FanInConcat())
)
SPECS[ST + "shape_dependent"] = layer(lambda f, S: f(lambda shape: S.Dense(shape[-1] + 1)))

# the functions stax re-exports from nn and nn.initializers (and JAX's aliases of them)
for _n in "relu log_softmax logsoftmax softmax softplus sigmoid elu leaky_relu selu gelu".split():
    SPECS[ST + _n] = Spec([Call(lambda f, L, x: f(x), X)], dtypes=FLOATS, diff=True)
SPECS[ST + "standardize"] = Spec([Call(lambda f, L, x: f(x, axis=0), X)], dtypes=FLOATS, diff=True)
for _n in "glorot_normal glorot normal randn".split():
    SPECS[ST + _n] = Spec(
        [Call(lambda f, L, x: f()(L.random.PRNGKey(2), (3, 4), x.dtype), [((),)])],
        dtypes=FLOATS, routes=("eager", "jit"),
    )  # fmt: skip
for _n in ("ones", "zeros"):
    SPECS[ST + _n] = Spec(
        [Call(lambda f, L, x: f(L.random.PRNGKey(2), (3, 4), x.dtype), [((),)])],
        dtypes=FLOATS, routes=("eager", "jit"),
    )  # fmt: skip


# -------------------------------------------------------------------------------- optimizers


def _two_steps(opt, x):
    init, update, get_params = opt
    state = update(0, x, init(x))
    return get_params(update(1, 0.5 * x, state))


def optimizer(make):
    return Spec([Call(lambda f, L, x: _two_steps(make(f), x), X)], dtypes=FLOATS, diff=True)


SPECS[OPT + "sgd"] = optimizer(lambda f: f(0.1))
SPECS[OPT + "momentum"] = optimizer(lambda f: f(0.1, 0.9))
SPECS[OPT + "nesterov"] = optimizer(lambda f: f(0.1, 0.9))
SPECS[OPT + "adagrad"] = optimizer(lambda f: f(0.1))
SPECS[OPT + "rmsprop"] = optimizer(lambda f: f(0.1))
SPECS[OPT + "rmsprop_momentum"] = optimizer(lambda f: f(0.1))
SPECS[OPT + "adam"] = optimizer(lambda f: f(0.1))
SPECS[OPT + "adamax"] = optimizer(lambda f: f(0.1))
SPECS[OPT + "sm3"] = optimizer(lambda f: f(0.1))


def schedule(make, shapes=X):
    return Spec([Call(lambda f, L, x: make(f)(x), shapes)], dtypes=FLOATS, diff=True)


SPECS[OPT + "constant"] = schedule(lambda f: f(0.1))
SPECS[OPT + "exponential_decay"] = schedule(lambda f: f(0.1, 3, 0.5))
SPECS[OPT + "inverse_time_decay"] = schedule(lambda f: f(0.1, 2, 0.3))
SPECS[OPT + "polynomial_decay"] = schedule(lambda f: f(0.1, 4, 0.01, power=2.0))
SPECS[OPT + "piecewise_constant"] = Spec(
    [Call(lambda f, L, x: f([-0.5, 0.5], [1.0, 0.5, 0.1])(x), [((),)])], dtypes=FLOATS
)
SPECS[OPT + "make_schedule"] = schedule(lambda f: f(lambda i: 0.5 * i))
SPECS[OPT + "l2_norm"] = Spec(
    [Call(lambda f, L, x, y: f({"a": x, "b": [y]}), [((3, 4), (5,))])], dtypes=FLOATS, diff=True
)
SPECS[OPT + "clip_grads"] = Spec(
    [Call(lambda f, L, x, y: f({"a": x, "b": [y]}, 1.0), [((3, 4), (5,))])],
    dtypes=FLOATS, diff=True,
)  # fmt: skip
