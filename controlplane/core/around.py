"""The base for middleware that runs in the sync stack and the async one without a thread hop.

Kept free of project imports: the logging configuration loads the request-id middleware's
module while settings are still being read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import iscoroutinefunction
from typing import Any

from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase


class AroundMiddleware:
    """Middleware that runs in the sync stack and the async one without a thread hop.

    Subclasses say what happens around the rest of the chain; this class does the calling:
    `refuse` may answer at once, `enter` keeps a state for the request, `leave` always runs
    (the view may raise), `finish` may change the response.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def refuse(self, request: HttpRequest) -> HttpResponseBase | None:
        return None

    def enter(self, request: HttpRequest) -> Any:
        return None

    def leave(self, state: Any) -> None:
        return None

    def finish(self, request: HttpRequest, response: HttpResponseBase, state: Any) -> HttpResponseBase:
        return response

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        refusal = self.refuse(request)
        if refusal is not None:
            return refusal
        state = self.enter(request)
        try:
            response = self.get_response(request)
            assert isinstance(response, HttpResponseBase)
        finally:
            self.leave(state)
        return self.finish(request, response, state)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        refusal = self.refuse(request)
        if refusal is not None:
            return refusal
        state = self.enter(request)
        try:
            pending = self.get_response(request)
            assert not isinstance(pending, HttpResponseBase)
            response = await pending
        finally:
            self.leave(state)
        return self.finish(request, response, state)
