"""How the oracle calls each public function: `SPECS = {"numpy.sin": Spec, ...}`.

A name is the path after `jaxlite.` (`numpy.linalg.norm`, `lax.add`, `nn.relu`). Families share a
spec (unary and binary elementwise, reductions, cumulative, ...), so the table stays short. A call
is `fn(f, L, *arrays)`: `f` is the function of library `L` (jaxlite or JAX, see harness.Lib), the
arrays are generated per dtype; statics (axes, shapes, dtypes) are written in the call.
"""

from __future__ import annotations

import jax

from .enumerate_api import all_names
from .harness import DTYPES, FLOATS, Call, Spec

NUM = tuple(d for d in DTYPES if d != "bool")
INTB = ("bool", *(d for d in DTYPES if d[0] in "iu"))

U = [((3, 4),), ("special",), ((),), ((0,),)]  # unary shapes: 2-d, specials, 0-d, empty
B = [((3, 1), (4,)), ("special", "special"), ((), ()), ((5,), (5,)), ((0,), (1,)), ((2, 3), ())]
M = [((2, 3, 3),), ((3, 3),)]  # square matrices: batched, single
V = [((4,),)]
X2 = [((3, 4),)]


def unary(diff=True, dtypes=DTYPES, tol=1.0, kind="any"):
    return Spec([Call(lambda f, L, x: f(x), U, kind)], dtypes=dtypes, diff=diff, tol=tol)


def binary(diff=True, dtypes=DTYPES, tol=1.0, kind="any", weak=True):
    calls = [Call(lambda f, L, x, y: f(x, y), B, kind)]
    if weak:  # weak-typed Python scalars on either side
        calls += [
            Call(lambda f, L, x: f(x, 2), [((3,),)], kind),
            Call(lambda f, L, x: f(1.5, x), [((3,),)], kind),
            Call(lambda f, L, x: f(x, True), [((),)], kind),
        ]
    return Spec(calls, dtypes=dtypes, diff=diff, tol=tol)


def lax_binary(diff=True, dtypes=DTYPES, kind="any"):
    calls = [Call(lambda f, L, x, y: f(x, y), [((3, 4), (3, 4)), ("special", "special")], kind)]
    calls += [Call(lambda f, L, x: f(x, 2), [((3,),)], kind)]
    return Spec(calls, dtypes=dtypes, diff=diff)


def reduction(diff=True, dtypes=DTYPES, tol=10.0, extra_kw=None):
    kw = extra_kw or {}
    return Spec(
        [
            Call(lambda f, L, x: f(x, axis=-1, keepdims=True, **kw), [((3, 4),)]),
            Call(lambda f, L, x: f(x, **kw), [("special",), ((),), ((0,),)]),
            Call(lambda f, L, x: f(x, axis=0, **kw), [((0, 3),), ((2, 3, 2),)]),
        ],
        dtypes=dtypes,
        diff=diff,
        tol=tol,
    )


def cumulative(diff=True, dtypes=DTYPES):
    return Spec(
        [Call(lambda f, L, x: f(x, axis=1), [((3, 4),), ((2, 0),)]),
         Call(lambda f, L, x: f(x), [("special",), ((),)])],
        dtypes=dtypes, diff=diff, tol=10.0,
    )  # fmt: skip


def one(fn, shapes=X2, diff=False, dtypes=DTYPES, kind="any", **kw):
    """A one-off: `fn(f, L, *arrays)` on the given shapes."""
    return Spec([Call(fn, shapes, kind)], dtypes=dtypes, diff=diff, **kw)


def nullary(fn, dtypes=("float64",), **kw):
    """A function of statics only (creation: `arange`, `eye`, ...): one item, every route is the
    eager one (there is nothing to trace but the statics)."""
    return Spec([Call(fn, [()])], dtypes=dtypes, routes=("eager", "jit"), **kw)


def const():
    """A constant (`jnp.pi`): compared as is."""
    return Spec([Call(lambda f, L: f, [()])], dtypes=("float64",), routes=("eager",))


# ------------------------------------------------------------------------------------ families

_NP_UNARY_DIFF = """abs absolute arccos arccosh arcsin arcsinh arctan arctanh acos acosh asin asinh atan
atanh cbrt cos cosh deg2rad degrees exp exp2 expm1 fabs log log10 log1p log2 negative positive
rad2deg radians reciprocal sin sinc sinh sqrt square tan tanh conj conjugate real""".split()
_NP_UNARY_NONDIFF = """ceil floor trunc rint sign signbit isfinite isinf isnan isneginf
isposinf logical_not angle imag iscomplex isreal nan_to_num""".split()
_NP_UNARY_INT = "bitwise_not bitwise_invert invert".split()
_NP_BINARY_DIFF = """add subtract multiply divide true_divide power pow float_power arctan2 atan2
hypot logaddexp logaddexp2 maximum minimum fmax fmin copysign heaviside""".split()
_NP_BINARY_NONDIFF = """floor_divide mod remainder fmod nextafter equal not_equal less less_equal
greater greater_equal logical_and logical_or logical_xor ldexp""".split()
_NP_BINARY_INT = """bitwise_and bitwise_or bitwise_xor left_shift right_shift bitwise_left_shift
bitwise_right_shift""".split()
_NP_REDUCE_DIFF = """sum prod mean var std max min amax amin nansum nanprod nanmean nanvar nanstd
nanmax nanmin ptp""".split()
_NP_REDUCE_NONDIFF = (
    """all any argmax argmin nanargmax nanargmin count_nonzero median nanmedian""".split()
)
_NP_CUMULATIVE = "cumsum cumprod nancumsum nancumprod cumulative_sum cumulative_prod".split()
_NP_SCALAR_TYPES = """bool bool_ float32 float64 int8 int16 int32 int64 uint8 uint16 uint32
    uint64""".split()
