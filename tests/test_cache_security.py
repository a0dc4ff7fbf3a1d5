"""The compile cache as an attack surface: jit must never load a library someone else planted.

The cache directory is created private (0700) and its entries too; a directory or entry that
another user owns or can write is never loaded from (the directory is replaced by a private
temporary one with a warning; the entry is removed and rebuilt); a tampered or truncated entry is
removed and rebuilt. The planted libraries here have a constructor that writes a marker file, so
"never loaded" is checked directly. User strings (function names, pytree keys, static arguments,
names of functions passed to custom_jvp and control flow) never reach the C unescaped: the C is
run through the real preprocessor and must not contain the payload.

Each cache test runs fresh Python processes on its own temporary cache directory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import lax
from jaxlite.backend import compile as jl_compile

PROGRAM = textwrap.dedent(
    """
    import numpy as np
    import jaxlite, jaxlite.numpy as jnp
    f = jaxlite.jit(lambda x: jnp.tanh(x) * 3.25 + 0.5)
    g = jaxlite.jit(lambda x: jnp.cumsum(x[::-1]) - 1.0)
    x = np.linspace(-1, 1, 7, dtype=np.float32)  # float32: the default mode (x64 off)
    assert np.allclose(f(x), np.tanh(x) * 3.25 + 0.5, atol=1e-6)
    assert np.allclose(g(x), np.cumsum(x[::-1]) - 1.0, atol=1e-6)
    print("ok")
    """
)
OTHER_UID = 65534  # nobody


def run(cache, code: str = PROGRAM, **env) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, JAXLITE_CACHE_DIR=str(cache), **env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def libraries(cache) -> list[str]:
    return sorted(glob.glob(os.path.join(cache, "*.so")))


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def checksum_ok(so: str) -> bool:
    with open(so, "rb") as f, open(so + ".sha256") as g:
        return hashlib.sha256(f.read()).hexdigest() == g.read().strip()


@pytest.fixture
def payload(tmp_path):
    """(bytes of a library that writes a marker file when loaded, the marker's path)."""
    marker = tmp_path / "PWNED"
    src = tmp_path / "payload.c"
    src.write_text(
        "#include <stdio.h>\n"
        "__attribute__((constructor)) static void pwn(void) {\n"
        f'  FILE *f = fopen("{marker}", "w"); if (f) {{ fputs("pwned", f); fclose(f); }}\n'
        "}\n"
        "int jl_kernel(void) { return 0; }\n"
    )
    so = tmp_path / "payload.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    return so.read_bytes(), marker


def plant(so: str, data: bytes, matching_checksum: bool) -> None:
    """Replaces a cache entry's library by `data` (with its checksum, or keeping the old one)."""
    os.chmod(so, 0o700)
    with open(so, "wb") as f:
        f.write(data)
    if matching_checksum:
        with open(so + ".sha256", "w") as f:
            f.write(hashlib.sha256(data).hexdigest())


def warm_cache(tmp_path) -> str:
    cache = tmp_path / "warm"
    out = run(cache)
    assert out.stdout.strip() == "ok", out.stderr
    assert len(libraries(cache)) == 2
    return str(cache)


# ------------------------------------------------------------------------------------------
# Modes and owners
# ------------------------------------------------------------------------------------------


def test_cache_directory_and_entries_are_created_private_even_with_umask_0(tmp_path):
    cache = tmp_path / "a" / "b" / "cache"  # parents missing too
    out = run(cache, "import os; os.umask(0)\n" + PROGRAM)
    assert out.stdout.strip() == "ok", out.stderr
    assert mode(cache) == 0o700
    files = os.listdir(cache)
    assert any(f.endswith(".so") for f in files) and any(f.endswith(".c") for f in files)
    for name in files:
        assert mode(cache / name) & 0o077 == 0, (name, oct(mode(cache / name)))
    assert "RuntimeWarning" not in out.stderr, out.stderr


def make_untrusted(path, how: str) -> None:
    if how == "writable by others":
        os.chmod(path, 0o777)
    elif how == "writable by its group":
        os.chmod(path, 0o770)
    else:
        try:
            os.chown(path, OTHER_UID, OTHER_UID)
        except PermissionError:
            pytest.skip("changing a file's owner needs root")


@pytest.mark.parametrize("how", ["writable by others", "writable by its group",
                                 "owned by another user"])  # fmt: skip
def test_untrusted_cache_directory_is_never_loaded_from(tmp_path, payload, how):
    warm = warm_cache(tmp_path)
    d = tmp_path / "shared"
    d.mkdir(mode=0o700)
    # Someone plants libraries under the very names jit will look for, with valid checksums.
    for so in libraries(warm):
        target = str(d / os.path.basename(so))
        shutil.copy(so, target)
        plant(target, payload[0], matching_checksum=True)
    make_untrusted(d, how)
    before = sorted(os.listdir(d))
    out = run(d)
    assert out.stdout.strip() == "ok", out.stderr
    assert not payload[1].exists(), "a planted library was loaded"
    assert out.stderr.count("is not used because") == 1, out.stderr
    reason = "owned by another user" if how.startswith("owned") else "writable by other users"
    assert reason in out.stderr and "private temporary directory" in out.stderr
    assert sorted(os.listdir(d)) == before  # nothing written there either


@pytest.mark.parametrize("how", ["writable by others", "owned by another user"])
def test_untrusted_entry_is_removed_and_rebuilt_never_loaded(tmp_path, payload, how):
    cache = warm_cache(tmp_path)
    victim = libraries(cache)[0]
    plant(victim, payload[0], matching_checksum=True)  # a checksum cannot help here
    make_untrusted(victim, how)
    out = run(cache)
    assert out.stdout.strip() == "ok", out.stderr
    assert not payload[1].exists(), "a planted library was loaded"
    assert "is not trusted" in out.stderr and how.split()[0] in out.stderr, out.stderr
    assert checksum_ok(victim) and mode(victim) & 0o077 == 0
    assert os.stat(victim).st_uid == os.geteuid()


# ------------------------------------------------------------------------------------------
# Checksums
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["planted library", "truncated", "checksum removed",
                                    "empty library"])  # fmt: skip
