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

# Found by the oracle (jaxlite follows NumPy where JAX 0.10 differs). Families first.
_INEXACT_OF_INT = """numpy.arccos numpy.arccosh numpy.arcsin numpy.arcsinh numpy.arctanh numpy.asin numpy.asinh
numpy.atan numpy.atanh numpy.cbrt numpy.cos numpy.deg2rad numpy.degrees numpy.exp numpy.expm1
numpy.fabs numpy.log numpy.log10 numpy.log2 numpy.rad2deg numpy.radians numpy.reciprocal
numpy.sin numpy.sinc numpy.sqrt numpy.tanh numpy.arctan2 numpy.atan2 numpy.copysign
numpy.divide numpy.true_divide numpy.float_power numpy.heaviside numpy.hypot numpy.ldexp
numpy.logaddexp2 numpy.frexp numpy.mean numpy.std numpy.nanvar numpy.median numpy.nanmedian
numpy.quantile numpy.nanquantile numpy.percentile numpy.nanpercentile numpy.cov numpy.corrcoef nn.logsumexp
numpy.linalg.eigh numpy.linalg.inv numpy.linalg.matrix_norm numpy.linalg.svd
numpy.linalg.svdvals numpy.linalg.lstsq""".split()
SKIPS |= {
    n: "dtype: jaxlite float64, JAX float32 (bool/int/uint inputs to an inexact op; issue 15 #2)"
    for n in _INEXACT_OF_INT
}
_INDEX_INT32 = "numpy.argpartition numpy.unravel_index numpy.ravel_multi_index".split()
SKIPS |= {
    n: "dtype: jaxlite int64 indices, JAX int32 (or the input's int dtype for "
    "unravel/ravel_multi_index)"
    for n in _INDEX_INT32
}
_LAX_DTYPE_CHECKS = "lax.abs lax.is_finite lax.bitcast_convert_type lax.scatter_add numpy.partition numpy.around".split()
SKIPS |= {
    n: "raises: JAX rejects the dtype (lax.abs of unsigned, is_finite of int, logistic/sub of "
    "bool or int, neg of bool in partition, round of bool), jaxlite computes"
    for n in _LAX_DTYPE_CHECKS
}
SKIPS |= {
    "lax.cond": "weak_type: jaxlite False, JAX True (weak type through cond's branches: x*2 of "
    "a bool operand)",
    "lax.div": "value: signed integer division rounds toward zero in JAX (C), jaxlite floors; "
    "x/0 differs (JAX: -1 / all ones for unsigned)",
    "lax.rem": "value: integer remainder by zero and sign of the result differ (JAX: C fmod)",
    "numpy.floor_divide": "value: integer x // 0 jaxlite 0, JAX -1 (255 for uint8)",
    "numpy.pow": "value: integer overflow / negative exponent results differ",
    "numpy.fmod": "weak_type: jnp.fmod(x, 2) jaxlite False, JAX True (mixed with Python scalar)",
    "numpy.full": "weak_type: jnp.full((2,), True) jaxlite True, JAX False",
    "numpy.tri": "dtype: jnp.tri(3, 4, 1) jaxlite float64, JAX float32",
    "numpy.median": "raises: median of an empty array: JAX raises, jaxlite returns NaN",
    "numpy.bitwise_left_shift": "raises: jaxlite rejects bool, JAX accepts (bool << bool)",
    "": "raises: jaxlite rejects bool, JAX accepts",
    "numpy.mod": "raises: jaxlite rejects bool, JAX accepts",
    "numpy.floor_divide[*/bool]": "raises: jaxlite rejects bool, JAX accepts",
    "numpy.intersect1d": "raises: jaxlite has no size=/fill_value= (JAX's jit-able form)",
    "numpy.setdiff1d": "raises: jaxlite has no size=/fill_value= (JAX's jit-able form)",
}

# Found by the sampled run once the new integer dtypes and JAX's promotion lattice had landed
# (2026-12-07), keyed by the exact case so each goes stale the moment it is fixed.
SKIPS |= {
    "lax.pow[jit/uint8]": "raises: JAX's lax.pow takes floating bases only; jaxlite takes integers",
    "numpy.divmod[eager/int32]": "value: divmod of int32 by zero (jaxlite 0, JAX -2 for the quotient)",
    "numpy.power[eager/int16]": "value: int16 power on overflow differs from JAX",
    "numpy.round[eager/bool]": "raises: JAX rejects bool (not inexact); jaxlite rounds it",
}

