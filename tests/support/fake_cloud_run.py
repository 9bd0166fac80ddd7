"""A fake Google Cloud Run Admin API v2 (the endpoints the cloud-run infrastructure calls) and
Google's OAuth token endpoint, over HTTP on a loopback port.

The token endpoint verifies the JWT assertion's RS256 signature with the test key's public key
(and its issuer, audience, scope and expiry) before issuing a token; every API call must carry
an issued token. Every request is recorded (method, path, query, headers, body). An execution's
course is scripted per image by an `Outcome`; it advances on each GET of the execution, or,
for `Outcome("run")`, follows the container's command run as a local process (fake_runtime)
with the job's environment and working directory and the execution's env overrides: the
real engine runs and reports to a real control plane.
"""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.fake_runtime import ContainerProcess, FakeServer, JsonHandler

EXECUTION_TYPE = "type.googleapis.com/google.cloud.run.v2.Execution"
JOB_TYPE = "type.googleapis.com/google.cloud.run.v2.Job"
CANCELLED = {"state": "CONDITION_FAILED", "executionReason": "CANCELLED", "message": "Execution was cancelled."}


@dataclass(frozen=True)
class Outcome:
    """`succeed`/`fail` after `polls` GETs of the execution while running; `hang` runs until cancelled;
    `never_start` stays pending (no startTime) until cancelled; `run` runs the container's command."""

    kind: Literal["succeed", "fail", "hang", "never_start", "run"] = "succeed"
    message: str = ""
    polls: int = 2


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Execution:
    name: str
    job: str
    outcome: Outcome
    overrides: dict[str, Any]
    polls: int = 0
    cancelled: bool = False
    process: ContainerProcess | None = None

    def finished(self) -> bool:
        if self.process is not None:
            return not self.process.running
        if self.cancelled:
            return True
        return self.outcome.kind in ("succeed", "fail") and self.polls > self.outcome.polls

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "job": self.job.rsplit("/", 1)[-1], "taskCount": 1}
        started = self.outcome.kind != "never_start"
        if started:
            body["startTime"] = "2026-01-01T00:00:00Z"
        condition: dict[str, Any] = {"type": "Completed", "state": "CONDITION_RECONCILING"}
        if self.process is not None and self.finished():
            code = self.process.wait()
            body["completionTime"] = "2026-01-01T00:01:00Z"
            if self.cancelled:
                body["cancelledCount"] = 1
                condition.update(CANCELLED)
            elif code == 0:
                body["succeededCount"] = 1
                condition.update(state="CONDITION_SUCCEEDED", message="Execution completed successfully.")
            else:
                body["failedCount"] = 1
                message = f"Task failed with message: The container exited with an error (exit code {code})."
                condition.update(state="CONDITION_FAILED", message=message)
        elif self.cancelled:
            body.update(cancelledCount=1, completionTime="2026-01-01T00:01:00Z")
            condition.update(CANCELLED)
        elif self.finished():
            body["completionTime"] = "2026-01-01T00:01:00Z"
            if self.outcome.kind == "succeed":
                body["succeededCount"] = 1
                condition.update(state="CONDITION_SUCCEEDED", message="Execution completed successfully.")
            else:
                body["failedCount"] = 1
                condition.update(state="CONDITION_FAILED", message=self.outcome.message)
        elif started:
            body["runningCount"] = 1
        body["conditions"] = [condition]
        return body


