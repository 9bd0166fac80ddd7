"""Messages are made on first use: unused, a response is untouched; used, they work as Django's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from controlplane.core.middleware import LazyMessageMiddleware


def _through_middleware(view_body: object) -> tuple[HttpRequest, HttpResponse]:
    request = RequestFactory().get("/")
    SessionMiddleware(lambda request: HttpResponse()).process_request(request)

    def view(request: HttpRequest) -> HttpResponse:
        if callable(view_body):
            view_body(request)
        return HttpResponse("ok")

    response = LazyMessageMiddleware(view)(request)
    assert isinstance(response, HttpResponse)
    return request, response


def test_a_request_that_uses_no_messages_never_builds_the_storage() -> None:
    request, response = _through_middleware(None)
    assert response.status_code == 200
    assert request._messages._wrapped is empty  # type: ignore[attr-defined]
    assert "messages" not in response.cookies


def test_a_message_added_is_stored_and_read_back_like_djangos() -> None:
    _, response = _through_middleware(lambda request: messages.success(request, "Signed in."))
    assert "messages" in response.cookies  # the cookie backend kept it for the next request
    follow_up = RequestFactory().get("/")
    follow_up.COOKIES["messages"] = response.cookies["messages"].value
    SessionMiddleware(lambda request: HttpResponse()).process_request(follow_up)
    LazyMessageMiddleware(lambda request: HttpResponse()).process_request(follow_up)
    assert [str(message) for message in messages.get_messages(follow_up)] == ["Signed in."]
