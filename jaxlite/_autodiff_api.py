"""Automatic differentiation: `jvp`, `linearize`, `vjp`, `grad`, `value_and_grad`, `jacfwd`,
`jacrev`, `hessian`, `stop_gradient`, `linear_transpose` (re-exported by `jaxlite.api` and
`jaxlite`). Reverse mode is linearize + transpose, as in JAX. `custom_jvp`/`custom_vjp` and
`checkpoint` live in their own modules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as _np

from jaxlite import api_util, core, tree_util
from jaxlite import dtypes as _dtypes
from jaxlite import primitives as lax_primitives
from jaxlite._tracing_api import ShapeDtypeStruct
from jaxlite._vmap_api import vmap
from jaxlite.array import Array as _Array
from jaxlite.array import _wrap
from jaxlite.interpreters import jvp as ad
from jaxlite.interpreters import partial_eval as pe
from jaxlite.interpreters import staging
from jaxlite.interpreters import tape
from jaxlite.interpreters import transpose as tp
from jaxlite.util import safe_zip

_fun_name = api_util.fun_name


def _as_input(x):
    """A leaf of a differentiated argument as a jaxlite value (Python scalars become weak)."""
    t = type(x)
    if t is _Array or isinstance(x, core.Tracer) or t is _np.ndarray:
        return x
    aval = core.get_aval(x)  # raises a TypeError naming the bad type
    return _wrap(_np.asarray(x, aval.dtype), aval.weak_type)


def _split_aux(out, has_aux: bool, name: str):
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(
            f"has_aux=True requires `{name}` to return a pair (output, aux), but it "
            f"returned {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        )
    return out[0], out[1]


def _strip_tangents(tree, trace):
    """Aux outputs are not differentiated: their JVP tracers become their primals."""

    def strip(x):
        t = type(x)
        return x.primal if (t is ad.JVPTracer or t is tape.TapeTracer) and x._trace is trace else x

    return tree_util.tree_map(strip, tree)


def _flatten_fun_aux(fun, in_tree, has_aux: bool, name: str):
    """`api_util.flatten_fun_nokwargs` for a `fun` that may return `(output, aux)`:
    `(flat_fun, out_tree, aux)`, where `aux["aux"]` holds the undifferentiated aux output once
    `flat_fun` ran (with `has_aux`)."""
    aux: dict = {}

    def fun_no_aux(*args):
        out, aux_out = _split_aux(fun(*args), has_aux, name)
        if has_aux:
            aux["aux"] = _strip_tangents(aux_out, core.current_trace())
        return out

    flat_fun, out_tree = api_util.flatten_fun_nokwargs(fun_no_aux, in_tree)
    return flat_fun, out_tree, aux


def _zeros_for(t):
    """An output tangent: symbolic zeros become arrays (`float0` ones for integer outputs)."""
    return ad.instantiate_zeros(t) if type(t) is ad.Zero else t


def _check_tangent(p, t, where: Callable[[], str]):
    """The tangent `t` of primal `p` (a `Zero` for `float0` tangents), or a TypeError naming
    the leaf `where()`."""
    p_aval = core.get_aval(p)
    expected = ad.tangent_dtype(p_aval.dtype)
    t_dtype = getattr(t, "dtype", None)
    if t_dtype == _dtypes.float0:
        t_shape = _np.shape(t)
        t_aval = None
    else:
        t_aval = core.get_aval(t)
        t_dtype, t_shape = t_aval.dtype, t_aval.shape
    if tuple(t_shape) != p_aval.shape:
        raise ValueError(
            f"{where()}: primal and tangent shapes differ: the primal has shape "
            f"{p_aval.str_short()} and its tangent has shape {tuple(t_shape)}. A tangent must "
            "have the shape of its primal."
        )
    weak_float = t_aval is not None and t_aval.weak_type and _dtypes.is_float(expected)
    if t_dtype != expected and not weak_float:
        raise TypeError(
            f"{where()}: primal and tangent dtypes do not match; dtypes must be equal, or in case "
            f"of int/bool primal dtype the tangent dtype must be float0. Got primal dtype "
            f"{p_aval.dtype.name} and so expected tangent dtype {_dtypes.short_name(expected)}, "
            f"but got tangent dtype {_dtypes.short_name(t_dtype)} instead."
        )
    if expected == _dtypes.float0:
        return ad.Zero(ad.tangent_aval(p_aval))
    if t_dtype != expected:  # a weakly typed scalar tangent takes its primal's dtype
        return _wrap(_np.asarray(core.to_numpy(t), expected), p_aval.weak_type)
    return _as_input(t)


def _leaf_names(tree, prefix: str) -> list[str]:
    pairs, _ = tree_util.tree_flatten_with_path(tree)
    return [prefix + tree_util.keystr(path) for path, _ in pairs]


def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
    """Forward-mode derivative: evaluates `fun` and its directional derivative together.

    Args:
      fun: a function of `len(primals)` positional arguments (pytrees of arrays).
      primals: a tuple or list of the arguments.
      tangents: a tuple or list with the structure, shapes and dtypes of `primals` (`float0`
        for integer and bool primals).
      has_aux: whether `fun` returns a pair `(output, aux)`; `aux` is returned undifferentiated.

    Returns:
      `(primals_out, tangents_out)`, or `(primals_out, tangents_out, aux)` with `has_aux`.

    Example:
      >>> jaxlite.jvp(jnp.sin, (0.0,), (2.0,))
      (Array(0., dtype=float64, weak_type=True), Array(2., dtype=float64, weak_type=True))
    """
    api_util.check_callable(fun, "jaxlite.jvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "primal and tangent arguments to jaxlite.jvp must be tuples or lists; found "
            f"{type(primals).__name__} and {type(tangents).__name__}."
        )
    p_leaves, p_tree = tree_util.tree_flatten(tuple(primals))
    t_leaves, t_tree = tree_util.tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise TypeError(
            "primal and tangent arguments to jaxlite.jvp must have the same tree structure; "
            f"primals have tree structure {p_tree} whereas tangents have tree structure {t_tree}."
        )
    p_leaves = [_as_input(p) for p in p_leaves]
    t_leaves = [
        _check_tangent(p, t, lambda i=i: _leaf_names(tuple(primals), "jvp: primals")[i])
        for i, (p, t) in enumerate(safe_zip(p_leaves, t_leaves))
    ]
    name = _fun_name(fun)
    flat, out_tree, aux = _flatten_fun_aux(fun, p_tree, has_aux, name)
    out, t_out = ad.jvp_flat(flat, p_leaves, t_leaves, f"jvp of `{name}`")
    out = tree_util.tree_unflatten(out_tree(), out)
    t_out = tree_util.tree_unflatten(out_tree(), [_zeros_for(t) for t in t_out])
    return (out, t_out, aux["aux"]) if has_aux else (out, t_out)


def linearize(fun: Callable, *primals, has_aux: bool = False):
    """Evaluates `fun` and returns its linearization at `primals` (JVP + partial evaluation).

    Args:
      fun: a function of `len(primals)` positional arguments.
      *primals: the point to linearize at (pytrees of arrays).
      has_aux: whether `fun` returns `(output, aux)`.

    Returns:
      `(primals_out, f_jvp)` (or `(primals_out, f_jvp, aux)`), where `f_jvp(*tangents)`
      evaluates the Jacobian-vector product with the saved residuals, without re-running `fun`.

    Example:
      >>> y, f_jvp = jaxlite.linearize(jnp.sin, 0.0)
      >>> f_jvp(2.0)
      Array(2., dtype=float64, weak_type=True)
    """
    api_util.check_callable(fun, "jaxlite.linearize")
    p_leaves, p_tree = tree_util.tree_flatten(primals)
    p_leaves = [_as_input(p) for p in p_leaves]
    name = _fun_name(fun)
    flat, out_tree_of, aux = _flatten_fun_aux(fun, p_tree, has_aux, name)
    out, linear, in_mask, out_mask = pe.linearize_flat(flat, p_leaves, f"linearize of `{name}`")
    out_tree = out_tree_of()
    out_avals = [ad.tangent_aval(core.get_aval(o)) for o in out]

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_util.tree_flatten(tangents)
        if t_tree != p_tree:
            raise TypeError(
                "linearize: the tangents passed to f_jvp must have the structure of the primals: "
                f"expected {p_tree}, got {t_tree}"
            )
        ts = [
            _check_tangent(p, t, lambda i=i: _leaf_names(primals, "linearize: tangents")[i])
            for i, (p, t) in enumerate(safe_zip(p_leaves, t_leaves))
        ]
        ins = [_zeros_for(t) for t, m in safe_zip(ts, in_mask) if m]
        res = iter(core.eval_jaxpr(linear.jaxpr, linear.consts, *ins))
        t_out = [
            next(res) if m else ad.zeros_like_aval(a) for a, m in safe_zip(out_avals, out_mask)
        ]
        return tree_util.tree_unflatten(out_tree, t_out)

    out = tree_util.tree_unflatten(out_tree, out)
    return (out, f_jvp, aux["aux"]) if has_aux else (out, f_jvp)


def _vjp_flat(flat_fun: Callable, p_leaves: list, tag: str):
    """`(primals_out, pullback)` with `pullback(cts) -> cts_in`, on flat lists."""
    out, linear, in_mask, out_mask = pe.linearize_flat(flat_fun, p_leaves, tag)

    def pullback(cts: list) -> list:
        lin_cts = [ct for ct, m in safe_zip(cts, out_mask) if m]
        undefined = [tp.UndefinedPrimal(v.aval) for v in linear.jaxpr.invars]
        cts_in = iter(tp.backward_pass(linear.jaxpr, linear.consts, undefined, lin_cts))
        return [
            _zeros_for(next(cts_in)) if m else _np.zeros(_np.shape(p), _dtypes.float0)
            for p, m in safe_zip(p_leaves, in_mask)
        ]

    return out, pullback


def _check_cotangent(o, ct, where: str):
    o_aval = core.get_aval(o)
    expected = ad.tangent_dtype(o_aval.dtype)
    if expected == _dtypes.float0:
        return ad.Zero(ad.tangent_aval(o_aval))
    ct_aval = core.get_aval(ct)
    if ct_aval.shape != o_aval.shape:
        raise ValueError(
            f"{where}: shape of cotangent input to the vjp pullback function {ct_aval.shape} "
            f"must be the same as the shape of the corresponding primal output {o_aval.shape}."
        )
    if ct_aval.dtype != expected:
        if not ct_aval.weak_type:
            raise TypeError(
                f"{where}: type of cotangent input to the vjp pullback function "
                f"({ct_aval.dtype.name}) is not the expected tangent type ({expected.name}) of "
                f"the corresponding primal output with dtype {o_aval.dtype.name}."
            )
        return _wrap(_np.asarray(core.to_numpy(ct), expected), o_aval.weak_type)
    return _as_input(ct)


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """Reverse-mode derivative: evaluates `fun` and returns its vector-Jacobian product.

    The pullback transposes the linearization of `fun` (JAX's design), so it costs about as
    much as one evaluation of `fun`.

    Args:
      fun: a function of `len(primals)` positional arguments.
      *primals: the point (pytrees of arrays).
      has_aux: whether `fun` returns `(output, aux)`.

    Returns:
      `(primals_out, vjp_fun)` (or with `aux`), where `vjp_fun(ct)` takes a cotangent with the
      structure of `primals_out` and returns a tuple with one cotangent per primal.

    Example:
      >>> y, f_vjp = jaxlite.vjp(jnp.sin, 0.0)
      >>> f_vjp(1.0)
      (Array(1., dtype=float64, weak_type=True),)
    """
    api_util.check_callable(fun, "jaxlite.vjp")
    p_leaves, p_tree = tree_util.tree_flatten(primals)
    p_leaves = [_as_input(p) for p in p_leaves]
    name = _fun_name(fun)
    flat, out_tree_of, aux = _flatten_fun_aux(fun, p_tree, has_aux, name)
    out_leaves, pullback = _vjp_flat(flat, p_leaves, f"vjp of `{name}`")
    out_tree = out_tree_of()

    def vjp_fun(ct):
        ct_leaves, ct_tree = tree_util.tree_flatten(ct)
        if ct_tree != out_tree:
            raise TypeError(
                f"Tree structure of cotangent input {ct_tree}, does not match structure of "
                f"primal output {out_tree}."
            )
        cts = [_check_cotangent(o, c, "vjp") for o, c in safe_zip(out_leaves, ct_leaves)]
        return tree_util.tree_unflatten(p_tree, pullback(cts))

    out = tree_util.tree_unflatten(out_tree, out_leaves)
    return (out, vjp_fun, aux["aux"]) if has_aux else (out, vjp_fun)


def _normalize_argnums(argnums) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return nums


def _dyn_args(nums: tuple[int, ...], argnums, args, what: str):
    n = len(args)
    if all(0 <= i < n for i in nums):  # the common case, already canonical
        return nums, [args[i] for i in nums]
    if any(not -n <= i < n for i in nums):
        need = max(i + 1 if i >= 0 else -i for i in nums)
        raise TypeError(
            f"{what}: differentiating with respect to argnums={argnums} requires at least "
            f"{need} positional arguments to be passed by the caller, but got only {n} "
            "positional arguments."
        )
    nums = tuple(i % n for i in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{what}: argnums {argnums} contains repeated entries")
    return nums, [args[i] for i in nums]


def _check_input_dtypes(
    dyn: tuple, what: str, allow_int: bool = False, holomorphic: bool = False,
    complex_ok: bool = True,
) -> None:  # fmt: skip
    leaves = tree_util.tree_leaves(dyn)
    for x, n in safe_zip(leaves, _leaf_names(dyn, "argument") if leaves else []):
        _check_input_dtype_grad(allow_int, what, n, x, holomorphic, complex_ok)


def _check_input_dtype_grad(
    allow_int: bool, what: str, where: str, x, holomorphic: bool = False, complex_ok: bool = True
) -> None:
    dt = core.get_aval(x).dtype
    if holomorphic:  # as JAX: holomorphic differentiation is of complex inputs only
        if dt.kind != "c":
            raise TypeError(
                f"{what} with holomorphic=True requires inputs with complex dtype, but {where} "
                f"has dtype {dt.name}. Convert it (x.astype(jnp.complex64)), or drop holomorphic."
            )
        return
    if dt.kind == "c" and not complex_ok:
        raise TypeError(
            f"{what} requires real-valued inputs (input dtype that is a sub-dtype of "
            f"np.floating), but {where} has dtype {dt.name}. For holomorphic "
            "differentiation, pass holomorphic=True."
        )
    if not _dtypes.is_inexact(dt) and not allow_int:
        raise TypeError(
            f"{what} requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
            f"np.inexact), but {where} has dtype {dt.name}. Pass float inputs (for example "
            "x.astype(jnp.float32)), or set allow_int=True to get float0 zero gradients for "
            "integer and bool inputs."
        )


def _check_output_dtype(out, what: str, holomorphic: bool) -> None:
    """JAX's output checks of grad/jacrev (and jacfwd with holomorphic=True)."""
    for leaf in tree_util.tree_leaves(out):
        dt = core.get_aval(leaf).dtype
        if holomorphic and dt.kind != "c":
            raise TypeError(
                f"{what} with holomorphic=True requires outputs with complex dtype, but got "
                f"{dt.name}."
            )
        if not holomorphic and dt.kind == "c":
            raise TypeError(
                f"{what} requires real-valued outputs (output dtype that is a sub-dtype of "
                f"np.floating), but got {dt.name}. For holomorphic differentiation, pass "
                "holomorphic=True. For differentiation of non-holomorphic functions involving "
                "complex outputs, use jaxlite.vjp directly."
            )


_LEAF_TYPES = {_Array, _np.ndarray, float, int}
_ONE_LEAF = tree_util.tree_structure([0])  # the structure of `[x]`: one argument, a leaf
_ONES: dict = {}


def _one_like(x):
    """The cotangent seed 1 of a scalar output (cached: Arrays are immutable)."""
    aval = core.get_aval(x)
    key = (aval.dtype, aval.weak_type)
    one = _ONES.get(key)
    if one is None:
        one = _ONES[key] = _wrap(_np.ones((), aval.dtype), aval.weak_type)
    return one


def _check_scalar_output(out, what: str) -> None:
    if not isinstance(out, (_Array, core.Tracer, _np.ndarray, float, int, _np.generic)):
        raise TypeError(f"Gradient only defined for scalar-output functions. Output was {out!r}.")
    aval = core.get_aval(out)
    if aval.shape != ():
        raise TypeError(
            f"Gradient only defined for scalar-output functions. Output had shape: {aval.shape}."
        )
    if aval.dtype.kind == "c":
        _check_output_dtype(out, what, False)
    if not _dtypes.is_float(aval.dtype):
        raise TypeError(
            f"{what} requires real-valued outputs (output dtype that is a sub-dtype of "
            f"np.floating), but got {aval.dtype.name}. Return a floating-point scalar, or use "
            "jaxlite.vjp directly."
        )


def value_and_grad(
    fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
    allow_int: bool = False, reduce_axes=(),
) -> Callable:  # fmt: skip
    """Returns a function computing both `fun` and its gradient (see `grad`).

    Returns:
      A function returning `(value, grad)`, or `((value, aux), grad)` with `has_aux`.

    Example:
      >>> jaxlite.value_and_grad(lambda x: x * x)(3.0)
      (Array(9., dtype=float64, weak_type=True), Array(6., dtype=float64, weak_type=True))
    """
    return _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "value_and_grad")


