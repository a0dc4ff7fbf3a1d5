"""The runtime library's tiers (jaxlite/backend/compile.py, `_process_tier`): on a cache without
the tuned build, a process's kernels link the basic build (BLAS for every product) while the
tuned one compiles in a detached process, once per key; later processes use the tuned build;
a failed background build is reported to the processes that come next, not raised.

Each test runs fresh Python processes on its own temporary cache directory, with the runtime
tiers on (the session itself runs with them off: tests/conftest.py) and -O0 appended to every
compilation (JAXLITE_CFLAGS) so that the tuned build takes a second, not six.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from test_runtime_library import compilations, compiler

from jaxlite.backend import compile as cb

# NB: the product's path is BLAS in both tiers (the tuned build is told so): the same numbers
RUN = textwrap.dedent(
    """
    import sys, hashlib, numpy as np, jaxlite, jaxlite.numpy as jnp
    cb = sys.modules["jaxlite.backend.compile"]
    cc = cb.find_compiler()
    if sys.argv[1] == "blas":  # the tuned build's choice: BLAS for every class
        lib, n = cb.runtime_library(cc), 8
        cb.set_gemm_choice(lib, cb.runtime_tag(cc), {d: [3] * n for d in ("float32", "float64")})
    x = np.linspace(-1, 1, 96 * 80, dtype=np.float32).reshape(96, 80)
    y = jaxlite.jit(lambda a, b: jnp.tanh(a @ b) * 2.0)(x, x.T[:, :72])
    ref = np.tanh(x.astype(np.float64) @ x.T[:, :72].astype(np.float64)) * 2
    assert np.abs(np.asarray(y) - ref).max() < 1e-5
    print(cb._process_tier(cc), hashlib.sha256(np.asarray(y).tobytes()).hexdigest())
    """
)


def start(cache, cc, mode="", **env) -> subprocess.Popen:
    full = dict(os.environ, JAXLITE_CACHE_DIR=str(cache), JAXLITE_CC=cc, JAXLITE_CFLAGS="-O0")
    full.update({"JAXLITE_RUNTIME_TIERS": "1", **env})
    return subprocess.Popen([sys.executable, "-c", RUN, mode], env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def result(proc) -> tuple[list[str], str]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out.split(), err


def wait(cache, cc) -> None:
    env = dict(os.environ, JAXLITE_CACHE_DIR=str(cache), JAXLITE_CC=cc, JAXLITE_CFLAGS="-O0")
    code = "from jaxlite.backend import compile as c; assert c.wait_runtime_build(timeout=280)"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)


def tuned_builds(lines):
    return [ln for ln in lines if "-fno-tree-loop-vectorize" in ln and "JL_RT_BASIC" not in ln]


def test_basic_first_then_tuned_once_with_the_same_numbers(tmp_path):
    cc, log = compiler(tmp_path)
    cache = tmp_path / "cache"
    # two new processes at once on a new machine: both on the basic tier, one tuned build
    first = [start(cache, cc), start(cache, cc)]
    (tier_a, digest), _ = result(first[0])
    (tier_b, digest_b), _ = result(first[1])
    assert tier_a == tier_b == "True" and digest == digest_b
    wait(cache, cc)
    lines = compilations(log)
    assert len(tuned_builds(lines)) == 1, lines
    basic = [ln for ln in lines if "-DJL_RT_BASIC" in ln]
    assert basic and all("-fno-tree-loop-vectorize" not in ln for ln in basic)
    # kernels were compiled for the basic build's tag, never for the tuned one's
    tags = {w for ln in basic for w in ln.split() if w.startswith("-DJL_RT_TAG=")}
    kernel_tags = {w for ln in lines if ln not in basic and ln not in tuned_builds(lines)
                   for w in ln.split() if w.startswith("-DJL_RT_TAG=")}  # fmt: skip
    assert kernel_tags == tags, lines
    # a later process: the tuned build, from the cache, and the same numbers on the same path
    (tier, digest2), _ = result(start(cache, cc, "blas"))
    assert tier == "False" and digest2 == digest
    lines2 = compilations(log)
    assert len(tuned_builds(lines2)) == 1  # not built again
    new_tags = {w for ln in lines2[len(lines) :] for w in ln.split() if "JL_RT_TAG" in w}
    assert len(new_tags) == 1 and new_tags != tags  # its kernel calls the tuned build


def test_a_failed_background_build_is_reported_not_fatal(tmp_path):
    cc, log = compiler(tmp_path, fail_on="-fno-tree-loop-vectorize")  # the tuned build only
    cache = tmp_path / "cache"
    (tier, digest), err = result(start(cache, cc))
    assert tier == "True" and "Warning" not in err
    wait(cache, cc)
    failed = [f for f in os.listdir(cache) if f.endswith(".failed")]
    assert len(failed) == 1 and not any(f.endswith(".so.tmp") for f in os.listdir(cache))
    # the next process says why and runs on the basic tier; it does not try again
    (tier2, digest2), err = result(start(cache, cc))
    assert tier2 == "True" and digest2 == digest
    assert "background build of jaxlite's tuned runtime library" in err, err
    assert "no, not -fno-tree-loop-vectorize" in err and failed[0] in err
    assert len(tuned_builds(compilations(log))) == 1


def test_one_build_per_key_while_its_lock_is_held(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXLITE_CACHE_DIR", str(tmp_path))
    cc = cb.find_compiler()
    key = cb._runtime_key(cc)[1]
    fd = cb._lock_file(str(tmp_path), key)
    assert fd is not None
    try:
        assert cb._lock_file(str(tmp_path), key) is None  # a second builder would wait
        assert not cb._start_tuned_build(cc, key, str(tmp_path))
        assert not cb.wait_runtime_build(cc, timeout=0.1)
    finally:
        os.close(fd)
    assert cb.wait_runtime_build(cc, timeout=5)


def test_the_tiers_have_their_own_tags():
    cc = cb.find_compiler()
    assert cb.runtime_tag(cc) != cb.runtime_tag(cc, basic=True)
    assert cb._runtime_key(cc)[1] != cb._runtime_key(cc, basic=True)[1]
