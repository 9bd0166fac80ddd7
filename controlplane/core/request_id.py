"""Request ids: taken from X-Request-ID when sane, else generated; echoed and put in every log line."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

from django.http import HttpRequest, HttpResponseBase

from controlplane.core.around import AroundMiddleware

HEADER = "X-Request-ID"
# A proxy's or client's id is only reused when it cannot smuggle anything into logs or headers.
_SANE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("tether_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served on this thread or task, or None outside one."""
    return _request_id.get()


def request_id_for(request: HttpRequest) -> str:
    offered = request.headers.get(HEADER, "")
    if _SANE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class RequestIdMiddleware(AroundMiddleware):
    """Outermost middleware: every log line of the request, and its response, carry the id.

    The context variable is reset afterwards because the HTTP worker threads are pooled.
    """

    def enter(self, request: HttpRequest) -> tuple[str, Token[str | None]]:
        request_id = request_id_for(request)
        return request_id, _request_id.set(request_id)

    def leave(self, state: tuple[str, Token[str | None]]) -> None:
        _request_id.reset(state[1])

    def finish(
        self, request: HttpRequest, response: HttpResponseBase, state: tuple[str, Token[str | None]]
    ) -> HttpResponseBase:
        response[HEADER] = state[0]
        return response
