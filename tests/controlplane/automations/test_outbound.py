"""Issue 9 acceptance 6 / RELIABILITY 28: outgoing calls refuse internal addresses, on every redirect."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from controlplane.automations import outbound
from tests.controlplane.automations.sink import http_sink


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:8080/", "loopback"),
        ("http://2130706433/", "loopback"),  # 127.0.0.1 written in decimal
        ("http://0x7f000001/", "loopback"),  # and in hex
        ("http://127.1/", "loopback"),
        ("http://10.0.0.5/", "private"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://localhost/", "loopback"),
    ],
)
def test_internal_targets_are_refused_with_a_clear_error(url: str, reason: str) -> None:
    with pytest.raises(outbound.OutboundRefused, match=reason) as refused:
        outbound.send("POST", url, json={"x": 1})
    assert "TETHER_OUTBOUND_ALLOW" in str(refused.value)
    assert not refused.value.retryable


def test_non_http_schemes_are_refused() -> None:
    with pytest.raises(outbound.OutboundRefused, match="http and https"):
        outbound.send("GET", "file:///etc/passwd")


def test_an_allowed_network_is_reached_and_the_body_is_sent(settings: Settings) -> None:
    settings.TETHER_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    with http_sink() as sink:
        delivered = outbound.send("POST", f"{sink.url}/secret-path?token=x", json={"text": "hi"})
        assert delivered.status_code == 200
        assert delivered.target == sink.url  # no path: it may be the secret
        (request,) = sink.wait_for(1)
        assert request.json() == {"text": "hi"}
        assert request.headers["host"] == sink.url.removeprefix("http://")


@pytest.mark.parametrize("location", ["http://169.254.169.254/latest", "http://10.1.2.3/x", "http://0xa9fea9fe/"])
def test_a_redirect_to_an_internal_address_is_refused(settings: Settings, location: str) -> None:
    settings.TETHER_OUTBOUND_ALLOW = ["127.0.0.1"]
    with http_sink() as sink:
        sink.answers["/start"] = (302, {"Location": location})
        with pytest.raises(outbound.OutboundRefused, match="Refusing to call"):
            outbound.send("POST", f"{sink.url}/start", json={})
        assert len(sink.received) == 1


def test_redirects_within_allowed_hosts_are_followed_and_errors_classified(settings: Settings) -> None:
    settings.TETHER_OUTBOUND_ALLOW = ["127.0.0.1"]
    with http_sink() as sink:
        sink.answers["/old"] = (307, {"Location": "/new"})
        sink.answers["/down"] = (503, {})
        sink.answers["/gone"] = (404, {})
        assert outbound.send("POST", f"{sink.url}/old", json={"a": 1}).status_code == 200
        assert [r.path for r in sink.received] == ["/old", "/new"]
        assert sink.received[1].json() == {"a": 1}  # 307 keeps the method and body
        with pytest.raises(outbound.OutboundFailed) as down:
            outbound.send("POST", f"{sink.url}/down", json={})
        assert down.value.retryable
        assert down.value.status_code == 503
        with pytest.raises(outbound.OutboundFailed) as gone:
            outbound.send("POST", f"{sink.url}/gone", json={})
        assert not gone.value.retryable


def test_a_silent_target_times_out(settings: Settings) -> None:
    settings.TETHER_OUTBOUND_ALLOW = ["127.0.0.1"]
    import threading

    with http_sink() as sink:
        sink.hold = threading.Event()
        with pytest.raises(outbound.OutboundFailed, match="within"):
            outbound.send("POST", sink.url, json={}, timeout=0.5)
        sink.hold.set()


def test_literal_check_at_save_time() -> None:
    for url in ("http://127.0.0.1/", "http://2130706433/", "http://[::1]/", "http://localhost:8000/"):
        with pytest.raises(outbound.OutboundRefused):
            outbound.check_literal(url)
    outbound.check_literal("https://hooks.slack.com/services/x")
