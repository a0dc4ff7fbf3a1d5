"""Forward-mode autodiff: a JVP trace whose tracers carry a primal and a tangent, symbolic `Zero`
tangents, and one JVP rule per primitive. Rules run on the parent trace and are written with `lax`
ops, so they trace themselves: higher-order derivatives and `jit(grad(f))` need no extra code.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from jaxlite import core, dtypes
from jaxlite import primitives as lax
from jaxlite.array import _wrap
from jaxlite.core import ClosedJaxpr, ShapedArray, Tracer
from jaxlite.interpreters import staging
from jaxlite.primitives import _pooling, _windowed
from jaxlite.primitives import _callback as cb
from jaxlite.primitives._eig import eig_p
from jaxlite.primitives._linalg import triangular_solve_p
from jaxlite.primitives._slicing import prefix_scan

# ------------------------------------------------------------------------------------------
# Tangent values
# ------------------------------------------------------------------------------------------


def tangent_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of a tangent of a `dtype` value: itself for floats, `float0` otherwise (JAX)."""
    return dtype if dtypes.is_inexact(dtype) else dtypes.float0


def tangent_aval(aval: ShapedArray) -> ShapedArray:
    if dtypes.is_inexact(aval.dtype):
        return aval
    return ShapedArray(aval.shape, dtypes.float0, False)


class Zero:
    """A symbolic zero tangent (or cotangent) of abstract value `aval`: costs no computation."""

    __slots__ = ("_aval", "_primal")

    def __init__(self, aval: ShapedArray):
        self._aval = aval

    @property
    def aval(self) -> ShapedArray:
        a = self._aval
        if a is None:
            a = self._aval = tangent_aval(core.get_aval(self._primal))
        return a

    @staticmethod
    def from_primal(x) -> Zero:
        """The zero tangent of the primal `x` (its aval is computed only if asked for)."""
        z = Zero(None)
        z._primal = x
        return z

    def __repr__(self) -> str:
        return f"Zero({self.aval.str_short()})"


def zeros_like_aval(aval: ShapedArray):
    """A zero array of `aval`, built on the current trace (a `float0` aval gives a NumPy array)."""
    if aval.dtype == dtypes.float0:
        return np.zeros(aval.shape, dtypes.float0)
    if core.current_trace() is core.eval_trace:
        return _wrap(np.zeros(aval.shape, aval.dtype), aval.weak_type)
    zero = _wrap(np.zeros((), aval.dtype), aval.weak_type)
    return lax.broadcast_in_dim(zero, aval.shape, ()) if aval.shape else zero


def instantiate_zeros(t):
    """`t`, with a symbolic `Zero` replaced by an array of zeros."""
    return zeros_like_aval(t.aval) if type(t) is Zero else t


def add_tangents(x, y):
    """Sums two tangents of the same shape; `Zero` costs nothing."""
    if type(x) is Zero:
        return y
    if type(y) is Zero:
        return x
    return lax.add_any_p.bind(x, y)


# ------------------------------------------------------------------------------------------
# The trace
# ------------------------------------------------------------------------------------------


def bind_on(trace: core.Trace, prim: core.Primitive, args: Sequence[Any], params: dict):
    """Binds `prim` on `trace` with `trace` as the current trace (rules that bind see it)."""
    # NB: set the context by hand: a contextmanager would cost ~1 us per primitive.
    prev = core.swap_trace(trace)
    try:
        return trace.process_primitive(prim, args, params)
    finally:
        core.swap_trace(prev)


