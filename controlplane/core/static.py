"""Static files (the SPA's build and the API docs' assets) served by an async-capable middleware."""

from __future__ import annotations

import re

from servestatic.middleware import ServeStaticMiddleware

# Vite names every built asset `<name>-<content hash>.<ext>`: such a URL never changes content.
_HASHED_ASSET = re.compile(r"/assets/[^/]+-[A-Za-z0-9_-]{8,}\.(?:js|css|svg|png|woff2?)$")


class StaticFilesMiddleware(ServeStaticMiddleware):  # type: ignore[misc]
    def immutable_file_test(self, path: str, url: str) -> bool:
        return bool(_HASHED_ASSET.search(url))
