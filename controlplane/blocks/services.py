"""Writes for block types and documents, reveal, and data-key rotation. Every change is audited;
audit entries carry names and field names, never values."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from controlplane.audit.services import audit_record, audit_workspace_record
from controlplane.blocks.crypto import BlockCryptoError, DecryptionFailed, MasterKeyUnavailable
from controlplane.blocks.datakeys import DataKey, data_key_for, data_key_replace
from controlplane.blocks.errors import BlockUndecryptable, EncryptionUnavailable
from controlplane.blocks.models import BlockDocument, BlockType
from controlplane.blocks.schemas import (
    MaskWithoutValue,
    as_reference,
    check_schema,
    references_in,
    unmask,
    validation_errors,
)
from controlplane.blocks.selectors import block_document_resolve, decrypt_values, encrypt_values
from controlplane.blocks.standard import SINGLE_VALUE_TYPES, STANDARD_SLUGS, STANDARD_TYPES
from controlplane.core.errors import Conflict, Forbidden, NotFound, ValidationFailed, unique_or_conflict
from controlplane.orgs.models import Workspace
from controlplane.orgs.principals import Actor

logger = logging.getLogger(__name__)

MAX_REFERENCE_DEPTH = 8


# --- block types ----------------------------------------------------------------------------


def block_types_sync_standard() -> int:
    """Create or update the standard types (idempotent; run after every migrate). Returns how many changed."""
    changed = 0
    for entry in STANDARD_TYPES:
        fields = {key: entry[key] for key in ("name", "description", "icon", "version", "schema")}  # type: ignore[literal-required]
        existing = BlockType.dangerously_unscoped.filter(workspace__isnull=True, slug=entry["slug"]).first()
        if existing is None:
            BlockType.dangerously_unscoped.create(workspace=None, slug=entry["slug"], **fields)
            changed += 1
        elif any(getattr(existing, key) != value for key, value in fields.items()):
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.save(update_fields=[*fields, "updated_at"])
            changed += 1
    return changed


def _check_type_schema(schema: Any) -> None:
    problems = check_schema(schema)
    if problems:
        raise ValidationFailed(problems[0], details={"schema": problems})


@transaction.atomic
def block_type_create(
    *, actor: Actor, workspace: Workspace, slug: str, schema: dict[str, Any], **fields: Any
) -> BlockType:
    if slug in STANDARD_SLUGS:
        raise Conflict(f"{slug!r} is a standard block type; choose another slug.", details={"slug": ["taken"]})
    _check_type_schema(schema)
    with unique_or_conflict(f"This workspace already has a block type {slug!r}.", field="slug"):
        block_type = BlockType.objects.create(workspace=workspace, slug=slug, schema=schema, **fields)
    audit_workspace_record(
        actor=actor, action="block_type.created", target=block_type, target_label=slug, changes={"slug": slug}
    )
    return block_type


def _own(block_type: BlockType) -> None:
    if block_type.is_standard:
        raise Forbidden("Standard block types cannot be changed or deleted.")


@transaction.atomic
def block_type_update(*, actor: Actor, block_type: BlockType, **fields: Any) -> BlockType:
    _own(block_type)
    if "schema" in fields:
        _check_type_schema(fields["schema"])
    changed = [key for key, value in fields.items() if getattr(block_type, key) != value]
    if not changed:
        return block_type
    for key in changed:
        setattr(block_type, key, fields[key])
    block_type.save(update_fields=[*changed, "updated_at"])
    audit_workspace_record(
        actor=actor,
        action="block_type.updated",
        target=block_type,
        target_label=block_type.slug,
        changes={"fields": sorted(changed)},
    )
    return block_type


@transaction.atomic
def block_type_delete(*, actor: Actor, block_type: BlockType) -> None:
    _own(block_type)
    if BlockDocument.objects.filter(block_type=block_type).exists():
        raise Conflict("This block type still has blocks; delete them first.")
    audit_workspace_record(actor=actor, action="block_type.deleted", target=block_type, target_label=block_type.slug)
    block_type.delete()


# --- block documents ------------------------------------------------------------------------


def _encryption_errors(exc: BlockCryptoError) -> Exception:
    if isinstance(exc, MasterKeyUnavailable):
        logger.error("block encryption unavailable: %s", exc)  # names key ids only
        return EncryptionUnavailable()
    logger.warning("block decryption failed: %s", exc)  # names the block and field, never a value
    return BlockUndecryptable()


def _validate(block_type: BlockType, data: Any) -> None:
    if not isinstance(data, dict):
        raise ValidationFailed("Block data must be a JSON object.", details={"data": ["must be an object"]})
    errors = validation_errors(block_type.schema, data)
    if errors:
        raise ValidationFailed("The block data does not match its type's schema.", details={"data": errors})
    for ref in references_in(data):
        found = block_document_resolve(ref)
        if found is None:
            raise ValidationFailed(
                f"The referenced block {ref.label()} does not exist in this workspace.",
                details={"data": {"$ref": [ref.label()]}},
            )


def _key(workspace_id: uuid.UUID) -> DataKey:
    try:
        return data_key_for(workspace_id, lock=True)
    except BlockCryptoError as exc:
        raise _encryption_errors(exc) from None


@transaction.atomic
def block_document_create(
    *, actor: Actor, workspace: Workspace, block_type: BlockType, name: str, data: Any
) -> BlockDocument:
    try:
        unmask(block_type.schema, data if isinstance(data, dict) else {}, {})
    except MaskWithoutValue as exc:
        raise ValidationFailed(
            f"{exc.path!r} holds the mask but this block has no stored value to keep.", details={exc.path: ["masked"]}
        ) from None
    _validate(block_type, data)
    document = BlockDocument(id=uuid.uuid4(), workspace=workspace, block_type=block_type, name=name)
    document.values = encrypt_values(_key(workspace.id), document, data)
    with unique_or_conflict(f"A {block_type.slug} block named {name!r} already exists.", field="name"):
        document.save()
    audit_workspace_record(
        actor=actor,
        action="block.created",
        target=document,
        target_label=str(document),
        changes={"block_type": block_type.slug, "fields": sorted(data)},
    )
    return document


@transaction.atomic
def block_document_update(
    *, actor: Actor, document: BlockDocument, name: str | None = None, data: Any = None
) -> BlockDocument:
    """Rename and/or replace the data. Secret fields sent as the mask keep their stored value."""
    changes: dict[str, Any] = {}
    update_fields = ["updated_at"]
    if name is not None and name != document.name:
        changes["name"] = [document.name, name]
        document.name = name
        update_fields.append("name")
    if data is not None:
        key = _key(document.workspace_id)
        try:
            old = decrypt_values(key, document)
        except BlockCryptoError as exc:
            raise _encryption_errors(exc) from None
        try:
            merged = unmask(document.block_type.schema, data if isinstance(data, dict) else {}, old)
        except MaskWithoutValue as exc:
            raise ValidationFailed(
                f"{exc.path!r} holds the mask but has no stored value to keep.", details={exc.path: ["masked"]}
            ) from None
        if not isinstance(data, dict):
            raise ValidationFailed("Block data must be a JSON object.", details={"data": ["must be an object"]})
        _validate(document.block_type, merged)
        changed = sorted(
            k for k in set(merged) | set(old) if merged.get(k) != old.get(k) or (k in merged) != (k in old)
        )
        if changed:
            document.values = encrypt_values(key, document, merged)
            update_fields.append("values")
            changes["fields_changed"] = changed
    if len(update_fields) == 1:
        return document
    with unique_or_conflict(
        f"A {document.block_type.slug} block named {document.name!r} already exists.", field="name"
    ):
        document.save(update_fields=update_fields)
    audit_workspace_record(
        actor=actor, action="block.updated", target=document, target_label=str(document), changes=changes
    )
    return document


@transaction.atomic
def block_document_delete(*, actor: Actor, document: BlockDocument) -> None:
    audit_workspace_record(actor=actor, action="block.deleted", target=document, target_label=str(document))
    document.delete()


def _reveal(document: BlockDocument, key: DataKey, chain: tuple[uuid.UUID, ...], revealed: set[uuid.UUID]) -> Any:
    if document.pk in chain:
        raise ValidationFailed("These blocks refer to each other in a cycle.", details={"references": [str(chain[0])]})
    if len(chain) >= MAX_REFERENCE_DEPTH:
        raise ValidationFailed(f"Block references nest deeper than {MAX_REFERENCE_DEPTH}.")
    revealed.add(document.pk)
    return _resolve(decrypt_values(key, document), key, (*chain, document.pk), revealed)


def _resolve(value: Any, key: DataKey, chain: tuple[uuid.UUID, ...], revealed: set[uuid.UUID]) -> Any:
    ref = as_reference(value)
    if ref is not None:
        target = block_document_resolve(ref)
        if target is None:
            raise NotFound(f"The referenced block {ref.label()} no longer exists in this workspace.")
        data = _reveal(target, key, chain, revealed)
        # A reference to a single-value block (Secret, JSON) stands for that value.
        if target.block_type.slug in SINGLE_VALUE_TYPES and isinstance(data, dict) and "value" in data:
            return data["value"]
        return data
    if isinstance(value, dict):
        return {item_key: _resolve(item, key, chain, revealed) for item_key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, key, chain, revealed) for item in value]
    return value


def _reveal_once(document: BlockDocument, revealed: set[uuid.UUID]) -> dict[str, Any]:
    data: dict[str, Any] = _reveal(document, data_key_for(document.workspace_id), (), revealed)
    return data


@transaction.atomic
def block_document_reveal(*, actor: Actor, document: BlockDocument) -> dict[str, Any]:
    """The block's plaintext with references resolved. Audited as `block.revealed` (no values)."""
    revealed: set[uuid.UUID] = set()
    try:
        data = _reveal_once(document, revealed)
    except DecryptionFailed:
        # A data-key rotation may have committed between reading the key and the block: retry once.
        try:
            document.refresh_from_db()
            revealed = set()
            data = _reveal_once(document, revealed)
        except BlockCryptoError as exc:
            raise _encryption_errors(exc) from None
    except MasterKeyUnavailable as exc:
        raise _encryption_errors(exc) from None
    audit_workspace_record(
        actor=actor,
        action="block.revealed",
        target=document,
        target_label=str(document),
        changes={"references": sorted(str(pk) for pk in revealed - {document.pk})},
    )
    return data


@transaction.atomic
def workspace_data_key_rotate(*, actor: Actor, workspace: Workspace) -> int:
    """Replace the workspace's data key and re-encrypt all its blocks under the new one (one transaction)."""
    documents = list(BlockDocument.dangerously_unscoped.filter(workspace=workspace).select_for_update())
    old, new = data_key_replace(workspace.id)
    for document in documents:
        try:
            plaintext = decrypt_values(old, document)
        except BlockCryptoError as exc:
            raise _encryption_errors(exc) from None
        document.values = encrypt_values(new, document, plaintext)
    BlockDocument.dangerously_unscoped.bulk_update(documents, ["values"])
    audit_record(
        actor=actor,
        action="block.data_key_rotated",
        organization=workspace.organization,
        workspace=workspace,
        target=workspace,
        target_label=f"{workspace.organization.slug}/{workspace.slug}",
        changes={"blocks": len(documents), "generation": new.generation},
    )
    return len(documents)
