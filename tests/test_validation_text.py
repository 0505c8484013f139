"""core.validation: a pydantic ValidationError as one line, `where: what` per problem."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, RootModel, ValidationError

from core.validation import describe_validation


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    items: list[Inner] = []


def refused(model: type[BaseModel], data: object) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        model.model_validate(data)
    return error.value


def test_each_problem_is_its_location_and_message() -> None:
    error = refused(Outer, {"name": 3, "items": [{"size": "big"}]})
    assert describe_validation(error, "record") == (
        "name: Input should be a valid string; items.0.size: Input should be a valid integer, unable to parse string "
        "as an integer"
    )


def test_an_extra_field_is_called_unknown() -> None:
    error = refused(Outer, {"name": "a", "colour": "red"})
    assert describe_validation(error, "record") == "colour: unknown field"


def test_a_problem_with_the_whole_input_is_named_by_the_caller() -> None:
    error = refused(RootModel[int], "x")
    assert describe_validation(error, "query").startswith("query: Input should be a valid integer")


def test_past_the_limit_only_the_count_is_given() -> None:
    error = refused(Outer, {"items": [{"size": "x"}] * 4, "extra": 1})
    assert describe_validation(error, "record", limit=2) == (
        "name: Field required; items.0.size: Input should be a valid integer, unable to parse string as an integer; "
        "and 4 more"
    )


def test_locate_renames_where() -> None:
    error = refused(Outer, {"name": 1})
    assert describe_validation(error, "x", locate=lambda detail: f"--{detail['loc'][0]}") == (
        "--name: Input should be a valid string"
    )
