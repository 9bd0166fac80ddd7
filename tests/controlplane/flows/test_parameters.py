from __future__ import annotations

from typing import Any

import pytest

from controlplane.core.errors import ValidationFailed
from controlplane.flows.parameters import (
    PARAMETERS_MAX_BYTES,
    check_parameter_schema,
    check_parameters_size,
    serialized_size,
    validate_parameters,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "date": {"type": "string"},
        "retries": {"type": "integer", "minimum": 0},
        "config": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
        },
    },
    "required": ["date"],
    "$defs": {"Item": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}},
}


def _failure(schema: Any, parameters: Any, **kwargs: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        validate_parameters(schema, parameters, **kwargs)
    return caught.value


def test_parameters_up_to_the_limit_pass_and_one_byte_more_fails() -> None:
    overhead = serialized_size({"p": ""})
    at_limit = {"p": "x" * (PARAMETERS_MAX_BYTES - overhead)}
    assert serialized_size(at_limit) == PARAMETERS_MAX_BYTES
    check_parameters_size(at_limit)
    over = {"p": "x" * (PARAMETERS_MAX_BYTES - overhead + 1)}
    with pytest.raises(ValidationFailed) as caught:
        check_parameters_size(over)
    assert caught.value.status_code == 422
    assert "524288" in caught.value.message
    assert "512 KiB" in caught.value.message
    assert caught.value.details["limit_bytes"] == PARAMETERS_MAX_BYTES


def test_the_size_counts_utf8_bytes_not_characters() -> None:
    overhead = serialized_size({"p": ""})
    with pytest.raises(ValidationFailed):
        check_parameters_size({"p": "é" * ((PARAMETERS_MAX_BYTES - overhead) // 2 + 1)})


def test_the_size_limit_applies_even_without_a_schema() -> None:
    failure = _failure(None, {"p": "x" * PARAMETERS_MAX_BYTES})
    assert failure.details["limit_bytes"] == PARAMETERS_MAX_BYTES


def test_matching_parameters_pass() -> None:
    validate_parameters(SCHEMA, {"date": "2026-01-01", "retries": 2, "config": {"items": [{"id": 1}]}})


def test_every_failing_path_is_listed() -> None:
    failure = _failure(SCHEMA, {"retries": -1, "config": {"items": [{"id": 1}, {"id": "two"}, {}]}})
    assert failure.status_code == 422
    paths = failure.details["paths"]
    assert paths == sorted(["date", "retries", "config.items[1].id", "config.items[2].id"])
    assert all(set(error) == {"path", "message"} for error in failure.details["errors"])
    assert failure.message.startswith("Parameters do not match the parameter schema: date: ")
    assert failure.message.endswith("(and 1 more).")


def test_ignore_required_is_for_defaults_that_leave_parameters_to_each_run() -> None:
    validate_parameters(SCHEMA, {"retries": 1}, ignore_required=True)
    # Only the top level: a default that is given must still be complete.
    failure = _failure(SCHEMA, {"config": {"items": [{}]}}, ignore_required=True)
    assert failure.details["paths"] == ["config.items[0].id"]


def test_without_a_schema_any_object_passes_and_non_objects_fail() -> None:
    validate_parameters(None, {"anything": [1, 2]})
    validate_parameters({}, {"anything": [1, 2]})
    assert _failure(None, ["not", "an", "object"]).status_code == 422


def test_huge_error_lists_and_values_are_bounded() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    failure = _failure(schema, {f"p{index}": "x" * 2_000 for index in range(200)})
    assert len(failure.details["errors"]) == 50
    assert all(len(error["message"]) <= 300 for error in failure.details["errors"])


@pytest.mark.parametrize(
    ("schema", "named"),
    [
        ({"type": "objekt"}, "$.type"),
        ({"properties": {"a": {"minimum": "zero"}}}, "$.properties.a.minimum"),
        ({"required": "date"}, "$.required"),
    ],
)
def test_an_invalid_schema_is_refused_naming_the_problem(schema: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_parameter_schema(schema)
    assert caught.value.status_code == 422
    assert "not a valid JSON Schema" in caught.value.message
    assert named in caught.value.message


def test_schema_references_must_be_local_and_resolvable() -> None:
    check_parameter_schema(SCHEMA)
    with pytest.raises(ValidationFailed, match="only reference its own definitions"):
        check_parameter_schema({"properties": {"a": {"$ref": "https://example.com/schema.json"}}})
    with pytest.raises(ValidationFailed, match="does not define"):
        check_parameter_schema({"properties": {"a": {"$ref": "#/$defs/Missing"}}})


def test_deeply_nested_values_are_a_validation_error_not_a_crash() -> None:
    deep: Any = {}
    for _ in range(5000):
        deep = {"a": deep}
    with pytest.raises(ValidationFailed):
        validate_parameters(None, deep)
