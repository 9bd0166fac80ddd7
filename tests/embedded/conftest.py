"""The embedded suite runs only under controlplane.settings.embedded (see `make smoke`)."""

from __future__ import annotations

import pytest
from django.conf import settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        raise pytest.UsageError("tests/embedded needs --ds=controlplane.settings.embedded (run `make smoke`)")