_NP_ABSTRACT = """complexfloating floating generic inexact integer number signedinteger
unsignedinteger""".split()
_NP_CONSTS = "e euler_gamma inf nan pi newaxis".split()

_LAX_UNARY_DIFF = """abs acos acosh asin asinh atan atanh cbrt cos cosh erf erf_inv exp exp2 expm1
log log1p logistic neg rsqrt sin sinh sqrt square tan tanh""".split()
_LAX_UNARY_NONDIFF = "ceil floor is_finite sign round".split()
_LAX_BINARY_DIFF = "add sub mul div pow atan2 max min rem".split()
_LAX_BINARY_NONDIFF = "eq ne lt le gt ge nextafter".split()
_LAX_BINARY_INT = """bitwise_and bitwise_or bitwise_xor shift_left shift_right_arithmetic
shift_right_logical""".split()
_LAX_REDUCE = "reduce_sum reduce_prod reduce_max reduce_min reduce_and reduce_or".split()
_LAX_CUMULATIVE = "cumsum cumprod cummax cummin".split()

_NN_UNARY = """relu relu6 sigmoid softplus silu swish gelu elu leaky_relu tanh log_sigmoid
identity""".split()

SPECS: dict[str, Spec] = {}
SPECS |= {f"numpy.{n}": unary() for n in _NP_UNARY_DIFF}
SPECS |= {f"numpy.{n}": unary(diff=False) for n in _NP_UNARY_NONDIFF + _NP_SCALAR_TYPES}
SPECS |= {f"numpy.{n}": unary(diff=False) for n in _NP_UNARY_INT}
SPECS |= {f"numpy.{n}": binary() for n in _NP_BINARY_DIFF}
SPECS |= {f"numpy.{n}": binary(diff=False) for n in _NP_BINARY_NONDIFF + _NP_BINARY_INT}
SPECS |= {f"numpy.{n}": reduction() for n in _NP_REDUCE_DIFF}
SPECS |= {f"numpy.{n}": reduction(diff=False) for n in _NP_REDUCE_NONDIFF}
SPECS |= {f"numpy.{n}": cumulative() for n in _NP_CUMULATIVE}
SPECS |= {f"numpy.{n}": const() for n in _NP_CONSTS}
SPECS |= {
    f"numpy.{n}": one(lambda f, L, x: L.numpy.issubdtype(x.dtype, f), [((2,),)], routes=("eager",))
    for n in _NP_ABSTRACT
}
SPECS |= {f"lax.{n}": unary(dtypes=DTYPES) for n in _LAX_UNARY_DIFF}
SPECS |= {f"lax.{n}": unary(diff=False) for n in _LAX_UNARY_NONDIFF}
SPECS |= {f"lax.{n}": unary(diff=False) for n in ("bitwise_not",)}
SPECS |= {f"lax.{n}": lax_binary() for n in _LAX_BINARY_DIFF}
SPECS |= {f"lax.{n}": lax_binary(diff=False) for n in _LAX_BINARY_NONDIFF + _LAX_BINARY_INT}
SPECS |= {f"lax.{n}": one(lambda f, L, x: f(x, (1,)), [((3, 4),), ((2, 0),)]) for n in _LAX_REDUCE}
SPECS |= {
    f"lax.{n}": one(lambda f, L, x: f(x, axis=1, reverse=True), [((3, 4),)], diff=True)
    for n in _LAX_CUMULATIVE
}
SPECS |= {f"nn.{n}": unary(dtypes=DTYPES) for n in _NN_UNARY}

_ax = lambda n, diff=True, tol=10.0: Spec(  # noqa: E731  (softmax-like: axis=-1)
    [Call(lambda f, L, x: f(x, axis=-1), [((3, 4),), ("special",), ((0,),)])],
    diff=diff, tol=tol,
)  # fmt: skip
SPECS |= {f"nn.{n}": _ax(n) for n in ("softmax", "log_softmax", "logsumexp", "standardize")}
SPECS["nn.one_hot"] = one(lambda f, L, x: f(x, 4), [((5,),), ((2, 3),)], kind="index")

# ------------------------------------------------------------------------- jnp one-offs (arrays)

