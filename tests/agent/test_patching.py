"""JSON Patch (RFC 6902) as the serverless infrastructures apply `customizations`: the six ops, pointers, errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tether.agent.infrastructure import InfrastructureError
from tether.agent.infrastructure.patching import PatchError, apply_patch, parse_pointer

REQUEST: dict[str, Any] = {
    "cluster": "flows",
    "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "assignPublicIp": "ENABLED"}},
    "tags": [{"key": "team", "value": "data"}],
    "a/b": 1,
    "m~n": 2,
    "": "empty key",
}


def _patched(*operations: dict[str, Any]) -> Any:
    return apply_patch(REQUEST, list(operations))


def test_add_sets_a_member_inserts_into_an_array_and_appends_with_a_dash() -> None:
    result = _patched(
        {"op": "add", "path": "/platformVersion", "value": "1.4.0"},
        {"op": "add", "path": "/networkConfiguration/awsvpcConfiguration/subnets/1", "value": "subnet-x"},
        {"op": "add", "path": "/networkConfiguration/awsvpcConfiguration/subnets/-", "value": "subnet-z"},
        {"op": "add", "path": "/cluster", "value": "other"},  # add on an existing member replaces it
    )
    assert result["platformVersion"] == "1.4.0"
    assert result["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [
        "subnet-a",
        "subnet-x",
        "subnet-b",
        "subnet-z",
    ]
    assert result["cluster"] == "other"


def test_add_at_the_end_index_appends_and_past_it_fails() -> None:
    assert _patched({"op": "add", "path": "/tags/1", "value": {"key": "k", "value": "v"}})["tags"][1] == {
        "key": "k",
        "value": "v",
    }
    with pytest.raises(PatchError, match="index 3 is out of range"):
        _patched({"op": "add", "path": "/tags/3", "value": {}})


def test_remove_a_member_and_an_array_item() -> None:
    result = _patched(
        {"op": "remove", "path": "/networkConfiguration/awsvpcConfiguration/assignPublicIp"},
        {"op": "remove", "path": "/networkConfiguration/awsvpcConfiguration/subnets/0"},
    )
    assert result["networkConfiguration"] == {"awsvpcConfiguration": {"subnets": ["subnet-b"]}}


def test_replace_needs_an_existing_target() -> None:
    result = _patched({"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/subnets/1", "value": "s"})
    assert result["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == ["subnet-a", "s"]
    with pytest.raises(PatchError, match="'launchType' does not exist"):
        _patched({"op": "replace", "path": "/launchType", "value": "EC2"})


def test_replace_the_whole_document() -> None:
    assert _patched({"op": "replace", "path": "", "value": {"cluster": "x"}}) == {"cluster": "x"}


def test_move_and_copy() -> None:
    result = _patched(
        {"op": "copy", "from": "/networkConfiguration/awsvpcConfiguration/subnets/0", "path": "/first"},
        {"op": "move", "from": "/cluster", "path": "/tags/0/value"},
    )
    assert result["first"] == "subnet-a"
    assert "cluster" not in result
    assert result["tags"] == [{"key": "team", "value": "flows"}]
    # A copy is a value of its own: patching it leaves the source alone.
    copied = _patched(
        {"op": "copy", "from": "/tags/0", "path": "/tags/-"},
        {"op": "replace", "path": "/tags/1/key", "value": "owner"},
    )
    assert copied["tags"] == [{"key": "team", "value": "data"}, {"key": "owner", "value": "data"}]


def test_move_into_its_own_child_is_refused() -> None:
    with pytest.raises(PatchError, match="into one of its own children"):
        _patched({"op": "move", "from": "/networkConfiguration", "path": "/networkConfiguration/inner"})


def test_test_passes_on_equal_values_and_fails_otherwise() -> None:
    assert _patched({"op": "test", "path": "/tags", "value": [{"value": "data", "key": "team"}]}) == REQUEST
    assert _patched({"op": "test", "path": "/a~1b", "value": 1.0}) == REQUEST  # numbers compare numerically
    with pytest.raises(PatchError) as caught:
        _patched({"op": "test", "path": "/cluster", "value": "prod"})
    assert str(caught.value) == 'customizations[0] {"op": "test", "path": "/cluster"}: the value is not "prod"'
    # JSON's true is not 1, whatever Python thinks.
    with pytest.raises(PatchError):
        _patched({"op": "test", "path": "/a~1b", "value": True})
    with pytest.raises(PatchError):
        _patched({"op": "test", "path": "/tags", "value": [{"key": "team"}]})


def test_a_failed_test_does_not_show_the_actual_value() -> None:
    document = {"overrides": {"environment": [{"name": "TETHER_API_KEY", "value": "tether_run_secret"}]}}
    with pytest.raises(PatchError) as caught:
        apply_patch(document, [{"op": "test", "path": "/overrides/environment/0/value", "value": "x"}])
    assert "tether_run_secret" not in str(caught.value)


def test_escaped_pointers() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/") == [""]
    assert parse_pointer("/a~1b/m~0n/~01") == ["a/b", "m~n", "~1"]
    result = _patched(
        {"op": "replace", "path": "/a~1b", "value": 10},
        {"op": "replace", "path": "/m~0n", "value": 20},
        {"op": "replace", "path": "/", "value": "the empty key"},
    )
    assert (result["a/b"], result["m~n"], result[""]) == (10, 20, "the empty key")


def test_the_input_is_never_modified_and_a_failure_applies_nothing() -> None:
    original = copy.deepcopy(REQUEST)
    operations = [
        {"op": "add", "path": "/platformVersion", "value": "LATEST"},
        {"op": "remove", "path": "/tags/0"},
        {"op": "remove", "path": "/nope"},
    ]
    with pytest.raises(PatchError):
        apply_patch(REQUEST, operations)
    assert original == REQUEST
    value = {"key": "new"}
    result = apply_patch(REQUEST, [{"op": "add", "path": "/tags/-", "value": value}])
    value["key"] = "changed later"
    assert result["tags"][-1] == {"key": "new"}
    assert original == REQUEST


@pytest.mark.parametrize(
    ("operation", "reason"),
    [
        ({"op": "add", "path": "/x"}, "'add' needs a 'value'"),
        ({"op": "replace", "path": "/cluster"}, "'replace' needs a 'value'"),
        ({"op": "test", "path": "/cluster"}, "'test' needs a 'value'"),
        ({"op": "copy", "path": "/x"}, "'copy' needs a 'from' JSON pointer"),
        ({"op": "move", "path": "/x", "from": 3}, "'move' needs a 'from' JSON pointer"),
        ({"op": "merge", "path": "/x", "value": 1}, "unknown op 'merge'"),
        ({"op": "add", "path": "cluster", "value": 1}, "a JSON pointer starts with '/'"),
        ({"op": "add", "value": 1}, "'path' must be a JSON pointer string"),
        ({"op": "remove", "path": "/tags/01"}, "'01' is not an array index"),
        ({"op": "remove", "path": "/tags/-"}, "'-' is not an array index"),
        ({"op": "remove", "path": ""}, "cannot remove the whole document"),
        ({"op": "add", "path": "/cluster/x", "value": 1}, "cannot add 'x' to a str"),
        ({"op": "add", "path": "/cluster/x/y", "value": 1}, "'x' is inside a str"),
        ({"op": "add", "path": "/missing/x", "value": 1}, "'missing' does not exist"),
    ],
)
def test_errors_name_the_operation_and_the_reason(operation: dict[str, Any], reason: str) -> None:
    with pytest.raises(PatchError) as caught:
        apply_patch(REQUEST, [{"op": "test", "path": "/cluster", "value": "flows"}, operation])
    message = str(caught.value)
    assert message.startswith("customizations[1] ")
    assert reason in message
    if "op" in operation:
        assert f'"op": "{operation["op"]}"' in message
    assert caught.value.index == 1
    assert isinstance(caught.value, InfrastructureError)  # the agent reports it as the run's crash reason


def test_an_operation_that_is_not_an_object() -> None:
    with pytest.raises(PatchError, match=r"customizations\[0\] 'add': an operation is an object"):
        apply_patch({}, ["add"])
