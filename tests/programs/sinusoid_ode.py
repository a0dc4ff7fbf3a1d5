"""Mirrors autograd's examples/ode_net.py and sinusoid regression: a small tanh MLP as the
dynamics of an ODE integrated by fixed-step RK4 in lax.fori_loop, fitted so that the
trajectory follows a sinusoid; per-example predictions by vmap, the loss by jit(value_and_grad).
APIs: lax.fori_loop with a pytree carry, vmap(in_axes=(None, 0)), jit, grad, jnp.sin/cos,
tree_util.tree_map."""

import numpy as np

X64 = False
TOL = (1e-4, 1e-5)  # float32 training, 4 steps


def run(L):
    jax, jnp, lax, tu = L.jax, L.jnp, L.lax, L.tree_util
    rng = np.random.RandomState(11)
    params = {
        "w1": (0.5 * rng.randn(2, 16)).astype(np.float32),
        "b1": np.zeros(16, np.float32),
        "w2": (0.5 * rng.randn(16, 2)).astype(np.float32),
    }
    ts = np.linspace(0.0, 1.5, 6).astype(np.float32)
    starts = rng.uniform(0, np.pi, 5).astype(np.float32)
    # the target: a harmonic oscillator's state (sin, cos) from each start phase
    targets = np.stack([np.sin(starts[:, None] + ts), np.cos(starts[:, None] + ts)], -1)

    def dynamics(p, y):
        return jnp.tanh(y @ p["w1"] + p["b1"]) @ p["w2"]

    def rk4(p, y, dt, steps):
        def body(_, y):
            k1 = dynamics(p, y)
            k2 = dynamics(p, y + 0.5 * dt * k1)
            k3 = dynamics(p, y + 0.5 * dt * k2)
            k4 = dynamics(p, y + dt * k3)
            return y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

        return lax.fori_loop(0, steps, body, y)

    def trajectory(p, y0):
        ys = [y0]
        for _ in range(len(ts) - 1):
            ys.append(rk4(p, ys[-1], 0.1, 3))
        return jnp.stack(ys)

    def loss(p):
        y0 = jnp.stack([jnp.sin(starts), jnp.cos(starts)], axis=1)
        pred = jax.vmap(trajectory, in_axes=(None, 0))(p, y0)
        return jnp.mean((pred - targets) ** 2)

    @jax.jit
    def step(p):
        value, g = jax.value_and_grad(loss)(p)
        return tu.tree_map(lambda a, gi: a - 0.3 * gi, p, g), value

    losses = []
    for _ in range(4):
        params, value = step(params)
        losses.append(value)
    return {"params": params, "losses": jnp.stack(losses)}