_n = "numpy."
SPECS |= {
    _n + "clip": one(lambda f, L, x: f(x, 1, 3), U, diff=True),
    _n + "around": one(lambda f, L, x: f(x, 1), U),
    _n + "round": one(lambda f, L, x: f(x, 1), U),
    _n + "where": Spec(
        [
            Call(lambda f, L, c, x, y: f(c > 0, x, y), [((3, 4), (3, 4), (4,))]),
            Call(lambda f, L, c: f(c), [((5,),)]),
        ],
        diff=True,
    ),  # fmt: skip
    _n + "select": one(lambda f, L, x, y: f([x > 0, y > 1], [x, y], 7), [((3, 4), (3, 4))]),
    _n + "divmod": binary(diff=False, weak=False),
    _n + "modf": unary(diff=False),
    _n + "frexp": unary(diff=False),
    _n + "interp": one(lambda f, L, x: f(x, L.numpy.arange(4.0), L.numpy.arange(4.0) ** 2), U),
    _n + "polyval": one(lambda f, L, p, x: f(p, x), [((3,), (4,))], diff=True),
    _n + "isclose": binary(diff=False, weak=False),
    _n + "allclose": one(lambda f, L, x, y: f(x, y), [((3, 4), (3, 4))]),
    _n + "array_equal": one(lambda f, L, x, y: f(x, y), [((3, 4), (3, 4))]),
    _n + "array_equiv": one(lambda f, L, x, y: f(x, y), [((3, 4), (4,))]),
    _n + "average": Spec(
        [
            Call(lambda f, L, x, w: f(x, axis=1, weights=w), [((3, 4), (4,))]),
            Call(lambda f, L, x: f(x), [((3, 4),)]),
        ],
        diff=True,
        tol=10.0,
    ),  # fmt: skip
    _n + "quantile": one(lambda f, L, x: f(x, 0.3, axis=1), [((3, 4),)], tol=10.0),
    _n + "nanquantile": one(lambda f, L, x: f(x, 0.3, axis=1), [((3, 4),)], tol=10.0),
    _n + "percentile": one(lambda f, L, x: f(x, 30.0, axis=1), [((3, 4),)], tol=10.0),
    _n + "nanpercentile": one(lambda f, L, x: f(x, 30.0, axis=1), [((3, 4),)], tol=10.0),
    _n + "cov": one(lambda f, L, x: f(x), [((3, 4),)], tol=10.0),
    _n + "corrcoef": one(lambda f, L, x: f(x), [((3, 4),)], tol=10.0),
    _n + "trapezoid": one(lambda f, L, x: f(x, axis=-1), [((3, 4),)], diff=True),
    _n + "diff": one(lambda f, L, x: f(x, axis=1), [((3, 4),), ((2, 1),)], diff=True),
    _n + "ediff1d": one(lambda f, L, x: f(x), [((5,),)]),
    _n + "matmul": one(
        lambda f, L, x, y: f(x, y), [((3, 4), (4, 2)), ((2, 3, 4), (4,))], diff=True
    ),
    _n + "inner": one(lambda f, L, x, y: f(x, y), [((3, 4), (2, 4))], diff=True),
    _n + "outer": one(lambda f, L, x, y: f(x, y), [((3,), (4,))], diff=True),
    _n + "vdot": one(lambda f, L, x, y: f(x, y), [((3, 4), (3, 4))], diff=True),
    _n + "vecdot": one(lambda f, L, x, y: f(x, y), [((3, 4), (4,))], diff=True),
    _n + "matvec": one(lambda f, L, x, y: f(x, y), [((3, 4), (4,))], diff=True),
    _n + "vecmat": one(lambda f, L, x, y: f(x, y), [((3,), (3, 4))], diff=True),
    _n + "kron": one(lambda f, L, x, y: f(x, y), [((2, 2), (2, 3))], diff=True),
    _n + "cross": one(lambda f, L, x, y: f(x, y), [((2, 3), (2, 3))], diff=True),
    _n + "tensordot": one(lambda f, L, x, y: f(x, y, axes=1), [((3, 4), (4, 2))], diff=True),
    _n + "einsum": one(lambda f, L, x, y: f("ij,jk->ik", x, y), [((3, 4), (4, 2))], diff=True),
    _n + "sort": one(lambda f, L, x: f(x, axis=-1), [((3, 4),), ("special",)], diff=True),
    _n + "argsort": one(lambda f, L, x: f(x, axis=-1), [((3, 4),), ("special",)]),
    _n + "lexsort": one(lambda f, L, x, y: f((x, y)), [((5,), (5,))]),
    _n + "partition": one(lambda f, L, x: f(x, 2), [((3, 4),)]),
    _n + "argpartition": one(lambda f, L, x: f(x, 2)[..., 2], [((3, 4),)]),
    _n + "searchsorted": one(lambda f, L, a, v: f(L.numpy.sort(a), v), [((6,), (3, 2))]),
    _n + "digitize": one(lambda f, L, x: f(x, L.numpy.array([-1.0, 0.0, 2.0])), [((3, 4),)]),
    _n + "bincount": one(lambda f, L, x: f(x, length=4), [((6,),)], kind="index"),
    _n + "unique": one(lambda f, L, x: f(x, size=6, fill_value=0), [((3, 4),)]),
    _n + "unique_values": one(lambda f, L, x: f(x), [((3, 4),)]),
    _n + "unique_counts": one(lambda f, L, x: f(x), [((3, 4),)]),
    _n + "unique_inverse": one(lambda f, L, x: f(x), [((3, 4),)]),
    _n + "unique_all": one(lambda f, L, x: f(x), [((3, 4),)]),
    _n + "union1d": one(lambda f, L, x, y: f(x, y, size=8, fill_value=0), [((4,), (5,))]),
    _n + "intersect1d": one(lambda f, L, x, y: f(x, y, size=8, fill_value=0), [((4,), (5,))]),
    _n + "setdiff1d": one(lambda f, L, x, y: f(x, y, size=8, fill_value=0), [((4,), (5,))]),
    _n + "isin": one(lambda f, L, x, y: f(x, y), [((3, 4), (3,))]),
    _n + "nonzero": one(lambda f, L, x: f(x, size=5, fill_value=-1), [((3, 4),)]),
    _n + "argwhere": one(lambda f, L, x: f(x, size=5, fill_value=-1), [((3, 4),)]),
    _n + "flatnonzero": one(lambda f, L, x: f(x, size=5, fill_value=-1), [((3, 4),)]),
    _n + "extract": one(lambda f, L, c, x: f(c > 0, x, size=5, fill_value=0), [((3, 4), (3, 4))]),
    _n + "compress": one(
        lambda f, L, x: f(L.numpy.array([True, False, True]), x, axis=0, size=2), [((3, 4),)]
    ),
    _n + "trim_zeros": one(lambda f, L, x: f(x), [((6,),)], routes=("eager",)),
    # shape and layout
    _n + "reshape": one(lambda f, L, x: f(x, (2, -1)), [((3, 4),), ((0, 2),)], diff=True),
    _n + "ravel": one(lambda f, L, x: f(x), [((3, 4),), ((),)], diff=True),
    _n + "transpose": one(lambda f, L, x: f(x), [((3, 4),), ((2, 3, 4),)], diff=True),
    _n + "permute_dims": one(lambda f, L, x: f(x, (1, 0)), X2, diff=True),
    _n + "matrix_transpose": one(lambda f, L, x: f(x), [((2, 3, 4),)], diff=True),
    _n + "swapaxes": one(lambda f, L, x: f(x, 0, 1), X2, diff=True),
    _n + "moveaxis": one(lambda f, L, x: f(x, 0, -1), [((2, 3, 4),)], diff=True),
    _n + "rollaxis": one(lambda f, L, x: f(x, 2), [((2, 3, 4),)], diff=True),
    _n + "expand_dims": one(lambda f, L, x: f(x, 0), [((3, 4),), ((),)], diff=True),
    _n + "squeeze": one(lambda f, L, x: f(x), [((3, 1, 4),), ((1,),)], diff=True),
    _n + "broadcast_to": one(lambda f, L, x: f(x, (2, 3, 4)), [((3, 4),), ((),)], diff=True),
    _n + "broadcast_arrays": one(lambda f, L, x, y: f(x, y), [((3, 1), (4,))], diff=True),
    _n + "atleast_1d": one(lambda f, L, x: f(x), [((),), ((3,),)], diff=True),
    _n + "atleast_2d": one(lambda f, L, x: f(x), [((),), ((3,),)], diff=True),
    _n + "atleast_3d": one(lambda f, L, x: f(x), [((),), ((3, 4),)], diff=True),
    _n + "flip": one(lambda f, L, x: f(x, 1), X2, diff=True),
    _n + "fliplr": one(lambda f, L, x: f(x), X2, diff=True),
    _n + "flipud": one(lambda f, L, x: f(x), X2, diff=True),
    _n + "rot90": one(lambda f, L, x: f(x), X2, diff=True),
    _n + "roll": one(lambda f, L, x: f(x, 2, axis=1), X2, diff=True),
    _n + "tile": one(lambda f, L, x: f(x, (2, 1)), X2, diff=True),
    _n + "repeat": one(lambda f, L, x: f(x, 2, axis=0), X2, diff=True),
    _n + "resize": one(lambda f, L, x: f(x, (5, 3)), X2),
    _n + "concatenate": one(lambda f, L, x, y: f([x, y], axis=1), [((3, 4), (3, 2))], diff=True),
    _n + "concat": one(lambda f, L, x, y: f([x, y], axis=0), [((3, 4), (2, 4))], diff=True),
    _n + "stack": one(lambda f, L, x, y: f([x, y], axis=1), [((3, 4), (3, 4))], diff=True),
    _n + "hstack": one(lambda f, L, x, y: f([x, y]), [((3, 4), (3, 2))], diff=True),
    _n + "vstack": one(lambda f, L, x, y: f([x, y]), [((3, 4), (2, 4))], diff=True),
    _n + "dstack": one(lambda f, L, x, y: f([x, y]), [((3, 4), (3, 4))], diff=True),
    _n + "column_stack": one(lambda f, L, x, y: f([x, y]), [((3,), (3, 2))], diff=True),
    _n + "unstack": one(lambda f, L, x: f(x), X2, diff=True),
    _n + "split": one(lambda f, L, x: f(x, 2, axis=1), X2, diff=True),
    _n + "array_split": one(lambda f, L, x: f(x, 3, axis=1), X2, diff=True),
    _n + "hsplit": one(lambda f, L, x: f(x, 2), X2, diff=True),
    _n + "vsplit": one(lambda f, L, x: f(x, [1]), X2, diff=True),
    _n + "dsplit": one(lambda f, L, x: f(x, 2), [((2, 3, 4),)], diff=True),
    _n + "append": one(lambda f, L, x, y: f(x, y), [((3, 4), (2,))], diff=True),
    _n + "insert": one(lambda f, L, x: f(x, 1, 9, axis=1), X2),
    _n + "delete": one(lambda f, L, x: f(x, 1, axis=1), X2, diff=True),
    _n + "pad": Spec(
        [
            Call(lambda f, L, x: f(x, ((1, 2), (0, 1))), [((3, 4),)]),
            Call(lambda f, L, x: f(x, 2, mode="reflect"), [((3, 4),)]),
            Call(lambda f, L, x: f(x, 1, mode="edge"), [((3, 4),)]),
        ],
        diff=True,
    ),  # fmt: skip
    _n + "take": one(lambda f, L, x: f(x, L.numpy.array([0, 2, 1]), axis=1), X2, diff=True),
    _n + "take_along_axis": one(
        lambda f, L, x: f(x, L.numpy.argsort(x, axis=1), axis=1), X2, diff=True
    ),
    _n + "diagonal": one(lambda f, L, x: f(x, 1), X2, diff=True),
    _n + "diag": one(lambda f, L, x: f(x), [((4,),), ((3, 4),)], diff=True),
    _n + "diagflat": one(lambda f, L, x: f(x), [((3,),)], diff=True),
    _n + "trace": one(lambda f, L, x: f(x), X2, diff=True),
    _n + "tril": one(lambda f, L, x: f(x, -1), X2, diff=True),
    _n + "triu": one(lambda f, L, x: f(x, 1), X2, diff=True),
    _n + "fill_diagonal": one(lambda f, L, x: f(x, 7, inplace=False), [((3, 3),)]),
    _n + "copy": unary(),
    _n + "array": unary(),
    _n + "asarray": unary(),
    _n + "astype": one(lambda f, L, x: (f(x, "float32"), f(x, "int32")), U),
    _n + "zeros_like": unary(diff=False),
    _n + "ones_like": unary(diff=False),
    _n + "empty_like": Spec([Call(lambda f, L, x: f(x), U)], values=False),
    _n + "full_like": one(lambda f, L, x: f(x, 2), U),
    _n + "tril_indices_from": one(lambda f, L, x: f(x), [((3, 3),)], routes=("eager",)),
    _n + "triu_indices_from": one(lambda f, L, x: f(x, 1), [((3, 3),)], routes=("eager",)),
    _n + "diag_indices_from": one(lambda f, L, x: f(x), [((3, 3),)], routes=("eager",)),
    _n + "ndim": one(lambda f, L, x: f(x), U, routes=("eager",)),
    _n + "shape": one(lambda f, L, x: f(x), U, routes=("eager",)),
    _n + "size": one(lambda f, L, x: f(x), U, routes=("eager",)),
    _n + "isscalar": one(lambda f, L, x: f(x), U, routes=("eager",)),
    _n + "iscomplexobj": one(lambda f, L, x: f(x), U, routes=("eager",)),
    _n + "isrealobj": one(lambda f, L, x: f(x), U, routes=("eager",)),
    _n + "iterable": one(lambda f, L, x: f(x), U, routes=("eager",)),
    _n + "ndarray": one(lambda f, L, x: isinstance(x, f), U, routes=("eager",)),
    _n + "dtype": one(lambda f, L, x: f(x.dtype), U, routes=("eager",)),
    _n + "finfo": one(
        lambda f, L, x: (lambda i: (i.bits, float(i.eps), float(i.max)))(f(x.dtype)),
        [((),)],
        routes=("eager",),
    ),
    _n + "iinfo": one(
        lambda f, L, x: (lambda i: (i.bits, int(i.min), int(i.max)))(f(x.dtype)),
        [((),)],
        routes=("eager",),
    ),
    _n + "isdtype": one(
        lambda f, L, x: tuple(
            f(x.dtype, k) for k in ("bool", "integral", "real floating", "numeric")
        ),
        [((),)],
        routes=("eager",),
    ),
    _n + "issubdtype": one(
        lambda f, L, x: (f(x.dtype, L.numpy.integer), f(x.dtype, L.numpy.floating)),
        [((),)],
        routes=("eager",),
    ),
    _n + "can_cast": one(
        lambda f, L, x: tuple(f(x.dtype, d) for d in ("int32", "float32", "float64", "bool")),
        [((),)],
        routes=("eager",),
    ),
    _n + "meshgrid": one(lambda f, L, x, y: f(x, y), [((3,), (4,))], diff=True),
    _n + "ravel_multi_index": one(
        lambda f, L, i, j: f((i, j), (3, 4)), [((5,), (5,))], kind="index"
    ),
    _n + "unravel_index": one(lambda f, L, i: f(i, (3, 4)), [((5,),)], kind="index"),
}
SPECS |= {
    _n + "arange": nullary(lambda f, L: (f(5), f(1.5, 4.0), f(0, 10, 3, dtype="int32"))),
    _n + "linspace": nullary(lambda f, L: (f(0, 1, 5), f(0, 10, 4, dtype="int32"))),
    _n + "logspace": nullary(lambda f, L: f(0, 2, 5)),
    _n + "geomspace": nullary(lambda f, L: f(1, 1000, 4)),
    _n + "eye": nullary(lambda f, L: (f(3), f(2, 3, 1, dtype="int32"))),
    _n + "identity": nullary(lambda f, L: f(3)),
    _n + "tri": nullary(lambda f, L: f(3, 4, 1)),
    _n + "zeros": nullary(lambda f, L: (f(3), f((2, 0), "int32"), f(()))),
    _n + "ones": nullary(lambda f, L: (f(3), f((2, 3), "uint8"))),
    _n + "full": nullary(lambda f, L: (f(3, 2.5), f((2,), 7), f((2,), True))),
    _n + "empty": Spec([Call(lambda f, L: f((2, 3)), [()])], routes=("eager",), values=False),
    _n + "indices": nullary(lambda f, L: f((2, 3))),
    _n + "tril_indices": nullary(lambda f, L: f(3)),
    _n + "triu_indices": nullary(lambda f, L: f(3, 1)),
    _n + "diag_indices": nullary(lambda f, L: f(3)),
    _n + "fromfunction": nullary(lambda f, L: f(lambda i, j: i + 2 * j, (2, 3))),
    _n + "broadcast_shapes": Spec([Call(lambda f, L: f((3, 1), (4,)), [()])], routes=("eager",)),
    _n + "promote_types": Spec([Call(lambda f, L: f("int32", "float32"), [()])], routes=("eager",)),
    _n + "result_type": Spec([Call(lambda f, L: f("uint8", 1.0), [()])], routes=("eager",)),
}
SPECS[_n + "dot"] = Spec(
    [Call(lambda f, L, x, y: f(x, y), [((3, 4), (4, 2)), ((4,), (4,)), ((), (3,))])], diff=True
)

