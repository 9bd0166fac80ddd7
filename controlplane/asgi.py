"""The ASGI entry point: HTTP through Django, WebSocket through Channels.

Run with `uvicorn controlplane.asgi:application`.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings.embedded")

from controlplane.settings.env import load_settings_or_exit

load_settings_or_exit()

from django.core.asgi import get_asgi_application  # noqa: E402

# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from controlplane.realtime.origin import BrowserOriginValidator  # noqa: E402
from controlplane.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": BrowserOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
