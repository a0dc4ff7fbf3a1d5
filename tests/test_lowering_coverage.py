"""The C-lowering column of the rule coverage: every primitive lowers to C, or is listed below
with the reason. jit never falls back to Python for a primitive: a missing lowering raises a
NotImplementedError naming it (tests/test_backend.py).
"""

from __future__ import annotations

import pytest

import jaxlite  # noqa: F401  (registers the call primitives of jit, checkpoint, custom_*)
from jaxlite import core, jaxpr_util
from jaxlite.backend import lower
from jaxlite.primitives import ALL_PRIMITIVES

# Primitive name -> why it has no C lowering yet.
NOT_LOWERED: dict[str, str] = {}

# Call-like primitives: lowered inline (their body is a closed-jaxpr parameter).
CALLS = ["pjit", "checkpoint", "custom_jvp_call", "custom_vjp_call"]


@pytest.mark.parametrize("prim", ALL_PRIMITIVES, ids=lambda p: p.name)
def test_primitive_lowers_to_c(prim):
    if prim.name in NOT_LOWERED:
        pytest.skip(NOT_LOWERED[prim.name])
    assert lower.has_lowering(prim), f"'{prim.name}' has no C lowering in jaxlite/backend/lower.py"


@pytest.mark.parametrize("name", CALLS)
def test_call_primitives_lower_inline(name):
    # NB: by the primitive object: the backend asks the call registry, never compares names.
    (prim,) = [p for p in jaxpr_util.call_primitives() if p.name == name]
    assert lower.has_lowering(prim)
    assert not lower.has_lowering(core.Primitive(name))  # a namesake is not that primitive


def test_not_lowered_list_is_current():
    names = {p.name for p in ALL_PRIMITIVES}
    lowered = {p.name for p in ALL_PRIMITIVES if lower.has_lowering(p)}
    stale = [n for n in NOT_LOWERED if n not in names or n in lowered]
    assert not stale, f"remove these from NOT_LOWERED: {stale}"
