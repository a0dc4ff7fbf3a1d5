"""A product and the SGD update that reads it, `w - lr * (a @ b)`, computed by one call of the
runtime library (backend/rules_dot.py `_fold_update`, csrc/jl_gemm.c `jl_gemm_upd_*`): the
update written as the product's tiles are stored, without the gradient's buffer.

Checked: the folded step bit for bit against the same step lowered without folds (the same
product kernels, the same two roundings of `s * g` and the subtraction) and against the eager
interpreter within the product's rounding; the forms it takes (either operand order of the
scale, `w + s * g`, a traced learning rate, transposed operands) and the ones it must leave
(the gradient or the scaled gradient read elsewhere, a batched product, a weight read through a
transposed view); the weight read again after the update (the update must not overwrite it);
inside a scan body; float32 and float64.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite.backend import compile as cb
from jaxlite.backend import lower_ctx

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


@contextlib.contextmanager
def no_folds():
    saved = dict(lower_ctx.FOLDS)
    lower_ctx.FOLDS.clear()
    try:
        yield
    finally:
        lower_ctx.FOLDS.update(saved)


def folded_calls(f, *args) -> int:
    return jaxlite.jit(f).lower(*args).as_c().count("jl_gemm_upd_")


@contextlib.contextmanager
def forced_products(path: int = 1):
    """Products on one path (1: the small kernel; 2: the packed one) wherever it takes them
    (the table of measured choices forced): a folded update of a contraction of at most 64 takes it whatever the product's
    path (csrc/jl_gemm.c, jl_rt_gemm_upd), so the unfolded product must too for a bitwise
    comparison. tests/test_gemm_upd_paths.py checks the other paths."""
    cc = cb.find_compiler()
    lib, tag = cb.runtime_library(cc), cb.runtime_tag(cc)
    table = cb.gemm_choice(lib, tag, cb._runtime_key(cc)[1])
    n = lib.function(f"jl_rt_gemm_nclass_{tag}", "int(*)(void)")()
    cb.set_gemm_choice(lib, tag, {"float32": [path] * n, "float64": [path] * n})
    try:
        yield
    finally:
        cb.set_gemm_choice(lib, tag, table)


def check(make, args, folds: int, dtype, rtol=None, path: int = 1):
    """`make()` builds a fresh function (each jit traces its own): folded as expected, bit for
    bit as unfolded (both with the products on `path`, as `forced_products`), close to
    eager."""
    f = make()
    assert folded_calls(f, *args) == folds
    with forced_products(path):
        got = jaxlite.jit(f)(*args)
        with no_folds():
            g = make()
            assert folded_calls(g, *args) == 0
            plain = jaxlite.jit(g)(*args)
    with jaxlite.disable_jit():
        eager = make()(*args)
    tol = rtol or (2e-5 if dtype == F32 else 1e-12)
    for x, y, z in zip(*(jaxlite.tree_util.tree_leaves(t) for t in (got, plain, eager))):
        x, y, z = np.asarray(x), np.asarray(y), np.asarray(z)
        assert x.dtype == dtype or x.dtype.kind != "f"
        np.testing.assert_array_equal(x, y)
        np.testing.assert_allclose(x, z, rtol=tol, atol=tol)


def mlp_data(dtype, batch=32, sizes=(70, 48, 10), seed=0):
    rng = np.random.default_rng(seed)
    params = [((rng.standard_normal((m, n)) / np.sqrt(m)).astype(dtype), np.zeros(n, dtype))
              for m, n in zip(sizes[:-1], sizes[1:])]  # fmt: skip
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
    return params, x, y


def mlp_loss(params, x, y):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = jaxlite.nn.relu(h)
    return jnp.mean((h - y) ** 2)


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
def test_sgd_step_folds_every_weight(dtype):
    params, x, y = mlp_data(dtype)

    def make():
        def step(p, x, y):
            v, g = jaxlite.value_and_grad(mlp_loss)(p, x, y)
            return v, jaxlite.tree_util.tree_map(lambda a, b: a - 0.01 * b, p, g)

        return step

    check(make, (params, x, y), 2, dtype)  # the two weights (the biases' gradients are sums)


@pytest.mark.parametrize("form", ["s*g", "g*s", "w+s*g", "s*g+w", "traced"])
def test_update_forms(form):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, 33)).astype(F32)  # ragged columns past whole vectors
    b = rng.standard_normal((40, 21)).astype(F32)
    w = rng.standard_normal((33, 21)).astype(F32)
    lr = np.float32(0.05)

    def make():
        def f(w, a, b, lr):
            g = a.T @ b  # A stored transposed: read in place
            return {"s*g": lambda: w - lr * g, "g*s": lambda: w - g * lr,
                    "w+s*g": lambda: w + (-lr) * g, "s*g+w": lambda: (-lr) * g + w,
                    "traced": lambda: w - lr * g}[form]()  # fmt: skip

        return f if form == "traced" else (lambda w, a, b, lr: f(w, a, b, 0.05))

    check(make, (w, a, b, lr), 1, F32)


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 17, 3), (33, 130, 7), (200, 70, 64)], ids=str)
@pytest.mark.parametrize("layout", ["nn", "tn", "nt", "tt"])
def test_layouts_and_shapes(dtype, shape, layout):
    m, n, k = shape
    rng = np.random.default_rng(m + n + k)
    a = rng.standard_normal((k, m) if layout[0] == "t" else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if layout[1] == "t" else (k, n)).astype(dtype)
    w = rng.standard_normal((m, n)).astype(dtype)

    def make():
        def f(w, a, b):
            g = (a.T if layout[0] == "t" else a) @ (b.T if layout[1] == "t" else b)
            return w - 0.125 * g

        return f

    check(make, (w, a, b), 1, dtype)


def test_weight_read_after_the_update_and_the_update_reused():
    """The weight is read by a product after the one that is folded (the update must write a
    new buffer, not the weight), and the updated weight is read again."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((48, 32)).astype(F32)
    x = rng.standard_normal((16, 48)).astype(F32)
    dy = rng.standard_normal((16, 32)).astype(F32)

    def make():
        def f(w, x, dy):
            new = w - 0.01 * (x.T @ dy)
            dx = dy @ w.T  # reads the old weight after the fold point
            return new, dx, jnp.sum(new * 2.0), x @ new

        return f

    check(make, (w, x, dy), 1, F32)


