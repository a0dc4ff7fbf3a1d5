"""Mirrors the JAX custom derivatives tutorial: log1pexp with a numerically safe custom_jvp
(the naive grad gives nan at large inputs), a custom_jvp with defjvps, and clip_gradient with
custom_vjp; under grad, jit, vmap and a second derivative.
APIs: custom_jvp (defjvp, defjvps), custom_vjp (defvjp), grad, jit, vmap, jnp.where/log1p."""

X64 = False
TOL = (1e-6, 1e-7)  # float32 elementwise, no training


def run(L):
    jax, jnp = L.jax, L.jnp

    def naive(x):
        return jnp.log(1.0 + jnp.exp(x))

    @jax.custom_jvp
    def log1pexp(x):
        return jnp.log(1.0 + jnp.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * (1.0 - 1.0 / (1.0 + jnp.exp(x)))

    @jax.custom_jvp
    def f(x, y):
        return jnp.sin(x) * y

    f.defjvps(lambda xd, ans, x, y: jnp.cos(x) * xd * y, lambda yd, ans, x, y: jnp.sin(x) * yd)

    @jax.custom_vjp
    def clip_gradient(lo, hi, x):
        return x

    def clip_fwd(lo, hi, x):
        return x, (lo, hi)

    def clip_bwd(res, g):
        lo, hi = res
        return (None, None, jnp.clip(g, lo, hi))

    clip_gradient.defvjp(clip_fwd, clip_bwd)

    xs = jnp.array([-5.0, 0.0, 3.0, 50.0])
    return {
        "naive_grad_big": jax.grad(naive)(100.0),
        "grad": jax.jit(jax.grad(log1pexp))(100.0),
        "vmap_grad": jax.vmap(jax.grad(log1pexp))(xs),
        "second": jax.grad(jax.grad(log1pexp))(2.0),
        "values": log1pexp(xs),
        "f_grads": jax.grad(f, argnums=(0, 1))(2.0, 3.0),
        "f_jvp": jax.jvp(f, (2.0, 3.0), (1.0, 0.5)),
        "clip": jax.vmap(jax.grad(lambda x: clip_gradient(-0.75, 0.75, jnp.sin(x) * 3.0)))(xs),
    }
