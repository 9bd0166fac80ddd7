"""The docker infrastructure: one container per run, through the Docker Engine API.

Needs the `docker` SDK (`pip install 'tether[docker]'`), imported only when a docker pool is
served. The Engine is found like the docker CLI finds it (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`,
`DOCKER_CERT_PATH`, else the local socket). The container gets the run's environment only:
the job's `env` and the run's token, never the agent's own environment or key.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tether.agent.infrastructure.base import EXIT_KILLED, Exit, InfrastructureError, RunSpec
from tether.agent.infrastructure.lines import split_lines

# Where the prepared code is mounted, read-only, when `mount_source` is on (the default).
SOURCE_MOUNT = "/opt/tether/flow"
CA_BUNDLE_MOUNT = "/etc/tether/ca-bundle.pem"
RUN_LABEL = "io.tether.flow-run-id"
PULL_POLICIES = ("always", "if_not_present", "never")
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]+")


def _docker() -> Any:
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError as exc:
        raise InfrastructureError(
            "This pool runs flows in Docker containers: install the agent with `pip install 'tether[docker]'`."
        ) from exc
    return docker


def container_name(spec: RunSpec) -> str:
    return f"tether-{_NAME_UNSAFE.sub('-', spec.name)[:40]}-{spec.flow_run_id[:8]}"


def container_spec(spec: RunSpec, *, ca_bundle: str | None = None) -> dict[str, Any]:
    """The keyword arguments of `containers.create` for this run (pure: tested as data)."""
    variables = spec.job_variables
    image = variables.get("image")
    if not isinstance(image, str) or not image:
        raise InfrastructureError("A docker pool needs an `image` job variable (on the pool or the deployment).")
    env = {**spec.job_env(), **spec.env}
    volumes: dict[str, dict[str, str]] = {}
    for entry in variables.get("volumes") or []:
        host, _, rest = str(entry).partition(":")
        target, _, mode = rest.partition(":")
        if not host or not target:
            raise InfrastructureError(f"Volume {entry!r} is not 'host_path:container_path[:ro|rw]'.")
        volumes[host] = {"bind": target, "mode": mode or "rw"}
    working_dir = variables.get("working_dir")
    if variables.get("mount_source", True) and spec.working_dir is not None:
        volumes[str(spec.working_dir)] = {"bind": SOURCE_MOUNT, "mode": "ro"}
        working_dir = working_dir or SOURCE_MOUNT
    if ca_bundle:
        volumes[str(Path(ca_bundle).resolve())] = {"bind": CA_BUNDLE_MOUNT, "mode": "ro"}
        env["TETHER_CA_BUNDLE"] = CA_BUNDLE_MOUNT
    labels = {str(k): str(v) for k, v in (variables.get("labels") or {}).items()}
    labels[RUN_LABEL] = spec.flow_run_id
    kwargs: dict[str, Any] = {
        "image": image,
        "command": spec.engine_args(),
        "name": container_name(spec),
        "environment": env,
        "labels": labels,
        "volumes": volumes,
        "detach": True,
        "stdin_open": False,
        "tty": False,
    }
    if working_dir:
        kwargs["working_dir"] = str(working_dir)
    if variables.get("network"):
        kwargs["network"] = str(variables["network"])
    if variables.get("mem_limit"):
        kwargs["mem_limit"] = str(variables["mem_limit"])
    if variables.get("user"):
        kwargs["user"] = str(variables["user"])
    return kwargs


class DockerHandle:
    def __init__(self, container: Any, *, auto_remove: bool) -> None:
        self._container = container
        self._auto_remove = auto_remove
        self._errors = _docker().errors

    @property
    def identifier(self) -> str:
        return f"container {self._container.id[:12]}"

    def logs(self) -> Iterator[str]:
        try:
            yield from split_lines(self._container.logs(stream=True, follow=True, stdout=True, stderr=True))
        except self._errors.NotFound:
            return

    def wait(self) -> Exit:
        try:
            status = self._container.wait()
            self._container.reload()
        except self._errors.NotFound:
            return Exit(EXIT_KILLED, "the container was removed")
        code = int(status.get("StatusCode", EXIT_KILLED))
        state = self._container.attrs.get("State") or {}
        reason = "OOMKilled" if state.get("OOMKilled") else ((status.get("Error") or {}).get("Message") or None)
        if self._auto_remove:
            # Already gone, or the daemon is busy: leaving it changes nothing for the run.
            with contextlib.suppress(self._errors.APIError):
                self._container.remove(force=True)
        return Exit(code, reason)

    def terminate(self) -> bool:
        return self._signal("SIGTERM")

    def kill(self) -> None:
        self._signal("SIGKILL")

    def _signal(self, signal_name: str) -> bool:
        try:
            self._container.kill(signal=signal_name)
        except self._errors.APIError:
            return False  # not running any more (409) or removed (404)
        return True


class DockerInfrastructure:
    kind = "docker"
    needs_local_code = True

    def __init__(self, *, ca_bundle: str | None = None, client: Any = None) -> None:
        self._ca_bundle = ca_bundle
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            docker = _docker()
            try:
                self._client = docker.from_env()
            except docker.errors.DockerException as exc:
                raise InfrastructureError(f"Cannot reach the Docker Engine: {exc}") from exc
        return self._client

    def start(self, spec: RunSpec) -> DockerHandle:
        errors = _docker().errors
        kwargs = container_spec(spec, ca_bundle=self._ca_bundle)
        policy = str(spec.job_variables.get("image_pull_policy") or "if_not_present")
        if policy not in PULL_POLICIES:
            raise InfrastructureError(f"image_pull_policy must be one of {', '.join(PULL_POLICIES)}, not {policy!r}.")
        try:
            self._pull(kwargs["image"], policy)
            container = self.client.containers.create(**kwargs)
            container.start()
        except errors.DockerException as exc:
            raise InfrastructureError(f"Docker could not start the run's container: {exc}") from exc
        return DockerHandle(container, auto_remove=bool(spec.job_variables.get("auto_remove", True)))

    def _pull(self, image: str, policy: str) -> None:
        docker = _docker()
        if policy == "never":
            return
        if policy == "if_not_present":
            try:
                self.client.images.get(image)
                return
            except docker.errors.ImageNotFound:
                pass
        repository, tag = docker.utils.parse_repository_tag(image)
        self.client.images.pull(repository, tag=tag)
