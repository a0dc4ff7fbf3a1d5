"""Mirrors autograd's examples/fluidsim/fluidsim.py: a small 2-D smoke simulation on a
periodic grid (jnp.roll finite differences, Jacobi pressure projection, semi-Lagrangian
advection with bilinear interpolation by integer gather), and the gradient of a final-state
loss with respect to the initial velocity field.
APIs: jnp.roll, floor/astype int indexing (gather), jnp.mod, grad through a Python loop,
lax.fori_loop for the Jacobi iterations, jit."""

import numpy as np

X64 = False
TOL = (1e-4, 1e-5)  # float32 over a few simulated steps

N = 8


def run(L):
    jax, jnp, lax = L.jax, L.jnp, L.lax
    rng = np.random.RandomState(10)
    smoke0 = np.zeros((N, N), np.float32)
    smoke0[2:5, 3:6] = 1.0
    target = np.roll(smoke0, 2, axis=1)
    vx0 = (0.3 * rng.randn(N, N)).astype(np.float32)
    vy0 = (0.3 * rng.randn(N, N)).astype(np.float32)

    def project(vx, vy):
        div = -0.5 * (jnp.roll(vx, -1, axis=0) - jnp.roll(vx, 1, axis=0)
                      + jnp.roll(vy, -1, axis=1) - jnp.roll(vy, 1, axis=1))  # fmt: skip

        def jacobi(_, p):
            return (div + jnp.roll(p, 1, axis=0) + jnp.roll(p, -1, axis=0)
                    + jnp.roll(p, 1, axis=1) + jnp.roll(p, -1, axis=1)) / 4.0  # fmt: skip

        p = lax.fori_loop(0, 8, jacobi, jnp.zeros_like(div))
        vx = vx - 0.5 * (jnp.roll(p, -1, axis=0) - jnp.roll(p, 1, axis=0))
        vy = vy - 0.5 * (jnp.roll(p, -1, axis=1) - jnp.roll(p, 1, axis=1))
        return vx, vy

    def advect(f, vx, vy):
        rows, cols = jnp.meshgrid(jnp.arange(N), jnp.arange(N), indexing="ij")
        cx = rows - vx
        cy = cols - vy
        x0 = jnp.floor(cx).astype(jnp.int32)
        y0 = jnp.floor(cy).astype(jnp.int32)
        dx, dy = cx - x0, cy - y0
        x0, y0 = jnp.mod(x0, N), jnp.mod(y0, N)
        x1, y1 = jnp.mod(x0 + 1, N), jnp.mod(y0 + 1, N)
        return ((1 - dx) * ((1 - dy) * f[x0, y0] + dy * f[x0, y1])
                + dx * ((1 - dy) * f[x1, y0] + dy * f[x1, y1]))  # fmt: skip

    def simulate(vx, vy, smoke, steps=2):
        for _ in range(steps):
            vx, vy = project(vx, vy)
            vx2, vy2 = advect(vx, vx, vy), advect(vy, vx, vy)
            smoke = advect(smoke, vx, vy)
            vx, vy = vx2, vy2
        return smoke

    def loss(v):
        return jnp.mean((simulate(v[0], v[1], smoke0) - target) ** 2)

    smoke0 = jnp.asarray(smoke0)
    v = jnp.stack([vx0, vy0])
    vg = jax.jit(jax.value_and_grad(loss))
    val, g = vg(v)
    after, g2 = vg(v - 20.0 * g)  # the same compiled function: one compile per library
    return {"loss": val, "grad": g, "after": after, "grad_after": g2}
