"""Finding a block class by name for `tether block register module:Class`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from tether.blocks.core import Block, BlockError


def load_block_class(target: str, *, root: Path | None = None) -> type[Block]:
    """The `Block` subclass `module.path:Class` or `path/to/file.py:Class` names (relative to `root`, default cwd)."""
    root = root or Path.cwd()
    module_name, sep, attribute = target.rpartition(":")
    if not sep or not module_name or not attribute:
        raise BlockError(f"{target!r} is not module.path:Class or path/to/file.py:Class.")
    try:
        if module_name.endswith(".py"):
            path = (root / module_name).resolve()
            spec = importlib.util.spec_from_file_location(f"__tether_blocks__.{path.stem}", path)
            if spec is None or spec.loader is None or not path.is_file():
                raise BlockError(f"No file {module_name!r} in {root}.")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            module = importlib.import_module(module_name)
    except BlockError:
        raise
    except Exception as exc:
        raise BlockError(f"Importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    found = getattr(module, attribute, None)
    if not (isinstance(found, type) and issubclass(found, Block)) or found is Block:
        raise BlockError(f"{target!r} is not a Block subclass.")
    return found
