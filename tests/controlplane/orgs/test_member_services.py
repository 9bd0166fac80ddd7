"""Members, ownership and invitations, service-first (RELIABILITY 7, 24)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from controlplane.accounts.models import User
from controlplane.apikeys.models import ApiKey
from controlplane.audit.models import AuditEntry, AuditEntryImmutable
from controlplane.core.errors import Conflict, Forbidden, ValidationFailed
from controlplane.orgs.models import Invitation, InvitationStatus, OrgMembership, WorkspaceMembership
from controlplane.orgs.roles import OrgRole
from controlplane.orgs.services.invitations import invitation_accept, invitation_create, invitation_decline
from controlplane.orgs.services.members import (
    org_leave,
    org_member_remove,
    org_member_set_role,
    org_ownership_transfer,
)
from tests.support.clients import bearer, session
from tests.support.tenants import World, actor_for, make_user, personal_key


def _membership(world: World, user: User) -> OrgMembership:
    return OrgMembership.dangerously_unscoped.get(organization=world.acme, user=user)


def _actions() -> list[str]:
    return list(AuditEntry.dangerously_unscoped.order_by("created_at").values_list("action", flat=True))


def test_the_last_owner_cannot_leave_be_removed_or_demoted(world: World) -> None:
    owner = _membership(world, world.alice)
    with pytest.raises(Conflict, match="at least one owner"):
        org_leave(actor=actor_for(world.alice), organization=world.acme)
    with pytest.raises(Conflict):
        org_member_remove(actor=actor_for(world.alice), membership=owner)
    with pytest.raises(Conflict):
        org_member_set_role(actor=actor_for(world.alice), membership=owner, role=OrgRole.ADMIN)
    assert _membership(world, world.alice).role == OrgRole.OWNER


def test_transfer_ownership_swaps_roles_and_is_audited(world: World) -> None:
    org_ownership_transfer(actor=actor_for(world.alice), organization=world.acme, to_user=world.bob)
    assert _membership(world, world.bob).role == OrgRole.OWNER
    assert _membership(world, world.alice).role == OrgRole.ADMIN
    entry = AuditEntry.dangerously_unscoped.get(action="org.ownership_transferred")
    assert entry.actor_label == "alice@acme.test"
    assert entry.organization_id == world.acme.id


def test_only_an_owner_makes_owners(world: World) -> None:
    admin = make_user("dave@acme.test")
    OrgMembership.dangerously_unscoped.create(organization=world.acme, user=admin, role=OrgRole.ADMIN)
    with pytest.raises(ValidationFailed, match="Only an owner"):
        org_member_set_role(actor=actor_for(admin), membership=_membership(world, world.bob), role=OrgRole.OWNER)


def test_removing_a_member_cuts_off_session_keys_and_workspace_roles_at_once(world: World) -> None:
    bob_key = personal_key(world.bob, world.acme)
    bob_session = session(world.bob)
    url = "/api/v1/orgs/acme/workspaces/prod/access/"
    assert bearer(bob_key).get(url).status_code == 200
    assert bob_session.get(url).status_code == 200

    org_member_remove(actor=actor_for(world.alice), membership=_membership(world, world.bob))

    assert bearer(bob_key).get(url).status_code == 401  # the key was revoked
    assert bob_session.get(url).status_code == 404  # the session no longer reaches acme
    assert not WorkspaceMembership.dangerously_unscoped.filter(user=world.bob).exists()
    assert ApiKey.dangerously_unscoped.get(user=world.bob).revoked_at is not None
    entry = AuditEntry.dangerously_unscoped.get(action="org.member.removed")
    assert entry.changes == {"keys_revoked": 1}


def test_invitation_round_trip(world: World) -> None:
    invited = make_user("erin@acme.test")
    _, token = invitation_create(
        actor=actor_for(world.alice),
        organization=world.acme,
        email="Erin@Acme.test",
        workspace=world.staging,
        workspace_role="developer",
    )
    assert len(mail.outbox) == 0  # sent on commit; pytest's transaction never commits
    invitation_accept(actor=actor_for(invited), token=token)
    assert _membership(world, invited).role == OrgRole.MEMBER
    assert WorkspaceMembership.dangerously_unscoped.get(workspace=world.staging, user=invited).role == "developer"
    with pytest.raises(Conflict, match="already accepted"):
        invitation_accept(actor=actor_for(invited), token=token)
    assert _actions()[-2:] == ["org.invitation.created", "org.invitation.accepted"]


def test_invitation_for_another_email_cannot_be_used(world: World) -> None:
    _, token = invitation_create(actor=actor_for(world.alice), organization=world.acme, email="erin@acme.test")
    with pytest.raises(Forbidden, match="different email"):
        invitation_accept(actor=actor_for(world.charlie), token=token)
    assert not OrgMembership.dangerously_unscoped.filter(organization=world.acme, user=world.charlie).exists()


def test_expired_and_declined_invitations(world: World) -> None:
    erin = make_user("erin@acme.test")
    invitation, token = invitation_create(actor=actor_for(world.alice), organization=world.acme, email=erin.email)
    Invitation.dangerously_unscoped.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationFailed, match="expired"):
        invitation_accept(actor=actor_for(erin), token=token)
    _, token2 = invitation_create(actor=actor_for(world.alice), organization=world.acme, email=erin.email)
    invitation_decline(actor=actor_for(erin), token=token2)
    assert Invitation.dangerously_unscoped.filter(status=InvitationStatus.DECLINED).count() == 1


def test_cannot_invite_an_owner_or_an_existing_member(world: World) -> None:
    with pytest.raises(ValidationFailed):
        invitation_create(actor=actor_for(world.alice), organization=world.acme, email="x@y.test", org_role="owner")
    with pytest.raises(Conflict, match="already a member"):
        invitation_create(actor=actor_for(world.alice), organization=world.acme, email="BOB@acme.test")


@pytest.mark.django_db(transaction=True)
def test_invitation_email_is_sent_with_the_link(world: World) -> None:
    _, token = invitation_create(actor=actor_for(world.alice), organization=world.acme, email="erin@acme.test")
    (message,) = mail.outbox
    assert message.to == ["erin@acme.test"]
    assert f"/invitations/accept?token={token}" in message.body


def test_audit_entries_cannot_be_changed_or_deleted(world: World) -> None:
    entry = AuditEntry.dangerously_unscoped.first()
    assert entry is not None
    entry.action = "tampered"
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    with pytest.raises(AuditEntryImmutable):
        entry.delete()


def test_audit_log_api_is_read_only_and_for_admins(world: World) -> None:
    alice = session(world.alice)
    body = alice.get("/api/v1/orgs/acme/audit-log/").json()
    actions = {item["action"] for item in body["results"]}
    assert {"org.created", "workspace.created"} <= actions
    assert all(item["actor_label"] for item in body["results"])
    assert alice.post("/api/v1/orgs/acme/audit-log/", {}, format="json").status_code == 405
    assert session(world.bob).get("/api/v1/orgs/acme/audit-log/").status_code == 403
