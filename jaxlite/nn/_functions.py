"""`jaxlite.nn`'s functions: activations, softmax and friends, with JAX 0.10's formulas.

Each is written with `jnp`/`lax` ops the way JAX writes it, so dtypes, weak types and the errors on
unsupported dtypes follow JAX's promotion (an int `leaky_relu` is a weak float, `sigmoid` of an
int raises); kinks have JAX's gradients (`relu'(0) == 0`) and the log-space functions are stable.
"""

from __future__ import annotations

import operator

import numpy as np

from jaxlite import dtypes
from jaxlite import numpy as jnp
from jaxlite import primitives as lax
from jaxlite.array import Array
from jaxlite.core import Tracer, get_aval
from jaxlite.custom_derivatives import custom_jvp
from jaxlite.nn._logsumexp import _axes, _const, _keep, logsumexp

# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def _arr(name: str, x):
    """`x` as an array, as JAX's `ensure_arraylike`: arrays and scalars only (a list raises)."""
    if isinstance(x, (Array, Tracer)):
        return x
    if isinstance(x, (np.ndarray, np.generic, bool, int, float, complex)):
        try:
            return jnp.asarray(x)
        except (TypeError, ValueError, OverflowError) as e:
            raise type(e)(f"jaxlite.nn.{name}: {e}") from None
    raise TypeError(
        f"jaxlite.nn.{name} requires ndarray or scalar arguments, got {type(x).__name__}"
    )


def _inexact(name: str, x):
    """`x` in its inexact dtype (`dtypes.to_inexact`, weak type kept): JAX's
    `promote_args_inexact`."""
    x = _arr(name, x)
    aval = get_aval(x)
    if not dtypes.is_inexact(aval.dtype):
        x = lax.convert_element_type_p.bind(
            x, new_dtype=dtypes.to_inexact(aval.dtype), weak_type=aval.weak_type
        )
    return x


def _need_float(name: str, x):
    """JAX's `lax.logistic` (sigmoid, silu) takes floating dtypes only."""
    x = _arr(name, x)
    dt = get_aval(x).dtype
    if not dtypes.is_inexact(dt):
        raise TypeError(
            f"jaxlite.nn.{name}: logistic does not accept dtype {dt}; accepted dtypes are "
            "subtypes of floating (cast the input with .astype(jnp.float32))"
        )
    return x


def _square(x):
    """`jnp.square` as JAX's, which also takes bool (squaring it as int32)."""
    if dtypes.is_bool(get_aval(x).dtype):
        x = x.astype(np.int32)
    return jnp.square(x)


# ------------------------------------------------------------------------------------------
# Activations
# ------------------------------------------------------------------------------------------


def identity(x):
    """Returns `x` (as an array)."""
    return _arr("identity", x)


@custom_jvp
def _relu(x):
    aval = get_aval(x)
    if dtypes.is_bool(aval.dtype) or aval.weak_type:
        return jnp.maximum(x, 0)  # bool with a weak int is an int, as JAX
    return lax.max(x, _const(0, x))  # the eager fast path: x's dtype


# The derivative at the kink is 0, as in JAX (see https://dl.acm.org/doi/10.5555/3540261.3540297)
_relu.defjvps(lambda g, ans, x: lax.select(x > 0, g, jnp.zeros_like(g)))


def relu(x):
    """Rectified linear unit, `max(x, 0)`; its derivative at 0 is 0 (a custom_jvp, as in JAX).

    Example:
      >>> jaxlite.nn.relu(jnp.array([-1.0, 0.0, 2.0]))
      Array([0., 0., 2.], dtype=float32)
    """
    return _relu(_arr("relu", x))


@custom_jvp
def _relu6(x):
    return jnp.minimum(jnp.maximum(x, 0), 6.0)


_relu6.defjvps(lambda g, ans, x: lax.select((x > 0) & (x < 6), g, jnp.zeros_like(g)))