# Convolutions and windowed reductions (conv).
SKIPS |= {
    "lax.ConvDimensionNumbers": "a structure, exercised by the lax.conv_dimension_numbers spec",
}

# scipy.linalg / optimize / integrate (the linalg helper, issue 16)
SKIPS |= {
    "scipy.optimize.OptimizeResults": "a NamedTuple class: exercised through minimize",
    "scipy.integrate.trapezoid": "an empty integration axis: JAX raises IndexError, jaxlite "
    "returns 0 as SciPy and jnp.trapezoid do",
    "scipy.linalg.cho_factor[jit]": "the Python bool `lower` returned through jit: jaxlite "
    "gives a weakly typed bool array, JAX a strong one (jit's output conversion)",
    "scipy.linalg.cho_factor[vmap]": "the Python bool `lower` returned through vmap: jaxlite "
    "gives a weakly typed bool array, JAX a strong one (vmap's output conversion)",
}

# jaxlite.scipy (special, stats) and lax's special-function primitives
SKIPS |= {
    "scipy.special.betaln": "JAX uses TOMS 708's algdiv for b >= 8, off by up to 1e-5 relative "
    "against scipy; jaxlite computes gammaln(a) + gammaln(b) - gammaln(a + b) (1e-11)",
    "scipy.stats.truncnorm.logsf[grad]": "outside [a, b] JAX's gradient is NaN (0 * inf from the "
    "branch its select drops), jaxlite's 0",
}

# nn (issue 16): jnp-level differences the nn composites inherit, keyed by the exact case.
SKIPS |= {
    f"nn.hard_tanh[*/{d}]": "raises: x < -1 of an unsigned x: jaxlite's jnp.less rejects the "
    "out-of-range Python int -1 (OverflowError), JAX wraps it to the dtype's max under jit"
    for d in ("uint8", "uint16", "uint32", "uint64")
}
SKIPS["nn.logmeanexp[*/bool]"] = (
    "dtype: jaxlite float32, JAX float64: inherited from nn.logsumexp of bool (its entry above, "
    "issue 15 #2)"
)
SKIPS["nn.softmax[jit/uint64]"] = (
    "value: softmax of unsigned ints wraps x - max(x) around (as JAX does); what follows is "
    "garbage either way: jaxlite 0 where x == max(x), JAX's jit NaN"
)
SKIPS["nn.gelu[grad/float32]"] = (
    "value: gelu' near x = -9 is -2e-6 in jaxlite, 0 in JAX: float32 tanh(-9.0) is -0.99999994 "
    "in jaxlite (NumPy's tanhf), -1.0 in JAX (XLA's), so 1 + tanh does not vanish (lax.tanh)"
)
SKIPS |= {
    f"tree_util.{n}": "registers a class: tested in tests/test_tree_api.py"
    for n in """register_dataclass register_pytree_with_keys register_pytree_with_keys_class
    register_static""".split()
}
SKIPS["tree_util.is_tree_node"] = (
    "raises: JAX 0.10's is_tree_node raises TypeError for a list or None (is_node() takes a "
    "type) and answers False for a dict; jaxlite answers whether the value is a pytree node"
)

# Issue 19 (named axes, pmap, MPI): names the oracle does not call.
SKIPS |= {
    "distributed.initialize": "joins an MPI job: tests/test_distributed.py runs it under mpiexec",
    "distributed.is_initialized": "MPI state: tests/test_distributed.py",
    "distributed.shutdown": "MPI state: tests/test_distributed.py",
}