def test_tampered_entry_is_removed_and_rebuilt_never_loaded(tmp_path, payload, damage):
    cache = warm_cache(tmp_path)
    victim = libraries(cache)[1]
    if damage == "planted library":
        plant(victim, payload[0], matching_checksum=False)
    elif damage == "truncated":
        with open(victim, "r+b") as f:
            f.truncate(os.path.getsize(victim) // 2)
    elif damage == "checksum removed":
        os.remove(victim + ".sha256")
    else:
        open(victim, "wb").close()
    out = run(cache)
    assert out.stdout.strip() == "ok", out.stderr
    assert not payload[1].exists(), "a planted library was loaded"
    if damage != "checksum removed":  # (a missing checksum is an entry not yet written)
        assert "does not match its checksum" in out.stderr, out.stderr
    assert checksum_ok(victim)
    assert len(libraries(cache)) == 2


# ------------------------------------------------------------------------------------------
# Hostile names never reach the C unescaped
# ------------------------------------------------------------------------------------------

PAYLOAD = 'int jl_pwned = 1; void jl_evil(void) { system("touch /tmp/jl_pwned"); }'
HOSTILE = [
    f"*/ {PAYLOAD} /*",
    f"a*\\\n/ {PAYLOAD} /*",  # backslash-newline splices lines even inside a comment
    f"a*\\ \n/ {PAYLOAD} /*",  # (gcc: also with blanks before the newline)
    f"a*??/\n/ {PAYLOAD} /*",  # the trigraph ??/ is a backslash in -std=c99
    f"a*\\\r/ {PAYLOAD} /*",  # a lone CR ends a line too
    f"a*\\\r\n/ {PAYLOAD} /*",
    f"a*\\\f\n/ {PAYLOAD} /*",
    f"\n#define jl_kernel jl_other\n*/ {PAYLOAD} /*",
    f'"\'`\\"\\0\x00\x1b[31m*/{PAYLOAD}/*\u2028\u00e9',
]


def preprocessed(source: str, tmp_path) -> str:
    """The C after the real preprocessor (comments removed, lines spliced, trigraphs replaced)."""
    path = tmp_path / "kernel.c"
    path.write_text(source, encoding="utf-8")
    cc = jl_compile.find_compiler()
    res = subprocess.run([*cc, "-std=c99", "-E", "-I", jl_compile.CSRC_DIR, str(path)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return res.stdout


def named(fn, name):
    fn.__name__ = fn.__qualname__ = name
    return fn


def sources_with_hostile_name(name: str):
    """(what, jitted function, arguments, expected) whose C might carry `name`."""
    x = np.linspace(-1.0, 1.0, 5)
    f = named(lambda x: x * 2.0 + 1.0, name)
    yield "function name", jaxlite.jit(f), (x,), x * 2 + 1

    inner = jaxlite.jit(named(lambda x: jnp.sin(x) * 3.0, name))
    yield "nested jit", jaxlite.jit(lambda x: inner(x) + 1.0), (x,), np.sin(x) * 3 + 1

    yield "pytree key", jaxlite.jit(lambda d: d[name] * 2.0), ({name: x, "b": x},), x * 2

    g = jaxlite.jit(lambda x, tag: x * len(tag), static_argnums=1)
    yield "static argument", g, (x, name), x * len(name)

    cj = jaxlite.custom_jvp(named(lambda x: jnp.exp(x), name))
    cj.defjvp(named(lambda p, t: (jnp.exp(p[0]), jnp.exp(p[0]) * t[0]), name))
    yield "custom_jvp", jaxlite.jit(cj), (x,), np.exp(x)

    cv = jaxlite.custom_vjp(named(lambda x: x * x, name))
    cv.defvjp(named(lambda x: (x * x, x), name), named(lambda r, g: (2 * r * g,), name))
    yield "custom_vjp", jaxlite.jit(cv), (x,), x * x

    branch = named(lambda x: x + 1.0, name)
    c = jaxlite.jit(lambda p, x: lax.cond(p, branch, named(lambda x: x - 1.0, name), x))
    yield "cond branches", c, (True, x), x + 1

    body = named(lambda i, v: v * 2.0, name)
    yield "fori_loop body", jaxlite.jit(lambda x: lax.fori_loop(0, 3, body, x)), (x,), x * 8

    step = named(lambda c, v: (c + v, c), name)
    yield "scan body", jaxlite.jit(lambda x: lax.scan(step, 0.0, x)[0]), (x,), np.sum(x)


@pytest.mark.parametrize("k", range(len(HOSTILE)))
def test_hostile_names_never_reach_the_c_unescaped(k, tmp_path):
    name = HOSTILE[k]
    for what, fn, args, want in sources_with_hostile_name(name):
        source = fn.lower(*args).as_c()
        code = preprocessed(source, tmp_path)
        assert "jl_pwned" not in code and "jl_evil" not in code, (what, source)
        assert "jl_other" not in code and "jl_kernel" in code, (what, source)
        for line in source.splitlines():  # every user string sits inside one-line comments
            assert "jl_pwned" not in line or line.lstrip().startswith("/*"), (what, line)
        np.testing.assert_allclose(np.asarray(fn(*args)), want, rtol=1e-12, err_msg=what)


def test_comment_text_escapes_everything_that_could_end_a_comment():
    from jaxlite.backend.lower import comment_text

    for name in HOSTILE:
        text = comment_text(name)
        assert "*/" not in text and text.isascii() and text.isprintable(), repr(text)
    assert comment_text("plain name_1 (x:f32[3])") == "plain name_1 (x:f32[3])"
    assert comment_text("a\nb", "\n   ") == "a\n   b"
