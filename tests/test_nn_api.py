"""jaxlite.nn's JAX 0.10 additions: the newer activations against NumPy, their gradients,
dot_product_attention against a NumPy reference and JAX, the initializers' structure and JAX's
values, and JAX's own example_libraries (stax, optimizers) run on jaxlite."""

import pathlib
import types

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
import jaxlite.random as jr
from jaxlite import nn
from jaxlite.nn import initializers as init
from jaxlite.test_util import check_grads

f32, f64 = np.float32, np.float64
_A, _S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# name -> (function, NumPy reference)
ACTIVATIONS = {
    "celu": (lambda x: nn.celu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x / 0.7))),
    "selu": (nn.selu, lambda x: _S * np.where(x > 0, x, _A * np.expm1(x))),
    "mish": (nn.mish, lambda x: x * np.tanh(np.logaddexp(x, 0))),
    "squareplus": (nn.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2),
    "soft_sign": (nn.soft_sign, lambda x: x / (np.abs(x) + 1)),
    "hard_tanh": (nn.hard_tanh, lambda x: np.clip(x, -1, 1)),
    "hard_sigmoid": (nn.hard_sigmoid, lambda x: np.clip(x + 3, 0, 6) / 6),
    "hard_silu": (nn.hard_silu, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "sparse_plus": (
        nn.sparse_plus,
        lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    ),
    "sparse_sigmoid": (nn.sparse_sigmoid, lambda x: np.clip(x + 1, 0, 2) / 2),
    "log1mexp": (lambda x: nn.log1mexp(np.abs(x) + 1e-3), lambda x: np.log(-np.expm1(-(np.abs(x) + 1e-3)))),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [f32, f64])
def test_activation_matches_numpy(name, dtype):
    fn, ref = ACTIVATIONS[name]
    x = (np.random.default_rng(0).normal(size=(3, 5)) * 3).astype(dtype)
    out = np.asarray(fn(x))
    assert out.dtype == dtype and out.shape == x.shape
    tol = 3e-6 if dtype == f32 else 1e-12
    np.testing.assert_allclose(out, ref(x.astype(f64)), rtol=tol, atol=tol)


def test_aliases_and_glu():
    assert nn.hard_swish is nn.hard_silu and nn.swish is nn.silu
    x = np.random.default_rng(1).normal(size=(2, 6))
    want = x[:, :3] / (1 + np.exp(-x[:, 3:]))
    np.testing.assert_allclose(np.asarray(nn.glu(x)), want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(nn.glu(x.T, axis=0)), want.T, rtol=1e-12)
    with pytest.raises(ValueError, match="glu: axis -1 has size 5, which must be divisible by 2"):
        nn.glu(np.ones((2, 5)))


def test_logmeanexp_and_where():
    x = np.random.default_rng(2).normal(size=(3, 4))
    m = x > 0
    lme = np.asarray(nn.logmeanexp(x, axis=1, where=m))
    for i in range(3):
        row = x[i][m[i]]
        want = np.log(np.mean(np.exp(row))) if row.size else -np.inf
        np.testing.assert_allclose(lme[i], want, rtol=1e-12)
    sm = np.asarray(nn.softmax(x, where=m))
    assert np.all(sm[~m] == 0) and np.allclose(sm.sum(1)[m.any(1)], 1)


# Smooth points (away from kinks) for finite-difference gradient checks, order 2.
@pytest.mark.parametrize(
    "fn", [nn.selu, nn.celu, nn.mish, nn.squareplus, nn.soft_sign, nn.hard_tanh, nn.log1mexp,
           nn.sparse_plus, nn.hard_silu, lambda x: nn.glu(x, axis=0), nn.logmeanexp],
)  # fmt: skip
def test_grads(fn):
    x = jnp.array([0.3, 1.7, 0.45, 0.8])
    check_grads(fn, (x,), order=2, modes=("fwd", "rev"))
    check_grads(fn, (-x if fn is not nn.log1mexp else x + 2,), order=1, modes=("rev",))


def test_jit_and_vmap_agree_with_eager():
    x = np.random.default_rng(3).normal(size=(4, 6))
    f = lambda v: nn.selu(v) + nn.mish(v) * nn.hard_sigmoid(v) + nn.glu(v).sum()  # noqa: E731
    want = np.stack([np.asarray(f(r)) for r in x])
    np.testing.assert_allclose(np.asarray(jaxlite.vmap(f)(x)), want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(jaxlite.jit(jaxlite.vmap(f))(x)), want, rtol=1e-12)


