"""The oracle's counters and closing summary (imports no JAX).

The counters are filled by the oracle's tests. Under pytest-xdist each worker hands its counters
to the controller at the end of its session (`worker_output`), the controller adds them up
(`merge`), and judges the skip list and prints the closing line once, for the whole run: the hooks
that do it are in tests/conftest.py, the one conftest every controller loads.

A skip entry whose every matched item passed is stale: the session fails and names it (an entry
that matched nothing in this run, e.g. under `-k`, is not judged). The default run draws one dtype
and route per name, so it judges only exact entries (`name[route/dtype]`): a name-wide entry
describes a family of dtypes or routes that the sample need not reach, and is judged by the full
run (`JAXLITE_ORACLE_EXAMPLES=N`, `make fuzz`).
"""

from __future__ import annotations

import json
import os

# `JAXLITE_ORACLE_EXAMPLES=N` (and `make fuzz`): every dtype on every route, every case, and N
# extra random examples per item. Default: a deterministic sample sized for `make test`.
EXAMPLES = int(os.environ.get("JAXLITE_ORACLE_EXAMPLES", "0"))
FULL = EXAMPLES > 0

COUNTS = {"compared": 0, "skipped": 0}
# skip-list entry -> [items it matched, items among them that still fail]
SKIP_USE: dict[str, list[int]] = {}

_KEY = "jaxlite_oracle"


def worker_output(workeroutput: dict) -> None:
    """An xdist worker's counters, for the controller."""
    workeroutput[_KEY] = json.dumps({"counts": COUNTS, "skip_use": SKIP_USE})


def merge(workeroutput: dict) -> None:
    """Add a finished worker's counters to this (the controller's) process."""
    if _KEY not in workeroutput:
        return
    data = json.loads(workeroutput[_KEY])
    for k, v in data["counts"].items():
        COUNTS[k] += v
    for entry, (matched, failing) in data["skip_use"].items():
        use = SKIP_USE.setdefault(entry, [0, 0])
        use[0] += matched
        use[1] += failing


def _judged(entry: str) -> bool:
    return FULL or ("[" in entry and "*" not in entry and "/" in entry)


def stale() -> list[str]:
    return sorted(
        k for k, (matched, failing) in SKIP_USE.items() if matched and not failing and _judged(k)
    )


def summary_lines() -> list[tuple[str, bool]]:
    """(line, is_error) pairs of the closing summary; none if the oracle did not run."""
    if not (COUNTS["compared"] or COUNTS["skipped"]):
        return []
    from . import skips

    lines = [
        (
            f"oracle: STALE skip entry {k!r}: every case it covers now passes; remove it "
            "from tests/oracle/skips.py",
            True,
        )
        for k in stale()
    ]
    lines.append(
        (
            f"oracle: {COUNTS['compared']} cases compared, {COUNTS['skipped']} skipped "
            f"({len(skips.SKIPS)} entries in tests/oracle/skips.py)",
            False,
        )
    )
    return lines
