"""Reads: block lookups within the workspace in scope, encryption of field values, masked views."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from controlplane.blocks.crypto import BlockCryptoError, decrypt_field, encrypt_field
from controlplane.blocks.datakeys import DataKey, data_key_for
from controlplane.blocks.models import BlockDocument, BlockType
from controlplane.blocks.schemas import MASK, BlockRef, is_secret, mask, secret_fields

logger = logging.getLogger(__name__)


def block_types_list(*, slug: str | None = None) -> QuerySet[BlockType]:
    types = BlockType.objects.all().order_by("slug")
    return types.filter(slug=slug) if slug else types


def block_documents_list(*, block_type_slug: str | None = None, name: str | None = None) -> QuerySet[BlockDocument]:
    documents = BlockDocument.objects.select_related("block_type").order_by("-created_at")
    if block_type_slug:
        documents = documents.filter(block_type__slug=block_type_slug)
    if name:
        documents = documents.filter(name=name)
    return documents


def block_document_resolve(ref: BlockRef) -> BlockDocument | None:
    """The document a reference names, in the workspace in scope (None when there is none)."""
    documents = BlockDocument.objects.select_related("block_type")
    if ref.document_id is not None:
        return documents.filter(pk=ref.document_id).first()
    return documents.filter(block_type__slug=ref.type_slug, name=ref.name).first()


def encrypt_values(key: DataKey, document: BlockDocument, data: dict[str, Any]) -> dict[str, str]:
    """Each top-level field's value encrypted, bound to the workspace, the document and the field name."""
    return {
        name: encrypt_field(
            key.material, value, workspace_id=document.workspace_id, document_id=document.pk, field_path=name
        )
        for name, value in data.items()
    }


def decrypt_values(key: DataKey, document: BlockDocument, *, only: set[str] | None = None) -> dict[str, Any]:
    values = document.values if isinstance(document.values, dict) else {}
    return {
        name: decrypt_field(
            key.material, token, workspace_id=document.workspace_id, document_id=document.pk, field_path=name
        )
        for name, token in values.items()
        if only is None or name in only
    }


@dataclass
class MaskedBlock:
    data: dict[str, Any]
    undecryptable: list[str] = field(default_factory=list)


def block_document_masked(document: BlockDocument) -> MaskedBlock:
    """What readers see: non-secret fields in clear, secret (or undeclared) ones masked. Those are not
    even decrypted (only their presence shows); a field that fails to decrypt reads as null and
    is listed in `undecryptable`."""
    schema = document.block_type.schema
    secret = set(secret_fields(schema))
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    values = document.values if isinstance(document.values, dict) else {}
    data: dict[str, Any] = {}
    undecryptable: list[str] = []
    key: DataKey | None = None
    for name, token in values.items():
        if name not in properties or (name in secret and is_secret(properties.get(name))):
            data[name] = MASK
            continue
        try:
            key = key or data_key_for(document.workspace_id)
            data[name] = decrypt_field(
                key.material, token, workspace_id=document.workspace_id, document_id=document.pk, field_path=name
            )
        except BlockCryptoError as exc:
            logger.warning("block field unreadable: %s", exc)
            data[name] = None
            undecryptable.append(name)
    return MaskedBlock(data=mask(schema, data), undecryptable=undecryptable)


def block_references_missing(refs: list[BlockRef]) -> list[BlockRef]:
    """The references (deduplicated, in order) that name no block of the workspace in scope."""
    return [ref for ref in dict.fromkeys(refs) if block_document_resolve(ref) is None]