class JVPTracer(Tracer):
    """A value being differentiated: its `primal` (a parent-trace value) and a nonzero `tangent`.

    NB: a value whose tangent is a symbolic zero is not wrapped at all: the trace treats it as a
    constant, as every trace treats values that are not its own tracers.
    """

    __slots__ = ("primal", "tangent", "_aval")

    def __init__(self, trace: JVPTrace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent
        self._aval = None

    @property
    def aval(self) -> ShapedArray:
        a = self._aval
        if a is None:
            a = self._aval = core.get_aval(self.primal)
        return a

    def to_concrete_value(self):
        # As JAX: `if x > 0:` works under eager grad, since the primal is concrete.
        p = self.primal
        return p.to_concrete_value() if isinstance(p, Tracer) else p


class JVPTrace(core.Trace):
    """Runs each primitive's JVP rule on the parent trace.

    Args:
      parent: the trace the primal and tangent computations run on.
      tag: what the user sees in messages ("jvp", "grad of `loss`").
    """

    def __init__(self, parent: core.Trace, tag: str = "jvp"):
        self.parent = parent
        self.tag = tag
        self.description = tag

    def process_primitive(self, prim, args, params):
        tangents = None
        for i, x in enumerate(args):
            if type(x) is JVPTracer and x._trace is self:
                if tangents is None:
                    primals, tangents = list(args), [None] * len(args)
                primals[i] = x.primal
                tangents[i] = x.tangent
        if tangents is None:  # no tangent flows through: compute the primal only
            return bind_on(self.parent, prim, args, params)
        for i, t in enumerate(tangents):
            if t is None:
                x = args[i]
                if isinstance(x, Tracer):
                    core.check_not_escaped(x)
                tangents[i] = Zero.from_primal(x)
        rule = jvp_rules.get(prim)
        if rule is None:
            raise NotImplementedError(
                f"Differentiation rule for '{prim.name}' not implemented (while tracing "
                f"{self.description}). Wrap the computation in jaxlite.custom_jvp or "
                "jaxlite.custom_vjp to give it a derivative, or apply lax.stop_gradient to its "
                "inputs if no derivative is needed."
            )
        prev = core.swap_trace(self.parent)
        try:
            primal_out, tangent_out = rule(primals, tangents, **params)
        finally:
            core.swap_trace(prev)
        if prim.multiple_results:
            return [self.pure(p, t) for p, t in zip(primal_out, tangent_out)]
        if type(tangent_out) is Zero:
            return primal_out
        return JVPTracer(self, primal_out, tangent_out)

    def pure(self, primal, tangent):
        return primal if type(tangent) is Zero else JVPTracer(self, primal, tangent)

    def to_primal_tangent(self, x) -> tuple[Any, Any]:
        """The (primal, tangent) pair of an output: a non-tracer has a `Zero` tangent."""
        if type(x) is JVPTracer and x._trace is self:
            return x.primal, x.tangent
        core.check_not_escaped(x)
        return x, Zero.from_primal(x)


def jvp_flat(
    fun: Callable, primals: Sequence[Any], tangents: Sequence[Any], tag: str = "jvp"
) -> tuple[list, list]:
    """Runs `fun(*flat) -> flat list` forward-differentiated on the current trace.

    Tangents may be `Zero`; output tangents are `Zero` where nothing flowed.
    """
    trace = JVPTrace(core.current_trace(), tag)
    prev = core.swap_trace(trace)  # core.new_trace, without a contextmanager's cost
    try:
        ins = [trace.pure(p, t) for p, t in zip(primals, tangents)]
        outs = fun(*ins)
        pairs = [trace.to_primal_tangent(o) for o in outs]
    finally:
        core.swap_trace(prev)
        trace.finish()
    return [p for p, _ in pairs], [t for _, t in pairs]


def jvp_jaxpr(
    closed: ClosedJaxpr, nonzeros: Sequence[bool], instantiate: bool | Sequence[bool]
) -> tuple[ClosedJaxpr, list[bool]]:
    """The JVP of a closed jaxpr, for call primitives (jit, control flow, checkpoint).

    Args:
      closed: the jaxpr to differentiate.
      nonzeros: for each input, whether its tangent is nonzero (a `Zero` tangent is not passed).
      instantiate: for each output (or one bool for all), whether its tangent must be an
        output even when it is zero. NB: integer and bool outputs are never instantiated (their
        tangent is always a symbolic `float0` zero): read `out_nonzeros`.

    Returns:
      `(jvp_closed, out_nonzeros)`: `jvp_closed` takes `(*primals, *nonzero_tangents)` and
      returns `(*primal_outs, *tangent_outs for which out_nonzeros is True)`.
    """
    n_out = len(closed.jaxpr.outvars)
    if isinstance(instantiate, bool):
        instantiate = [instantiate] * n_out
    in_avals = closed.in_avals
    nz_avals = [tangent_aval(a) for a, nz in zip(in_avals, nonzeros) if nz]
    out_nonzeros: list[bool] = []

    def fun(*args):
        primals, nz_tangents = args[: len(in_avals)], iter(args[len(in_avals) :])
        tangents = [
            next(nz_tangents) if nz else Zero(tangent_aval(a)) for a, nz in zip(in_avals, nonzeros)
        ]
        f = partial(core.eval_jaxpr, closed.jaxpr, closed.consts)
        p_out, t_out = jvp_flat(f, primals, tangents)
        t_keep = []
        for t, inst, aval in zip(t_out, instantiate, closed.out_avals):
            if type(t) is Zero and inst and dtypes.is_inexact(aval.dtype):
                t = zeros_like_aval(t.aval)
            out_nonzeros.append(type(t) is not Zero)
            if type(t) is not Zero:
                t_keep.append(t)
        return list(p_out) + t_keep

    jvp_closed = staging.trace_to_jaxpr(fun, list(in_avals) + nz_avals, "jvp_jaxpr")
    return jvp_closed, out_nonzeros


# ------------------------------------------------------------------------------------------
# The rule table and its combinators
# ------------------------------------------------------------------------------------------

# Rule signature: rule(primals: list, tangents: list, **params) -> (primal_out, tangent_out),
# with lists for multiple_results primitives. Tangents may be `Zero`. Runs with the parent trace
# as the current trace, so it is written with `lax` ops.
JvpRule = Callable[..., tuple[Any, Any]]
jvp_rules: dict[core.Primitive, JvpRule] = {}

# Rules bind primitives directly: their operands are always arrays or tracers (constants come
# from `_const`), so the lax wrappers' Python-scalar promotion (~0.5 us an op) is not needed.
add, sub, mul, div, neg = (p.bind for p in (lax.add_p, lax.sub_p, lax.mul_p, lax.div_p, lax.neg_p))
add_any = lax.add_any_p.bind
_CONSTS: dict = {}


def _const(x, value):
    """A weakly typed 0-d constant of `x`'s dtype (cached: rules use the same few values)."""
    dt = x.dtype
    c = _CONSTS.get((value, dt))
    if c is None:
        c = _CONSTS[(value, dt)] = _wrap(np.asarray(value, dt), True)
    return c


def _full_like(x, value):
    """An array of `x`'s shape and dtype filled with the Python scalar `value`."""
    aval = core.get_aval(x)
    scalar = _wrap(np.asarray(value, aval.dtype), aval.weak_type)
    return lax.broadcast_in_dim(scalar, aval.shape, ()) if aval.shape else scalar


def _broadcast_to(x, shape: tuple[int, ...]):
    """A rank-0 value broadcast to `shape` (lax ops broadcast rank-0 operands implicitly)."""
    if x.shape == shape:
        return x
    return lax.broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=())


def _sum_tangents(ans, contributions: list):
    """The tangent of `ans` from per-input contributions (rank-0 ones are broadcast)."""
    if not contributions or not dtypes.is_inexact(ans.dtype):
        return Zero.from_primal(ans)
    shape = ans.shape
    out = None
    for c in contributions:
        c = _broadcast_to(c, shape)
        out = c if out is None else add_any(out, c)
    return out


