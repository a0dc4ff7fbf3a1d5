"""Hoists carry-independent matrix products out of `scan` loops: a body `dot_general` of an `xs`
slice and loop constants becomes one product over all steps, computed before the loop (one large
BLAS gemm instead of `length` small ones); the loop reads its stacked result as one more `xs`.
`hoist_scan` is scan's hoisting rule (registered by control_flow/scan.py, run by
`passes.hoist_invariants`); it knows scan's params, and nothing of the code generator.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from jaxlite import dtypes
from jaxlite import primitives as P
from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, ShapedArray, Var
from jaxlite.jaxpr_util import live_eqns, substitute, use_counts
from jaxlite.util import safe_zip

# A hoisted product is stacked over all steps: above this size, the loop keeps it. Measured on
# this 2-core EPYC (32 MiB L3), RNN cells, fastest of 20 calls, hoisted / not: stacked products
# of 8 MiB 0.75-0.90x, 16 MiB 0.83x, 31 MiB 0.99-1.18x, 50 MiB 1.09-1.31x (out of cache; a
# workspace above glibc's 32 MiB mmap threshold is also faulted in afresh at every call).
MAX_HOISTED_BYTES = 16 << 20


def _product_threads() -> int:
    """The threads a large product runs on (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS, else the
    cores). NB: one stacked product pays where its threads share it; on one thread, the steps'
    small products (in cache, no stacked buffer to write and read back) won: RNN of
    benchmarks/bench_scan.py on the AVX-512 EPYC, 1 thread, CPU time: 8.4 ms hoisted, 6.7 not
    (BLAS: 32000x64x64 at 75 GFLOP/s, 32x64x64 at 114)."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


# ------------------------------------------------------------------------------------------
# The loop-invariant values of one scan body
# ------------------------------------------------------------------------------------------

# Operations on one operand that commute with stacking: per-step params -> the params of the
# same operation on the stacked operand (leading axis of `n` steps), or None.
_STACKED_PARAMS: dict = {
    P.reshape_p: lambda p, n: (
        None if p["dimensions"] is not None else dict(p, new_sizes=(n, *p["new_sizes"]))
    ),
    P.transpose_p: lambda p, n: dict(p, permutation=(0, *(d + 1 for d in p["permutation"]))),
    P.squeeze_p: lambda p, n: dict(p, dimensions=tuple(d + 1 for d in p["dimensions"])),
    P.expand_dims_p: lambda p, n: dict(p, dimensions=tuple(d + 1 for d in p["dimensions"])),
    P.convert_element_type_p: lambda p, n: p,
}


class _Invariants:
    """Body values that do not depend on the carry: constants (the same at every step) and
    slices of stacked values (the xs), each computable outside the loop."""

    def __init__(self, eqn: JaxprEqn):
        p = eqn.params
        nc, nk = p["num_consts"], p["num_carry"]
        body = p["jaxpr"].jaxpr
        self.length = p["length"]
        self.stacked: dict[Var, bool] = {}  # var -> is it a slice of a stacked value?
        self.outer: dict[Var, Var | Literal] = {}  # var -> its value outside, once computed
        self.recipe: dict[Var, tuple[JaxprEqn, dict]] = {}  # var -> (body eqn, outer params)
        self.eqns: list[JaxprEqn] = []  # computed outside, in order
        for v, a in safe_zip(body.invars[:nc], eqn.invars[:nc]):
            self.add(v, False, a)
        for v, a in safe_zip(body.invars[nc + nk :], eqn.invars[nc + nk :]):
            self.add(v, True, a)

    def add(self, v: Var, stacked: bool, outer) -> None:
        self.stacked[v], self.outer[v] = stacked, outer

    def kind(self, a) -> bool | None:
        """True: a slice of a stacked value; False: a constant; None: depends on the carry."""
        return False if type(a) is Literal else self.stacked.get(a)

    def note(self, e: JaxprEqn) -> None:
        """Records how to compute `e`'s result outside, if it is a stackable op of an invariant."""
        stack: Callable | None = _STACKED_PARAMS.get(e.primitive)
        k = None if stack is None else self.kind(e.invars[0])
        if k is None:
            return
        params = stack(e.params, self.length) if k else e.params
        if params is not None:
            self.stacked[e.outvars[0]] = k
            self.recipe[e.outvars[0]] = (e, params)

    def value(self, a):
        """The outer atom of the invariant `a`, computed (once) outside the loop."""
        if type(a) is Literal:
            return a
        if a not in self.outer:
            e, params = self.recipe[a]
            out = Var(self.aval(a.aval, self.stacked[a]))
            self.eqns.append(JaxprEqn(e.primitive, [self.value(e.invars[0])], [out], params))
            self.outer[a] = out
        return self.outer[a]

    def aval(self, aval: ShapedArray, stacked: bool) -> ShapedArray:
        return aval.update(shape=(self.length, *aval.shape)) if stacked else aval


