"""The Cloud Run infrastructure: one Cloud Run job per run (Admin API v2), executed once.

The agent creates the job (`job_body`, with the deployment's `customizations` applied),
waits for the create operation, runs it with the run's token as an environment override of
this execution only (never in the stored job, which more people may read), then polls the
execution until it completes. Cancelling cancels the execution. The job is deleted when the
run ended unless `keep_job`. The run's output is in Cloud Logging, which the agent does not
read: the handle's identifier is the execution's name, to look it up there.

Credentials: a `gcp-credentials` block in the `credentials` job variable (resolved by the
agent before `start`). Retries are the control plane's: `maxRetries` defaults to 0.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from tether.agent.infrastructure.base import EXIT_KILLED, Exit, InfrastructureError, RunSpec
from tether.agent.infrastructure.cloud_api import BearerSession, Patience, TransientApiError
from tether.agent.infrastructure.google_auth import ServiceAccountKey, fetch_access_token, service_account_key
from tether.agent.infrastructure.patching import apply_patch

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://run.googleapis.com"
DEFAULT_REGION = "us-central1"
DEFAULT_START_TIMEOUT = 300.0
DEFAULT_POLL_SECONDS = 5.0
CONTAINER_NAME = "flow"
_ID_UNSAFE = re.compile(r"[^a-z0-9-]+")


def job_id(spec: RunSpec) -> str:
    """A Cloud Run job id: `tether-<run name>-<first 8 of the id>`, lowercase, at most 63 characters."""
    slug = _ID_UNSAFE.sub("-", spec.name.lower()).strip("-")[:40].strip("-")
    return f"tether-{slug}-{spec.flow_run_id[:8]}" if slug else f"tether-{spec.flow_run_id[:8]}"


def _credentials(spec: RunSpec) -> tuple[ServiceAccountKey, str | None]:
    credentials = spec.job_variables.get("credentials")
    if not isinstance(credentials, Mapping) or "service_account_info" not in credentials:
        raise InfrastructureError(
            "A cloud-run pool needs a `credentials` job variable naming a gcp-credentials block "
            "(e.g. '{{ block.gcp-credentials.prod }}')."
        )
    project = credentials.get("project")
    return service_account_key(credentials["service_account_info"]), str(project) if project else None


def job_body(spec: RunSpec) -> dict[str, Any]:
    """The Job resource for this run, before `customizations` (pure: tested against expected bodies)."""
    variables = spec.job_variables
    image = variables.get("image")
    if not isinstance(image, str) or not image:
        raise InfrastructureError("A cloud-run pool needs an `image` job variable (on the pool or the deployment).")
    env = {**spec.job_env(), **spec.env}
    env.pop("TETHER_API_KEY", None)  # given to the execution only (run_overrides)
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": image,
        "command": spec.engine_args(),
        "resources": {
            "limits": {"cpu": str(variables.get("cpu") or "1"), "memory": str(variables.get("memory") or "512Mi")}
        },
        "env": [{"name": key, "value": env[key]} for key in sorted(env)],
    }
    if spec.working_dir is not None:  # a `path` source: the code's directory in the image
        container["workingDir"] = str(spec.working_dir)
    task: dict[str, Any] = {
        "containers": [container],
        "timeout": f"{int(variables.get('timeout_seconds') or 3600)}s",
        "maxRetries": int(variables.get("max_retries") or 0),
    }
    if variables.get("service_account_name"):
        task["serviceAccount"] = str(variables["service_account_name"])
    if variables.get("vpc_connector_name"):
        task["vpcAccess"] = {"connector": str(variables["vpc_connector_name"])}
    return {
        "labels": {"managed-by": "tether", "tether-flow-run-id": spec.flow_run_id},
        "template": {"taskCount": 1, "template": task},
    }


def customized_job_body(spec: RunSpec) -> dict[str, Any]:
    """`job_body` with the deployment's `customizations` (JSON Patch on the Job resource) applied."""
    body = job_body(spec)
    operations = spec.job_variables.get("customizations") or []
    if not isinstance(operations, list):
        raise InfrastructureError("customizations must be a list of JSON Patch operations.")
    patched: dict[str, Any] = apply_patch(body, operations)
    return patched


