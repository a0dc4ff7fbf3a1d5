"""C identifiers for the exported function's arguments, from pytree paths.

User text (dict keys, attribute names, argument names) never reaches C unescaped: an identifier
keeps only ASCII letters, digits and underscores of it (every other character becomes `_`), is
prefixed when it would start with a digit or be a C keyword or reserved name, is cut to a
readable length, and is made unique with a numeric suffix. The original path is shown only
inside comments, through the backend's `comment_text` (which no text can close).
"""

from __future__ import annotations

import re

from jaxlite import tree_util

# C99's keywords, the macros of the headers the C includes, and `main`.
C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Bool _Complex _Imaginary bool true false NULL main
""".split())  # fmt: skip
# Names of the exported function's scope that no port may take (its parameter `workspace`;
# the header's `NAME_WORKSPACE_SIZE` macro; `name_kernel_`, `name_static_workspace_`).
RESERVED = frozenset({"workspace", "WORKSPACE", "kernel", "static_workspace"})
MAX_LEN = 48  # characters of user text kept in one identifier
_VALID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_function_name(name: str) -> str:
    """`name` if it is a valid, unreserved C identifier of at most 64 characters, else a
    ValueError saying what to pass instead."""
    if (
        not isinstance(name, str)
        or not _VALID.match(name)
        or name in C_KEYWORDS
        or name.startswith(("_", "jl_"))
        or len(name) > 64
    ):
        raise ValueError(
            f"jaxlite.export.to_c: name={name!r} is not usable as the C function's name: pass "
            "a C identifier (ASCII letters, digits and underscores, starting with a letter, not "
            "a C keyword, not starting with `_` or `jl_`, at most 64 characters), e.g. "
            "name='model'."
        )
    return name


def path_text(head: str, path: tuple) -> str:
    """The pytree path of a leaf as Python would index it: `params[0]['w']`, `state.mu`."""
    return head + tree_util.keystr(path)


def identifier(text: str) -> str:
    """`text` as a C identifier (not yet unique): letters, digits and `_` only."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", text)  # NB: ASCII only; any other character -> `_`
    ident = re.sub(r"_+", "_", ident).strip("_")[:MAX_LEN].rstrip("_") or "arg"
    if ident[0].isdigit() or ident in C_KEYWORDS or ident.startswith("jl_"):
        ident = "a_" + ident
    return ident


def path_identifier(head: str, path: tuple) -> str:
    """A C identifier for the leaf at `path` under `head`: `params[0]['w']` -> `params_0_w`."""
    parts = [head] + [str(tree_util._raw_key(k)) for k in path]
    return identifier("_".join(parts))


class Namer:
    """Hands out unique identifiers (a suffix `_2`, `_3`, ... on a clash)."""

    def __init__(self, taken=()):
        self.taken = set(taken) | {t.upper() for t in taken} | RESERVED

    def __call__(self, ident: str) -> str:
        out, k = ident, 1
        while out in self.taken or out.upper() in self.taken:
            k += 1
            out = f"{ident}_{k}"
        self.taken.add(out)
        self.taken.add(out.upper())  # NB: the header's macros use the upper-case name
        return out
