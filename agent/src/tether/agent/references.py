"""Block references in a deployment's job variables, resolved by the agent just before a run starts.

`"{{ block.<type-slug>.<name> }}"` in a string, or a `{"$ref": {"block_document_id": ID}}` /
`{"$ref": {"block_type_slug": SLUG, "name": NAME}}` object, stands for the block's data; a block
whose data is just `value` (Secret, JSON) stands for that value. A string that is exactly one
template becomes the value itself; a template inside a longer string is replaced by its text
(JSON for objects). The names of the `env` variables that now hold revealed values are handed
to the engine (`TETHER_REDACT_ENV`) so it redacts them from the run's logs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from tether.agent.errors import AgentError
from tether.exceptions import TetherException

TEMPLATE = re.compile(r"\{\{\s*block\.([a-z0-9][a-z0-9_-]*)\.([^\s{}]+?)\s*\}\}")
REDACT_ENV = "TETHER_REDACT_ENV"

RevealBlock = Callable[[str], Mapping[str, Any]]


class BlockReferenceError(AgentError):
    """A block a deployment's job variables reference could not be revealed for the run."""


def _stands_for(data: Mapping[str, Any]) -> Any:
    return data["value"] if set(data) == {"value"} else dict(data)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class _Resolver:
    def __init__(self, reveal: RevealBlock) -> None:
        self._reveal = reveal
        self._cache: dict[str, Any] = {}
        self.revealed = False

    def block(self, reference: str) -> Any:
        if reference not in self._cache:
            try:
                self._cache[reference] = _stands_for(self._reveal(reference))
            except TetherException as exc:
                raise BlockReferenceError(
                    f"The job variables' block {reference} could not be revealed: {exc}"
                ) from None
        self.revealed = True
        return self._cache[reference]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            target = value.get("$ref") if set(value) == {"$ref"} else None
            if isinstance(target, dict):
                if "block_document_id" in target:
                    return self.block(str(target["block_document_id"]))
                return self.block(f"{target.get('block_type_slug')}/{target.get('name')}")
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, str) and "{{" in value:
            whole = TEMPLATE.fullmatch(value.strip())
            if whole:
                return self.block(f"{whole.group(1)}/{whole.group(2)}")
            return TEMPLATE.sub(lambda match: _as_text(self.block(f"{match.group(1)}/{match.group(2)}")), value)
        return value


def resolve_job_variables(job_variables: Mapping[str, Any], reveal: RevealBlock) -> tuple[dict[str, Any], list[str]]:
    """The job variables with block references replaced, and the `env` names that hold revealed values."""
    if "{{" not in json.dumps(job_variables) and '"$ref"' not in json.dumps(job_variables):
        return dict(job_variables), []
    resolver = _Resolver(reveal)
    resolved: dict[str, Any] = {}
    secret_env: list[str] = []
    for key, value in job_variables.items():
        if key == "env" and isinstance(value, dict):
            env: dict[str, Any] = {}
            for name, item in value.items():
                resolver.revealed = False
                env[name] = resolver.resolve(item)
                if resolver.revealed:
                    env[name] = _as_text(env[name])
                    secret_env.append(str(name))
            resolved[key] = env
        else:
            resolved[key] = resolver.resolve(value)
    return resolved, secret_env
