"""What the browser tests stand on: a real server, an SMTP sink for its mail, Debian's Chromium."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.agent_support import fresh_database
from tests.support.processes import REPO_ROOT, free_port, running, uvicorn_args

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
DIST_INDEX = REPO_ROOT / "frontend" / "dist" / "index.html"


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str


@dataclass
class MailSink:
    """Every message the server sent, as the recipients' inboxes would show it."""

    port: int
    messages: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def link(self, to: str, pattern: str, timeout: float = 30.0) -> str:
        """The first URL in a mail to `to` that matches `pattern` (waits for the mail)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for mail in self.messages:
                    if to in mail.to and (found := re.search(pattern, mail.body)):
                        return found.group(0)
            time.sleep(0.2)
        with self.lock:
            subjects = [(m.to, m.subject) for m in self.messages]
        raise AssertionError(f"no mail to {to} with {pattern!r} within {timeout}s; got {subjects}")


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321, no extensions) for Django's SMTP backend without TLS or auth."""

    sink: MailSink

    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._reply("220 sink ready")
        recipients: list[str] = []
        while raw := self.rfile.readline():
            command = raw.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 sink")
            elif verb == "MAIL":
                recipients = []
                self._reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 end with <CRLF>.<CRLF>")
                self._store(recipients, self._read_data())
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:  # RSET, NOOP and anything else
                self._reply("250 ok")

    def _read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)

    def _store(self, recipients: list[str], data: bytes) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        parts = [message] if not message.is_multipart() else list(message.walk())
        body = "\n".join(
            str(part.get_content()) for part in parts if part.get_content_type() in ("text/plain", "text/html")
        )
        with self.sink.lock:
            self.sink.messages.append(Mail(to=recipients, subject=str(message["subject"]), body=body))


@contextlib.contextmanager
def mail_sink() -> Iterator[MailSink]:
    port = free_port()
    sink = MailSink(port=port)
    handler = type("Handler", (_SmtpHandler,), {"sink": sink})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class BrowserServer:
    url: str  # what the browser opens: http://localhost:PORT
    log_path: Path
    env: dict[str, str]


@contextlib.contextmanager
def browser_server(tmp: Path, database_url: str, sink: MailSink) -> Iterator[BrowserServer]:
    """The production settings over plain HTTP, sending mail to `sink`, serving the built SPA."""
    if not DIST_INDEX.exists():
        raise AssertionError(
            f"{DIST_INDEX} is missing: build the SPA first (make setup, or cd frontend && npm run build)"
        )
    port = free_port()
    # Browsers treat localhost as a secure context, so the Secure session and CSRF cookies work over HTTP.
    public_url = f"http://localhost:{port}"
    env = fresh_database(
        database_url,
        TETHER_PUBLIC_URL=public_url,
        TETHER_ALLOWED_HOSTS="localhost,127.0.0.1",
        TETHER_EMAIL_HOST="127.0.0.1",
        TETHER_EMAIL_PORT=str(sink.port),
        TETHER_EMAIL_USE_TLS="false",
        TETHER_EMAIL_FROM="tether@localhost",
    )
    log_path = tmp / "server.log"
    with running(uvicorn_args(port), env=env, log_path=log_path, port=port):
        yield BrowserServer(url=public_url, log_path=log_path, env=env)


@dataclass
class AgentProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def agent_process(api_url: str, key: str, pool: str, tmp: Path) -> Iterator[AgentProcess]:
    log_path = tmp / "agent.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update({"TETHER_API_URL": api_url, "TETHER_API_KEY": key})
    command = [sys.executable, "-m", "tether", "agent", "start", "--pool", pool, "--work-dir", str(tmp / "work")]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield AgentProcess(process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
