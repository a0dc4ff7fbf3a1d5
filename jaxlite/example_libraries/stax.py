"""`jaxlite.example_libraries.stax`: JAX's example neural-net specification library.

A layer is an `(init_fun, apply_fun)` pair: `init_fun(rng, input_shape) -> (output_shape,
params)` and `apply_fun(params, inputs, **kwargs) -> outputs` (`rng=` a PRNG key for the layers
that draw, Dropout). Combinators (`serial`, `parallel`, `shape_dependent`) build layers of
layers. Names, signatures, the order in which PRNG keys are split and the initial parameters are
JAX 0.10's (`jax.example_libraries.stax`): the same key gives the same parameters.
"""

from __future__ import annotations

import functools
import math

from jaxlite import lax, random
from jaxlite import numpy as jnp
from jaxlite.nn import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    selu,
    sigmoid,
    softmax,
    softplus,
    standardize,
)
from jaxlite.nn.initializers import glorot_normal, normal, ones, zeros

__all__ = [
    "Dense", "GeneralConv", "Conv", "GeneralConvTranspose", "Conv1DTranspose", "ConvTranspose",
    "BatchNorm", "elementwise", "Tanh", "Relu", "Exp", "LogSoftmax", "Softmax", "Softplus",
    "Sigmoid", "Elu", "LeakyRelu", "Selu", "Gelu", "MaxPool", "SumPool", "AvgPool", "Flatten",
    "Identity", "FanOut", "FanInSum", "FanInConcat", "Dropout", "serial", "parallel",
    "shape_dependent",
    # re-exported as JAX's stax does (its module namespace holds them)
    "relu", "log_softmax", "softmax", "softplus", "sigmoid", "elu", "leaky_relu", "selu", "gelu",
    "standardize", "glorot_normal", "normal", "ones", "zeros", "glorot", "randn", "logsoftmax",
]  # fmt: skip

# JAX's backwards-compatible aliases
glorot = glorot_normal
randn = normal
logsoftmax = log_softmax


def _no_params(rng, input_shape):
    return input_shape, ()


def Dense(out_dim, W_init=glorot_normal(), b_init=normal()):  # noqa: B008 (JAX's signature)
    """A fully-connected layer: `inputs @ W + b`, W of shape (in_dim, out_dim)."""

    def init_fun(rng, input_shape):
        k_w, k_b = random.split(rng)
        W = W_init(k_w, (input_shape[-1], out_dim))
        b = b_init(k_b, (out_dim,))
        return tuple(input_shape[:-1]) + (out_dim,), (W, b)

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        return jnp.dot(inputs, W) + b

    return init_fun, apply_fun


def _kernel_shape(lhs_spec, rhs_spec, input_shape, out_chan, filter_shape):
    """The kernel's shape in `rhs_spec` order: O, I (the input's channels), spatial dims."""
    spatial = iter(filter_shape)
    shape = []
    for c in rhs_spec:
        if c == "O":
            shape.append(out_chan)
        elif c == "I":
            shape.append(input_shape[lhs_spec.index("C")])
        else:
            shape.append(next(spatial))
    return shape


def _conv_layer(transpose, dimension_numbers, out_chan, filter_shape, strides, padding, W_init,
                b_init):  # fmt: skip
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    unit = (1,) * len(filter_shape)
    strides = strides or unit
    if W_init is None:
        W_init = glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))
    shape_fn = lax.conv_transpose_shape_tuple if transpose else lax.conv_general_shape_tuple

    def init_fun(rng, input_shape):
        kernel_shape = _kernel_shape(lhs_spec, rhs_spec, input_shape, out_chan, filter_shape)
        out_shape = shape_fn(input_shape, kernel_shape, strides, padding, dimension_numbers)
        bias_shape = [out_chan if c == "C" else 1 for c in out_spec]
        k_w, k_b = random.split(rng)
        return out_shape, (W_init(k_w, kernel_shape), b_init(k_b, bias_shape))

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        if transpose:
            out = lax.conv_transpose(
                inputs, W, strides, padding, dimension_numbers=dimension_numbers
            )
        else:
            out = lax.conv_general_dilated(
                inputs, W, strides, padding, unit, unit, dimension_numbers=dimension_numbers
            )
        return out + b

    return init_fun, apply_fun


def GeneralConv(dimension_numbers, out_chan, filter_shape, strides=None, padding="VALID",
                W_init=None, b_init=normal(1e-6)):  # noqa: B008  # fmt: skip
    """A convolution layer; `dimension_numbers` = (lhs_spec, rhs_spec, out_spec) strings."""
    return _conv_layer(False, dimension_numbers, out_chan, filter_shape, strides, padding, W_init,
                       b_init)  # fmt: skip


