import numpy as np

import jaxlite as jax
import jaxlite.numpy as jnp


def test_eager_and_jaxpr():
    x = jnp.array([1.0, 2.0], dtype=jnp.float32)
    y = jnp.sin(x) * 2.0
    assert y.dtype == np.float32
    np.testing.assert_allclose(np.asarray(y), np.sin(np.float32([1, 2])) * 2, rtol=1e-6)
    s = str(jax.make_jaxpr(lambda x: jnp.sin(x) * 2.0)(x))
    assert s == "{ lambda ; a:f32[2]. let b:f32[2] = sin a; c:f32[2] = mul b 2.0:f32[] in (c,) }"
