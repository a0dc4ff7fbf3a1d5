"""Every public name of every jaxlite API module has a spec (specs.py) or a skip entry naming it
(skips.py): a new function is covered, or this fails, without anyone remembering."""

import pytest

pytest.importorskip("jax", reason="JAX is the oracle: pip install -e '.[oracle]'")

from .enumerate_api import all_names, api_modules  # noqa: E402
from .harness import JX  # noqa: E402
from .skips import SKIPS  # noqa: E402
from .specs import SPECS  # noqa: E402


def test_api_modules_are_the_expected_faces():
    mods = api_modules()
    for m in ("numpy", "numpy.linalg", "lax", "nn", "random", "tree_util"):
        assert "jaxlite." + m in mods


def test_every_public_name_has_a_spec_or_a_skip():
    names = set(all_names())
    missing = sorted(n for n in names if n not in SPECS and n not in SKIPS)
    assert not missing, f"{len(missing)} public names without a spec or skip: {missing}"


def test_specs_name_public_functions():
    names = set(all_names())
    assert not sorted(n for n in SPECS if n not in names)


def test_names_jax_lacks_are_listed():
    """A public jaxlite name JAX does not have is a discrepancy too (a skip entry says so)."""
    extra = []
    for n in all_names():
        try:
            JX.resolve(n)
        except (AttributeError, ImportError):
            if n not in SKIPS:
                extra.append(n)
    assert not extra, f"public in jaxlite, absent from JAX: {extra}"