def _standard_jvp(prim, fns, primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    contribs = [
        fn(t, *primals, **params)
        for fn, t in zip(fns, tangents)
        if fn is not None and type(t) is not Zero
    ]
    return ans, _sum_tangents(ans, contribs)


def _standard_jvp2(prim, fns, primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    contribs = [
        fn(t, ans, *primals, **params)
        for fn, t in zip(fns, tangents)
        if fn is not None and type(t) is not Zero
    ]
    return ans, _sum_tangents(ans, contribs)


def _unary_jvp(prim, fn, primals, tangents, **params):
    # One input, so its tangent is nonzero; floating-point only, so no float0 check.
    ans = prim.bind(*primals, **params)
    return ans, fn(tangents[0], *primals, **params)


def _unary_jvp2(prim, fn, primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    return ans, fn(tangents[0], ans, *primals, **params)


def defjvp(prim: core.Primitive, *fns) -> None:
    """One function per input, `fn(g, *primals, **params)` -> that input's contribution to the
    output tangent (`None`: the output does not depend on that input differentiably)."""
    if len(fns) == 1 and fns[0] is not None:
        jvp_rules[prim] = partial(_unary_jvp, prim, fns[0])
    else:
        jvp_rules[prim] = partial(_standard_jvp, prim, fns)


def defjvp2(prim: core.Primitive, *fns) -> None:
    """As `defjvp`, with functions `fn(g, ans, *primals, **params)` that may reuse the output."""
    if len(fns) == 1 and fns[0] is not None:
        jvp_rules[prim] = partial(_unary_jvp2, prim, fns[0])
    else:
        jvp_rules[prim] = partial(_standard_jvp2, prim, fns)


def _linear_jvp(prim, primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    if all(type(t) is Zero for t in tangents):
        return ans, _sum_tangents(ans, [])
    return ans, prim.bind(*map(instantiate_zeros, tangents), **params)


def _unary_linear_jvp(prim, primals, tangents, **params):
    # One input, so its tangent is nonzero.
    return prim.bind(*primals, **params), prim.bind(tangents[0], **params)


def deflinear(prim: core.Primitive, unary: bool = False) -> None:
    """`prim` is linear in all its inputs jointly: its tangent is `prim` of the tangents.
    (`unary`: it has exactly one input, which allows a faster rule.)"""
    jvp_rules[prim] = partial(_unary_linear_jvp if unary else _linear_jvp, prim)


def _linear_in_first_jvp(prim, primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    if type(tangents[0]) is Zero:
        return ans, _sum_tangents(ans, [])
    return ans, prim.bind(tangents[0], *primals[1:], **params)


def deflinear_in_first(prim: core.Primitive) -> None:
    """`prim` is linear in its first input; the others (indices) are not differentiated."""
    jvp_rules[prim] = partial(_linear_in_first_jvp, prim)


def _zero_jvp(prim, primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    if prim.multiple_results:
        return ans, [Zero.from_primal(a) for a in ans]
    return ans, Zero.from_primal(ans)


def defzero(prim: core.Primitive) -> None:
    """`prim` is piecewise constant (or integer-valued): its output tangent is always zero."""
    jvp_rules[prim] = partial(_zero_jvp, prim)


# ------------------------------------------------------------------------------------------
# Elementwise rules (JAX's formulas, with the nonlinear factor computed apart from `g`, so that
# linearize stages one linear op per rule)
# ------------------------------------------------------------------------------------------

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_LOG_2 = math.log(2.0)


def _one_minus_square(x):
    return sub(_const(x, 1), mul(x, x))


deflinear(lax.neg_p, unary=True)
# As JAX: treated as linear (its tangent is rounded like its primal)
deflinear(lax.reduce_precision_p, unary=True)
deflinear(lax.copy_p, unary=True)


def _abs_jvp(g, ans, x):
    if x.dtype.kind == "c":  # as JAX: real(g * conj(x) / |x|), with |x| = 0 replaced by 1
        ans_c = _replace_zero(lax.convert_element_type(ans, x.dtype))
        return lax.real(mul(g, div(lax.conj(x), ans_c)))
    return lax.select_n_p.bind(lax.ge(x, _const(x, 0)), neg(g), g)  # abs'(0) = 1, as in JAX


defjvp2(lax.abs_p, _abs_jvp)
defjvp2(lax.exp_p, lambda g, ans, x: mul(g, ans))
defjvp2(lax.exp2_p, lambda g, ans, x: mul(g, mul(ans, _const(ans, _LOG_2))))
defjvp(lax.log_p, lambda g, x: div(g, x))
defjvp(lax.log1p_p, lambda g, x: div(g, add(x, _const(x, 1))))
defjvp2(lax.expm1_p, lambda g, ans, x: mul(g, add(ans, _const(ans, 1))))
defjvp2(lax.tanh_p, lambda g, ans, x: mul(g, _one_minus_square(ans)))
defjvp2(lax.logistic_p, lambda g, ans, x: mul(g, mul(ans, sub(_const(ans, 1), ans))))
defjvp(lax.sin_p, lambda g, x: mul(g, lax.cos(x)))
defjvp(lax.cos_p, lambda g, x: mul(g, neg(lax.sin(x))))
defjvp2(lax.tan_p, lambda g, ans, x: mul(g, add(_const(ans, 1), mul(ans, ans))))
defjvp(lax.asin_p, lambda g, x: mul(g, lax.rsqrt(_one_minus_square(x))))
defjvp(lax.acos_p, lambda g, x: mul(g, neg(lax.rsqrt(_one_minus_square(x)))))
defjvp(lax.atan_p, lambda g, x: div(g, add(_const(x, 1), mul(x, x))))
defjvp(lax.sinh_p, lambda g, x: mul(g, lax.cosh(x)))
defjvp(lax.cosh_p, lambda g, x: mul(g, lax.sinh(x)))
defjvp(lax.asinh_p, lambda g, x: mul(g, lax.rsqrt(add(mul(x, x), _const(x, 1)))))
defjvp(
    lax.acosh_p,
    lambda g, x: mul(g, lax.rsqrt(mul(sub(x, _const(x, 1)), add(x, _const(x, 1))))),
)
defjvp(lax.atanh_p, lambda g, x: div(g, _one_minus_square(x)))
defjvp2(lax.sqrt_p, lambda g, ans, x: mul(g, div(_const(x, 0.5), ans)))
defjvp2(lax.rsqrt_p, lambda g, ans, x: mul(g, mul(_const(x, -0.5), div(ans, x))))
defjvp2(lax.cbrt_p, lambda g, ans, x: mul(g, mul(_const(x, 1 / 3), lax.integer_pow(ans, -2))))
defjvp(
    lax.erf_p,
    lambda g, x: mul(g, mul(_const(x, _TWO_OVER_SQRT_PI), lax.exp(neg(mul(x, x))))),
)
defjvp2(
    lax.erf_inv_p,
    lambda g, ans, x: mul(g, mul(_const(x, _SQRT_PI_OVER_TWO), lax.exp(mul(ans, ans)))),
)


def _integer_pow_jvp(g, x, *, y):
    if y == 0:
        return _full_like(g, 0)
    if y == 1:
        return g
    factor = x if y == 2 else lax.integer_pow(x, y - 1)
    return mul(g, mul(_const(x, y), factor))


defjvp(lax.integer_pow_p, _integer_pow_jvp)

for _p in (lax.sign_p, lax.floor_p, lax.ceil_p, lax.round_p, lax.not_p, lax.is_finite_p,
           lax.stop_gradient_p):  # fmt: skip
    defzero(_p)


# --- binary ---------------------------------------------------------------------------------

defjvp(lax.add_p, lambda g, x, y: g, lambda g, x, y: g)
defjvp(lax.add_any_p, lambda g, x, y: g, lambda g, x, y: g)
defjvp(lax.sub_p, lambda g, x, y: g, lambda g, x, y: neg(g))
defjvp(lax.mul_p, lambda g, x, y: mul(g, y), lambda g, x, y: mul(x, g))
defjvp(
    lax.div_p,
    lambda g, x, y: div(g, y),
    lambda g, x, y: mul(g, neg(div(div(x, y), y))),  # -x / y^2, without overflowing y^2
)


def _rem_jvp_rhs(g, x, y):
    q = div(x, y)  # rem(x, y) = x - y * trunc(x / y)
    return mul(g, neg(mul(lax.sign(q), lax.floor(lax.abs(q)))))


defjvp(lax.rem_p, lambda g, x, y: g, _rem_jvp_rhs)


def _replace_zero(x):
    """`x` with its zeros replaced by ones (keeps `log(x)` finite where it is multiplied by 0)."""
    return lax.select(lax.eq(x, _const(x, 0)), _full_like(x, 1), x)


defjvp2(
    lax.pow_p,
    lambda g, ans, x, y: mul(g, mul(y, lax.pow_p.bind(x, sub(y, _const(y, 1))))),
    lambda g, ans, x, y: mul(g, mul(lax.log(_replace_zero(x)), ans)),
)


def _balanced_eq(x, ans, y):
    """1 where `x` chose `ans`, halved where `y` did too: ties split the gradient (JAX)."""
    dt = ans.dtype
    x_won = lax.convert_element_type(lax.eq(x, ans), dt)
    y_won = lax.convert_element_type(lax.eq(y, ans), dt)
    return div(x_won, add(y_won, _const(ans, 1)))


defjvp2(
    lax.max_p,
    lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
    lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x)),
)
defjvp2(
    lax.min_p,
    lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
    lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x)),
)


def _atan2_denominator(x, y):
    return add(mul(x, x), mul(y, y))


defjvp(
    lax.atan2_p,
    lambda g, x, y: mul(g, div(y, _atan2_denominator(x, y))),
    lambda g, x, y: mul(g, div(neg(x), _atan2_denominator(x, y))),
)


def _nextafter_jvp(primals, tangents):
    # As JAX, which defines no derivative for nextafter: an error, not a silent zero (the step is
    # a function of x with derivative 1 almost everywhere, so a zero would be wrong).
    if any(type(t) is not Zero for t in tangents):
        raise NotImplementedError(
            "Differentiation rule for 'nextafter' not implemented (as in JAX). Apply "
            "lax.stop_gradient to its inputs if no derivative is needed, or write "
            "x + lax.stop_gradient(lax.nextafter(x, y) - x) for a derivative of 1 in x."
        )
    return _zero_jvp(lax.nextafter_p, primals, tangents)


jvp_rules[lax.nextafter_p] = _nextafter_jvp

for _p in (lax.and_p, lax.or_p, lax.xor_p, lax.shift_left_p,
           lax.shift_right_arithmetic_p, lax.shift_right_logical_p, lax.eq_p, lax.ne_p,
           lax.lt_p, lax.le_p, lax.gt_p, lax.ge_p):  # fmt: skip
    defzero(_p)


# --- selection and conversion ---------------------------------------------------------------


def _select_n_jvp(primals, tangents):
    which, *cases = primals
    ans = lax.select_n_p.bind(which, *cases)
    case_tangents = tangents[1:]
    if all(type(t) is Zero for t in case_tangents):
        return ans, _sum_tangents(ans, [])
    return ans, lax.select_n_p.bind(which, *map(instantiate_zeros, case_tangents))


jvp_rules[lax.select_n_p] = _select_n_jvp


def _masked(mask, g, shape):
    """`g` (broadcast to `shape`) where `mask`, else 0."""
    g = _broadcast_to(g, shape)
    return lax.select(mask, g, _full_like(g, 0))


def _clamp_jvp_lo(g, lo, x, hi):
    return _masked(lax.bitwise_and(lax.gt(lo, x), lax.lt(lo, hi)), g, x.shape)


def _clamp_jvp_x(g, lo, x, hi):
    return _masked(lax.bitwise_and(lax.gt(x, lo), lax.lt(x, hi)), g, x.shape)


def _clamp_jvp_hi(g, lo, x, hi):
    return _masked(lax.lt(hi, x), g, x.shape)


# As JAX: at a tie with a bound, no input gets the gradient.
defjvp(lax.clamp_p, _clamp_jvp_lo, _clamp_jvp_x, _clamp_jvp_hi)


def _convert_jvp(primals, tangents, **params):
    ans = lax.convert_element_type_p.bind(*primals, **params)
    if not dtypes.is_inexact(ans.dtype):  # float -> int or bool: piecewise constant
        return ans, Zero.from_primal(ans)
    return ans, lax.convert_element_type_p.bind(tangents[0], **params)


jvp_rules[lax.convert_element_type_p] = _convert_jvp
defzero(lax.bitcast_convert_type_p)


# ------------------------------------------------------------------------------------------
# Reductions and cumulative ops
# ------------------------------------------------------------------------------------------

deflinear(lax.reduce_sum_p, unary=True)
# complex (issue 21): real, imag and conj are linear (over the reals), complex jointly linear
deflinear(lax.real_p, unary=True)
deflinear(lax.imag_p, unary=True)
deflinear(lax.conj_p, unary=True)
deflinear(lax.complex_p)
deflinear(lax.fft_p, unary=True)
deflinear(lax.cumsum_p, unary=True)
for _p in (lax.reduce_and_p, lax.reduce_or_p, lax.argmax_p, lax.argmin_p, lax.iota_p):
    defzero(_p)


def _kept_dims(ndim: int, axes) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i not in axes)


def _reduce_chooser_jvp(g, ans, x, *, axes):
    # As JAX: the gradient is shared equally between all the locations of the extremum.
    shape = x.shape
    expanded = lax.broadcast_in_dim(ans, shape, _kept_dims(len(shape), axes))
    loc = lax.convert_element_type(lax.eq(x, expanded), g.dtype)
    counts = lax.reduce_sum(loc, axes)
    return div(lax.reduce_sum(mul(g, loc), axes), counts)


defjvp2(lax.reduce_max_p, _reduce_chooser_jvp)
defjvp2(lax.reduce_min_p, _reduce_chooser_jvp)


def _exclusive_cumprod(x, axis: int, reverse: bool):
    """Products of the elements strictly before (after, if `reverse`) each one along `axis`."""
    shape = x.shape
    start, limit = [0] * len(shape), list(shape)
    cfg = [(0, 0, 0)] * len(shape)
    if reverse:
        start[axis], cfg[axis] = 1, (0, 1, 0)
    else:
        limit[axis], cfg[axis] = shape[axis] - 1, (1, 0, 0)
    shifted = lax.pad(lax.slice(x, start, limit), _const(x, 1), cfg)
    return lax.cumprod(shifted, axis, reverse)


def _reduce_prod_jvp(g, x, *, axes):
    # d prod(x) = sum_i g_i prod_{j != i} x_j, the product of the others coming from exclusive
    # prefix and suffix products: exact where x has zeros (no division by x).
    shape = x.shape
    kept = _kept_dims(len(shape), axes)
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    rest = tuple(shape[i] for i in kept)
    if n == 0:
        return _full_like(lax.reduce_sum(g, axes), 0)
    perm = kept + tuple(axes)
    flat_x = lax.reshape(lax.transpose(x, perm), rest + (n,))
    flat_g = lax.reshape(lax.transpose(g, perm), rest + (n,))
    last = len(rest)
    others = mul(_exclusive_cumprod(flat_x, last, False), _exclusive_cumprod(flat_x, last, True))
    return lax.reduce_sum(mul(flat_g, others), (last,))


defjvp(lax.reduce_prod_p, _reduce_prod_jvp)


def _cumulative_jvp(combine: Callable, primals, tangents, *, axis, reverse):
    # As JAX: differentiate the parallel prefix scan (so cummax ties split like max's).
    scan = partial(prefix_scan, lambda a, b: [combine(a[0], b[0])], axis=axis, reverse=reverse)
    outs, t_outs = jvp_flat(lambda x: scan([x]), primals, tangents)
    return outs[0], t_outs[0]


jvp_rules[lax.cumprod_p] = partial(_cumulative_jvp, lax.mul)
jvp_rules[lax.cummax_p] = partial(_cumulative_jvp, lax.max)
jvp_rules[lax.cummin_p] = partial(_cumulative_jvp, lax.min)


# ------------------------------------------------------------------------------------------
# Shapes
# ------------------------------------------------------------------------------------------

for _p in (lax.broadcast_in_dim_p, lax.reshape_p, lax.transpose_p, lax.squeeze_p,
           lax.expand_dims_p, lax.rev_p, lax.slice_p):  # fmt: skip
    deflinear(_p, unary=True)
deflinear(lax.concatenate_p)
deflinear(lax.pad_p)
deflinear_in_first(lax.dynamic_slice_p)


def _dynamic_update_slice_jvp(primals, tangents):
    x, update, *starts = primals
    ans = lax.dynamic_update_slice_p.bind(x, update, *starts)
    tx, tu = tangents[:2]
    if type(tx) is Zero and type(tu) is Zero:
        return ans, _sum_tangents(ans, [])
    t_out = lax.dynamic_update_slice_p.bind(instantiate_zeros(tx), instantiate_zeros(tu), *starts)
    return ans, t_out


jvp_rules[lax.dynamic_update_slice_p] = _dynamic_update_slice_jvp


# ------------------------------------------------------------------------------------------
# dot_general and sort
# ------------------------------------------------------------------------------------------

defjvp(
    lax.dot_general_p,
    lambda g, x, y, **params: lax.dot_general_p.bind(g, y, **params),
    lambda g, x, y, **params: lax.dot_general_p.bind(x, g, **params),
)


def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    # The tangents are permuted like their primals: sort them as payloads carried by the same
    # keys (its transpose is a sort keyed by the permutation, see transpose.py). NB: a separate
    # sort from the primal one, so partial evaluation keeps the primal outputs known.
    outs = lax.sort_p.bind(*primals, dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    nonzero = [i for i, t in enumerate(tangents) if type(t) is not Zero]
    t_outs = [Zero.from_primal(o) for o in outs]
    if nonzero:
        keys = primals[:num_keys]
        payload = [tangents[i] for i in nonzero]
        sorted_t = lax.sort_p.bind(
            *keys, *payload, dimension=dimension, is_stable=is_stable, num_keys=num_keys
        )
        for i, t in zip(nonzero, sorted_t[num_keys:]):
            t_outs[i] = t
    return outs, t_outs


jvp_rules[lax.sort_p] = _sort_jvp


# ------------------------------------------------------------------------------------------
# gather / scatter family: rules are added here by the indexing work, with the combinators
# above (`defjvp`, `defjvp2`, `deflinear`, `deflinear_in_first`, `defzero`).
# ------------------------------------------------------------------------------------------


def _gather_jvp(primals, tangents, **params):
    # Linear in the operand; out-of-bounds windows of a "fill" gather have a zero tangent (JAX).
    operand, indices = primals
    ans = lax.gather_p.bind(operand, indices, **params)
    g = tangents[0]
    if type(g) is Zero:
        return ans, Zero.from_primal(ans)
    if params["mode"] is lax.GatherScatterMode.FILL_OR_DROP:
        params = dict(params, fill_value=0)
    return ans, lax.gather_p.bind(g, indices, **params)


jvp_rules[lax.gather_p] = _gather_jvp


def _scatter_add_jvp(primals, tangents, **params):
    # Linear in the operand and the updates jointly.
    operand, indices, updates = primals
    ans = lax.scatter_add_p.bind(operand, indices, updates, **params)
    g_op, _, g_up = tangents
    if type(g_op) is Zero and type(g_up) is Zero:
        return ans, Zero.from_primal(ans)
    t = lax.scatter_add_p.bind(instantiate_zeros(g_op), indices, instantiate_zeros(g_up), **params)
    return ans, t


jvp_rules[lax.scatter_add_p] = _scatter_add_jvp


def _inverse_gather_params(dnums, operand_shape, updates_shape):
    """The gather that reads back, for every update element, the operand element it hits."""
    gdn = lax.GatherDimensionNumbers(
        offset_dims=dnums.update_window_dims,
        collapsed_slice_dims=dnums.inserted_window_dims,
        start_index_map=dnums.scatter_dims_to_operand_dims,
        operand_batching_dims=dnums.operand_batching_dims,
        start_indices_batching_dims=dnums.scatter_indices_batching_dims,
    )
    window = iter(updates_shape[d] for d in dnums.update_window_dims)
    sizes = tuple(
        1 if d in dnums.inserted_window_dims or d in dnums.operand_batching_dims else next(window)
        for d in range(len(operand_shape))
    )
    return gdn, sizes


def _gather_back(x, indices, dnums, updates_shape, mode, fill_value=None):
    """`x` read at the scatter windows (dropped windows read `fill_value` unless mode is CLIP)."""
    gdn, sizes = _inverse_gather_params(dnums, x.shape, updates_shape)
    if mode is lax.GatherScatterMode.CLIP:
        return lax.gather(x, indices, gdn, sizes, mode="clip")
    return lax.gather(x, indices, gdn, sizes, mode="fill", fill_value=fill_value)


def _scatter_jvp(primals, tangents, *, dimension_numbers, indices_are_sorted, unique_indices, mode):
    operand, indices, updates = primals
    g_op, _, g_up = tangents
    params = dict(
        dimension_numbers=dimension_numbers,
        indices_are_sorted=indices_are_sorted,
        unique_indices=unique_indices,
        mode=mode,
    )
    if type(g_op) is Zero and type(g_up) is Zero:
        ans = lax.scatter_p.bind(operand, indices, updates, **params)
        return ans, Zero.from_primal(ans)
    g_op, g_up = instantiate_zeros(g_op), instantiate_zeros(g_up)
    if unique_indices:
        ans = lax.scatter_p.bind(operand, indices, updates, **params)
        return ans, lax.scatter_p.bind(g_op, indices, g_up, **params)
    # JAX's scheme for overlapping updates (which one wins is unspecified): scatter a distinct
    # positive id per update window, read the ids back, and keep only the values whose id won
    # (and the operand where no id landed); then one scatter-add builds the primal and another
    # the tangent. A scatter-add is linear, so no transpose of `scatter` is needed.
    shape = updates.shape
    ids_shape = tuple(
        1 if d in dimension_numbers.update_window_dims else n for d, n in enumerate(shape)
    )
    n_ids = math.prod(ids_shape)
    id_dt = dtypes.uint32 if n_ids < 2**32 - 1 else dtypes.int64
    ids = add(lax.reshape(lax.iota(id_dt, n_ids), ids_shape), _const_of(id_dt, 1))
    ids = lax.broadcast_in_dim(ids, shape, tuple(range(len(shape))))
    zero_ids = lax.broadcast_in_dim(_const_of(id_dt, 0), operand.shape, ())
    scattered = lax.scatter_p.bind(zero_ids, indices, ids, **params)
    back = _gather_back(scattered, indices, dimension_numbers, shape, mode, 0)
    untouched = lax.eq(scattered, _const_of(id_dt, 0))
    won = lax.eq(ids, back)
    keep_op = lambda v: lax.select(untouched, v, _full_like(v, 0))  # noqa: E731
    keep_up = lambda v: lax.select(won, v, _full_like(v, 0))  # noqa: E731
    ans = lax.scatter_add_p.bind(keep_op(operand), indices, keep_up(updates), **params)
    t = lax.scatter_add_p.bind(keep_op(g_op), indices, keep_up(g_up), **params)
    return ans, t


def _const_of(dt, value):
    return _wrap(np.asarray(value, dt), False)


jvp_rules[lax.scatter_p] = _scatter_jvp


def _scatter_mul_jvp(primals, tangents, **params):
    # As JAX: d/d operand is the same product of the updates; d/d updates, with unique indices
    # only, is operand * scatter_add(0, i, g).
    operand, indices, updates = primals
    ans = lax.scatter_mul_p.bind(operand, indices, updates, **params)
    g_op, _, g_up = tangents
    out = []
    if type(g_op) is not Zero:
        out.append(lax.scatter_mul_p.bind(g_op, indices, updates, **params))
    if type(g_up) is not Zero:
        if not params["unique_indices"]:
            raise NotImplementedError(
                "Differentiation of scatter-mul with respect to the updates is only implemented "
                "with unique_indices=True (as in JAX). If no index repeats, pass "
                "unique_indices=True (x.at[idx].multiply(y, unique_indices=True))."
            )
        zeros = _full_like(operand, 0)
        out.append(mul(operand, lax.scatter_add_p.bind(zeros, indices, g_up, **params)))
    return ans, _sum_tangents(ans, out)


jvp_rules[lax.scatter_mul_p] = _scatter_mul_jvp


def _scatter_extremal_jvp(prim, primals, tangents, **params):
    # JAX's rule, arithmetic for arithmetic: where several values tie for the extremum (the
    # operand and any number of updates) the tangent is their average, and the operand's tangent
    # is taken out of the scattered windows by adding `-g_op / refs` per reference (not selected
    # away), so an inf or NaN there propagates as in JAX; outside the windows it is `g_op`.
    operand, indices, updates = primals
    ans = prim.bind(operand, indices, updates, **params)
    g_op, _, g_up = tangents
    if type(g_op) is Zero and type(g_up) is Zero:
        return ans, Zero.from_primal(ans)
    g_op, g_up = instantiate_zeros(g_op), instantiate_zeros(g_up)
    dn, mode = params["dimension_numbers"], params["mode"]
    back = lambda x: _gather_back(x, indices, dn, updates.shape, mode, math.nan)  # noqa: E731
    won = lax.eq(updates, back(ans))
    kept = lax.eq(back(operand), back(ans))
    one_up, zero_up = _full_like(updates, 1), _full_like(updates, 0)
    zero_op = _full_like(operand, 0)
    wins = back(
        lax.scatter_add_p.bind(zero_op, indices, lax.select(won, one_up, zero_up), **params)
    )
    refs = back(lax.scatter_add_p.bind(zero_op, indices, one_up, **params))
    one = _full_like(wins, 1)
    shared = div(one, add(wins, one))
    up_coef = lax.select(won, lax.select(kept, shared, div(one, wins)), zero_up)
    op_coef = div(add(_full_like(wins, -1), lax.select(kept, shared, zero_up)), refs)
    t_up = add(mul(back(g_op), op_coef), mul(g_up, up_coef))
    return ans, lax.scatter_add_p.bind(g_op, indices, t_up, **params)


jvp_rules[lax.scatter_min_p] = partial(_scatter_extremal_jvp, lax.scatter_min_p)
jvp_rules[lax.scatter_max_p] = partial(_scatter_extremal_jvp, lax.scatter_max_p)


# ------------------------------------------------------------------------------------------
# Convolutions and windowed reductions
# ------------------------------------------------------------------------------------------

defjvp(
    lax.conv_general_dilated_p,
    lambda g, lhs, rhs, **params: lax.conv_general_dilated_p.bind(g, rhs, **params),
    lambda g, lhs, rhs, **params: lax.conv_general_dilated_p.bind(lhs, g, **params),
)
deflinear(lax.reduce_window_sum_p, unary=True)


def _reduce_window_chooser_jvp(prim, primals, tangents, **params):
    # The tangent of the chosen element of each window: XLA's select_and_gather_add (JAX's
    # selection, ties and NaNs included). With window dilation, whose gather JAX cannot transpose,
    # the composite of pads, slices and selects (its transpose comes from theirs).
    (x,), (t,) = primals, tangents
    if any(d != 1 for d in params["window_dilation"]):
        return prim.bind(x, **params), _windowed.select_and_gather(t, x, prim, **params)
    sel = _pooling.select_prim_of(prim)
    return prim.bind(x, **params), lax.select_and_gather_add_p.bind(t, x, select_prim=sel, **params)


jvp_rules[lax.reduce_window_max_p] = partial(_reduce_window_chooser_jvp, lax.reduce_window_max_p)
jvp_rules[lax.reduce_window_min_p] = partial(_reduce_window_chooser_jvp, lax.reduce_window_min_p)
# linear in the tangents / the source; the operand only selects
defjvp(
    lax.select_and_gather_add_p,
    lambda g, t, x, **params: lax.select_and_gather_add_p.bind(g, x, **params),
    None,
)
defjvp(
    lax.select_and_scatter_add_p,
    lambda g, s, x, **params: lax.select_and_scatter_add_p.bind(g, x, **params),
    None,
)
# triangular_solve (JAX's rules: linear in b; in a, -op(a)^-1 op(da) x in the cheaper order)
# ------------------------------------------------------------------------------------------


def _matmul(x, y):
    nb = core.get_aval(x).ndim - 2
    batch = tuple(range(nb))
    dn = (((nb + 1,), (nb,)), (batch, batch))
    return lax.dot_general_p.bind(x, y, dimension_numbers=dn, preferred_element_type=None)


def _triangle(x, lower: bool, strict: bool):
    """`x`'s lower (upper) triangle, the diagonal dropped if `strict`; zeros elsewhere."""
    shape = tuple(core.get_aval(x).shape)
    nd = len(shape)
    r = lax.broadcasted_iota(dtypes.int64, shape, nd - 2)
    c = lax.broadcasted_iota(dtypes.int64, shape, nd - 1)
    keep = (lax.gt if strict else lax.ge)(r, c) if lower else (lax.lt if strict else lax.le)(r, c)
    return lax.select_n(keep, zeros_like_aval(core.get_aval(x).strip_weak_type()), x)


def _triangular_solve_jvp_a(g, ans, a, b, *, left_side, lower, transpose_a, conjugate_a,
                            unit_diagonal):  # fmt: skip
    m, n = core.get_aval(b).shape[-2:]
    g = lax.neg(_triangle(g, lower, unit_diagonal))
    if conjugate_a and core.get_aval(g).dtype.kind == "c":
        g = lax.conj(g)
    if transpose_a:
        nd = core.get_aval(g).ndim
        g = lax.transpose(g, tuple(range(nd - 2)) + (nd - 1, nd - 2))
    params = dict(left_side=left_side, lower=lower, transpose_a=transpose_a,
                  conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)  # fmt: skip

    def solve(rhs):
        return triangular_solve_p.bind(a, rhs, **params)

    if left_side:
        return solve(_matmul(g, ans)) if m > n else _matmul(solve(g), ans)
    return solve(_matmul(ans, g)) if m < n else _matmul(ans, solve(g))


defjvp2(
    triangular_solve_p,
    _triangular_solve_jvp_a,
    lambda g, ans, a, b, **params: triangular_solve_p.bind(a, g, **params),
)


# ------------------------------------------------------------------------------------------
# eig (JAX's eig_jvp_rule). vr^-1 comes from the left eigenvectors: vl^H vr is diagonal, so
# vr^-1 = diag(vl_j^H vr_j)^-1 vl^H (no solve needed; both sets come from one geev call).
# ------------------------------------------------------------------------------------------


def _mH(x):
    nd = core.get_aval(x).ndim
    return lax.conj(lax.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2)))


