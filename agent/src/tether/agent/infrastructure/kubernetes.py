"""The kubernetes infrastructure: one Job per run, built from a template and the job variables.

Needs the official client (`pip install 'tether[kubernetes]'`), imported only when a
kubernetes pool is served. In a cluster the agent uses its ServiceAccount (see
infra/kubernetes/); elsewhere the usual kubeconfig (`KUBECONFIG`).

The code is in the image: the Job runs `python -m tether.engine <id>` in the image's working
directory, or in the deployment's `path` source when it names one. The run's token reaches
the pod through a Secret created for the run (never as a literal in the Job spec, which more
people may read), deleted with the Job. Retries are the control plane's: `backoffLimit: 0`.
"""

from __future__ import annotations

import copy
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from tether.agent.infrastructure.base import EXIT_KILLED, Exit, InfrastructureError, RunSpec
from tether.agent.infrastructure.lines import split_lines

MANAGED_BY = "tether"
RUN_LABEL = "tether.io/flow-run-id"
TOKEN_KEY = "api-key"  # noqa: S105 - the key name inside the Secret, not a secret
DEFAULT_NAMESPACE = "default"
DEFAULT_TTL_SECONDS = 300
DEFAULT_POD_START_TIMEOUT = 300.0
PULL_POLICIES = {"always": "Always", "if_not_present": "IfNotPresent", "never": "Never"}
# Waiting reasons that no amount of waiting fixes: the run crashed before its code started.
FATAL_WAITING_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)
_DNS_UNSAFE = re.compile(r"[^a-z0-9-]+")

# The Job every run starts from; job variables fill it (job_manifest).
JOB_TEMPLATE: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"labels": {"app.kubernetes.io/managed-by": MANAGED_BY}},
    "spec": {
        "backoffLimit": 0,
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/managed-by": MANAGED_BY}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "flow"}]},
        },
    },
}


def _kubernetes() -> Any:
    try:
        import kubernetes  # type: ignore[import-untyped]
    except ImportError as exc:
        raise InfrastructureError(
            "This pool runs flows as Kubernetes Jobs: install the agent with `pip install 'tether[kubernetes]'`."
        ) from exc
    return kubernetes


def job_name(spec: RunSpec) -> str:
    """A DNS-1123 label: `tether-<run name>-<first 8 of the id>`, at most 63 characters."""
    slug = _DNS_UNSAFE.sub("-", spec.name.lower()).strip("-")[:40].strip("-")
    return f"tether-{slug}-{spec.flow_run_id[:8]}" if slug else f"tether-{spec.flow_run_id[:8]}"


def job_manifest(spec: RunSpec, *, working_dir: str | None = None) -> dict[str, Any]:
    """The Job for this run (pure: tested against expected manifests)."""
    variables = spec.job_variables
    image = variables.get("image")
    if not isinstance(image, str) or not image:
        raise InfrastructureError("A kubernetes pool needs an `image` job variable (on the pool or the deployment).")
    name = job_name(spec)
    namespace = str(variables.get("namespace") or DEFAULT_NAMESPACE)
    labels = {str(k): str(v) for k, v in (variables.get("labels") or {}).items()}
    labels.update({"app.kubernetes.io/managed-by": MANAGED_BY, RUN_LABEL: spec.flow_run_id})

    env = {**spec.job_env(), **spec.env}
    env.pop("TETHER_API_KEY", None)
    env_list: list[dict[str, Any]] = [{"name": key, "value": env[key]} for key in sorted(env)]
    env_list.append({"name": "TETHER_API_KEY", "valueFrom": {"secretKeyRef": {"name": name, "key": TOKEN_KEY}}})
    policy = str(variables.get("image_pull_policy") or "if_not_present")
    if policy not in PULL_POLICIES:
        raise InfrastructureError(f"image_pull_policy must be one of {', '.join(PULL_POLICIES)}, not {policy!r}.")
    container: dict[str, Any] = {
        "name": "flow",
        "image": image,
        "imagePullPolicy": PULL_POLICIES[policy],
        "command": spec.engine_args(),
        "env": env_list,
    }
    if working_dir:
        container["workingDir"] = working_dir
    resources = variables.get("resources")
    if isinstance(resources, Mapping) and resources:
        container["resources"] = {
            part: {str(k): str(v) for k, v in resources[part].items()}
            for part in ("requests", "limits")
            if isinstance(resources.get(part), Mapping) and resources[part]
        }

    manifest = copy.deepcopy(JOB_TEMPLATE)
    manifest["metadata"].update({"name": name, "namespace": namespace, "labels": labels})
    manifest["spec"]["ttlSecondsAfterFinished"] = int(variables.get("ttl_seconds_after_finished", DEFAULT_TTL_SECONDS))
    pod = manifest["spec"]["template"]
    pod["metadata"]["labels"] = dict(labels)
    pod_spec = pod["spec"]
    pod_spec["containers"] = [container]
    if variables.get("service_account_name"):
        pod_spec["serviceAccountName"] = str(variables["service_account_name"])
    node_selector = variables.get("node_selector")
    if isinstance(node_selector, Mapping) and node_selector:
        pod_spec["nodeSelector"] = {str(k): str(v) for k, v in node_selector.items()}
    return manifest