# ------------------------------------------------------------------------------------------
# One scan
# ------------------------------------------------------------------------------------------


def hoist_scan(eqn: JaxprEqn, keep: Callable | None = None) -> list[JaxprEqn]:
    """The equations computed before the loop followed by the rewritten scan (or `[eqn]`).

    A body equation `y = dot_general(x, w)` is hoisted when `x` is an `xs` slice (or a reshape,
    transpose or dtype conversion of one), `w` a loop constant (or the same of one), in either
    order, with no batch dimensions, at least one contracting dimension and a floating-point
    result: the scan then takes `Y = dot_general(X, w)`, of shape `(length, *y.shape)`, as one
    more `xs`, and drops the inputs its body no longer reads. A product of two constants is
    computed once, before the loop, and passed as one more constant. Scans of fewer than 2 steps,
    stacked results above `MAX_HOISTED_BYTES`, any stacked product when products run on one
    thread (`_product_threads`), and the body equations `keep(eqns, i, uses)` names (the code
    generator's choice, registered with the hook by control_flow/scan.py: products it adds to
    another in one call, `fold_sum2.folds_in_loop`, an RNN cell's `h @ Wh + x @ Wx`), are left
    alone.
    """
    p = eqn.params
    nc, nk = p["num_consts"], p["num_carry"]
    closed = p["jaxpr"]
    body = closed.jaxpr
    if p["length"] < 2:
        return [eqn]
    inv = _Invariants(eqn)
    new_consts, new_xs, body_eqns = [], [], []  # (body invar, outer atom) pairs
    same: dict[tuple, Var] = {}  # a product computed twice in the body is hoisted once
    rename: dict[Var, Var] = {}
    eqns = live_eqns(body)
    uses = use_counts(eqns, body.outvars)
    kept = {i for i in range(len(eqns)) if keep is not None and keep(eqns, i, uses)}
    for i, e in enumerate(eqns):
        if i in kept:  # (one call of jl_gemm_sum2 with the carry's product at each step)
            inv.note(e)
            body_eqns.append(e)
            continue
        if rename:
            e = e.replace(invars=substitute(e.invars, rename))
        key = (*e.invars, *sorted(e.params.items())) if e.primitive is P.dot_general_p else None
        if key in same:
            rename[e.outvars[0]] = same[key]
            continue
        hoisted = _hoist_product(e, inv)
        if hoisted is None:
            inv.note(e)
            body_eqns.append(e)
            continue
        invar, stacked, view_eqns = hoisted
        same[key] = e.outvars[0]
        (new_xs if stacked else new_consts).append((invar, inv.outer[invar]))
        body_eqns.extend(view_eqns)
    if not inv.eqns:
        return [eqn]
    outvars = substitute(body.outvars, rename)
    consts, carry, xs = body.invars[:nc], body.invars[nc : nc + nk], body.invars[nc + nk :]
    invars = [*consts, *(v for v, _ in new_consts), *carry, *xs, *(v for v, _ in new_xs)]
    operands = [*eqn.invars[:nc], *(a for _, a in new_consts), *eqn.invars[nc:],
                *(a for _, a in new_xs)]  # fmt: skip
    linear = list(p["linear"])
    linear[nc:nc] = [False] * len(new_consts)
    linear += [False] * len(new_xs)
    # Inputs the body no longer reads (the carry stays, whatever it is) are dropped.
    body_eqns = live_eqns(Jaxpr([], invars, outvars, body_eqns))
    used = use_counts(body_eqns, outvars)
    n_consts = nc + len(new_consts)
    keep = [n_consts <= i < n_consts + nk or v in used for i, v in enumerate(invars)]
    pick = lambda seq: [x for x, k in safe_zip(seq, keep) if k]  # noqa: E731
    new_body = ClosedJaxpr(Jaxpr(body.constvars, pick(invars), outvars, body_eqns), closed.consts)
    params = dict(p, jaxpr=new_body, linear=tuple(pick(linear)), num_consts=sum(keep[:n_consts]))
    return inv.eqns + [eqn.replace(invars=pick(operands), params=params)]


