"""Tasks and flows travel to other processes (Dask workers) by reference when they can.

A `@task` defined at module level replaces its function under the same name, so pickle's
own by-reference lookup of the function fails; the Task object itself is what the module
holds, and a worker that can import the module gets the very same object back.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


def reference_of(obj: Any) -> tuple[Any, tuple[str, str]] | None:
    """How to rebuild `obj` by importing it, or None when it is not reachable under its name."""
    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    # `__main__` differs in every process: such objects travel by value.
    if not module_name or not qualname or module_name == "__main__" or "<locals>" in qualname:
        return None
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return (load_reference, (module_name, qualname)) if found is obj else None


def load_reference(module_name: str, qualname: str) -> Any:
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found