def token_secret(spec: RunSpec, manifest: Mapping[str, Any]) -> dict[str, Any]:
    metadata = manifest["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": metadata["name"], "namespace": metadata["namespace"], "labels": dict(metadata["labels"])},
        "type": "Opaque",
        "stringData": {TOKEN_KEY: spec.env["TETHER_API_KEY"]},
    }


def _pod_exit(pod: Any) -> Exit | None:
    """How the pod's flow container ended, or None while it has not ended."""
    status = pod.status
    for container in (status.container_statuses if status else None) or []:
        state = container.state
        if state is None:
            continue
        if state.terminated is not None:
            reason = state.terminated.reason
            return Exit(int(state.terminated.exit_code), None if reason in (None, "Completed", "Error") else reason)
        if state.waiting is not None and state.waiting.reason in FATAL_WAITING_REASONS:
            message = f"{state.waiting.reason}: {state.waiting.message or 'the container could not start'}"
            return Exit(EXIT_KILLED, message)
    if status is not None and status.phase == "Failed":
        return Exit(EXIT_KILLED, status.reason or status.message or "the pod failed")
    return None


def _available(response: Any) -> Iterator[bytes]:
    # read1: whatever has arrived; `stream(n)` would wait for n bytes and hold lines back.
    while chunk := response.read1(64 * 1024):
        yield chunk


