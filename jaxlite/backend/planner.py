"""The workspace planner: where each workspace buffer lives in the kernel's one allocation.

The lowering records, as it emits each line of C, which buffers that line reads or writes
(`Lifetimes.touch`; a C pointer that may point into several buffers is declared with `alias`),
and where each loop begins and ends. A buffer's lifetime runs from the first line that touches it
to the last, widened to the whole of any loop it crosses into or out of; buffers whose lifetimes
do not overlap share memory (first fit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

ALIGN = 64  # bytes: every buffer starts on a cache line (and a full AVX-512 vector)


class Lifetimes:
    """Which lines of C touch which buffer, and the loops, recorded while the C is emitted."""

    def __init__(self):
        self.first: dict[str, int] = {}  # buffer -> first line that touches it
        self.last: dict[str, int] = {}  # buffer -> last line that touches it
        self.aliases: dict[str, tuple[str, ...]] = {}  # C pointer -> the buffers it may point to
        self.loops: list[tuple[int, int]] = []  # (first, last) line of each loop

    def alias(self, pointer: str, buffers: Iterable[str]) -> None:
        """Declares that the C pointer `pointer` may point into any of `buffers`."""
        self.aliases[pointer] = tuple(buffers)

    def touch(self, names: Iterable[str | None], line: int) -> None:
        """Records that line `line` reads or writes each of `names` (buffers or aliases; None,
        a view of the integers, is skipped)."""
        for name in names:
            if name is None:
                continue
            for buf in self.aliases.get(name, (name,)):
                self.first[buf] = min(self.first.get(buf, line), line)
                self.last[buf] = max(self.last.get(buf, line), line)

    def loop(self, first: int, last: int) -> None:
        self.loops.append((first, last))

    def span(self, buf: str) -> tuple[int, int]:
        """The lines over which `buf` must keep its contents."""
        a, b = self.first.get(buf, 0), self.last.get(buf, 0)
        changed = True
        while changed:  # NB: a value live across a loop's back edge needs its memory throughout
            changed = False
            for s, e in self.loops:
                if a <= e and b >= s and (a < s or b > e) and not (a <= s and b >= e):
                    a, b, changed = min(a, s), max(b, e), True
        return a, b


def plan(buffers: Sequence[tuple[str, np.dtype, int]], lifetimes: Lifetimes):
    """Offsets of `buffers` ((name, dtype, elements), in order of allocation) in the workspace,
    and the workspace size in bytes."""
    offsets, placed = [], []  # placed: (offset, size, span)
    for name, dt, n in buffers:
        size = -(-n * dt.itemsize // ALIGN) * ALIGN
        a, b = lifetimes.span(name)
        busy = sorted((o, sz) for o, sz, (pa, pb) in placed if pa <= b and a <= pb)
        off = 0
        for o, sz in busy:
            if off + size <= o:
                break
            off = max(off, o + sz)
        offsets.append(off)
        placed.append((off, size, (a, b)))
    return offsets, max((o + sz for o, sz, _ in placed), default=0)