def run_overrides(spec: RunSpec) -> dict[str, Any]:
    """The RunJob request: the run's token, for this execution only."""
    token = {"name": "TETHER_API_KEY", "value": spec.env["TETHER_API_KEY"]}
    return {"overrides": {"containerOverrides": [{"name": CONTAINER_NAME, "env": [token]}]}}


def _completed(condition: Mapping[str, Any]) -> bool | None:
    """True/False once the Completed condition is final (v2 `state`, or v1-style `status`), else None."""
    state = condition.get("state") or condition.get("status")
    if state in ("CONDITION_SUCCEEDED", "True"):
        return True
    if state in ("CONDITION_FAILED", "False"):
        return False
    return None


def execution_exit(execution: Mapping[str, Any]) -> Exit | None:
    """How an execution ended, or None while it runs."""
    completed: Mapping[str, Any] = next(
        (c for c in execution.get("conditions") or [] if c.get("type") == "Completed"), {}
    )
    outcome = _completed(completed)
    if outcome is None and not execution.get("completionTime"):
        return None
    message = completed.get("message") or None
    if int(execution.get("cancelledCount") or 0) > 0 or completed.get("executionReason") == "CANCELLED":
        return Exit(EXIT_KILLED, message or "the execution was cancelled")
    if int(execution.get("succeededCount") or 0) > 0 and outcome is not False:
        return Exit(0)
    # The execution says only that its task failed, not with which exit status.
    return Exit(1, message or "the execution failed")


class CloudRunHandle:
    def __init__(
        self, session: BearerSession, api: str, job: str, execution: str, variables: Mapping[str, Any]
    ) -> None:
        self._session = session
        self._api = api
        self._job = job
        self._execution = execution
        self._poll_seconds = float(variables.get("poll_interval_seconds") or DEFAULT_POLL_SECONDS)
        self._start_timeout = float(variables.get("job_start_timeout_seconds") or DEFAULT_START_TIMEOUT)
        self._keep_job = bool(variables.get("keep_job"))
        self._cancelled = threading.Event()
        self._ended = threading.Event()
        self._exit: Exit | None = None

    @property
    def identifier(self) -> str:
        return f"execution {self._execution}"

    def logs(self) -> Iterator[str]:
        # Cloud Run sends the output to Cloud Logging, which this agent does not read.
        return iter(())

    def _read(self) -> Mapping[str, Any] | None:
        response = self._session.request(
            "GET", f"{self._api}/v2/{self._execution}", action="read the execution", allow=(404,)
        )
        if response.status_code == 404:
            return None
        body: Mapping[str, Any] = response.json()
        return body

    def wait(self) -> Exit:
        if self._exit is None:
            self._exit = self._follow()
            self._ended.set()
            self._cleanup()
        return self._exit

    def _follow(self) -> Exit:
        deadline = time.monotonic() + self._start_timeout
        patience = Patience(self.identifier)
        while True:
            try:
                execution = self._read()
            except TransientApiError as exc:
                gave_up = patience.failed(exc)
                if gave_up is not None:
                    return Exit(EXIT_KILLED, gave_up)
            else:
                patience.succeeded()
                if execution is None:
                    return Exit(EXIT_KILLED, "the execution was deleted")
                ended = execution_exit(execution)
                if ended is not None:
                    return ended
                if execution.get("startTime"):
                    deadline = float("inf")
                elif time.monotonic() > deadline:
                    try:
                        self._cancel()
                    except InfrastructureError as exc:
                        logger.warning("Could not cancel %s, which did not start: %s", self._execution, exc)
                    return Exit(EXIT_KILLED, f"the execution did not start within {self._start_timeout:.0f}s")
            time.sleep(self._poll_seconds)

    def _cancel(self) -> bool:
        response = self._session.request(
            "POST", f"{self._api}/v2/{self._execution}:cancel", action="cancel the execution", json={}, allow=(400, 404)
        )
        # 400 FAILED_PRECONDITION: it had already completed.
        return response.status_code < 400

    def terminate(self) -> bool:
        """Cancel the execution: Cloud Run stops its container (SIGTERM first: the engine reports CANCELLED)."""
        if self._ended.is_set() or self._cancelled.is_set():
            return False
        self._cancelled.set()
        return self._cancel()

    def kill(self) -> None:
        # Cloud Run has nothing harsher than cancelling; say it again in case the first was lost.
        if not self._ended.is_set():
            self._cancel()

    def _cleanup(self) -> None:
        try:
            if not self._keep_job:
                _delete_quietly(self._session, self._api, self._job)
        finally:
            self._session.close()


