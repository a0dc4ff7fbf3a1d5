"""Mirrors autograd's examples/gaussian_process.py: a GP with an RBF kernel whose log
marginal likelihood is jax.scipy.stats.multivariate_normal.logpdf of the targets, parameters
packed in one vector, gradient ascent; predictive mean/covariance by linalg.solve/inv.
APIs: multivariate_normal.logpdf, value_and_grad, jnp.linalg.solve/inv, broadcasting kernel,
jnp.exp, eager."""

import numpy as np

X64 = True  # autograd computes in float64
TOL = (1e-8, 1e-10)


def run(L):
    jax, jnp = L.jax, L.jnp
    mvn = L.scipy.stats.multivariate_normal
    rng = np.random.RandomState(8)
    x = np.concatenate([np.linspace(0, 3, 7), np.linspace(6, 8, 6)])[:, None]
    y = np.cos(x[:, 0]) + 0.1 * rng.randn(13)

    def unpack(p):
        return p[0], jnp.exp(p[1]), jnp.exp(p[2]) + 1e-4, jnp.exp(p[3])

    def rbf(ls, var, a, b):
        d = jnp.sum((a[:, None, :] / ls - b[None, :, :] / ls) ** 2, axis=2)
        return var * jnp.exp(-0.5 * d)

    def log_marginal(p):
        mean, ls, noise, var = unpack(p)
        cov = rbf(ls, var, x, x) + noise * jnp.eye(13)
        return mvn.logpdf(y, mean * jnp.ones(13), cov)

    def predict(p, xs):
        mean, ls, noise, var = unpack(p)
        k_ff = rbf(ls, var, x, x) + noise * jnp.eye(13)
        k_fs = rbf(ls, var, x, xs)
        mu = mean + k_fs.T @ jnp.linalg.solve(k_ff, y - mean)
        cov = rbf(ls, var, xs, xs) - k_fs.T @ jnp.linalg.inv(k_ff) @ k_fs
        return mu, cov

    p = jnp.array([0.0, 0.0, -2.0, 0.0])
    vg = jax.value_and_grad(log_marginal)
    trace = []
    for _ in range(3):
        v, g = vg(p)
        trace.append(v)
        p = p + 0.02 * g
    mu, cov = predict(p, jnp.linspace(-1, 9, 5)[:, None])
    return {"lml": jnp.stack(trace), "params": p, "mu": mu, "cov": cov}