Conv = functools.partial(GeneralConv, ("NHWC", "HWIO", "NHWC"))


def GeneralConvTranspose(dimension_numbers, out_chan, filter_shape, strides=None,
                         padding="VALID", W_init=None, b_init=normal(1e-6)):  # noqa: B008  # fmt: skip
    """A transposed-convolution layer (`lax.conv_transpose`)."""
    return _conv_layer(True, dimension_numbers, out_chan, filter_shape, strides, padding, W_init,
                       b_init)  # fmt: skip


Conv1DTranspose = functools.partial(GeneralConvTranspose, ("NHC", "HIO", "NHC"))
ConvTranspose = functools.partial(GeneralConvTranspose, ("NHWC", "HWIO", "NHWC"))


def BatchNorm(axis=(0, 1, 2), epsilon=1e-5, center=True, scale=True, beta_init=zeros,
              gamma_init=ones):  # fmt: skip
    """Normalizes over `axis` (batch statistics of the call); beta/gamma over the other axes."""
    axis = (axis,) if jnp.isscalar(axis) else tuple(axis)

    def init_fun(rng, input_shape):
        shape = tuple(d for i, d in enumerate(input_shape) if i not in axis)
        k_beta, k_gamma = random.split(rng)
        beta = beta_init(k_beta, shape) if center else ()
        gamma = gamma_init(k_gamma, shape) if scale else ()
        return input_shape, (beta, gamma)

    def apply_fun(params, x, **kwargs):
        beta, gamma = params
        bcast = tuple(None if i in axis else slice(None) for i in range(jnp.ndim(x)))
        z = standardize(x, axis, epsilon=epsilon)
        if scale:
            z = gamma[bcast] * z
        if center:
            z = z + beta[bcast]
        return z

    return init_fun, apply_fun


def elementwise(fun, **fun_kwargs):
    """A parameterless layer applying `fun(inputs, **fun_kwargs)`."""

    def apply_fun(params, inputs, **kwargs):
        return fun(inputs, **fun_kwargs)

    return _no_params, apply_fun


Tanh = elementwise(jnp.tanh)
Relu = elementwise(relu)
Exp = elementwise(jnp.exp)
LogSoftmax = elementwise(log_softmax, axis=-1)
Softmax = elementwise(softmax, axis=-1)
Softplus = elementwise(softplus)
Sigmoid = elementwise(sigmoid)
Elu = elementwise(elu)
LeakyRelu = elementwise(leaky_relu)
Selu = elementwise(selu)
Gelu = elementwise(gelu)


def _non_spatial_axes(spec, ndim):
    """Batch and channel axes: (0, last) by default (NHWC), else `spec`'s 'N' and 'C'."""
    if spec is None:
        return 0, ndim - 1
    return spec.index("N"), spec.index("C")


def _pooling_layer(reducer, init_val, normalize=False):
    def PoolingLayer(window_shape, strides=None, padding="VALID", spec=None):
        """A pooling layer over the spatial axes (NHWC unless `spec` names N and C)."""
        spatial_window = tuple(window_shape)
        spatial_strides = tuple(strides or (1,) * len(spatial_window))
        full_window, full_strides = spatial_window, spatial_strides
        for i in sorted(_non_spatial_axes(spec, len(spatial_window) + 2)):
            full_window = full_window[:i] + (1,) + full_window[i:]
            full_strides = full_strides[:i] + (1,) + full_strides[i:]

        def init_fun(rng, input_shape):
            pads = lax.padtype_to_pads(input_shape, full_window, full_strides, padding)
            unit = (1,) * len(full_window)
            out = lax.reduce_window_shape_tuple(
                input_shape, full_window, full_strides, pads, unit, unit
            )
            return out, ()

        def apply_fun(params, inputs, **kwargs):
            out = lax.reduce_window(inputs, init_val, reducer, full_window, full_strides, padding)
            if not normalize:
                return out
            # AvgPool: divide by the number of in-bounds elements of each window
            batch_chan = _non_spatial_axes(spec, inputs.ndim)
            spatial = tuple(d for i, d in enumerate(inputs.shape) if i not in batch_chan)
            counts = lax.reduce_window(
                jnp.ones(spatial, dtype=inputs.dtype), 0.0, lax.add, spatial_window,
                spatial_strides, padding,
            )  # fmt: skip
            for i in sorted(batch_chan):
                counts = jnp.expand_dims(counts, i)
            return out / counts

        return init_fun, apply_fun

    return PoolingLayer