def _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, api_name: str) -> Callable:
    api_util.check_callable(fun, f"jaxlite.{api_name}")
    _normalize_argnums(argnums)
    name = _fun_name(fun)
    what = "grad"
    tag = f"grad of `{name}`"

    nums = _normalize_argnums(argnums)
    single = isinstance(argnums, int)

    @functools.wraps(fun)
    def value_and_grad_f(*args, **kwargs):
        nums_, dyn = _dyn_args(nums, argnums, args, what)
        if single and type(dyn[0]) in _LEAF_TYPES:  # fast path: one array argument
            leaves, in_tree = [_as_input(dyn[0])], _ONE_LEAF
        else:
            leaves, in_tree = tree_util.tree_flatten(dyn)
            leaves = [_as_input(x) for x in leaves]
        if holomorphic or not allow_int and not all(_dtypes.is_inexact(x.dtype) for x in leaves):
            _check_input_dtypes(tuple(dyn), what, allow_int, holomorphic)
        f_partial = api_util.argnums_partial(fun, nums_, args, kwargs)
        flat, out_tree_of, aux = _flatten_fun_aux(f_partial, in_tree, has_aux, name)
        if not holomorphic and core.plain_eager() and all(x.dtype.kind != "c" for x in leaves):
            out, pullback = tape.vjp_flat(flat, leaves, tag)  # eager: no staging (issue 20.7)
        else:
            out, pullback = _vjp_flat(flat, leaves, tag)
        out_tree = out_tree_of()
        if out_tree.num_leaves != 1 or not tree_util.treedef_is_leaf(out_tree):
            _check_scalar_output(tree_util.tree_unflatten(out_tree, out), what)
        ans = out[0]
        if holomorphic:
            _check_output_dtype(ans, what, True)
            if core.get_aval(ans).shape != ():
                _check_scalar_output(ans, what)
        else:
            _check_scalar_output(ans, what)
        g = pullback([_one_like(ans)])
        g = tree_util.tree_unflatten(in_tree, g)
        g = g[0] if single else tuple(g)
        if has_aux:
            return (ans, aux["aux"]), g
        return ans, g

    return value_and_grad_f


