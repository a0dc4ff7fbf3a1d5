"""Jaxpr -> simpler jaxpr, before lowering to C: call primitives inlined, no-op equations
forwarded, scalar constants folded, common subexpressions shared, loop-invariant work hoisted
(by the rules call primitives register), dead code removed, a dot_general whose only reader
transposes it computes the transposed product directly, and a sum of zero pads that tile an axis
(the gradient of slicing one array into parts: q, k and v of attention) becomes a concatenate.

Every pass keeps the jaxpr's meaning exactly (the eager interpreter gives the same results on the
simplified jaxpr); tests/test_backend_passes.py checks it.
"""

from __future__ import annotations

import numpy as np

from jaxlite import core
from jaxlite import primitives as P
from jaxlite.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, ShapedArray, Var
from jaxlite.jaxpr_util import (
    call_info,
    copy_eqns,
    dce_jaxpr,
    has_effects,
    map_sub_jaxprs,
    substitute,
    use_counts,
)
from jaxlite.util import safe_zip


def simplify(jaxpr: Jaxpr) -> Jaxpr:
    """All the passes, in order. `jaxpr`'s constvars stay its leading inputs."""
    jaxpr = rewrite(jaxpr)
    jaxpr = hoist_invariants(jaxpr)
    # NB: dead equations first: a product read by a transpose and by dead code is still rewritten
    jaxpr = dot_transpose(dce(compose_transposes(jaxpr)))
    jaxpr = pads_to_concatenate(jaxpr)
    return dce(jaxpr)


# ------------------------------------------------------------------------------------------
# Constants: one constvar per object
# ------------------------------------------------------------------------------------------


def dedup_consts(closed: ClosedJaxpr) -> ClosedJaxpr:
    """`closed` with one constvar per constant object (by identity, as tracing captures them).

    Tracing captures each object once, but transformations that assemble a jaxpr from others
    (partial evaluation, transposition, hoisting) may bind the same array to several constvars;
    each would be a separate kernel input. Returns `closed` itself when there is nothing to merge.
    """
    first: dict[int, Var] = {}
    env: dict[Var, Var] = {}
    constvars, consts = [], []
    for v, c in safe_zip(closed.jaxpr.constvars, closed.consts):
        w = first.get(id(c))
        if w is not None and w.aval.dtype == v.aval.dtype and w.aval.shape == v.aval.shape:
            env[v] = w
            continue
        first.setdefault(id(c), v)
        constvars.append(v)
        consts.append(c)
    if not env:
        return closed
    j = closed.jaxpr
    eqns = [JaxprEqn(e.primitive, substitute(e.invars, env), e.outvars, e.params) for e in j.eqns]
    jaxpr = Jaxpr(constvars, j.invars, substitute(j.outvars, env), eqns)
    return ClosedJaxpr(jaxpr, consts)


# ------------------------------------------------------------------------------------------
# One walk: inline, forward no-ops, fold constants, share common subexpressions
# ------------------------------------------------------------------------------------------


def rewrite(jaxpr: Jaxpr) -> Jaxpr:
    env: dict[Var, Var | Literal] = {}
    seen: dict[tuple, list] = {}
    eqns: list[JaxprEqn] = []
    _walk(jaxpr.eqns, env, seen, eqns)
    outvars = substitute(jaxpr.outvars, env)
    return Jaxpr(jaxpr.constvars, jaxpr.invars, outvars, eqns)


def _read(env, a):
    return env.get(a, a) if type(a) is Var else a


def _walk(src_eqns, env, seen, eqns) -> None:
    for eqn in src_eqns:
        ins = substitute(eqn.invars, env)
        prim = eqn.primitive
        info = call_info(prim)
        inner = eqn.params[info.inline_body] if info and info.inline_body else None
        if _inlinable(inner, ins):
            _inline(inner, ins, eqn.outvars, env, seen, eqns)
            continue
        same = _noop_operand(eqn, ins)
        if same is not None:
            env[eqn.outvars[0]] = same
            continue
        folded = _fold(eqn, ins)
        if folded is not None:
            env[eqn.outvars[0]] = folded
            continue
        key = None if has_effects(eqn) else _cse_key(prim, ins, eqn.params)
        if key is not None and key in seen:
            for v, w in safe_zip(eqn.outvars, seen[key]):
                env[v] = w
            continue
        eqns.append(JaxprEqn(prim, ins, eqn.outvars, eqn.params))
        if key is not None:
            seen[key] = eqn.outvars


