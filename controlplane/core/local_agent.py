"""The agent `make up` runs beside the embedded server: a real `tether agent start` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from controlplane.core.demo import DEMO_POOL


class LocalAgent:
    def __init__(self, *, api_url: str, key: str) -> None:
        self.api_url = api_url
        self._key = key
        self.log_path = Path(settings.VAR_DIR) / "local-agent.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()

    def start_when_ready(self, server_url: str) -> None:
        """Start the agent once the server answers (the server starts after this returns)."""
        threading.Thread(target=self._start, args=(server_url,), name="tether-local-agent", daemon=True).start()

    def _start(self, server_url: str) -> None:
        deadline = time.monotonic() + 60
        while not self._stopping.is_set() and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{server_url}/readyz", timeout=2):  # noqa: S310 - our own local server
                    break
            except OSError:
                time.sleep(0.2)
        if self._stopping.is_set():
            return
        env = {**os.environ, "TETHER_API_URL": self.api_url, "TETHER_API_KEY": self._key}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        work_dir = Path(settings.VAR_DIR) / "agent"
        work_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "tether", "agent", "start", "--pool", DEMO_POOL, "--name", "local"]
        command += ["--work-dir", str(work_dir)]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603

    def stop(self, timeout: float = 20.0) -> None:
        """Drain: SIGTERM lets running flows finish (up to the agent's drain timeout)."""
        self._stopping.set()
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
