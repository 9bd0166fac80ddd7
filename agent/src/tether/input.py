"""`RunInput` (like `prefect.input.RunInput`): a pydantic model for typed input to a paused flow run.

Needs pydantic (`pip install pydantic`); the SDK itself does not depend on it. Without
pydantic, give `pause_flow_run(wait_for_input=...)` a dataclass or a TypedDict instead.
"""

from __future__ import annotations

try:
    import pydantic
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "tether.input.RunInput needs pydantic (pip install pydantic); "
        "without it, wait for input with a dataclass or a TypedDict."
    ) from exc


class RunInput(pydantic.BaseModel):
    """Subclass it with the fields a paused run waits for; `pause_flow_run(wait_for_input=It)` returns one."""

    model_config = pydantic.ConfigDict(extra="forbid")


__all__ = ["RunInput"]
