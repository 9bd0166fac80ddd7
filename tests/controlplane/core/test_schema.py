from __future__ import annotations

import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_is_a_valid_openapi_document(client: Client) -> None:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Tether API"
    assert "/api/v1/info/" in document["paths"]


def test_docs_page_is_served_without_a_cdn(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html
    assert "unpkg.com" not in html


def test_server_info_is_public(client: Client) -> None:
    response = client.get("/api/v1/info/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Tether"
    assert body["mode"] in ("embedded", "production")
    assert body["version"]