core.name_api("jaxlite.", {"value_and_grad": _value_and_grad})  # error messages


def grad(
    fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
    allow_int: bool = False, reduce_axes=(),
) -> Callable:  # fmt: skip
    """Returns a function that computes the gradient of the scalar-valued `fun` (reverse mode).

    Args:
      fun: a function whose output (the first element of its output, with `has_aux`) is a
        floating-point scalar.
      argnums: an int or a tuple of ints: the positional arguments to differentiate (pytrees).
      has_aux: whether `fun` returns `(output, aux)`; `aux` is returned beside the gradient.
      holomorphic: `fun` is holomorphic (complex inputs and complex output); the gradient is
        then the complex derivative, as JAX's.
      allow_int: allow integer and bool inputs (their gradients are `float0` zeros).
      reduce_axes: accepted for compatibility; unused.

    Returns:
      A function with `fun`'s signature returning the gradient, with the structure of the
      argument (a tuple of them if `argnums` is a tuple); `(grad, aux)` with `has_aux`.

    Example:
      >>> jaxlite.grad(lambda x: jnp.sin(x) * x)(1.0)
      Array(1.38177329, dtype=float64, weak_type=True)
    """
    value_and_grad_f = _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "grad")

    @functools.wraps(fun)
    def grad_f(*args, **kwargs):
        out, g = value_and_grad_f(*args, **kwargs)
        return (g, out[1]) if has_aux else g

    return grad_f


