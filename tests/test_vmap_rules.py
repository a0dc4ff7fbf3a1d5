"""vmap of every primitive: hypothesis picks shapes, parameters, which operands are batched and
along which axes, and where the output axis goes; the result must equal the loop over examples.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxlite
from jaxlite import lax
from jaxlite.array import Array
from jaxlite.interpreters.vmap import batch_rules
from jaxlite.primitives import ALL_PRIMITIVES

f32, f64, i32, u32, u8, b_ = (
    np.dtype(t) for t in ("float32", "float64", "int32", "uint32", "uint8", "bool")
)
i8, i16, u16, u64 = (np.dtype(t) for t in ("int8", "int16", "uint16", "uint64"))
FLOATS = [f32, f64]

# ------------------------------------------------------------------------------------------
# Random operands
# ------------------------------------------------------------------------------------------


def gen(rng, shape, dtype, domain):
    """A random per-example operand of `shape` and `dtype` drawn from `domain`."""
    if domain == "any":
        v = rng.normal(size=shape) * 2
    elif domain == "pos":
        v = rng.uniform(0.1, 3.0, size=shape)
    elif domain == "unit":
        v = rng.uniform(-0.95, 0.95, size=shape)
    elif domain == "ge1":
        v = rng.uniform(1.0, 3.0, size=shape)
    elif domain == "special":
        v = rng.choice([0.0, 1.5, -2.0, np.inf, -np.inf, np.nan], size=shape)
    elif domain == "int":
        v = rng.integers(-5, 6, size=shape)
    elif domain == "nat":
        v = rng.integers(0, 6, size=shape)
    elif domain == "bool":
        v = rng.random(size=shape) < 0.5
    elif domain == "shift":
        v = rng.integers(-1, 8 * dtype.itemsize + 1, size=shape)
    elif domain.startswith("idx"):  # a start index for an axis of size D: some out of range
        d = int(domain[3:])
        v = rng.integers(-2, d + 3, size=shape)
    else:
        raise ValueError(domain)
    return np.asarray(v).astype(dtype)


def shapes(min_rank=0, max_rank=3, max_size=3):
    return st.lists(st.integers(1, max_size), min_size=min_rank, max_size=max_rank).map(tuple)


def maybe_scalar(data, shape):
    """lax broadcasts rank-0 operands: half the time an operand is a scalar per example."""
    return () if data.draw(st.booleans()) else shape


# ------------------------------------------------------------------------------------------
# The table: one entry per primitive; each draws (function, operand specs) from `data`
# ------------------------------------------------------------------------------------------

CASES: dict = {}


def case(*names):
    def register(fn):
        for n in names:
            CASES[n] = partial(fn, n)
        return fn

    return register


UNARY_FLOAT = {
    "exp": "any", "exp2": "any", "log": "pos", "log1p": "pos", "expm1": "any", "tanh": "any",
    "logistic": "any", "sin": "any", "cos": "any", "tan": "unit", "asin": "unit",
    "acos": "unit", "atan": "any", "sinh": "any", "cosh": "any", "asinh": "any",
    "acosh": "ge1", "atanh": "unit", "sqrt": "pos", "rsqrt": "pos", "cbrt": "any",
    "erf": "any", "erf_inv": "unit", "floor": "any", "ceil": "any",
}  # fmt: skip


@case(*UNARY_FLOAT)
def _unary_float(name, data):
    spec = (data.draw(shapes()), data.draw(st.sampled_from(FLOATS)), UNARY_FLOAT[name])
    return getattr(lax, name), [spec]


@case("neg", "sign", "abs", "copy", "stop_gradient")
def _unary_num(name, data):
    dt = data.draw(st.sampled_from([f32, f64, i32]))
    return getattr(lax, name), [(data.draw(shapes()), dt, "int" if dt == i32 else "any")]


@case("not")
def _not(name, data):
    dt = data.draw(st.sampled_from([i32, u8, b_]))
    return lax.bitwise_not, [(data.draw(shapes()), dt, "bool" if dt == b_ else "nat")]


@case("is_finite")
def _is_finite(name, data):
    return lax.is_finite, [(data.draw(shapes()), data.draw(st.sampled_from(FLOATS)), "special")]


@case("round")
def _round(name, data):
    method = data.draw(st.sampled_from([0, 1]))
    x = (data.draw(shapes()), data.draw(st.sampled_from(FLOATS)), "any")
    return partial(lax.round, rounding_method=method), [x]


@case("integer_pow")
def _integer_pow(name, data):
    dt = data.draw(st.sampled_from([f32, f64, i32]))
    y = data.draw(st.integers(0 if dt == i32 else -3, 4))
    return partial(lax.integer_pow, y=y), [(data.draw(shapes()), dt, "int" if dt == i32 else "pos")]


@case("reduce_precision")
def _reduce_precision(name, data):
    e, m = data.draw(st.sampled_from([(5, 10), (8, 7), (2, 1)]))
    x = (data.draw(shapes()), data.draw(st.sampled_from(FLOATS)), "any")
    return partial(lax.reduce_precision, exponent_bits=e, mantissa_bits=m), [x]


@case("convert_element_type")
def _convert(name, data):
    src, dst = data.draw(
        st.sampled_from(
            [
                (f32, i32),
                (i32, f64),
                (f64, b_),
                (b_, f32),
                (f64, f32),
                (f32, i8),
                (f64, u64),
                (i16, u16),
                (u64, f32),
            ]
        )  # fmt: skip
    )
    dom = {f32: "any", f64: "any", i32: "int", b_: "bool", i16: "int", u64: "nat"}[src]
    return partial(lax.convert_element_type, new_dtype=dst), [(data.draw(shapes()), src, dom)]


@case("bitcast_convert_type")
def _bitcast(name, data):
    src, dst = data.draw(st.sampled_from([(f32, i32), (f32, u32), (f64, u64), (i16, u16)]))
    dom = "int" if src == i16 else "any"
    return partial(lax.bitcast_convert_type, new_dtype=dst), [(data.draw(shapes()), src, dom)]


BINARY = {
    # name: (wrapper, [(dtype, domain of x, domain of y)])
    "add": (lax.add, [(f32, "any", "any"), (i32, "int", "int")]),
    "sub": (lax.sub, [(f64, "any", "any"), (i32, "int", "int")]),
    "mul": (lax.mul, [(f32, "any", "any"), (i32, "int", "int")]),
    "div": (lax.div, [(f64, "any", "pos"), (i32, "int", "int"), (i8, "int", "int")]),
    "rem": (lax.rem, [(f32, "any", "pos"), (i32, "int", "int"), (u16, "nat", "nat")]),
    "pow": (lax.pow, [(f64, "pos", "any"), (i32, "int", "nat"), (u64, "nat", "nat")]),
    "max": (lax.max, [(f32, "any", "any"), (i32, "int", "int"), (b_, "bool", "bool")]),
    "min": (lax.min, [(f64, "any", "any"), (i32, "int", "int")]),
    "atan2": (lax.atan2, [(f32, "any", "any")]),
    "nextafter": (lax.nextafter, [(f64, "any", "any")]),
    "and": (lax.bitwise_and, [(i32, "int", "int"), (b_, "bool", "bool")]),
    "or": (lax.bitwise_or, [(u8, "nat", "nat"), (b_, "bool", "bool")]),
    "xor": (lax.bitwise_xor, [(i32, "int", "int"), (b_, "bool", "bool")]),
    "shift_left": (lax.shift_left, [(i32, "int", "shift"), (i16, "int", "shift")]),
    "shift_right_arithmetic": (
        lax.shift_right_arithmetic,
        [(i32, "int", "shift"), (i8, "int", "shift")],
    ),
    "shift_right_logical": (
        lax.shift_right_logical,
        [(i32, "int", "shift"), (u8, "nat", "shift"), (u64, "nat", "shift")],
    ),
    "add_any": (lax.add_any, [(f32, "any", "any")]),
    "eq": (lax.eq, [(i32, "nat", "nat"), (f32, "any", "any")]),
    "ne": (lax.ne, [(i32, "nat", "nat")]),
    "lt": (lax.lt, [(f64, "any", "any")]),
    "le": (lax.le, [(i32, "nat", "nat")]),
    "gt": (lax.gt, [(f32, "any", "any")]),
    "ge": (lax.ge, [(i32, "nat", "nat")]),
}


@case(*BINARY)
def _binary(name, data):
    fn, variants = BINARY[name]
    dt, dx, dy = data.draw(st.sampled_from(variants))
    shape = data.draw(shapes())
    if name == "add_any":  # add_any never broadcasts
        return fn, [(shape, dt, dx), (shape, dt, dy)]
    return fn, [(maybe_scalar(data, shape), dt, dx), (maybe_scalar(data, shape), dt, dy)]


@case("select_n")
def _select_n(name, data):
    shape = data.draw(shapes())
    dt = data.draw(st.sampled_from([f32, i32]))
    cases = [(shape, dt, "any" if dt == f32 else "int")] * data.draw(st.integers(1, 3))
    # a bool `which` picks between 2 cases; an int32 one (sometimes out of range) among n
    which = (
        (maybe_scalar(data, shape), b_, "bool")
        if len(cases) == 2
        else (maybe_scalar(data, shape), i32, f"idx{len(cases) - 3}")
    )
    return lax.select_n, [which] + cases


@case("clamp")
def _clamp(name, data):
    shape = data.draw(shapes())
    dt = data.draw(st.sampled_from([f64, i32]))
    dom = "any" if dt == f64 else "int"
    return lax.clamp, [
        (maybe_scalar(data, shape), dt, dom),
        (shape, dt, dom),
        (maybe_scalar(data, shape), dt, dom),
    ]


def _axes_subset(data, rank):
    return (
        tuple(sorted(data.draw(st.sets(st.integers(0, rank - 1), max_size=rank)))) if rank else ()
    )


REDUCTIONS = {
    "reduce_sum": (lax.reduce_sum, [(f32, "any"), (i32, "int"), (i16, "int"), (u64, "nat")]),
    "reduce_prod": (lax.reduce_prod, [(f64, "any"), (i32, "int")]),
    "reduce_max": (lax.reduce_max, [(f32, "any"), (i32, "int"), (b_, "bool"), (i8, "int")]),
    "reduce_min": (lax.reduce_min, [(f64, "any"), (i32, "int")]),
    "reduce_and": (lax.reduce_and, [(b_, "bool"), (i32, "int")]),
    "reduce_or": (lax.reduce_or, [(b_, "bool"), (u8, "nat")]),
}


@case(*REDUCTIONS)
def _reduce(name, data):
    fn, variants = REDUCTIONS[name]
    dt, dom = data.draw(st.sampled_from(variants))
    shape = data.draw(shapes())
    return partial(fn, axes=_axes_subset(data, len(shape))), [(shape, dt, dom)]


@case("argmax", "argmin")
def _arg(name, data):
    shape = data.draw(shapes(min_rank=1))
    axis = data.draw(st.integers(0, len(shape) - 1))
    dt, dom = data.draw(st.sampled_from([(f32, "any"), (i32, "nat"), (u16, "nat"), (i8, "int")]))
    return partial(getattr(lax, name), axis=axis, index_dtype=i32), [(shape, dt, dom)]


@case("cumsum", "cumprod", "cummax", "cummin")
def _cumulative(name, data):
    shape = data.draw(shapes(min_rank=1))
    axis, reverse = data.draw(st.integers(0, len(shape) - 1)), data.draw(st.booleans())
    dt, dom = data.draw(st.sampled_from([(f64, "any"), (i32, "int"), (u16, "nat"), (i8, "int")]))
    return partial(getattr(lax, name), axis=axis, reverse=reverse), [(shape, dt, dom)]


@case("broadcast_in_dim")
def _broadcast_in_dim(name, data):
    out_shape = data.draw(shapes(max_rank=4))
    bd = _axes_subset(data, len(out_shape))
    operand = tuple(data.draw(st.sampled_from([1, out_shape[d]])) for d in bd)
    fn = partial(lax.broadcast_in_dim, shape=out_shape, broadcast_dimensions=bd)
    return fn, [(operand, f32, "any")]


@case("reshape")
def _reshape(name, data):
    shape = data.draw(shapes())
    size = int(np.prod(shape))
    new = data.draw(
        st.sampled_from(
            [shape[::-1], (size,), shape + (1,), (1, size), ()]
            if size == 1
            else [shape[::-1], (size,), shape + (1,), (1, size)]
        )
    )
    return partial(lax.reshape, new_sizes=new), [(shape, i32, "int")]


@case("transpose")
def _transpose(name, data):
    shape = data.draw(shapes())
    perm = data.draw(st.permutations(range(len(shape))))
    return partial(lax.transpose, permutation=perm), [(shape, f32, "any")]


@case("squeeze")
def _squeeze(name, data):
    shape = list(data.draw(shapes(max_rank=2)))
    ones = data.draw(st.lists(st.integers(0, len(shape)), min_size=1, max_size=2))
    for pos in sorted(ones, reverse=True):
        shape.insert(pos, 1)
    dims = [i for i, d in enumerate(shape) if d == 1]
    chosen = data.draw(st.sets(st.sampled_from(dims), min_size=1))
    return partial(lax.squeeze, dimensions=tuple(chosen)), [(tuple(shape), f32, "any")]


@case("expand_dims")
def _expand_dims(name, data):
    shape = data.draw(shapes())
    k = data.draw(st.integers(1, 2))
    dims = data.draw(st.sets(st.integers(0, len(shape) + k - 1), min_size=k, max_size=k))
    return partial(lax.expand_dims, dimensions=tuple(dims)), [(shape, f32, "any")]


@case("rev")
def _rev(name, data):
    shape = data.draw(shapes())
    return partial(lax.rev, dimensions=_axes_subset(data, len(shape))), [(shape, i32, "int")]


@case("concatenate")
def _concatenate(name, data):
    shape = data.draw(shapes(min_rank=1))
    dim = data.draw(st.integers(0, len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    specs = [(shape[:dim] + (s,) + shape[dim + 1 :], f32, "any") for s in sizes]
    return lambda *xs: lax.concatenate(xs, dim), specs


@case("pad")
def _pad(name, data):
    shape = data.draw(shapes())
    edge, interior = st.integers(-1, 2), st.integers(0, 2)
    cfg = [(data.draw(edge), data.draw(edge), data.draw(interior)) for _ in shape]
    cfg = [(max(lo, -d), max(hi, -d), it) for (lo, hi, it), d in zip(cfg, shape)]
    dt = data.draw(st.sampled_from([f32, b_]))
    dom = "any" if dt == f32 else "bool"
    return partial(lambda x, v, c: lax.pad(x, v, c), c=cfg), [(shape, dt, dom), ((), dt, dom)]


@case("slice")
def _slice(name, data):
    shape = data.draw(shapes())
    starts = [data.draw(st.integers(0, d)) for d in shape]
    limits = [data.draw(st.integers(s, d)) for s, d in zip(starts, shape)]
    strides = data.draw(st.none() | st.tuples(*[st.integers(1, 2) for _ in shape]))
    return partial(lax.slice, start_indices=starts, limit_indices=limits, strides=strides), [
        (shape, f32, "any")
    ]


@case("dynamic_slice")
def _dynamic_slice(name, data):
    shape = data.draw(shapes(min_rank=1, max_size=5))
    sizes = [data.draw(st.integers(0, d)) for d in shape]
    dt = data.draw(st.sampled_from([f32, b_]))
    idx_dt = data.draw(st.sampled_from([i32, u32]))
    fn = lambda x, *s: lax.dynamic_slice(x, s, sizes)
    return fn, [(shape, dt, "any" if dt == f32 else "bool")] + [
        ((), idx_dt, f"idx{d}") for d in shape
    ]


@case("dynamic_update_slice")
def _dynamic_update_slice(name, data):
    shape = data.draw(shapes(min_rank=1, max_size=5))
    ushape = tuple(data.draw(st.integers(0, d)) for d in shape)
    dt = data.draw(st.sampled_from([f64, i32]))
    dom = "any" if dt == f64 else "int"
    fn = lambda x, u, *s: lax.dynamic_update_slice(x, u, s)
    return fn, [(shape, dt, dom), (ushape, dt, dom)] + [((), i32, f"idx{d}") for d in shape]


@case("iota")
def _iota(name, data):
    # iota has no operands: under vmap it is never batched; add it to a batched operand.
    shape = data.draw(shapes(min_rank=1))
    dim = data.draw(st.integers(0, len(shape) - 1))
    return lambda x: lax.add(lax.broadcasted_iota(i32, shape, dim), x), [(shape, i32, "int")]


@case("dot_general")
def _dot_general(name, data):
    small = st.integers(1, 3)
    batch = data.draw(st.lists(small, max_size=2))
    contract = data.draw(st.lists(small, max_size=2))
    x_free, y_free = data.draw(st.lists(small, max_size=2)), data.draw(st.lists(small, max_size=2))
    x_order = data.draw(st.permutations(range(len(batch) + len(contract) + len(x_free))))
    y_order = data.draw(st.permutations(range(len(batch) + len(contract) + len(y_free))))
    x_logical, y_logical = batch + contract + x_free, batch + contract + y_free
    # x_order[i] = which logical axis sits at position i
    x_shape = tuple(x_logical[j] for j in x_order)
    y_shape = tuple(y_logical[j] for j in y_order)
    x_pos = {j: i for i, j in enumerate(x_order)}
    y_pos = {j: i for i, j in enumerate(y_order)}
    nb, nc = len(batch), len(contract)
    dn = (
        (tuple(x_pos[nb + k] for k in range(nc)), tuple(y_pos[nb + k] for k in range(nc))),
        (tuple(x_pos[k] for k in range(nb)), tuple(y_pos[k] for k in range(nb))),
    )
    dt, dom = data.draw(st.sampled_from([(f32, "any"), (f64, "any"), (i32, "int")]))
    fn = partial(lax.dot_general, dimension_numbers=dn)
    return fn, [(x_shape, dt, dom), (y_shape, dt, dom)]


@case("sort")
def _sort(name, data):
    shape = data.draw(shapes(min_rank=1))
    k = data.draw(st.integers(1, 3))
    num_keys = data.draw(st.integers(1, k))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    specs = [(shape, i32, "nat")] + [(shape, data.draw(st.sampled_from([f32, i32])), "int")] * (
        k - 1
    )
    return lambda *xs: lax.sort(xs, dimension=dim, num_keys=num_keys), specs


# ------------------------------------------------------------------------------------------
# The property
# ------------------------------------------------------------------------------------------


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _assert_same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if want.dtype.kind == "f":
        tol = 2e-5 if want.dtype == f32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


def check_vmap(data, fn, specs):
    """vmap(fn, in_axes, out_axes) equals the stacked loop over examples, for random axes."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n = data.draw(st.integers(1, 3))
    in_axes = [
        data.draw(st.none() | st.integers(-len(shape) - 1, len(shape))) for shape, _, _ in specs
    ]
    if all(a is None for a in in_axes):
        in_axes[data.draw(st.integers(0, len(specs) - 1))] = 0
    args, per_example = [], []
    for (shape, dt, dom), ax in zip(specs, in_axes):
        if ax is None:
            x = gen(rng, shape, dt, dom)
            args.append(x)
            per_example.append([x] * n)
        else:
            xs = [gen(rng, shape, dt, dom) for _ in range(n)]
            args.append(np.stack(xs, axis=ax))
            per_example.append(xs)
    raw = [fn(*[Array(a[i]) for a in per_example]) for i in range(n)]
    multiple = isinstance(raw[0], (tuple, list))
    loops = [_as_list(r) for r in raw]
    out_axes = [data.draw(st.integers(-np.ndim(o) - 1, np.ndim(o))) for o in loops[0]]
    got = jaxlite.vmap(
        fn, in_axes=tuple(in_axes), out_axes=tuple(out_axes) if multiple else out_axes[0]
    )(*[Array(a) for a in args])
    for k, g in enumerate(_as_list(got)):
        want = np.stack([np.asarray(loop[k]) for loop in loops], axis=0)
        _assert_same(g, np.moveaxis(want, 0, out_axes[k]))


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_batch_rule_matches_loop(name, data):
    fn, specs = CASES[name](data)
    check_vmap(data, fn, specs)


