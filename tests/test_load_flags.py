"""`llmsearch load`'s flags, made from LoadOptions: every spelling the command has had still sets its option, each
option has a flag, and the help shows the options' descriptions and defaults (no engine needed)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cli.load import add_parser
from cli.main import build_parser
from cli.model_flags import FlagError, flag_name, model_from_flags
from loaders.options import MIB, LoadOptions

# Every option flag `llmsearch load` had before its flags were generated, with a value and the option it sets.
HISTORIC_FLAGS: list[tuple[list[str], str, object]] = [
    (["--resume"], "resume", True),
    (["--checkpoint", "/tmp/c.json"], "checkpoint_path", Path("/tmp/c.json")),
    (["--dead-letter", "/tmp/d.ndjson"], "dead_letter_path", Path("/tmp/d.ndjson")),
    (["--state-dir", "/tmp/state"], "state_dir", Path("/tmp/state")),
    (["--checkpoint-interval", "0.05"], "checkpoint_interval", 0.05),
    (["--concurrency", "3"], "concurrency", 3),
    (["--chunk-size", "250"], "chunk_size", 250),
    (["--chunk-bytes", "5mb"], "max_chunk_bytes", 5 * MIB),
    (["--max-document-bytes", "64kb"], "max_document_bytes", 64 * 1024),
    (["--max-retries", "2"], "max_retries", 2),
    (["--backfill", "on"], "backfill", "on"),
    (["--progress", "lines"], "progress", "lines"),
    (["--progress-interval", "0.05"], "progress_interval", 0.05),
]


def parse(*flags: str) -> LoadOptions:
    return model_from_flags(LoadOptions, build_parser().parse_args(["load", "x.ndjson", *flags]))


@pytest.mark.parametrize(("flags", "field", "value"), HISTORIC_FLAGS)
def test_historic_spellings_still_set_their_option(flags: list[str], field: str, value: object) -> None:
    assert getattr(parse(*flags), field) == value


def test_no_flags_give_the_default_options_and_the_explicit_flags_stay() -> None:
    args = build_parser().parse_args(["load", "synthetic", "--tenant", "t", "--count", "7", "--json"])
    assert model_from_flags(LoadOptions, args) == LoadOptions()
    assert (args.tenant, args.count, args.seed, args.table, args.schema, args.json) == (
        "t",
        7,
        0,
        "Request",
        "public",
        True,
    )


def test_every_option_has_a_flag_with_its_description_and_default_in_the_help() -> None:
    commands = argparse.ArgumentParser(prog="llmsearch").add_subparsers()
    add_parser(commands)
    text = " ".join(commands.choices["load"].format_help().split())
    for name, field in LoadOptions.model_fields.items():
        assert flag_name(name) in text
        assert field.description and " ".join(field.description.split()) in text, name
    assert "bytes per bulk request (default: 10mb)" in text
    assert "larger records are rejected (default: 32mb)" in text
    assert "bulk requests in flight (default: 2)" in text
    assert "--apply-templates, --no-apply-templates" in text


def test_a_value_the_options_refuse_names_the_flag() -> None:
    with pytest.raises(FlagError, match=r"^--concurrency: Input should be less than or equal to 64$"):
        parse("--concurrency", "65")