def _inlinable(inner, ins) -> bool:
    # NB: array constants stay in their call (the lowering passes them to the kernel).
    return (isinstance(inner, ClosedJaxpr) and len(inner.jaxpr.invars) == len(ins)
            and all(np.ndim(core.to_numpy(c)) == 0 for c in inner.consts))  # fmt: skip


def _inline(closed: ClosedJaxpr, ins, outvars, env, seen, eqns) -> None:
    """The body of a call, with fresh variables (the same body may be inlined twice)."""
    jaxpr = closed.jaxpr
    inner: dict = {}
    for v, c in safe_zip(jaxpr.constvars, closed.consts):
        inner[v] = Literal(np.asarray(core.to_numpy(c), v.aval.dtype), v.aval)
    inner.update(safe_zip(jaxpr.invars, ins))
    _walk(copy_eqns(jaxpr.eqns, inner), env, seen, eqns)
    for v, w in safe_zip(outvars, jaxpr.outvars):
        env[v] = _read(env, inner.get(w, w)) if type(w) is Var else w


def _noop_operand(eqn: JaxprEqn, ins):
    """The operand an equation merely passes on (same shape and dtype), or None."""
    prim, p = eqn.primitive, eqn.params
    if len(ins) != 1 or len(eqn.outvars) != 1:
        return None
    x, out = ins[0], eqn.outvars[0].aval
    if (x.aval.shape, x.aval.dtype) != (out.shape, out.dtype):
        return None
    if prim in (P.convert_element_type_p, P.reshape_p, P.copy_p, P.stop_gradient_p):
        return x
    if prim is P.broadcast_in_dim_p and p["broadcast_dimensions"] == tuple(range(len(out.shape))):
        return x
    if prim is P.transpose_p and p["permutation"] == tuple(range(len(out.shape))):
        return x
    if prim in (P.squeeze_p, P.expand_dims_p, P.rev_p) and not p["dimensions"]:
        return x
    return None


# Elementwise primitives whose scalar results are folded at compile time (by their eager impl).
_FOLDABLE = {
    P.neg_p, P.add_p, P.sub_p, P.mul_p, P.div_p, P.max_p, P.min_p, P.convert_element_type_p,
    P.integer_pow_p, P.sqrt_p, P.exp_p, P.log_p, P.abs_p, P.sign_p, P.and_p, P.or_p, P.not_p,
    P.eq_p, P.ne_p, P.lt_p, P.le_p, P.gt_p, P.ge_p, P.select_n_p,
}  # fmt: skip


def _fold(eqn: JaxprEqn, ins):
    if eqn.primitive not in _FOLDABLE or not all(type(a) is Literal for a in ins):
        return None
    aval = eqn.outvars[0].aval
    impl = getattr(eqn.primitive.impl, "numpy_impl", None)
    if aval.shape != () or impl is None:
        return None
    vals = [np.asarray(a.val, a.aval.dtype) for a in ins]
    with np.errstate(all="ignore"):
        out = np.asarray(impl(*vals, **eqn.params), aval.dtype)
    return Literal(out, ShapedArray((), aval.dtype, aval.weak_type))


def _cse_key(prim, ins, params):
    items = tuple(sorted(params.items()))
    try:
        hash(items)
    except TypeError:  # an unhashable parameter: never shared
        return None
    return (prim, tuple(_atom_key(a) for a in ins), items)


def _atom_key(a):
    if type(a) is Literal:
        v = np.asarray(a.val)
        return ("lit", v.dtype.str, v.tobytes(), a.aval.dtype.str)
    return a


# ------------------------------------------------------------------------------------------
# dot_general read only through a transpose
# ------------------------------------------------------------------------------------------


