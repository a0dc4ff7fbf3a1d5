"""`jaxlite.optim`: optimizers with optax's interface, `GradientTransformation(init, update)`.

`init(params) -> state` and `update(grads, state, params) -> (updates, state)` are pure functions
of pytrees, so a training step can be `jit`-compiled whole; `apply_updates(params, updates)`
adds the updates. The update formulas are optax's, operation for operation.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import dtypes, tree_util
from jaxlite import primitives as lax
from jaxlite.array import Array, _wrap
from jaxlite.core import Tracer, get_aval

__all__ = [
    "GradientTransformation", "EmptyState", "identity", "chain", "apply_updates", "global_norm",
    "clip_by_global_norm", "scale", "scale_by_learning_rate", "scale_by_schedule", "trace",
    "scale_by_adam", "scale_by_rms", "scale_by_stddev", "add_decayed_weights", "sgd", "adam",
    "adamw", "rmsprop", "constant_schedule", "polynomial_schedule", "linear_schedule",
    "exponential_decay", "cosine_decay_schedule", "join_schedules",
    "warmup_cosine_decay_schedule", "warmup_exponential_decay_schedule",
]  # fmt: skip

Params = Any
Updates = Any
Schedule = Callable[[Any], Any]


class GradientTransformation(NamedTuple):
    """A pair of pure functions: `init(params) -> state`, `update(updates, state, params=None)
    -> (new_updates, new_state)`."""

    init: Callable
    update: Callable


class EmptyState(NamedTuple):
    """The state of a stateless transformation."""


# ------------------------------------------------------------------------------------------
# Helpers on leaves and trees
# ------------------------------------------------------------------------------------------


def _tmap(f, tree, *rest):
    return tree_util.tree_map(f, tree, *rest)


def _dtype(x) -> np.dtype:
    return get_aval(x).dtype


def _asarray(x):
    if isinstance(x, (Array, Tracer, np.ndarray)):
        return x
    return _wrap(np.asarray(x))


def _zeros_like(x, dtype=None):
    aval = get_aval(x)
    return _wrap(np.zeros(aval.shape, dtype or aval.dtype))


def _full_like(x, v):
    aval = get_aval(x)
    return _wrap(np.full(aval.shape, v, aval.dtype))


def _cast(x, dtype):
    x = _asarray(x)
    return x if _dtype(x) == dtype else lax.convert_element_type(x, dtype)


def _f64(x):
    """A step count or hyperparameter as float64 (Python numbers stay exact)."""
    if isinstance(x, (int, float, np.number)):
        return _wrap(np.asarray(x, np.float64))
    return _cast(x, dtypes.float64)


def _safe_increment(count):
    """`count + 1`, saturating at the int32 maximum instead of wrapping (optax's counter)."""
    big = np.iinfo(np.int32).max
    return lax.select(lax.lt(count, big), lax.add(count, 1), lax.max(count, big))


def _zero_count():
    return _wrap(np.zeros((), np.int32))


def _update_moment(g, t, decay, order: int):
    """Exponential moving average of `g ** order`: `(1 - decay) * g**order + decay * t`."""
    return lax.add(lax.mul(1 - decay, lax.integer_pow(g, order)), lax.mul(decay, t))


def _bias_correction(t, decay, count):
    """`t / (1 - decay**count)`; the power is taken in float64, then cast (as optax)."""
    correction = lax.sub(1.0, lax.pow(_f64(decay), _f64(count)))
    return lax.div(t, _cast(correction, _dtype(t)))


# ------------------------------------------------------------------------------------------
# Combinators
# ------------------------------------------------------------------------------------------


def identity() -> GradientTransformation:
    """Leaves the updates unchanged."""
    return GradientTransformation(lambda params: EmptyState(), lambda u, s, p=None: (u, s))


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Applies `transforms` in order; the state is the tuple of their states.

    Example:
      >>> opt = chain(clip_by_global_norm(1.0), scale_by_adam(), scale_by_learning_rate(1e-3))
    """

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None):
        if len(state) != len(transforms):
            raise ValueError(
                f"chain: the state has {len(state)} entries for {len(transforms)} transforms; "
                "was it made by this optimizer's init?"
            )
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def apply_updates(params: Params, updates: Updates) -> Params:
    """`params + updates` leaf by leaf (in their promoted dtype), keeping each param's dtype."""

    def add(p, u):
        p, u = _asarray(p), _asarray(u)
        dt, _ = dtypes.result_type((_dtype(p), False), (_dtype(u), False))
        return _cast(lax.add(_cast(p, dt), _cast(u, dt)), _dtype(p))

    return _tmap(add, params, updates)


# ------------------------------------------------------------------------------------------
# Gradient transformations
# ------------------------------------------------------------------------------------------


def global_norm(updates: Updates):
    """The 2-norm of all the leaves of `updates` taken together."""
    sums = [
        lax.reduce_sum(lax.integer_pow(u, 2), tuple(range(get_aval(u).ndim)))
        for u in tree_util.tree_leaves(updates)
    ]
    if not sums:
        return _wrap(np.zeros((), np.float32))
    dt, _ = dtypes.result_type(*[(_dtype(s), False) for s in sums])
    total = _cast(sums[0], dt)
    for s in sums[1:]:
        total = lax.add(total, _cast(s, dt))
    return lax.sqrt(total)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scales the updates down so their global norm is at most `max_norm`."""

    def update(updates, state, params=None):
        g_norm = global_norm(updates)
        keep = lax.lt(g_norm, _cast(max_norm, _dtype(g_norm)))

        def clip(t):
            return lax.select(keep, t, lax.mul(lax.div(t, _cast(g_norm, _dtype(t))), max_norm))

        return _tmap(clip, updates), state

    return GradientTransformation(lambda params: EmptyState(), update)


def scale(step_size) -> GradientTransformation:
    """Multiplies the updates by a constant `step_size`."""

    def update(updates, state, params=None):
        return _tmap(lambda g: lax.mul(g, _cast(step_size, _dtype(g))), updates), state

    return GradientTransformation(lambda params: EmptyState(), update)


class ScaleByScheduleState(NamedTuple):
    count: Any


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """Multiplies the updates by `step_size_fn(count)`, the count starting at 0."""

    def update(updates, state, params=None):
        step = step_size_fn(state.count)
        updates = _tmap(lambda g: lax.mul(_cast(step, _dtype(g)), g), updates)
        return updates, ScaleByScheduleState(_safe_increment(state.count))

    return GradientTransformation(lambda params: ScaleByScheduleState(_zero_count()), update)


def scale_by_learning_rate(learning_rate, *, flip_sign: bool = True) -> GradientTransformation:
    """Multiplies by `-learning_rate` (a number or a schedule of the step count)."""
    m = -1 if flip_sign else 1
    if callable(learning_rate):
        return scale_by_schedule(lambda count: lax.mul(m, _f64(learning_rate(count))))
    return scale(m * learning_rate)


class TraceState(NamedTuple):
    trace: Any


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum: `t = g + decay * t`; the update is `t` (or `g + decay * t` with Nesterov)."""

    def f(g, t):
        return lax.add(g, lax.mul(decay, t))

    def update(updates, state, params=None):
        new_trace = _tmap(f, updates, state.trace)
        updates = _tmap(f, updates, new_trace) if nesterov else new_trace
        return updates, TraceState(new_trace)

    return GradientTransformation(lambda params: TraceState(_tmap(_zeros_like, params)), update)


class ScaleByAdamState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


def scale_by_adam(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0
) -> GradientTransformation:
    """Adam's rescaling: bias-corrected first moment over the root of the second moment."""

    def init(params):
        zeros = _tmap(_zeros_like, params)
        return ScaleByAdamState(_zero_count(), zeros, _tmap(_zeros_like, params))

    def update(updates, state, params=None):
        mu = _tmap(lambda g, t: _update_moment(g, t, b1, 1), updates, state.mu)
        nu = _tmap(lambda g, t: _update_moment(g, t, b2, 2), updates, state.nu)
        count = _safe_increment(state.count)
        mu_hat = _tmap(lambda t: _bias_correction(t, b1, count), mu)
        nu_hat = _tmap(lambda t: _bias_correction(t, b2, count), nu)
        updates = _tmap(
            lambda m, v: lax.div(m, lax.add(lax.sqrt(lax.add(v, eps_root)), eps)), mu_hat, nu_hat
        )
        return updates, ScaleByAdamState(count, mu, nu)

    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    nu: Any


def scale_by_rms(
    decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0
) -> GradientTransformation:
    """RMSProp's rescaling: `g / sqrt(nu + eps)` with `nu` the moving average of `g**2`."""

    def update(updates, state, params=None):
        nu = _tmap(lambda g, t: _update_moment(g, t, decay, 2), updates, state.nu)
        updates = _tmap(lambda g, n: lax.mul(lax.rsqrt(lax.add(n, eps)), g), updates, nu)
        return updates, ScaleByRmsState(nu)

    def init(params):
        return ScaleByRmsState(_tmap(lambda p: _full_like(p, initial_scale), params))

    return GradientTransformation(init, update)


class ScaleByRStdDevState(NamedTuple):
    mu: Any
    nu: Any


def scale_by_stddev(
    decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0
) -> GradientTransformation:
    """Centered RMSProp: `g / sqrt(nu - mu**2 + eps)` with moving averages of `g` and `g**2`."""

    def update(updates, state, params=None):
        mu = _tmap(lambda g, t: _update_moment(g, t, decay, 1), updates, state.mu)
        nu = _tmap(lambda g, t: _update_moment(g, t, decay, 2), updates, state.nu)

        def rescale(g, m, n):
            return lax.mul(lax.rsqrt(lax.add(lax.sub(n, lax.integer_pow(m, 2)), eps)), g)

        return _tmap(rescale, updates, mu, nu), ScaleByRStdDevState(mu, nu)

    def init(params):
        zeros = _tmap(_zeros_like, params)
        return ScaleByRStdDevState(zeros, _tmap(lambda p: _full_like(p, initial_scale), params))

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float = 0.0, mask=None) -> GradientTransformation:
    """Adds `weight_decay * params` to the updates (decoupled weight decay, as in AdamW).

    Args:
      weight_decay: the decay strength (a number).
      mask: optional pytree of bools with the structure of the params (or a function of the
        params returning one): True where the decay applies.
    """

    def update(updates, state, params=None):
        if params is None:
            raise ValueError(
                "add_decayed_weights needs the params: call update(grads, state, params)"
            )
        m = mask(params) if callable(mask) else mask

        def decay(g, p, on=True):
            return lax.add(g, lax.mul(weight_decay, _cast(p, _dtype(g)))) if on else g

        if m is None:
            return _tmap(decay, updates, params), state
        return _tmap(decay, updates, params, m), state

    return GradientTransformation(lambda params: EmptyState(), update)


