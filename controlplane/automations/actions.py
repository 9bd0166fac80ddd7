"""Action documents: validation when an automation is saved, and execution when it fires.

Each action is `{"type": ..., ...}`; templated fields (`parameters`, `subject`, `body`,
`payload`) are rendered with the firing's context (see automations.context). Ids name
objects of the automation's own workspace; a flow run or deployment may be left out to mean
"the one the triggering event is about".
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from django.db import transaction

from controlplane.automations import outbound
from controlplane.automations.context import related_id
from controlplane.automations.models import ActionRun, Automation, DeliveryAttempt, DeliveryOutcome
from controlplane.blocks.models import BlockDocument
from controlplane.blocks.services import block_document_reveal
from controlplane.core.errors import NotFound, TetherError, ValidationFailed
from controlplane.events.templating import TemplateError, check_template, render
from controlplane.flows.models import Deployment
from controlplane.flows.services import deployment_set_paused
from controlplane.orgs.principals import Actor
from controlplane.runs.orchestration.context import ResultStatus, StateSpec
from controlplane.runs.services.flow_runs import FlowRunRequest, flow_run_cancel, flow_run_create, flow_run_set_state
from controlplane.runs.states import SUSPENDED, StateType
from controlplane.workpools.models import WorkPool, WorkQueue
from controlplane.workpools.services import work_pool_set_paused, work_queue_set_paused

logger = logging.getLogger(__name__)

NOTIFICATION_BLOCK_TYPES = ("slack-webhook", "webhook", "smtp")
FLOW_RUN_ACTIONS = ("cancel-flow-run", "suspend-flow-run", "resume-flow-run", "change-flow-run-state")
ACTION_TYPES = (
    "run-deployment",
    "pause-deployment",
    "resume-deployment",
    "pause-work-pool",
    "resume-work-pool",
    "pause-work-queue",
    "resume-work-queue",
    *FLOW_RUN_ACTIONS,
    "send-notification",
    "call-webhook",
    "pause-automation",
    "resume-automation",
)
MAX_ACTIONS = 20


class ActionFailed(TetherError):
    """An action that did not complete; `retryable` says whether the next attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


# --- validation ---------------------------------------------------------------------------------


def _fail(index: int, field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={f"actions[{index}].{field}": [message]})


def _uuid(action: dict[str, Any], field: str, index: int, *, required: bool) -> uuid.UUID | None:
    value = action.get(field)
    if value is None:
        if required:
            raise _fail(index, field, f"{field} is required.")
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise _fail(index, field, f"{field} is not a UUID.") from None


def _exists(model: Any, pk: uuid.UUID | None, index: int, field: str, label: str) -> None:
    if pk is not None and not model.objects.filter(pk=pk).exists():
        raise NotFound(f"{label} not found.", details={f"actions[{index}].{field}": ["not found"]})


def _template(action: dict[str, Any], field: str, index: int) -> None:
    try:
        check_template(action.get(field))
    except TemplateError as exc:
        raise _fail(index, field, str(exc)) from None