# --- Jacobians (vmap of jvp / vjp, as JAX) ---------------------------------------------------


def _std_basis(tree):
    """The standard basis of the flattened `tree`: one leaf of shape (N,) + leaf.shape each."""
    leaves, treedef = tree_util.tree_flatten(tree)
    avals = [core.get_aval(x) for x in leaves]
    sizes = [a.size for a in avals]
    n = sum(sizes)
    dt, _ = _dtypes.result_type(*[(a.dtype, a.weak_type) for a in avals]) if avals else (None, 0)
    eye = _np.eye(n, dtype=dt)
    parts, start = [], 0
    for a, s in safe_zip(avals, sizes):
        part = eye[:, start : start + s].reshape((n,) + a.shape).astype(a.dtype)
        parts.append(_wrap(part))
        start += s
    return tree_util.tree_unflatten(treedef, parts)


def _unravel_into(tree, axis: int, arr):
    """Splits `arr`'s `axis` (of size `tree`'s total size) into the leaves' shapes."""
    lax = lax_primitives
    leaves, treedef = tree_util.tree_flatten(tree)
    shape = tuple(arr.shape)
    axis = axis % len(shape)
    parts, start = [], 0
    for leaf in leaves:
        a = core.get_aval(leaf)
        starts = [0] * len(shape)
        limits = list(shape)
        starts[axis], limits[axis] = start, start + a.size
        piece = lax.slice(arr, starts, limits)
        parts.append(lax.reshape(piece, shape[:axis] + a.shape + shape[axis + 1 :]))
        start += a.size
    return tree_util.tree_unflatten(treedef, parts)


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False) -> Callable:
    """The Jacobian of `fun` by forward mode (`vmap` of `jvp` over the standard basis).

    Returns:
      A function returning, for each output leaf, a pytree like the differentiated argument(s)
      whose leaves have shape `out.shape + in.shape` (`(jac, aux)` with `has_aux`).

    Example:
      >>> jaxlite.jacfwd(lambda x: x * x)(jnp.array([1.0, 2.0]))
      Array([[2., 0.],
             [0., 4.]], dtype=float32)
    """
    api_util.check_callable(fun, "jaxlite.jacfwd")

    @functools.wraps(fun)
    def jacfun(*args, **kwargs):
        nums, dyn = _dyn_args(_normalize_argnums(argnums), argnums, args, "jacfwd")
        _check_input_dtypes(tuple(dyn), "jacfwd", holomorphic=holomorphic, complex_ok=False)
        f_partial = api_util.argnums_partial(fun, nums, args, kwargs)
        dyn = tuple(dyn)

        def pushfwd(tangents):
            return jvp(f_partial, dyn, tangents, has_aux=has_aux)

        if has_aux:
            y, jac, aux = vmap(pushfwd, out_axes=(None, -1, None))(_std_basis(dyn))
        else:
            y, jac = vmap(pushfwd, out_axes=(None, -1))(_std_basis(dyn))
        if holomorphic:
            _check_output_dtype(y, "jacfwd", True)
        example = dyn[0] if isinstance(argnums, int) else dyn
        jac_tree = tree_util.tree_map(lambda y_leaf, j: _unravel_into(example, -1, j), y, jac)
        return (jac_tree, aux) if has_aux else jac_tree

    return jacfun


