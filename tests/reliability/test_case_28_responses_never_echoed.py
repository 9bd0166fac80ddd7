"""RELIABILITY 28 (second half): what an outgoing call's receiver answers is never echoed back.

A receiver answers every call-webhook action with a canary in its body — with 200, 400, 500 and
a redirect to the metadata address. After the automation fires, the canary is nowhere: not in
the firings API (action runs and delivery attempts), not in the rows behind it, not in the
events recorded about the actions, not in the logs. (The refusal of internal addresses is
proven by tests/controlplane/automations/test_outbound.py; see docs/reliability.md.)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from controlplane.automations.evaluation import events_evaluate_all
from controlplane.automations.execution import action_runs_execute_due
from controlplane.automations.models import ActionRun, DeliveryAttempt
from controlplane.events.models import Event
from tests.support.clients import bearer
from tests.support.tenants import World, service_account_key

PROD = "/api/v1/orgs/acme/workspaces/prod"
CANARY = "canary-5d1e-receiver-said-this"
ANSWERS = {
    "/ok": (200, {}),
    "/refused": (400, {}),
    "/broken": (500, {}),
    "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}),
}


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers = ANSWERS.get(self.path, (404, {}))
        body = f'{{"message": "{CANARY}", "detail": "{CANARY}"}}'.encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver(settings: Settings) -> Iterator[str]:
    settings.TETHER_OUTBOUND_ALLOW = ["127.0.0.1"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_nothing_a_receiver_answers_comes_back(world: World, receiver: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    developer = bearer(service_account_key(world.alice, world.prod, "developer", name="dev")[1])
    actions = [{"type": "call-webhook", "url": f"{receiver}{path}"} for path in ANSWERS]
    automation = {"name": "echo", "trigger": {"expect": ["probe.sent"]}, "actions": actions}
    assert developer.post(f"{PROD}/automations/", automation, format="json").status_code == 201
    event = {"event": "probe.sent", "resource": {"tether.resource.id": "probe"}}
    assert developer.post(f"{PROD}/events/", [event], format="json").status_code == 202

    events_evaluate_all()
    action_runs_execute_due()

    runs = ActionRun.dangerously_unscoped.order_by("index")
    assert [run.attempts for run in runs] == [1, 1, 1, 1]  # every call was made (the proof needs them)
    outcomes = list(
        DeliveryAttempt.dangerously_unscoped.order_by("action_run__index").values_list("outcome", flat=True)
    )
    assert outcomes[0] == "delivered"
    assert outcomes[3] == "refused"  # the redirect to the metadata address

    firings = developer.get(f"{PROD}/automation-firings/")
    assert firings.status_code == 200
    assert firings.json()["results"][0]["action_runs"]
    shown = [firings.content.decode(), developer.get(f"{PROD}/events/?page_size=200").content.decode()]
    stored = [
        *(f"{run.result} {run.error}" for run in runs),
        *(f"{d.target} {d.error}" for d in DeliveryAttempt.dangerously_unscoped.all()),
        *(str(e.payload) for e in Event.dangerously_unscoped.all()),
    ]
    for text in [*shown, *stored, caplog.text]:
        assert CANARY not in text
