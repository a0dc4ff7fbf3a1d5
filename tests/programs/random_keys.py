"""Mirrors the JAX docs on pseudorandom numbers: explicit keys, split and fold_in instead of
global state, and the samplers, which must give JAX's very bits.
APIs: random.PRNGKey/key/key_data/split/fold_in/uniform/normal/randint/bernoulli/categorical/
permutation/choice/truncated_normal/bits, vmap over keys."""

X64 = False
TOL = (1e-6, 1e-7)  # float samplers: the same bits through float32 transforms


def run(L):
    jax, jnp, r = L.jax, L.jnp, L.random
    key = r.PRNGKey(1701)
    key, k1, k2, k3 = r.split(key, 4)
    folded = r.fold_in(key, 7)
    keys = r.split(k3, 5)
    logits = jnp.log(jnp.array([0.1, 0.2, 0.3, 0.4]))
    return {
        "key": key,
        "folded": folded,
        "typed": r.key_data(r.split(r.key(3))),
        "uniform": r.uniform(k1, (3, 2)),
        "normal": r.normal(k2, (4,)),
        "randint": r.randint(k1, (6,), 0, 10),
        "bernoulli": r.bernoulli(k2, 0.3, (8,)),
        "categorical": r.categorical(folded, logits, shape=(10,)),
        "permutation": r.permutation(k1, 10),
        "choice": r.choice(k2, 10, (4,), replace=False),
        "truncated": r.truncated_normal(k1, -1.0, 1.0, (3,)),
        "vmapped": jax.vmap(lambda k: r.normal(k, (2,)))(keys),
        "bits": r.bits(folded, (3,)),
    }
