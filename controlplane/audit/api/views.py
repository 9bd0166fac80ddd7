from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, serializers

from controlplane.audit.models import AuditEntry
from controlplane.audit.selectors import audit_entries
from controlplane.orgs.api.base import OrgViewSet
from controlplane.orgs.models import Workspace
from controlplane.orgs.roles import Scope


class AuditEntrySerializer(serializers.ModelSerializer[AuditEntry]):
    workspace: serializers.SlugRelatedField[Workspace] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "created_at",
            "workspace",
            "actor_type",
            "actor_id",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "changes",
            "client_ip",
        )
        read_only_fields = fields


class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The organisation's audit log, newest first. Read-only: entries cannot be changed."""

    serializer_class = AuditEntrySerializer
    scope_map = {"GET": Scope.AUDIT_READ}

    def safely_get_queryset(self) -> QuerySet[AuditEntry]:
        return audit_entries(action_prefix=self.request.query_params.get("action") or None)
