"""Every API error answers in one JSON shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = [pytest.mark.urls("tests.controlplane.core.error_urls"), pytest.mark.django_db]


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def test_domain_conflict_maps_to_409(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/test/fail/conflict/")
    assert response.status_code == 409
    assert _error(response) == {
        "code": "conflict",
        "message": "The run is already COMPLETED.",
        "details": {"state": "COMPLETED"},
    }


def test_domain_validation_maps_to_422(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/test/fail/invalid/")
    assert response.status_code == 422
    assert _error(response)["details"] == {"limit_bytes": 524288}


def test_serializer_errors_list_fields(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/test/fail/x/", {"name": "far too long", "count": -1}, format="json")
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "invalid"
    assert set(error["details"]) == {"name", "count"}
    assert all(isinstance(message, str) for message in error["details"]["name"])


def test_malformed_json_is_a_parse_error(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/test/fail/x/", data=b'{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert _error(response)["code"] == "parse_error"


def test_wrong_media_type(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/test/fail/x/", data=b"name=a", content_type="text/plain")
    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"


def test_http404_inside_view(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/test/fail/missing/")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_unknown_api_route_is_json_404(api_client: APIClient) -> None:
    for method in ("get", "post", "delete"):
        response = getattr(api_client, method)("/api/v1/no-such-thing/")
        assert response.status_code == 404
        assert _error(response)["code"] == "not_found"


def test_method_not_allowed(api_client: APIClient) -> None:
    response = api_client.delete("/api/v1/test/fail/x/")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"


def test_throttled_sets_retry_after(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/test/fail/throttled/")
    assert response.status_code == 429
    assert response["Retry-After"] == "3"
    assert _error(response)["details"] == {"retry_after_seconds": 3}


def test_unauthenticated_is_refused(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/test/private/")
    assert response.status_code in (401, 403)
    assert _error(response)["code"] == "not_authenticated"


def test_unhandled_exception_is_json_500_without_detail(api_client: APIClient) -> None:
    api_client.raise_request_exception = False
    response = api_client.get("/api/v1/test/fail/bug/")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "server_error"
    assert "secret-internal-detail" not in response.content.decode()


def test_declared_body_over_limit_is_413_before_parsing(api_client: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = api_client.post("/api/v1/test/fail/x/", data=b"{" + b" " * 4096 + b"}", content_type="application/json")
    assert response.status_code == 413
    error = _error(response)
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"limit_bytes": 2048}


def test_an_unreachable_database_is_a_503_with_retry_after(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/test/fail/database-down/")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert _error(response)["code"] == "service_unavailable"
    assert "secret-internal-detail" not in response.content.decode()
