"""A fake Azure Resource Manager (the container-group endpoints the aci infrastructure calls) and
Microsoft Entra token endpoint, over HTTP on a loopback port.

The token endpoint checks the tenant, client id, client secret and scope before issuing a
token; every ARM call must carry an issued token and `api-version=2023-05-01`. Every request
is recorded (method, path, query, headers, body). A container's course is scripted per image
by an `Outcome` and advances on each GET of its group; its log grows by one line per GET. With
`Outcome("run")` the container's command runs as a local process (fake_runtime) with the
group's environment (secure values included; `python` on PATH is this interpreter): the real
engine runs and reports to a real control plane; stopping or deleting the group kills it.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs

from tests.support.fake_runtime import ContainerProcess, FakeServer, JsonHandler

API_VERSION = "2023-05-01"


@dataclass(frozen=True)
class Outcome:
    """`exit` with `exit_code`/`detail` after `polls` GETs; `hang` runs until stopped; `never_start`
    stays Waiting with `detail` as its last event; `provisioning_failed` fails before the container
    starts; `run` runs the container's command."""

    kind: Literal["exit", "hang", "never_start", "provisioning_failed", "run"] = "exit"
    exit_code: int = 0
    detail: str = "Completed"
    log_lines: tuple[str, ...] = ()
    polls: int = 3


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Group:
    name: str
    body: dict[str, Any]
    outcome: Outcome
    polls: int = 0
    stopped: bool = False
    process: ContainerProcess | None = None

    def terminated(self) -> bool:
        if self.process is not None:
            return not self.process.running
        return self.stopped or (self.outcome.kind == "exit" and self.polls > self.outcome.polls)

    def log(self) -> str:
        if self.process is not None:
            return self.process.output().decode("utf-8", "replace")
        lines = self.outcome.log_lines if self.terminated() else self.outcome.log_lines[: self.polls]
        # While it runs, the last line shown is still being written (no newline yet).
        text = "\n".join(lines)
        return text + "\n" if self.terminated() and lines else text

    def view(self) -> dict[str, Any]:
        """The GET answer: the PUT body without secure values, with provisioning and instance views."""
        body = copy.deepcopy(self.body)
        properties = body["properties"]
        container = properties["containers"][0]["properties"]
        for variable in container.get("environmentVariables", []):
            if "secureValue" in variable:
                variable["secureValue"] = None  # ARM never returns secure values
        kind = self.outcome.kind
        provisioning, group_state = "Succeeded", "Running"
        events = [{"name": "Pulling", "message": f'pulling image "{container["image"]}"'}]
        if self.process is not None and self.terminated():
            code = self.process.wait()
            current = {"state": "Terminated", "exitCode": code, "detailStatus": "Completed" if code == 0 else "Error"}
            group_state = "Stopped" if self.stopped else ("Succeeded" if code == 0 else "Failed")
        elif self.process is not None:
            current = {"state": "Running", "detailStatus": ""}
        elif self.stopped:
            current = {"state": "Terminated", "exitCode": 137, "detailStatus": "Killed"}
            group_state = "Stopped"
        elif kind == "provisioning_failed":
            provisioning, group_state = "Failed", "Failed"
            current = {"state": "Waiting", "detailStatus": ""}
            events.append({"name": "Failed", "message": self.outcome.detail})
        elif kind == "never_start":
            current = {"state": "Waiting", "detailStatus": "ImagePullBackOff"}
            events.append({"name": "BackOff", "message": self.outcome.detail})
        elif self.terminated():
            current = {"state": "Terminated", "exitCode": self.outcome.exit_code, "detailStatus": self.outcome.detail}
            group_state = "Succeeded" if self.outcome.exit_code == 0 else "Failed"
        else:
            current = {"state": "Running", "detailStatus": ""}
        container["instanceView"] = {"currentState": current, "restartCount": 0, "events": events}
        properties["provisioningState"] = provisioning
        properties["instanceView"] = {"state": group_state}
        return {"id": self.name, "name": self.name.rsplit("/", 1)[-1], **body}


@dataclass
class FakeAzure(FakeServer):
    tenant_id: str = "72f988bf-0000-4000-8000-2d7cd011db47"
    client_id: str = "0d6e1c5a-0000-4000-8000-5b3c1f2e9a10"
    client_secret: str = "fake-client-secret-value"
    subscriptions: set[str] = field(default_factory=lambda: {"00000000-1111-2222-3333-444444444444"})
    resource_groups: set[str] = field(default_factory=lambda: {"flows"})
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # (status, ARM error body) answered to the PUT instead of creating the group.
    put_error: tuple[int, dict[str, Any]] | None = None
    # The next this many GETs of a group answer 503 (a provider's bad moment).
    unavailable_polls: int = 0
    recorded: list[Recorded] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    groups: dict[str, Group] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        return [r for r in self.recorded if (method is None or r.method == method) and contains in r.path]


