"""Mirrors autograd's examples/rnn.py: a character-level vanilla RNN over one-hot sequences,
hidden state by tanh of the concatenated input and state, log-softmax outputs by logsumexp,
the sequence log-likelihood maximized with grad; also the same recurrence as lax.scan.
APIs: jnp.concatenate/tanh/dot, jax.scipy.special.logsumexp, grad, lax.scan, eager loop over
time steps, one-hot via jax.nn.one_hot."""

import numpy as np

X64 = False
TOL = (1e-4, 1e-5)  # float32 training, 2 steps through 5 time steps


def run(L):
    jax, jnp, lax = L.jax, L.jnp, L.lax
    lse = L.scipy.special.logsumexp
    rng = np.random.RandomState(9)
    vocab, hidden, T, B = 6, 8, 5, 4
    seqs = rng.randint(0, vocab, (T, B))
    onehot = L.nn.one_hot(jnp.asarray(seqs), vocab)
    params = {
        "init": 0.1 * rng.randn(1, hidden).astype(np.float32),
        "change": 0.1 * rng.randn(vocab + hidden + 1, hidden).astype(np.float32),
        "predict": 0.1 * rng.randn(hidden + 1, vocab).astype(np.float32),
    }

    def affine(w, x):
        return jnp.dot(jnp.concatenate([x, jnp.ones((x.shape[0], 1))], axis=1), w)

    def outputs_loop(p, inputs):
        h = jnp.repeat(p["init"], inputs.shape[1], axis=0)
        out = []
        for x in inputs:
            h = jnp.tanh(affine(p["change"], jnp.concatenate([x, h], axis=1)))
            logits = affine(p["predict"], h)
            out.append(logits - lse(logits, axis=1, keepdims=True))
        return jnp.stack(out)

    def outputs_scan(p, inputs):
        def step(h, x):
            h = jnp.tanh(affine(p["change"], jnp.concatenate([x, h], axis=1)))
            logits = affine(p["predict"], h)
            return h, logits - lse(logits, axis=1, keepdims=True)

        return lax.scan(step, jnp.repeat(p["init"], inputs.shape[1], axis=0), inputs)[1]

    def log_likelihood(p, inputs):
        logprobs = outputs_loop(p, inputs)
        return jnp.sum(logprobs[:-1] * inputs[1:]) / (inputs.shape[0] * inputs.shape[1])

    g = jax.grad(log_likelihood)
    trace = []
    for _ in range(2):
        grads = g(params, onehot)
        params = jax.tree_util.tree_map(lambda a, b: a + 0.5 * b, params, grads)
        trace.append(log_likelihood(params, onehot))
    return {
        "params": params,
        "ll": jnp.stack(trace),
        "scan_vs_loop": outputs_scan(params, onehot) - outputs_loop(params, onehot),
        "scan_grad": jax.grad(lambda p: jnp.sum(outputs_scan(p, onehot)))(params)["change"],
    }
