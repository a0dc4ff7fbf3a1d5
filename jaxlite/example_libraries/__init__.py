"""`jaxlite.example_libraries`: JAX's example libraries, `stax` (neural-net layers) and
`optimizers` (pytree optimizers), as in `jax.example_libraries`."""
