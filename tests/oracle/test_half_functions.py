"""Every public function whose spec takes float32, in float16 or bfloat16 against JAX (one of
the two and one route per name, chosen by the name: eager for most, jit for a third; x64 off,
the default of both), with a few 16-bit ulps of tolerance (harness `_tol`). The default run
takes a quarter of the names (chosen by the name), `JAXLITE_ORACLE_EXAMPLES=N` all of them
(601 pass, 22 known differences). Known differences are listed in HALF_SKIPS with the reason."""

import zlib

import numpy as np
import pytest

pytest.importorskip("jax", reason="JAX is the oracle: pip install -e '.[oracle]'")

from . import stats  # noqa: E402
from .harness import FULL, HALF, JL, JX, cases, check_case, shape_label  # noqa: E402
from .specs import SPECS  # noqa: E402

# name (or a module prefix ending in ".") -> why it differs from JAX in 16-bit floats
_LAPACK = "JAX's CPU LAPACK has no 16-bit floats (it raises); jaxlite computes them in float32"
HALF_SKIPS: dict[str, str] = {
    "numpy.linalg.": _LAPACK,
    "scipy.linalg.": _LAPACK,
    "scipy.special.logit": "2 float16 ulps near 0.5: JAX's fused log(x / (1 - x)) kernel",
    "numpy.histogram_bin_edges": "one bfloat16 ulp in one edge (JAX's fused linspace)",
    "numpy.intersect1d": "the spec passes `size=`, which jaxlite's intersect1d does not take",
    "numpy.setdiff1d": "the spec passes `size=`, which jaxlite's setdiff1d does not take",
    "numpy.ravel_multi_index": "JAX rejects float indices with a ValueError, jaxlite converts",
    "numpy.unravel_index": "jaxlite rejects float indices with a TypeError, JAX converts",
}


def _skip(name: str):
    return next(
        (k for k in HALF_SKIPS if name == k or (k.endswith(".") and name.startswith(k))), None
    )


def _items():
    for name in sorted(SPECS):
        spec = SPECS[name]
        if "float32" not in spec.dtypes:
            continue
        h = zlib.crc32(name.encode())
        if (
            not FULL and (h // 7) % 4
        ):  # the default run: a quarter of the names (`make test`'s budget)
            continue
        route = "jit" if h % 3 == 0 and "jit" in spec.route_list() else "eager"
        yield pytest.param(
            name, route, HALF[(h // 3) % 2], id=f"{name}[{route}/{HALF[(h // 3) % 2]}]"
        )


@pytest.mark.parametrize("name,route,dtype", list(_items()))
def test_half_oracle(name, route, dtype):
    spec = SPECS[name]
    f_jx, f_jl = JX.resolve(name), JL.resolve(name)
    rng = np.random.default_rng(zlib.crc32(f"{name}[{route}/{dtype}]".encode()))
    failures = []
    for call, arrays in cases(spec, dtype, rng, route):
        stats.COUNTS["compared"] += 1
        diff = check_case(f_jl, f_jx, route, call, arrays, spec, "x32")
        if diff:
            failures.append(f"{shape_label(arrays)}: {diff}")
    if failures and _skip(name):
        pytest.skip(f"{name}: {HALF_SKIPS[_skip(name)]}")
    assert not failures, f"{name} [{route}/{dtype}]:\n  " + "\n  ".join(failures)
