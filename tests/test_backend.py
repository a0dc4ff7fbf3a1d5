"""The C the lowering writes: readable (one comment per equation, temporaries named after jaxpr
variables), safe (no user text closes a comment), 64-bit indexed, and free of copies for layout
primitives. Values are checked in tests/test_jit_primitives.py; this file checks the text.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import core, lax
from jaxlite.backend import lower

f32 = np.float32


def c_of(fn, *args) -> str:
    return jaxlite.jit(fn).lower(*args).as_c()


def loops(c: str) -> int:
    return len(re.findall(r"^\s*for \(", c, flags=re.MULTILINE))


def test_one_comment_per_equation_and_named_temporaries():
    c = c_of(lambda x: jnp.exp(x) * 2.0 + x, jnp.ones((4, 5), f32))
    assert "/* b:f32[4,5] = exp a */" in c
    assert "/* c:f32[4,5] = mul b 2.0:f32[] */" in c
    assert "/* d:f32[4,5] = add c a */" in c
    assert "int jl_kernel(void **jl_args) {" in c  # one signature for every kernel
    assert "const float *restrict in_a = (const float *)jl_args[0];" in c
    assert "float *restrict out_0 = (float *)jl_args[1];" in c
    assert "for (int64_t i0 = 0; i0 < 20; i0++)" in c  # dimensions coalesced, 64-bit index
    assert "jl_exp_f32(in_a[i0])" in c


def test_layout_primitives_do_not_copy():
    def f(x):
        y = lax.rev(lax.transpose(x, (1, 0)), (0,))[1:, ::2]
        return lax.broadcast_in_dim(y, (3, 4, 2), (1, 2)) + 1.0

    c = c_of(f, jnp.ones((4, 5), f32))
    assert "tmp_" not in c  # no intermediate buffer: the views are read in place
    assert loops(c) == 3
    x = np.arange(20.0, dtype=f32).reshape(4, 5)
    np.testing.assert_array_equal(jaxlite.jit(f)(x), f(x))


def test_reshape_of_a_transpose_copies_once():
    c = c_of(lambda x: lax.reshape(lax.transpose(x, (1, 0)), (20,)) * 2.0, jnp.ones((4, 5), f32))
    assert c.count("tmp_") >= 1


def test_user_text_cannot_close_a_comment():
    def f(x):
        return x + 1

    f.__name__ = 'evil */ int system(const char *); int jl_kernel() { system("echo hi"); /*'
    c = c_of(f, jnp.ones(2, f32))
    assert "*/ int system" not in c
    np.testing.assert_array_equal(jaxlite.jit(f)(jnp.ones(2, f32)), [2, 2])


def test_large_shapes_use_64_bit_index_arithmetic():
    # Lowered, not run: 2**31 + 8 elements would need 8 GiB.
    n = 2**31 + 8
    c = lower.lower_jaxpr(_jaxpr_for_shape((2, n))).source
    assert f"for (int64_t i1 = 0; i1 < {n}; i1++)" in c
    assert f"in_a[i0 * {n} + i1]" in c
    assert f"in_a[i0 * {n} - i1 + {n - 1}]" in c  # rev: offset n - 1, stride -1


def _jaxpr_for_shape(shape):
    from jaxlite.interpreters import staging

    aval = core.ShapedArray(shape, np.dtype(f32))
    closed = staging.trace_to_jaxpr(lambda x: [lax.reduce_sum(x, (0,)), lax.rev(x, (1,))],
                                    [aval])  # fmt: skip
    return closed.jaxpr


def test_missing_lowering_names_the_primitive():
    p = core.Primitive("mystery_op")
    p.def_abstract_eval(lambda x: x)
    eqn = core.JaxprEqn(p, [core.Var(core.ShapedArray((2,), np.dtype(f32)))], [], {})
    jaxpr = core.Jaxpr([], eqn.invars, [], [eqn])
    eqn.outvars = [core.Var(core.ShapedArray((2,), np.dtype(f32)))]
    jaxpr.outvars = list(eqn.outvars)
    with pytest.raises(NotImplementedError, match="'mystery_op' has no C lowering"):
        lower.lower_jaxpr(jaxpr)


@pytest.mark.parametrize(
    "value,dtype,text",
    [
        (0.1, np.float32, "0.1f"),
        (-0.0, np.float32, "(-0.0f)"),
        (np.inf, np.float64, "(double)INFINITY"),
        (np.nan, np.float32, "NAN"),
        (1e300, np.float64, "1e+300"),
        (-(2**31), np.int32, "INT32_MIN"),
        (-(2**63), np.int64, "INT64_MIN"),
        (2**32 - 1, np.uint32, "4294967295u"),
        (7, np.int64, "7LL"),
        (True, np.bool_, "true"),
    ],
)
def test_literals_are_exact_c_atoms(value, dtype, text):
    assert lower.c_literal(value, np.dtype(dtype)) == text


@pytest.mark.parametrize("shape,strides,new,want", [
    ((4, 5), (5, 1), (20,), (1,)),
    ((4, 5), (1, 4), (20,), None),  # a transposed view does not flatten
    ((4, 5), (5, 1), (2, 2, 5), (10, 5, 1)),
    ((3, 1, 4), (4, 99, 1), (12,), (1,)),  # size-1 dimensions have any stride
    ((3, 4), (0, 1), (3, 2, 2), (0, 2, 1)),  # a broadcast (stride 0) splits
    ((2, 3), (0, 0), (6,), (0,)),
])  # fmt: skip
def test_reshape_strides_is_numpys_nocopy_reshape(shape, strides, new, want):
    assert lower.reshape_strides(shape, strides, new) == want


def test_workspace_buffers_share_memory_only_when_their_lifetimes_do_not_overlap():
    # Lifetimes are recorded as the C is emitted: each line notes the buffers it touches.
    ctx = lower.KernelContext(lower.Names())
    buf = lambda name: ctx.alloc(name, np.dtype(f32), (16,))
    a = buf("a")
    ctx.line(f"{ctx.at(a, ['0'])} = 1;")  # 0
    b = buf("b")
    ctx.line(f"{ctx.at(b, ['0'])} = {ctx.at(a, ['0'])};")  # 1: a dies here
    with ctx.block("for (;;)"):  # 2
        c = buf("c")
        ctx.line(f"{ctx.at(c, ['0'])} = {ctx.at(b, ['0'])};")  # 3: b is read in the loop: live
        d = buf("d")  # until its end
        ctx.line(f"{ctx.at(d, ['0'])} = {ctx.at(c, ['0'])};")  # 4
    assert ctx.lines[1] == "  tmp_b[0] = tmp_a[0];" and len(ctx.lines) == 6  # 5: }
    offsets, total = lower.plan_workspace(ctx)
    a, b, c, d = offsets
    assert c == a  # a is dead before c is born
    assert len({b, c, d}) == 3  # b, c, d are all live inside the loop
    assert total == 3 * 64


def test_a_pointer_into_several_buffers_keeps_them_all_alive():
    ctx = lower.KernelContext(lower.Names())
    a, b = (ctx.alloc(name, np.dtype(f32), (16,)) for name in "ab")
    ctx.alias("p", (a.buf, b.buf))
    ctx.touch("p")
    ctx.line(f"float *p = {a.buf};")
    c = ctx.alloc("c", np.dtype(f32), (16,))
    ctx.line(f"{ctx.at(c, ['0'])} = 1;")
    ctx.touch("p")
    ctx.line(f"p[0] = {ctx.at(c, ['0'])};")  # a and b are both live until here
    offsets, total = lower.plan_workspace(ctx)
    assert len(set(offsets)) == 3 and total == 3 * 64


def test_mlp_step_workspace_is_reused():
    import jaxlite as jl

    def step(w1, w2, x):
        def loss(w1, w2):
            return jnp.sum(jnp.tanh(jnp.tanh(x @ w1) @ w2) ** 2)

        return jl.grad(loss, argnums=(0, 1))(w1, w2)

    args = (np.ones((64, 64), f32), np.ones((64, 64), f32), np.ones((32, 64), f32))
    c = c_of(step, *args)
    sizes = [int(m) for m in re.findall(r"jl_ws_take\((\d+)\)", c)]
    buffers = re.findall(r"float \*(tmp_\w+) = \(float \*\)\(ws \+ (\d+)\)", c)
    assert len({off for _, off in buffers}) < len(buffers)  # some buffers share memory
    assert sizes[0] < 4 * sum(64 * 64 for _ in buffers)
    got = jaxlite.jit(step)(*args)
    want = step(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4)


GOLDEN = """\
/* jaxlite.jit kernel for `layer`: (a:f32[2,3], b:f32[3]) -> (g) */
#include "jaxlite.h"
#include "jl_math.h"