# --- complex (issue 21) --------------------------------------------------------------------------
_COMPLEX_SPECIALS_REASON = (
    "value: at complex infinities and NaNs (the special values of harness._COMPLEX_SPECIALS) "
    "XLA's complex {} gives other NaN/inf parts than NumPy's (the eager spec) and C99's: e.g. "
    "expm1(inf+0j) = inf+0j in XLA, inf+nanj in jaxlite; square(inf-1e30j) and pow: XLA "
    "multiplies out another way; finite inputs agree (tests/test_complex.py)"
)
SKIPS |= {
    f"{name}[*/{dt}]": _COMPLEX_SPECIALS_REASON.format(name.rpartition(".")[2])
    for name in ("lax.exp2", "lax.expm1", "lax.pow", "lax.rsqrt", "lax.square", "numpy.exp2",
                 "numpy.power", "numpy.square")
    for dt in ("complex64", "complex128")
}  # fmt: skip
SKIPS["lax.pow[eager/int8]"] = (
    "raises: JAX's lax.pow takes floating and complex bases only; jaxlite takes integers (the "
    "default sample reaches int8 since complex dtypes joined this name's list)"
)
SKIPS["lax.mul[eager/float64]"] = (
    "raises: JAX 0.10's lax.mul(float64 array, 2) rejects the Python int (same dtypes required); "
    "jaxlite's lax wrappers take a Python scalar as the other operand's dtype (the default "
    "sample reaches this case since complex dtypes joined this name's list)"
)
# complex (issue 21), judged by the full run: the complex JVPs at complex infinities and NaNs
# (the derivative formulas are JAX's; XLA's complex functions there differ, see above), and the
# edges below
SKIPS |= {
    f"{name}[*/{dt}]": _COMPLEX_SPECIALS_REASON.format(name.rpartition(".")[2] + "'s JVP")
    for name in ("lax.acos", "lax.acosh", "lax.asin", "lax.asinh", "lax.atan", "lax.atanh",
                 "lax.sqrt", "numpy.arctan")
    for dt in ("complex64", "complex128")
}  # fmt: skip
SKIPS |= {
    f"numpy.{name}[jvp/{dt}]": (
        "value: at NaN elements JAX's lexicographic select passes the tangent of the other "
        "operand (0 here), jaxlite's that of the first"
    )
    for name in ("maximum", "minimum")
    for dt in ("complex64", "complex128")
}
SKIPS |= {
    f"numpy.var[jvp/{dt}]": "value: the tangent of the variance of an empty array: NaN in "
    "jaxlite (0/0), 0 in JAX"
    for dt in ("complex64", "complex128")
}
SKIPS |= {
    f"lax.{name}[*/{dt}]": "raises: lax binary ops on size-1 axes against other sizes (FULL "
    "mode's random broadcastable shapes): JAX 0.10 accepts them, jaxlite's lax does not (as for "
    "the real dtypes)"
    for name, dt in (("mul", "complex64"), ("eq", "complex128"))
}

# jaxlite.example_libraries (stax, optimizers): names the oracle's specs do not call.
SKIPS |= {
    "example_libraries.optimizers.optimizer": "a decorator: every optimizer's spec runs through "
    "it; tests/test_example_libraries.py checks its errors against JAX's",
    "example_libraries.optimizers.Optimizer": "a NamedTuple class: tests/test_example_libraries.py",
    "example_libraries.optimizers.OptimizerState": "a pytree class: tests/test_example_libraries.py "
    "runs it through jit and compares its packed state with JAX's",
    "example_libraries.optimizers.JoinPoint": "a marker class: tests/test_example_libraries.py",
    "example_libraries.optimizers.unpack_optimizer_state": "serialization of an OptimizerState: "
    "tests/test_example_libraries.py (round trip, JAX's layout)",
    "example_libraries.optimizers.pack_optimizer_state": "serialization of an OptimizerState: "
    "tests/test_example_libraries.py (round trip, JAX's layout)",
}
SKIPS["example_libraries.stax.gelu@x32[grad/*]"] = (
    "value: stax.gelu is nn.gelu; its float32 derivative in the far negative tail differs as "
    "nn.gelu[grad/float32]'s does (float32 tanh near -1: NumPy's tanhf vs XLA's)"
)

# jaxlite.scipy.signal's spectral analysis (helper `signal`, issue 15).
SKIPS["scipy.signal.istft"] = (
    "shape, in the full run's random shapes only: JAX 0.10.2's overlap-add keeps (2 nseg - 1) "
    "hops, fewer than nstep (nseg - 1) + nperseg samples when a segment spans more hops than "
    "there are segments (one segment of Zxx (3, 1), two-sided: 2 samples for SciPy's 3); "
    "jaxlite returns SciPy's length (tests/test_signal_spectral.py checks it against SciPy)"
)