class KubernetesHandle:
    def __init__(self, infra: KubernetesInfrastructure, name: str, namespace: str, start_timeout: float) -> None:
        self._infra = infra
        self._name = name
        self._namespace = namespace
        self._start_timeout = start_timeout
        self._deleted = threading.Event()
        self._exit: Exit | None = None

    @property
    def identifier(self) -> str:
        return f"job {self._namespace}/{self._name}"

    def _pod(self) -> Any | None:
        pods = self._infra.core.list_namespaced_pod(self._namespace, label_selector=f"job-name={self._name}").items
        return pods[0] if pods else None

    def _poll(self, *, until_started: bool) -> tuple[Any | None, Exit | None]:
        """Watch the pod until it runs (`until_started`) or ends: (pod, exit if it ended)."""
        deadline = time.monotonic() + self._start_timeout
        seen = False
        while True:
            pod = self._pod()
            if pod is None:
                if seen or self._deleted.is_set():
                    return None, Exit(EXIT_KILLED, "the job was deleted")
                if time.monotonic() > deadline:
                    return None, Exit(EXIT_KILLED, f"no pod was created within {self._start_timeout:.0f}s")
            else:
                seen = True
                ended = _pod_exit(pod)
                phase = pod.status.phase if pod.status else None
                if ended is not None:
                    return pod, ended
                if until_started and phase == "Running":
                    return pod, None
                if phase == "Pending" and time.monotonic() > deadline:
                    return pod, Exit(EXIT_KILLED, f"the pod did not start within {self._start_timeout:.0f}s")
                if phase == "Running":
                    deadline = float("inf")
            time.sleep(self._infra.poll_seconds)

    def logs(self) -> Iterator[str]:
        pod, ended = self._poll(until_started=True)
        if pod is None:
            self._exit = ended
            return
        errors = _kubernetes().client.exceptions
        try:
            stream = self._infra.core.read_namespaced_pod_log(
                pod.metadata.name, self._namespace, container="flow", follow=True, _preload_content=False
            )
            try:
                yield from split_lines(_available(stream))
            finally:
                stream.release_conn()
        except errors.ApiException as exc:
            if exc.status not in (400, 404):  # no logs: never started, or already deleted
                raise

    def wait(self) -> Exit:
        ended = self._exit
        if ended is None:
            _, ended = self._poll(until_started=False)
        assert ended is not None
        self._cleanup()
        return ended

    def terminate(self) -> bool:
        """Delete the Job: its pod gets SIGTERM and its grace period (the engine reports CANCELLED)."""
        return self._delete_job(grace_seconds=None)

    def kill(self) -> None:
        self._delete_job(grace_seconds=0)
        pod = None
        try:
            pod = self._pod()
            if pod is not None:
                self._infra.core.delete_namespaced_pod(pod.metadata.name, self._namespace, grace_period_seconds=0)
        except _kubernetes().client.exceptions.ApiException as exc:
            if exc.status != 404:
                raise

    def _delete_job(self, *, grace_seconds: int | None) -> bool:
        self._deleted.set()
        try:
            self._infra.batch.delete_namespaced_job(
                self._name, self._namespace, propagation_policy="Background", grace_period_seconds=grace_seconds
            )
        except _kubernetes().client.exceptions.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _cleanup(self) -> None:
        try:
            self._infra.core.delete_namespaced_secret(self._name, self._namespace)
        except _kubernetes().client.exceptions.ApiException as exc:
            if exc.status != 404:
                raise


class KubernetesInfrastructure:
    kind = "kubernetes"
    needs_local_code = False

    def __init__(self, *, api_client: Any = None, poll_seconds: float = 1.0) -> None:
        self._api_client = api_client
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()

    def _client(self) -> Any:
        with self._lock:
            if self._api_client is None:
                kubernetes = _kubernetes()
                # Our own Configuration, not the library's global default; KUBECONFIG read now
                # (the library reads it once, at import).
                configuration = kubernetes.client.Configuration()
                try:
                    kubernetes.config.load_incluster_config(client_configuration=configuration)
                except kubernetes.config.ConfigException:
                    try:
                        kubernetes.config.load_kube_config(
                            config_file=os.environ.get("KUBECONFIG") or None, client_configuration=configuration
                        )
                    except (kubernetes.config.ConfigException, OSError) as exc:
                        raise InfrastructureError(
                            f"No Kubernetes configuration: not in a cluster and no usable kubeconfig ({exc})."
                        ) from exc
                self._api_client = kubernetes.client.ApiClient(configuration)
            return self._api_client

    @property
    def core(self) -> Any:
        return _kubernetes().client.CoreV1Api(self._client())

    @property
    def batch(self) -> Any:
        return _kubernetes().client.BatchV1Api(self._client())

    def start(self, spec: RunSpec) -> KubernetesHandle:
        working_dir = spec.job_variables.get("working_dir") or spec.working_dir
        manifest = job_manifest(spec, working_dir=str(working_dir) if working_dir else None)
        namespace = manifest["metadata"]["namespace"]
        errors = _kubernetes().client.exceptions
        try:
            self.core.create_namespaced_secret(namespace, token_secret(spec, manifest))
            self.batch.create_namespaced_job(namespace, manifest)
        except errors.ApiException as exc:
            raise InfrastructureError(
                f"Kubernetes refused the run's Job ({exc.status} {exc.reason}): {str(exc.body)[:300]}"
            ) from exc
        timeout = float(spec.job_variables.get("pod_start_timeout_seconds") or DEFAULT_POD_START_TIMEOUT)
        return KubernetesHandle(self, manifest["metadata"]["name"], namespace, timeout)