# ----------------------------------------------------------------------------------- jnp.linalg

_l = "numpy.linalg."
_sym = lambda L, a: a @ L.numpy.swapaxes(a, -1, -2) + 3 * L.numpy.eye(a.shape[-1], dtype=a.dtype)  # noqa: E731
_lin = dict(dtypes=("int32",) + FLOATS, diff=True, tol=1e4)
SPECS |= {
    _l + "cholesky": one(lambda f, L, a: f(_sym(L, a)), M, **_lin),
    _l + "det": one(lambda f, L, a: f(a), M, **_lin),
    _l + "slogdet": one(lambda f, L, a: f(a), M, **_lin),
    _l + "inv": one(lambda f, L, a: f(_sym(L, a)), M, **_lin),
    _l + "solve": one(lambda f, L, a, b: f(_sym(L, a), b), [((3, 3), (3, 2))], **_lin),
    _l + "eigh": one(lambda f, L, a: f(_sym(L, a))[0], M, **_lin),
    _l + "eigvalsh": one(lambda f, L, a: f(_sym(L, a)), M, **_lin),
    _l + "svdvals": one(lambda f, L, a: f(a), M, **_lin),
    _l + "svd": one(lambda f, L, a: f(a, compute_uv=False), M, **_lin),
    _l + "qr": one(lambda f, L, a: L.numpy.abs(f(a)[1]), M, **_lin),
    _l + "pinv": one(lambda f, L, a: f(_sym(L, a)), M, **_lin),
    _l + "lstsq": one(lambda f, L, a, b: f(_sym(L, a), b)[0], [((3, 3), (3,))], **_lin),
    _l + "matrix_rank": one(lambda f, L, a: f(a), M, dtypes=("int32",) + FLOATS),
    _l + "matrix_power": one(lambda f, L, a: f(a, 3), M, **_lin),
    _l + "norm": Spec(
        [Call(lambda f, L, a: f(a), M), Call(lambda f, L, a: f(a, axis=-1), M)], **_lin
    ),
    _l + "matrix_norm": one(lambda f, L, a: f(a), M, **_lin),
    _l + "vector_norm": one(lambda f, L, a: f(a, axis=-1), M, **_lin),
    _l + "multi_dot": one(lambda f, L, a, b: f([a, b, a]), [((3, 3), (3, 3))], **_lin),
    _l + "diagonal": one(lambda f, L, a: f(a), M, diff=True),
    _l + "trace": one(lambda f, L, a: f(a), M, diff=True),
    _l + "matrix_transpose": one(lambda f, L, a: f(a), M, diff=True),
    _l + "matmul": one(lambda f, L, a, b: f(a, b), [((3, 3), (3, 3))], diff=True),
    _l + "outer": one(lambda f, L, a, b: f(a, b), [((3,), (4,))], diff=True),
    _l + "cross": one(lambda f, L, a, b: f(a, b), [((2, 3), (2, 3))], diff=True),
    _l + "vecdot": one(lambda f, L, a, b: f(a, b), [((3, 4), (3, 4))], diff=True),
    _l + "tensordot": one(lambda f, L, a, b: f(a, b, axes=1), [((3, 4), (4, 2))], diff=True),
}

