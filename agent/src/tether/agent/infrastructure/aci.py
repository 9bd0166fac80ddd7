"""The Azure Container Instances infrastructure: one container group per run (ARM REST API).

The agent PUTs the group (`container_group_body`, with the deployment's `customizations`
applied), then polls it until its container is Terminated, following the container's log
(ACI returns the whole log each time: only lines not seen before are emitted). The run's
token is a `secureValue` environment variable, which ARM never returns. Cancelling stops the
group and deletes it; the group is deleted when the run ended unless `keep_container_group`.

Credentials: an `azure-credentials` block (a service principal) in the `credentials` job
variable, resolved by the agent before `start`; the token comes from Microsoft Entra's
client-credentials flow. Retries are the control plane's: restartPolicy is Never.
"""

from __future__ import annotations

import logging
import re
import shlex
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from tether._redaction import register_secret
from tether.agent.infrastructure.base import EXIT_KILLED, Exit, InfrastructureError, RunSpec
from tether.agent.infrastructure.cloud_api import AccessToken, BearerSession, Patience, TransientApiError, read_token
from tether.agent.infrastructure.patching import apply_patch

logger = logging.getLogger(__name__)

API_VERSION = "2023-05-01"
DEFAULT_API_URL = "https://management.azure.com"
DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
DEFAULT_LOCATION = "eastus"
DEFAULT_START_TIMEOUT = 300.0
DEFAULT_POLL_SECONDS = 5.0
CONTAINER_NAME = "flow"
_NAME_UNSAFE = re.compile(r"[^a-z0-9-]+")


def group_name(spec: RunSpec) -> str:
    """A container group name: `tether-<run name>-<first 8 of the id>`, lowercase, at most 63 characters."""
    slug = _NAME_UNSAFE.sub("-", spec.name.lower()).strip("-")[:40].strip("-")
    return f"tether-{slug}-{spec.flow_run_id[:8]}" if slug else f"tether-{spec.flow_run_id[:8]}"


def _registry_credentials(registry: Any) -> dict[str, Any]:
    if not isinstance(registry, Mapping) or not registry.get("server"):
        raise InfrastructureError("image_registry needs a `server` (and a username and password, or an identity).")
    known = {key: registry[key] for key in ("server", "username", "password", "identity") if registry.get(key)}
    if "password" in known:
        register_secret(known["password"])
    return known


def engine_command(spec: RunSpec) -> list[str]:
    """The engine's command; in a `path` source's directory (in the image) through a shell, as a
    container group has no working-directory setting."""
    if spec.working_dir is None:
        return spec.engine_args()
    engine = " ".join(shlex.quote(arg) for arg in spec.engine_args())
    return ["/bin/sh", "-c", f"cd {shlex.quote(str(spec.working_dir))} && exec {engine}"]


def container_group_body(spec: RunSpec) -> dict[str, Any]:
    """The container group for this run, before `customizations` (pure: tested against expected bodies)."""
    variables = spec.job_variables
    image = variables.get("image")
    if not isinstance(image, str) or not image:
        raise InfrastructureError("An aci pool needs an `image` job variable (on the pool or the deployment).")
    env = {**spec.job_env(), **spec.env}
    token = env.pop("TETHER_API_KEY", None)
    environment: list[dict[str, str]] = [{"name": key, "value": env[key]} for key in sorted(env)]
    if token is not None:
        environment.append({"name": "TETHER_API_KEY", "secureValue": token})
    requests = {"cpu": float(variables.get("cpu") or 1), "memoryInGB": float(variables.get("memory") or 1.5)}
    container = {
        "name": CONTAINER_NAME,
        "properties": {
            "image": image,
            "command": engine_command(spec),
            "resources": {"requests": requests},
            "environmentVariables": environment,
        },
    }
    properties: dict[str, Any] = {"osType": "Linux", "restartPolicy": "Never", "containers": [container]}
    if variables.get("image_registry"):
        properties["imageRegistryCredentials"] = [_registry_credentials(variables["image_registry"])]
    if variables.get("subnet_ids"):
        properties["subnetIds"] = [{"id": str(subnet)} for subnet in variables["subnet_ids"]]
    if variables.get("dns_servers"):
        properties["dnsConfig"] = {"nameServers": [str(server) for server in variables["dns_servers"]]}
    body: dict[str, Any] = {
        "location": str(variables.get("location") or DEFAULT_LOCATION),
        "tags": {"managed-by": "tether", "tether-flow-run-id": spec.flow_run_id},
        "properties": properties,
    }
    if variables.get("identities"):
        body["identity"] = {
            "type": "UserAssigned",
            "userAssignedIdentities": {str(identity): {} for identity in variables["identities"]},
        }
    return body


