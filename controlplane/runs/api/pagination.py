"""Keyset pagination on (a date-time field, the integer id), for append-mostly streams such as logs.

DRF's cursor keeps one field as its position and an offset for ties, capped at 1,000: a run
that logs more than 1,000 lines with one timestamp would page in a loop. Here the position is
the pair itself, so ties cost nothing, every page is an index range scan, and a cursor stays
valid while new lines arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from controlplane.core.pagination import TetherCursorPagination

_INVALID_CURSOR = "Invalid cursor: use the `next` or `previous` link as given."
_MAX_ID = 2**63 - 1  # a bigint: a larger id in a forged cursor must be a 400, not a database error


@dataclass(frozen=True)
class KeysetPosition:
    time: datetime
    id: int
    reverse: bool = False  # True: the rows before this position (a `previous` link)


class TimeKeysetPagination(TetherCursorPagination):
    """Oldest first on (`time_field`, `id`). `next` is null only on an empty page.

    A page that has rows always links `next` (after its last row): following it later
    returns the rows that arrived since, so one loop both pages through and tails a stream.
    """

    time_field = "timestamp"
    ordering = (time_field, "id")

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: APIView | None = None) -> list[Any]:
        self.request = request
        self.base_url = self._url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request) or type(self).page_size
        position = self.decode_position(request)
        field = self.time_field
        if position is None or not position.reverse:
            rows = queryset.order_by(field, "id")
            if position is not None:
                rows = rows.filter(**{f"{field}__gte": position.time}).filter(
                    Q(**{f"{field}__gt": position.time}) | Q(id__gt=position.id)
                )
            self.page = list(rows[: self.page_size])  # `next` does not depend on whether more follow
            self.more_before = position is not None
        else:
            rows = (
                queryset.order_by(f"-{field}", "-id")
                .filter(**{f"{field}__lte": position.time})
                .filter(Q(**{f"{field}__lt": position.time}) | Q(id__lt=position.id))
            )
            fetched = list(rows[: self.page_size + 1])
            self.page = list(reversed(fetched[: self.page_size]))
            self.more_before = len(fetched) > self.page_size
        return self.page

    def _position_of(self, row: Any, *, reverse: bool) -> KeysetPosition:
        return KeysetPosition(time=getattr(row, self.time_field), id=row.id, reverse=reverse)

    def get_next_link(self) -> str | None:
        if not self.page:
            return None
        return self.encode_position(self._position_of(self.page[-1], reverse=False))

    def get_previous_link(self) -> str | None:
        if not self.page or not self.more_before:
            return None
        return self.encode_position(self._position_of(self.page[0], reverse=True))

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def encode_position(self, position: KeysetPosition) -> str:
        payload = {"t": position.time.isoformat(), "i": position.id}
        if position.reverse:
            payload["r"] = 1
        token = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
        return replace_query_param(self._url, self.cursor_query_param, token)

    def decode_position(self, request: Request) -> KeysetPosition | None:
        token = request.query_params.get(self.cursor_query_param)
        if token is None:
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
            position = KeysetPosition(
                time=datetime.fromisoformat(payload["t"]), id=payload["i"], reverse=bool(payload.get("r", 0))
            )
        except (ValueError, TypeError, KeyError, AttributeError, UnicodeError, RecursionError, binascii.Error):
            raise ValidationError({"cursor": [_INVALID_CURSOR]}) from None
        if position.time.tzinfo is None or type(position.id) is not int or not 0 <= position.id <= _MAX_ID:
            raise ValidationError({"cursor": [_INVALID_CURSOR]})
        return position
