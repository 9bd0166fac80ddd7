"""The Tether agent: `tether agent start` runs a workspace's deployments inside your network.

It only dials out (HTTPS and one WebSocket to the control plane), claims the runs that are
due, prepares their code and runs each one as `python -m tether.engine <flow_run_id>` with
the run's own token. See docs/agent.md and docs/dispatch.md.
"""

from __future__ import annotations

from tether.agent.config import AgentConfig
from tether.agent.errors import AgentError, ConfigError, SourceError, UntrustedCertificate

__all__ = ["AgentConfig", "AgentError", "ConfigError", "SourceError", "UntrustedCertificate"]
