"""WebSocket routes. Each consumer authenticates on connect; none trusts the URL alone."""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from controlplane.realtime.agents import AgentConsumer
from controlplane.realtime.browsers import BrowserLiveConsumer
from controlplane.realtime.consumers import PingConsumer
from controlplane.realtime.task_workers import TaskWorkerConsumer

websocket_urlpatterns = [
    path("ws/v1/ping", PingConsumer.as_asgi()),
    path("ws/v1/orgs/<slug:org_slug>/workspaces/<slug:ws_slug>/agents/<uuid:agent_id>", AgentConsumer.as_asgi()),
    path("ws/v1/orgs/<slug:org_slug>/workspaces/<slug:ws_slug>/task-workers", TaskWorkerConsumer.as_asgi()),
    # Browsers sign in with the session cookie, as for the API.
    path(
        "ws/v1/orgs/<slug:org_slug>/workspaces/<slug:ws_slug>/live",
        AuthMiddlewareStack(BrowserLiveConsumer.as_asgi()),
    ),
]
