"""Where the agent starts runs: a local process (default), a Docker container, a Kubernetes Job.

The pool's type picks the infrastructure (the server sends it with each claimed run);
docker and kubernetes import their client libraries only when first used.
"""

from __future__ import annotations

from tether.agent.infrastructure.base import (
    EXIT_KILLED,
    EXIT_TERMINATED,
    Exit,
    Infrastructure,
    InfrastructureError,
    RunHandle,
    RunSpec,
)
from tether.agent.infrastructure.process import ProcessInfrastructure

KINDS = ("process", "docker", "kubernetes")


def build_infrastructure(kind: str, *, ca_bundle: str | None = None) -> Infrastructure:
    """A new infrastructure of this kind; `InfrastructureError` for a kind this agent does not know."""
    if kind == "process":
        return ProcessInfrastructure()
    if kind == "docker":
        from tether.agent.infrastructure.docker import DockerInfrastructure

        return DockerInfrastructure(ca_bundle=ca_bundle)
    if kind == "kubernetes":
        from tether.agent.infrastructure.kubernetes import KubernetesInfrastructure

        return KubernetesInfrastructure()
    raise InfrastructureError(f"Work pool type {kind!r} is not supported by this agent ({', '.join(KINDS)} are).")


__all__ = [
    "EXIT_KILLED",
    "EXIT_TERMINATED",
    "KINDS",
    "Exit",
    "Infrastructure",
    "InfrastructureError",
    "RunHandle",
    "RunSpec",
    "build_infrastructure",
]
