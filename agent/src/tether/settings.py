"""Client configuration: the environment first, then the active profile (`tether login`)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientSettings:
    api_url: str | None
    api_key_set: bool
    ca_bundle: str | None
    source: str = "environment"

    @classmethod
    def from_env(cls) -> ClientSettings:
        from tether.profiles import api_url_and_key

        url, key = api_url_and_key()
        from_env = bool(os.environ.get("TETHER_API_URL"))
        return cls(
            api_url=url,
            api_key_set=bool(key),
            ca_bundle=os.environ.get("TETHER_CA_BUNDLE") or None,
            source="environment" if from_env or not url else "profile",
        )