class CloudRunInfrastructure:
    kind = "cloud-run"
    needs_local_code = False

    def start(self, spec: RunSpec) -> CloudRunHandle:
        variables = spec.job_variables
        body = customized_job_body(spec)
        key, block_project = _credentials(spec)
        project = str(variables.get("project") or block_project or key.project_id or "")
        if not project:
            raise InfrastructureError("No project: set the `project` job variable or the block's project.")
        region = str(variables.get("region") or DEFAULT_REGION)
        api = str(variables.get("api_url") or DEFAULT_API_URL).rstrip("/")
        name = job_id(spec)
        parent = f"projects/{project}/locations/{region}"
        timeout = float(variables.get("job_start_timeout_seconds") or DEFAULT_START_TIMEOUT)
        poll = float(variables.get("poll_interval_seconds") or DEFAULT_POLL_SECONDS)
        session = BearerSession("Cloud Run", lambda http: fetch_access_token(http, key))
        try:
            operation = session.request(
                "POST",
                f"{api}/v2/{parent}/jobs",
                params={"jobId": name},
                json=body,
                action=f"create the Cloud Run job {name} in {parent}",
            ).json()
        except BaseException:
            session.close()
            raise
        try:
            _finish(session, api, operation, f"create the Cloud Run job {name}", timeout, poll)
            run = session.request(
                "POST", f"{api}/v2/{parent}/jobs/{name}:run", json=run_overrides(spec), action=f"run the job {name}"
            ).json()
            execution = _execution_name(session, api, run, timeout, poll)
        except BaseException:
            _delete_quietly(session, api, f"{parent}/jobs/{name}")
            session.close()
            raise
        logger.info("Cloud Run execution %s: its output is in Cloud Logging.", execution)
        return CloudRunHandle(session, api, f"{parent}/jobs/{name}", execution, variables)


def _delete_quietly(session: BearerSession, api: str, job: str) -> None:
    try:
        session.request("DELETE", f"{api}/v2/{job}", action=f"delete the job {job}", allow=(404,))
    except InfrastructureError as exc:
        logger.warning("The Cloud Run job was not deleted: %s", exc)


def _poll_operation(session: BearerSession, api: str, operation: Mapping[str, Any], action: str) -> Mapping[str, Any]:
    response = session.request("GET", f"{api}/v2/{operation['name']}", action=action)
    body: Mapping[str, Any] = response.json()
    return body


def _finish(
    session: BearerSession, api: str, operation: Mapping[str, Any], action: str, timeout: float, poll: float
) -> None:
    """Wait for a long-running operation to be done; its `error` is an `InfrastructureError`."""
    deadline = time.monotonic() + timeout
    while not operation.get("done"):
        if time.monotonic() > deadline:
            raise InfrastructureError(f"Could not {action}: the operation was not done within {timeout:.0f}s.")
        time.sleep(poll)
        operation = _poll_operation(session, api, operation, action)
    error = operation.get("error")
    if isinstance(error, Mapping):
        raise InfrastructureError(f"Could not {action}: {error.get('message') or error}.")


def _execution_name(session: BearerSession, api: str, operation: Mapping[str, Any], timeout: float, poll: float) -> str:
    """The execution a RunJob operation started (its metadata is the Execution)."""
    deadline = time.monotonic() + timeout
    while True:
        metadata = operation.get("metadata")
        if isinstance(metadata, Mapping) and metadata.get("name"):
            return str(metadata["name"])
        error = operation.get("error")
        if isinstance(error, Mapping):
            raise InfrastructureError(f"Could not run the job: {error.get('message') or error}.")
        if time.monotonic() > deadline:
            raise InfrastructureError(f"Cloud Run named no execution within {timeout:.0f}s.")
        time.sleep(poll)
        operation = _poll_operation(session, api, operation, "follow the job's run")
