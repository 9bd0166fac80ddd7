"""Following a started ECS task: DescribeTasks polls, CloudWatch log lines, StopTask; AWS errors in plain words."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from tether.agent.infrastructure.base import EXIT_KILLED, Exit, InfrastructureError

logger = logging.getLogger(__name__)

STOP_REASON = "Cancelled by Tether"
# Consecutive failed DescribeTasks calls (network, throttling) tolerated before the run counts as lost.
MAX_POLL_FAILURES = 12
NOT_STARTED = frozenset({"PROVISIONING", "PENDING", "ACTIVATING"})
# Answers that mean "these credentials are wrong", not "this request is wrong".
CREDENTIAL_ERRORS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "AccessDenied",
        "AccessDeniedException",
    }
)
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


def botocore_errors() -> Any:
    import botocore.exceptions  # type: ignore[import-untyped]

    return botocore.exceptions


def error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: Any) -> str:
    message = str(exc.response.get("Error", {}).get("Message", "") or exc)
    inner = _XML_MESSAGE.search(message)  # an error page in XML (some gateways, emulators) instead of JSON
    return (inner.group(1) if inner else message)[:300]


def _refused_credentials(exc: Any) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(exc) in CREDENTIAL_ERRORS or status in (401, 403)


def aws_error(action: str, exc: Exception) -> InfrastructureError:
    """An InfrastructureError that says what the operator can do about `exc`."""
    errors = botocore_errors()
    if isinstance(exc, errors.NoCredentialsError):
        return InfrastructureError(
            "No AWS credentials: set the `aws_credentials` job variable to an aws-credentials block, "
            "or give the agent credentials the usual way (environment, profile, instance or task role)."
        )
    if isinstance(exc, errors.NoRegionError):
        return InfrastructureError(
            "No AWS region: set the `region` job variable or `region_name` in the aws-credentials block."
        )
    if isinstance(exc, errors.ClientError):
        code = error_code(exc)
        if _refused_credentials(exc):
            reason = f"({code}): {error_message(exc)}"
            return InfrastructureError(f"AWS refused the credentials while trying to {action} {reason}")
        return InfrastructureError(f"AWS ECS refused to {action} ({code}): {error_message(exc)}")
    return InfrastructureError(f"Could not {action}: {exc}")


class EcsHandle:
    """A started task. Polls DescribeTasks (never more often than `poll_seconds`) until it is STOPPED."""

    def __init__(
        self,
        *,
        ecs: Any,
        logs_client: Any,
        cluster: str,
        task_arn: str,
        container_name: str,
        poll_seconds: float,
        start_timeout: float,
        log_stream: tuple[str, str] | None,
    ) -> None:
        self._ecs = ecs
        self._logs = logs_client
        self._cluster = cluster
        self.task_arn = task_arn
        self._container_name = container_name
        self._poll_seconds = poll_seconds
        self._start_timeout = start_timeout
        self._log_stream = log_stream
        self._started_at = time.monotonic()
        self._last_poll = float("-inf")
        self._failures = 0
        self._lock = threading.Lock()
        self._exit: Exit | None = None

    @property
    def identifier(self) -> str:
        return f"ecs task {self._cluster.rsplit('/', 1)[-1]}/{self.task_arn.rsplit('/', 1)[-1]}"

    def _describe(self) -> dict[str, Any] | None:
        response = self._ecs.describe_tasks(cluster=self._cluster, tasks=[self.task_arn])
        tasks = response.get("tasks") or []
        return dict(tasks[0]) if tasks else None

    def _exit_of(self, task: Mapping[str, Any]) -> Exit:
        containers = task.get("containers") or []
        container = next((c for c in containers if c.get("name") == self._container_name), None)
        if container is None and containers:
            container = containers[0]
        code = container.get("exitCode") if container else None
        container_reason = container.get("reason") if container else None
        stopped_reason = task.get("stoppedReason") or None
        if code is not None:
            return Exit(int(code), None if code == 0 else (container_reason or stopped_reason))
        # Never ran, or was stopped before its process ended: say why ECS stopped it.
        reasons = [str(r) for r in (task.get("stopCode"), stopped_reason, container_reason) if r]
        return Exit(EXIT_KILLED, ": ".join(reasons) or "the task stopped without an exit code")

    def _poll(self) -> Exit | None:
        """One DescribeTasks, at most every `poll_seconds`: how the task ended, or None while it has not."""
        with self._lock:
            if self._exit is not None or time.monotonic() - self._last_poll < self._poll_seconds:
                return self._exit
            self._last_poll = time.monotonic()
        errors = botocore_errors()
        try:
            task = self._describe()
        except (errors.ClientError, errors.BotoCoreError) as exc:
            self._failures += 1
            logger.warning("Could not describe %s (%d in a row): %s", self.identifier, self._failures, exc)
            if self._failures >= MAX_POLL_FAILURES:
                return self._settle(Exit(EXIT_KILLED, f"lost track of the task: {exc}"))
            return None
        self._failures = 0
        if task is None:
            return self._settle(Exit(EXIT_KILLED, "the task is gone (ECS no longer knows it)"))
        status = task.get("lastStatus")
        if status == "STOPPED":
            return self._settle(self._exit_of(task))
        if status in NOT_STARTED and time.monotonic() - self._started_at > self._start_timeout:
            reason = f"the task did not start within {self._start_timeout:.0f}s (still {status})"
            try:
                self._stop(f"Tether: {reason}")
            except InfrastructureError as exc:
                logger.warning("Could not stop %s: %s", self.identifier, exc)
            return self._settle(Exit(EXIT_KILLED, reason))
        return None

    def _settle(self, ended: Exit) -> Exit:
        with self._lock:
            if self._exit is None:
                self._exit = ended
            return self._exit

    def _read_events(self, token: str | None) -> tuple[list[str], str | None]:
        assert self._log_stream is not None
        group, stream = self._log_stream
        arguments: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            arguments["nextToken"] = token
        errors = botocore_errors()
        try:
            response = self._logs.get_log_events(**arguments)
        except errors.ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":  # the stream appears when the container starts
                logger.warning("Could not read the logs of %s: %s", self.identifier, error_message(exc))
            return [], token
        except errors.BotoCoreError as exc:
            logger.warning("Could not read the logs of %s: %s", self.identifier, exc)
            return [], token
        lines = [line for event in response.get("events") or [] for line in str(event.get("message", "")).splitlines()]
        return lines, response.get("nextForwardToken") or token

    def logs(self) -> Iterator[str]:
        """The container's CloudWatch log lines (when `cloudwatch_logs`), until the task stopped."""
        if self._log_stream is None:
            return
        token: str | None = None
        while True:
            ended = self._poll()
            lines, token = self._read_events(token)
            yield from lines
            if ended is not None and not lines:
                return  # stopped, and the stream is drained
            if not lines:
                time.sleep(min(self._poll_seconds, 1.0))

    def wait(self) -> Exit:
        while (ended := self._poll()) is None:
            time.sleep(min(self._poll_seconds, 1.0))
        return ended

    def _stop(self, reason: str) -> bool:
        errors = botocore_errors()
        try:
            self._ecs.stop_task(cluster=self._cluster, task=self.task_arn, reason=reason)
        except errors.ClientError as exc:
            if error_code(exc) in ("InvalidParameterException", "ClientException"):
                return False  # not found: already gone
            raise aws_error("stop the task", exc) from exc
        return True

    def terminate(self) -> bool:
        """StopTask: ECS sends SIGTERM, then SIGKILL after the container's stopTimeout (30 s by default)."""
        if self._exit is not None:
            return False
        try:
            return self._stop(STOP_REASON)
        except InfrastructureError as exc:
            # Called from the agent's cancel path: log, and let the kill after the grace period try again.
            logger.warning("Could not stop %s: %s", self.identifier, exc)
            return True

    def kill(self) -> None:
        # ECS has no immediate kill: StopTask is the strongest stop there is.
        if self._exit is None:
            self._stop(STOP_REASON)