def compose_transposes(jaxpr: Jaxpr) -> Jaxpr:
    """`transpose(transpose(x, p), q)` -> `transpose(x, p[q])`, or `x` itself when that is the
    identity (reverse mode transposes the transposes of the forward pass: `k.T`'s cotangent)."""
    made: dict = {}
    env: dict = {}
    eqns = []
    for e in jaxpr.eqns:
        ins = substitute(e.invars, env)
        if e.primitive is P.transpose_p and type(ins[0]) is Var and ins[0] in made:
            inner = made[ins[0]]
            perm = tuple(inner.params["permutation"][d] for d in e.params["permutation"])
            if perm == tuple(range(len(perm))):
                env[e.outvars[0]] = inner.invars[0]
                continue
            ins = [inner.invars[0]]
            e = JaxprEqn(P.transpose_p, ins, e.outvars, {"permutation": perm})
        elif ins != e.invars:
            e = JaxprEqn(e.primitive, ins, e.outvars, e.params)
        if e.primitive is P.transpose_p and type(ins[0]) is Var:
            made[e.outvars[0]] = e
        eqns.append(e)
    if not env and all(a is b for a, b in zip(eqns, jaxpr.eqns)):
        return jaxpr
    return Jaxpr(jaxpr.constvars, jaxpr.invars, substitute(jaxpr.outvars, env), eqns)


def dot_transpose(jaxpr: Jaxpr) -> Jaxpr:
    """`transpose(dot_general(a, b))` that swaps the two free blocks -> `dot_general(b, a)`.

    Reverse-mode derivatives of matrix products have this form (the weight gradients); the
    product then comes out in the layout its readers want, with no strided pass over it.
    """
    uses = use_counts(jaxpr.eqns, jaxpr.outvars)
    for v in jaxpr.outvars:  # an output is read outside: never rewritten
        if type(v) is Var:
            uses[v] += 1
    producer = {e.outvars[0]: e for e in jaxpr.eqns if e.primitive is P.dot_general_p}
    replaced: dict = {}
    for e in jaxpr.eqns:
        if e.primitive is not P.transpose_p or type(e.invars[0]) is not Var:
            continue
        dot = producer.get(e.invars[0])
        if dot is None or uses.get(e.invars[0]) != 1:
            continue
        (lc, rc), (lb, rb) = dot.params["dimension_numbers"]
        a, b = dot.invars
        nb = len(lb)
        nl = len(a.aval.shape) - nb - len(lc)
        nr = len(b.aval.shape) - nb - len(rc)
        swap = list(range(nb)) + [nb + nl + j for j in range(nr)] + [nb + i for i in range(nl)]
        if list(e.params["permutation"]) != swap:
            continue
        params = dict(dot.params, dimension_numbers=((rc, lc), (rb, lb)))
        replaced[id(e)] = JaxprEqn(P.dot_general_p, [b, a], e.outvars, params)
        replaced[id(dot)] = None
    if not replaced:
        return jaxpr
    eqns = [replaced.get(id(e), e) for e in jaxpr.eqns]
    # The product moves to where the transpose was (its operands are defined by then).
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, [e for e in eqns if e is not None])


# ------------------------------------------------------------------------------------------
# Sums of zero pads -> concatenate
# ------------------------------------------------------------------------------------------