def _start(body: dict[str, Any]) -> ContainerProcess:
    container = body["properties"]["containers"][0]["properties"]
    env = {"PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    for variable in container.get("environmentVariables", []):
        env[variable["name"]] = variable["value"] if "value" in variable else variable["secureValue"]
    return ContainerProcess(container["command"], env, None)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class _Handler(JsonHandler):
    server: Any

    @property
    def fake(self) -> FakeAzure:
        fake: FakeAzure = self.server.fake
        return fake

    def _record(self, body: Any) -> None:
        path, query = self.route
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.fake.recorded.append(Recorded(self.command, path, query, headers, body))

    def _token(self, tenant: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self._record(form)
        fake = self.fake
        if tenant != fake.tenant_id:
            self.send_json(
                400, {"error": "invalid_request", "error_description": f"AADSTS90002: Tenant '{tenant}' not found."}
            )
        elif form.get("grant_type") != "client_credentials" or form.get("scope") != f"{fake.url}/.default":
            self.send_json(
                400, {"error": "invalid_scope", "error_description": "AADSTS70011: The provided scope is not valid."}
            )
        elif form.get("client_id") != fake.client_id:
            description = f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found."
            self.send_json(400, {"error": "unauthorized_client", "error_description": description})
        elif form.get("client_secret") != fake.client_secret:
            description = "AADSTS7000215: Invalid client secret provided."
            self.send_json(401, {"error": "invalid_client", "error_description": description})
        else:
            token = f"eyJ0eXAi.fake-{uuid.uuid4().hex}"
            fake.tokens.add(token)
            self.send_json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})

    def _arm(self) -> tuple[list[str], str] | None:
        """The path's parts and the group's key, once the token and api-version are right."""
        path, query = self.route
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.fake.tokens:
            self.send_json(401, _error("InvalidAuthenticationToken", "The access token is invalid."))
            return None
        if query.get("api-version") != API_VERSION:
            self.send_json(400, _error("InvalidApiVersionParameter", f"api-version {query.get('api-version')!r}"))
            return None
        parts = path.strip("/").split("/")
        # subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/containerGroups/{name}[/...]
        if len(parts) < 8 or parts[0] != "subscriptions" or parts[6] != "containerGroups":
            self.send_json(404, _error("NotFound", f"no route {path}"))
            return None
        if parts[1] not in self.fake.subscriptions:
            self.send_json(404, _error("SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found."))
            return None
        if parts[3] not in self.fake.resource_groups:
            self.send_json(404, _error("ResourceGroupNotFound", f"Resource group '{parts[3]}' could not be found."))
            return None
        return parts, "/".join(parts[:8])

    def _group(self, key: str) -> Group | None:
        group = self.fake.groups.get(key)
        if group is None:
            name = key.rsplit("/", 1)[-1]
            message = f"The Resource 'Microsoft.ContainerInstance/containerGroups/{name}' was not found."
            self.send_json(404, _error("ResourceNotFound", message))
        return group

    def do_POST(self) -> None:
        path, _ = self.route
        if path.endswith("/oauth2/v2.0/token"):
            self._token(path.strip("/").split("/")[0])
            return
        self._record(self.body())
        found = self._arm()
        if found is None:
            return
        parts, key = found
        if parts[8:] != ["stop"]:
            self.send_json(404, _error("NotFound", f"no route {path}"))
            return
        group = self._group(key)
        if group is not None:
            group.stopped = True
            if group.process is not None:
                group.process.signal(signal.SIGKILL)
            self.send_empty(204)

    def do_PUT(self) -> None:
        body = self.body()
        self._record(body)
        found = self._arm()
        if found is None:
            return
        _, key = found
        fake = self.fake
        if fake.put_error is not None:
            self.send_json(*fake.put_error)
            return
        image = body["properties"]["containers"][0]["properties"]["image"]
        with fake.lock:
            if key in fake.groups:  # ARM updates in place; ACI refuses to change a running group
                self.send_json(409, _error("ContainerGroupUpdateConflict", "The container group is in use."))
                return
            fake.groups[key] = group = Group(key, body, fake.outcomes.get(image, Outcome()))
        if group.outcome.kind == "run":
            group.process = _start(body)
        answer = group.view()
        answer["properties"]["provisioningState"] = "Creating"
        self.send_json(201, answer)

    def do_GET(self) -> None:
        self._record(None)
        found = self._arm()
        if found is None:
            return
        parts, key = found
        group = self._group(key)
        if group is None:
            return
        if parts[8:] == [] and self.fake.unavailable_polls > 0:
            self.fake.unavailable_polls -= 1
            self.send_json(503, _error("ServiceUnavailable", "The server is currently unavailable."))
        elif parts[8:] == []:
            if not group.terminated():
                group.polls += 1
            self.send_json(200, group.view())
        elif parts[8:] == ["containers", "flow", "logs"]:
            self.send_json(200, {"content": group.log()})
        else:
            self.send_json(404, _error("NotFound", "no such container"))

    def do_DELETE(self) -> None:
        self._record(None)
        found = self._arm()
        if found is None:
            return
        _, key = found
        group = self.fake.groups.pop(key, None)
        if group is None:
            self.send_empty(204)
            return
        self.fake.deleted.append(key)
        if group.process is not None:
            group.process.signal(signal.SIGKILL)
        self.send_json(200, group.view())


@contextlib.contextmanager
def fake_azure(**options: Any) -> Iterator[FakeAzure]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeAzure(httpd=httpd, **options)
    httpd.fake = fake  # type: ignore[attr-defined]
    fake.serve()
    try:
        yield fake
    finally:
        for group in [*fake.groups.values()]:
            if group.process is not None:
                group.process.stop()
        fake.close()
