"""The agent's exceptions, all under `AgentError` (itself a `TetherException`)."""

from __future__ import annotations

from tether.exceptions import TetherException


class AgentError(TetherException):
    """Base class of the errors the agent raises on purpose."""


class ConfigError(AgentError):
    """The agent's configuration is incomplete or wrong; the message says what to fix."""


class UntrustedCertificate(AgentError):
    """The control plane's TLS certificate is not trusted (set TETHER_CA_BUNDLE to your CA)."""


class SourceError(AgentError):
    """A deployment's code could not be prepared (unknown source type, missing path, git failure)."""
