"""`import jaxlite` does not import ml_dtypes (most of a second): bfloat16 loads it on first use.

Each check runs in a fresh process (the suite itself has ml_dtypes loaded, by JAX).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_and_float32_work_do_not_load_ml_dtypes():
    out = _run("""
        import sys
        import jaxlite, jaxlite.numpy as jnp
        from jaxlite import dtypes
        assert jaxlite.jit(lambda x: x + 1)(jnp.ones(3)).dtype == jnp.float32
        assert jnp.promote_types("float16", "float32") == jnp.float32
        assert jnp.issubdtype(jnp.float16, jnp.floating) and not dtypes.is_float(dtypes.int32)
        assert "bfloat16" in dir(jnp) and "bfloat16" in dir(dtypes)
        print("ml_dtypes" in sys.modules)
    """)
    assert out.split() == ["False"]


def test_bfloat16_by_name_loads_it():
    out = _run("""
        import sys
        import numpy as np
        import jaxlite, jaxlite.numpy as jnp
        assert jnp.zeros(3, "bfloat16").dtype.name == "bfloat16"
        assert "ml_dtypes" in sys.modules
        import ml_dtypes
        assert jnp.bfloat16 == ml_dtypes.bfloat16
        assert jnp.zeros(3, jnp.bfloat16).dtype == np.dtype(ml_dtypes.bfloat16)
        assert jnp.promote_types("bfloat16", "float16") == jnp.float32
        assert jnp.promote_types(jnp.bfloat16, float) == jnp.bfloat16
        assert jnp.finfo("bfloat16").bits == 16 and jnp.issubdtype(jnp.bfloat16, jnp.floating)
        x = jnp.arange(4.0, dtype=jnp.bfloat16)
        y = jaxlite.jit(lambda x: x * 2 + 1)(x)
        assert y.dtype == jnp.bfloat16 and np.asarray(y, np.float32).tolist() == [1, 3, 5, 7]
        print("ok")
    """)
    assert out.split() == ["ok"]


def test_bfloat16_arrays_of_a_later_ml_dtypes_import_work():
    # ml_dtypes imported by the user after jaxlite: its bfloat16 arrays are held and compiled,
    # and promote as JAX's lattice says (bf16 x f16 -> f32, weak floats stay bf16)
    out = _run("""
        import numpy as np
        import jaxlite, jaxlite.numpy as jnp
        from jaxlite import dtypes
        import ml_dtypes
        bf = np.dtype(ml_dtypes.bfloat16)
        assert dtypes.is_bfloat16(bf) and dtypes.is_float(bf) and bf in dtypes.HALF_DTYPES
        a = np.arange(3).astype(bf)
        assert (jnp.asarray(a) + 1.5).dtype == bf
        assert (jnp.asarray(a) + np.ones(3, np.float16)).dtype == jnp.float32
        f = jaxlite.jit(lambda x: jnp.sin(x) * x)
        assert f(a).dtype == bf
        assert jaxlite.grad(lambda x: (x * x).sum())(a).dtype == bf
        print("ok")
    """)
    assert out.split() == ["ok"]


def test_ml_dtypes_imported_before_jaxlite():
    out = _run("""
        import ml_dtypes, numpy as np
        import jaxlite.numpy as jnp
        from jaxlite.dtypes import bfloat16, short_name
        a = np.ones(2, ml_dtypes.bfloat16)
        assert bfloat16 == a.dtype and short_name(a.dtype) == "bf16"
        assert (jnp.asarray(a) * 2).dtype == bfloat16 and jnp.bfloat16(1.5).dtype == bfloat16
        print("ok")
    """)
    assert out.split() == ["ok"]
