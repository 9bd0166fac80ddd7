"""WebSocket routes. Each consumer authenticates on connect; none trusts the URL alone."""

from django.urls import path

from controlplane.realtime.consumers import PingConsumer

websocket_urlpatterns = [
    path("ws/v1/ping", PingConsumer.as_asgi()),
]
