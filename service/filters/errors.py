"""The one exception the filter parser raises."""

from __future__ import annotations

import json

from service.errors import printable


class FilterError(ValueError):
    """A filter the API cannot run. Its text is for the client: it names the rule, field, operator and value.

    `where` is the rule's path (`rules[2].rules[0]`, or the field key in the plain-map form), or None for the
    filter as a whole.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        # `where` can be a key the client wrote (the plain-map form): show it escaped, as values are.
        self.where = where if where is None else printable(where)
        super().__init__(f"{where}: {message}" if where else message)


def shown(value: object, limit: int = 60) -> str:
    """A value as the client wrote it (JSON), cut short so one huge value cannot flood the error message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