def customized_container_group_body(spec: RunSpec) -> dict[str, Any]:
    """`container_group_body` with `customizations` (JSON Patch on the container group) applied."""
    operations = spec.job_variables.get("customizations") or []
    if not isinstance(operations, list):
        raise InfrastructureError("customizations must be a list of JSON Patch operations.")
    patched: dict[str, Any] = apply_patch(container_group_body(spec), operations)
    return patched


def _principal(spec: RunSpec) -> tuple[str, str, str]:
    credentials = spec.job_variables.get("credentials")
    fields = ("tenant_id", "client_id", "client_secret")
    if not isinstance(credentials, Mapping) or not all(credentials.get(name) for name in fields):
        raise InfrastructureError(
            "An aci pool needs a `credentials` job variable naming an azure-credentials block "
            "(tenant_id, client_id, client_secret; e.g. '{{ block.azure-credentials.prod }}')."
        )
    register_secret(credentials["client_secret"])
    return str(credentials["tenant_id"]), str(credentials["client_id"]), str(credentials["client_secret"])


def fetch_access_token(
    http: httpx.Client, *, login_url: str, tenant_id: str, client_id: str, client_secret: str, scope: str
) -> AccessToken:
    """A client-credentials token from Microsoft Entra for the ARM API."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret, "scope": scope}
    url = f"{login_url.rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
    try:
        response = http.post(url, data=form)
    except httpx.HTTPError as exc:
        raise TransientApiError(f"Could not reach the Microsoft Entra token endpoint {url}: {exc}") from exc
    return read_token(response, f"The service principal {client_id}")


def _container_view(group: Mapping[str, Any]) -> Mapping[str, Any]:
    containers = group.get("properties", {}).get("containers") or [{}]
    view: Mapping[str, Any] = containers[0].get("properties", {}).get("instanceView") or {}
    return view


def _last_event(view: Mapping[str, Any]) -> str | None:
    events = view.get("events") or []
    return str(events[-1].get("message") or events[-1].get("name")) if events else None


def new_lines(seen: list[str], current: list[str]) -> list[str]:
    """The lines of `current` (the whole log, as ACI returns it) after those already `seen`.

    ACI returns a bounded tail of a long log, so `current` may have lost lines from its start:
    it continues from the longest end of `seen` that `current` starts with.
    """
    if current[: len(seen)] == seen:
        return current[len(seen) :]
    if not current:
        return []
    for start, line in enumerate(seen):  # earliest start: the longest overlap
        if line == current[0] and current[: len(seen) - start] == seen[start:]:
            return current[len(seen) - start :]
    return current


class AciHandle:
    def __init__(self, session: BearerSession, group_url: str, name: str, variables: Mapping[str, Any]) -> None:
        self._session = session
        self._group_url = group_url
        self._name = name
        self._poll_seconds = float(variables.get("poll_interval_seconds") or DEFAULT_POLL_SECONDS)
        self._start_timeout = float(variables.get("task_start_timeout_seconds") or DEFAULT_START_TIMEOUT)
        self._keep = bool(variables.get("keep_container_group"))
        self._deadline = time.monotonic() + self._start_timeout
        self._cancelled = threading.Event()
        self._deleted = threading.Event()
        self._ended = threading.Event()
        self._exit: Exit | None = None
        self._patience = Patience(f"container group {name}")

    @property
    def identifier(self) -> str:
        return f"container group {self._name}"

    def _request(self, method: str, suffix: str, action: str, allow: tuple[int, ...] = ()) -> httpx.Response:
        return self._session.request(
            method, f"{self._group_url}{suffix}", params={"api-version": API_VERSION}, action=action, allow=allow
        )

    def _check(self) -> Exit | None:
        """One look at the group: how the run ended, or None while it runs (or could not be read now)."""
        try:
            response = self._request("GET", "", "read the container group", allow=(404,))
        except TransientApiError as exc:
            gave_up = self._patience.failed(exc)
            return None if gave_up is None else Exit(EXIT_KILLED, gave_up)
        self._patience.succeeded()
        if response.status_code == 404:
            if self._cancelled.is_set():
                return Exit(EXIT_KILLED, "the container group was stopped (cancelled)")
            return Exit(EXIT_KILLED, "the container group was deleted")
        group = response.json()
        view = _container_view(group)
        current = view.get("currentState") or {}
        if self._cancelled.is_set():
            return Exit(EXIT_KILLED, "the container group was stopped (cancelled)")
        if current.get("state") == "Terminated":
            code = current.get("exitCode")
            return Exit(EXIT_KILLED if code is None else int(code), current.get("detailStatus") or None)
        if group.get("properties", {}).get("provisioningState") == "Failed":
            return Exit(EXIT_KILLED, _last_event(view) or "the container group failed to provision")
        if current.get("state") == "Running":
            self._deadline = float("inf")
        elif time.monotonic() > self._deadline:
            return Exit(
                EXIT_KILLED,
                f"the container did not start within {self._start_timeout:.0f}s ({_last_event(view) or 'no event'})",
            )
        return None

    def _log_text(self) -> str:
        try:
            response = self._request(
                "GET", f"/containers/{CONTAINER_NAME}/logs", "read the container's logs", allow=(400, 404)
            )
        except TransientApiError as exc:
            logger.warning("Could not read the log of %s (will retry): %s", self._name, exc)
            return ""
        if response.status_code >= 400:  # not started yet, or already gone
            return ""
        return str(response.json().get("content") or "")

    def logs(self) -> Iterator[str]:
        seen: list[str] = []
        while self._exit is None:
            ended = self._check()
            lines = self._log_text().split("\n")
            # Until the container ended its last line may still be growing: keep it back.
            complete = lines if ended is not None else lines[:-1]
            if ended is not None and complete and complete[-1] == "":
                complete.pop()
            fresh = new_lines(seen, complete)
            for line in fresh:
                yield line.rstrip("\r")
            if complete:  # an empty answer (not started, a failed read) forgets nothing
                seen = complete
            if ended is not None:
                self._finish(ended)
                return
            time.sleep(self._poll_seconds)

    def wait(self) -> Exit:
        while self._exit is None:
            ended = self._check()
            if ended is not None:
                self._finish(ended)
                break
            time.sleep(self._poll_seconds)
        assert self._exit is not None
        return self._exit

    def _finish(self, ended: Exit) -> None:
        if self._exit is not None:
            return
        self._exit = ended
        self._ended.set()
        try:
            if not self._keep and not self._deleted.is_set():
                self._delete()
        except InfrastructureError as exc:
            logger.warning("The run ended, but its container group was not deleted: %s", exc)
        finally:
            self._session.close()

    def _delete(self) -> None:
        self._request("DELETE", "", f"delete the container group {self._name}", allow=(404,))
        self._deleted.set()

    def _delete_after_cancel(self) -> None:
        try:
            self._delete()
        except InfrastructureError as exc:
            # The poll still sees the stopped group and ends the run; the end deletes it again.
            logger.warning("The container group was stopped but not deleted: %s", exc)

    def terminate(self) -> bool:
        """Stop the group (ACI kills its container), then delete it."""
        if self._ended.is_set() or self._cancelled.is_set():
            return False
        self._cancelled.set()
        response = self._request("POST", "/stop", "stop the container group", allow=(404, 409))
        self._delete_after_cancel()
        return response.status_code < 400

    def kill(self) -> None:
        if not self._ended.is_set() and not self._deleted.is_set():
            self._cancelled.set()
            self._delete_after_cancel()


class AciInfrastructure:
    kind = "aci"
    needs_local_code = False

    def start(self, spec: RunSpec) -> AciHandle:
        variables = spec.job_variables
        body = customized_container_group_body(spec)
        tenant_id, client_id, client_secret = _principal(spec)
        for required in ("subscription_id", "resource_group_name"):
            if not variables.get(required):
                raise InfrastructureError(f"An aci pool needs the `{required}` job variable.")
        api = str(variables.get("api_url") or DEFAULT_API_URL).rstrip("/")
        credentials = variables.get("credentials") or {}
        login_url = str(variables.get("login_url") or credentials.get("login_url") or DEFAULT_LOGIN_URL)
        scope = f"{api}/.default"
        name = group_name(spec)
        group_url = (
            f"{api}/subscriptions/{variables.get('subscription_id')}/resourceGroups/"
            f"{variables.get('resource_group_name')}/providers/Microsoft.ContainerInstance/containerGroups/{name}"
        )
        session = BearerSession(
            "Azure",
            lambda http: fetch_access_token(
                http,
                login_url=login_url,
                tenant_id=tenant_id,
                client_id=client_id,
                client_secret=client_secret,
                scope=scope,
            ),
        )
        try:
            session.request(
                "PUT",
                group_url,
                params={"api-version": API_VERSION},
                json=body,
                action=f"create the container group {name} in {variables.get('resource_group_name')}",
            )
        except BaseException:
            session.close()
            raise
        return AciHandle(session, group_url, name, variables)
