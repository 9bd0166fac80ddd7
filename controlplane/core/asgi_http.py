"""Django's HTTP handling under ASGI, in one thread hop per request.

Django's own ASGIHandler runs the middleware chain asynchronously and hops to a thread for
every synchronous piece (each MiddlewareMixin's process_request/response, the signal
receivers, every sync view) and starts a fresh thread per request for thread-sensitive
code. Our views and middleware are synchronous (the ORM is), so that costs several thread
hops and a thread start per request. This handler instead runs the synchronous handler
stack — the same one WSGI servers run — on a bounded pool of worker threads: read the body
on the event loop, hop once, answer, send on the event loop. WebSockets stay async
(Channels); see docs/decisions/0007-http-in-one-thread-hop.md.
"""

from __future__ import annotations

import asyncio
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import HttpResponse, HttpResponseBase, JsonResponse
from django.urls import set_script_prefix

from controlplane.core.channel_delivery import serve_on
from controlplane.core.errors import error_body


class BodyTooLarge(Exception):
    def __init__(self, received: int, limit: int) -> None:
        super().__init__(f"{received} bytes over the {limit}-byte limit")
        message = f"The request body is {received} bytes; the limit is {limit} bytes."
        self.response = JsonResponse(error_body("payload_too_large", message, {"limit_bytes": limit}), status=413)


class ThreadedASGIHandler(ASGIHandler):
    def __init__(self, *, max_threads: int) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="tether-http")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"the HTTP handler cannot serve {scope['type']!r} connections")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        except BodyTooLarge as refused:
            await self.send_response(refused.response, send)
            return
        loop = asyncio.get_running_loop()
        serve_on(loop)
        response = await loop.run_in_executor(self._executor, self._respond, scope, body_file)
        try:
            await self.send_response(response, send)
        finally:
            if response.streaming:
                await loop.run_in_executor(self._executor, response.close)

    async def read_body(self, receive: Any) -> Any:
        """The body, spooled to disk past FILE_UPLOAD_MAX_MEMORY_SIZE, refused past DATA_UPLOAD_MAX_MEMORY_SIZE.

        The Content-Length check (BodySizeLimitMiddleware) cannot see a chunked body: without
        this bound one request could park any amount on disk and then in memory. The rest of an
        oversized body is still drained (and dropped), so the client reads the 413 instead of a
        reset connection.
        """
        limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - the request owns it and closes it
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b"
        )
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body_file.close()
                raise RequestAborted()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received <= limit:
                body_file.write(chunk)
            if not message.get("more_body", False):
                break
        if received > limit:
            body_file.close()
            raise BodyTooLarge(received, limit)
        body_file.seek(0)
        return body_file

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """The whole synchronous request, on a worker thread."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            assert isinstance(error_response, HttpResponse)
            error_response.close()
            return error_response
        response = self.get_response(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if not response.streaming:
            # The body is in memory: close now, on this thread, so request_finished returns
            # this thread's database connection to the pool before the bytes go out.
            response.close()
        return response