def _check_literal_url(url: Any, index: int) -> None:
    """Refuse, when saving, a URL whose host is an internal address literal (names are checked when called)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise _fail(index, "url", "url is an http:// or https:// URL.")
    try:
        outbound.check_literal(url)
    except outbound.OutboundRefused as exc:
        raise _fail(index, "url", str(exc)) from None


def check_actions(actions: Any) -> list[dict[str, Any]]:
    """Validate action documents in the current workspace: 422 for a bad shape, 404 for a missing object."""
    if not isinstance(actions, list) or len(actions) > MAX_ACTIONS:
        raise ValidationFailed(f"actions is a list of at most {MAX_ACTIONS} actions.", details={"actions": ["invalid"]})
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            raise _fail(index, "type", f"type is one of: {', '.join(ACTION_TYPES)}.")
        kind = action["type"]
        if kind == "run-deployment":
            _exists(
                Deployment, _uuid(action, "deployment_id", index, required=False), index, "deployment_id", "Deployment"
            )
            if not isinstance(action.get("parameters", {}), dict):
                raise _fail(index, "parameters", "parameters is an object (values may be templates).")
            _template(action, "parameters", index)
        elif kind in ("pause-deployment", "resume-deployment"):
            _exists(
                Deployment, _uuid(action, "deployment_id", index, required=False), index, "deployment_id", "Deployment"
            )
        elif kind in ("pause-work-pool", "resume-work-pool"):
            _exists(WorkPool, _uuid(action, "work_pool_id", index, required=True), index, "work_pool_id", "Work pool")
        elif kind in ("pause-work-queue", "resume-work-queue"):
            _exists(
                WorkQueue, _uuid(action, "work_queue_id", index, required=True), index, "work_queue_id", "Work queue"
            )
        elif kind in FLOW_RUN_ACTIONS:
            _uuid(action, "flow_run_id", index, required=False)
            if kind == "change-flow-run-state":
                state = action.get("state")
                if not isinstance(state, dict) or state.get("type") not in StateType.values:
                    raise _fail(index, "state", "state is {type, name?, message?} with a state type.")
        elif kind == "send-notification":
            block_id = _uuid(action, "block_id", index, required=True)
            assert block_id is not None
            block = BlockDocument.objects.select_related("block_type").filter(pk=block_id).first()
            if block is None:
                raise NotFound("Block not found.", details={f"actions[{index}].block_id": ["not found"]})
            if block.block_type.slug not in NOTIFICATION_BLOCK_TYPES:
                raise _fail(
                    index, "block_id", f"Notifications go through a {', '.join(NOTIFICATION_BLOCK_TYPES)} block."
                )
            if block.block_type.slug == "smtp" and not action.get("to"):
                raise _fail(index, "to", "An email notification needs `to` (a list of addresses).")
            for field in ("subject", "body", "to"):
                _template(action, field, index)
        elif kind == "call-webhook":
            block_id = _uuid(action, "block_id", index, required=False)
            if block_id is not None:
                block = BlockDocument.objects.select_related("block_type").filter(pk=block_id).first()
                if block is None or block.block_type.slug != "webhook":
                    raise NotFound("Webhook block not found.", details={f"actions[{index}].block_id": ["not found"]})
            else:
                _check_literal_url(action.get("url"), index)
            if action.get("method", "POST") not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                raise _fail(index, "method", "method is GET, POST, PUT, PATCH or DELETE.")
            _template(action, "payload", index)
        elif kind in ("pause-automation", "resume-automation"):
            _exists(
                Automation, _uuid(action, "automation_id", index, required=False), index, "automation_id", "Automation"
            )
    return actions


# --- execution ----------------------------------------------------------------------------------


@dataclass
class Execution:
    """What an action handler gets: the action run (locked), the rendered template context, an actor."""

    run: ActionRun
    context: dict[str, Any]
    actor: Actor
    deliveries: list[DeliveryAttempt] = field(default_factory=list)

    @property
    def action(self) -> dict[str, Any]:
        return dict(self.run.action)

    @property
    def event(self) -> dict[str, Any] | None:
        event: dict[str, Any] | None = self.run.firing.triggering_event
        return event

    def record_delivery(
        self, target: str, outcome: str, *, status_code: int | None = None, error: str = "", started: float
    ) -> None:
        """Noted here and saved by the caller after the action's savepoint, so failed attempts are kept."""
        self.deliveries.append(
            DeliveryAttempt(
                workspace_id=self.run.workspace_id,
                action_run=self.run,
                attempt=self.run.attempts,
                target=target[:512],
                outcome=outcome,
                status_code=status_code,
                error=error[:2000],
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        )


def _target_id(execution: Execution, field: str, kind: str) -> uuid.UUID:
    value = execution.action.get(field) or related_id(execution.event, kind)
    if not value:
        raise ActionFailed(f"No {kind} to act on: name one with {field}, or trigger on an event about one.")
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ActionFailed(f"{field} {value!r} is not a UUID.") from None


def _deployment(execution: Execution) -> Deployment:
    deployment = (
        Deployment.objects.select_related("flow")
        .filter(pk=_target_id(execution, "deployment_id", "deployment"))
        .first()
    )
    if deployment is None:
        raise ActionFailed("The deployment no longer exists.")
    return deployment


def _run_deployment(execution: Execution) -> dict[str, Any]:
    deployment = _deployment(execution)
    parameters = render(execution.action.get("parameters") or {}, execution.context)
    created = flow_run_create(
        workspace=deployment.workspace,
        actor=execution.actor,
        request=FlowRunRequest(
            deployment=deployment,
            parameters=parameters,
            tags=["automation"],
            # The action run's id: a retried action answers with the run it already created.
            idempotency_key=f"automation-action:{execution.run.pk}",
        ),
    )
    return {"flow_run_id": str(created.run.pk), "created": created.created}


def _set_deployment_paused(paused: bool) -> Callable[[Execution], dict[str, Any]]:
    def handler(execution: Execution) -> dict[str, Any]:
        deployment = deployment_set_paused(actor=execution.actor, deployment=_deployment(execution), paused=paused)
        return {"deployment_id": str(deployment.pk), "paused": paused}

    return handler


def _set_pool_paused(paused: bool) -> Callable[[Execution], dict[str, Any]]:
    def handler(execution: Execution) -> dict[str, Any]:
        pool = WorkPool.objects.filter(pk=str(execution.action.get("work_pool_id"))).first()
        if pool is None:
            raise ActionFailed("The work pool no longer exists.")
        work_pool_set_paused(actor=execution.actor, pool=pool, paused=paused)
        return {"work_pool_id": str(pool.pk), "paused": paused}

    return handler


def _set_queue_paused(paused: bool) -> Callable[[Execution], dict[str, Any]]:
    def handler(execution: Execution) -> dict[str, Any]:
        queue_id = str(execution.action.get("work_queue_id"))
        queue = WorkQueue.objects.select_related("pool").filter(pk=queue_id).first()
        if queue is None:
            raise ActionFailed("The work queue no longer exists.")
        work_queue_set_paused(actor=execution.actor, queue=queue, paused=paused)
        return {"work_queue_id": str(queue.pk), "paused": paused}

    return handler


def _flow_run_result(result: Any, run_id: uuid.UUID) -> dict[str, Any]:
    if result.status not in (ResultStatus.ACCEPT, ResultStatus.WAIT):
        raise ActionFailed(f"The flow run refused the transition: {result.reason}")
    return {"flow_run_id": str(run_id), "state_type": result.state.type, "status": result.status}


def _flow_run_action(execution: Execution) -> dict[str, Any]:
    run_id = _target_id(execution, "flow_run_id", "flow-run")
    kind = execution.action["type"]
    try:
        if kind == "cancel-flow-run":
            return _flow_run_result(flow_run_cancel(run_id=run_id), run_id)
        if kind == "suspend-flow-run":
            spec = StateSpec(type=StateType.PAUSED, name=SUSPENDED, message="Suspended by an automation.")
            return _flow_run_result(flow_run_set_state(run_id=run_id, proposed=spec), run_id)
        if kind == "resume-flow-run":
            from controlplane.runs.services.pauses import flow_run_resume

            return _flow_run_result(flow_run_resume(run_id=run_id, run_input=None, actor=execution.actor), run_id)
        state = execution.action["state"]
        spec = StateSpec(
            type=state["type"],
            name=state.get("name", ""),
            message=str(render(state.get("message", "Set by an automation."), execution.context))[:1000],
        )
        return _flow_run_result(flow_run_set_state(run_id=run_id, proposed=spec), run_id)
    except TetherError as exc:
        if isinstance(exc, ActionFailed):
            raise
        raise ActionFailed(exc.message) from None


def _set_automation_enabled(enabled: bool) -> Callable[[Execution], dict[str, Any]]:
    def handler(execution: Execution) -> dict[str, Any]:
        target = execution.action.get("automation_id") or execution.run.firing.automation_id
        updated = Automation.objects.filter(pk=target).update(enabled=enabled)
        if not updated:
            raise ActionFailed("The automation no longer exists.")
        return {"automation_id": str(target), "enabled": enabled}

    return handler


def _deliver(execution: Execution, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    started = time.monotonic()
    target = outbound.target_label(url)
    headers = {**kwargs.pop("headers", {}), "Idempotency-Key": str(execution.run.pk), "User-Agent": "Tether"}
    try:
        delivered = outbound.send(method, url, headers=headers, **kwargs)
    except outbound.OutboundError as exc:
        outcome = DeliveryOutcome.REFUSED if isinstance(exc, outbound.OutboundRefused) else DeliveryOutcome.FAILED
        execution.record_delivery(
            target, outcome, status_code=getattr(exc, "status_code", None), error=str(exc), started=started
        )
        raise ActionFailed(str(exc), retryable=exc.retryable) from None
    execution.record_delivery(target, DeliveryOutcome.DELIVERED, status_code=delivered.status_code, started=started)
    return {"target": delivered.target, "status_code": delivered.status_code}


def _revealed(execution: Execution, block_id: Any) -> tuple[str, dict[str, Any]]:
    block = BlockDocument.objects.select_related("block_type").filter(pk=block_id).first()
    if block is None:
        raise ActionFailed("The block no longer exists.")
    return block.block_type.slug, block_document_reveal(actor=execution.actor, document=block)


def _send_email(execution: Execution, config: dict[str, Any], subject: str, body: str) -> dict[str, Any]:
    started = time.monotonic()
    host, port = str(config.get("host", "")), int(config.get("port") or 587)
    target = f"smtp://{host}:{port}"
    recipients = render(execution.action.get("to"), execution.context)
    recipients = [recipients] if isinstance(recipients, str) else list(recipients or [])
    message = EmailMessage()
    message["Subject"], message["From"] = subject[:250], config.get("from_address") or "tether@localhost"
    message["To"] = ", ".join(str(address) for address in recipients)
    message.set_content(body)
    try:
        checked = outbound.check_target(f"http://{host}:{port}")
        security = config.get("security", "starttls")
        timeout = 10.0
        smtp: smtplib.SMTP = (
            smtplib.SMTP_SSL(str(checked.address), port, timeout=timeout, context=ssl.create_default_context())
            if security == "ssl"
            else smtplib.SMTP(str(checked.address), port, timeout=timeout)
        )
        with smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.get("username"):
                smtp.login(str(config["username"]), str(config.get("password", "")))
            smtp.send_message(message)
    except outbound.OutboundError as exc:
        outcome = DeliveryOutcome.REFUSED if isinstance(exc, outbound.OutboundRefused) else DeliveryOutcome.FAILED
        execution.record_delivery(target, outcome, error=str(exc), started=started)
        raise ActionFailed(str(exc), retryable=exc.retryable) from None
    except (OSError, smtplib.SMTPException) as exc:
        execution.record_delivery(target, DeliveryOutcome.FAILED, error=f"{type(exc).__name__}: {exc}", started=started)
        raise ActionFailed(f"Could not send email through {target}: {type(exc).__name__}.", retryable=True) from None
    execution.record_delivery(target, DeliveryOutcome.DELIVERED, started=started)
    return {"target": target, "recipients": len(recipients)}


def _send_notification(execution: Execution) -> dict[str, Any]:
    subject = str(render(execution.action.get("subject") or "Tether: {{ automation.name }}", execution.context) or "")
    body = str(render(execution.action.get("body") or "{{ firing.reason }}", execution.context) or "")
    slug, config = _revealed(execution, execution.action.get("block_id"))
    if slug == "slack-webhook":
        return _deliver(
            execution, "POST", str(config["url"]), json={"text": f"*{subject}*\n{body}" if subject else body}
        )
    if slug == "webhook":
        headers = {**(config.get("headers") or {}), **(config.get("secret_headers") or {})}
        payload = {"subject": subject, "body": body, "automation": execution.context["automation"]}
        return _deliver(execution, config.get("method") or "POST", str(config["url"]), headers=headers, json=payload)
    if slug == "smtp":
        return _send_email(execution, config, subject, body)
    raise ActionFailed(f"A {slug} block cannot send notifications.")


def _call_webhook(execution: Execution) -> dict[str, Any]:
    action = execution.action
    headers: dict[str, str] = dict(action.get("headers") or {})
    if action.get("block_id"):
        _, config = _revealed(execution, action["block_id"])
        url, method = str(config["url"]), str(config.get("method") or action.get("method") or "POST")
        headers.update(config.get("headers") or {})
        headers.update(config.get("secret_headers") or {})
    else:
        url, method = str(action["url"]), str(action.get("method") or "POST")
    payload = render(
        action.get("payload", {"event": "{{ event }}", "automation": "{{ automation }}"}), execution.context
    )
    if isinstance(payload, str):
        return _deliver(
            execution, method, url, headers={"Content-Type": "text/plain", **headers}, content=payload.encode()
        )
    return _deliver(execution, method, url, headers=headers, json=payload)


HANDLERS: dict[str, Callable[[Execution], dict[str, Any]]] = {
    "run-deployment": _run_deployment,
    "pause-deployment": _set_deployment_paused(True),
    "resume-deployment": _set_deployment_paused(False),
    "pause-work-pool": _set_pool_paused(True),
    "resume-work-pool": _set_pool_paused(False),
    "pause-work-queue": _set_queue_paused(True),
    "resume-work-queue": _set_queue_paused(False),
    **{kind: _flow_run_action for kind in FLOW_RUN_ACTIONS},
    "send-notification": _send_notification,
    "call-webhook": _call_webhook,
    "pause-automation": _set_automation_enabled(False),
    "resume-automation": _set_automation_enabled(True),
}


def execute(execution: Execution) -> dict[str, Any]:
    """Run the action; its own writes are undone if it fails (delivery attempts are kept)."""
    handler = HANDLERS.get(execution.action.get("type", ""))
    if handler is None:
        raise ActionFailed(f"Unknown action type {execution.action.get('type')!r}.")
    try:
        with transaction.atomic():
            return handler(execution)
    except ActionFailed:
        raise
    except TemplateError as exc:
        raise ActionFailed(f"A template of this action is invalid: {exc}") from None
    except TetherError as exc:
        raise ActionFailed(exc.message) from None
    except Exception:
        # A bug, not the target's fault: logged with its traceback, retried with backoff.
        logger.exception("action %s of firing %s failed unexpectedly", execution.run.index, execution.run.firing_id)
        raise ActionFailed("The action failed unexpectedly; the error is in the server log.", retryable=True) from None