def _tested_elsewhere(name: str) -> bool:
    # The gather/scatter family's batching rules are tested with it, in tests/test_indexing.py;
    # convolutions' and windowed reductions' against JAX's, in tests/test_conv.py; a max pool's
    # derivatives' against a loop in tests/test_pool.py.
    # The special functions', triangular_solve's and the callbacks' with their modules' tests
    # (tests/test_scipy_special.py, test_scipy_linalg.py, test_debug_callbacks.py).
    return name.startswith(
        ("gather", "scatter", "conv_general_dilated", "reduce_window", "select_and_")
    ) or (name in _TESTED_WITH_THEIR_MODULES)


_TESTED_WITH_THEIR_MODULES = {
    "lgamma", "digamma", "erfc", "bessel_i0e", "bessel_i1e", "igamma", "igammac",
    "igamma_grad_a", "regularized_incomplete_beta", "zeta", "triangular_solve",
    "pure_callback", "io_callback", "debug_callback",
    # named-axis collectives: both batching rules (over their own axis, over another) against
    # JAX in tests/test_collectives.py
    "psum", "pmax", "pmin", "all_gather", "reduce_scatter", "all_to_all", "ppermute",
    "axis_index",
    "complex", "real", "imag", "conj", "fft",  # tests/test_complex.py, tests/test_fft.py
    "eig",  # tests/test_complex_linalg.py (vmap against a loop)
}  # fmt: skip


def test_every_primitive_has_a_batch_rule_and_a_case():
    assert [p.name for p in ALL_PRIMITIVES if p not in batch_rules] == []
    untested = {p.name for p in ALL_PRIMITIVES} - set(CASES)
    assert sorted(n for n in untested if not _tested_elsewhere(n)) == []
