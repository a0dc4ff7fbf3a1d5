"""The digits MLP of examples/mlp.py, trained data-parallel over MPI ranks with `jaxlite.pmap`.

Every rank holds the same parameters; each step, every rank takes its slice of the same global
batch, computes the gradient of its slice's mean loss, and `lax.pmean` over the ranks (an MPI
Allreduce inside the compiled step) turns it into the gradient of the whole batch; every rank
then applies the same Adam update. So N ranks follow the single-process full-batch trajectory,
to float32 round-off (`--compare` trains that single-process run too and prints the largest
parameter difference).

    .venv/bin/mpiexec -n 4 .venv/bin/python examples/mlp_data_parallel.py --compare
    python examples/mlp_data_parallel.py          # one process: pmap over one device
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import jaxlite
from jaxlite import lax, optim
from jaxlite import random as jr
from jaxlite.experimental import multihost_utils

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp import accuracy, init_params, load_digits, loss_fn  # noqa: E402

MPI_ENV = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64, help="global batch (all ranks)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compare", action="store_true",
                   help="also train in one process on the full batches and compare")  # fmt: skip
    return p.parse_args(argv)


def make_steps(opt):
    def update(params, opt_state, grads):
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state

    def shard_step(params, opt_state, x, y):
        loss, grads = jaxlite.value_and_grad(loss_fn)(params, x, y)
        grads = lax.pmean(grads, "batch")  # the full batch's gradient, on every rank
        params, opt_state = update(params, opt_state, grads)
        return params, opt_state, lax.pmean(loss, "batch")

    parallel = jaxlite.pmap(shard_step, axis_name="batch", in_axes=(None, None, 0, 0),
                            out_axes=None)  # fmt: skip

    @jaxlite.jit
    def single(params, opt_state, x, y):
        loss, grads = jaxlite.value_and_grad(loss_fn)(params, x, y)
        params, opt_state = update(params, opt_state, grads)
        return params, opt_state, loss

    return parallel, single


def train(step, params, opt_state, data, args, shard):
    """`args.epochs` passes; `shard(x)` is what this process feeds the step of a global batch."""
    x_train, y_train = data
    steps = len(x_train) // args.batch_size
    key = jr.PRNGKey(args.seed + 1)
    loss = None
    for epoch in range(args.epochs):
        perm = np.asarray(jr.permutation(jr.fold_in(key, epoch), len(x_train)))
        for i in range(steps):
            idx = perm[i * args.batch_size : (i + 1) * args.batch_size]  # the same on every rank
            params, opt_state, loss = step(params, opt_state, shard(x_train[idx]),
                                           shard(y_train[idx]))  # fmt: skip
    return params, loss


def main(argv=None) -> int:
    args = parse_args(argv)
    if any(k in os.environ for k in MPI_ENV):
        jaxlite.distributed.initialize()
    rank, n = jaxlite.process_index(), jaxlite.process_count()
    if args.batch_size % n:
        sys.exit(f"--batch-size {args.batch_size} must be a multiple of the {n} ranks")
    data_key, init_key = jr.split(jr.PRNGKey(args.seed))
    x_train, y_train, x_test, y_test = load_digits(data_key, quick=False)
    params0 = init_params(init_key, (x_train.shape[1], 128, 64, 10))
    opt = optim.adam(args.lr)
    parallel, single = make_steps(opt)
    local = args.batch_size // n

    def my_slice(a):  # this rank's part of the global batch, with pmap's device axis (size 1)
        return a[rank * local : (rank + 1) * local][None]

    t0 = time.perf_counter()
    params, loss = train(parallel, params0, opt.init(params0), (x_train, y_train), args, my_slice)
    seconds = time.perf_counter() - t0
    acc = float(accuracy(params, x_test, y_test))
    flat = np.concatenate([np.ravel(p) for p in jaxlite.tree.leaves(params)])
    spread = float(np.ptp(np.asarray(multihost_utils.process_allgather(flat)), axis=0).max())
    if rank == 0:
        print(
            f"{n} rank(s), global batch {args.batch_size} ({local} per rank), {args.epochs} "
            f"epochs in {seconds:.1f} s: loss {float(loss):.4f}, test accuracy {acc:.2%}; "
            f"parameters differ across ranks by at most {spread:.1e}"
        )
    if args.compare and rank == 0:
        ref, ref_loss = train(single, params0, opt.init(params0), (x_train, y_train), args,
                              lambda a: a)  # fmt: skip
        ref_flat = np.concatenate([np.ravel(p) for p in jaxlite.tree.leaves(ref)])
        print(
            f"one process, full batches: loss {float(ref_loss):.4f}, test accuracy "
            f"{float(accuracy(ref, x_test, y_test)):.2%}; max |parameter difference| "
            f"{np.abs(flat - ref_flat).max():.2e} (parameters up to {np.abs(ref_flat).max():.2f})"
        )
    multihost_utils.sync_global_devices("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
