"""cli.model_flags: a pydantic model's fields as argparse flags (names, types, choices, help with defaults,
sections, aliases) and the model back from what was given, with errors named by flag."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from cli.model_flags import FlagError, add_model_flags, flag_name, model_from_flags


@dataclass(frozen=True)
class Hex:
    """A TextForm: the value is written in hexadecimal."""

    metavar: str = "HEX"

    def parse(self, text: str) -> int:
        return int(text, 16)

    def show(self, value: object) -> str:
        return hex(value) if isinstance(value, int) else str(value)


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    worker_count: int = Field(default=2, ge=1, description="workers to run", json_schema_extra={"group": "work"})
    pause: float = Field(default=0.5, gt=0, description="seconds between rounds, 100% idle")
    mode: Literal["fast", "slow"] = Field(default="fast", description="how to run")
    out: Path | None = Field(default=None, description="where results go (default: stdout)")
    verbose: bool = Field(default=False, description="say more")
    color: bool = True
    mask: Annotated[int, Hex()] = Field(default=255, description="bits to keep", json_schema_extra={"group": "work"})
    name: str = "x"


def parser_for(
    model: type[BaseModel] = Sample,
    aliases: Mapping[str, Sequence[str]] | None = None,
    default_group: str | None = None,
) -> tuple[argparse.ArgumentParser, list[str]]:
    parser = argparse.ArgumentParser(prog="sample")
    groups = add_model_flags(parser, model, aliases=aliases, default_group=default_group)
    return parser, list(groups)


def test_flag_names_come_from_field_names() -> None:
    assert flag_name("max_document_bytes") == "--max-document-bytes"
    parser, _ = parser_for()
    flags = "--worker-count 4 --pause 1.5 --mode slow --out r.txt --verbose --no-color --mask ff0 --name y"
    args = parser.parse_args(flags.split())
    assert model_from_flags(Sample, args) == Sample(
        worker_count=4, pause=1.5, mode="slow", out=Path("r.txt"), verbose=True, color=False, mask=0xFF0, name="y"
    )


def test_absent_flags_leave_the_model_defaults() -> None:
    parser, _ = parser_for()
    args = parser.parse_args([])
    assert not any(hasattr(args, name) for name in Sample.model_fields)
    assert model_from_flags(Sample, args) == Sample()


def test_help_has_descriptions_defaults_sections_and_forms() -> None:
    parser, groups = parser_for()
    assert groups == ["work"]
    text = " ".join(parser.format_help().split())
    assert "work: --worker-count N workers to run (default: 2)" in text
    assert "--mask HEX bits to keep (default: 0xff)" in text
    assert "seconds between rounds, 100% idle (default: 0.5)" in text
    assert "--mode {fast,slow} how to run (default: fast)" in text
    assert "--out PATH where results go (default: stdout)" in text  # a None default is not shown
    assert "--verbose, --no-verbose say more (default: off)" in text
    assert "--color, --no-color default: on" in text


def test_choices_and_text_forms_are_checked_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    parser, _ = parser_for()
    for bad in (["--mode", "medium"], ["--mask", "xyz"], ["--worker-count", "two"]):
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args(bad)
        assert stopped.value.code == 2
    assert "invalid literal for int() with base 16: 'xyz'" in capsys.readouterr().err


def test_aliases_and_a_default_group() -> None:
    parser, groups = parser_for(aliases={"worker_count": ("--workers", "-w")}, default_group="other")
    assert groups == ["work", "other"]
    assert model_from_flags(Sample, parser.parse_args(["-w", "3"])).worker_count == 3
    assert model_from_flags(Sample, parser.parse_args(["--workers", "5"])).worker_count == 5
    assert model_from_flags(Sample, parser.parse_args(["--worker-count", "6"])).worker_count == 6


def test_values_the_model_refuses_are_named_by_flag() -> None:
    parser, _ = parser_for()
    with pytest.raises(FlagError) as refused:
        model_from_flags(Sample, parser.parse_args(["--worker-count", "0", "--pause", "0"]))
    assert str(refused.value) == (
        "--worker-count: Input should be greater than or equal to 1; --pause: Input should be greater than 0"
    )


def test_a_field_with_no_command_line_form_is_refused_when_the_parser_is_built() -> None:
    class Nested(BaseModel):
        tags: list[str] = []

    with pytest.raises(TypeError, match="tags"):
        parser_for(Nested)
