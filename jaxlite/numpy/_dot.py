"""Products: dot, matmul, vdot, vecdot, inner, outer, tensordot, einsum, kron, cross. All are
`dot_general` (plus broadcasting and transposes); integer products keep their dtype, as in NumPy.
"""

from __future__ import annotations

import importlib
import math
import string

import numpy as np

from jaxlite import primitives as lax
from jaxlite.numpy._creation import diagonal
from jaxlite.numpy._shape import moveaxis, stack
from jaxlite.numpy._ufuncs import multiply, subtract
from jaxlite.numpy._util import (
    asarray,
    broadcast_shapes,
    broadcast_to_shape,
    canonical_dtype,
    canonicalize_axis,
    check_kind,
    dtype_of,
    promote_dtypes,
    shape_of,
)
from jaxlite.util import safe_zip


def _operands(name: str, a, b, preferred_element_type=None):
    a, b = promote_dtypes(name, asarray(a, name), asarray(b, name))
    check_kind(name, a, "iufbc", "numeric arguments")
    pet = canonical_dtype(preferred_element_type, name)
    return a, b, pet


def _dot_general(a, b, contract, batch, pet):
    return lax.dot_general(a, b, (contract, batch), preferred_element_type=pet)


def _mul(a, b):
    return multiply(a, b)


def dot(a, b, *, precision=None, preferred_element_type=None):
    """NumPy's `dot`: inner product of vectors, matrix product, and for N-D arrays a sum over
    the last axis of `a` and the second-to-last of `b`.

    Example:
      >>> jnp.dot(jnp.array([[1, 2], [3, 4]]), jnp.array([1, 1]))
      Array([3, 7], dtype=int32)
    """
    a, b, pet = _operands("dot", a, b, preferred_element_type)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        out = _mul(a, b)
        return out if pet is None else lax.convert_element_type(out, pet)
    cb = 0 if len(sb) == 1 else len(sb) - 2
    if sa[-1] != sb[cb]:
        raise ValueError(f"jnp.dot: shapes {sa} and {sb} are not aligned: {sa[-1]} != {sb[cb]}")
    return _dot_general(a, b, ((len(sa) - 1,), (cb,)), ((), ()), pet)


def matmul(a, b, *, precision=None, preferred_element_type=None):
    """Matrix product with broadcasting of the leading (batch) dimensions (`a @ b`).

    Example:
      >>> jnp.matmul(jnp.ones((5, 2, 3)), jnp.ones((3, 4))).shape
      (5, 2, 4)
    """
    a, b, pet = _operands("matmul", a, b, preferred_element_type)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        raise ValueError(
            f"jnp.matmul: operands must be at least 1-D, got shapes {sa} and {sb} (use * for "
            "scalars)"
        )
    a_vec, b_vec = len(sa) == 1, len(sb) == 1
    if a_vec:
        a, sa = lax.reshape(a, (1,) + sa), (1,) + sa
    if b_vec:
        b, sb = lax.reshape(b, sb + (1,)), sb + (1,)
    if sa[-1] != sb[-2]:
        raise ValueError(
            f"jnp.matmul: contraction dimension mismatch: {shape_of(a)} @ {shape_of(b)} "
            f"({sa[-1]} != {sb[-2]})"
        )
    if len(sb) == 2:  # no batch on the right: one dot_general over a's last axis
        out = _dot_general(a, b, ((len(sa) - 1,), (0,)), ((), ()), pet)
    else:
        batch = broadcast_shapes("matmul", sa[:-2], sb[:-2])
        a = broadcast_to_shape(a, batch + sa[-2:], "matmul")
        b = broadcast_to_shape(b, batch + sb[-2:], "matmul")
        nb = len(batch)
        bd = tuple(range(nb))
        out = _dot_general(a, b, ((nb + 1,), (nb,)), (bd, bd), pet)
    so = shape_of(out)
    if a_vec and b_vec:
        return lax.reshape(out, so[:-2])
    if a_vec:
        return lax.reshape(out, so[:-2] + so[-1:])
    if b_vec:
        return lax.reshape(out, so[:-1])
    return out


def matvec(x1, x2, /):
    """Matrix-vector product over the last axes, with broadcasting (NumPy 2.2)."""
    x2 = asarray(x2, "matvec")
    return lax.squeeze(matmul(x1, lax.expand_dims(x2, (len(shape_of(x2)),))), (-1,))


