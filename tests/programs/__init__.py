"""Whole programs run through JAX and through jaxlite, with only the library changed.

Each module mirrors the computation and the APIs of one public example (JAX's examples/, its
tutorials, HIPS/autograd's examples/) in our own code, with small synthetic data. It exposes
`run(L)`, where `L` holds one library's `jax`, `jnp`, `lax`, `nn`, `random`, `scipy`,
`tree_util` (see tests/test_programs.py), and returns a pytree of final results. Module
constants: `X64` (the 64-bit mode the program runs in, as its original does) and `TOL`
(rtol, atol of the comparison).
"""