def jacrev(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           allow_int: bool = False) -> Callable:  # fmt: skip
    """The Jacobian of `fun` by reverse mode (`vmap` of the `vjp` pullback over the basis).

    Returns:
      As `jacfwd`: leaves of shape `out.shape + in.shape`.

    Example:
      >>> jaxlite.jacrev(lambda x: x * x)(jnp.array([1.0, 2.0]))
      Array([[2., 0.],
             [0., 4.]], dtype=float32)
    """
    api_util.check_callable(fun, "jaxlite.jacrev")

    @functools.wraps(fun)
    def jacfun(*args, **kwargs):
        nums, dyn = _dyn_args(_normalize_argnums(argnums), argnums, args, "jacrev")
        _check_input_dtypes(tuple(dyn), "jacrev", allow_int, holomorphic)
        f_partial = api_util.argnums_partial(fun, nums, args, kwargs)
        if has_aux:
            y, pullback, aux = vjp(f_partial, *dyn, has_aux=True)
        else:
            y, pullback = vjp(f_partial, *dyn)
        _check_output_dtype(y, "jacrev", holomorphic)
        jac = vmap(pullback)(_std_basis(y))
        jac = jac[0] if isinstance(argnums, int) else jac
        example = dyn[0] if isinstance(argnums, int) else tuple(dyn)
        jac_tree = tree_util.tree_map(lambda x_leaf, j: _unravel_into(y, 0, j), example, jac)
        jac_tree = tree_util.tree_transpose(
            tree_util.tree_structure(example), tree_util.tree_structure(y), jac_tree
        )
        return (jac_tree, aux) if has_aux else jac_tree

    return jacfun