def vecmat(x1, x2, /):
    """Vector-matrix product over the last axes, with broadcasting (NumPy 2.2)."""
    x1 = asarray(x1, "vecmat")
    nd = len(shape_of(x1))
    out = matmul(lax.expand_dims(x1, (nd - 1,)), x2)
    return lax.squeeze(out, (len(shape_of(out)) - 2,))


def vdot(a, b, *, precision=None, preferred_element_type=None):
    """Dot product of the flattened arrays."""
    a, b, pet = _operands("vdot", a, b, preferred_element_type)
    if dtype_of(a).kind == "c":  # the first argument is conjugated, as NumPy's and JAX's
        a = lax.conj(a)
    a = lax.reshape(a, (math.prod(shape_of(a)),))
    b = lax.reshape(b, (math.prod(shape_of(b)),))
    if shape_of(a) != shape_of(b):
        raise ValueError(f"jnp.vdot: sizes {shape_of(a)[0]} and {shape_of(b)[0]} differ")
    return _dot_general(a, b, ((0,), (0,)), ((), ()), pet)


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    """Dot product over `axis`, broadcasting the other dimensions (array API)."""
    a, b, pet = _operands("vecdot", x1, x2, preferred_element_type)
    shape = broadcast_shapes("vecdot", shape_of(a), shape_of(b))
    if not shape:
        raise ValueError("jnp.vecdot: operands must be at least 1-D")
    ax = canonicalize_axis(axis, len(shape), "vecdot", shape)
    a = broadcast_to_shape(a, shape, "vecdot")
    b = broadcast_to_shape(b, shape, "vecdot")
    batch = tuple(i for i in range(len(shape)) if i != ax)
    return _dot_general(a, b, ((ax,), (ax,)), (batch, batch), pet)


def inner(a, b, *, precision=None, preferred_element_type=None):
    """Sum of products over the last axes: shape `a.shape[:-1] + b.shape[:-1]`."""
    a, b, pet = _operands("inner", a, b, preferred_element_type)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return _mul(a, b)
    if sa[-1] != sb[-1]:
        raise ValueError(f"jnp.inner: last dimensions of {sa} and {sb} differ")
    return _dot_general(a, b, ((len(sa) - 1,), (len(sb) - 1,)), ((), ()), pet)


