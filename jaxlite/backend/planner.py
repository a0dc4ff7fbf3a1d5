"""The workspace planner: where each workspace buffer lives in the kernel's one allocation.

The lowering records, as it emits each line of C, which buffers that line reads or writes
(`Lifetimes.touch`; a C pointer that may point into several buffers is declared with `alias`),
and where each loop begins and ends. A buffer's lifetime runs from the first line that touches it
to the last, widened to the whole of any loop it crosses into or out of; buffers whose lifetimes
do not overlap share memory (first fit).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Sequence

import numpy as np

from jaxlite.util import safe_zip

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
    and the workspace size in bytes.

    First fit, in order of allocation, into the gaps the buffers still alive leave. A buffer is
    released once its lifetime ends before that of every buffer still to place begins (a heap
    by end, against the smallest start to come). NB: the gaps, not the live buffers, are
    scanned: a deep network's forward pass keeps thousands of residuals alive at once, and
    checking each new buffer against all of them was quadratic (6 s for 30,000 buffers)."""
    spans = [lifetimes.span(name) for name, _, _ in buffers]
    later_start = [0] * (len(spans) + 1)  # the smallest span start from buffer k on
    later_start[len(spans)] = 1 << 62
    for k in range(len(spans) - 1, -1, -1):
        later_start[k] = min(spans[k][0], later_start[k + 1])
    offsets: list[int] = []
    gaps: list[list[int]] = []  # free [offset, size] below `top`, sorted, never adjacent
    top = total = 0
    ends: list[tuple[int, int, int]] = []  # (span end, offset, size) of the live buffers: a heap
    for k, ((_name, dt, n), (_a, b)) in enumerate(safe_zip(buffers, spans)):
        while ends and ends[0][0] < later_start[k]:
            _, o, sz = heapq.heappop(ends)
            top = _release(gaps, o, sz, top)
        size = -(-n * dt.itemsize // ALIGN) * ALIGN
        for g, (o, sz) in enumerate(gaps):
            if sz >= size:
                off = o
                if sz == size:
                    del gaps[g]
                else:
                    gaps[g] = [o + size, sz - size]
                break
        else:
            off, top = top, top + size
        offsets.append(off)
        total = max(total, top)
        heapq.heappush(ends, (b, off, size))
    return offsets, total


def _release(gaps: list[list[int]], off: int, size: int, top: int) -> int:
    """Returns [off, off + size) to the free gaps (merged with its neighbours); the new top."""
    g = bisect.bisect_left(gaps, [off, 0])
    if g > 0 and gaps[g - 1][0] + gaps[g - 1][1] == off:  # merge with the gap below
        g -= 1
        off, size = gaps[g][0], gaps[g][1] + size
        del gaps[g]
    if g < len(gaps) and off + size == gaps[g][0]:  # and with the gap above
        size += gaps[g][1]
        del gaps[g]
    if off + size == top:
        return off
    gaps.insert(g, [off, size])
    return top
