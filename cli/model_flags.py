"""Command-line flags made from a pydantic model, and the model made back from the parsed flags.

Each field becomes `--field-name` (underscores to dashes): its `description` is the help, its default is shown
there, its annotation picks the parsing (int, float, str, Path, a Literal's choices, bool as `--x/--no-x`), and
`json_schema_extra={"group": ...}` files it under a section of the help. A field whose `Annotated` metadata has
`parse`, `show` and `metavar` (a TextForm, e.g. loaders.options.SizeText) is read and shown through those.

Flags left out keep no value at all, so the model applies its own defaults: the defaults are written once, in the
model.

    groups = add_model_flags(parser, LoadOptions, aliases={"max_chunk_bytes": ("--chunk-bytes",)})
    options = model_from_flags(LoadOptions, parser.parse_args())  # FlagError names the flag when a value is refused
"""

from __future__ import annotations

import argparse
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, Union, get_args, get_origin, runtime_checkable

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from core.validation import describe_validation

Model = TypeVar("Model", bound=BaseModel)
ArgumentGroup = argparse._ArgumentGroup

# Plain types a flag parses its text into, and what the help calls the value.
_PLAIN: dict[type, str] = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}


@runtime_checkable
class TextForm(Protocol):
    """How a field's value is written on the command line (kept by the model, in its field's `Annotated` metadata)."""

    metavar: str

    def parse(self, text: str) -> Any: ...

    def show(self, value: Any) -> str: ...


class FlagError(ValueError):
    """The flags' values do not make a valid model; the message names the flags."""


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def add_model_flags(
    parser: argparse.ArgumentParser,
    model: type[BaseModel],
    *,
    aliases: Mapping[str, Sequence[str]] | None = None,
    default_group: str | None = None,
) -> dict[str, ArgumentGroup]:
    """A flag for each field of `model` (see the module docstring); returns the help sections by name.

    `aliases` gives fields further spellings (ones a command has always accepted, say). Fields without a group go
    to `default_group`, or straight on the parser.
    """
    groups: dict[str, ArgumentGroup] = {}
    for name, field in model.model_fields.items():
        group_name = _group_name(field) or default_group
        target: argparse.ArgumentParser | ArgumentGroup = parser
        if group_name is not None:
            if group_name not in groups:
                groups[group_name] = parser.add_argument_group(group_name)
            target = groups[group_name]
        spellings = [flag_name(name), *(aliases or {}).get(name, ())]
        target.add_argument(*spellings, dest=name, default=argparse.SUPPRESS, **_parsing(name, field))
    return groups


def model_from_flags(model: type[Model], args: argparse.Namespace) -> Model:
    """The model from the flags that were given; FlagError when their values do not make a valid one."""
    given = {name: getattr(args, name) for name in model.model_fields if hasattr(args, name)}
    try:
        return model.model_validate(given)
    except ValidationError as error:
        raise FlagError(describe_validation(error, "options", locate=_locate_flag)) from None


def _locate_flag(detail: ErrorDetails) -> str:
    location = detail["loc"]
    if not location:
        return "options"
    return ".".join([flag_name(str(location[0])), *(str(part) for part in location[1:])])


def _group_name(field: FieldInfo) -> str | None:
    extra = field.json_schema_extra
    group = extra.get("group") if isinstance(extra, dict) else None
    return group if isinstance(group, str) else None


def _parsing(name: str, field: FieldInfo) -> dict[str, Any]:
    """add_argument's keywords for a field: how the text is parsed, and the help."""
    default = field.get_default(call_default_factory=True)
    form = next((item for item in field.metadata if isinstance(item, TextForm)), None)
    kind = _without_none(field.annotation)
    if form is not None:
        keywords: dict[str, Any] = {"type": _text_parser(form.parse, name), "metavar": form.metavar}
        shown = None if default is None else form.show(default)
    elif kind is bool:
        keywords = {"action": argparse.BooleanOptionalAction}
        shown = None if default is None else ("on" if default else "off")
    elif get_origin(kind) is Literal:
        choices = get_args(kind)
        keywords = {"choices": choices, "type": type(choices[0])}
        shown = None if default is None else str(default)
    elif isinstance(kind, type) and kind in _PLAIN:
        keywords = {"type": kind, "metavar": _PLAIN[kind]}
        shown = None if default is None else str(default)
    else:
        raise TypeError(f"{name}: no command-line form for {field.annotation!r}; mark it with a TextForm")
    help_text = field.description or ""
    if shown is not None:
        help_text = f"{help_text} (default: {shown})" if help_text else f"default: {shown}"
    # argparse expands %-formats in help; a literal % would break --help.
    keywords["help"] = help_text.replace("%", "%%")
    return keywords


def _without_none(annotation: Any) -> Any:
    """`X | None` → X: a flag that is absent already stands for None."""
    if get_origin(annotation) in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(present) == 1:
            return present[0]
    return annotation


def _text_parser(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    def parsed(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            # An ArgumentTypeError's text is shown as it is; other errors become "invalid parse value".
            raise argparse.ArgumentTypeError(str(error)) from error

    parsed.__name__ = name
    return parsed