def outer(a, b, out=None):
    """`a[i] * b[j]` of the flattened arrays."""
    if out is not None:
        raise TypeError("jnp.outer: the `out` argument is not supported")
    a, b = asarray(a, "outer"), asarray(b, "outer")
    a = lax.reshape(a, (math.prod(shape_of(a)), 1))
    b = lax.reshape(b, (1, math.prod(shape_of(b))))
    return _mul(a, b)


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """Sum of products over `axes`: an int N (last N of `a`, first N of `b`) or two sequences."""
    a, b, pet = _operands("tensordot", a, b, preferred_element_type)
    sa, sb = shape_of(a), shape_of(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > len(sa) or n > len(sb):
            raise ValueError(f"jnp.tensordot: axes={n} does not fit shapes {sa} and {sb}")
        ca, cb = tuple(range(len(sa) - n, len(sa))), tuple(range(n))
    else:
        try:
            xa, xb = axes
        except (TypeError, ValueError):
            raise TypeError(f"jnp.tensordot: axes must be an int or a pair, got {axes!r}") from None
        xa = (xa,) if isinstance(xa, (int, np.integer)) else tuple(xa)
        xb = (xb,) if isinstance(xb, (int, np.integer)) else tuple(xb)
        if len(xa) != len(xb):
            raise ValueError(f"jnp.tensordot: axes {axes} have different lengths")
        ca = tuple(canonicalize_axis(i, len(sa), "tensordot", sa) for i in xa)
        cb = tuple(canonicalize_axis(i, len(sb), "tensordot", sb) for i in xb)
    for i, j in safe_zip(ca, cb):
        if sa[i] != sb[j]:
            raise ValueError(f"jnp.tensordot: shape mismatch on axes {ca} of {sa} and {cb} of {sb}")
    return _dot_general(a, b, (ca, cb), ((), ()), pet)


def kron(a, b):
    """Kronecker product: blocks `a[i] * b`."""
    a, b = promote_dtypes("kron", asarray(a, "kron"), asarray(b, "kron"))
    sa, sb = shape_of(a), shape_of(b)
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a = lax.reshape(a, tuple(v for d in sa for v in (d, 1)))
    b = lax.reshape(b, tuple(v for d in sb for v in (1, d)))
    return lax.reshape(_mul(a, b), tuple(x * y for x, y in safe_zip(sa, sb)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-element vectors along the given axes (2-D vectors give the
    z component only)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = promote_dtypes("cross", asarray(a, "cross"), asarray(b, "cross"))
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(
            f"jnp.cross: incompatible dimensions for cross product (dimension must be 2 or 3), "
            f"got {na} and {nb}"
        )

    def comp(x, i):
        s = shape_of(x)
        r = lax.slice(x, (0,) * (len(s) - 1) + (i,), s[:-1] + (i + 1,))
        return lax.reshape(r, s[:-1])

    a0, a1 = comp(a, 0), comp(a, 1)
    b0, b1 = comp(b, 0), comp(b, 1)
    z = subtract(_mul(a0, b1), _mul(a1, b0))
    if na == 2 and nb == 2:
        return z
    a2 = comp(a, 2) if na == 3 else None
    b2 = comp(b, 2) if nb == 3 else None
    if a2 is None:  # a = (a0, a1, 0)
        x, y = _mul(a1, b2), subtract(0, _mul(a0, b2))
    elif b2 is None:  # b = (b0, b1, 0)
        x, y = subtract(0, _mul(a2, b1)), _mul(a2, b0)
    else:
        x, y = subtract(_mul(a1, b2), _mul(a2, b1)), subtract(_mul(a2, b0), _mul(a0, b2))
    out = stack([x, y, z], axis=-1)
    return moveaxis(out, -1, axisc)


# ------------------------------------------------------------------------------------------
# einsum
# ------------------------------------------------------------------------------------------


def _parse_einsum(subscripts: str, shapes):
    subs = subscripts.replace(" ", "")
    if "->" in subs:
        lhs, out = subs.split("->")
        explicit = True
    else:
        lhs, out, explicit = subs, "", False
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"jnp.einsum: {len(terms)} operand subscripts in {subscripts!r} for "
            f"{len(shapes)} operands"
        )
    used = set(subs) - set(".,->")
    for c in used:
        if c not in string.ascii_letters:
            raise ValueError(f"jnp.einsum: invalid subscript character {c!r} in {subscripts!r}")
    spare = [c for c in string.ascii_letters if c not in used] + [chr(0x100 + i) for i in range(64)]
    n_ell = 0
    for t, s in safe_zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(s) - (len(t) - 3))
    ell = "".join(spare[:n_ell])
    labels = []
    for t, s in safe_zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            if k < 0:
                raise ValueError(f"jnp.einsum: subscripts {t!r} do not fit an operand of shape {s}")
            t = t.replace("...", ell[n_ell - k :])
        if len(t) != len(s):
            raise ValueError(
                f"jnp.einsum: subscripts {t!r} have {len(t)} labels for an operand of shape {s}"
            )
        labels.append(t)
    if explicit:
        out = out.replace("...", ell)
    else:
        counts = {}
        for t in labels:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    if len(set(out)) != len(out):
        raise ValueError(f"jnp.einsum: output subscripts {out!r} repeat a label")
    for c in out:
        if not any(c in t for t in labels):
            raise ValueError(f"jnp.einsum: output label {c!r} does not appear in an input")
    return labels, out


def _sum_labels(x, labels: str, drop):
    axes = tuple(i for i, c in enumerate(labels) if c in drop)
    if not axes:
        return x, labels
    red = lax.reduce_or if dtype_of(x).kind == "b" else lax.reduce_sum
    return red(x, axes), "".join(c for c in labels if c not in drop)


def _diagonals(x, labels: str):
    """Takes the diagonal for every label repeated within one operand."""
    while True:
        dup = next((c for c in labels if labels.count(c) > 1), None)
        if dup is None:
            return x, labels
        i = labels.index(dup)
        j = labels.index(dup, i + 1)
        x = diagonal(x, 0, i, j)
        labels = "".join(c for k, c in enumerate(labels) if k not in (i, j)) + dup


def einsum(
    subscripts, *operands, out=None, optimize="auto", precision=None, preferred_element_type=None
):
    """Einstein summation, contracting operands left to right with `dot_general`.

    Supports explicit (`'ij,jk->ik'`) and implicit (`'ij,jk'`) outputs, `...`, repeated labels
    (diagonals and traces) and any number of operands.

    Example:
      >>> jnp.einsum("ij,j->i", jnp.ones((2, 3)), jnp.arange(3.0))
      Array([3., 3.], dtype=float32)
    """
    if out is not None:
        raise TypeError("jnp.einsum: the `out` argument is not supported")
    if not isinstance(subscripts, str):
        raise TypeError("jnp.einsum: only the string form of the subscripts is supported")
    ops = [asarray(o, "einsum") for o in operands]
    if not ops:
        raise ValueError("jnp.einsum: need at least one operand")
    ops = list(promote_dtypes("einsum", *ops))
    pet = canonical_dtype(preferred_element_type, "einsum")
    labels, out_labels = _parse_einsum(subscripts, [shape_of(o) for o in ops])
    sizes: dict[str, int] = {}
    for t, o in safe_zip(labels, ops):
        for c, d in safe_zip(t, shape_of(o)):
            prev = sizes.get(c, 1)
            if prev != d and 1 not in (prev, d):
                raise ValueError(
                    f"jnp.einsum: label {c!r} has sizes {prev} and {d} in {subscripts!r}"
                )
            sizes[c] = d if prev == 1 else prev
    terms = []
    for o, t in safe_zip(ops, labels):
        o = broadcast_to_shape(o, tuple(sizes[c] for c in t), "einsum")
        terms.append(_diagonals(o, t))

    def needed_after(k):
        return set(out_labels).union(*[set(t) for _, t in terms[k + 1 :]])

    x, xl = terms[0]
    x, xl = _sum_labels(x, xl, set(xl) - needed_after(0))
    for k in range(1, len(terms)):
        y, yl = terms[k]
        keep = needed_after(k)
        y, yl = _sum_labels(y, yl, set(yl) - keep - set(xl))
        x, xl = _sum_labels(x, xl, set(xl) - keep - set(yl))
        shared = [c for c in xl if c in yl]
        batch = [c for c in shared if c in keep]
        contract = [c for c in shared if c not in keep]
        x = _dot_general(
            x,
            y,
            (tuple(xl.index(c) for c in contract), tuple(yl.index(c) for c in contract)),
            (tuple(xl.index(c) for c in batch), tuple(yl.index(c) for c in batch)),
            None,
        )
        xl = (
            "".join(batch)
            + "".join(c for c in xl if c not in shared)
            + "".join(c for c in yl if c not in shared)
        )
    x, xl = _sum_labels(x, xl, set(xl) - set(out_labels))
    perm = tuple(xl.index(c) for c in out_labels)
    if perm != tuple(range(len(perm))):
        x = lax.transpose(x, perm)
    if pet is not None and dtype_of(x) != pet:
        x = lax.convert_element_type(x, pet)
    return x


def einsum_path(subscripts, /, *operands, optimize="auto"):
    """jnp.einsum_path: `(path, info)`, the pairwise contraction order opt_einsum chooses for
    these operand shapes (`optimize`: 'auto', 'greedy', 'optimal', ... or True = 'optimal',
    False = left to right, or an explicit path), as JAX, which delegates to opt_einsum. `info`
    is opt_einsum's PathInfo (printable). Without opt_einsum installed, NumPy's einsum_path
    computes the path ('greedy', or 'optimal' for 'auto' with at most 4 operands) and `info` is
    its report string. jnp.einsum itself contracts left to right whatever the path."""
    if not isinstance(subscripts, str):
        raise TypeError("jnp.einsum_path: only the string form of the subscripts is supported")
    shapes = [shape_of(asarray(o, "einsum_path")) for o in operands]
    n = len(shapes)
    if optimize is False:
        optimize = [(0, 1)] * (n - 1) if n > 1 else [(0,)]
    elif optimize is True:
        optimize = "optimal"
    try:  # an optional dependency (JAX's own): a name, not an import statement of jaxlite's
        opt_einsum = importlib.import_module("opt_einsum")
    except ImportError:
        opt_einsum = None
    if opt_einsum is not None:
        return opt_einsum.contract_path(subscripts, *shapes, shapes=True, optimize=optimize)
    if isinstance(optimize, str):
        kind = "optimal" if optimize == "optimal" or (optimize == "auto" and n <= 4) else "greedy"
        optimize = (kind, 2**62)  # opt_einsum: no memory limit by default
    else:
        optimize = ["einsum_path", *[tuple(p) for p in optimize]]
    dummies = [np.lib.stride_tricks.as_strided(np.zeros(1), s, (0,) * len(s)) for s in shapes]
    path, info = np.einsum_path(subscripts, *dummies, optimize=optimize)
    return [tuple(p) for p in path[1:]], info
