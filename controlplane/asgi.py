"""The ASGI entry point: HTTP through Django, WebSocket through Channels.

Run with `uvicorn controlplane.asgi:application`.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings.embedded")

from controlplane.settings.env import load_settings_or_exit

load_settings_or_exit()

import django  # noqa: E402

django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from controlplane.core.asgi_http import ThreadedASGIHandler  # noqa: E402
from controlplane.core.static import with_static_files  # noqa: E402
from controlplane.realtime.origin import BrowserOriginValidator  # noqa: E402
from controlplane.realtime.routing import websocket_urlpatterns  # noqa: E402

http_application = with_static_files(ThreadedASGIHandler(max_threads=settings.TETHER_HTTP_THREADS))

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": BrowserOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
