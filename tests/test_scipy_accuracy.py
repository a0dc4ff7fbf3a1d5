"""Accuracy of the C special functions (csrc/jl_special.h, under jit) against float64 SciPy over
dense grids, in ulps of each dtype; the bounds asserted here are the measured figures (rounded
up) that the README quotes. Results below the dtype's smallest normal are left out (their ulp is
absolute; in float64, below 1e-280, where SciPy's erfc and zeta lose accuracy), and so, for lgamma and digamma, are results below 1/2 in magnitude: near a zero of
the function the Lanczos sum cancels (as in XLA), so there the error is bounded absolutely.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxlite
from jaxlite import lax
from tests.test_jit_primitives import ulp_distance

sp = pytest.importorskip("scipy.special")

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)

# name -> (max ulp float32, max ulp float64, max error / max(1, |f|) near zeros, f32 and f64)
UNARY = {
    "lgamma": (lax.lgamma, sp.gammaln, {"+": (32, 32), "-": (64, 96)}, (4e-6, 2e-14)),
    "digamma": (lax.digamma, sp.psi, {"+": (16, 24), "-": (128, 1024)}, (2e-6, 2e-13)),
    "erfc": (lax.erfc, sp.erfc, {"+": (0, 32), "-": (0, 2)}, None),
    "bessel_i0e": (lax.bessel_i0e, sp.i0e, {"+": (0, 2), "-": (0, 2)}, None),
    "bessel_i1e": (lax.bessel_i1e, sp.i1e, {"+": (0, 2), "-": (0, 2)}, None),
}
BINARY = {"igamma": (0, 4096), "igammac": (0, 4096), "zeta": (1, 64), "betainc": (0, 16384)}


def grid(dtype):
    pos = np.concatenate([np.linspace(1e-3, 40, 1 << 16), np.geomspace(1e-30, 1e30, 1 << 14)])
    neg = -np.linspace(1e-3, 20, 1 << 16)
    neg = neg[np.abs(neg - np.round(neg)) > 1e-3]  # away from the poles of lgamma and digamma
    return np.concatenate([pos, neg]).astype(dtype)


@pytest.fixture(scope="module", params=[F32, F64], ids=str)
def unary_results(request):
    dt = request.param
    x = grid(dt)
    outs = jaxlite.jit(lambda x: tuple(f(x) for f, *_ in UNARY.values()))(x)
    return dt, x, [np.asarray(o) for o in outs]


def ulps(got, want, dt):
    w = want.astype(dt)
    # NB: below 1e-280 SciPy's own erfc and zeta (Cephes: exp(-x*x) and unscaled powers) lose
    # up to 1e-10 relative (checked against long double sums), so they are no reference there.
    ok = np.isfinite(w) & (np.abs(w) >= max(np.finfo(dt).tiny, 1e-280))
    return ok, ulp_distance(got, w)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ulps_against_scipy(unary_results, name):
    dt, x, outs = unary_results
    _, ref, bounds, near_zero = UNARY[name]
    got = outs[list(UNARY).index(name)]
    want = ref(x.astype(F64))
    ok, u = ulps(got, want, dt)
    col = 0 if dt == F32 else 1
    far = np.abs(want) >= 0.5 if near_zero else np.ones_like(ok)
    if name == "erfc" and dt == F64:  # SciPy's erfc (Cephes) rounds exp(-x*x): its error grows
        far = far & (x < 6)  # as x^2 (500 ulp at x = 23, where glibc's, jaxlite's, is exact)
    for side, mask in (("+", x > 0), ("-", x < 0)):
        sel = ok & far & mask
        assert u[sel].max() <= bounds[side][col], (
            name,
            side,
            u[sel].max(),
            x[sel][u[sel].argmax()],
        )
    if near_zero:
        err = np.abs(got[ok].astype(F64) - want[ok]) / np.maximum(np.abs(want[ok]), 1)
        assert err.max() <= near_zero[col], (name, err.max())


@pytest.mark.parametrize("dt", [F32, F64], ids=str)
def test_binary_ulps_against_scipy(dt):
    rng = np.random.default_rng(0)
    a, b = (np.exp(rng.uniform(-3, 5, 1 << 14)).astype(dt) for _ in range(2))
    u = rng.uniform(0, 1, 1 << 14).astype(dt)
    s = (a + dt.type(1)).astype(dt)
    outs = jaxlite.jit(lambda a, b, s, u: (lax.igamma(a, b), lax.igammac(a, b), lax.zeta(s, b),
                                           lax.betainc(a, b, u)))(a, b, s, u)  # fmt: skip
    a6, b6, s6, u6 = (v.astype(F64) for v in (a, b, s, u))
    wants = [sp.gammainc(a6, b6), sp.gammaincc(a6, b6), sp.zeta(s6, b6), sp.betainc(a6, b6, u6)]
    col = 0 if dt == F32 else 1
    for (name, bounds), got, want in zip(BINARY.items(), outs, wants):
        with np.errstate(over="ignore"):
            ok, d = ulps(np.asarray(got), want, dt)
        assert d[ok].max() <= bounds[col], (name, d[ok].max())
