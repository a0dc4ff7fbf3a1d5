"""Oracle specs of the 16-bit float scalar types (issue 16): `jnp.float16(x)` and
`jnp.bfloat16(x)` convert every dtype as JAX's do (tests/test_half.py checks the conversions bit
for bit against NumPy/ml_dtypes, tests/oracle/test_promotion.py the promotion tables)."""

from __future__ import annotations

from .specs import unary

SPECS = {"numpy.float16": unary(diff=False), "numpy.bfloat16": unary(diff=False)}