def relu6(x):
    """`min(max(x, 0), 6)`; its derivative is 0 at both kinks, 0 and 6 (as in JAX)."""
    return _relu6(_arr("relu6", x))


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`, a smooth relu (https://arxiv.org/abs/2112.11687)."""
    x, b = _arr("squareplus", x), _arr("squareplus", b)
    return (x + jnp.sqrt(_square(x) + b)) / 2


def softplus(x):
    """`log(1 + exp(x))`, as `logaddexp(x, 0)`: stable, and its gradient at 0 is 0.5."""
    return jnp.logaddexp(_arr("softplus", x), 0)


def sparse_plus(x):
    """0 for `x <= -1`, `(x + 1)**2 / 4` between, `x` for `x >= 1`."""
    x = _arr("sparse_plus", x)
    return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


def soft_sign(x):
    """`x / (|x| + 1)`."""
    x = _arr("soft_sign", x)
    return x / (jnp.abs(x) + 1)


def sigmoid(x):
    """The logistic function `1 / (1 + exp(-x))`, stable for large `|x|` (floats only, as JAX)."""
    return lax.logistic(_need_float("sigmoid", x))


def sparse_sigmoid(x):
    """0 for `x <= -1`, `(x + 1) / 2` between, 1 for `x >= 1` (the derivative of sparse_plus)."""
    return 0.5 * jnp.clip(_arr("sparse_sigmoid", x) + 1.0, 0.0, 2.0)


def silu(x):
    """SiLU (swish): `x * sigmoid(x)`."""
    x = _need_float("silu", x)
    return x * lax.logistic(x)


swish = silu


def mish(x):
    """`x * tanh(softplus(x))` (https://arxiv.org/abs/1908.08681)."""
    x = _arr("mish", x)
    return x * jnp.tanh(softplus(x))


def log_sigmoid(x):
    """`log(sigmoid(x)) = -softplus(-x)`, stable for large `|x|`."""
    return -softplus(-_arr("log_sigmoid", x))


def elu(x, alpha=1.0):
    """Exponential linear unit: `x` if `x > 0`, else `alpha * (exp(x) - 1)`."""
    x = _arr("elu", x)
    # NB: the inner where keeps exp from overflowing in the branch that is not taken (a NaN
    # there would reach the gradient).
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.where(x > 0, 0.0, x)))


def leaky_relu(x, negative_slope=1e-2):
    """`x` if `x >= 0`, else `negative_slope * x`."""
    x = _arr("leaky_relu", x)
    return jnp.where(x >= 0, x, negative_slope * x)


def hard_tanh(x):
    """`x` clipped to `[-1, 1]`."""
    x = _arr("hard_tanh", x)
    return jnp.where(x > 1, 1, jnp.where(x < -1, -1, x))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: `max(x, 0) + alpha * expm1(min(x, 0) / alpha)`."""
    x = _arr("celu", x)
    return jnp.maximum(x, 0.0) + alpha * jnp.expm1(jnp.minimum(x, 0.0) / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled ELU: `scale * elu(x, alpha)` with the self-normalizing constants of
    https://arxiv.org/abs/1706.02515."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6`."""
    return relu6(_arr("hard_sigmoid", x) + 3.0) / 6.0


def hard_silu(x):
    """Hard SiLU (hard swish): `x * hard_sigmoid(x)`."""
    x = _arr("hard_silu", x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def tanh(x):
    """Hyperbolic tangent."""
    return jnp.tanh(_arr("tanh", x))


def gelu(x, approximate: bool = True):
    """Gaussian error linear unit.

    Args:
      x: input array.
      approximate: if True (the default, as JAX), the tanh approximation
        `x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`; else the exact `x * Phi(x)`.
    """
    x = _inexact("gelu", x)
    dt = get_aval(x).dtype
    if approximate:
        c = np.sqrt(2 / np.pi).astype(dt)  # a strong constant: the result is not weak (as JAX)
        return x * (0.5 * (1.0 + jnp.tanh(c * (x + 0.044715 * x**3))))
    # x * Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2
    sqrt_half = np.sqrt(0.5).astype(dt)
    return jnp.asarray(0.5 * x * (1.0 + lax.erf(x * sqrt_half)), dtype=dt)


def glu(x, axis: int = -1):
    """Gated linear unit: the first half of `x` along `axis` times the sigmoid of the second."""
    x = _arr("glu", x)
    size = get_aval(x).shape[axis]
    if size % 2:
        raise ValueError(
            f"jaxlite.nn.glu: axis {axis} has size {size}, which must be divisible by 2"
        )
    x1, x2 = jnp.split(x, 2, axis)
    return x1 * sigmoid(x2)


@custom_jvp
def _log1mexp(x):
    return jnp.where(x < np.log(2.0), jnp.log(-jnp.expm1(-x)), jnp.log1p(-jnp.exp(-x)))


_log1mexp.defjvps(lambda g, ans, x: g / jnp.expm1(x))


def log1mexp(x):
    """`log(1 - exp(-x))`, accurate for small and large `x` (Mächler's split at log 2);
    undefined for `x < 0`."""
    return _log1mexp(_arr("log1mexp", x))


# ------------------------------------------------------------------------------------------
# Softmax and reductions in log space
# ------------------------------------------------------------------------------------------


def _initial(x, where):
    """The max's `initial`: -inf for floats; for integers (JAX casts -inf), the smallest value,
    so an empty or fully masked reduction is defined."""
    dt = get_aval(x).dtype
    if dtypes.is_inexact(dt):
        return -np.inf
    return False if dtypes.is_bool(dt) else dtypes.iinfo(dt).min


def _shifted(name: str, x, axis):
    """`x - max(x, axis)` (the max without gradient) by lax ops: the eager fast path of the
    float softmaxes without a mask, equal to the general jnp path."""
    shape = get_aval(x).shape
    axes = _axes(name, axis, len(shape))
    x_max = _keep(lax.reduce_max(x, axes), shape, axes)
    return lax.sub(x, lax.stop_gradient(x_max)), axes, shape


def log_softmax(x, axis=-1, where=None):
    """`x - logsumexp(x, axis)`, stable for large logits.

    Args:
      x: input array.
      axis: an int, a tuple of ints, or None (all axes). Default -1.
      where: optional boolean mask of the elements to include; masked-out outputs are -inf.
    """
    x = _arr("log_softmax", x)
    if where is None and dtypes.is_inexact(get_aval(x).dtype):
        shifted, axes, shape = _shifted("log_softmax", x, axis)
        total = lax.reduce_sum(lax.exp(shifted), axes)
        return lax.sub(shifted, _keep(lax.log(total), shape, axes))
    x_max = jnp.max(x, axis, where=where, initial=_initial(x, where), keepdims=True)
    x_safe = x if where is None else jnp.where(where, x, -np.inf)
    shifted = x_safe - lax.stop_gradient(x_max)
    out = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis, where=where, keepdims=True))
    return out if where is None else jnp.where(where, out, -np.inf)


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
    x = _arr("softmax", x)
    if where is None and dtypes.is_inexact(get_aval(x).dtype):
        shifted, axes, shape = _shifted("softmax", x, axis)
        unnormalized = lax.exp(shifted)
        return lax.div(unnormalized, _keep(lax.reduce_sum(unnormalized, axes), shape, axes))
    x_max = jnp.max(x, axis, where=where, initial=_initial(x, where), keepdims=True)
    x_safe = x if where is None else jnp.where(where, x, -np.inf)
    unnormalized = jnp.exp(x_safe - lax.stop_gradient(x_max))
    out = unnormalized / jnp.sum(unnormalized, axis, where=where, keepdims=True)
    return out if where is None else jnp.where(where, out, 0)


def logmeanexp(x, axis=None, where=None, keepdims: bool = False):
    """`logsumexp(x, axis) - log(n)`, with `n` the number of elements reduced (those of
    `where`)."""
    x = _arr("logmeanexp", x)
    lse = logsumexp(x, axis=axis, where=where, keepdims=keepdims)
    ones = jnp.ones(get_aval(x).shape, get_aval(lse).dtype)
    count = jnp.sum(ones, axis=axis, where=where, keepdims=keepdims)
    return lse - jnp.log(count)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None, *,
                algorithm: str = "fast"):  # fmt: skip
    """`(x - mean) / sqrt(variance + epsilon)` along `axis`.

    Args:
      x: input array.
      axis: an int, a tuple of ints, or None. Default -1.
      mean, variance: optional precomputed statistics (broadcastable to `x`); by default the
        mean of `x` and its variance over `axis` (of the elements `where` selects).
      epsilon: added to the variance. Default 1e-5.
      where: optional boolean mask of the elements the statistics are computed from.
      algorithm: `"fast"` (the default, as JAX): `mean(x**2) - mean(x)**2`, clipped at 0;
        `"stable"`: the two-pass `mean((x - mean(x))**2)`.
    """
    x = _arr("standardize", x)
    if algorithm not in ("fast", "stable"):
        raise ValueError(
            f"jaxlite.nn.standardize: unknown algorithm {algorithm!r}; expected 'fast' or 'stable'"
        )
    if mean is None:
        mean = jnp.mean(x, axis, keepdims=True, where=where)
    if variance is None:
        if algorithm == "stable":
            variance = jnp.mean(jnp.square(x - mean), axis, keepdims=True, where=where)
        else:
            variance = jnp.mean(_square(x), axis, keepdims=True, where=where)
            variance = jnp.clip(variance - jnp.square(mean), 0)  # may round below 0
    return jnp.subtract(x, mean) * lax.rsqrt(variance + epsilon)


# ------------------------------------------------------------------------------------------
# Encoding
# ------------------------------------------------------------------------------------------


def one_hot(x, num_classes: int, *, dtype=None, axis: int = -1):
    """One-hot encodes integer indices; indices outside `[0, num_classes)` give all zeros.

    Args:
      x: an integer array of indices.
      num_classes: the length of the one-hot axis (a Python int).
      dtype: the output dtype. Default: the default float dtype (float32 unless x64 is on).
      axis: where the new axis goes. Default -1.

    Example:
      >>> jaxlite.nn.one_hot(jnp.array([0, 2]), 3)
      Array([[1., 0., 0.],
             [0., 0., 1.]], dtype=float32)
    """
    if isinstance(num_classes, Tracer):
        raise TypeError(
            "jaxlite.nn.one_hot: num_classes must be a concrete int, got a traced value "
            "(pass it as a static argument)"
        )
    try:
        num_classes = operator.index(num_classes)
    except TypeError:
        raise TypeError(
            f"jaxlite.nn.one_hot: num_classes must be an int, got {num_classes!r}"
        ) from None
    x = jnp.asarray(x)
    aval = get_aval(x)
    if dtypes.is_bool(aval.dtype):
        raise TypeError(
            "jaxlite.nn.one_hot: indices of dtype bool are not accepted (JAX's iota takes "
            "integer and floating dtypes); cast them with .astype(jnp.int32)"
        )
    dt = dtypes.default_float_dtype() if dtype is None else dtypes.user_dtype(dtype, "one_hot")
    ndim = aval.ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"jaxlite.nn.one_hot: axis {axis} is out of range for rank {ndim}")
    axis %= ndim
    shape = aval.shape[:axis] + (num_classes,) + aval.shape[axis:]
    kept = tuple(i for i in range(ndim) if i != axis)
    classes = lax.broadcasted_iota(aval.dtype, shape, axis)
    hot = lax.eq(lax.broadcast_in_dim(x, shape, kept), classes)
    return lax.convert_element_type(hot, dt)
