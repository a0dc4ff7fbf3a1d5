"""Every primitive has every rule: impl, abstract eval, jvp, transpose (linear ones), vmap, C.

The primitives are ALL_PRIMITIVES plus the call primitives that jit, control flow, checkpoint
and custom derivatives define in their own modules. The interpreter tables are imported
directly: a missing module is a failure. Gaps are listed in NOT_SUPPORTED with the reason; a
gap that gets filled must be removed from the list (test_not_supported_lists_are_current).
"""

from __future__ import annotations

import sys

import pytest

import jaxlite  # noqa: F401  (imports every module that defines primitives)
from jaxlite import core
from jaxlite.backend import lower
from jaxlite.interpreters import jvp, transpose, vmap
from jaxlite.primitives import ALL_PRIMITIVES


def _module_primitives() -> dict[str, core.Primitive]:
    found = {}
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name == "jaxlite" or name.startswith("jaxlite.")):
            continue
        for value in vars(mod).values():
            if isinstance(value, core.Primitive):
                found[value.name] = value
    return found


PRIMS: dict[str, core.Primitive] = {**_module_primitives(), **{p.name: p for p in ALL_PRIMITIVES}}
CALL_PRIMITIVES = sorted(set(PRIMS) - {p.name for p in ALL_PRIMITIVES})

# Linear primitives: those the JVP rules apply to tangents, so reverse mode must transpose them.
# (mul, div, dot_general and select_n are linear in some of their arguments only; the call
# primitives are transposed by transposing their bodies.)
LINEAR = {
    # elementwise
    "neg", "add", "sub", "mul", "div", "add_any", "convert_element_type", "copy", "select_n",
    "reduce_precision",  # as JAX: deflinear (its tangent rounds like its primal)
    # reductions, scans, contractions
    "reduce_sum", "cumsum", "dot_general", "conv_general_dilated", "reduce_window_sum",
    "select_and_gather_add", "select_and_scatter_add",  # (in their first operand)
    "triangular_solve",
    # complex (issue 21)
    "real", "imag", "conj", "complex", "fft",
    # shapes and data movement
    "broadcast_in_dim", "reshape", "transpose", "squeeze", "expand_dims", "rev", "concatenate",
    "pad", "slice", "dynamic_slice", "dynamic_update_slice", "sort", "gather", "scatter",
    "scatter-add", "scatter-mul",
    # named-axis collectives
    "psum", "all_gather", "reduce_scatter", "all_to_all", "ppermute",
    # call primitives
    "pjit", "cond", "scan", "while", "checkpoint", "custom_lin",
}  # fmt: skip

# Rule table -> primitive name -> why it has no rule.
NOT_SUPPORTED: dict[str, dict[str, str]] = {
    "jvp": {
        # As in JAX: custom_lin appears only in linearized jaxprs, which are transposed, never
        # differentiated again (custom_vjp functions are differentiated through custom_vjp_call).
        "custom_lin": "only transposed, never differentiated",
    },
    "lower": {
        # custom_lin is consumed by transposition before any jaxpr reaches jit.
        "custom_lin": "never reaches jit",
    },
}

TABLES = {
    "impl": lambda p: p.impl is not None,
    "abstract_eval": lambda p: p.abstract_eval is not None,
    "jvp": lambda p: p in jvp.jvp_rules,
    "vmap": lambda p: p in vmap.batch_rules,
    "lower": lower.has_lowering,
}


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("name", sorted(PRIMS))
def test_primitive_has_rule(name, table):
    reason = NOT_SUPPORTED.get(table, {}).get(name)
    if reason is not None:
        pytest.skip(f"{table} of {name}: {reason}")
    where = {
        "impl": "jaxlite/primitives/ (def_impl)",
        "abstract_eval": "jaxlite/primitives/ (def_abstract_eval)",
        "jvp": "jaxlite/interpreters/jvp.py (jvp_rules)",
        "vmap": "jaxlite/interpreters/vmap.py (batch_rules)",
        "lower": "jaxlite/backend/lower.py (ELEMENTWISE, LAYOUT, KERNELS or an inline call)",
    }[table]
    assert TABLES[table](PRIMS[name]), f"'{name}' has no {table} rule in {where}"


@pytest.mark.parametrize("name", sorted(LINEAR))
def test_linear_primitive_has_transpose_rule(name):
    assert name in PRIMS, f"LINEAR names '{name}', which is not a primitive"
    assert PRIMS[name] in transpose.transpose_rules, (
        f"linear primitive '{name}' has no rule in jaxlite/interpreters/transpose.py"
    )


def test_linear_set_is_current():
    transposable = {p.name for p in transpose.transpose_rules}
    assert transposable <= LINEAR, f"add to LINEAR: {sorted(transposable - LINEAR)}"


def test_not_supported_lists_are_current():
    stale = [
        (table, name)
        for table, names in NOT_SUPPORTED.items()
        for name in names
        if name not in PRIMS or TABLES[table](PRIMS[name])
    ]
    assert not stale, f"remove from NOT_SUPPORTED (now supported or no such primitive): {stale}"


def test_rule_tables_hold_only_known_primitives():
    known = set(PRIMS.values())
    for table in (jvp.jvp_rules, transpose.transpose_rules, vmap.batch_rules):
        unknown = [p.name for p in table if p not in known]
        assert not unknown, unknown


def test_call_primitives_are_found():
    # jit, control flow, checkpoint and custom derivatives register their own primitives.
    for name in ("pjit", "cond", "while", "scan", "custom_jvp_call", "custom_vjp_call"):
        assert name in CALL_PRIMITIVES, CALL_PRIMITIVES
