"""Oracle specs of the named-axis collectives (issue 19): each is called inside
`vmap(..., axis_name="i")` over the leading axis of its input, in both libraries; the oracle's
routes then wrap that (jit of it, an outer unnamed vmap, jvp, grad)."""

from __future__ import annotations

from .harness import DTYPES, FLOATS, Call, Spec

NUM = tuple(d for d in DTYPES if d != "bool")


def named(fn, shapes, diff=True, dtypes=NUM):
    """`fn(f, L, v)` per example, mapped over axis 0 of the input with the name "i"."""
    call = lambda f, L, x: L.vmap(lambda v: fn(f, L, v), axis_name="i")(x)  # noqa: E731
    return Spec([Call(call, shapes)], dtypes=FLOATS if diff else dtypes, diff=diff)


def _calls(*pairs):
    """Several `named` calls of one function: (fn, shapes) pairs."""
    return [Call(lambda f, L, x, fn=fn: L.vmap(lambda v: fn(f, L, v), axis_name="i")(x), shapes)
            for fn, shapes in pairs]  # fmt: skip


S34, S33, S36 = [((3, 4),)], [((3, 3, 2),)], [((3, 6, 2),)]
SPECS = {
    # NB: the second call: a positional axis of the operand with the name (JAX's psum accepts
    # integer axes)
    "lax.psum": Spec(
        _calls(
            (lambda f, L, v: f(v, "i"), [((3, 4),), ((4,),)]),
            (lambda f, L, v: f(v, ("i", 0)), [((3, 4, 2),)]),
        ),
        dtypes=FLOATS,
        diff=True,
    ),  # fmt: skip
    "lax.pmean": named(lambda f, L, v: f(v * v, "i"), S34),
    "lax.pmax": named(lambda f, L, v: f(v, "i"), S34, diff=False),
    "lax.pmin": named(lambda f, L, v: f(v, "i"), S34, diff=False),
    "lax.all_gather": named(lambda f, L, v: f(v, "i", axis=1), S33),
    "lax.psum_scatter": named(lambda f, L, v: f(v, "i", scatter_dimension=0, tiled=True), S36),
    "lax.all_to_all": named(lambda f, L, v: f(v, "i", 0, 1), S33),
    "lax.ppermute": named(lambda f, L, v: f(v, "i", [(0, 1), (1, 2), (2, 0)]), S34),
    "lax.pshuffle": named(lambda f, L, v: f(v, "i", [1, 2, 0]), S34),
    "lax.axis_index": named(lambda f, L, v: v * f("i"), S34, diff=False, dtypes=FLOATS),
    "lax.axis_size": named(lambda f, L, v: v * f("i"), S34, diff=False),
}
