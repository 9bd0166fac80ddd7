"""Cursor pagination for every list: stable under inserts, capped page sizes, clear errors."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

INVALID_CURSOR = "Invalid cursor: use the `next` or `previous` link as given."
# Cursors we issue hold an offset, a direction and one position value: far shorter than this.
CURSOR_MAX_LENGTH = 512


def _well_formed(encoded: str) -> bool:
    """Strict base64 of a short ASCII query string; DRF's lenient decoding reads junk as "first page"."""
    if len(encoded) > CURSOR_MAX_LENGTH:
        return False
    try:
        return bool(base64.b64decode(encoded, validate=True).decode("ascii"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False


class TetherCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request: Request) -> Any:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded and not _well_formed(encoded):
            raise ValidationError({"cursor": [INVALID_CURSOR]})
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError):
            # A well-encoded cursor whose position does not fit the ordering field (forged).
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None
