"""Block types, block documents and the per-workspace data keys that encrypt them."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q

from controlplane.core.models import TimestampedModel, WorkspaceOwnedModel
from controlplane.core.tenancy import TenantContextMissing, current_tenant, current_workspace_id


class WorkspaceDataKey(WorkspaceOwnedModel):
    """A workspace's data key, wrapped by the master key `master_key_id` (never stored in clear).

    `generation` grows on every data-key rotation; re-wrapping under a new master key keeps it.
    """

    master_key_id = models.CharField(max_length=64, db_index=True)
    wrapped_key = models.BinaryField()
    generation = models.PositiveIntegerField(default=1)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [models.UniqueConstraint(fields=["workspace"], name="one_data_key_per_workspace")]

    def __repr__(self) -> str:
        return f"<WorkspaceDataKey workspace={self.workspace_id} master_key_id={self.master_key_id!r}>"


class BlockTypeManager(models.Manager["BlockType"]):
    """The standard types plus the current workspace's own; raises when no workspace is in scope."""

    def get_queryset(self) -> models.QuerySet[BlockType]:
        return super().get_queryset().filter(Q(workspace_id=current_workspace_id()) | Q(workspace__isnull=True))


class BlockType(TimestampedModel):
    """A kind of block: a JSON Schema whose secret properties are marked (see docs/blocks.md).

    `workspace` is empty for the standard types every workspace sees; custom types belong to
    one workspace.
    """

    workspace = models.ForeignKey("orgs.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    icon = models.CharField(max_length=100, blank=True)
    schema = models.JSONField(default=dict)
    version = models.CharField(max_length=50, default="1")

    objects: ClassVar[BlockTypeManager] = BlockTypeManager()
    dangerously_unscoped: ClassVar[models.Manager[BlockType]] = models.Manager()

    class Meta:
        default_manager_name = "objects"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["slug"], condition=Q(workspace__isnull=True), name="standard_block_type_slug_unique"
            ),
            models.UniqueConstraint(fields=["workspace", "slug"], name="block_type_slug_unique_in_workspace"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_standard(self) -> bool:
        return self.workspace_id is None

    def save(self, *args: Any, **kwargs: Any) -> None:
        context = current_tenant()
        if context is not None and self.workspace_id is not None and context.workspace_id != self.workspace_id:
            raise TenantContextMissing("refusing to save a block type of another workspace than the one in scope")
        super().save(*args, **kwargs)


class BlockDocument(WorkspaceOwnedModel):
    """A named block: each top-level field's JSON value is encrypted (`values`: field → ciphertext).

    Field names are stored in clear (they come from the type's schema); values never are.
    """

    block_type = models.ForeignKey(BlockType, on_delete=models.PROTECT, related_name="documents")
    name = models.CharField(max_length=255)
    values = models.JSONField(default=dict)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "block_type", "name"], name="block_name_unique_per_type")
        ]

    def __str__(self) -> str:
        return f"{self.block_type.slug}/{self.name}"

    def __repr__(self) -> str:
        return f"<BlockDocument {self.pk} {self.name!r}>"
