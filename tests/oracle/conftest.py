"""The oracle's closing line, and the strictness of its skip list.

A skip entry whose every matched item passed is stale: the session fails and names it (an entry
that matched nothing in this run, e.g. under `-k`, is not judged). The default run draws one dtype
and route per name, so it judges only exact entries (`name[route/dtype]`): a name-wide entry
describes a family of dtypes or routes that the sample need not reach, and is judged by the full
run (`JAXLITE_ORACLE_EXAMPLES=N`, `make fuzz`).
"""

from . import harness, skips, stats


def _judged(entry: str) -> bool:
    return harness.FULL or ("[" in entry and "*" not in entry and "/" in entry)


def _stale():
    return sorted(
        k
        for k, (matched, failing) in stats.SKIP_USE.items()
        if matched and not failing and _judged(k)
    )


def pytest_sessionfinish(session, exitstatus):
    if _stale() and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    c = stats.COUNTS
    if not (c["compared"] or c["skipped"]):
        return
    for k in _stale():
        terminalreporter.write_line(
            f"oracle: STALE skip entry {k!r}: every case it covers now passes; remove it "
            "from tests/oracle/skips.py",
            red=True,
        )
    terminalreporter.write_line(
        f"oracle: {c['compared']} cases compared, {c['skipped']} skipped "
        f"({len(skips.SKIPS)} entries in tests/oracle/skips.py)"
    )
