"""Mirrors autograd's examples/logistic_regression.py and examples/tanh.py: logistic
regression trained by plain gradient descent on its training loss (eager, as in autograd),
and the tanh function's first four derivatives on a grid by nested grad and elementwise vmap.
APIs: grad (nested to 4th order), vmap, jnp.tanh/log/dot, jax.nn.sigmoid, eager loops."""

import numpy as np

X64 = True  # autograd computes in float64
TOL = (1e-9, 1e-10)


def run(L):
    jax, jnp = L.jax, L.jnp
    rng = np.random.RandomState(7)
    inputs = rng.randn(12, 3)
    targets = (inputs @ np.array([1.5, -2.0, 0.5]) + 0.3 * rng.randn(12) > 0).astype(np.float64)

    def predict(w, x):
        return 0.5 * (jnp.tanh(jnp.dot(x, w) / 2.0) + 1.0)

    def training_loss(w):
        p = predict(w, inputs)
        label_probs = p * targets + (1 - p) * (1 - targets)
        return -jnp.sum(jnp.log(label_probs))

    w = jnp.zeros(3)
    g = jax.grad(training_loss)
    losses = []
    for _ in range(6):
        w = w - 0.05 * g(w)
        losses.append(training_loss(w))

    def tanh(x):
        y = jnp.exp(-2.0 * x)
        return (1.0 - y) / (1.0 + y)

    xs = jnp.linspace(-4, 4, 9)
    derivs = [tanh]
    for _ in range(4):
        derivs.append(jax.grad(derivs[-1]))
    return {
        "w": w,
        "losses": jnp.stack(losses),
        "sigmoid_agrees": jnp.max(jnp.abs(predict(w, inputs) - L.nn.sigmoid(inputs @ w))),
        "derivs": [jax.vmap(d)(xs) for d in derivs],
    }
