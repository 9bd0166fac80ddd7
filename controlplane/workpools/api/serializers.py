from __future__ import annotations

from typing import Any

from rest_framework import serializers

from controlplane.flows.api.fields import JSONObjectField, name_validator
from controlplane.workpools.models import WorkPool, WorkPoolType, WorkQueue
from controlplane.workpools.selectors import is_default_queue

CONCURRENCY_LIMIT_MAX = 1_000_000


def _concurrency_limit() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0,
        max_value=CONCURRENCY_LIMIT_MAX,
        allow_null=True,
        required=False,
        help_text="Most runs in flight at once; null for no limit, 0 to let none start.",
    )


class WorkPoolSerializer(serializers.ModelSerializer[WorkPool]):
    class Meta:
        model = WorkPool
        fields = (
            "id",
            "name",
            "type",
            "description",
            "base_job_template",
            "concurrency_limit",
            "paused",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class WorkPoolCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100, validators=[name_validator])
    type = serializers.ChoiceField(choices=WorkPoolType.choices, default=WorkPoolType.PROCESS)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    base_job_template = JSONObjectField(required=False)
    concurrency_limit = _concurrency_limit()
    paused = serializers.BooleanField(required=False)


class WorkPoolUpdateSerializer(serializers.Serializer[Any]):
    """A pool's type is fixed at creation: agents of one kind serve it."""

    name = serializers.CharField(max_length=100, validators=[name_validator], required=False)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    base_job_template = JSONObjectField(required=False)
    concurrency_limit = _concurrency_limit()
    paused = serializers.BooleanField(required=False)


class WorkQueueSerializer(serializers.ModelSerializer[WorkQueue]):
    pool_id = serializers.UUIDField(read_only=True)
    pool_name = serializers.CharField(source="pool.name", read_only=True)
    is_default = serializers.SerializerMethodField()

    class Meta:
        model = WorkQueue
        fields = (
            "id",
            "pool_id",
            "pool_name",
            "name",
            "description",
            "priority",
            "concurrency_limit",
            "paused",
            "is_default",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_is_default(self, queue: WorkQueue) -> bool:
        return is_default_queue(queue)


class WorkQueueWriteSerializer(serializers.Serializer[Any]):
    """Priority 1 is claimed first."""

    name = serializers.CharField(max_length=100, validators=[name_validator])
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    priority = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    concurrency_limit = _concurrency_limit()
    paused = serializers.BooleanField(required=False)
