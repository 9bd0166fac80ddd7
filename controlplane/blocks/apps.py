"""Block types and documents, envelope encryption, key rotation."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_standard_types(sender: AppConfig, **kwargs: Any) -> None:
    from controlplane.blocks.services import block_types_sync_standard

    block_types_sync_standard()


class BlocksConfig(AppConfig):
    name = "controlplane.blocks"
    label = "blocks"
    verbose_name = "Blocks"

    def ready(self) -> None:
        # The standard types live in code (standard.py) and are upserted after every migrate,
        # so a schema fix ships with the release instead of a new data migration.
        post_migrate.connect(_sync_standard_types, sender=self, dispatch_uid="blocks.sync_standard_types")
