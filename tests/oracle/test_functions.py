"""Every public function of jaxlite against JAX: value, exact dtype, weak type, shape, and
raising where JAX raises; eagerly, under jit, vmap, jvp and grad (see harness.py for the sample
the default run takes and `JAXLITE_ORACLE_EXAMPLES` for more)."""

import zlib

import numpy as np
import pytest

pytest.importorskip("jax", reason="JAX is the oracle: pip install -e '.[oracle]'")

from . import stats  # noqa: E402
from .harness import JL, JX, cases, check_case, items, shape_label  # noqa: E402
from .skips import SKIPS  # noqa: E402
from .specs import SPECS  # noqa: E402


def _items():
    for name in sorted(SPECS):
        spec = SPECS[name]
        for mode, route, dtype in items(name, spec):
            yield pytest.param(name, mode, route, dtype, id=f"{name}@{mode}[{route}/{dtype}]")


def skip_entry(name: str, mode: str, route: str, dtype: str) -> str | None:
    """The SKIPS entry that covers this item, if any: most specific first, an entry of the mode
    (`name@x32[...]`) before one of both modes (`name[...]`)."""
    for n in (f"{name}@{mode}", name):
        for key in (f"{n}[{route}/{dtype}]", f"{n}[{route}/*]", f"{n}[*/{dtype}]",
                    f"{n}[{route}]", n):  # fmt: skip
            if key in SKIPS:
                return key
    return None


@pytest.mark.parametrize("name,mode,route,dtype", list(_items()))
def test_oracle(name, mode, route, dtype):
    spec = SPECS[name]
    try:
        f_jx = JX.resolve(name)
    except AttributeError:
        pytest.fail(f"JAX has no {name}: add a skip entry saying so")
    f_jl = JL.resolve(name)
    rng = np.random.default_rng(zlib.crc32(f"{name}[{route}/{dtype}]".encode()))  # both modes
    failures = []
    for call, arrays in cases(spec, dtype, rng, route):
        stats.COUNTS["compared"] += 1
        diff = check_case(f_jl, f_jx, route, call, arrays, spec, mode)
        if diff:
            failures.append(f"{shape_label(arrays)}: {diff}")
    entry = skip_entry(name, mode, route, dtype)
    if entry is not None:
        use = stats.SKIP_USE.setdefault(entry, [0, 0])
        use[0] += 1
        if failures:
            use[1] += 1
            stats.COUNTS["skipped"] += 1
            pytest.skip(f"{entry}: {SKIPS[entry]}")
    if failures:
        pytest.fail(
            f"{name}@{mode}[{route}/{dtype}] differs from JAX:\n  " + "\n  ".join(failures[:6])
        )
