from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from controlplane.core.logging_json import JsonFormatter
from controlplane.core.request_id import RequestIdMiddleware, current_request_id


def test_a_sane_request_id_is_echoed(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-proxy_42-ABC")
    assert response["X-Request-ID"] == "edge-proxy_42-ABC"


@pytest.mark.parametrize("offered", [None, "", "a" * 65, "has space", "semi;colon", "ünïcode", "line\nbreak"])
def test_an_absent_or_unsafe_request_id_is_replaced(client: Client, offered: str | None) -> None:
    headers = {} if offered is None else {"X-Request-ID": offered}
    first = client.get("/healthz", headers=headers)["X-Request-ID"]
    second = client.get("/healthz", headers=headers)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    if offered:
        assert offered not in first


def test_the_id_is_scoped_to_the_request() -> None:
    seen: list[str | None] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(current_request_id())
        return HttpResponse("ok")

    middleware = RequestIdMiddleware(view)
    response = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="abc-123"))
    assert isinstance(response, HttpResponse)
    assert seen == ["abc-123"]
    assert current_request_id() is None


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.request_id")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_json_log_lines_carry_the_request_id(json_log: io.StringIO) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        logger = logging.getLogger("tests.request_id")
        logger.info("serving %s", "thing")
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            logger.exception("it failed")
        return HttpResponse("ok")

    RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="req-7"))
    logging.getLogger("tests.request_id").warning("outside any request")

    lines = json_log.getvalue().splitlines()
    assert len(lines) == 3
    info, error, outside = (json.loads(line) for line in lines)
    assert info["message"] == "serving thing"
    assert info["level"] == "INFO"
    assert info["logger"] == "tests.request_id"
    assert info["request_id"] == "req-7"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", info["time"])
    assert "exc_info" not in info
    assert error["request_id"] == "req-7"
    assert error["level"] == "ERROR"
    assert "ValueError: boom\nsecond line" in error["exc_info"]
    assert outside["request_id"] is None