def _hoist_product(e: JaxprEqn, inv: _Invariants):
    """If `e` is a hoistable product: computes it outside (in `inv.eqns`) and returns
    `(the body's new input, is it stacked, body equations that read it)`; else None."""
    if e.primitive is not P.dot_general_p:
        return None
    (lc, rc), (lb, rb) = e.params["dimension_numbers"]
    out = e.outvars[0].aval
    if (
        lb
        or not lc
        or not dtypes.is_float(out.dtype)
        or not dtypes.is_float(e.invars[0].aval.dtype)
    ):
        return None  # batched, an outer product (fused as elementwise), or C loops
    lhs, rhs = map(inv.kind, e.invars)
    if lhs is None or rhs is None or (lhs and rhs):
        return None  # reads the carry, or two xs (a batched product: no gain)
    if (lhs or rhs) and (
        inv.length * out.size * out.dtype.itemsize > MAX_HOISTED_BYTES or _product_threads() < 2
    ):
        return None
    a, b = map(inv.value, e.invars)
    if not rhs:  # Y = X . w (or a constant w . v): the layout of the body's result, stacked
        result = Var(inv.aval(out, lhs))
        dn = ((tuple(d + 1 for d in lc) if lhs else lc, rc), ((), ()))
        inv.eqns.append(_dot(a, b, dn, result, e.params))
        inv.add(e.outvars[0], lhs, result)
        return e.outvars[0], lhs, []
    # y = w . x: the product X . w (free dims of x first) has the leading length axis; each step
    # reads its slice through a transpose (a strided view in C: no copy).
    n_w = e.invars[0].aval.ndim - len(lc)
    n_x = out.ndim - n_w
    slice_aval = out.update(shape=out.shape[n_w:] + out.shape[:n_w])
    result = Var(inv.aval(slice_aval, True))
    inv.eqns.append(_dot(b, a, ((tuple(d + 1 for d in rc), lc), ((), ())), result, e.params))
    if n_w == 0 or n_x == 0:
        inv.add(e.outvars[0], True, result)
        return e.outvars[0], True, []
    slice_var = Var(slice_aval)
    inv.add(slice_var, True, result)
    perm = tuple(range(n_x, n_x + n_w)) + tuple(range(n_x))
    view = JaxprEqn(P.transpose_p, [slice_var], [e.outvars[0]], {"permutation": perm})
    inv.note(view)  # a product of the result may be hoisted too
    return slice_var, True, [view]


def _dot(a, b, dimension_numbers, out: Var, params: dict) -> JaxprEqn:
    params = dict(params, dimension_numbers=dimension_numbers)
    return JaxprEqn(P.dot_general_p, [a, b], [out], params)
