"""Oracle specs of convolutions and windowed reductions (lax.conv*, lax.reduce_window*, the shape
helpers, jnp.convolve/correlate); merged into specs.SPECS at import."""

from __future__ import annotations

from .harness import Call, Spec
from .specs import nullary, one

CONV_DTYPES = ("int32", "float32", "float64")
NHWC = ("NHWC", "HWIO", "NHWC")
_x = "lax."

SPECS: dict[str, Spec] = {
    _x + "conv_general_dilated": Spec(
        [
            Call(lambda f, L, x, w: f(x, w, (1, 2), "SAME"), [((2, 3, 5, 4), (4, 3, 3, 2))]),
            Call(
                lambda f, L, x, w: f(
                    x, w, (2, 1), ((1, 0), (0, 2)), (1, 2), (2, 1), NHWC, feature_group_count=2
                ),
                [((2, 5, 4, 4), (2, 2, 2, 6))],
            ),
            Call(
                lambda f, L, x, w: f(x, w, (1,), "VALID", batch_group_count=2),
                [((4, 3, 6), (4, 3, 2))],
            ),
        ],
        dtypes=CONV_DTYPES,
        diff=True,
        tol=10.0,
    ),
    _x + "conv": one(
        lambda f, L, x, w: f(x, w, (1, 1), "VALID"),
        [((2, 3, 5, 4), (2, 3, 2, 2))],
        diff=True,
        dtypes=CONV_DTYPES,
        tol=10.0,
    ),
    _x + "conv_with_general_padding": one(
        lambda f, L, x, w: f(x, w, (2, 1), ((1, 1), (0, 1)), (1, 2), (2, 1)),
        [((2, 3, 5, 4), (2, 3, 2, 2))],
        diff=True,
        dtypes=CONV_DTYPES,
        tol=10.0,
    ),
    _x + "conv_transpose": one(
        lambda f, L, x, w: f(x, w, (2, 2), "SAME"),
        [((2, 4, 3, 3), (3, 2, 3, 2))],
        diff=True,
        dtypes=CONV_DTYPES,
        tol=10.0,
    ),
    _x + "conv_general_dilated_patches": one(
        lambda f, L, x: f(x, (2, 2), (1, 2), "SAME", dimension_numbers=NHWC),
        [((2, 4, 5, 3),)],
        diff=True,
        dtypes=("float32", "float64"),
    ),
    _x + "reduce_window": Spec(
        [
            Call(lambda f, L, x: f(x, 0, L.lax.add, (2, 2), (1, 2), "SAME"), [((4, 5),)]),
            Call(
                lambda f, L, x: f(x, -L.numpy.inf, L.lax.max, (1, 2), (1, 1), "VALID"),
                [((3, 4),)],
            ),
            Call(
                lambda f, L, x: f(x, L.numpy.inf, L.lax.min, (2, 1), (2, 1), ((1, 0), (0, 1))),
                [((5, 3),)],
            ),
        ],
        dtypes=("float32", "float64"),
        diff=True,
        tol=10.0,
    ),
    "numpy.convolve": Spec(
        [
            Call(lambda f, L, a, v, mode=mode: f(a, v, mode), [((6,), (3,)), ((2,), (4,))])
            for mode in ("full", "same", "valid")
        ],
        dtypes=("int32", "float32", "float64"),
        diff=True,
        tol=10.0,
    ),  # fmt: skip
    "numpy.correlate": Spec(
        [
            Call(lambda f, L, a, v, mode=mode: f(a, v, mode), [((6,), (3,)), ((2,), (4,))])
            for mode in ("full", "same", "valid")
        ],
        dtypes=("int32", "float32", "float64"),
        diff=True,
        tol=10.0,
    ),  # fmt: skip
    # Shape helpers: functions of statics.
    _x + "conv_dimension_numbers": nullary(
        lambda f, L: tuple(map(tuple, f((2, 5, 6, 3), (3, 3, 3, 4), NHWC)))
    ),
    _x + "conv_general_permutations": nullary(
        lambda f, L: tuple(map(tuple, f(("NCHW", "OIHW", "NHWC"))))
    ),
    _x + "padtype_to_pads": nullary(
        lambda f, L: [tuple(f((7, 6), (3, 2), (2, 3), m)) for m in ("SAME", "VALID", "SAME_LOWER")]
    ),
    _x + "conv_general_shape_tuple": nullary(
        lambda f, L: tuple(map(int, f((2, 7, 6, 3), (3, 2, 3, 4), (2, 1), "SAME", NHWC)))
    ),
    _x + "conv_shape_tuple": nullary(
        lambda f, L: tuple(map(int, f((2, 3, 7, 6), (4, 3, 3, 2), (2, 1), ((1, 1), (0, 2)))))
    ),
    _x + "conv_transpose_shape_tuple": nullary(
        lambda f, L: tuple(map(int, f((2, 7, 6, 3), (3, 2, 3, 4), (2, 1), "SAME", NHWC)))
    ),
    _x + "reduce_window_shape_tuple": nullary(
        lambda f, L: tuple(
            f((4, 7, 6), (2, 3, 2), (2, 2, 1), ((0, 0), (1, 1), (0, 2)), (1, 2, 1), (1, 1, 2))
        )
    ),
}

# jaxlite.scipy.signal: every mode, both orders of sizes (the larger input slides), 1-D to 3-D
_SIG_SHAPES = [((6,), (3,)), ((5, 4), (2, 3)), ((2, 3), (5, 4)), ((3, 4, 2), (2, 2, 2))]
_SIG_2D = [((5, 4), (2, 3)), ((2, 3), (5, 4)), ((3, 3), (3, 3))]
for _name, _shapes in (("convolve", _SIG_SHAPES), ("correlate", _SIG_SHAPES),
                       ("convolve2d", _SIG_2D), ("correlate2d", _SIG_2D)):  # fmt: skip
    SPECS["scipy.signal." + _name] = Spec(
        [
            Call(lambda f, L, a, b, mode=mode: f(a, b, mode), _shapes)
            for mode in ("full", "same", "valid")
        ],
        dtypes=("int32", "float32", "float64"),
        diff=True,
        tol=10.0,
    )
