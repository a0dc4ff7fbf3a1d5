"""The oracle's known discrepancies: `SKIPS = {"entry": "what differs"}`.

An entry is `name` (every route and dtype of it), `name[route]` or `name[route/dtype]`, where
`route` or `dtype` may be `*`. An item it matches that fails is skipped with the reason; an entry
whose every matched item passes is stale and fails the run (conftest.py). Names not compared at
all (no spec) are entries too: the coverage test accepts them.
"""

SKIPS: dict[str, str] = {}

# Names not compared: not functions of arrays, or public in jaxlite but absent from JAX.
SKIPS |= {
    "lax.ALL_PRIMITIVES": "not in jax.lax: jaxlite's registry of primitives, public by accident",
    "lax.Primitive": "not in jax.lax (jax.extend.core.Primitive): public by accident",
    "lax.ShapedArray": "not in jax.lax (jax.core.ShapedArray): public by accident",
    "lax.Tracer": "not in jax.lax (jax.core.Tracer): public by accident",
    "lax.add_any": "not in jax.lax: jaxlite's internal cotangent sum, public by accident",
    "lax.add_any_p": "not in jax.lax (JAX's add_jaxvals_p lives in jax._src): public by accident",
    "lax.api_entry": "not in jax.lax: jaxlite's error-message helper, public by accident",
    "lax.copy": "not in jax.lax (only lax.copy_p): public by accident",
    "lax.expand_dims_p": "not in jax.lax: JAX's expand_dims is a reshape/broadcast_in_dim",
    "lax.get_aval": "not in jax.lax (jax.core.get_aval): public by accident",
    "lax.not_": "not in jax.lax (JAX has bitwise_not only)",
    "lax.operator_index": "not in jax.lax: public by accident",
    "numpy.fix": "not in jax.numpy 0.10 (removed; NumPy's np.fix is deprecated)",
    "numpy.float0": "not in jax.numpy (jax.dtypes.float0): public by accident",
    "numpy.linalg.LinAlgError": "not in jax.numpy.linalg (JAX raises no LinAlgError)",
    "lax.GatherDimensionNumbers": "a structure, exercised by the lax.gather spec",
    "lax.ScatterDimensionNumbers": "a structure, exercised by the lax.scatter* specs",
    "lax.GatherScatterMode": "an enum, exercised by the gather/scatter specs (mode='clip')",
    "tree_util.PyTreeDef": "a class, exercised through tree_structure/tree_unflatten",
    "tree_util.register_pytree_node": "registers a class: tested in tests/test_tree_util.py",
    "tree_util.register_pytree_node_class": "registers a class: tested in tests/test_tree_util.py",
}

# Promotion tables (test_promotion.py).
SKIPS |= {
    "numpy.promote_types[table]": "{u,}int32/int64 with float32: jaxlite float64, JAX float32 "
    "(JAX's lattice, not NumPy's)",
    "numpy.result_type[table]": "{u,}int32/int64 with float32: jaxlite float64, JAX float32 "
    "(JAX's lattice, not NumPy's)",
}
