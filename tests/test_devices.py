"""jaxlite's top-level device and context API (devices, device_put/get, block_until_ready,
Array.devices/.device/.sharding, process_index/count, jacobian, named_call/named_scope,
ensure_compile_time_eval, checkpoint_policies), against JAX where it is installed."""

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import _devices


def test_one_cpu_device():
    (d,) = jaxlite.devices()
    assert jaxlite.local_devices() == [d] and jaxlite.local_devices(process_index=0) == [d]
    assert (d.id, d.platform, d.device_kind, d.process_index, d.host_id) == (0, "cpu", "cpu", 0, 0)
    assert repr(d) == "CpuDevice(id=0)" and str(d) == "cpu:0"
    assert jaxlite.device_count() == jaxlite.local_device_count() == 1
    assert jaxlite.default_backend() == "cpu"
    assert (jaxlite.process_index(), jaxlite.process_count()) == (0, 1)
    assert jaxlite.devices("cpu") == [d]
    with pytest.raises(RuntimeError, match="unknown backend 'gpu'"):
        jaxlite.devices("gpu")


def test_array_device_and_sharding():
    x = jnp.arange(6.0).reshape(2, 3)
    (d,) = jaxlite.devices()
    assert x.devices() == {d} and x.device == d
    s = x.sharding
    assert s.device_set == {d} and s.is_fully_replicated and s.is_fully_addressable
    assert s.num_devices == 1 and s.memory_kind == "device"
    assert s.shard_shape(x.shape) == (2, 3)
    assert s.devices_indices_map(x.shape) == {d: (slice(None), slice(None))}
    assert repr(s) == "SingleDeviceSharding(device=CpuDevice(id=0), memory_kind=device)"
    assert s == jnp.ones(1).sharding and hash(s) == hash(jnp.ones(1).sharding)


def test_layout_for_several_processes():
    # What an MPI layer (one process per rank) will call: one device per rank, one local.
    try:
        _devices._set_process_layout(1, 3)
        assert [d.id for d in jaxlite.devices()] == [0, 1, 2]
        assert jaxlite.local_devices() == [jaxlite.devices()[1]]
        assert (jaxlite.process_index(), jaxlite.process_count()) == (1, 3)
        assert jaxlite.device_count() == 3 and jaxlite.local_device_count() == 1
        assert jnp.ones(2).device.id == 1
        with pytest.raises(ValueError, match="belongs to process 0"):
            jaxlite.device_put(1.0, jaxlite.devices()[0])
    finally:
        _devices._set_process_layout(0, 1)
    assert jaxlite.devices() == [jnp.ones(1).device]


def test_device_put_get_block():
    d = jaxlite.devices()[0]
    x = jaxlite.device_put(np.ones(2, np.float32), d)
    assert isinstance(x, jaxlite.Array) and x.dtype == np.float32
    s = jaxlite.device_put(1.5)
    assert s.weak_type and s.dtype == jnp.asarray(1.5).dtype  # as jnp.asarray (x64 rules)
    tree = jaxlite.device_put({"a": [1, 2.0], "b": x}, x.sharding)
    assert tree["b"] is x and tree["a"][0].weak_type
    with pytest.raises(ValueError, match="only accepts None, a Device or a SingleDeviceSharding"):
        jaxlite.device_put(x, "cpu")
    got = jaxlite.device_get({"a": x, "n": 3})
    assert type(got["a"]) is np.ndarray and got["n"] == 3
    assert jaxlite.block_until_ready(tree) is tree
    y = jaxlite.jit(lambda v: jaxlite.device_put(v) * 2)(x)
    np.testing.assert_array_equal(np.asarray(y), [2, 2])
    with pytest.raises(TypeError, match="device_get: got a tracer"):
        jaxlite.jit(jaxlite.device_get)(x)


def test_jacobian_is_jacrev():
    f = lambda x: jnp.stack([x[0] * x[1], jnp.sin(x[1])])  # noqa: E731
    x = jnp.array([2.0, 0.5])
    np.testing.assert_allclose(np.asarray(jaxlite.jacobian(f)(x)), np.asarray(jaxlite.jacfwd(f)(x)))


def test_named_call_and_scope_change_nothing():
    f = lambda x: jnp.sin(x) * 2  # noqa: E731
    g = jaxlite.named_call(f, name="my_fn")

    def h(x):
        with jaxlite.named_scope("block"):
            return jnp.sin(x) * 2

    text = str(jaxlite.make_jaxpr(f)(1.0))
    assert str(jaxlite.make_jaxpr(g)(1.0)) == text == str(jaxlite.make_jaxpr(h)(1.0))
    with pytest.raises(TypeError, match="name argument must be a string"):
        with jaxlite.named_scope(3):
            pass


def test_ensure_compile_time_eval():
    seen = []

    @jaxlite.jit
    def f(x):
        with jaxlite.ensure_compile_time_eval():
            c = jnp.sin(3.0) + jnp.arange(3.0).sum()
            seen.append(type(c))
            y = jnp.cos(x)  # traced value: traced as usual
        return x + c + y

    np.testing.assert_allclose(float(f(1.0)), 1.0 + np.sin(3.0) + 3.0 + np.cos(1.0))
    assert seen == [jaxlite.Array]
    assert "sin" not in str(jaxlite.make_jaxpr(f)(1.0))
    g = jaxlite.grad(lambda x: f(x))(1.0)
    np.testing.assert_allclose(float(g), 1.0 - np.sin(1.0))
    with jaxlite.ensure_compile_time_eval():  # eagerly: nothing changes
        assert float(jnp.ones(()) + 1) == 2.0


def test_checkpoint_policies():
    cp = jaxlite.checkpoint_policies
    f = lambda x: jnp.sin(jnp.sin(x))  # noqa: E731
    want = float(jaxlite.grad(f)(0.7))
    for policy in (None, cp.nothing_saveable, cp.everything_saveable):
        assert float(jaxlite.grad(jaxlite.checkpoint(f, policy=policy))(0.7)) == pytest.approx(want)
    for policy in (cp.dots_saveable, cp.dots_with_no_batch_dims_saveable):
        with pytest.raises(NotImplementedError, match="policy .* is not supported"):
            jaxlite.checkpoint(f, policy=policy)
    from jaxlite.primitives import dot_general_p, sin_p

    dims = (((1,), (0,)), ((), ()))
    assert cp.dots_saveable(dot_general_p, dimension_numbers=dims) and not cp.dots_saveable(sin_p)
    batched = (((2,), (1,)), ((0,), (0,)))
    assert not cp.dots_with_no_batch_dims_saveable(dot_general_p, dimension_numbers=batched)
    both = cp.save_from_both_policies(cp.nothing_saveable, cp.dots_saveable)
    assert both(dot_general_p, dimension_numbers=dims) and not both(sin_p)


def test_against_jax():
    jax = pytest.importorskip("jax")
    names = """devices local_devices device_count local_device_count default_backend
    process_index process_count device_put device_get block_until_ready jacobian named_call
    named_scope ensure_compile_time_eval checkpoint_policies""".split()
    for n in names:
        assert hasattr(jax, n) and hasattr(jaxlite, n), n
    assert repr(jax.devices()[0]) == repr(jaxlite.devices()[0])
    assert str(jax.devices()[0]) == str(jaxlite.devices()[0])
    policies = {n for n in dir(jax.checkpoint_policies) if not n.startswith("_")}
    ours = {n for n in dir(jaxlite.checkpoint_policies) if not n.startswith("_")}
    assert ours <= policies