def test_dtype_rules_follow_jax():
    i = np.array([-2, 0, 3], np.int32)
    assert jnp.result_type(nn.leaky_relu(i)) == f64 and nn.leaky_relu(i).weak_type
    assert nn.hard_tanh(i).dtype == np.int32  # JAX keeps the integer dtype
    assert nn.celu(i).dtype == f64
    for fn in (nn.sigmoid, nn.silu):
        with pytest.raises(TypeError, match="logistic does not accept dtype int32"):
            fn(i)
    with pytest.raises(TypeError, match="requires ndarray or scalar arguments, got list"):
        nn.relu([1.0, 2.0])
    with pytest.raises(TypeError, match="one_hot: indices of dtype bool"):
        nn.one_hot(np.array([True]), 2)
    with pytest.raises(ValueError, match="unknown algorithm 'two-pass'"):
        nn.standardize(np.ones(3), algorithm="two-pass")


def test_standardize_stable_algorithm():
    x = 1e4 + np.random.default_rng(4).normal(size=(3, 8))
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(np.asarray(nn.standardize(x, algorithm="stable")), want, rtol=1e-9)


# ------------------------------------------------------------------------------------------
# dot_product_attention
# ------------------------------------------------------------------------------------------


def _attention_ref(q, k, v, bias=None, mask=None, causal=False, q_len=None, kv_len=None):
    """Per-head NumPy attention in float64, GQA by repeating the kv heads."""
    B, T, N, H = q.shape
    S, K = k.shape[1], k.shape[2]
    k, v = np.repeat(k, N // K, axis=2), np.repeat(v, N // K, axis=2)
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(H)
    if bias is not None:
        logits = logits + bias
    ok = np.ones((B, N, T, S), bool)
    if mask is not None:
        ok &= mask
    if causal:
        ok &= np.tril(np.ones((T, S), bool))
    if q_len is not None:
        ok &= (np.arange(T)[None, :, None] < q_len[:, None, None])[:, None]
    if kv_len is not None:
        ok &= (np.arange(S)[None, None, :] < kv_len[:, None, None])[:, None]
    logits = np.where(ok, logits, -0.7 * np.finfo(np.float32).max)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = np.einsum("bnts,bsnh->btnh", p, v)
    if q_len is not None:
        out *= (np.arange(T)[None, :] < q_len[:, None])[:, :, None, None]
    return out


def _qkv(B=2, T=3, S=4, N=4, K=2, H=5, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(B, T, N, H)),
        rng.normal(size=(B, S, K, H)),
        rng.normal(size=(B, S, K, H)),
    )


ATTENTION_CASES = {
    "plain": {},
    "causal": {"is_causal": True},
    "bias": {"bias": np.random.default_rng(5).normal(size=(1, 4, 3, 4))},
    "mask": {"mask": np.random.default_rng(6).normal(size=(2, 1, 3, 4)) > -0.5},
    "lengths": {"query_seq_lengths": np.array([2, 3], np.int32),
                "key_value_seq_lengths": np.array([4, 1], np.int32)},
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ATTENTION_CASES))
def test_attention_matches_numpy_with_gqa(case):
    q, k, v = _qkv()
    kw = ATTENTION_CASES[case]
    out = np.asarray(nn.dot_product_attention(q, k, v, **kw))
    want = _attention_ref(
        q, k, v, kw.get("bias"), kw.get("mask"), kw.get("is_causal", False),
        kw.get("query_seq_lengths"), kw.get("key_value_seq_lengths"),
    )  # fmt: skip
    np.testing.assert_allclose(out, want, rtol=2e-6, atol=2e-6)  # softmax in float32, as JAX


def test_attention_jit_grad_and_residual():
    q, k, v = _qkv(B=1, T=2, S=3, N=2, K=1, H=2)
    f = lambda q, k, v: nn.dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
    jitted = np.asarray(jaxlite.jit(f)(q, k, v))  # float32 softmax: C's expf vs NumPy's
    np.testing.assert_allclose(jitted, np.asarray(f(q, k, v)), rtol=1e-6, atol=1e-7)
    q32, k32, v32 = (jnp.asarray(a, f32) for a in (q, k, v))
    check_grads(f, (q32, k32, v32), order=1, modes=("rev",), atol=2e-2, rtol=2e-2)
    out, lse = nn.dot_product_attention(q, k, v, return_residual=True)
    assert out.shape == q.shape and lse.shape == q.shape[:-1]


