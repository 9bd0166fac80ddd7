"""Public facts about this server that the SPA and clients need before signing in."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class ServerInfoView(APIView):
    """Name, version and mode of this Tether server. Public: it reveals no tenant data."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="server_info",
        responses=inline_serializer(
            "ServerInfo",
            {
                "name": serializers.CharField(),
                "version": serializers.CharField(),
                "mode": serializers.ChoiceField(choices=["embedded", "production"]),
                "api_schema_url": serializers.CharField(),
                "api_docs_url": serializers.CharField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "name": "Tether",
                "version": settings.TETHER_VERSION,
                "mode": settings.TETHER_MODE,
                "api_schema_url": "/api/schema/",
                "api_docs_url": "/api/docs/",
            }
        )