def test_left_alone():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((24, 16)).astype(F32)
    x = rng.standard_normal((8, 24)).astype(F32)
    dy = rng.standard_normal((8, 16)).astype(F32)
    wt = np.ascontiguousarray(w.T)
    # the gradient is read elsewhere too; so is the scaled gradient; a vector scale; a
    # weight read through a transposed view (no row-major layout); a batched product
    cases = [
        lambda w, x, dy: (w - 0.1 * (x.T @ dy), x.T @ dy),
        lambda w, x, dy: (lambda t: (w - t, t))(0.1 * (x.T @ dy)),
        lambda w, x, dy: w - jnp.arange(16.0, dtype=F32) * (x.T @ dy),
        lambda w, x, dy: w.T.T - 0.1 * (x.T @ dy),  # (a view of w itself: folds)
        lambda w, x, dy: jnp.stack([w, w]) - 0.1 * jnp.einsum("bij,bik->bjk",
                                                              jnp.stack([x, x]),
                                                              jnp.stack([dy, dy])),
    ]  # fmt: skip
    expect = [0, 0, 0, 1, 0]
    for case, n in zip(cases, expect):
        check(lambda case=case: lambda w, x, dy: case(w, x, dy), (w, x, dy), n, F32)
    # the weight stored transposed, read as w.T: not row-major, left to the elementwise update
    check(lambda: lambda wt, x, dy: wt.T - 0.1 * (x.T @ dy), (wt, x, dy), 0, F32)


def test_inside_a_scan():
    params, x, y = mlp_data(F32, batch=8, sizes=(12, 20, 4), seed=4)

    def make():
        def train(p, x, y):
            def body(p, _):
                v, g = jaxlite.value_and_grad(mlp_loss)(p, x, y)
                return jaxlite.tree_util.tree_map(lambda a, b: a - 0.05 * b, p, g), v

            return jaxlite.lax.scan(body, p, None, length=5)

        return train

    check(make, (params, x, y), 2, F32, rtol=1e-4)