def _eye_like(shape, dt):
    """The identity (n, n) broadcast to `shape` (..., n, n)."""
    nd, n = len(shape), shape[-1]
    i = lax.broadcasted_iota(dtypes.int32, (n, n), 0)
    eye = lax.convert_element_type(lax.eq(i, lax.broadcasted_iota(dtypes.int32, (n, n), 1)), dt)
    return lax.broadcast_in_dim(eye, tuple(shape), (nd - 2, nd - 1))


def _row_bcast(x, shape):
    """`x` (..., n) as rows (..., 1, n) broadcast to `shape` (..., m, n)."""
    nd = len(shape)
    return lax.broadcast_in_dim(x, tuple(shape), tuple(range(nd - 2)) + (nd - 1,))


def _col_bcast(x, shape):
    """`x` (..., m) as columns (..., m, 1) broadcast to `shape` (..., m, n)."""
    nd = len(shape)
    return lax.broadcast_in_dim(x, tuple(shape), tuple(range(nd - 1)))


def _eig_vec_jvp(w, v, p):
    """Tangents of eigenvectors `v` (..., n, n) with eigenvalues `w` (..., n), given
    `p = v^-1 dA v`, under geev's normalization (unit norm, largest component real)."""
    shape = core.get_aval(v).shape
    nd, dt = len(shape), core.get_aval(v).dtype
    eye = _eye_like(shape, dt)
    diffs = lax.sub(_row_bcast(w, shape), _col_bcast(w, shape))  # (i, j): w_j - w_i
    f = lax.sub(lax.div(1.0, lax.add(eye, diffs)), eye)
    u = _matmul(v, lax.mul(f, p))
    k = lax.argmax(lax.abs(v), nd - 2, dtypes.int32)
    rows = lax.broadcasted_iota(dtypes.int32, shape, nd - 2)
    mask = lax.convert_element_type(lax.eq(rows, _row_bcast(k, shape)), dt)
    re = lax.neg(lax.real(lax.reduce_sum(lax.mul(lax.conj(v), u), (nd - 2,))))
    im = lax.div(
        lax.neg(lax.imag(lax.reduce_sum(lax.mul(mask, u), (nd - 2,)))),
        lax.real(lax.reduce_sum(lax.mul(mask, v), (nd - 2,))),
    )
    return lax.add(u, lax.mul(v, _row_bcast(lax.complex(re, im), shape)))


