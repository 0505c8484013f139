"""Text templates with `{slot}`s, compiled once: filling one is then a single `str.format` call in C."""

from __future__ import annotations

import string
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Template:
    source: str  # as written in the data files
    text: str  # the source with each slot occurrence as `{}`
    slots: tuple[str, ...]  # the slot name of each `{}` in `text`, in order, repeats included

    @classmethod
    def compile(cls, source: str) -> Template:
        text: list[str] = []
        slots: list[str] = []
        for literal, name, spec, conversion in string.Formatter().parse(source):
            text.append(literal.replace("{", "{{").replace("}", "}}"))
            if name is None:
                continue
            # Slots are looked up by name in a table, so anything else (`{0}`, `{x.y}`, `{x:>5}`) is a typo.
            if not name.isidentifier() or spec or conversion:
                raise ValueError(f"template {source!r}: {{{name}}} is not a plain slot name")
            text.append("{}")
            slots.append(name)
        return cls(source, "".join(text), tuple(slots))
