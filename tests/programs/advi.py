"""Mirrors jax examples/advi.py: automatic differentiation variational inference of a 2-D
unnormalized density with a diagonal Gaussian, reparameterized samples, a Monte Carlo ELBO
vmapped over samples, momentum ascent under jit.
APIs: random.PRNGKey/split/normal, vmap(in_axes=(None, 0)), jit, grad,
jax.scipy.stats.norm.logpdf, jnp.exp/sum/mean."""

X64 = False
TOL = (1e-4, 1e-5)  # float32, 10 steps


def run(L):
    jax, jnp, norm = L.jax, L.jnp, L.scipy.stats.norm

    def log_density(z):
        x, y = z[0], z[1]
        return norm.logpdf(y, 0.0, jnp.exp(0.5 * x)) + norm.logpdf(x, 0.0, 1.5)

    def sample(key, mean, log_std):
        return mean + jnp.exp(log_std) * L.random.normal(key, mean.shape)

    def elbo_one(params, key):
        mean, log_std = params
        z = sample(key, mean, log_std)
        return log_density(z) - jnp.sum(norm.logpdf(z, mean, jnp.exp(log_std)))

    def elbo(params, key, n=16):
        keys = L.random.split(key, n)
        return jnp.mean(jax.vmap(elbo_one, in_axes=(None, 0))(params, keys))

    @jax.jit
    def step(params, vel, key):
        g = jax.grad(elbo)(params, key)
        vel = [0.9 * v + 0.1 * gi for v, gi in zip(vel, g)]
        return [p + v for p, v in zip(params, vel)], vel

    params = [jnp.array([-1.0, 0.5]), jnp.array([-0.5, -0.5])]
    vel = [jnp.zeros(2), jnp.zeros(2)]
    key = L.random.PRNGKey(0)
    trace = []
    for _ in range(10):
        key, sub = L.random.split(key)
        params, vel = step(params, vel, sub)
        trace.append(elbo(params, sub))
    return {"elbo": jnp.stack(trace), "params": params}
