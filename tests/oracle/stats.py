"""Counters of the oracle's run, read by conftest.py's closing summary (imports no JAX)."""

COUNTS = {"compared": 0, "skipped": 0}
# skip-list entry -> [items it matched, items among them that still fail]
SKIP_USE: dict[str, list[int]] = {}
