"""A Wadler-Lindig pretty printer: the layout algorithm JAX uses to print jaxprs.

A document is built from text, breaks, groups and nests. A group prints on one line (its breaks as
their text) when the whole group fits in the remaining width, otherwise its breaks become newlines
indented by the enclosing nests. Port of jax/_src/pretty_printer.py without colors or annotations.
"""

from __future__ import annotations

from typing import NamedTuple
from collections.abc import Sequence


class Doc:
    __slots__ = ()

    def __add__(self, other: Doc) -> Doc:
        return Concat((self, other))

    def format(self, width: int = 80) -> str:
        return _format(self, width)


class Text(Doc):
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class Concat(Doc):
    __slots__ = ("children",)

    def __init__(self, children: Sequence[Doc]):
        self.children = tuple(children)


class Break(Doc):
    __slots__ = ("text",)

    def __init__(self, text: str = " "):
        self.text = text


class Group(Doc):
    __slots__ = ("child",)

    def __init__(self, child: Doc):
        self.child = child


class Nest(Doc):
    __slots__ = ("n", "child")

    def __init__(self, n: int, child: Doc):
        self.n = n
        self.child = child


NIL = Concat(())


def join(sep: Doc, docs: Sequence[Doc]) -> Doc:
    """`docs` separated by `sep`."""
    out: list[Doc] = []
    for i, d in enumerate(docs):
        if i:
            out.append(sep)
        out.append(d)
    return Concat(out)


def _fits(doc: Doc, width: int) -> bool:
    # NB: as in JAX (and unlike Lindig's paper), only the group itself must fit, not the rest of
    # the line after it.
    agenda = [doc]
    while width >= 0 and agenda:
        d = agenda.pop()
        if type(d) is Text or type(d) is Break:
            width -= len(d.text)
        elif type(d) is Concat:
            agenda.extend(reversed(d.children))
        else:
            agenda.append(d.child)
    return width >= 0


class _State(NamedTuple):
    indent: int
    flat: bool
    doc: Doc


def _format(doc: Doc, width: int) -> str:
    lines: list[str] = []
    line: list[str] = []
    col = 0
    agenda = [_State(0, False, doc)]
    while agenda:
        indent, flat, d = agenda.pop()
        t = type(d)
        if t is Text:
            line.append(d.text)
            col += len(d.text)
        elif t is Concat:
            agenda.extend(_State(indent, flat, c) for c in reversed(d.children))
        elif t is Break:
            if flat:
                line.append(d.text)
                col += len(d.text)
            else:
                lines.append("".join(line).rstrip())
                line = [" " * indent]
                col = indent
        elif t is Nest:
            agenda.append(_State(indent + d.n, flat, d.child))
        elif t is Group:
            agenda.append(_State(indent, flat or _fits(d, width - col), d.child))
        else:
            raise TypeError(f"not a pretty-printer document: {d!r}")
    lines.append("".join(line).rstrip())
    return "\n".join(lines)
