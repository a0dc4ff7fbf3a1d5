"""Small helpers with one home, below every other jaxlite module (imports nothing of jaxlite).

`safe_zip`/`safe_map` are `zip`/`map` that raise on a length mismatch (as JAX's `util.py`):
index bookkeeping over parallel lists (invars and avals, primals and tangents) must never
truncate silently.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Iterable

__all__ = ["safe_map", "safe_zip", "split_list", "unzip2"]


def safe_zip(*seqs: Iterable) -> list[tuple]:
    """`zip` that raises `ValueError` when its arguments differ in length."""
    lists = [list(s) for s in seqs]
    n = len(lists[0]) if lists else 0
    for i, s in enumerate(lists[1:], 1):
        if len(s) != n:
            raise ValueError(f"safe_zip: argument {i} has length {len(s)}, argument 0 has {n}")
    return list(zip(*lists))


def safe_map(f: Callable, *seqs: Iterable) -> list[Any]:
    """`map` that raises `ValueError` when its sequence arguments differ in length."""
    return [f(*args) for args in safe_zip(*seqs)]


def unzip2(pairs: Iterable[tuple]) -> tuple[list, list]:
    """[(a, b), ...] -> ([a, ...], [b, ...])."""
    xs, ys = [], []
    for x, y in pairs:
        xs.append(x)
        ys.append(y)
    return xs, ys


def split_list(seq: list, sizes: list[int]) -> list[list]:
    """Cut `seq` into consecutive pieces of the given sizes; the sizes must add up to len(seq)."""
    if sum(sizes) != len(seq):
        raise ValueError(f"split_list: sizes {sizes} do not add up to {len(seq)}")
    out, start = [], 0
    for n in sizes:
        out.append(list(seq[start : start + n]))
        start += n
    return out
