"""Block types and blocks (block documents) of a workspace."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.blocks.api.serializers import (
    BlockDocumentCreateSerializer,
    BlockDocumentSerializer,
    BlockDocumentUpdateSerializer,
    BlockRevealSerializer,
    BlockTypeSerializer,
    BlockTypeUpdateSerializer,
    BlockTypeWriteSerializer,
)
from controlplane.blocks.models import BlockDocument, BlockType
from controlplane.blocks.selectors import block_documents_list, block_types_list
from controlplane.blocks.services import (
    block_document_create,
    block_document_delete,
    block_document_reveal,
    block_document_update,
    block_type_create,
    block_type_delete,
    block_type_update,
)
from controlplane.core.errors import NotFound
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope


class BlockTypeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Block types: the standard ones every workspace sees, and this workspace's own.

    A type's `schema` is a JSON Schema object; properties marked `"x-secret": true` (or
    `"format": "password"`) are secret: masked on read, revealed only with `blocks:reveal`.
    """

    serializer_class = BlockTypeSerializer
    scope_map = {
        "GET": Scope.WORKSPACE_READ,
        "POST": Scope.BLOCKS_WRITE,
        "PATCH": Scope.BLOCKS_WRITE,
        "DELETE": Scope.BLOCKS_WRITE,
    }

    def safely_get_queryset(self) -> QuerySet[BlockType]:
        return block_types_list()

    @extend_schema(parameters=[OpenApiParameter("slug", str)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(block_types_list(slug=request.query_params.get("slug")))
        return self.get_paginated_response(BlockTypeSerializer(page, many=True).data)

    @extend_schema(request=BlockTypeWriteSerializer, responses={201: BlockTypeSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Register a custom block type in this workspace (slugs of standard types are taken)."""
        data = BlockTypeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        block_type = block_type_create(actor=self.actor, workspace=self.access.workspace, **data.validated_data)
        return Response(BlockTypeSerializer(block_type).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BlockTypeUpdateSerializer, responses=BlockTypeSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a custom type. Existing blocks are not re-validated against a new schema."""
        block_type = self.get_object()
        data = BlockTypeUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        block_type = block_type_update(actor=self.actor, block_type=block_type, **data.validated_data)
        return Response(BlockTypeSerializer(block_type).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a custom type that has no blocks."""
        block_type_delete(actor=self.actor, block_type=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockDocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Blocks: named, encrypted configuration and credentials of a block type.

    Reads show secret fields as `"********"`; send that mask back in an update to keep the
    stored value. `POST …/blocks/{id}/reveal/` returns the plaintext (references to other
    blocks resolved) to callers with `blocks:reveal`, and is audited.
    """

    serializer_class = BlockDocumentSerializer
    scope_map = {
        "GET": Scope.WORKSPACE_READ,
        "POST": Scope.BLOCKS_WRITE,
        "PATCH": Scope.BLOCKS_WRITE,
        "DELETE": Scope.BLOCKS_WRITE,
    }
    action_scopes = {"reveal": Scope.BLOCKS_REVEAL}

    def safely_get_queryset(self) -> QuerySet[BlockDocument]:
        return block_documents_list()

    @extend_schema(parameters=[OpenApiParameter("block_type_slug", str), OpenApiParameter("name", str)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = request.query_params
        documents = block_documents_list(block_type_slug=params.get("block_type_slug"), name=params.get("name"))
        page = self.paginate_queryset(documents)
        return self.get_paginated_response(BlockDocumentSerializer(page, many=True).data)

    @extend_schema(request=BlockDocumentCreateSerializer, responses={201: BlockDocumentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a block of a type named by `block_type_slug` or `block_type_id`; `data` is validated
        against the type's schema and references to other blocks must exist in this workspace."""
        data = BlockDocumentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        types = block_types_list()
        if "block_type_id" in values:
            block_type = types.filter(pk=values["block_type_id"]).first()
        else:
            block_type = types.filter(slug=values["block_type_slug"]).first()
        if block_type is None:
            raise NotFound("Block type not found.")
        document = block_document_create(
            actor=self.actor,
            workspace=self.access.workspace,
            block_type=block_type,
            name=values["name"],
            data=values["data"],
        )
        return Response(BlockDocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BlockDocumentUpdateSerializer, responses=BlockDocumentSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Rename a block and/or replace its data (secret fields sent as the mask keep their value)."""
        document = self.get_object()
        data = BlockDocumentUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        document = block_document_update(actor=self.actor, document=document, **data.validated_data)
        return Response(BlockDocumentSerializer(document).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        block_document_delete(actor=self.actor, document=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=BlockRevealSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The block's plaintext, references resolved. Needs `blocks:reveal`; audited as `block.revealed`.
        A run token may reveal only blocks its run's deployment references (others answer 404)."""
        document = self.get_object()
        data = block_document_reveal(actor=self.actor, document=document)
        body = {"id": document.pk, "name": document.name, "block_type_slug": document.block_type.slug, "data": data}
        return Response(BlockRevealSerializer(body).data, headers={"Cache-Control": "no-store"})
