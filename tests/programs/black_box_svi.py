"""Mirrors autograd's examples/black_box_svi.py (and the reparameterized ELBO of
bayesian_neural_net.py): a diagonal-Gaussian variational family fitted to an unnormalized
2-D log density by the reparameterization trick, the entropy in closed form, Adam written
out (autograd's optimizers.adam), samples from jax.random.
APIs: random.normal/split, norm.logpdf, grad, jnp.log/exp/sum/mean/sqrt, eager loop."""

X64 = True  # autograd computes in float64
TOL = (1e-8, 1e-10)


def run(L):
    jax, jnp, norm = L.jax, L.jnp, L.scipy.stats.norm
    D = 2

    def log_density(z):
        mu, log_sigma = z[:, 0], z[:, 1]
        sigma_density = norm.logpdf(log_sigma, 0, 1.35)
        mu_density = norm.logpdf(mu, 0, jnp.exp(log_sigma))
        return sigma_density + mu_density

    def objective(params, key, t):
        mean, log_std = params[:D], params[D:]
        eps = L.random.normal(L.random.fold_in(key, t), (32, D), dtype=params.dtype)
        samples = eps * jnp.exp(log_std) + mean
        entropy = 0.5 * D * (1.0 + jnp.log(2 * jnp.pi)) + jnp.sum(log_std)
        return -(entropy + jnp.mean(log_density(samples)))

    grad = jax.grad(objective)
    key = L.random.PRNGKey(0)
    params = jnp.array([-1.0, -1.0, -5.0, -5.0])
    m = jnp.zeros(4)
    v = jnp.zeros(4)
    b1, b2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    trace = []
    for t in range(5):
        g = grad(params, key, t)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * g**2 + b2 * v
        mhat = m / (1 - b1 ** (t + 1))
        vhat = v / (1 - b2 ** (t + 1))
        params = params - lr * mhat / (jnp.sqrt(vhat) + eps)
        trace.append(objective(params, key, t))
    return {"params": params, "objective": jnp.stack(trace)}
