"""Replace one workspace's data key and re-encrypt all its blocks under the new one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from controlplane.blocks.services import workspace_data_key_rotate
from controlplane.core.tenancy import tenant_scope
from controlplane.orgs.models import Workspace
from controlplane.orgs.principals import Actor


class Command(BaseCommand):
    help = "Rotate the data key of one workspace (ORG/WORKSPACE) and re-encrypt its blocks, in one transaction."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="ORG_SLUG/WORKSPACE_SLUG")

    def handle(self, *args: Any, workspace: str, **options: Any) -> None:
        org_slug, _, ws_slug = workspace.partition("/")
        found = Workspace.objects.filter(organization__slug=org_slug, slug=ws_slug).first()
        if found is None:
            raise CommandError(f"no workspace {workspace!r} (give ORG_SLUG/WORKSPACE_SLUG)")
        with tenant_scope(organization_id=found.organization_id, workspace_id=found.id):
            count = workspace_data_key_rotate(actor=Actor.system(), workspace=found)
        self.stdout.write(f"rotated the data key of {workspace}; re-encrypted {count} blocks")
