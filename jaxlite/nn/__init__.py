"""`jaxlite.nn`: activation functions, softmax and friends, with JAX's names and semantics.

Written with `lax` ops, so every function works eagerly and under every transformation; kinks
have JAX's gradients (`relu'(0) == 0`) and the log-space functions are stable for large inputs.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from jaxlite import core, dtypes
from jaxlite import numpy as jnp
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer, get_aval
from jaxlite.custom_derivatives import custom_jvp
from jaxlite.nn import initializers  # noqa: F401

__all__ = [
    "identity", "relu", "relu6", "sigmoid", "softplus", "silu", "swish", "gelu", "elu",
    "leaky_relu", "tanh", "log_sigmoid", "softmax", "log_softmax", "logsumexp", "one_hot",
    "standardize", "initializers",
]  # fmt: skip

# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def _arr(name: str, x):
    """`x` as an array (Python scalars stay weakly typed); strings, None, ... raise TypeError."""
    if isinstance(x, (Array, Tracer)):
        return x
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"jaxlite.nn.{name}: expected an array, got {type(x).__name__}")
    if isinstance(x, np.ndarray) and x.dtype in dtypes.SUPPORTED_DTYPES:
        return x
    try:
        return jnp.asarray(x)
    except (TypeError, ValueError) as e:
        raise type(e)(f"jaxlite.nn.{name}: {e}") from None


def _float(name: str, x):
    """`x` as an array of a float dtype (ints and bools: `dtypes.to_inexact`, as jnp and JAX)."""
    x = _arr(name, x)
    aval = get_aval(x)
    if aval.dtype.kind != "f":
        dt = dtypes.to_inexact(aval.dtype)
        x = lax.convert_element_type_p.bind(x, new_dtype=dt, weak_type=aval.weak_type)
    return x


def _const(v, like):
    """A constant of `like`'s shape and dtype."""
    aval = get_aval(like)
    return lax.broadcast_in_dim(_wrap(np.asarray(v, aval.dtype)), aval.shape, ())


