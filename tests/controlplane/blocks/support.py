"""Blocks in acme/prod for the blocks tests. Canary secrets are unique strings to hunt for."""

from __future__ import annotations

from typing import Any

from controlplane.blocks.models import BlockDocument, BlockType
from controlplane.blocks.services import block_document_create
from controlplane.orgs.models import Workspace
from tests.support.runs import PROD
from tests.support.tenants import World, actor_for

BLOCKS = f"{PROD}/blocks"
BLOCK_TYPES = f"{PROD}/block-types"
CANARY = "canary-7f3a9c2e-never-stored-in-clear"


def make_block(
    world: World, type_slug: str, name: str, data: dict[str, Any], *, workspace: Workspace | None = None
) -> BlockDocument:
    from controlplane.core.tenancy import tenant_scope

    workspace = workspace or world.prod
    with tenant_scope(organization_id=workspace.organization_id, workspace_id=workspace.id):
        block_type = BlockType.objects.get(slug=type_slug)
        return block_document_create(
            actor=actor_for(world.alice), workspace=workspace, block_type=block_type, name=name, data=data
        )


def reveal_url(block: BlockDocument | str) -> str:
    pk = block if isinstance(block, str) else block.pk
    return f"{BLOCKS}/{pk}/reveal/"
