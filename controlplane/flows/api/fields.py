"""Input fields shared by the flow, deployment and work-pool APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Names travel in CLI arguments, query strings and `flow/deployment` references: no slash,
# no control characters, none of the characters URLs and shells make awkward.
name_validator = RegexValidator(
    r"^[^/%&<>\x00-\x1f\x7f]+\Z", "Names may not contain '/', '%%', '&', '<', '>' or control characters."
)


def _contains_nul(value: Any) -> bool:
    # PostgreSQL's jsonb cannot store U+0000: refuse it here as a 400 instead of a database error.
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any("\x00" in str(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.JSONField):
    """A JSON object (never an array or scalar) that the database can store."""

    default_error_messages = {
        "not_an_object": "Expected a JSON object.",
        "nul": "JSON strings may not contain the NUL character (\\u0000).",
        "too_deep": "The value is nested too deeply.",
    }

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        try:
            if _contains_nul(value):
                self.fail("nul")
        except RecursionError:
            self.fail("too_deep")
        return value


class TagsField(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.CharField(max_length=100))
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)


class NameFilterSerializer(serializers.Serializer[Any]):
    """`?name=` on a list: validated, so a NUL byte or a megabyte of text is a 400, not a database error."""

    name = serializers.CharField(max_length=255, required=False)
