"""jaxlite never imports JAX: JAX is the tests' oracle only (runs without JAX installed)."""

import pathlib
import re

_IMPORT = re.compile(r"^\s*(import\s+jax\b(?!lite)|from\s+jax(\.\w+)*\s+import\b)", re.M)


def test_jaxlite_never_imports_jax():
    root = pathlib.Path(__file__).resolve().parents[2] / "jaxlite"
    hits = [
        f"{p.relative_to(root.parent)}:{m.group(0).strip()}"
        for p in sorted(root.rglob("*.py"))
        for m in _IMPORT.finditer(p.read_text())
    ]
    assert not hits, "jaxlite imports JAX: " + ", ".join(hits)
