from __future__ import annotations

from typing import Any

from rest_framework import serializers

from controlplane.automations.models import ActionRun, Automation, DeliveryAttempt, Firing


class AutomationSerializer(serializers.ModelSerializer[Automation]):
    trigger = serializers.JSONField(help_text="see docs/automations.md: event, compound or sequence")
    actions = serializers.JSONField(help_text="a list of actions, see docs/automations.md")
    sla_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="set when an SLA owns it")

    class Meta:
        model = Automation
        fields = ("id", "name", "description", "enabled", "trigger", "actions", "sla_id", "created_at", "updated_at")
        read_only_fields = ("id", "sla_id", "created_at", "updated_at")


class AutomationWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    enabled = serializers.BooleanField(required=False)
    trigger = serializers.JSONField()
    actions = serializers.JSONField()


class DeliveryAttemptSerializer(serializers.ModelSerializer[DeliveryAttempt]):
    class Meta:
        model = DeliveryAttempt
        fields = ("attempt", "target", "outcome", "status_code", "error", "duration_ms", "created_at")
        read_only_fields = fields


class ActionRunSerializer(serializers.ModelSerializer[ActionRun]):
    type = serializers.SerializerMethodField()
    deliveries = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = ActionRun
        fields = (
            "id",
            "index",
            "type",
            "status",
            "attempts",
            "next_attempt_at",
            "finished_at",
            "result",
            "error",
            "deliveries",
        )
        read_only_fields = fields

    def get_type(self, run: ActionRun) -> str:
        return str(run.action.get("type", ""))


class FiringSerializer(serializers.ModelSerializer[Firing]):
    automation_name = serializers.CharField(source="automation.name", read_only=True)
    action_runs = ActionRunSerializer(many=True, read_only=True)

    class Meta:
        model = Firing
        fields = ("id", "automation_id", "automation_name", "reason", "triggering_event", "created_at", "action_runs")
        read_only_fields = fields