def _eig_jvp(primals, tangents, *, compute_left_eigenvectors, compute_right_eigenvectors,
             enable_eigvec_derivs, implementation):  # fmt: skip
    (a,), (da,) = primals, tangents
    left, right = compute_left_eigenvectors, compute_right_eigenvectors
    if (left or right) and not enable_eigvec_derivs:
        raise NotImplementedError(
            "Derivatives of non-symmetric eigenvectors are only valid under assumptions on the "
            "input that jaxlite cannot check (as in JAX): pass enable_eigvec_derivs=True to "
            "lax.linalg.eig to opt in (see https://github.com/jax-ml/jax/issues/2748)."
        )
    w, vl, vr = eig_p.bind(
        a, compute_left_eigenvectors=True, compute_right_eigenvectors=True,
        enable_eigvec_derivs=enable_eigvec_derivs, implementation=implementation,
    )  # fmt: skip
    outs = [w] + ([vl] if left else []) + ([vr] if right else [])
    if type(da) is Zero:
        return outs, [Zero.from_primal(o) for o in outs]
    shape = core.get_aval(vr).shape
    nd, cdt = len(shape), core.get_aval(w).dtype
    da = lax.convert_element_type(da, cdt)
    d = lax.reduce_sum(lax.mul(lax.conj(vl), vr), (nd - 2,))  # vl_j^H vr_j
    p = lax.div(_matmul(_mH(vl), _matmul(da, vr)), _col_bcast(d, shape))  # vr^-1 dA vr
    eye = _eye_like(shape, cdt)
    dw = lax.reduce_sum(lax.mul(p, eye), (nd - 1,))
    t_outs = [dw]
    if left:  # the right eigenvectors of A^H are vl, of eigenvalues conj(w)
        pl = lax.div(_matmul(_mH(vr), _matmul(_mH(da), vl)), _col_bcast(lax.conj(d), shape))
        t_outs.append(_eig_vec_jvp(lax.conj(w), vl, pl))
    if right:
        t_outs.append(_eig_vec_jvp(w, vr, p))
    return outs, t_outs


