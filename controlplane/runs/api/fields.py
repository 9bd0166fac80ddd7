"""Text fields for values that may arrive outside a JSON body (query strings) and must be storable."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from controlplane.core.parsers import unstorable_reason


def check_storable_text(text: str) -> None:
    reason = unstorable_reason(text)
    if reason is not None:
        raise serializers.ValidationError(reason)


class StorableCharField(serializers.CharField):
    """A CharField (which already refuses NUL) that also refuses unpaired surrogates."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(check_storable_text)
