import numpy as np, jaxlite, jaxlite.numpy as jnp
from jaxlite import lax
jaxlite.config.update("jax_enable_x64", True)
rng = np.random.default_rng(0)
for n in [1, 2, 3, 4, 5, 6, 8, 12, 16, 17, 30, 64, 97, 100, 128, 1000, 1024, 4096]:
    for dt in (np.complex64, np.complex128):
        x = (rng.normal(size=(3, n)) + 1j * rng.normal(size=(3, n))).astype(dt)
        for t in ("FFT", "IFFT"):
            e = lax.fft(x, t, (n,)); j = jaxlite.jit(lambda x: lax.fft(x, t, (n,)))(x)
            ref = np.fft.fft(x) if t == "FFT" else np.fft.ifft(x)
            tol = 1e-4 if dt == np.complex64 else 1e-11
            err = np.max(np.abs(np.asarray(j) - ref)) / max(np.max(np.abs(ref)), 1)
            if err > tol or j.dtype != dt: print("BAD", n, dt.__name__, t, err)
        r = x.real.copy()
        j = jaxlite.jit(lambda r: lax.fft(r, "RFFT", (n,)))(r)
        err = np.max(np.abs(np.asarray(j) - np.fft.rfft(r))) / max(1, np.max(np.abs(np.fft.rfft(r))))
        if err > tol: print("BAD rfft", n, err)
        h = np.fft.rfft(r)
        j = jaxlite.jit(lambda h: lax.fft(h, "IRFFT", (n,)))(h.astype(dt))
        err = np.max(np.abs(np.asarray(j) - np.fft.irfft(h, n)))
        if err > tol: print("BAD irfft", n, err)
x = rng.normal(size=(2, 6, 10)) + 1j*rng.normal(size=(2, 6, 10))
for t, f, lens in [("FFT", np.fft.fft2, (6, 10)), ("IFFT", np.fft.ifft2, (6,10))]:
    print(t, np.allclose(jaxlite.jit(lambda x: lax.fft(x, t, lens))(x), f(x)))
r = x.real
print("rfft2", np.allclose(jaxlite.jit(lambda x: lax.fft(x, "RFFT", (6, 10)))(r), np.fft.rfft2(r)))
h = np.fft.rfft2(r)
print("irfft2", np.allclose(jaxlite.jit(lambda x: lax.fft(x, "IRFFT", (6, 10)))(h), np.fft.irfft2(h, (6, 10))))
print("rfft3", np.allclose(jaxlite.jit(lambda x: lax.fft(x, "RFFT", (2, 6, 10)))(r), np.fft.rfftn(r)))
from jaxlite.test_util import check_grads
for t, arg, lens in [("FFT", x, (10,)), ("IFFT", x, (6, 10)), ("RFFT", r, (6, 10)), ("RFFT", r[..., :9], (6, 9)), ("IRFFT", h, (6, 10)), ("IRFFT", np.fft.rfft(r[..., :9]), (9,))]:
    check_grads(lambda a: lax.fft(a, t, lens), (arg,), order=2)
    print("grads ok", t, lens)
import jax
with jax.enable_x64(True):
  for t, arg, lens in [("RFFT", r, (6, 10)), ("IRFFT", h, (6, 10))]:
    f1 = lambda a: jaxlite.numpy.sum(jaxlite.numpy.abs(lax.fft(a, t, lens)) ** 2 * jnp.arange(lens[-1] if t == "IRFFT" else lens[-1]//2+1))
    f2 = lambda a: jax.numpy.sum(jax.numpy.abs(jax.lax.fft(a, t, lens)) ** 2 * jax.numpy.arange(lens[-1] if t == "IRFFT" else lens[-1]//2+1))
    print("grad vs jax", t, np.allclose(jaxlite.grad(f1)(arg), jax.grad(f2)(arg)))
print("vmap", np.allclose(jaxlite.vmap(lambda a: lax.fft(a, "FFT", (10,)), in_axes=1)(x), np.moveaxis(np.fft.fft(x), 1, 0)))
