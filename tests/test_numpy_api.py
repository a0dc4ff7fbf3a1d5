"""jnp creation, shape, product, sorting and linalg functions against NumPy.

Each table row is one call written once for both modules: `lambda m, *xs: m.reshape(xs[0], ...)`
runs with `m = np` (the reference) and `m = jnp`; the result values, shapes and dtypes must match.
Rows marked traceable also run under make_jaxpr, and the staged jaxpr evaluated with eval_jaxpr
must equal the eager result.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import NamedTuple

import ml_dtypes
import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core

rng = np.random.default_rng(0)
A = np.arange(24).reshape(2, 3, 4)
F = rng.normal(size=(2, 3, 4))
F32 = F.astype(np.float32)
V = rng.normal(size=4)
B = rng.normal(size=(4, 5))
C = rng.normal(size=(2, 4, 5))
I32 = rng.integers(-5, 5, (3, 4)).astype(np.int32)
J32 = rng.integers(-5, 5, (4, 2)).astype(np.int32)
X1 = np.arange(1, 6)
U = np.array([3, 1, 2, 3, 1, 1, 7])
NANS = np.array([2.0, np.nan, 1.0, np.nan, 2.0, -1.0])
M = rng.normal(size=(3, 4, 4))
SPD = M @ M.transpose(0, 2, 1) + 4 * np.eye(4)


class Row(NamedTuple):
    id: str
    fn: Callable  # fn(m, *args) with m = np or jnp
    args: tuple = ()
    traceable: bool = True
    rtol: float = 1e-12
    ref: Callable | None = None  # fn(*args) when NumPy's spelling differs
    dtype: type | None = None  # JAX's result dtype where its promotion differs from NumPy's


CREATION = [
    Row("zeros", lambda m: m.zeros((2, 3))),
    Row("zeros_i32", lambda m: m.zeros(3, m.int32)),
    Row("ones", lambda m: m.ones((2,), m.float32)),
    # NumPy's reference: zeros, not `np.empty(...) * 0` (NaN when the memory held a NaN).
    Row("empty", lambda m: m.empty((2, 2)) * 0, ref=lambda: np.zeros((2, 2))),
    Row("full", lambda m: m.full((2, 3), 3.5)),
    Row("full_array_fill", lambda m, x: m.full((2, 4), x), (V,)),
    Row("full_like", lambda m, a: m.full_like(a, 2), (A,)),
    Row("zeros_like", lambda m, a: m.zeros_like(a, dtype=float), (A,)),
    Row("ones_like", lambda m, a: m.ones_like(a), (F32,)),
    Row("empty_like", lambda m, a: m.empty_like(a, shape=(3,)) * 0, (A,)),
    Row("arange", lambda m: m.arange(5)),
    Row("arange_start_step", lambda m: m.arange(1, 10, 2)),
    Row("arange_float", lambda m: m.arange(0.5, 3.0, 0.25)),
    Row("arange_dtype", lambda m: m.arange(5, dtype=m.float32)),
    Row("arange_neg_step", lambda m: m.arange(5, -3, -2)),
    Row("linspace", lambda m: m.linspace(0, 1, 7)),
    Row("linspace_no_endpoint", lambda m: m.linspace(0, 1, 7, endpoint=False)),
    Row(
        "linspace_arrays",
        lambda m, a, b: m.linspace(a, b, 4, axis=1),
        (X1[:2] * 1.0, X1[2:4] * 2.0),
    ),
    Row("linspace_int", lambda m: m.linspace(0, 10, 4, dtype=m.int32)),
    Row("linspace_f32", lambda m, a: m.linspace(a, a * 3, 5), (F32[0, 0],)),
    Row("linspace_retstep", lambda m: m.linspace(2.0, 3.0, 5, retstep=True)),
    Row("logspace", lambda m: m.logspace(0, 2, 5)),
    Row("logspace_base", lambda m: m.logspace(0, 3, 4, base=2.0)),
    Row("geomspace", lambda m: m.geomspace(1, 1000, 4)),
    Row("geomspace_neg", lambda m: m.geomspace(-1, -1000, 4)),
    Row("eye", lambda m: m.eye(3, 4, 1)),
    Row("eye_neg_k", lambda m: m.eye(4, 3, -2, dtype=m.int32)),
    Row("identity", lambda m: m.identity(3, m.int32)),
    Row("tri", lambda m: m.tri(3, 4, -1), dtype=np.float32),  # JAX's default here
    Row("tril", lambda m, a: m.tril(a, 1), (A,)),
    Row("triu", lambda m, a: m.triu(a, -1), (A,)),
    *[Row(f"diagonal_{k}", lambda m, a, k=k: m.diagonal(a, k, 1, 2), (A,)) for k in (-2, 0, 1, 3)],
    *[Row(f"diagonal_axes_{k}", lambda m, a, k=k: m.diagonal(a, k, 2, 0), (A,)) for k in (-1, 1)],
    *[Row(f"diag_1d_{k}", lambda m, v, k=k: m.diag(v, k), (X1,)) for k in (-2, 0, 1)],
    *[Row(f"diag_2d_{k}", lambda m, a, k=k: m.diag(a, k), (B,)) for k in (-1, 0, 2)],
    Row("diagflat", lambda m, a: m.diagflat(a, 1), (I32[:2, :2],)),
    Row("trace", lambda m, a: m.trace(a), (A,)),
    Row("trace_offset", lambda m, a: m.trace(a, 1, 1, 2), (A,)),
    *[
        Row(
            f"meshgrid_{ix}_{sp}",
            lambda m, a, b, ix=ix, sp=sp: m.meshgrid(a, b, X1, indexing=ix, sparse=sp),
            (V, B[0]),
        )
        for ix in ("xy", "ij")
        for sp in (False, True)
    ],
    Row("indices", lambda m: m.indices((2, 3))),
    Row("indices_sparse", lambda m: m.indices((2, 3), sparse=True)),
    Row("fromfunction", lambda m: m.fromfunction(lambda i, j: i * 10 + j, (2, 3))),
    Row("tril_indices", lambda m: m.tril_indices(4, 1)),
    Row("triu_indices", lambda m: m.triu_indices(3, 0, 4)),
    Row("diag_indices", lambda m: m.diag_indices(3)),
    Row("array_ndmin", lambda m: m.array(1.0, ndmin=2)),
    Row("array_nested", lambda m: m.array([[1, 2.5], [3, 4]])),
    Row("array_dtype", lambda m: m.array([1, 2], dtype=m.float32)),
    Row("asarray", lambda m, a: m.asarray(a, dtype=m.float32), (I32,)),
    Row("copy", lambda m, a: m.copy(a), (F,)),
]

SHAPE = [
    Row("reshape", lambda m, a: m.reshape(a, (4, -1)), (A,)),
    Row("reshape_F", lambda m, a: m.reshape(a, (4, -1), order="F"), (A,)),
    Row("ravel", lambda m, a: m.ravel(a), (A,)),
    Row("transpose", lambda m, a: m.transpose(a, (2, 0, 1)), (A,)),
    Row("transpose_default", lambda m, a: m.transpose(a), (A,)),
    Row("permute_dims", lambda m, a: m.permute_dims(a, (2, 0, 1)), (A,)),
    Row("matrix_transpose", lambda m, a: m.matrix_transpose(a), (A,)),
    Row("swapaxes", lambda m, a: m.swapaxes(a, 0, 2), (A,)),
    Row("moveaxis", lambda m, a: m.moveaxis(a, 0, -1), (A,)),
    Row("moveaxis_many", lambda m, a: m.moveaxis(a, (0, 1), (2, 0)), (A,)),
    Row("rollaxis", lambda m, a: m.rollaxis(a, 2), (A,)),
    Row("rollaxis_start", lambda m, a: m.rollaxis(a, 0, 2), (A,)),
    Row("expand_dims", lambda m, a: m.expand_dims(a, (0, -1)), (A,)),
    Row("squeeze", lambda m, a: m.squeeze(a), (np.ones((1, 3, 1)),)),
    Row("squeeze_axis", lambda m, a: m.squeeze(a, 2), (np.ones((1, 3, 1)),)),
    Row("concatenate", lambda m, a: m.concatenate([a, a], 1), (A,)),
    Row("concatenate_none", lambda m, a: m.concatenate([a, a[0]], None), (A,)),
    Row(
        "concatenate_promote",
        lambda m, a, b: m.concatenate([a, b]),
        (F32[0, 0], X1),
        dtype=np.float32,
    ),  # JAX's lattice: float32 with int64 is float32
    Row("concat", lambda m, a: m.concat([a, a], axis=-1), (F,)),
    Row("stack", lambda m, a: m.stack([a, a], -1), (A,)),
    Row("hstack", lambda m, a: m.hstack([a, a]), (A,)),
    Row("hstack_1d", lambda m, a, b: m.hstack([a, b]), (V, X1)),
    Row("vstack", lambda m, a: m.vstack([a, a * 2]), (V,)),
    Row("dstack", lambda m, a: m.dstack([a, a]), (V,)),
    Row("column_stack", lambda m, a, b: m.column_stack([a, b]), (V, B)),
    Row("split", lambda m, a: m.split(a, 2, 0), (A,)),
    Row("split_indices", lambda m, a: m.split(a, [1, 3], 2), (A,)),
    Row("array_split", lambda m, a: m.array_split(a, 3), (np.arange(7),)),
    Row("hsplit", lambda m, a: m.hsplit(a, 3), (A,)),
    Row("vsplit", lambda m, a: m.vsplit(a, 2), (A,)),
    Row("dsplit", lambda m, a: m.dsplit(a, [1]), (A,)),
    Row("unstack", lambda m, a: m.unstack(a, axis=1), (A,)),
    Row("tile", lambda m, a: m.tile(a, (2, 1, 1, 2)), (A,)),
    Row("tile_1d", lambda m, a: m.tile(a, 2), (X1,)),
    Row("repeat", lambda m, a: m.repeat(a, 2, 1), (A,)),
    Row("repeat_flat", lambda m, a: m.repeat(a, 3), (A,)),
    Row("repeat_array", lambda m, a: m.repeat(a, [1, 0, 2], 1), (A,)),
    Row("broadcast_to", lambda m, a: m.broadcast_to(a, (2, 5)), (X1,)),
    Row("broadcast_arrays", lambda m, a, b: m.broadcast_arrays(a, b), (np.ones((2, 1)), V)),
    Row("flip", lambda m, a: m.flip(a), (A,)),
    Row("flip_axis", lambda m, a: m.flip(a, (0, 2)), (A,)),
    Row("fliplr", lambda m, a: m.fliplr(a), (A,)),
    Row("flipud", lambda m, a: m.flipud(a), (A,)),
    *[Row(f"roll_{s}", lambda m, a, s=s: m.roll(a, s), (A,)) for s in (-5, 0, 7)],
    *[Row(f"roll_axis_{s}", lambda m, a, s=s: m.roll(a, s, 2), (A,)) for s in (-1, 2, 9)],
    Row("roll_many", lambda m, a: m.roll(a, (1, -2), (0, 2)), (A,)),
    *[Row(f"rot90_{k}", lambda m, a, k=k: m.rot90(a, k), (A,)) for k in (-1, 1, 2, 3)],
    Row("rot90_axes", lambda m, a: m.rot90(a, 1, (2, 0)), (A,)),
    *[
        Row(f"pad_{mode}_{i}", lambda m, a, mode=mode, pw=pw: m.pad(a, pw, mode), (X1,))
        for mode in (
            "constant",
            "edge",
            "reflect",
            "symmetric",
            "wrap",
            "maximum",
            "minimum",
            "mean",
            "median",
        )
        for i, pw in enumerate([(2, 3), (7, 9), 0, [(1, 12)]])
    ],
    *[
        Row(f"pad2d_{mode}", lambda m, a, mode=mode: m.pad(a, ((1, 2), (3, 1)), mode), (I32,))
        for mode in ("constant", "edge", "reflect", "symmetric", "wrap", "maximum", "mean")
    ],
    Row("pad_singleton_reflect", lambda m, a: m.pad(a, (3, 2), "reflect"), (np.ones(1),)),
    Row(
        "pad_constant_values",
        lambda m, a: m.pad(a, ((1, 2), (3, 1)), constant_values=((1, 2), (3, 4))),
        (I32,),
    ),
    Row("pad_f32", lambda m, a: m.pad(a, 1, constant_values=2.5), (F32[0],)),
    Row("atleast_1d", lambda m: m.atleast_1d(1.0)),
    Row("atleast_2d", lambda m, a: m.atleast_2d(a, 1.0), (V,)),
    Row("atleast_3d", lambda m, a, b: m.atleast_3d(a, b, 1.0), (V, B)),
    Row("unravel_index", lambda m, i: m.unravel_index(i, (2, 3, 4)), (np.array([0, 5, 23]),)),
    Row(
        "ravel_multi_index_clip",
        lambda m, i, j: m.ravel_multi_index((i, j), (2, 3), mode="clip"),
        (np.array([0, 5]), np.array([-2, 0])),
    ),
    Row(
        "ravel_multi_index_wrap",
        lambda m, i, j: m.ravel_multi_index((i, j), (2, 3), mode="wrap"),
        (np.array([0, 5]), np.array([-2, 0])),
    ),
    Row(
        "ravel_multi_index_F",
        lambda m, i, j: m.ravel_multi_index((i, j), (2, 3), order="F", mode="clip"),
        (np.array([0, 1]), np.array([2, 0])),
    ),
    Row("diff", lambda m, a: m.diff(a), (A,)),
    Row("diff_n_axis", lambda m, a: m.diff(a, 2, 0), (F,)),
    Row("diff_prepend_append", lambda m, a: m.diff(a, prepend=0, append=[9, 9]), (X1,)),
    Row("diff_bool", lambda m, a: m.diff(a), (np.array([True, False, False]),)),
    Row("ediff1d", lambda m, a: m.ediff1d(a, to_begin=-1, to_end=[7, 8]), (A,)),
    Row("resize", lambda m, a: m.resize(a, (3, 4)), (X1,)),
    Row("append", lambda m, a: m.append(a, [[7]]), (X1,)),
    Row("append_axis", lambda m, a: m.append(a, a, 1), (A,)),
    Row("delete", lambda m, a: m.delete(a, 1, 1), (A,)),
    Row("delete_list", lambda m, a: m.delete(a, [0, 2, -1]), (X1,)),
    Row("delete_slice", lambda m, a: m.delete(a, slice(1, 4, 2)), (X1,)),
    Row("insert", lambda m, a: m.insert(a, 2, 99), (X1,)),
    Row("insert_list", lambda m, a: m.insert(a, [1, 1, 4], [7, 8, 9]), (X1,)),
    Row("insert_axis", lambda m, a: m.insert(a, 1, [1, 2, 3], axis=1), (I32[:3, :3],)),
    Row("insert_axis_list", lambda m, a: m.insert(a, [0, 2], 5, axis=0), (I32,)),
    Row("trim_zeros", lambda m, a: m.trim_zeros(a), (np.array([0, 0, 1, 2, 0]),), False),
    Row("trim_zeros_f", lambda m, a: m.trim_zeros(a, "f"), (np.array([0, 0, 1, 2, 0]),), False),
]

PRODUCTS = [
    Row("dot", lambda m, a, b: m.dot(a, b), (F, B)),
    Row("dot_vec", lambda m, a, b: m.dot(a, b), (F, V)),
    Row("dot_vv", lambda m, a: m.dot(a, a), (V,)),
    Row("dot_nd", lambda m, a, b: m.dot(a, b), (F, C)),
    Row("dot_scalar", lambda m, a: m.dot(2, a), (F,)),
    Row("dot_int32", lambda m, a, b: m.dot(a, b), (I32, J32)),
    Row("dot_bool", lambda m, a, b: m.dot(a > 0, b > 0), (I32, J32)),
    Row(
        "dot_mixed",
        lambda m, a, b: m.dot(a, b),
        (I32, B[:, :2].astype(np.float32)),
        rtol=1e-6,
        dtype=np.float32,
    ),
    Row("matmul", lambda m, a, b: m.matmul(a, b), (F, B)),
    Row("matmul_batch", lambda m, a, b: m.matmul(a, b), (F, C)),
    Row("matmul_vec_left", lambda m, a, b: m.matmul(a, b), (V, C)),
    Row("matmul_vec_right", lambda m, a, b: m.matmul(a, b), (F, V)),
    Row("matmul_vv", lambda m, a: m.matmul(a, a), (V,)),
    Row(
        "matmul_broadcast",
        lambda m, a, b: m.matmul(a, b),
        (rng.normal(size=(3, 1, 2, 4)), rng.normal(size=(5, 4, 2))),
    ),
    Row("matmul_2d_batched", lambda m, a, b: m.matmul(a, b), (B.T, C)),
    Row("matmul_f32", lambda m, a, b: m.matmul(a, b), (F32, C.astype(np.float32)), rtol=1e-5),
    Row("matvec", lambda m, a, b: m.matvec(a, b), (C.transpose(0, 2, 1), V)),
    Row("vecmat", lambda m, a, b: m.vecmat(a, b), (V, C)),
    Row("vdot", lambda m, a: m.vdot(a, a), (F,)),
    Row("vecdot", lambda m, a, b: m.vecdot(a, b), (F, V)),
    Row("vecdot_axis", lambda m, a: m.vecdot(a, a, axis=1), (F,)),
    Row("inner", lambda m, a, b: m.inner(a, b), (F, C.transpose(0, 2, 1))),
    Row("inner_int", lambda m, a: m.inner(a, a), (I32,)),
    Row("outer", lambda m, a, b: m.outer(a, b), (F, V)),
    Row("tensordot", lambda m, a, b: m.tensordot(a, b, ((0, 2), (0, 1))), (F, C)),
    Row("tensordot_1", lambda m, a, b: m.tensordot(a, b, 1), (F, B)),
    Row("tensordot_0", lambda m, a: m.tensordot(a, a, 0), (V,)),
    Row("kron", lambda m, a, b: m.kron(a, b), (I32, J32)),
    Row("kron_nd", lambda m, a, b: m.kron(a, b), (V, F)),
    Row("cross", lambda m, a, b: m.cross(a, b), (F[:, :, :3], F[::-1, :, 1:])),
    Row(
        "cross_axes",
        lambda m, a, b: m.cross(a, b, axisa=0, axisb=0, axisc=0),
        (F[0, :, :3].T, F[1, :, :3].T),
    ),
    *[
        Row(f"einsum_{s}", lambda m, *xs, s=s: m.einsum(s, *xs), ops, rtol=1e-10)
        for s, ops in [
            ("ij,jk->ik", (F[0], B)),
            ("ij,jk", (F[0], B)),
            ("bij,bjk->bik", (F, C)),
            ("ii->i", (B[:4, :4],)),
            ("ii", (B[:4, :4],)),
            ("ij->ji", (B,)),
            ("ij->", (B,)),
            ("ij->j", (B,)),
            ("i,i->", (V, V)),
            ("i,j->ij", (V, V)),
            ("...ij,...jk->...ik", (F, C)),
            ("bij,jk->bik", (F, B)),
            ("ijk,ikl,lm->jm", (F, C, rng.normal(size=(5, 2)))),
            ("ij,ij->i", (B, B)),
            ("iij->j", (rng.normal(size=(3, 3, 2)),)),
            ("i...->...", (F,)),
            ("ab,cd->abcd", (B[:2, :2], B[:2, :2])),
            ("ij,ik->jk", (I32, I32)),
            ("...i,...i", (F, F)),
        ]
    ],
]

SORTING = [
    *[
        Row(f"sort_{n}_{ax}", lambda m, a, ax=ax: m.sort(a, axis=ax), (arr,))
        for n, arr in [("int", I32), ("nan", NANS), ("bool", I32 > 0), ("u8", I32.astype(np.uint8))]
        for ax in (-1, 0, None)
        if not (arr.ndim == 1 and ax == 0)
    ],
    *[
        Row(f"argsort_{n}_{ax}", lambda m, a, ax=ax: m.argsort(a, axis=ax, stable=True), (arr,))
        for n, arr in [("int", I32), ("nan", NANS), ("bool", I32 > 0)]
        for ax in (-1, None)
    ],
    Row(
        "sort_descending",
        lambda m, a: m.sort(a, descending=True),
        (I32,),
        ref=lambda a: np.flip(np.sort(a), -1),
    ),
    Row(
        "argsort_descending",
        lambda m, a: m.argsort(a, descending=True),
        (I32,),
        ref=lambda a: np.argsort(-a, kind="stable"),
    ),
    Row(
        "lexsort",
        lambda m, a, b: m.lexsort((a, b)),
        (np.array([3, 3, 1, 1, 0]), np.array([1, 0, 1, 0, 2])),
    ),
    Row("lexsort_2d", lambda m, a: m.lexsort((a, a[::-1])), (I32,)),
    *[
        Row(
            f"searchsorted_{side}",
            lambda m, a, v, side=side: m.searchsorted(a, v, side),
            (np.array([1, 2, 2, 3, 5.0]), np.array([[0, 2, 2.5], [5, 6, np.nan]])),
            dtype=np.int32,
        )
        for side in ("left", "right")
    ],
    Row(
        "searchsorted_nan",
        lambda m, a, v: m.searchsorted(a, v),
        (np.array([1.0, 2, np.nan]), np.array([np.nan, 3.0])),
        dtype=np.int32,
    ),
    Row(
        "searchsorted_sorter",
        lambda m, a: m.searchsorted(a, 2, sorter=np.array([1, 2, 0])),
        (np.array([3, 1, 2]),),
        dtype=np.int32,
    ),
    Row("nonzero", lambda m, a: m.nonzero(a), (I32,), False),
    Row("nonzero_1d", lambda m, a: m.nonzero(a), (I32[0],), False),
    Row("argwhere", lambda m, a: m.argwhere(a), (I32,), False),
    Row("argwhere_0d", lambda m, a: m.argwhere(a), (np.array(3),), False),
    Row("flatnonzero", lambda m, a: m.flatnonzero(a), (I32,), False),
    Row("where_1arg", lambda m, a: m.where(a > 2), (I32,), False),
    *[
        Row(f"unique_{n}", lambda m, a: m.unique(a), (arr,), False)
        for n, arr in [
            ("int", U),
            ("nan", NANS),
            ("2d", I32),
            ("empty", np.array([], np.int64)),
            ("bool", I32 > 0),
        ]
    ],
    *[
        Row(
            f"unique_all_{n}",
            lambda m, a: m.unique(a, return_index=True, return_inverse=True, return_counts=True),
            (arr,),
            False,
        )
        for n, arr in [("int", U), ("nan", NANS), ("2d", I32)]
    ],
    Row("unique_not_equal_nan", lambda m, a: m.unique(a, equal_nan=False), (NANS,), False),
    Row("unique_counts", lambda m, a: tuple(m.unique_counts(a)), (U,), False),
    Row("unique_inverse", lambda m, a: tuple(m.unique_inverse(a)), (I32,), False),
    Row(
        "unique_values",
        lambda m, a: m.unique_values(a),
        (U,),
        False,
        ref=lambda a: np.sort(np.unique_values(a)),
    ),  # NumPy 2.3+ may not sort them
    Row("bincount", lambda m, a: m.bincount(a), (U,), False),
    Row("bincount_weights", lambda m, a: m.bincount(a, weights=a * 0.5, minlength=10), (U,), False),
]

LINALG = [
    Row("det", lambda m, a: m.linalg.det(a), (M,), rtol=1e-10),
    Row("det_singular", lambda m, a: m.linalg.det(a), (np.ones((3, 3)),)),
    Row("slogdet", lambda m, a: tuple(m.linalg.slogdet(a)), (M,), rtol=1e-10),
    Row("inv", lambda m, a: m.linalg.inv(a), (M,), rtol=1e-9),
    Row("solve", lambda m, a, b: m.linalg.solve(a, b), (M, rng.normal(size=(3, 4, 2))), rtol=1e-9),
    Row("solve_vec", lambda m, a, b: m.linalg.solve(a, b), (M[0], V), rtol=1e-9),
    Row("cholesky", lambda m, a: m.linalg.cholesky(a), (SPD,), rtol=1e-10),
    Row("matrix_power_3", lambda m, a: m.linalg.matrix_power(a, 3), (M[0],), rtol=1e-10),
    Row("matrix_power_neg", lambda m, a: m.linalg.matrix_power(a, -2), (M[0],), rtol=1e-8),
    Row("matrix_power_0", lambda m, a: m.linalg.matrix_power(a, 0), (M[0],)),
    Row("multi_dot", lambda m, a, b: m.linalg.multi_dot([a, b, b.T]), (B.T, B)),
    *[
        Row(f"norm_vec_{o}", lambda m, v, o=o: m.linalg.norm(v, o), (V,))
        for o in (None, 1, 2, np.inf, -np.inf, 0, 3, 0.5)
    ],
    *[
        Row(f"norm_mat_{o}", lambda m, a, o=o: m.linalg.norm(a, o), (B,))
        for o in (None, "fro", 1, -1, np.inf, -np.inf)
    ],
    *[
        Row(
            f"norm_axes_{o}",
            lambda m, a, o=o: m.linalg.norm(a, o, axis=(2, 0), keepdims=True),
            (F,),
        )
        for o in (None, 1, np.inf)
    ],
    Row("norm_all", lambda m, a: m.linalg.norm(a), (F,)),
    Row("norm_axis", lambda m, a: m.linalg.norm(a, axis=1), (F,)),
    Row("norm_int", lambda m, a: m.linalg.norm(a), (I32,), rtol=1e-6, dtype=np.float32),
    Row("norm_f32", lambda m, a: m.linalg.norm(a, axis=-1), (F32,), rtol=1e-6),
    Row("vector_norm", lambda m, a: m.linalg.vector_norm(a, ord=3, axis=(0, 1)), (F,)),
    Row("matrix_norm", lambda m, a: m.linalg.matrix_norm(a, ord=1), (F,)),
]

XP, FP = np.array([0.0, 1, 2, 4]), np.array([1.0, 3, 2, 0])
XS = np.array([-1, 0, 0.5, 1, 3, 4, 5])
W6, AW6 = rng.integers(1, 4, 6), rng.uniform(0.5, 2, 6)
X36 = rng.normal(size=(3, 6))

STATISTICS = [
    Row("cov", lambda m, x: m.cov(x), (X36,)),
    Row("cov_cols", lambda m, x: m.cov(x, rowvar=False), (X36.T,)),
    Row("cov_xy", lambda m, x, y: m.cov(x, y), (X36[0], X36[1])),
    Row("cov_weights", lambda m, x, f, a: m.cov(x, fweights=f, aweights=a), (X36, W6, AW6)),
    Row("cov_fweights_ddof0", lambda m, x, f: m.cov(x, fweights=f, ddof=0), (X36, W6)),
    Row("cov_f32", lambda m, x: m.cov(x), (X36.astype(np.float32),), rtol=1e-6, dtype=np.float32),
    Row("corrcoef", lambda m, x: m.corrcoef(x), (X36,)),
    Row("corrcoef_1d", lambda m, x: m.corrcoef(x), (X36[0],)),
    Row("trapezoid", lambda m, y: m.trapezoid(y), (X36,)),
    Row("trapezoid_x", lambda m, y, x: m.trapezoid(y, x, axis=1), (X36, X36[0] ** 2)),
    Row("trapezoid_dx", lambda m, y: m.trapezoid(y, dx=0.5, axis=0), (X36,)),
    Row("interp", lambda m, x, xp, fp: m.interp(x, xp, fp), (XS, XP, FP)),
    Row(
        "interp_left_right",
        lambda m, x, xp, fp: m.interp(x, xp, fp, left=-9, right=9),
        (XS, XP, FP),
    ),
    *[
        Row(f"digitize_{r}_{d}", lambda m, x, b, r=r: m.digitize(x, b, r), (XS, b), dtype=np.int32)
        for r in (False, True)
        for d, b in [("inc", XP), ("dec", XP[::-1].copy())]
    ],
    Row("polyval", lambda m, x: m.polyval([3, 0, 1], x), (XS,)),
    Row("polyval_int", lambda m, p, x: m.polyval(p, x), (np.array([1, 2]), np.array([3, 4]))),
    Row("isin", lambda m, x: m.isin(x, [1, 4, 9]), (A,)),
    Row("isin_invert", lambda m, x: m.isin(x, [1, 4, 9], invert=True), (A,)),
    Row("compress", lambda m, x: m.compress([1, 0, 1], x, axis=0), (X36,), False),
    Row("compress_flat", lambda m, x: m.compress([True, False], x), (X36,), False),
    Row("extract", lambda m, x: m.extract(x > 0, x), (X36,), False),
    Row("union1d", lambda m, a, b: m.union1d(a, b), (U, X1), False),
    Row("intersect1d", lambda m, a, b: m.intersect1d(a, b), (U, X1), False),
    Row("setdiff1d", lambda m, a, b: m.setdiff1d(a, b), (U, X1), False),
    *[
        Row(
            f"fill_diagonal_{i}",
            lambda m, a, v=v, w=w: m.fill_diagonal(a, v, w, inplace=False),
            (np.zeros(shape),),
            ref=lambda a, v=v, w=w: (np.fill_diagonal(b := a.copy(), v, w), b)[1],
        )
        for i, (shape, w, v) in enumerate(
            [
                ((3, 3), False, 5),
                ((5, 3), True, [1, 2]),
                ((5, 3), False, 7.5),
                ((2, 2, 2), False, 4),
            ]
        )
    ],
]

ROWS = CREATION + SHAPE + PRODUCTS + SORTING + LINALG + STATISTICS


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def _compare(got, want, rtol, dtype=None):
    g, w = _leaves(got), _leaves(want)
    assert len(g) == len(w), (len(g), len(w))
    for gi, wi in zip(g, w):
        wi = np.asarray(wi) if dtype is None else np.asarray(wi).astype(dtype)
        gi_np = np.asarray(gi)
        if wi.dtype == np.uint64:
            wi = wi.astype(np.int64)
        assert gi_np.shape == wi.shape, (gi_np.shape, wi.shape)
        assert gi_np.dtype == wi.dtype, (gi_np.dtype, wi.dtype)
        if wi.dtype.kind == "f":
            np.testing.assert_allclose(gi_np, wi, rtol=rtol, atol=rtol, equal_nan=True)
        else:
            np.testing.assert_array_equal(gi_np, wi)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_against_numpy(row):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = row.ref(*row.args) if row.ref else row.fn(np, *row.args)
    got = row.fn(jnp, *[jnp.asarray(a) for a in row.args])
    for leaf in _leaves(got):
        assert isinstance(leaf, jaxlite.Array), type(leaf)
    _compare(got, want, row.rtol, row.dtype)


@pytest.mark.parametrize("row", [r for r in ROWS if r.traceable], ids=lambda r: r.id)
def test_traced_matches_eager(row):
    args = [jnp.asarray(a) for a in row.args]
    fn = lambda *xs: row.fn(jnp, *xs)  # noqa: E731
    eager = _leaves(fn(*args))
    closed = jaxlite.make_jaxpr(fn)(*args)
    core.typecheck_jaxpr(closed.jaxpr)
    traced = core.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    assert len(traced) == len(eager)
    for e, t in zip(eager, traced):
        assert e.dtype == t.dtype and e.shape == t.shape
        np.testing.assert_array_equal(np.asarray(e), np.asarray(t))


# ------------------------------------------------------------------------------------------
# Tracing: static arguments, data-dependent shapes, size=
# ------------------------------------------------------------------------------------------


def test_data_dependent_shapes_need_concrete_values_or_size():
    x = jnp.asarray(U)
    for fn in (jnp.nonzero, jnp.unique, jnp.argwhere, jnp.flatnonzero, lambda a: jnp.where(a)):
        with pytest.raises(jaxlite.errors.ConcretizationTypeError, match="size"):
            jaxlite.make_jaxpr(fn)(x)
    closed = jaxlite.make_jaxpr(lambda a: jnp.nonzero(a > 1, size=5, fill_value=-1))(x)
    (idx,) = core.eval_jaxpr(closed.jaxpr, closed.consts, x)
    np.testing.assert_array_equal(np.asarray(idx), [0, 2, 3, 6, -1])
    closed = jaxlite.make_jaxpr(lambda a: jnp.unique(a, size=5, return_counts=True))(x)
    vals, counts = core.eval_jaxpr(closed.jaxpr, closed.consts, x)
    np.testing.assert_array_equal(np.asarray(vals), [1, 2, 3, 7, 1])
    np.testing.assert_array_equal(np.asarray(counts), [3, 1, 2, 1, 0])


def test_nonzero_fill_value_needs_one_value_per_dimension():
    # Regression: a fill_value tuple of the wrong length used to drop (or ignore) coordinates.
    x = jnp.array([[0, 1], [2, 0]])
    rows, cols = jnp.nonzero(x, size=3, fill_value=(7, 8))
    np.testing.assert_array_equal(np.asarray(rows), [0, 1, 7])
    np.testing.assert_array_equal(np.asarray(cols), [1, 0, 8])
    for bad in [(7,), (7, 8, 9)]:
        with pytest.raises(ValueError, match="jnp.nonzero: fill_value .* 2 values"):
            jnp.nonzero(x, size=3, fill_value=bad)


def test_arange_needs_static_arguments():
    with pytest.raises(jaxlite.errors.ConcretizationTypeError, match="jnp.arange"):
        jaxlite.make_jaxpr(lambda n: jnp.arange(n))(3)
    assert "iota" in str(jaxlite.make_jaxpr(lambda: jnp.arange(4))())


def test_linspace_and_roll_trace_in_their_array_arguments():
    def f(a, b, s):
        return jnp.linspace(a, b, 5), jnp.roll(jnp.arange(6.0), s)

    closed = jaxlite.make_jaxpr(f)(0.0, 1.0, 2)
    lin, rolled = core.eval_jaxpr(closed.jaxpr, closed.consts, 1.0, 3.0, jnp.asarray(-4))
    np.testing.assert_allclose(np.asarray(lin), np.linspace(1.0, 3.0, 5))
    np.testing.assert_array_equal(np.asarray(rolled), np.roll(np.arange(6.0), -4))


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda: jnp.reshape(jnp.ones(6), (4, -1)), ValueError, r"jnp.reshape: cannot reshape"),
        (
            lambda: jnp.concatenate([jnp.ones((2, 3)), jnp.ones((3, 2))]),
            ValueError,
            "jnp.concatenate: all input dimensions",
        ),
        (lambda: jnp.concatenate([jnp.ones(()), jnp.ones(())]), ValueError, "zero-dimensional"),
        (lambda: jnp.stack([jnp.ones(2), jnp.ones(3)]), ValueError, "jnp.stack: all input arrays"),
        (lambda: jnp.split(jnp.ones(5), 2), ValueError, "jnp.split: array split does not result"),
        (lambda: jnp.squeeze(jnp.ones((2, 1)), 0), ValueError, r"jnp.squeeze: .*axis 0 of shape"),
        (
            lambda: jnp.swapaxes(jnp.ones((2, 3)), 0, 5),
            ValueError,
            r"jnp.swapaxes: axis 5 is out of bounds for an array of shape \(2, 3\)",
        ),
        (lambda: jnp.moveaxis(jnp.ones((2, 3)), -3, 0), ValueError, "jnp.moveaxis: axis -3"),
        (lambda: jnp.expand_dims(jnp.ones((2, 3)), 4), ValueError, "jnp.expand_dims: axis 4"),
        (
            lambda: jnp.matmul(jnp.ones((2, 3)), jnp.ones((2, 3))),
            ValueError,
            "jnp.matmul: contraction dimension mismatch",
        ),
        (lambda: jnp.dot(jnp.ones((2, 3)), jnp.ones(2)), ValueError, "jnp.dot: shapes"),
        (
            lambda: jnp.einsum("ij,jk->ik", jnp.ones((2, 3)), jnp.ones((4, 2))),
            ValueError,
            "jnp.einsum: label 'j' has sizes 3 and 4",
        ),
        (lambda: jnp.pad(jnp.ones(3), 1, mode="bogus"), ValueError, "jnp.pad: mode"),
        (lambda: jnp.pad(jnp.ones(3), -1), ValueError, "jnp.pad: pad widths must be non-negative"),
        (lambda: jnp.broadcast_to(jnp.ones(3), (4,)), ValueError, "jnp.broadcast_to: cannot"),
        (lambda: jnp.zeros((2, -1)), ValueError, "jnp.zeros: negative dimensions"),
        (lambda: jnp.zeros("a"), TypeError, "jnp.zeros: shape must be"),
        (
            lambda: jnp.zeros(3, dtype=ml_dtypes.float8_e4m3fn),
            TypeError,
            "jnp.zeros: dtype float8_e4m3fn is not",
        ),
        (lambda: jnp.array([[1, 2], [3]]), TypeError, "jnp.array: cannot build an array"),
        (lambda: jnp.array(["a"]), TypeError, "jnp.array: .* is not a"),
        (lambda: jnp.array([1, None]), TypeError, "jnp.array"),
        (lambda: jnp.array([b"ab"]), TypeError, "jnp.array"),  # (complex is valid: issue 21)
        (lambda: jnp.linalg.det(jnp.ones((2, 3))), ValueError, "jnp.linalg.det: expected square"),
        (lambda: jnp.diagonal(jnp.ones(3)), ValueError, "jnp.diagonal: the input must be at least"),
        (lambda: jnp.unique(jnp.ones((2, 2)), axis=0), NotImplementedError, "axis"),
    ],
)
def test_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_numpy_float16_inputs_and_every_integer_dtype_are_kept():
    assert jnp.asarray(np.float16([1])).dtype == np.float16
    for dt in (np.int8, np.int16, np.uint16, np.uint64):
        assert jnp.asarray(dt([1])).dtype == dt
        assert jnp.add(dt([1]), 1).dtype == dt
        assert jnp.zeros(2, getattr(jnp, np.dtype(dt).name)).dtype == dt
    assert jnp.sum(np.uint16([1, 2])).dtype == np.uint64
    assert jnp.sum(np.int8([1, 2])).dtype == np.int64


def test_dtype_api():
    assert jnp.result_type(jnp.float32, 1.0) == np.float32
    assert jnp.result_type(jnp.int32, jnp.uint32) == np.int64
    assert jnp.result_type(jnp.ones(2, jnp.uint8), 3) == np.uint8
    assert jnp.result_type(1, 2.0) == np.float64
    assert jnp.promote_types(jnp.uint8, jnp.int32) == np.int32
    assert jnp.can_cast(jnp.int32, jnp.int64) and not jnp.can_cast(jnp.float64, jnp.int32)
    assert jnp.issubdtype(jnp.float32, jnp.floating) and not jnp.issubdtype(jnp.int32, jnp.inexact)
    assert jnp.issubdtype(jnp.ones(2).dtype, jnp.number)
    assert jnp.isdtype(jnp.int32, "integral") and not jnp.isdtype(jnp.int32, "real floating")
    assert jnp.finfo(jnp.float32).eps == np.finfo(np.float32).eps
    assert jnp.iinfo(jnp.ones(2, jnp.uint8)).max == 255
    assert jnp.dtype("float32") == np.float32 and jnp.dtype(jnp.ones(2, jnp.int32)) == np.int32
    assert jnp.astype(jnp.array([1.7, -1.7, np.nan]), jnp.int32).tolist() == [1, -1, 0]
    assert jnp.isscalar(1.0) and jnp.isscalar(jnp.array(1)) and not jnp.isscalar(jnp.ones(2))
    assert not jnp.iscomplexobj(jnp.ones(2)) and jnp.isrealobj(jnp.ones(2))
    assert jnp.shape(jnp.ones((2, 3))) == (2, 3) and jnp.ndim(1.0) == 0 and jnp.size([1, 2]) == 2