# ------------------------------------------------------------------------------------------
# Optimizers
# ------------------------------------------------------------------------------------------


def sgd(learning_rate, momentum: float | None = None, nesterov: bool = False):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Args:
      learning_rate: a number or a schedule (a function of the step count).
      momentum: the momentum decay, or None for plain SGD.
      nesterov: use Nesterov momentum.

    Example:
      >>> opt = jaxlite.optim.sgd(0.1, momentum=0.9)
      >>> state = opt.init(params)
      >>> updates, state = opt.update(grads, state)
      >>> params = jaxlite.optim.apply_updates(params, updates)
    """
    first = trace(momentum, nesterov) if momentum is not None else identity()
    return chain(first, scale_by_learning_rate(learning_rate))


def adam(
    learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0
) -> GradientTransformation:
    """Adam (Kingma and Ba, 2014).

    Args:
      learning_rate: a number or a schedule.
      b1, b2: decay rates of the first and second moments.
      eps: added to the denominator outside the square root.
      eps_root: added to the second moment inside the square root.
    """
    return chain(scale_by_adam(b1, b2, eps, eps_root), scale_by_learning_rate(learning_rate))


def adamw(
    learning_rate,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    weight_decay: float = 1e-4,
    mask=None,
):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019); the decay is scaled by
    the learning rate, as in optax and PyTorch."""
    return chain(
        scale_by_adam(b1, b2, eps, eps_root),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )


def rmsprop(
    learning_rate,
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    centered: bool = False,
    momentum: float | None = None,
    nesterov: bool = False,
):
    """RMSProp (Hinton), optax's variant: `eps` is added inside the square root."""
    rescale = scale_by_stddev if centered else scale_by_rms
    return chain(
        rescale(decay, eps, initial_scale),
        scale_by_learning_rate(learning_rate),
        trace(momentum, nesterov) if momentum is not None else identity(),
    )


# ------------------------------------------------------------------------------------------
# Learning-rate schedules: functions of the step count (a Python int or an int array)
# ------------------------------------------------------------------------------------------


def constant_schedule(value) -> Schedule:
    """Always `value`."""
    return lambda count: value


def polynomial_schedule(
    init_value, end_value, power, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    """From `init_value` to `end_value` as `(1 - t/T)**power`, over `transition_steps` steps
    starting at `transition_begin`."""
    if transition_steps <= 0:
        return lambda count: init_value
    transition_begin = max(transition_begin, 0)

    def schedule(count):
        t = lax.clamp(0.0, lax.sub(_f64(count), float(transition_begin)), float(transition_steps))
        frac = lax.sub(1.0, lax.div(t, float(transition_steps)))
        if isinstance(power, int):
            shaped = lax.integer_pow(frac, power)
        else:
            shaped = lax.pow(frac, _f64(power))
        return lax.add(lax.mul(lax.sub(_f64(init_value), _f64(end_value)), shaped), _f64(end_value))

    return schedule


def linear_schedule(
    init_value, end_value, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    """Linear interpolation from `init_value` to `end_value` over `transition_steps` steps."""
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def exponential_decay(
    init_value,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value=None,
) -> Schedule:
    """`init_value * decay_rate ** ((count - transition_begin) / transition_steps)`.

    Args:
      init_value: the value before and at `transition_begin`.
      transition_steps: steps per factor of `decay_rate`.
      decay_rate: the decay factor.
      transition_begin: the step the decay starts at.
      staircase: decay in whole steps (`floor` of the exponent).
      end_value: a bound the value stops at (a lower bound when `decay_rate < 1`).
    """
    if transition_steps <= 0 or decay_rate == 0:
        return lambda count: init_value
    transition_begin = max(transition_begin, 0)

    def schedule(count):
        elapsed = lax.sub(_f64(count), float(transition_begin))
        p = lax.div(elapsed, float(transition_steps))
        if staircase:
            p = lax.floor(p)
        decayed = lax.mul(_f64(init_value), lax.pow(_f64(decay_rate), p))
        value = lax.select(lax.le(elapsed, 0.0), _f64(init_value), decayed)
        if end_value is not None:
            bound = lax.max if decay_rate < 1 else lax.min
            value = bound(value, _f64(end_value))
        return value

    return schedule


def cosine_decay_schedule(
    init_value, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0
) -> Schedule:
    """Cosine decay from `init_value` to `alpha * init_value` over `decay_steps` steps."""
    if not decay_steps > 0:
        raise ValueError(f"cosine_decay_schedule needs decay_steps > 0, got {decay_steps}")

    def schedule(count):
        t = lax.min(_f64(count), float(decay_steps))
        cosine = lax.mul(0.5, lax.add(1.0, lax.cos(lax.mul(math.pi / decay_steps, t))))
        shaped = cosine if exponent == 1.0 else lax.pow(cosine, _f64(exponent))
        return lax.mul(_f64(init_value), lax.add(lax.mul(1 - alpha, shaped), alpha))

    return schedule


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Runs `schedules[i + 1]` from step `boundaries[i]` on, with its count restarted at 0."""
    if len(boundaries) != len(schedules) - 1:
        raise ValueError("join_schedules: need one boundary fewer than schedules")

    def schedule(step):
        out = _f64(schedules[0](step))
        for boundary, sched in zip(boundaries, schedules[1:]):
            later = _f64(sched(lax.sub(_f64(step), float(boundary))))
            out = lax.select(lax.lt(_f64(step), float(boundary)), out, later)
        return out

    return schedule


def warmup_cosine_decay_schedule(
    init_value,
    peak_value,
    warmup_steps: int,
    decay_steps: int,
    end_value=0.0,
    exponent: float = 1.0,
) -> Schedule:
    """Linear warmup from `init_value` to `peak_value`, then cosine decay to `end_value`;
    `decay_steps` counts the warmup too."""
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    return join_schedules(
        [
            linear_schedule(init_value, peak_value, warmup_steps),
            cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent),
        ],
        [warmup_steps],
    )


def warmup_exponential_decay_schedule(
    init_value,
    peak_value,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value=None,
) -> Schedule:
    """Linear warmup from `init_value` to `peak_value`, then exponential decay."""
    return join_schedules(
        [
            linear_schedule(init_value, peak_value, warmup_steps),
            exponential_decay(
                peak_value, transition_steps, decay_rate, transition_begin, staircase, end_value
            ),
        ],
        [warmup_steps],
    )
