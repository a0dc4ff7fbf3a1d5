"""`jaxlite.nn.dot_product_attention`: JAX 0.10's scaled dot-product attention (its "xla"
implementation), with bias, boolean masks, causal and local-window masks, padding by sequence
lengths, and grouped-query attention (N query heads over K key/value heads, K dividing N).
"""

from __future__ import annotations

import numpy as np

from jaxlite import dtypes
from jaxlite import numpy as jnp
from jaxlite import primitives as lax
from jaxlite.core import get_aval
from jaxlite.nn._functions import softmax
from jaxlite.nn._logsumexp import logsumexp

_NAME = "jaxlite.nn.dot_product_attention"


def _ensure_4d(t):
    t = jnp.asarray(t)
    missing = 4 - t.ndim
    return jnp.expand_dims(t, tuple(range(missing))) if missing > 0 else t


def _check(t, shape, dtype, name: str) -> None:
    """`t` has rank len(shape), the sizes of `shape` that are not -1, and `dtype` (if given)."""
    if t is None:
        return
    if t.ndim != len(shape):
        raise ValueError(f"{_NAME}: {name} ndim should be {len(shape)}, but got {t.ndim}")
    if dtype is not None and t.dtype != dtype:
        raise ValueError(f"{_NAME}: {name} dtype should be {dtype}, but got {t.dtype}")
    if any(s != -1 and d != s for d, s in zip(t.shape, shape)):
        raise ValueError(f"{_NAME}: {name} shape should be {tuple(shape)}, but got {t.shape}")


def _grouped(t, K: int, G: int):
    """A [B, N, T, S] bias or mask (N may be 1) as [B, K, G, T, S]."""
    if t is None:
        return None
    tB, tN, tT, tS = t.shape
    if tN == 1:
        return jnp.broadcast_to(t[:, :, None], (tB, 1, G, tT, tS))
    if tN != K * G:
        raise ValueError(f"{_NAME}: bias/mask has {tN} heads; expected 1 or {K * G}")
    return jnp.reshape(t, (tB, K, G, tT, tS))


def _masks(T, S, mask, is_causal, q_len, kv_len, window):
    """The combined boolean mask (broadcastable to [B, K, G, T, S]), or None if there is none."""
    out = mask
    extra = []
    if is_causal:
        extra.append(jnp.tril(jnp.ones((T, S), dtype=bool)))
    if window is not None:
        left, right = window
        q, k = jnp.arange(T)[:, None], jnp.arange(S)[None, :]
        extra.append((q <= k + left) & (q >= k - right))
    for m in extra:
        out = m if out is None else out & m
    if q_len is not None or kv_len is not None:
        pad = True
        if q_len is not None:
            pad = jnp.arange(T)[None, :, None] < q_len[:, None, None]
        if kv_len is not None:
            pad = pad & (jnp.arange(S)[None, None, :] < kv_len[:, None, None])
        pad = pad[:, None, None]  # [B, 1, 1, T, S]
        out = pad if out is None else out & pad
    return out


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal: bool = False, query_seq_lengths=None,
                          key_value_seq_lengths=None, local_window_size=None,
                          implementation=None, return_residual: bool = False):  # fmt: skip
    """Scaled dot-product attention, `softmax(Q K^T * scale + bias) V` per head (JAX's API).

    Shapes: B batch, T query length, S key/value length, N query heads, K key/value heads
    (N a multiple of K: grouped-query attention; K == 1: multi-query), H head size.

    Args:
      query: [B, T, N, H] (or [T, N, H]).
      key, value: [B, S, K, H] (or [S, K, H]), of query's dtype.
      bias: optional, added to the logits; 4-D, broadcastable to [B, N, T, S].
      mask: optional boolean, True where attention is allowed; 4-D, broadcastable to
        [B, N, T, S].
      scale: the logits' scale; default `1 / sqrt(H)`.
      is_causal: mask out keys after each query (query i sees keys 0..i).
      query_seq_lengths, key_value_seq_lengths: optional int32 [B] lengths; positions past
        them are padding (padded queries give zeros).
      local_window_size: `(left, right)` (or an int for both): query i sees keys
        `i - left .. i + right`.
      implementation: None or "xla" (the same computation here); "cudnn" is not available.
      return_residual: also return the logsumexp of the logits, [B, T, N].

    Returns:
      The attention output, query's shape (and the residual if `return_residual`). As JAX, the
      softmax is computed in float32.
    """
    if implementation not in (None, "xla"):
        if implementation == "cudnn":
            raise ValueError(f"{_NAME}: implementation='cudnn' needs a GPU; use None or 'xla'")
        raise ValueError(f"{_NAME}: unsupported implementation option: {implementation!r}")
    out_shape = get_aval(jnp.asarray(query)).shape
    q, k, v = _ensure_4d(query), _ensure_4d(key), _ensure_4d(value)
    bias = None if bias is None else _ensure_4d(bias)
    mask = None if mask is None else _ensure_4d(mask)
    q_len = None if query_seq_lengths is None else jnp.asarray(query_seq_lengths)
    kv_len = None if key_value_seq_lengths is None else jnp.asarray(key_value_seq_lengths)
    if isinstance(local_window_size, int):
        local_window_size = (local_window_size, local_window_size)
    B, S, K, H = k.shape
    _check(v, [B, S, K, H], k.dtype, "value")
    _check(q, [B, -1, -1, H], k.dtype, "query")
    _check(mask, [-1] * 4, np.dtype(bool), "mask")
    _check(bias, [-1] * 4, None, "bias")
    _check(q_len, [B], np.dtype("int32"), "query_seq_lengths")
    _check(kv_len, [B], np.dtype("int32"), "key_value_seq_lengths")
    T, N = q.shape[1], q.shape[2]
    if N % K:
        raise ValueError(
            f"{_NAME}: the number of query heads must be a multiple of key/value heads, "
            f"but got {N} vs {K}"
        )
    G = N // K
    scale = 1.0 / np.sqrt(H) if scale is None else scale

    logits_dt = dtypes.promote_types(q.dtype, np.dtype(np.float32))
    qg = jnp.reshape(q, (B, T, K, G, H))
    logits = jnp.einsum("btkgh,bskh->bkgts", qg, k, preferred_element_type=logits_dt)
    logits = logits * jnp.array(scale, dtype=logits.dtype)
    if bias is not None:
        logits = (logits + _grouped(bias, K, G)).astype(logits.dtype)
    combined = _masks(T, S, _grouped(mask, K, G), is_causal, q_len, kv_len, local_window_size)
    if combined is not None:
        # A large finite negative (not -inf), so a fully masked row gives a uniform softmax,
        # not NaN; capped at float32's range, where the softmax is computed.
        big = min(float(dtypes.finfo(logits.dtype).max), float(np.finfo(np.float32).max))
        logits = jnp.where(combined, logits, jnp.asarray(-0.7 * big, dtype=logits.dtype))
    logits = logits.astype(np.float32)
    probs = softmax(logits, axis=-1).astype(k.dtype)
    encoded = jnp.einsum("bkgts,bskh->btkgh", probs, v)
    if q_len is not None:
        keep = jnp.arange(T)[None, :] < q_len[:, None]
        encoded = encoded * keep[:, :, None, None, None].astype(encoded.dtype)
    encoded = jnp.reshape(encoded, out_shape)
    if not return_residual:
        return encoded
    lse = logsumexp(logits, axis=-1).astype(k.dtype)  # [B, K, G, T]
    lse = jnp.reshape(jnp.transpose(lse, (0, 3, 1, 2)), out_shape[:-1])
    return encoded, lax.stop_gradient(lse)