# ----------------------------------------------------------------------------------- lax one-offs

_x = "lax."
SPECS |= {
    _x + "clamp": one(lambda f, L, x: f(x.dtype.type(0), x, x.dtype.type(2)), U),
    _x + "integer_pow": one(lambda f, L, x: (f(x, 3), f(x, 0)), U, diff=True),
    _x + "convert_element_type": one(
        lambda f, L, x: (f(x, "float32"), f(x, "int32"), f(x, "bool")), U
    ),
    _x + "bitcast_convert_type": one(
        lambda f, L, x: f(x, {1: "uint8", 4: "float32", 8: "int64"}[x.dtype.itemsize]), U
    ),
    _x + "select_n": one(
        lambda f, L, c, x, y: f(c > 1, x, y), [((3, 4), (3, 4), (3, 4))], diff=True
    ),
    _x + "pad": one(lambda f, L, x: f(x, x.dtype.type(0), ((1, 2, 0), (0, 1, 1))), X2, diff=True),
    _x + "dynamic_slice": one(lambda f, L, x: f(x, (1, 2), (2, 2)), X2, diff=True),
    _x + "dynamic_update_slice": one(
        lambda f, L, x, u: f(x, u, (1, 3)), [((3, 4), (2, 2))], diff=True
    ),
    _x + "slice": one(lambda f, L, x: f(x, (0, 1), (3, 4), (2, 1)), X2, diff=True),
    _x + "broadcast_in_dim": one(lambda f, L, x: f(x, (2, 3, 4), (1, 2)), X2, diff=True),
    _x + "broadcast": one(lambda f, L, x: f(x, (2,)), X2, diff=True),
    _x + "reshape": one(lambda f, L, x: f(x, (4, 3)), X2, diff=True),
    _x + "transpose": one(lambda f, L, x: f(x, (1, 0)), X2, diff=True),
    _x + "squeeze": one(lambda f, L, x: f(x, (1,)), [((3, 1, 4),)], diff=True),
    _x + "expand_dims": one(lambda f, L, x: f(x, (0, 2)), X2, diff=True),
    _x + "rev": one(lambda f, L, x: f(x, (0, 1)), X2, diff=True),
    _x + "concatenate": one(lambda f, L, x, y: f([x, y], 1), [((3, 4), (3, 4))], diff=True),
    _x + "sort": one(lambda f, L, x: f(x), [((3, 4),), ("special",)], diff=True),
    _x + "argmax": one(lambda f, L, x: f(x, 1, "int32"), X2),
    _x + "argmin": one(lambda f, L, x: f(x, 0, "int64"), X2),
    _x + "iota": nullary(lambda f, L: (f("int32", 4), f("float32", 3))),
    _x + "broadcasted_iota": nullary(lambda f, L: f("int64", (2, 3), 1)),
    _x + "stop_gradient": unary(),
    _x + "dot": one(lambda f, L, x, y: f(x, y), [((3, 4), (4, 2))], diff=True),
    _x + "dot_general": one(
        lambda f, L, x, y: f(x, y, (((1,), (0,)), ((), ()))), [((3, 4), (4, 2))], diff=True
    ),
    _x + "gather": one(
        lambda f, L, x: f(
            x,
            L.numpy.array([[0], [2]]),
            L.lax.GatherDimensionNumbers(
                offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,)
            ),
            (1, 4),
            mode="clip",
        ),
        X2,
        diff=True,
    ),
    _x + "scatter_add": one(
        lambda f, L, x, u: f(
            x,
            L.numpy.array([[0], [2]]),
            u,
            L.lax.ScatterDimensionNumbers(
                update_window_dims=(1,),
                inserted_window_dims=(0,),
                scatter_dims_to_operand_dims=(0,),
            ),
            mode="clip",
        ),
        [((3, 4), (2, 4))],
        diff=True,
    ),
    _x + "cond": one(lambda f, L, x: f(True, lambda a: a * 2, lambda a: a - 1, x), X2, diff=True),
    _x + "switch": one(lambda f, L, x: f(1, [lambda a: a * 2, lambda a: a - 1], x), X2, diff=True),
    _x + "fori_loop": one(lambda f, L, x: f(0, 3, lambda i, a: a * 2, x), X2, diff=True),
    _x + "while_loop": one(
        lambda f, L, x: f(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2), (0, x))[1], X2
    ),
    _x + "scan": one(
        lambda f, L, x: f(lambda c, r: (c + r, c * r), L.numpy.zeros_like(x[0]), x), X2, diff=True
    ),
    _x + "map": one(lambda f, L, x: f(lambda r: r * 2, x), X2, diff=True),
}
for _s in ("scatter", "scatter_mul", "scatter_min", "scatter_max"):
    SPECS[_x + _s] = SPECS[_x + "scatter_add"].__class__(
        SPECS[_x + "scatter_add"].calls, diff=False
    )

