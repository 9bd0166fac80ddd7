"""Block API shapes. Block data goes out masked (see selectors.block_document_masked)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controlplane.blocks.models import BlockDocument, BlockType
from controlplane.blocks.schemas import secret_fields
from controlplane.blocks.selectors import MaskedBlock, block_document_masked

_SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class BlockTypeSerializer(serializers.ModelSerializer[BlockType]):
    is_standard = serializers.BooleanField(read_only=True)
    secret_fields = serializers.SerializerMethodField()

    class Meta:
        model = BlockType
        fields = (
            "id",
            "slug",
            "name",
            "description",
            "icon",
            "schema",
            "version",
            "is_standard",
            "secret_fields",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_secret_fields(self, block_type: BlockType) -> list[str]:
        return secret_fields(block_type.schema)


class BlockTypeWriteSerializer(serializers.Serializer[Any]):
    slug = serializers.RegexField(_SLUG, max_length=100)
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    icon = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    schema = serializers.JSONField(required=False, default=lambda: {"type": "object", "properties": {}})
    version = serializers.CharField(max_length=50, required=False, default="1")


class BlockTypeUpdateSerializer(BlockTypeWriteSerializer):
    slug = None  # type: ignore[assignment]


class BlockTypeSummarySerializer(serializers.ModelSerializer[BlockType]):
    class Meta:
        model = BlockType
        fields = ("id", "slug", "name", "icon")
        read_only_fields = fields


class BlockDocumentSerializer(serializers.ModelSerializer[BlockDocument]):
    """A block with its secret fields masked (`"********"`)."""

    block_type = BlockTypeSummarySerializer(read_only=True)
    data = serializers.SerializerMethodField()  # type: ignore[assignment]
    undecryptable_fields = serializers.SerializerMethodField()

    class Meta:
        model = BlockDocument
        fields = ("id", "name", "block_type", "data", "undecryptable_fields", "created_at", "updated_at")
        read_only_fields = fields

    @extend_schema_field(serializers.DictField())
    def get_data(self, document: BlockDocument) -> dict[str, Any]:
        return self._masked(document).data

    def get_undecryptable_fields(self, document: BlockDocument) -> list[str]:
        return self._masked(document).undecryptable

    def _masked(self, document: BlockDocument) -> MaskedBlock:
        cached: MaskedBlock | None = getattr(document, "_masked_view", None)
        if cached is None:
            cached = block_document_masked(document)
            document._masked_view = cached  # type: ignore[attr-defined]
        return cached


class BlockDocumentCreateSerializer(serializers.Serializer[Any]):
    name = serializers.RegexField(r"^[^\s{}/]+$", max_length=255, help_text="No spaces, braces or slashes.")
    block_type_slug = serializers.CharField(max_length=100, required=False)
    block_type_id = serializers.UUIDField(required=False)
    data = serializers.JSONField()  # type: ignore[assignment]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("block_type_slug" in attrs) == ("block_type_id" in attrs):
            raise serializers.ValidationError("Give exactly one of block_type_slug and block_type_id.")
        return attrs


class BlockDocumentUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.RegexField(r"^[^\s{}/]+$", max_length=255, required=False)
    data = serializers.JSONField(  # type: ignore[assignment]
        required=False, help_text="The whole data; secret fields sent as the mask keep their value."
    )


class BlockRevealSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    block_type_slug = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]
