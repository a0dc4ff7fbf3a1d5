"""Mirrors jax examples/mnist_classifier_fromscratch.py: a tanh MLP on (synthetic) digit-like
data, log-softmax via logsumexp, SGD under jit over minibatches, accuracy.
APIs: jit, grad, jax.scipy.special.logsumexp, argmax, list-of-tuples params."""

import numpy as np

X64 = False
TOL = (1e-4, 1e-5)  # float32 training, 12 steps: sums in a different order


def run(L):
    jax, jnp = L.jax, L.jnp
    rng = np.random.RandomState(0)
    n, d, k = 96, 20, 5
    centers = rng.randn(k, d)
    labels = rng.randint(0, k, n)
    images = (centers[labels] + 0.8 * rng.randn(n, d)).astype(np.float32)
    onehot = np.eye(k, dtype=np.float32)[labels]
    sizes = [d, 32, 16, k]
    params = [
        (0.1 * rng.randn(m, o).astype(np.float32), 0.1 * rng.randn(o).astype(np.float32))
        for m, o in zip(sizes[:-1], sizes[1:])
    ]

    def predict(params, inputs):
        act = inputs
        for w, b in params[:-1]:
            act = jnp.tanh(jnp.dot(act, w) + b)
        w, b = params[-1]
        logits = jnp.dot(act, w) + b
        return logits - L.scipy.special.logsumexp(logits, axis=1, keepdims=True)

    def loss(params, batch):
        x, y = batch
        return -jnp.mean(jnp.sum(predict(params, x) * y, axis=1))

    def accuracy(params, batch):
        x, y = batch
        return jnp.mean(jnp.argmax(y, axis=1) == jnp.argmax(predict(params, x), axis=1))

    @jax.jit
    def update(params, batch):
        grads = jax.grad(loss)(params, batch)
        return [(w - 0.2 * dw, b - 0.2 * db) for (w, b), (dw, db) in zip(params, grads)]

    perm = rng.permutation(n)
    losses = []
    for step in range(12):
        idx = perm[(step % 4) * 24 : (step % 4 + 1) * 24]
        batch = (jnp.asarray(images[idx]), jnp.asarray(onehot[idx]))
        params = update(params, batch)
        losses.append(loss(params, batch))
    full = (jnp.asarray(images), jnp.asarray(onehot))
    return {"losses": jnp.stack(losses), "acc": accuracy(params, full), "params": params}
