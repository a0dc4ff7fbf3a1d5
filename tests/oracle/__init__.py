"""The differential test oracle (issue 15): every public jaxlite function against real JAX.

`harness.py` generates inputs and compares results, `specs.py` says how to call each function,
`skips.py` lists the known discrepancies, `stats.py` counts cases for the closing summary line.
"""
