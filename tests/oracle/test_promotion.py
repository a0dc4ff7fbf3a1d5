"""`jnp.promote_types` and `jnp.result_type` against JAX's for every pair of supported dtypes
(complex included) and weak Python scalars (int, float, complex, bool): one table test, every difference listed."""

import itertools
import warnings

import numpy as np
import pytest

pytest.importorskip("jax", reason="JAX is the oracle: pip install -e '.[oracle]'")

from . import stats  # noqa: E402
from .harness import COMPLEX, DTYPES, JL, JX, MODES, in_mode  # noqa: E402
from .skips import SKIPS  # noqa: E402

_WEAK = {"int": 1, "float": 1.0, "bool": True, "complex": 1j}
DTYPES = (*DTYPES, "float16", "bfloat16")  # 16-bit floats: in the promotion tables too
_ALL = (*DTYPES, *COMPLEX)


def _table(L, fn, operands, mode):
    out = {}
    with in_mode(mode), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for a, b in itertools.product(operands, repeat=2):
            del caught[:]
            try:
                out[a, b] = str(np.dtype(fn(L, a, b)))
            except Exception as e:
                out[a, b] = f"raises {type(e).__name__}"
            # JAX warns when a 64-bit dtype is asked for with x64 off; jaxlite must too.
            if any("Explicitly requested dtype" in str(w.message) for w in caught):
                out[a, b] += " (warns: truncated)"
    return out


def _check(name, mode, jl, jx):
    stats.COUNTS["compared"] += len(jx)
    bad = [f"{a} + {b}: jaxlite {jl[a, b]}, JAX {jx[a, b]}" for a, b in jx if jl[a, b] != jx[a, b]]
    entry = f"numpy.{name}@{mode}[table]"
    if entry in SKIPS:
        use = stats.SKIP_USE.setdefault(entry, [0, 0])
        use[0] += 1
        if bad:
            use[1] += 1
            stats.COUNTS["skipped"] += 1
            pytest.skip(f"{entry}: {SKIPS[entry]}")
    assert not bad, f"{len(bad)} of {len(jx)} pairs differ:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("mode", MODES)
def test_promote_types_table(mode):
    fn = lambda L, a, b: L.numpy.promote_types(a, b)  # noqa: E731
    _check("promote_types", mode, _table(JL, fn, _ALL, mode), _table(JX, fn, _ALL, mode))


@pytest.mark.parametrize("mode", MODES)
def test_result_type_table(mode):
    def fn(L, a, b):
        return L.numpy.result_type(_WEAK.get(a, a), _WEAK.get(b, b))

    ops = _ALL + tuple(_WEAK)
    _check("result_type", mode, _table(JL, fn, ops, mode), _table(JX, fn, ops, mode))
