"""What action templates can read: the triggering event, the automation, and the flow run and
deployment the event is about (looked up in the automation's workspace)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from controlplane.automations.models import Firing
from controlplane.flows.models import Deployment
from controlplane.runs.models import FlowRun

RESOURCE_ID = "tether.resource.id"


def _tether_id(labels: dict[str, Any], kind: str) -> str | None:
    value = labels.get(RESOURCE_ID)
    prefix = f"tether.{kind}."
    if isinstance(value, str) and value.startswith(prefix):
        return value.removeprefix(prefix)
    return None


def related_id(event: dict[str, Any] | None, kind: str) -> str | None:
    """The id of the event's resource, or of a related one, of `kind` (flow-run, deployment, …)."""
    if not event:
        return None
    found = _tether_id(event.get("resource") or {}, kind)
    if found:
        return found
    for item in event.get("related") or []:
        found = _tether_id(item, kind)
        if found:
            return found
    return None


def _resource_view(labels: dict[str, Any]) -> dict[str, Any]:
    """The labels plus short names: {{ event.resource.id }} reads tether.resource.id."""
    return {
        **labels,
        "id": labels.get(RESOURCE_ID),
        "name": labels.get("tether.resource.name"),
        "role": labels.get("tether.resource.role"),
    }


def _valid_uuid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


def template_context(firing: Firing) -> dict[str, Any]:
    event = firing.triggering_event or {}
    automation = firing.automation
    workspace = automation.workspace
    base_url = f"{settings.PUBLIC_URL}/o/{workspace.organization.slug}/w/{workspace.slug}"
    context: dict[str, Any] = {
        "automation": {"id": str(automation.pk), "name": automation.name},
        "firing": {"id": str(firing.pk), "reason": firing.reason, "occurred": firing.created_at.isoformat()},
        "workspace": {"slug": workspace.slug, "organization": workspace.organization.slug, "url": base_url},
        "event": None,
        "flow_run": None,
        "deployment": None,
    }
    if event:
        context["event"] = {
            **event,
            "resource": _resource_view(event.get("resource") or {}),
            "related": [_resource_view(item) for item in event.get("related") or []],
        }
    run_id = _valid_uuid(related_id(event, "flow-run"))
    run = FlowRun.objects.select_related("deployment", "flow").filter(pk=run_id).first() if run_id else None
    if run is not None:
        context["flow_run"] = {
            "id": str(run.pk),
            "name": run.name,
            "flow": run.flow.name,
            "state": run.state_name or run.state_type,
            "state_type": run.state_type,
            "state_message": (run.state_message or "")[:1000],
            "parameters": run.parameters,
            "url": f"{base_url}/flow-runs/{run.pk}",
        }
    deployment_id = _valid_uuid(related_id(event, "deployment"))
    deployment = Deployment.objects.select_related("flow").filter(pk=deployment_id).first() if deployment_id else None
    if deployment is not None:
        context["deployment"] = {
            "id": str(deployment.pk),
            "name": deployment.name,
            "flow": deployment.flow.name,
            "url": f"{base_url}/deployments/{deployment.pk}",
        }
    return context
