"""Client configuration read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientSettings:
    api_url: str | None
    api_key_set: bool
    ca_bundle: str | None

    @classmethod
    def from_env(cls) -> ClientSettings:
        return cls(
            api_url=os.environ.get("TETHER_API_URL") or None,
            api_key_set=bool(os.environ.get("TETHER_API_KEY")),
            ca_bundle=os.environ.get("TETHER_CA_BUNDLE") or None,
        )
