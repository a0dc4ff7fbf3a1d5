"""`jaxlite.scipy`: JAX's `jax.scipy` faces (import the submodules: `jaxlite.scipy.linalg`)."""