int jl_kernel(void **jl_args) {
  const float *restrict in_a = (const float *)jl_args[0];
  const float *restrict in_b = (const float *)jl_args[1];
  float *restrict out_0 = (float *)jl_args[2];
  char *ws = jl_ws_take(64);
  if (!ws) return 1;
  float *tmp_f = (float *)(ws + 0);
  /* c:f32[2,3] = exp a */
  /* d:f32[2,3] = broadcast_in_dim[broadcast_dimensions=(1,) shape=(2, 3)] b */
  /* e:f32[2,3] = mul c d */
  /* f:f32[2] = reduce_sum[axes=(1,)] e */
  for (int64_t i0 = 0; i0 < 2; i0++) {
    double acc1 = 0.0;
    #pragma omp simd reduction(+:acc1)
    for (int64_t r0 = 0; r0 < 3; r0++) {
      const float v_c = jl_exp_f32(in_a[i0 * 3 + r0]);
      const float v_e = v_c * in_b[r0];
      acc1 = acc1 + v_e;
    }
    tmp_f[i0] = acc1;
  }
  /* g:f32[2] = max f 0.0:f32[] */
  /* outputs */
  #pragma omp simd
  for (int64_t i0 = 0; i0 < 2; i0++) {
    const float v_g = jl_max_f32(tmp_f[i0], 0.0f);
    out_0[i0] = v_g;
  }
  jl_ws_give(ws, 64);
  return 0;
}
"""


def test_golden_snapshot_of_the_generated_c():
    # What users read with jit(f).lower(...).as_c(): update deliberately when the lowering changes.
    def layer(x, b):
        return jnp.maximum(jnp.sum(jnp.exp(x) * b, axis=1), 0.0)

    assert c_of(layer, np.ones((2, 3), f32), np.ones(3, f32)) == GOLDEN
