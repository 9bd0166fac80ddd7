"""A fake Docker Engine API (the few endpoints the docker SDK calls for the agent), over HTTP.

Point the SDK at it with `DOCKER_HOST=tcp://127.0.0.1:<port>`. Containers run as local
processes (fake_runtime): their command, environment, binds and working directory are the
ones the agent asked for, so a run goes through the real engine. Every created container's
request body is kept in `created` for the tests to check the spec the agent sent.
"""

from __future__ import annotations

import contextlib
import signal
import struct
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.support.fake_runtime import Behaviour, ContainerProcess, FakeServer, JsonHandler

API_VERSION = "1.45"
PREFIX = f"/v{API_VERSION}"


@dataclass
class Container:
    id: str
    name: str
    config: dict[str, Any]
    process: ContainerProcess | None = None
    removed: bool = False

    def host_dir(self, path: str | None) -> str | None:
        """Where a container path is on this host, through the container's binds."""
        if not path:
            return None
        for bind in (self.config.get("HostConfig") or {}).get("Binds") or []:
            host, target = bind.split(":")[:2]
            if path == target or path.startswith(target.rstrip("/") + "/"):
                return str(host) + path[len(target) :]
        return path


@dataclass
class FakeDocker(FakeServer):
    images: set[str] = field(default_factory=set)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def find(self, ref: str) -> Container | None:
        with self.lock:
            for container in self.containers.values():
                if not container.removed and (
                    container.id == ref or container.id.startswith(ref) or container.name == ref
                ):
                    return container
        return None

    def stop_all(self) -> None:
        for container in list(self.containers.values()):
            if container.process is not None:
                container.process.stop()


def _frames(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # Docker's multiplexed stream for containers without a TTY: 1 = stdout, then the length.
    for chunk in chunks:
        yield struct.pack(">BxxxL", 1, len(chunk)) + chunk


class _Handler(JsonHandler):
    server: Any

    @property
    def docker(self) -> FakeDocker:
        fake: FakeDocker = self.server.fake
        return fake

    def _not_found(self, what: str) -> None:
        self.send_json(404, {"message": f"No such {what}"})

    def do_GET(self) -> None:
        path, query = self.route
        if path in ("/version", f"{PREFIX}/version"):
            self.send_json(200, {"ApiVersion": API_VERSION, "Version": "27.3.1", "MinAPIVersion": "1.24"})
        elif path.startswith(f"{PREFIX}/images/") and path.endswith("/json"):
            name = unquote(path[len(f"{PREFIX}/images/") : -len("/json")])
            if name in self.docker.images:
                self.send_json(200, {"Id": f"sha256:{uuid.uuid5(uuid.NAMESPACE_URL, name).hex}", "RepoTags": [name]})
            else:
                self._not_found(f"image: {name}")
        elif path.startswith(f"{PREFIX}/containers/") and path.endswith("/json"):
            container = self.docker.find(path.split("/")[3])
            if container is None:
                self._not_found("container")
                return
            process = container.process
            running = process is not None and process.running
            state = {
                "Status": "running" if running else ("exited" if process else "created"),
                "Running": running,
                "ExitCode": 0 if running or process is None else process.wait(),
                "OOMKilled": bool(process and not running and process.oom_killed),
            }
            self.send_json(
                200,
                {
                    "Id": container.id,
                    "Name": "/" + container.name,
                    "Config": {
                        "Tty": False,
                        "Image": container.config.get("Image"),
                        "Labels": container.config.get("Labels"),
                    },
                    "State": state,
                },
            )
        elif path.startswith(f"{PREFIX}/containers/") and path.endswith("/logs"):
            container = self.docker.find(path.split("/")[3])
            if container is None or container.process is None:
                self._not_found("container")
                return
            chunks = (
                container.process.follow()
                if query.get("follow") in ("1", "true", "True")
                else iter([container.process.output()])
            )
            self.stream("application/vnd.docker.multiplexed-stream", _frames(chunks))
        else:
            self._not_found(f"route {path}")

    def do_POST(self) -> None:
        path, query = self.route
        body = self.body()
        container: Container | None
        if path == f"{PREFIX}/images/create":
            image = query["fromImage"] + (f":{query['tag']}" if query.get("tag") else "")
            behaviour = self.docker.behaviours.get(image)
            if behaviour is not None and behaviour.pull_error:
                self.send_json(404, {"message": f"pull access denied for {query['fromImage']}"})
                return
            self.docker.pulled.append(image)
            self.docker.images.add(image)
            self.stream(
                "application/json", iter([b'{"status":"Pulling from library"}\r\n', b'{"status":"Downloaded"}\r\n'])
            )
        elif path == f"{PREFIX}/containers/create":
            if body.get("Image") not in self.docker.images:
                self._not_found(f"image: {body.get('Image')}")
                return
            container = Container(id=uuid.uuid4().hex * 2, name=query.get("name") or uuid.uuid4().hex[:12], config=body)
            with self.docker.lock:
                self.docker.containers[container.id] = container
                self.docker.created.append(body)
            self.send_json(201, {"Id": container.id, "Warnings": []})
        elif path.endswith("/start"):
            container = self.docker.find(path.split("/")[3])
            if container is None:
                self._not_found("container")
                return
            behaviour = self.docker.behaviours.get(container.config["Image"], Behaviour())
            env = dict(item.split("=", 1) for item in container.config.get("Env") or [])
            container.process = ContainerProcess(
                behaviour.argv or container.config["Cmd"],
                env,
                container.host_dir(container.config.get("WorkingDir")),
                oom=behaviour.oom,
            )
            self.send_empty(204)
        elif path.endswith("/wait"):
            container = self.docker.find(path.split("/")[3])
            if container is None or container.process is None:
                self._not_found("container")
                return
            self.send_json(200, {"StatusCode": container.process.wait(), "Error": None})
        elif path.endswith("/kill"):
            container = self.docker.find(path.split("/")[3])
            if container is None or container.process is None:
                self._not_found("container")
                return
            name = query.get("signal") or "SIGKILL"
            signum = (
                int(name) if name.isdigit() else int(getattr(signal, name if name.startswith("SIG") else f"SIG{name}"))
            )
            if not container.process.signal(signum):
                self.send_json(409, {"message": f"Container {container.id} is not running"})
                return
            self.send_empty(204)
        else:
            self._not_found(f"route {path}")

    def do_DELETE(self) -> None:
        path, _ = self.route
        container = self.docker.find(path.split("/")[3]) if path.startswith(f"{PREFIX}/containers/") else None
        if container is None:
            self._not_found("container")
            return
        if container.process is not None and container.process.running:
            container.process.stop()
        container.removed = True
        self.send_empty(204)


@contextlib.contextmanager
def fake_docker(**options: Any) -> Iterator[FakeDocker]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeDocker(httpd=httpd, **options)
    httpd.fake = fake  # type: ignore[attr-defined]
    fake.serve()
    try:
        yield fake
    finally:
        fake.stop_all()
        fake.close()