def _axes(name: str, axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"jaxlite.nn.{name}: axis {a} is out of range for rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"jaxlite.nn.{name}: repeated axis in {axis}")
    return tuple(sorted(out))


def _keep(r, shape, axes):
    """Broadcasts a reduction over `axes` back to `shape` (NumPy's keepdims, then broadcast)."""
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return lax.broadcast_in_dim(r, shape, kept)


def _mask(name: str, where, shape):
    """A boolean `where=` mask broadcast to `shape`."""
    where = _arr(name, where)
    if get_aval(where).dtype != dtypes.bool_:
        where = lax.ne(where, _const(0, where))
    return _bcast_to(name, where, shape)


def _bcast_to(name: str, x, shape):
    """`x` broadcast to `shape` with NumPy's rules."""
    xs = get_aval(x).shape
    if xs == shape:
        return x
    try:
        np.broadcast_shapes(xs, shape)
    except ValueError:
        raise ValueError(f"jaxlite.nn.{name}: shape {xs} does not broadcast to {shape}") from None
    lead = len(shape) - len(xs)
    keep = [i for i, d in enumerate(xs) if d == shape[lead + i]]
    x = lax.reshape(x, tuple(xs[i] for i in keep))
    return lax.broadcast_in_dim(x, shape, tuple(lead + i for i in keep))


# ------------------------------------------------------------------------------------------
# Activations
# ------------------------------------------------------------------------------------------


def identity(x):
    """Returns `x` (as an array)."""
    return _arr("identity", x)


@custom_jvp
def _relu(x):
    return lax.max(x, _const(0, x))


# The derivative at the kink is 0, as in JAX (see https://dl.acm.org/doi/10.5555/3540261.3540297)
_relu.defjvps(lambda g, ans, x: lax.select(lax.gt(x, _const(0, x)), g, _const(0, g)))


def relu(x):
    """Rectified linear unit, `max(x, 0)`; its derivative at 0 is 0 (a custom_jvp, as in JAX).

    Example:
      >>> jaxlite.nn.relu(jnp.array([-1.0, 0.0, 2.0]))
      Array([0., 0., 2.], dtype=float32)
    """
    return _relu(_arr("relu", x))


@custom_jvp
def _relu6(x):
    return lax.min(lax.max(x, _const(0, x)), _const(6, x))


def _relu6_jvp(g, ans, x):
    inside = lax.bitwise_and(lax.gt(x, _const(0, x)), lax.lt(x, _const(6, x)))
    return lax.select(inside, g, _const(0, g))


_relu6.defjvps(_relu6_jvp)


def relu6(x):
    """`min(max(x, 0), 6)`; its derivative is 0 at both kinks, 0 and 6 (as in JAX)."""
    return _relu6(_arr("relu6", x))


def sigmoid(x):
    """The logistic function `1 / (1 + exp(-x))`, stable for large `|x|`."""
    return lax.logistic(_float("sigmoid", x))


def softplus(x):
    """`log(1 + exp(x))`, as `x + log1p(exp(-x))` for `x > 0`: it never overflows, and its
    gradient is `sigmoid(x)` everywhere (0.5 at 0, as in JAX)."""
    x = _float("softplus", x)
    pos = lax.gt(x, _const(0, x))
    # NB: each branch only sees inputs of its own sign, so the branch that is not selected
    # cannot overflow and send a NaN through the gradient (the "double where" trick).
    xp = lax.select(pos, x, _const(0, x))
    xn = lax.select(pos, _const(0, x), x)
    big = lax.add(xp, lax.log1p(lax.exp(lax.neg(xp))))
    return lax.select(pos, big, lax.log1p(lax.exp(xn)))


def log_sigmoid(x):
    """`log(sigmoid(x)) = -softplus(-x)`, stable for large `|x|`."""
    return lax.neg(softplus(lax.neg(_float("log_sigmoid", x))))


def silu(x):
    """SiLU (swish): `x * sigmoid(x)`."""
    x = _float("silu", x)
    return lax.mul(x, lax.logistic(x))


swish = silu


def tanh(x):
    """Hyperbolic tangent."""
    return lax.tanh(_float("tanh", x))


def gelu(x, approximate: bool = True):
    """Gaussian error linear unit.

    Args:
      x: input array.
      approximate: if True (the default, as JAX), use the tanh approximation
        `x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`; else the exact `x * Phi(x)`.
    """
    x = _float("gelu", x)
    dt = get_aval(x).dtype
    if approximate:
        c = _wrap(np.asarray(np.sqrt(2 / np.pi), dt))
        inner = lax.mul(c, lax.add(x, lax.mul(0.044715, lax.integer_pow(x, 3))))
        return lax.mul(x, lax.mul(0.5, lax.add(1.0, lax.tanh(inner))))
    # x * Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2
    cdf = lax.mul(0.5, lax.add(1.0, lax.erf(lax.mul(x, _wrap(np.asarray(np.sqrt(0.5), dt))))))
    return lax.mul(x, cdf)


def elu(x, alpha=1.0):
    """Exponential linear unit: `x` if `x > 0`, else `alpha * (exp(x) - 1)`."""
    x = _float("elu", x)
    pos = lax.gt(x, _const(0, x))
    safe = lax.select(pos, _const(0, x), x)  # keeps exp from overflowing in the unused branch
    return lax.select(pos, x, lax.mul(lax.expm1(safe), alpha))


def leaky_relu(x, negative_slope=1e-2):
    """`x` if `x >= 0`, else `negative_slope * x`."""
    x = _float("leaky_relu", x)
    return lax.select(lax.ge(x, _const(0, x)), x, lax.mul(x, negative_slope))


# ------------------------------------------------------------------------------------------
# Softmax and reductions in log space
# ------------------------------------------------------------------------------------------


def _max_keep(x, axes, where):
    shape = get_aval(x).shape
    if where is not None:
        x = lax.select(where, x, _const(-np.inf, x))
    return x, _keep(lax.reduce_max(x, axes), shape, axes)


def _sum_keep(x, axes, where):
    if where is not None:
        x = lax.select(where, x, _const(0, x))
    return _keep(lax.reduce_sum(x, axes), get_aval(x).shape, axes)


def log_softmax(x, axis=-1, where=None):
    """`x - logsumexp(x, axis)`, stable for large logits.

    Args:
      x: input array.
      axis: an int, a tuple of ints, or None (all axes). Default -1.
      where: optional boolean mask of the elements to include; masked-out outputs are -inf.
    """
    x = _float("log_softmax", x)
    shape = get_aval(x).shape
    axes = _axes("log_softmax", axis, len(shape))
    mask = None if where is None else _mask("log_softmax", where, shape)
    x_safe, x_max = _max_keep(x, axes, mask)
    shifted = lax.sub(x_safe, lax.stop_gradient(x_max))
    out = lax.sub(shifted, lax.log(_sum_keep(lax.exp(shifted), axes, mask)))
    return out if mask is None else lax.select(mask, out, _const(-np.inf, out))


def softmax(x, axis=-1, where=None):
    """`exp(x) / sum(exp(x), axis)`, computed from `x - max(x)` so it never overflows.

    Args:
      x: input array.
      axis: an int, a tuple of ints, or None (all axes). Default -1.
      where: optional boolean mask of the elements to include; masked-out outputs are 0.

    Example:
      >>> jaxlite.nn.softmax(jnp.array([1000.0, 1000.0]))
      Array([0.5, 0.5], dtype=float32)
    """
    x = _float("softmax", x)
    shape = get_aval(x).shape
    axes = _axes("softmax", axis, len(shape))
    mask = None if where is None else _mask("softmax", where, shape)
    x_safe, x_max = _max_keep(x, axes, mask)
    unnormalized = lax.exp(lax.sub(x_safe, lax.stop_gradient(x_max)))
    out = lax.div(unnormalized, _sum_keep(unnormalized, axes, mask))
    return out if mask is None else lax.select(mask, out, _const(0, out))


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False, where=None):
    """`log(sum(b * exp(a), axis))`, stable for large inputs and exact with `-inf` entries.

    Args:
      a: input array.
      axis: an int, a tuple of ints, or None (all axes, the default).
      b: optional scale factors, broadcast to `a`'s shape.
      keepdims: keep the reduced axes with size 1.
      return_sign: also return the sign of the sum (then the result is `log|sum|`).
      where: optional boolean mask of the elements to include.

    Returns:
      The result, or `(result, sign)` if `return_sign`.
    """
    a = _float("logsumexp", a)
    shape = get_aval(a).shape
    axes = _axes("logsumexp", axis, len(shape))
    mask = None if where is None else _mask("logsumexp", where, shape)
    if b is not None:
        b = _float("logsumexp", b)
        ba, aa = get_aval(b), get_aval(a)
        dt, _ = dtypes.result_type((aa.dtype, aa.weak_type), (ba.dtype, ba.weak_type))
        a, b = _cast(a, dt), _bcast_to("logsumexp", _cast(b, dt), shape)
        a = lax.select(lax.ne(b, _const(0, b)), a, _const(-np.inf, a))
    if mask is not None:
        a = lax.select(mask, a, _const(-np.inf, a))
    a_max = lax.reduce_max(a, axes)
    # an infinite (or empty) maximum is replaced by 0, so -inf entries give exp(-inf) = 0
    a_max = lax.stop_gradient(lax.select(lax.is_finite(a_max), a_max, _const(0, a_max)))
    e = lax.exp(lax.sub(a, _keep(a_max, shape, axes)))
    if b is not None:
        e = lax.mul(e, b)
    total = lax.reduce_sum(e, axes)
    sign = lax.sign(total)
    magnitude = lax.abs(total) if (return_sign or b is not None) else total
    out = lax.add(lax.log(magnitude), a_max)
    if b is not None and not return_sign:
        out = lax.select(lax.lt(sign, _const(0, sign)), _const(np.nan, out), out)
    if keepdims:
        out = lax.expand_dims(out, axes)
        sign = lax.expand_dims(sign, axes)
    return (out, sign) if return_sign else out


