"""Block references in deployments: what a deployment's run may reveal.

A deployment refers to blocks through
- `source.credentials_block`: `"<type-slug>/<name>"`, `"{{ block.<type-slug>.<name> }}"`, a block
  document id, a `{"$ref": {...}}` object, or a bare name, which means a block of the source's
  credentials type (`git-credentials` for git sources, `s3-credentials` for url sources);
- anywhere in `job_variables`: the template `{{ block.<type-slug>.<name> }}` inside a string,
  or a `{"$ref": {"block_document_id": "<uuid>"}}` / `{"$ref": {"block_type_slug", "name"}}` object.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from controlplane.blocks.models import BlockDocument
from controlplane.blocks.schemas import BlockRef, as_reference
from controlplane.flows.models import Deployment
from controlplane.runs.models import FlowRun

TEMPLATE = re.compile(r"\{\{\s*block\.([a-z0-9][a-z0-9_-]*)\.([^\s{}]+?)\s*\}\}")
_SLASHED = re.compile(r"^([a-z0-9][a-z0-9_-]*)/(.+)$")
_BARE_NAME = re.compile(r"^[^\s{}/]+$")
# The block type a bare `credentials_block` name means, by source type.
CREDENTIALS_TYPE_BY_SOURCE = {"git": "git-credentials", "url": "s3-credentials"}


def _from_string(text: str) -> Iterator[BlockRef]:
    for slug, name in TEMPLATE.findall(text):
        yield BlockRef(type_slug=slug, name=name)


def _walk(value: Any) -> Iterator[BlockRef]:
    ref = as_reference(value)
    if ref is not None:
        yield ref
    elif isinstance(value, str):
        yield from _from_string(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def credentials_reference(value: Any, *, default_type: str | None = None) -> BlockRef | None:
    """Read `source.credentials_block` in any of its accepted forms (None: not a reference)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return BlockRef(document_id=uuid.UUID(text))
        except ValueError:
            pass
        found = next(_from_string(text), None)
        if found is not None:
            return found
        slashed = _SLASHED.match(text)
        if slashed:
            return BlockRef(type_slug=slashed.group(1), name=slashed.group(2))
        if default_type and _BARE_NAME.match(text):
            return BlockRef(type_slug=default_type, name=text)
        return None
    return as_reference(value)


def source_credentials_reference(source: Any) -> BlockRef | None:
    """The block a code source's `credentials_block` names (None when it names none it can read)."""
    if not isinstance(source, dict):
        return None
    default_type = CREDENTIALS_TYPE_BY_SOURCE.get(str(source.get("type")))
    return credentials_reference(source.get("credentials_block"), default_type=default_type)


def block_references(*, source: Any, job_variables: Any) -> list[BlockRef]:
    """Every block a deployment with this source and these job variables refers to."""
    refs: list[BlockRef] = []
    credentials = source_credentials_reference(source)
    if credentials is not None:
        refs.append(credentials)
    refs.extend(_walk(job_variables))
    return refs


def deployment_references(deployment: Deployment) -> list[BlockRef]:
    return block_references(source=deployment.source, job_variables=deployment.job_variables)


def referenced_document_ids(refs: list[BlockRef]) -> set[uuid.UUID]:
    """The ids of the current workspace's documents the references name (missing ones are skipped)."""
    ids = {ref.document_id for ref in refs if ref.document_id is not None}
    named = Q(pk__in=[])
    for ref in refs:
        if ref.document_id is None:
            named |= Q(block_type__slug=ref.type_slug, name=ref.name)
    return set(BlockDocument.objects.filter(Q(pk__in=ids) | named).values_list("pk", flat=True))


def run_may_reveal(flow_run: FlowRun, document_id: uuid.UUID | None) -> bool:
    """Whether a run's process may reveal the block: its deployment must reference it."""
    if document_id is None or flow_run.deployment_id is None:
        return False
    deployment = Deployment.objects.filter(pk=flow_run.deployment_id).first()
    if deployment is None:
        return False
    return document_id in referenced_document_ids(deployment_references(deployment))