jvp_rules[eig_p] = _eig_jvp


# ------------------------------------------------------------------------------------------
# Host callbacks (JAX's rules): debug callbacks see the primals only; pure and io callbacks
# have no derivative (custom_jvp or custom_vjp give them one)
# ------------------------------------------------------------------------------------------


def _debug_callback_jvp(primals, tangents, **params):
    return cb.debug_callback_p.bind(*primals, **params), []


def _no_callback_jvp(prim, message, primals, tangents, **params):
    outs = prim.bind(*primals, **params)
    if any(type(t) is not Zero for t in tangents):
        raise ValueError(message)
    return outs, [Zero.from_primal(o) for o in outs]


jvp_rules[cb.debug_callback_p] = _debug_callback_jvp
jvp_rules[cb.pure_callback_p] = partial(
    _no_callback_jvp, cb.pure_callback_p,
    "Pure callbacks do not support JVP. Please use `jaxlite.custom_jvp` to use callbacks while "
    "taking gradients.",
)  # fmt: skip
jvp_rules[cb.io_callback_p] = partial(
    _no_callback_jvp, cb.io_callback_p, "IO callbacks do not support JVP."
)
# --- special functions (primitives/_special.py): JAX's rules ---------------------------------


def _lbeta(a, b):
    return sub(add(lax.lgamma(a), lax.lgamma(b)), lax.lgamma(add(a, b)))


