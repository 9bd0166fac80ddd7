"""Authenticated GET requests per second: API key vs session, through the real ASGI server."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.bench.harness import fresh_database, manage, measure_gets, server_workers
from tests.support.processes import free_port, running, uvicorn_args

REQUESTS = 3000
URL_PATH = "/api/v1/orgs/acme/workspaces/prod/access/"

SESSION_CODE = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from controlplane.accounts.models import User
user = User.objects.get(email="bench@acme.test")
store = SessionStore()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.create()
print(store.session_key)
"""


def run() -> None:
    env = fresh_database()
    provisioned = json.loads(
        manage(
            "bootstrap",
            "--org",
            "acme",
            "--workspace",
            "prod",
            "--email",
            "bench@acme.test",
            "--password",
            "bench-password-0123",
            "--json",
            env=env,
        )
    )
    session_key = manage("shell", "-c", SESSION_CODE, env=env).strip().splitlines()[-1]
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(
            uvicorn_args(port, workers=server_workers()), env=env, log_path=Path(tmp) / "server.log", port=port
        ) as server,
    ):
        url = server.url + URL_PATH
        for name, headers in (
            ("apikey_get", {"Authorization": f"Bearer {provisioned['api_key']}"}),
            ("session_get", {"Cookie": f"sessionid={session_key}"}),
        ):
            measure_gets("auth", name, url, headers=headers, requests=REQUESTS)
