from __future__ import annotations

import pytest

from controlplane.accounts.models import User
from controlplane.accounts.services import user_create
from tests.support.headless import PASSWORD, Browser


@pytest.fixture
def alice(db: None) -> User:
    return user_create(email="alice@example.com", password=PASSWORD, name="Alice", verified=True)


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture
def alice_browser(alice: User) -> Browser:
    """A browser in which alice has just signed in with her password."""
    browser = Browser()
    assert browser.login(alice.email).status_code == 200
    return browser