MaxPool = _pooling_layer(lax.max, -jnp.inf)
SumPool = _pooling_layer(lax.add, 0.0)
AvgPool = _pooling_layer(lax.add, 0.0, normalize=True)


def _flatten_init(rng, input_shape):
    return (input_shape[0], math.prod(input_shape[1:])), ()


def _flatten_apply(params, inputs, **kwargs):
    return jnp.reshape(inputs, (inputs.shape[0], -1))


# JAX's stax exports the layer itself (its constructor called once), not the constructor.
Flatten = (_flatten_init, _flatten_apply)
Identity = (_no_params, lambda params, inputs, **kwargs: inputs)


def FanOut(num):
    """Copies its input into a list of `num` outputs."""

    def init_fun(rng, input_shape):
        return [input_shape] * num, ()

    def apply_fun(params, inputs, **kwargs):
        return [inputs] * num

    return init_fun, apply_fun


def _fan_in_sum_init(rng, input_shape):
    return input_shape[0], ()


def _fan_in_sum_apply(params, inputs, **kwargs):
    return sum(inputs)


FanInSum = (_fan_in_sum_init, _fan_in_sum_apply)


def FanInConcat(axis=-1):
    """Concatenates a list of inputs along `axis`."""

    def init_fun(rng, input_shape):
        first = tuple(input_shape[0])
        ax = axis % len(first)
        size = sum(s[ax] for s in input_shape)
        return first[:ax] + (size,) + first[ax + 1 :], ()

    def apply_fun(params, inputs, **kwargs):
        return jnp.concatenate(inputs, axis)

    return init_fun, apply_fun


def Dropout(rate, mode="train"):
    """Dropout; as in JAX's stax, `rate` is the probability to KEEP an element (kept elements
    are divided by it). `mode` other than 'train' is the identity."""

    def apply_fun(params, inputs, **kwargs):
        rng = kwargs.get("rng", None)
        if rng is None:
            raise ValueError(
                "stax.Dropout: apply_fun needs a PRNG key; call it as "
                "`apply_fun(params, inputs, rng=key)` (e.g. key = jaxlite.random.PRNGKey(0))."
            )
        if mode != "train":
            return inputs
        keep = random.bernoulli(rng, rate, inputs.shape)
        return jnp.where(keep, inputs / rate, 0)

    return _no_params, apply_fun


# ------------------------------------------------------------------------------- combinators


def _unzip_layers(combinator, layers):
    if not layers:  # JAX fails unpacking zip() here: a ValueError too
        raise ValueError(f"stax.{combinator}: needs at least one layer (an (init_fun, apply_fun) "
                         "pair); got none")  # fmt: skip
    return zip(*layers)


def _split_or_none(rng, n):
    return random.split(rng, n) if rng is not None else (None,) * n


def serial(*layers):
    """Composes layers one after the other; params are a list, one entry per layer."""
    n = len(layers)
    init_funs, apply_funs = _unzip_layers("serial", layers)

    def init_fun(rng, input_shape):
        params = []
        for init in init_funs:
            rng, layer_rng = random.split(rng)
            input_shape, p = init(layer_rng, input_shape)
            params.append(p)
        return input_shape, params

    def apply_fun(params, inputs, **kwargs):
        rngs = _split_or_none(kwargs.pop("rng", None), n)
        for f, p, r in zip(apply_funs, params, rngs):
            inputs = f(p, inputs, rng=r, **kwargs)
        return inputs

    return init_fun, apply_fun


def parallel(*layers):
    """Applies layer i to input i of a sequence (use with FanOut and FanInSum/FanInConcat)."""
    n = len(layers)
    init_funs, apply_funs = _unzip_layers("parallel", layers)

    def init_fun(rng, input_shape):
        rngs = random.split(rng, n)
        pairs = [init(r, s) for init, r, s in zip(init_funs, rngs, input_shape)]
        # JAX returns the lazy `zip` of (shapes, params); unpacking it gives two tuples
        return zip(*pairs)

    def apply_fun(params, inputs, **kwargs):
        rngs = _split_or_none(kwargs.pop("rng", None), n)
        return [f(p, x, rng=r, **kwargs) for f, p, x, r in zip(apply_funs, params, inputs, rngs)]

    return init_fun, apply_fun


def shape_dependent(make_layer):
    """A layer built by `make_layer(input_shape)` once the input shape is known."""

    def init_fun(rng, input_shape):
        return make_layer(input_shape)[0](rng, input_shape)

    def apply_fun(params, inputs, **kwargs):
        return make_layer(inputs.shape)[1](params, inputs, **kwargs)

    return init_fun, apply_fun
