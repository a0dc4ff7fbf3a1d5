"""Mirrors the JAX autodiff cookbook: grad with argnums and has_aux, value_and_grad,
Hessian-vector products (forward-over-reverse jvp of grad, and reverse-over-reverse), jacfwd,
jacrev, hessian, vjp/jvp, linearize, vmap of the HVP to build a Hessian, a Jacobian of a
dict-valued function. APIs: grad, value_and_grad, jvp, vjp, linearize, jacfwd, jacrev, hessian,
vmap, jnp.tanh/sin/sum/dot."""

import numpy as np

X64 = True  # derivative identities checked in float64 as in the cookbook's printouts
TOL = (1e-10, 1e-12)


def run(L):
    jax, jnp = L.jax, L.jnp
    rng = np.random.RandomState(4)
    W = rng.randn(3, 4)
    b = rng.randn(3)
    x = rng.randn(4)

    def predict(W, b, x):
        return jnp.tanh(W @ x + b)

    def loss(W, b):
        return jnp.sum((predict(W, b, x) - 0.5) ** 2)

    def f(v):
        return jnp.sum(jnp.sin(v) * v**2) + jnp.dot(v, v) ** 1.5

    def hvp_fwd(g, v):
        return jax.jvp(jax.grad(g), (x,), (v,))[1]

    def hvp_rev(g, v):
        return jax.grad(lambda y: jnp.vdot(jax.grad(g)(y), v))(x)

    def with_aux(W, b):
        out = predict(W, b, x)
        return jnp.sum(out**2), {"out": out}

    (val, aux), gw = jax.value_and_grad(with_aux, has_aux=True)(W, b)
    gW, gb = jax.grad(loss, argnums=(0, 1))(W, b)
    y, f_vjp = jax.vjp(lambda v: predict(W, b, v), x)
    (ct,) = f_vjp(jnp.ones(3))
    _, f_lin = jax.linearize(f, x)
    basis = jnp.eye(4)
    return {
        "val": val,
        "aux": aux,
        "gw": gw,
        "gW": gW,
        "gb": gb,
        "vjp": ct,
        "y": y,
        "lin": f_lin(basis[0]),
        "jacfwd": jax.jacfwd(predict, argnums=2)(W, b, x),
        "jacrev": jax.jacrev(predict, argnums=(0, 2))(W, b, x),
        "hessian": jax.hessian(f)(x),
        "hvp_fwd": hvp_fwd(f, basis[1]),
        "hvp_rev": hvp_rev(f, basis[2]),
        "hess_by_vmap": jax.vmap(lambda v: hvp_fwd(f, v))(basis),
        "dict_jac": jax.jacrev(lambda v: {"a": jnp.sum(v), "b": v * 2.0})(x),
    }
