"""A URLconf of views that fail in every way, for the error-format tests."""

from __future__ import annotations

from django.db import OperationalError
from django.http import Http404
from django.urls import include, path
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane.core.errors import Conflict, ValidationFailed
from controlplane.urls import urlpatterns as real_patterns


class _Input(serializers.Serializer[dict[str, object]]):
    name = serializers.CharField(max_length=5)
    count = serializers.IntegerField(min_value=0)


class Failing(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request, kind: str) -> Response:
        if kind == "conflict":
            raise Conflict("The run is already COMPLETED.", details={"state": "COMPLETED"})
        if kind == "invalid":
            raise ValidationFailed("Parameters exceed 512 KiB.", details={"limit_bytes": 524288})
        if kind == "missing":
            raise Http404
        if kind == "throttled":
            raise Throttled(wait=2.2)
        if kind == "bug":
            raise RuntimeError("secret-internal-detail")
        if kind == "database-down":
            raise OperationalError("connection to server at 127.0.0.1 failed: secret-internal-detail")
        return Response({"ok": True})

    def post(self, request: Request, kind: str) -> Response:
        serializer = _Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class Private(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


test_api = [path("fail/<str:kind>/", Failing.as_view()), path("private/", Private.as_view())]
urlpatterns = [path("api/v1/test/", include(test_api)), *real_patterns]

handler400 = "controlplane.core.errors.bad_request"
handler403 = "controlplane.core.errors.permission_denied"
handler404 = "controlplane.core.errors.page_not_found"
handler500 = "controlplane.core.errors.server_error"