def _no_jvp(what: str, exc=NotImplementedError):
    def rule(g, *primals, **params):
        raise exc(what)

    return rule


def _igamma_dx(g, a, x):
    # d/dx P(a, x) = x^(a - 1) e^-x / Gamma(a)
    log_d = sub(sub(mul(sub(a, _const(a, 1)), lax.log(x)), x), lax.lgamma(a))
    return mul(g, lax.exp(log_d))


def _i1e_jvp(g, ans, x):
    eps = float(np.finfo(x.dtype).eps)
    not_tiny = lax.gt(lax.abs(x), _const(x, eps))
    safe = lax.select(not_tiny, x, _full_like(x, eps))
    d = sub(lax.bessel_i0e(safe), mul(ans, add(lax.sign(safe), div(_const(x, 1), safe))))
    return mul(g, lax.select(not_tiny, d, _full_like(x, 0.5)))


def _betainc_dx(g, a, b, x):
    log_d = add(mul(sub(a, _const(a, 1)), lax.log(x)), mul(sub(b, _const(b, 1)), lax.log1p(neg(x))))
    return mul(g, lax.exp(sub(log_d, _lbeta(a, b))))


defjvp(lax.lgamma_p, lambda g, x: mul(g, lax.digamma(x)))
defjvp(lax.digamma_p, lambda g, x: mul(g, lax.zeta(_const(x, 2), x)))  # polygamma(1, x)
defjvp(
    lax.erfc_p,
    lambda g, x: mul(g, mul(_const(x, -_TWO_OVER_SQRT_PI), lax.exp(neg(mul(x, x))))),
)
defjvp2(lax.bessel_i0e_p, lambda g, ans, x: mul(g, sub(lax.bessel_i1e(x), mul(lax.sign(x), ans))))
defjvp2(lax.bessel_i1e_p, _i1e_jvp)
defjvp(lax.igamma_p, lambda g, a, x: mul(g, lax.igamma_grad_a(a, x)), _igamma_dx)
defjvp(
    lax.igammac_p,
    lambda g, a, x: mul(g, neg(lax.igamma_grad_a(a, x))),
    lambda g, a, x: neg(_igamma_dx(g, a, x)),
)
_NO_IGAMMA_GRAD_A_JVP = _no_jvp(
    "Differentiation rule for 'igamma_grad_a' not implemented (as in JAX)"
)
defjvp(lax.igamma_grad_a_p, _NO_IGAMMA_GRAD_A_JVP, _NO_IGAMMA_GRAD_A_JVP)
defjvp(
    lax.zeta_p,
    _no_jvp("the derivative of lax.zeta with respect to x is not implemented (as in JAX; "
            "jaxlite.scipy.special.zeta differentiates its series expansion)"),
    lambda g, s, q: mul(g, neg(mul(s, lax.zeta(add(s, _const(s, 1)), q)))),
)  # fmt: skip
_BETAINC_AB = _no_jvp("Betainc gradient with respect to a and b not supported.", ValueError)
defjvp(lax.regularized_incomplete_beta_p, _BETAINC_AB, _BETAINC_AB, _betainc_dx)
