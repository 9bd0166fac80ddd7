"""Static files (the SPA's build, the API docs' assets), served in front of Django at the ASGI layer.

A request for a static file never enters Django: no middleware, no thread hop.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import AppDirectoriesFinder, FileSystemFinder, get_finders
from servestatic import ServeStaticASGI

# Vite names every built asset `<name>-<content hash>.<ext>`: such a URL never changes content.
_HASHED_ASSET = re.compile(r"/assets/[^/]+-[A-Za-z0-9_-]{8,}\.(?:js|css|svg|png|woff2?)$")


def _is_immutable(path: str, url: str) -> bool:
    return bool(_HASHED_ASSET.search(url))


def _static_roots() -> list[tuple[str, str]]:
    """(directory, URL prefix) for every place Django's static finders look."""
    roots: list[tuple[str, str]] = []
    for finder in get_finders():
        if isinstance(finder, FileSystemFinder):
            roots.extend((str(root), prefix) for prefix, root in finder.locations)
        elif isinstance(finder, AppDirectoriesFinder):
            roots.extend((str(storage.location), "") for storage in finder.storages.values())
    return roots


def with_static_files(application: Any) -> ServeStaticASGI:
    """Wrap the HTTP application so that /static/… is answered before Django sees it."""
    served = ServeStaticASGI(application, max_age=60, immutable_file_test=_is_immutable, autorefresh=settings.DEBUG)
    static_prefix = settings.STATIC_URL
    for root, sub_prefix in _static_roots():
        served.add_files(root, prefix=f"{static_prefix}{sub_prefix}")
    return served