# --------------------------------------------------------------------------------- random, trees

_r = "random."
_key = lambda L: L.random.PRNGKey(3)  # noqa: E731
_rand = lambda fn: Spec([Call(fn, [()])], dtypes=("float64",), routes=("eager", "jit"))  # noqa: E731
SPECS |= {
    _r + "PRNGKey": _rand(lambda f, L: f(7)),
    _r + "key": _rand(lambda f, L: L.random.key_data(f(7))),
    _r + "key_data": _rand(lambda f, L: f(_key(L))),
    _r + "wrap_key_data": _rand(lambda f, L: L.random.key_data(f(_key(L)))),
    _r + "split": _rand(lambda f, L: f(_key(L), 3)),
    _r + "fold_in": _rand(lambda f, L: f(_key(L), 5)),
    _r + "bits": _rand(lambda f, L: f(_key(L), (4,))),
    _r + "uniform": _rand(lambda f, L: (f(_key(L), (3,)), f(_key(L), (2,), "float32", -1, 2))),
    _r + "normal": _rand(lambda f, L: (f(_key(L), (3,)), f(_key(L), (2,), "float32"))),
    _r + "randint": _rand(lambda f, L: f(_key(L), (5,), 0, 10)),
    _r + "bernoulli": _rand(lambda f, L: f(_key(L), 0.3, (5,))),
    _r + "categorical": _rand(lambda f, L: f(_key(L), L.numpy.array([0.1, 1.0, -2.0]), shape=(5,))),
    _r + "choice": _rand(lambda f, L: f(_key(L), 5, (3,), replace=False)),
    _r + "permutation": _rand(lambda f, L: f(_key(L), 6)),
    _r + "truncated_normal": _rand(lambda f, L: f(_key(L), -1.0, 2.0, (4,))),
    _r + "gumbel": _rand(lambda f, L: f(_key(L), (4,))),
}
_t = "tree_util."
_tree = lambda fn: Spec([Call(fn, [((3,), (2, 2))])], dtypes=("float64",), routes=("eager",))  # noqa: E731
SPECS |= {
    _t + "tree_flatten": _tree(lambda f, L, a, b: f({"a": a, "b": (b, None)})[0]),
    _t + "tree_unflatten": _tree(
        lambda f, L, a, b: f(L.tree_util.tree_structure((1, [2])), [a, b])
    ),
    _t + "tree_map": _tree(
        lambda f, L, a, b: f(lambda x, y: x * 2 + y.sum(), {"a": a, "b": b}, {"a": b, "b": a})
    ),
    _t + "tree_leaves": _tree(lambda f, L, a, b: f([a, {"x": b, "y": None}])),
    _t + "tree_structure": _tree(lambda f, L, a, b: f([a, {"x": b}]).num_leaves),
    _t + "tree_reduce": _tree(lambda f, L, a, b: f(lambda x, y: x + y.sum(), [a, b], 0.0)),
    _t + "tree_all": _tree(lambda f, L, a, b: f([True, (a > -100).all()])),
    _t + "tree_flatten_with_path": _tree(
        lambda f, L, a, b: [L.tree_util.keystr(p) for p, _ in f({"a": a, "b": [b]})[0]]
    ),
    _t + "tree_map_with_path": _tree(
        lambda f, L, a, b: f(lambda p, x: x * len(p), {"a": a, "b": [b]})
    ),
    _t + "keystr": _tree(
        lambda f, L, a, b: f(L.tree_util.tree_flatten_with_path([a, {"k": b}])[0][1][0])
    ),
    _t + "treedef_is_leaf": _tree(lambda f, L, a, b: f(L.tree_util.tree_structure(a))),
    _t + "all_leaves": _tree(lambda f, L, a, b: (f([a, b]), f([a, [b]]))),
    _t + "tree_transpose": _tree(
        lambda f, L, a, b: f(
            L.tree_util.tree_structure([0, 0]),
            L.tree_util.tree_structure((0, 0, 0)),
            [(a, b, a), (b, a, b)],
        )
    ),
    _t + "Partial": _tree(lambda f, L, a, b: f(L.numpy.add, a)(a)),
}