def _cast(x, dt):
    return x if get_aval(x).dtype == dt else lax.convert_element_type(x, dt)


# ------------------------------------------------------------------------------------------
# Encoding and normalization
# ------------------------------------------------------------------------------------------


def one_hot(x, num_classes: int, *, dtype=None, axis: int = -1):
    """One-hot encodes integer indices; indices outside `[0, num_classes)` give all zeros.

    Args:
      x: an integer array of indices.
      num_classes: the length of the one-hot axis (a Python int).
      dtype: the output dtype. Default the default float (float32; float64 with x64).
      axis: where the new axis goes. Default -1.

    Example:
      >>> jaxlite.nn.one_hot(jnp.array([0, 2]), 3, dtype=jnp.float32)
      Array([[1., 0., 0.],
             [0., 0., 1.]], dtype=float32)
    """
    x = _arr("one_hot", x)
    if not isinstance(num_classes, int) and not hasattr(num_classes, "__index__"):
        raise TypeError(f"jaxlite.nn.one_hot: num_classes must be an int, got {num_classes!r}")
    num_classes = operator.index(num_classes)
    dt = dtypes.default_float_dtype() if dtype is None else dtypes.user_dtype(dtype, "one_hot")
    aval = get_aval(x)
    out_axis = _axes("one_hot", axis, aval.ndim + 1)[0]
    shape = aval.shape[:out_axis] + (num_classes,) + aval.shape[out_axis:]
    kept = tuple(i for i in range(len(shape)) if i != out_axis)
    xb = lax.broadcast_in_dim(x, shape, kept)
    classes = lax.broadcasted_iota(aval.dtype, shape, out_axis)
    return lax.convert_element_type(lax.eq(xb, classes), dt)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None):
    """`(x - mean) / sqrt(variance + epsilon)` along `axis` (JAX's "fast" variance).

    Args:
      x: input array.
      axis: an int, a tuple of ints, or None. Default -1.
      mean, variance: optional precomputed statistics (broadcastable to `x`); default: the
        mean of `x` and `mean(x**2) - mean(x)**2` (clipped at 0), over `axis`.
      epsilon: added to the variance. Default 1e-5.
      where: optional boolean mask of the elements the statistics are computed from.
    """
    x = _float("standardize", x)
    shape = get_aval(x).shape
    axes = _axes("standardize", axis, len(shape))
    mask = None if where is None else _mask("standardize", where, shape)
    count = math.prod(shape[a] for a in axes)
    if mask is None:
        n = _const(count, x)
    else:
        n = _sum_keep(lax.convert_element_type(mask, get_aval(x).dtype), axes, None)

    def mean_of(v):
        return lax.div(_sum_keep(v, axes, mask), n)

    def given(v):
        return _bcast_to("standardize", _cast(_float("standardize", v), get_aval(x).dtype), shape)

    m = mean_of(x) if mean is None else given(mean)
    if variance is None:
        var = lax.sub(mean_of(lax.integer_pow(x, 2)), lax.integer_pow(m, 2))
        var = lax.max(var, _const(0, var))  # the one-pass variance may round below 0
    else:
        var = given(variance)
    eps = epsilon if isinstance(epsilon, (int, float)) else given(epsilon)
    return lax.mul(lax.sub(x, m), lax.rsqrt(lax.add(var, eps)))


core.name_api("jaxlite.nn.", {name: globals()[name] for name in __all__})  # error messages
