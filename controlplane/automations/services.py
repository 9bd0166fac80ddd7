"""Writes for automations. Every change is audited; triggers and actions are validated first."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from controlplane.audit.services import audit_workspace_record
from controlplane.automations.actions import check_actions
from controlplane.automations.evaluation import proactive_watch_start
from controlplane.automations.models import Automation
from controlplane.automations.triggers import parse_trigger
from controlplane.orgs.models import Workspace
from controlplane.orgs.principals import Actor


def _audit(actor: Actor, action: str, automation: Automation, changes: dict[str, Any] | None = None) -> None:
    audit_workspace_record(actor=actor, action=action, target=automation, target_label=automation.name, changes=changes)


@transaction.atomic
def automation_create(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    trigger: dict[str, Any],
    actions: list[dict[str, Any]],
    description: str = "",
    enabled: bool = True,
) -> Automation:
    parse_trigger(trigger)
    check_actions(actions)
    automation: Automation = Automation.objects.create(
        workspace=workspace, name=name, description=description, enabled=enabled, trigger=trigger, actions=actions
    )
    proactive_watch_start(automation=automation)
    _audit(actor, "automation.created", automation, {"name": name, "enabled": enabled})
    return automation


@transaction.atomic
def automation_update(*, actor: Actor, automation: Automation, **changes: Any) -> Automation:
    """Change fields; a new trigger starts from a clean state (its old buckets are dropped)."""
    if "trigger" in changes:
        parse_trigger(changes["trigger"])
    if "actions" in changes:
        check_actions(changes["actions"])
    changed = {field: value for field, value in changes.items() if getattr(automation, field) != value}
    if not changed:
        return automation
    for field, value in changed.items():
        setattr(automation, field, value)
    automation.save(update_fields=[*changed, "updated_at"])
    if "trigger" in changed or changed.get("enabled") is True:
        automation.buckets.all().delete()
        proactive_watch_start(automation=automation)
    shown = {field: value for field, value in changed.items() if field in ("name", "enabled")}
    _audit(actor, "automation.updated", automation, {**shown, "fields": sorted(changed)})
    return automation


@transaction.atomic
def automation_delete(*, actor: Actor, automation: Automation) -> None:
    _audit(actor, "automation.deleted", automation, {"name": automation.name})
    automation.delete()
