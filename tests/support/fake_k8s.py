"""A fake Kubernetes API (the few endpoints the agent's kubernetes infrastructure calls), over HTTP.

Secrets and Jobs are kept as sent (`jobs`, `secrets`, for the tests to compare against
expected manifests). Creating a Job creates its pod at once and runs the pod's container
as a local process (fake_runtime) with the Job's command, working directory and
environment, `secretKeyRef`s resolved from the stored Secrets: the real engine runs.
Deleting a Job sends SIGTERM to its pod (grace period) or SIGKILL (`gracePeriodSeconds: 0`)
and removes the pod once its process ended.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.fake_runtime import Behaviour, ContainerProcess, FakeServer, JsonHandler

STATUS_OK = {"kind": "Status", "apiVersion": "v1", "status": "Success"}


@dataclass
class Pod:
    name: str
    namespace: str
    job: str
    labels: dict[str, str]
    image: str
    process: ContainerProcess | None = None
    waiting: tuple[str, str] | None = None
    deleted: bool = False

    def body(self) -> dict[str, Any]:
        status: dict[str, Any] = {"name": "flow", "image": self.image, "imageID": "", "ready": False, "restartCount": 0}
        if self.waiting is not None:
            phase = "Pending"
            status["state"] = {"waiting": {"reason": self.waiting[0], "message": self.waiting[1]}}
        elif self.process is not None and self.process.running:
            phase = "Running"
            status.update(ready=True, state={"running": {"startedAt": "2026-01-01T00:00:00Z"}})
        else:
            assert self.process is not None
            code = self.process.wait()
            phase = "Succeeded" if code == 0 else "Failed"
            reason = "OOMKilled" if self.process.oom_killed else ("Completed" if code == 0 else "Error")
            status["state"] = {"terminated": {"exitCode": code, "reason": reason}}
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": self.labels},
            "status": {"phase": phase, "containerStatuses": [status]},
        }


@dataclass
class FakeKubernetes(FakeServer):
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    jobs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    secrets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    deleted_jobs: list[tuple[str, str, int | None]] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kubeconfig(self, path: Path) -> Path:
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: fake, cluster: {{server: '{self.url}'}}}}]\n"
            "users: [{name: agent, user: {token: fake-service-account-token}}]\n"
            "contexts: [{name: fake, context: {cluster: fake, user: agent}}]\n"
            "current-context: fake\n"
        )
        return path

    def live_pods(self, namespace: str, selector: str) -> list[Pod]:
        key, _, value = selector.partition("=")
        with self.lock:
            return [p for p in self.pods if not p.deleted and p.namespace == namespace and p.labels.get(key) == value]

    def start_pod(self, namespace: str, job: dict[str, Any]) -> None:
        name = job["metadata"]["name"]
        template = job["spec"]["template"]
        container = template["spec"]["containers"][0]
        labels = {**template["metadata"].get("labels", {}), "job-name": name}
        pod = Pod(f"{name}-{uuid.uuid4().hex[:5]}", namespace, name, labels, container["image"])
        behaviour = self.behaviours.get(container["image"], Behaviour())
        if behaviour.pull_error:
            pod.waiting = ("ErrImagePull", f"failed to pull image {container['image']!r}: not found")
        else:
            env = {}
            for item in container.get("env", []):
                if "value" in item:
                    env[item["name"]] = item["value"]
                else:
                    ref = item["valueFrom"]["secretKeyRef"]
                    env[item["name"]] = self.secrets[(namespace, ref["name"])]["stringData"][ref["key"]]
            pod.process = ContainerProcess(
                behaviour.argv or container["command"], env, container.get("workingDir"), oom=behaviour.oom
            )
        with self.lock:
            self.pods.append(pod)

    def delete_job(self, namespace: str, name: str, grace: int | None) -> bool:
        with self.lock:
            if self.jobs.pop((namespace, name), None) is None:
                return False
            self.deleted_jobs.append((namespace, name, grace))
            pods = [p for p in self.pods if p.job == name and p.namespace == namespace and not p.deleted]
        for pod in pods:
            self.delete_pod(pod, grace)
        return True

    def delete_pod(self, pod: Pod, grace: int | None) -> None:
        if pod.process is None or not pod.process.running:
            pod.deleted = True
            return
        pod.process.signal(signal.SIGKILL if grace == 0 else signal.SIGTERM)

        def remove_when_ended() -> None:
            assert pod.process is not None
            pod.process.wait()
            pod.deleted = True

        threading.Thread(target=remove_when_ended, daemon=True).start()

    def stop_all(self) -> None:
        for pod in self.pods:
            if pod.process is not None:
                pod.process.stop()


class _Handler(JsonHandler):
    server: Any

    @property
    def k8s(self) -> FakeKubernetes:
        fake: FakeKubernetes = self.server.fake
        return fake

    def _not_found(self, what: str) -> None:
        self.send_json(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404, "message": what})

    def do_GET(self) -> None:
        path, query = self.route
        parts = path.strip("/").split("/")
        # /api/v1/namespaces/{ns}/pods[/{name}/log]
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 5 and parts[4] == "pods":
            pods = self.k8s.live_pods(parts[3], query.get("labelSelector", ""))
            self.send_json(200, {"apiVersion": "v1", "kind": "PodList", "items": [p.body() for p in pods]})
        elif parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 7 and parts[6] == "log":
            pod = next((p for p in self.k8s.pods if p.name == parts[5] and not p.deleted), None)
            if pod is None or pod.process is None:
                self.send_json(400, {"kind": "Status", "code": 400, "message": "container is waiting to start"})
                return
            follow = query.get("follow") in ("true", "True", "1")
            self.stream("text/plain", pod.process.follow() if follow else iter([pod.process.output()]))
        else:
            self._not_found(f"route {path}")

    def do_POST(self) -> None:
        path, _ = self.route
        parts = path.strip("/").split("/")
        body = self.body()
        if parts == ["api", "v1", "namespaces", parts[3], "secrets"]:
            key = (parts[3], body["metadata"]["name"])
            if key in self.k8s.secrets:
                self.send_json(409, {"kind": "Status", "code": 409, "reason": "AlreadyExists", "message": "exists"})
                return
            self.k8s.secrets[key] = body
            self.send_json(201, {**body, "metadata": {**body["metadata"], "uid": str(uuid.uuid4())}})
        elif parts == ["apis", "batch", "v1", "namespaces", parts[4], "jobs"]:
            namespace = parts[4]
            if body["metadata"].get("namespace", namespace) != namespace:
                self.send_json(400, {"kind": "Status", "code": 400, "message": "namespace mismatch"})
                return
            self.k8s.jobs[(namespace, body["metadata"]["name"])] = body
            self.k8s.start_pod(namespace, body)
            self.send_json(201, {**body, "metadata": {**body["metadata"], "uid": str(uuid.uuid4())}})
        else:
            self._not_found(f"route {path}")

    def do_DELETE(self) -> None:
        path, query = self.route
        parts = path.strip("/").split("/")
        body = self.body()
        grace_value = body.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
        grace = None if grace_value is None else int(grace_value)
        if parts[:4] == ["apis", "batch", "v1", "namespaces"] and len(parts) == 7 and parts[5] == "jobs":
            if self.k8s.delete_job(parts[4], parts[6], grace):
                self.send_json(200, STATUS_OK)
            else:
                self._not_found(f"jobs {parts[6]!r} not found")
        elif parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 6 and parts[4] == "secrets":
            if self.k8s.secrets.pop((parts[3], parts[5]), None) is None:
                self._not_found(f"secrets {parts[5]!r} not found")
            else:
                self.send_json(200, STATUS_OK)
        elif parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 6 and parts[4] == "pods":
            pod = next((p for p in self.k8s.pods if p.name == parts[5] and not p.deleted), None)
            if pod is None:
                self._not_found(f"pods {parts[5]!r} not found")
                return
            self.k8s.delete_pod(pod, grace)
            self.send_json(200, pod.body())
        else:
            self._not_found(f"route {path}")


@contextlib.contextmanager
def fake_kubernetes(**options: Any) -> Iterator[FakeKubernetes]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeKubernetes(httpd=httpd, **options)
    httpd.fake = fake  # type: ignore[attr-defined]
    fake.serve()
    try:
        yield fake
    finally:
        fake.stop_all()
        fake.close()
