"""Mirrors jax examples/gaussian_process_regression.py: an RBF GP's marginal likelihood via a
Cholesky factor, hyperparameters through softplus, momentum descent (eager), predictive
mean and variance. APIs: jax.scipy.linalg.cholesky/cho_solve/solve_triangular, vmap
covariance map, value_and_grad, jax.nn.softplus, jnp.log(diag)."""

import numpy as np

X64 = True  # the original turns x64 on
TOL = (1e-8, 1e-10)


def run(L):
    jax, jnp, sla = L.jax, L.jnp, L.scipy.linalg
    rng = np.random.RandomState(2)
    xtr = np.sort(rng.uniform(-3, 3, (20, 1)), axis=0)
    ytr = np.sin(xtr[:, 0]) + 0.1 * rng.randn(20)
    xte = np.linspace(-3.5, 3.5, 7)[:, None]

    def cov_map(f, xs, ys):
        return jax.vmap(lambda a: jax.vmap(lambda b: f(a, b))(ys))(xs)

    def rbf(params, a, b):
        amp, ls = L.nn.softplus(params["amp"]), L.nn.softplus(params["ls"])
        return amp * jnp.exp(-0.5 * jnp.sum(((a - b) / ls) ** 2))

    def nll(params):
        noise = L.nn.softplus(params["noise"]) + 1e-6
        k = cov_map(lambda a, b: rbf(params, a, b), xtr, xtr) + noise * jnp.eye(20)
        c = sla.cholesky(k, lower=True)
        alpha = sla.cho_solve((c, True), ytr)
        return (
            0.5 * jnp.dot(ytr, alpha)
            + jnp.sum(jnp.log(jnp.diag(c)))
            + 0.5 * 20 * jnp.log(2 * jnp.pi)
        )

    def predict(params):
        noise = L.nn.softplus(params["noise"]) + 1e-6
        k = cov_map(lambda a, b: rbf(params, a, b), xtr, xtr) + noise * jnp.eye(20)
        ks = cov_map(lambda a, b: rbf(params, a, b), xte, xtr)
        c = sla.cholesky(k, lower=True)
        mu = ks @ sla.cho_solve((c, True), ytr)
        v = sla.solve_triangular(c, ks.T, lower=True)
        var = L.nn.softplus(params["amp"]) - jnp.sum(v * v, axis=0)
        return mu, var

    params = {"amp": jnp.array(0.0), "ls": jnp.array(0.0), "noise": jnp.array(-2.0)}
    mom = jax.tree_util.tree_map(jnp.zeros_like, params)
    vg = jax.value_and_grad(nll)  # eager: a jit here costs seconds of C compile per run
    trace = []
    for _ in range(4):
        val, g = vg(params)
        trace.append(val)
        mom = jax.tree_util.tree_map(lambda m, gi: 0.9 * m - 0.01 * gi, mom, g)
        params = jax.tree_util.tree_map(lambda p, m: p + m, params, mom)
    mu, var = predict(params)
    return {"nll": jnp.stack(trace), "params": params, "mu": mu, "var": var}
