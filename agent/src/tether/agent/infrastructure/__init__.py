"""Where the agent starts runs: a local process (default), a Docker container, a Kubernetes Job,
an AWS ECS task, a Google Cloud Run job execution or an Azure container group.

The pool's type picks the infrastructure (the server sends it with each claimed run); all but
process import their client libraries only when first used.
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

KINDS = ("process", "docker", "kubernetes", "ecs", "cloud-run", "aci")


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
    if kind == "ecs":
        from tether.agent.infrastructure.ecs import EcsInfrastructure

        return EcsInfrastructure()
    if kind == "cloud-run":
        from tether.agent.infrastructure.cloud_run import CloudRunInfrastructure

        return CloudRunInfrastructure()
    if kind == "aci":
        from tether.agent.infrastructure.aci import AciInfrastructure

        return AciInfrastructure()
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