# Primitive objects (`lax.add_p`): the same primitive name as JAX's; their behaviour is the
# wrapper's (`lax.add`), compared above.
SPECS |= {
    n: Spec([Call(lambda f, L: f.name, [()])], dtypes=("float64",), routes=("eager",))
    for n in all_names()
    if n.startswith("lax.") and n.endswith("_p") and hasattr(jax.lax, n[4:])
}
SPECS[_x + "select"] = one(
    lambda f, L, c, x, y: f(c > 1, x, y), [((3, 4), (3, 4), (3, 4))], diff=True
)

# Specs of other modules live beside this file, one file per area (`specs_scipy.py`, ...), each
# with its own `SPECS` dict: areas are added without editing (or merging into) this table.
import dataclasses as _dc  # noqa: E402
import importlib as _importlib  # noqa: E402
import os as _os  # noqa: E402
import pkgutil as _pkgutil  # noqa: E402

for _info in _pkgutil.iter_modules([_os.path.dirname(__file__)]):
    if _info.name.startswith("specs_"):
        _mod = _importlib.import_module(f"{__package__}.{_info.name}")
        _more = _mod.SPECS
        _clash = sorted(set(_more) & set(SPECS))
        assert not _clash, f"{_info.name} specs names already specified: {_clash}"
        SPECS |= _more
        # An area may add dtypes to the specs of this file's names (complex: specs_complex.py).
        for _name, _dts in getattr(_mod, "EXTRA_DTYPES", {}).items():
            SPECS[_name] = _dc.replace(SPECS[_name], dtypes=SPECS[_name].dtypes + tuple(_dts))
