from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from controlplane.apikeys.models import ApiKey
from controlplane.audit.services import audit_record
from controlplane.core.errors import unique_or_conflict
from controlplane.orgs.models import Organization, ServiceAccount
from controlplane.orgs.principals import Actor


@transaction.atomic
def service_account_create(
    *, actor: Actor, organization: Organization, name: str, description: str = ""
) -> ServiceAccount:
    with unique_or_conflict(f"A service account named {name!r} already exists.", field="name"):
        account: ServiceAccount = ServiceAccount.dangerously_unscoped.create(
            organization=organization, name=name, description=description, created_by=actor.principal.user
        )
    audit_record(actor=actor, action="service_account.created", organization=organization, target=account)
    return account


@transaction.atomic
def service_account_update(*, actor: Actor, account: ServiceAccount, description: str) -> ServiceAccount:
    account.description = description
    account.save(update_fields=["description", "updated_at"])
    audit_record(actor=actor, action="service_account.updated", organization=account.organization, target=account)
    return account


@transaction.atomic
def service_account_delete(*, actor: Actor, account: ServiceAccount) -> None:
    """Delete the account; its keys and workspace roles go with it (the audit entry stays)."""
    revoked = ApiKey.dangerously_unscoped.filter(service_account=account, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="service_account.deleted",
        organization=account.organization,
        target=account,
        changes={"keys_revoked": revoked},
    )
    account.delete()
