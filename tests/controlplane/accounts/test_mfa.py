"""TOTP with recovery codes: activation, the second sign-in step, deactivation."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator

from controlplane.accounts.models import User
from tests.support.headless import Browser, pending_flows, totp_code

pytestmark = pytest.mark.django_db

TOTP = "/account/authenticators/totp"
RECOVERY_CODES = "/account/authenticators/recovery-codes"


def activate_totp(browser: Browser) -> tuple[str, list[str]]:
    """Turn on TOTP for the signed-in user; return its secret and the recovery codes."""
    offer = browser.get(TOTP)
    assert offer.status_code == 404  # no authenticator yet: the response offers a secret
    secret = offer.json()["meta"]["secret"]
    assert offer.json()["meta"]["totp_url"].endswith("&issuer=Tether")
    assert browser.reauthenticate().status_code == 200
    activated = browser.post(TOTP, {"code": totp_code(secret)})
    assert activated.status_code == 200, activated.json()
    codes = browser.get(RECOVERY_CODES)
    assert codes.status_code == 200
    return secret, codes.json()["data"]["unused_codes"]


@pytest.fixture
def alice_mfa(alice: User, alice_browser: Browser) -> tuple[str, list[str]]:
    secret, codes = activate_totp(alice_browser)
    alice_browser.delete("/auth/session")
    return secret, codes


def test_activating_totp_needs_a_recent_reauthentication(alice: User, alice_browser: Browser) -> None:
    secret = alice_browser.get(TOTP).json()["meta"]["secret"]

    refused = alice_browser.post(TOTP, {"code": totp_code(secret)})

    assert refused.status_code == 401
    assert "reauthenticate" in [flow["id"] for flow in refused.json()["data"]["flows"]]
    assert not Authenticator.objects.filter(user=alice).exists()


def test_activating_totp_checks_the_code(alice: User, alice_browser: Browser) -> None:
    secret = alice_browser.get(TOTP).json()["meta"]["secret"]
    alice_browser.reauthenticate()
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"

    response = alice_browser.post(TOTP, {"code": wrong})

    assert response.status_code == 400
    assert not Authenticator.objects.filter(user=alice).exists()


def test_activation_creates_totp_and_ten_recovery_codes(alice: User, alice_browser: Browser) -> None:
    _, codes = activate_totp(alice_browser)

    assert len(codes) == 10
    assert set(Authenticator.objects.filter(user=alice).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }


def test_login_then_needs_the_second_factor(alice: User, alice_mfa: tuple[str, list[str]]) -> None:
    secret, _ = alice_mfa
    browser = Browser()

    first = browser.login(alice.email)

    assert first.status_code == 401
    assert pending_flows(first) == ["mfa_authenticate"]
    assert not browser.is_authenticated()
    wrong = browser.post("/auth/2fa/authenticate", {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert not browser.is_authenticated()

    second = browser.post("/auth/2fa/authenticate", {"code": totp_code(secret, step=-1)})

    assert second.status_code == 200
    assert [method["method"] for method in second.json()["data"]["methods"]] == ["password", "mfa"]
    assert browser.is_authenticated()


def test_a_totp_code_is_accepted_once(alice: User, alice_mfa: tuple[str, list[str]]) -> None:
    secret, _ = alice_mfa
    code = totp_code(secret, step=1)
    first, second = Browser(), Browser()
    first.login(alice.email)
    second.login(alice.email)

    assert first.post("/auth/2fa/authenticate", {"code": code}).status_code == 200
    assert second.post("/auth/2fa/authenticate", {"code": code}).status_code == 400
    assert not second.is_authenticated()


def test_a_recovery_code_signs_in_once(alice: User, alice_mfa: tuple[str, list[str]]) -> None:
    _, codes = alice_mfa
    browser, later = Browser(), Browser()
    browser.login(alice.email)

    response = browser.post("/auth/2fa/authenticate", {"code": codes[0]})

    assert response.status_code == 200
    assert browser.is_authenticated()
    later.login(alice.email)
    assert later.post("/auth/2fa/authenticate", {"code": codes[0]}).status_code == 400
    assert later.post("/auth/2fa/authenticate", {"code": codes[1]}).status_code == 200


def test_deactivating_totp_needs_a_recent_reauthentication(alice: User, alice_mfa: tuple[str, list[str]]) -> None:
    secret, _ = alice_mfa
    browser = Browser()
    browser.login(alice.email)
    assert browser.post("/auth/2fa/authenticate", {"code": totp_code(secret)}).status_code == 200

    # Signing in (even with both factors) is not a re-authentication.
    refused = browser.delete(TOTP)

    assert refused.status_code == 401
    assert Authenticator.objects.filter(user=alice, type=Authenticator.Type.TOTP).exists()
    reauth = browser.post("/auth/2fa/reauthenticate", {"code": totp_code(secret, step=-1)})
    assert reauth.status_code == 200

    removed = browser.delete(TOTP)

    assert removed.status_code == 200
    assert not Authenticator.objects.filter(user=alice, type=Authenticator.Type.TOTP).exists()
    assert Browser().login(alice.email).status_code == 200  # one factor again
