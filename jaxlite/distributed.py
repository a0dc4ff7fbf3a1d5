"""`jaxlite.distributed`: several processes over MPI (through mpi4py), one CPU device each.

Launch the same script on N ranks (`mpiexec -n 4 python train.py`) and call
`jaxlite.distributed.initialize()` first: then, as in JAX, `jaxlite.process_index()` is the
rank, `process_count()` the number of ranks, `devices()` has one CPU device per rank (device id
= rank) and `local_devices()` this rank's one. `jaxlite.pmap` over the global devices runs each
rank's shard in its own process, its collectives across ranks with MPI (`Allreduce`,
`Allgather`, `Alltoall`, `Isend`/`Recv` on the arrays' NumPy buffers, no copy through pickle).

Faults. After `initialize()`, an exception that escapes a rank's script is printed with the rank
and aborts every rank (`MPI.COMM_WORLD.Abort`), so no rank waits forever in a collective for a
rank that died (a rank that hangs without raising is not detected: bound the job with the
launcher: MPICH's `MPIEXEC_TIMEOUT=SECONDS mpiexec ...`). A pmapped function's ranks compare
the shapes and dtypes of their shards: one 16-byte all-reduce of a hash (computed once per
argument signature), started non-blocking before the kernel runs and waited for by its first
collective, so it overlaps the computation before that collective (a gradient's forward and
backward pass) and costs one small-message latency at most. The compiled collectives inside
then need no check (the same kernel on the same shapes runs the same collectives, and so does
its NumPy evaluation where a rank could not compile it); an eager collective (multihost_utils,
or pmap under `disable_jit`) compares its operand's. A mismatch raises on every rank, before any
data moves, a ValueError listing each rank's shapes. `JAXLITE_MPI_CHECK_SHAPES=0` drops the
comparison.

Paths that could differ between ranks take the same one on every rank: with `jax_debug_nans`,
the ranks agree on whose outputs hold invalid values and all raise (no rank re-runs the function
op by op, which would issue collectives the others do not); an eager loop with collectives whose
NumPy evaluation raised is not replayed op by op.

mpi4py and an MPI library are the optional extra `jaxlite[distributed]`
(`pip install 'jaxlite[distributed]'`; the `mpich` wheel puts `mpiexec` into the environment's
`bin/`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import traceback

import numpy as np

from jaxlite import _devices

__all__ = ["initialize", "is_initialized", "shutdown"]

INSTALL_HINT = (
    "pip install 'jaxlite[distributed]' (mpi4py and the mpich wheel, which provides mpiexec in "
    "the environment's bin/), then launch with `mpiexec -n N python script.py`"
)

_state: dict = {}
_lock = threading.Lock()


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(
            f"jaxlite.distributed needs mpi4py and an MPI library ({e}): {INSTALL_HINT}"
        ) from None
    return MPI


def initialize(coordinator_address=None, num_processes=None, process_id=None,
               local_device_ids=None, cluster_detection_method=None, initialization_timeout=300,
               coordinator_bind_address=None, *, abort_on_error: bool = True):  # fmt: skip
    """Joins the MPI job this process was launched in (`mpiexec`/`mpirun`): afterwards
    `process_index()` is the rank and `devices()` has one CPU device per rank.

    Args:
      coordinator_address, local_device_ids, cluster_detection_method, coordinator_bind_address,
        initialization_timeout: JAX's arguments; MPI's launcher does the rendezvous, so they are
        accepted and unused.
      num_processes, process_id: if given, checked against MPI's size and rank.
      abort_on_error: an uncaught exception on any rank prints its traceback (with the rank) and
        aborts all ranks (MPI_Abort), instead of leaving the others blocked in a collective.

    Raises:
      RuntimeError: mpi4py is not installed (the message says how to install it), or
        `initialize` was already called.
    """
    MPI = _mpi()
    with _lock:
        if _state.get("comm") is not None:
            raise RuntimeError("jaxlite.distributed.initialize should only be called once.")
        comm = MPI.COMM_WORLD
        rank, size = comm.Get_rank(), comm.Get_size()
        if num_processes is not None and num_processes != size:
            raise ValueError(
                f"jaxlite.distributed.initialize: num_processes={num_processes}, but MPI runs "
                f"{size} processes (set it with mpiexec -n)"
            )
        if process_id is not None and process_id != rank:
            raise ValueError(
                f"jaxlite.distributed.initialize: process_id={process_id}, but this is MPI rank "
                f"{rank}"
            )
        _state["comm"] = MPIComm(comm)
        _devices._set_process_layout(rank, size)
        if abort_on_error and size > 1:
            _install_abort_hook(comm)


def shutdown() -> None:
    """Leaves the job: back to one process, one device (MPI itself finalizes at exit)."""
    with _lock:
        comm = _state.pop("comm", None)
        if comm is not None:
            comm.comm.Barrier()
            _devices._set_process_layout(0, 1)
            hook = _state.pop("hook", None)
            if hook is not None and sys.excepthook is hook:
                sys.excepthook = _state.pop("prev_hook", sys.__excepthook__)


def is_initialized() -> bool:
    """Whether `initialize()` was called (and not `shutdown()`)."""
    return _state.get("comm") is not None


def world():
    """The communicator of all processes: `MPIComm` after `initialize()`, else None."""
    return _state.get("comm")


def _install_abort_hook(comm) -> None:
    prev = sys.excepthook

    def hook(tp, value, tb):
        text = "".join(traceback.format_exception(tp, value, tb))
        sys.stderr.write(
            f"[jaxlite rank {comm.Get_rank()}/{comm.Get_size()}] uncaught exception, aborting "
            f"all ranks:\n{text}"
        )
        sys.stderr.flush()
        comm.Abort(1)

    _state["prev_hook"] = prev
    _state["hook"] = hook
    sys.excepthook = hook


# ------------------------------------------------------------------------------------------
# The communicator the collectives run on (primitives/_collective.py's interface)
# ------------------------------------------------------------------------------------------

_OPS = {"sum": "SUM", "max": "MAX", "min": "MIN"}


def _checks_on() -> bool:
    return os.environ.get("JAXLITE_MPI_CHECK_SHAPES", "1") != "0"


class MPIComm:
    """NumPy collectives on an mpi4py communicator, in place on the arrays' buffers."""

    def __init__(self, comm):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self._MPI = _mpi()
        self._pending = None  # a shape check in flight (start_check)
        self._groups: dict = {}  # axis_index_groups -> the communicator of this rank's group

    # --- the shape check ------------------------------------------------------------------
    # NB: one 16-byte all-reduce (MIN of a signature's hash and of its negation: equal on every
    # rank iff min == -max); only a mismatch gathers the signatures themselves, for the message.
    # pmap starts it non-blocking (`start_check`) before running its kernel and the first MPI
    # operation after it waits for it (`_settle`), so it overlaps whatever the kernel computes
    # before its first collective; a mismatch raises there, on every rank, before any data moves.

    @staticmethod
    def token(sig: str) -> np.ndarray:
        """The buffer the ranks reduce to compare `sig` (computed once per signature)."""
        h = int.from_bytes(hashlib.blake2b(sig.encode(), digest_size=7).digest(), "little")
        return np.array([h, -h], np.int64)

    def check_same(self, x: np.ndarray, what: str) -> None:
        """Raises on every rank if the ranks' operands differ in shape or dtype."""
        self.check_same_signature(f"{x.dtype.str}{tuple(x.shape)}", what, "operands")

    def check_same_signature(self, sig: str, what: str, of: str) -> None:
        """Raises on every rank (listing each rank's `sig`) if the ranks' `sig` differ."""
        if _checks_on() and self.size > 1:
            self.start_check(self.token(sig), sig, what, of)
            self._settle()

    def start_check(self, token: np.ndarray, sig: str, what: str, of: str) -> None:
        """Starts comparing `token` (of `sig`) across ranks; the next MPI operation (or
        `finish_check`) waits for it and raises if the ranks' signatures differ."""
        if self._pending is not None:
            self._settle()
        buf = token.copy()
        req = self.comm.Iallreduce(self._MPI.IN_PLACE, buf, op=self._MPI.MIN)
        self._pending = (req, buf, sig, what, of)

    def finish_check(self) -> None:
        """Waits for a check `start_check` began (if still pending); raises on a mismatch."""
        if self._pending is not None:
            self._settle()

    def _settle(self) -> None:
        req, buf, sig, what, of = self._pending
        self._pending = None
        req.Wait()
        if buf[0] != -buf[1]:
            sigs = self.comm.allgather(sig)
            lines = "\n".join(f"  rank {r}: {s}" for r, s in enumerate(sigs))
            raise ValueError(
                f"{what}: the ranks' {of} differ in shape or dtype, so their collectives cannot "
                f"run together (every rank must run the same collectives on the same shapes):"
                f"\n{lines}"
            )

    def group(self, groups: tuple) -> MPIComm:
        """The communicator of this rank's group among `groups` (lax's `axis_index_groups`: a
        partition of the ranks), its ranks in the group's order; made (MPI_Comm_split, a
        collective: every rank reaches it at the same collective) once per partition."""
        if self._pending is not None:  # NB: the sub-communicator's operations wait for it too
            self._settle()
        sub = self._groups.get(groups)
        if sub is None:
            color, key = next((gi, g.index(self.rank)) for gi, g in enumerate(groups)
                              if self.rank in g)  # fmt: skip
            sub = self._groups[groups] = MPIComm(self.comm.Split(color, key))
        return sub

    def allreduce(self, x: np.ndarray, op: str, out: np.ndarray | None = None,
                  check: bool = True) -> np.ndarray:  # fmt: skip
        if self._pending is not None:
            self._settle()
        x = _contig(x)
        if check:
            self.check_same(x, f"all-reduce ({op})")
        out = np.empty_like(x) if out is None else out
        if x.dtype == np.bool_:  # NB: MPI's logical ops on bytes
            op = {"sum": "LOR", "max": "LOR", "min": "LAND"}[op]
            self.comm.Allreduce(x.view(np.uint8), out.view(np.uint8), op=getattr(self._MPI, op))
            return out
        self.comm.Allreduce(x, out, op=getattr(self._MPI, _OPS[op]))
        return out

    def allgather(self, x: np.ndarray, out: np.ndarray | None = None,
                  check: bool = True) -> np.ndarray:  # fmt: skip
        if self._pending is not None:
            self._settle()
        x = _contig(x)
        if check:
            self.check_same(x, "all_gather")
        out = np.empty((self.size,) + x.shape, x.dtype) if out is None else out
        self.comm.Allgather(_raw(x), _raw(out))
        return out

    def alltoall(self, chunks: np.ndarray, check: bool = True) -> np.ndarray:
        if self._pending is not None:
            self._settle()
        chunks = _contig(chunks)
        if check:
            self.check_same(chunks, "all_to_all")
        out = np.empty_like(chunks)
        self.comm.Alltoall(_raw(chunks), _raw(out))
        return out

    def ppermute(self, x: np.ndarray, perm, check: bool = True) -> np.ndarray:
        if self._pending is not None:
            self._settle()
        x = _contig(x)
        if check:
            self.check_same(x, "ppermute")
        out = np.zeros_like(x)
        send = [d for s, d in perm if s == self.rank]
        recv = [s for s, d in perm if d == self.rank]
        reqs = [self.comm.Isend(_raw(x), dest=d, tag=77) for d in send]
        for s in recv:
            self.comm.Recv(_raw(out), source=s, tag=77)
        self._MPI.Request.Waitall(reqs)
        return out

    def bcast(self, x: np.ndarray, root: int) -> np.ndarray:
        if self._pending is not None:
            self._settle()
        x = _contig(x)
        self.check_same(x, "broadcast")
        out = x.copy()
        self.comm.Bcast(_raw(out), root=root)
        return out

    def barrier(self) -> None:
        if self._pending is not None:
            self._settle()
        self.comm.Barrier()

    def allgather_object(self, obj) -> list:
        if self._pending is not None:
            self._settle()
        return self.comm.allgather(obj)


def _raw(x: np.ndarray):
    # NB: bytes (the operand's dtype may have no MPI datatype, e.g. bool or float16); the
    # transfers that use it move whole elements, so the byte view is exact.
    return x.reshape(-1).view(np.uint8)


def _contig(x, dtype=None) -> np.ndarray:
    """`x` as a C-contiguous array of its own shape (np.ascontiguousarray makes a 0-d array 1-d)."""
    return np.asarray(x, dtype=dtype, order="C")