def hessian(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False) -> Callable:
    """The Hessian of a scalar `fun`: `jacfwd(jacrev(fun))` (forward-over-reverse, as JAX).

    Example:
      >>> jaxlite.hessian(lambda x: jnp.sum(x ** 3))(jnp.array([1.0, 2.0]))
      Array([[ 6.,  0.],
             [ 0., 12.]], dtype=float32)
    """
    api_util.check_callable(fun, "jaxlite.hessian")
    inner = jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic)
    return jacfwd(inner, argnums, has_aux=has_aux, holomorphic=holomorphic)


def stop_gradient(x):
    """The identity, with a zero derivative (`lax.stop_gradient`).

    Args:
      x: a pytree of arrays; integer and bool leaves are returned as they are (as in JAX).

    Example:
      >>> jaxlite.grad(lambda x: x * lax.stop_gradient(x))(3.0)
      Array(3., dtype=float64, weak_type=True)
    """

    def stop(leaf):
        if _dtypes.is_inexact(core.get_aval(leaf).dtype):
            return lax_primitives.stop_gradient(leaf)
        return leaf

    return tree_util.tree_map(stop, x)


def linear_transpose(fun: Callable, *primals, reduce_axes=()) -> Callable:
    """The transpose of the linear function `fun`, traced at example `primals` (arrays or
    `ShapeDtypeStruct`s; only their shapes and dtypes matter).

    Returns:
      `f_transpose(ct)` taking a cotangent with the structure of `fun`'s output and returning a
      tuple of cotangents, one per primal. It is a pytree (`tree_util.Partial`).

    Example:
      >>> f_t = jaxlite.linear_transpose(lambda x: 2.0 * x, 1.0)
      >>> f_t(1.0)
      (Array(2., dtype=float64, weak_type=True),)
    """
    api_util.check_callable(fun, "jaxlite.linear_transpose")
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    in_avals = [
        core.ShapedArray(x.shape, _dtypes.canonicalize(x.dtype), getattr(x, "weak_type", False))
        if isinstance(x, ShapeDtypeStruct)
        else core.get_aval(x)
        for x in p_leaves
    ]
    flat_fun, out_tree_of = api_util.flatten_fun_nokwargs(fun, in_tree)
    closed = staging.trace_to_jaxpr(flat_fun, in_avals, f"linear_transpose of `{_fun_name(fun)}`")
    out_tree = out_tree_of()
    out_avals = closed.out_avals
    in_float = [_dtypes.is_inexact(a.dtype) for a in in_avals]
    out_float = [_dtypes.is_inexact(a.dtype) for a in out_avals]
    if not (all(in_float) and all(out_float)):
        ins = ", ".join(a.dtype.name for a in in_avals)
        outs = ", ".join(a.dtype.name for a in out_avals)
        raise TypeError(
            "linear_transpose only supports [float or complex] -> [float or complex] functions, "
            "but got "
            f"[{ins}] -> [{outs}]."
        )

    def transposed_fun(consts, out_cotangent):
        ct_leaves, ct_tree = tree_util.tree_flatten(out_cotangent)
        if ct_tree != out_tree:
            raise TypeError(
                f"linear_transpose: cotangent tree does not match the function's output, "
                f"expected {out_tree} but got {ct_tree}"
            )
        cts_out = []
        for a, c in safe_zip(out_avals, ct_leaves):
            ca = core.get_aval(c)
            if ca.shape != a.shape or (ca.dtype != a.dtype and not ca.weak_type):
                raise TypeError(
                    "linear_transpose: cotangent type does not match the function's output, "
                    f"expected {a.str_short()} but got {ca.str_short()}"
                )
            if ca.dtype != a.dtype:
                c = _wrap(_np.asarray(core.to_numpy(c), a.dtype), a.weak_type)
            cts_out.append(_as_input(c))
        undefined = [tp.UndefinedPrimal(a) for a in in_avals]
        cts = tp.backward_pass(closed.jaxpr, consts, undefined, cts_out)
        return tree_util.tree_unflatten(in_tree, [tp.instantiate(c) for c in cts])

    return tree_util.Partial(transposed_fun, closed.consts)