def pads_to_concatenate(jaxpr: Jaxpr) -> Jaxpr:
    """`add_any(pad(a, 0), pad(b, 0), ...)` whose pads place their operands side by side along
    one axis, tiling it -> `concatenate(a, b, ...)`; and a transpose whose operand is such a
    concatenate (read nowhere else) -> a concatenate of transposed parts.

    The transpose of slicing (`qkv[0], qkv[1], qkv[2]`) has the first form: the sum wrote three
    zero-filled buffers and added them; the concatenate writes each part once, and with the
    transpose moved onto the parts, in the layout its readers want.
    """
    uses = use_counts(jaxpr.eqns, jaxpr.outvars)
    producer = {v: e for e in jaxpr.eqns for v in e.outvars}
    replaced: dict = {}
    for e in jaxpr.eqns:
        if e.primitive is P.add_any_p:
            parts = _pad_parts(e, producer, uses)
            if parts is not None:
                dim, xs = parts
                new = JaxprEqn(P.concatenate_p, xs, e.outvars, {"dimension": dim})
                replaced[id(e)] = [new]
                producer[e.outvars[0]] = new
        elif e.primitive is P.transpose_p and type(e.invars[0]) is Var:
            cat = producer.get(e.invars[0])
            if cat is None or cat.primitive is not P.concatenate_p or uses[e.invars[0]] != 1:
                continue
            perm = e.params["permutation"]
            new_eqns, xs = [], []
            for x in cat.invars:
                shape = tuple(x.aval.shape[d] for d in perm)
                t = Var(ShapedArray(shape, x.aval.dtype, x.aval.weak_type))
                new_eqns.append(JaxprEqn(P.transpose_p, [x], [t], {"permutation": perm}))
                xs.append(t)
            dim = list(perm).index(cat.params["dimension"])
            new = JaxprEqn(P.concatenate_p, xs, e.outvars, {"dimension": dim})
            replaced[id(e)] = [*new_eqns, new]
            producer[e.outvars[0]] = new
    if not replaced:
        return jaxpr
    eqns = [n for e in jaxpr.eqns for n in replaced.get(id(e), [e])]
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns)


def _pad_parts(e: JaxprEqn, producer, uses):
    """(axis, operands in order) when the add_any tree rooted at `e` (inner sums read only
    there) sums zero pads (read only there) that tile one axis; else None."""
    leaves, stack = [], list(e.invars)
    while stack:
        a = stack.pop()
        if type(a) is not Var or uses.get(a) != 1:
            return None
        p = producer.get(a)
        if p is None:
            return None
        if p.primitive is P.add_any_p:
            stack.extend(p.invars)
        elif p.primitive is P.pad_p:
            leaves.append(p)
        else:
            return None
    if len(leaves) < 2:
        return None
    dim, spans = None, []
    for p in leaves:
        x, value = p.invars
        v = np.asarray(value.val) if type(value) is Literal else None
        if v is None or v != 0 or np.signbit(np.real(v)) or np.signbit(np.imag(v)):
            return None  # NB: a -0.0 pad is not a zero to drop (-0.0 + 0.0 is 0.0)
        moved = [d for d, (lo, hi, interior) in enumerate(p.params["padding_config"])
                 if (lo, hi, interior) != (0, 0, 0)]  # fmt: skip
        if len(moved) != 1 or p.params["padding_config"][moved[0]][2] != 0:
            return None
        if dim is None:
            dim = moved[0]
        lo, hi, _ = p.params["padding_config"][dim]
        if moved[0] != dim or lo < 0 or hi < 0:
            return None
        spans.append((lo, lo + x.aval.shape[dim], x))
    spans.sort(key=lambda s: s[0])
    at = 0
    for lo, end, _ in spans:
        if lo != at:
            return None  # a gap or an overlap
        at = end
    if at != e.outvars[0].aval.shape[dim]:
        return None
    return dim, [x for _, _, x in spans]


# ------------------------------------------------------------------------------------------
# Loop-invariant work, moved by the hoisting rules call primitives register (scan's products)
# ------------------------------------------------------------------------------------------


def hoist_invariants(jaxpr: Jaxpr) -> Jaxpr:
    """`jaxpr` with each call equation (in any sub-jaxpr too) rewritten by its primitive's
    hoisting rule, if it has one. Returns `jaxpr` itself when nothing changes."""
    eqns, changed = [], False
    for eqn in jaxpr.eqns:
        new = map_sub_jaxprs(eqn, hoist_invariants)
        info = call_info(new.primitive)
        new = info.hoist(new) if info and info.hoist else [new]
        changed = changed or len(new) != 1 or new[0] is not eqn
        eqns.extend(new)
    if not changed:
        return jaxpr
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns)


# ------------------------------------------------------------------------------------------
# Dead code
# ------------------------------------------------------------------------------------------


def dce(jaxpr: Jaxpr) -> Jaxpr:
    return dce_jaxpr(jaxpr)
