"""A private git repository served over HTTP with basic auth, for the agent's end-to-end tests.

`git http-backend` (the smart-HTTP CGI that ships with git) behind a small threaded
http.server that demands `Authorization: Basic`. While git talks to it, the server also checks
that no process on the machine carries the password in its command line.
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class GitServer:
    url: str  # the repository's URL, without credentials
    username: str
    password: str = field(repr=False)
    authorized: int = 0
    refused: int = 0
    # Command lines (of any process) that held the password while git was talking to us.
    leaked_cmdlines: list[str] = field(default_factory=list)


def make_repository(root: Path, name: str, files: dict[str, str]) -> Path:
    """A bare repository `root/name` whose main branch holds `files`."""
    work = root / f"{name}-work"
    work.mkdir(parents=True)
    for path, text in files.items():
        (work / path).write_text(text)
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    subprocess.run([*git, "init", "--quiet", "-b", "main", str(work)], check=True)
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "--quiet", "-m", "flows"], check=True)
    bare = root / name
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work), str(bare)], check=True)
    return bare


def _cmdlines_holding(secret: bytes) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes()
                if secret in cmdline:
                    found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def _handler(state: GitServer, project_root: Path) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{state.username}:{state.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _refuse(self) -> None:
            state.refused += 1
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="private"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _serve(self) -> None:
            state.leaked_cmdlines.extend(_cmdlines_holding(state.password.encode()))
            if self.headers.get("Authorization") != expected:
                self._refuse()
                return
            state.authorized += 1
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": str(project_root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": state.username,
                "REMOTE_ADDR": self.client_address[0],
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            }
            result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            status, headers = 200, []
            for line in head.decode("latin-1").split("\r\n"):
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.strip().split()[0])
                elif key:
                    headers.append((key, value.strip()))
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve

    return Handler


@contextlib.contextmanager
def serving(project_root: Path, repository: str, *, username: str, password: str) -> Iterator[GitServer]:
    """Serve `project_root` on a free loopback port; the state names `repository`'s URL."""
    state = GitServer(url="", username=username, password=password)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, project_root))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/{repository}"
    thread = threading.Thread(target=server.serve_forever, name="git-http", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
