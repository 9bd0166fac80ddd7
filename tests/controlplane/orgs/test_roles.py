"""The role table itself: the facts the product promises about each role."""

from __future__ import annotations

from controlplane.orgs.roles import ORG_ROLE_SCOPES, WORKSPACE_ROLE_SCOPES, OrgRole, Scope, WorkspaceRole


def _writes(scopes: frozenset[Scope]) -> set[str]:
    return {s.value for s in scopes if not s.value.endswith(":read")}


def test_viewer_only_reads() -> None:
    assert _writes(WORKSPACE_ROLE_SCOPES[WorkspaceRole.VIEWER]) == set()


def test_runner_can_only_start_and_cancel_runs() -> None:
    assert _writes(WORKSPACE_ROLE_SCOPES[WorkspaceRole.RUNNER]) == {"runs:write"}


def test_worker_runs_work_but_cannot_see_members_or_administer() -> None:
    worker = WORKSPACE_ROLE_SCOPES[WorkspaceRole.WORKER]
    assert Scope.WORKSPACE_MEMBERS_READ not in worker
    assert _writes(worker) == {"runs:claim", "runs:report", "events:write"}


def test_only_owners_manage_members_and_reveal_secrets_among_humans() -> None:
    for role, scopes in WORKSPACE_ROLE_SCOPES.items():
        if role != WorkspaceRole.OWNER:
            assert Scope.WORKSPACE_MEMBERS_WRITE not in scopes
            assert Scope.WORKSPACE_ADMIN not in scopes
        if role != WorkspaceRole.OWNER:
            assert Scope.BLOCKS_REVEAL not in scopes  # agents reveal through run tokens only


def test_developer_cannot_reveal_secrets_or_claim_runs() -> None:
    developer = WORKSPACE_ROLE_SCOPES[WorkspaceRole.DEVELOPER]
    assert Scope.BLOCKS_REVEAL not in developer
    assert Scope.RUNS_CLAIM not in developer
    assert Scope.DEPLOYMENTS_WRITE in developer


def test_org_roles() -> None:
    assert ORG_ROLE_SCOPES[OrgRole.MEMBER] == frozenset({Scope.ORG_READ})
    assert Scope.ORG_OWNERSHIP not in ORG_ROLE_SCOPES[OrgRole.ADMIN]
    assert ORG_ROLE_SCOPES[OrgRole.OWNER] == ORG_ROLE_SCOPES[OrgRole.ADMIN] | {Scope.ORG_OWNERSHIP}