def test_attention_bad_input():
    q, k, v = _qkv(N=3, K=2)
    with pytest.raises(ValueError, match="query heads must be a multiple of key/value heads"):
        nn.dot_product_attention(q, k, v)
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="mask dtype should be bool"):
        nn.dot_product_attention(q, k, v, mask=np.ones((1, 1, 3, 4)))
    with pytest.raises(ValueError, match="value shape should be"):
        nn.dot_product_attention(q, k, v[:, :2])
    with pytest.raises(ValueError, match="'cudnn' needs a GPU"):
        nn.dot_product_attention(q, k, v, implementation="cudnn")


def test_attention_against_jax_in_float64():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    q, k, v = _qkv(T=5, S=6)
    kw = {"is_causal": True, "local_window_size": (2, 1), "scale": 0.3}
    want = np.asarray(jax.nn.dot_product_attention(q, k, v, **kw))
    np.testing.assert_allclose(
        np.asarray(nn.dot_product_attention(q, k, v, **kw)), want, rtol=1e-6, atol=1e-7
    )


# ------------------------------------------------------------------------------------------
# initializers
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (6, 2), (2, 3, 4)])
def test_orthogonal(shape):
    w = np.asarray(init.orthogonal(scale=2.0)(jr.key(0), shape))
    m = w.reshape(-1, shape[-1])
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)
    w0 = np.asarray(init.orthogonal(column_axis=0)(jr.key(1), (3, 5)))
    np.testing.assert_allclose(w0 @ w0.T, np.eye(3), atol=1e-12)


def test_delta_orthogonal_and_errors():
    w = np.asarray(init.delta_orthogonal()(jr.key(2), (3, 3, 2, 4)))
    center = w[1, 1]
    np.testing.assert_allclose(center @ center.T, np.eye(2), atol=1e-12)
    assert np.count_nonzero(w) == np.count_nonzero(center)
    with pytest.raises(ValueError, match="requires a 3D, 4D or 5D"):
        init.delta_orthogonal()(jr.key(2), (3, 3))
    with pytest.raises(ValueError, match="`fan_in` must be less or equal"):
        init.delta_orthogonal()(jr.key(2), (3, 4, 2))
    with pytest.raises(ValueError, match="at least a 2D shape"):
        init.orthogonal()(jr.key(2), (3,))
    assert isinstance(init.he_normal(), init.Initializer)


def test_initializers_equal_jax_per_key():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for name in ("glorot_normal", "he_uniform", "lecun_normal", "orthogonal"):
        a = getattr(init, name)()(jr.key(7), (5, 3), f32)
        b = getattr(jax.nn.initializers, name)()(jax.random.key(7), (5, 3), f32)
        assert a.dtype == b.dtype
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------------------
# JAX's example_libraries (stax, optimizers) on jaxlite
# ------------------------------------------------------------------------------------------


def _load_example_library(name: str) -> dict:
    """JAX's `example_libraries/<name>.py`, its `jax` imports pointed at jaxlite."""
    jax = pytest.importorskip("jax")
    src = (pathlib.Path(jax.__file__).parent / "example_libraries" / f"{name}.py").read_text()
    src = src.replace("from jax._src.util import", "from jaxlite.util import")
    src = src.replace("import jax.numpy as jnp", "import jaxlite.numpy as jnp")
    src = src.replace("from jax.nn", "from jaxlite.nn").replace(
        "from jax import", "from jaxlite import"
    )
    src = src.replace("import jax\n", "import jaxlite as jax\n")
    namespace: dict = {"__name__": f"jaxlite_example_{name}"}
    exec(compile(src, f"jax/example_libraries/{name}.py", "exec"), namespace)  # noqa: S102
    return types.SimpleNamespace(**namespace)


def test_stax_and_optimizers_train_a_classifier():
    stax, optimizers = _load_example_library("stax"), _load_example_library("optimizers")
    init_fun, apply_fun = stax.serial(
        stax.Dense(8), stax.Relu, stax.Dense(8), stax.Selu, stax.Dense(3), stax.LogSoftmax
    )
    _, params = init_fun(jr.key(0), (-1, 4))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4))
    y = nn.one_hot(np.argmax(x[:, :3], axis=1), 3)

    def loss(p):
        return -jnp.mean(jnp.sum(apply_fun(p, x) * y, axis=1))

    opt_init, opt_update, get_params = optimizers.adam(0.05)

    @jaxlite.jit
    def step(i, state):
        return opt_update(i, jaxlite.grad(loss)(get_params(state)), state)

    state = opt_init(params)
    first = float(loss(params))
    for i in range(30):
        state = step(i, state)
    assert float(loss(get_params(state))) < 0.5 * first