@dataclass
class FakeCloudRun(FakeServer):
    public_key: rsa.RSAPublicKey | None = None
    client_email: str = "runner@acme-data.iam.gserviceaccount.com"
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # Operations stay not-done for this many GETs.
    operation_polls: int = 1
    reject_credentials: bool = False
    token_lifetime: int = 3599
    # The next this many GETs of an execution answer 503 (a provider's bad moment).
    unavailable_polls: int = 0
    # (status, Google error body) answered to the create request instead of creating the job.
    create_error: tuple[int, dict[str, Any]] | None = None
    recorded: list[Recorded] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_jobs: list[str] = field(default_factory=list)
    executions: dict[str, Execution] = field(default_factory=dict)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        return [r for r in self.recorded if (method is None or r.method == method) and contains in r.path]

    def operation(self, parent: str, metadata: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        name = f"{parent}/operations/{uuid.uuid4()}"
        operation = {"name": name, "metadata": metadata, "done": self.operation_polls == 0, "polls": 0}
        operation["response"] = response
        with self.lock:
            self.operations[name] = operation
        return _visible(operation)

    def verify_assertion(self, assertion: str) -> str | None:
        """Why the assertion is refused, or None when it is a valid JWT signed by the test key."""
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(_unb64(header_b64))
            claims = json.loads(_unb64(claims_b64))
            signature = _unb64(signature_b64)
        except ValueError:
            return "Invalid JWT: malformed."
        if header.get("alg") != "RS256":
            return "Invalid JWT: alg must be RS256."
        assert self.public_key is not None
        try:
            self.public_key.verify(
                signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return "Invalid JWT Signature."
        if claims.get("iss") != self.client_email:
            return "Invalid JWT: unknown issuer."
        if claims.get("aud") != self.token_uri:
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe (aud)."
        if "https://www.googleapis.com/auth/cloud-platform" not in str(claims.get("scope")).split():
            return "Invalid JWT: no scope."
        if not claims.get("iat", 0) <= time.time() + 60 < claims.get("exp", 0) + 60:
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        return None


def _start(job: dict[str, Any], run_request: dict[str, Any]) -> ContainerProcess:
    container = job["template"]["template"]["containers"][0]
    env = {item["name"]: item["value"] for item in container.get("env", [])}
    for override in run_request.get("overrides", {}).get("containerOverrides", []):
        env.update({item["name"]: item["value"] for item in override.get("env", [])})
    argv = [*container.get("command", []), *container.get("args", [])]
    return ContainerProcess(argv, env, container.get("workingDir"))


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _visible(operation: dict[str, Any]) -> dict[str, Any]:
    shown = {key: operation[key] for key in ("name", "metadata", "done")}
    if operation["done"]:
        shown["response"] = operation["response"]
    return shown


def _error(status: int, grpc: str, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": grpc}}


class _Handler(JsonHandler):
    server: Any

    @property
    def fake(self) -> FakeCloudRun:
        fake: FakeCloudRun = self.server.fake
        return fake

    def _record(self, body: Any) -> None:
        path, query = self.route
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.fake.recorded.append(Recorded(self.command, path, query, headers, body))

    def _authorized(self) -> bool:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.fake.tokens:
            return True
        message = "Request had invalid authentication credentials."
        self.send_json(401, _error(401, "UNAUTHENTICATED", message))
        return False

    def _token(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self._record(form)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self.send_json(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."})
            return
        refused = "Invalid JWT Signature." if self.fake.reject_credentials else None
        refused = refused or self.fake.verify_assertion(form.get("assertion", ""))
        if refused:
            self.send_json(400, {"error": "invalid_grant", "error_description": refused})
            return
        token = f"ya29.fake-{uuid.uuid4().hex}"
        self.fake.tokens.add(token)
        self.send_json(200, {"access_token": token, "expires_in": self.fake.token_lifetime, "token_type": "Bearer"})

    def do_POST(self) -> None:
        path, query = self.route
        if path == "/token":
            self._token()
            return
        body = self.body()
        self._record(body)
        if not self._authorized():
            return
        parts = path.strip("/").split("/")
        fake = self.fake
        # /v2/projects/{p}/locations/{r}/jobs
        if len(parts) == 6 and parts[5] == "jobs":
            parent = "/".join(parts[1:5])
            if fake.create_error is not None:
                self.send_json(*fake.create_error)
                return
            name = f"{parent}/jobs/{query['jobId']}"
            if name in fake.jobs:
                self.send_json(409, _error(409, "ALREADY_EXISTS", f"Resource '{query['jobId']}' already exists."))
                return
            fake.jobs[name] = body
            job = {**body, "name": name}
            self.send_json(200, fake.operation(parent, {"@type": JOB_TYPE, "name": name}, job))
        # /v2/projects/{p}/locations/{r}/jobs/{name}:run
        elif len(parts) == 7 and parts[6].endswith(":run"):
            name = "/".join(parts[1:7]).removesuffix(":run")
            if name not in fake.jobs:
                self.send_json(404, _error(404, "NOT_FOUND", f"Resource '{name}' was not found"))
                return
            image = fake.jobs[name]["template"]["template"]["containers"][0]["image"]
            execution = Execution(f"{name}/executions/{parts[6][:-4]}-{uuid.uuid4().hex[:5]}", name, Outcome(), body)
            execution.outcome = fake.outcomes.get(image, Outcome())
            if execution.outcome.kind == "run":
                execution.process = _start(fake.jobs[name], body)
            fake.executions[execution.name] = execution
            metadata = {"@type": EXECUTION_TYPE, **execution.body()}
            self.send_json(200, fake.operation("/".join(parts[1:5]), metadata, metadata))
        # /v2/projects/{p}/locations/{r}/jobs/{job}/executions/{e}:cancel
        elif len(parts) == 9 and parts[8].endswith(":cancel"):
            name = "/".join(parts[1:9]).removesuffix(":cancel")
            found = fake.executions.get(name)
            if found is None:
                self.send_json(404, _error(404, "NOT_FOUND", f"Resource '{name}' was not found"))
            elif found.finished():
                self.send_json(400, _error(400, "FAILED_PRECONDITION", "Execution has already completed."))
            else:
                found.cancelled = True
                if found.process is not None:
                    found.process.signal(signal.SIGTERM)
                metadata = {"@type": EXECUTION_TYPE, **found.body()}
                self.send_json(200, fake.operation("/".join(parts[1:5]), metadata, metadata))
        else:
            self.send_json(404, _error(404, "NOT_FOUND", f"no route {path}"))

    def do_GET(self) -> None:
        path, _ = self.route
        self._record(None)
        if not self._authorized():
            return
        name = path.removeprefix("/v2/")
        fake = self.fake
        with fake.lock:
            operation = fake.operations.get(name)
            if operation is not None:
                operation["polls"] += 1
                operation["done"] = operation["done"] or operation["polls"] >= fake.operation_polls
                self.send_json(200, _visible(operation))
                return
        execution = fake.executions.get(name)
        if execution is not None and fake.unavailable_polls > 0:
            fake.unavailable_polls -= 1
            self.send_json(503, _error(503, "UNAVAILABLE", "The service is currently unavailable."))
            return
        if execution is None:
            self.send_json(404, _error(404, "NOT_FOUND", f"Resource '{name}' was not found"))
            return
        if not execution.finished():
            execution.polls += 1
        self.send_json(200, execution.body())

    def do_DELETE(self) -> None:
        path, _ = self.route
        self._record(None)
        if not self._authorized():
            return
        name = path.removeprefix("/v2/")
        fake = self.fake
        if fake.jobs.pop(name, None) is None:
            self.send_json(404, _error(404, "NOT_FOUND", f"Resource '{name}' was not found"))
            return
        fake.deleted_jobs.append(name)
        parent = "/".join(name.split("/")[:4])
        self.send_json(200, fake.operation(parent, {"@type": JOB_TYPE, "name": name}, {"name": name}))


@contextlib.contextmanager
def fake_cloud_run(public_key: rsa.RSAPublicKey, **options: Any) -> Iterator[FakeCloudRun]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeCloudRun(httpd=httpd, public_key=public_key, **options)
    httpd.fake = fake  # type: ignore[attr-defined]
    fake.serve()
    try:
        yield fake
    finally:
        for execution in fake.executions.values():
            if execution.process is not None:
                execution.process.stop()
        fake.close()
