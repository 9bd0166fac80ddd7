"""`tether deploy --file tether.yaml`: several deployments, each through the single-deploy path.

```yaml
deployments:
  - entrypoint: flows/etl.py:etl
    name: nightly
    work_pool: prod-pool
    work_queue: default          # optional
    parameters: {limit: 10}      # optional defaults
    tags: [etl]                  # optional
    source: git+https://github.com/acme/flows.git@main   # optional, as `--source`
```

PyYAML is imported here only: it is not a dependency of the `tether` package.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tether._api import Client

DEFAULT_FILE = "tether.yaml"
KNOWN_KEYS = frozenset({"entrypoint", "name", "work_pool", "work_queue", "parameters", "tags", "source"})


class DeployFileError(Exception):
    pass


def load_entries(path: Path) -> list[dict[str, Any]]:
    """The file's deployment entries, checked for shape (not yet against the server)."""
    try:
        import yaml
    except ImportError:
        raise DeployFileError(
            f"reading {path} needs PyYAML, which tether does not install: `pip install pyyaml`."
        ) from None
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise DeployFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise DeployFileError(f"{path} is not valid YAML: {exc}") from None
    entries = data.get("deployments") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise DeployFileError(f"{path} needs a non-empty `deployments:` list.")
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: deployment #{number}"
        if not isinstance(entry, dict):
            raise DeployFileError(f"{where} is not a mapping.")
        unknown = sorted(set(entry) - KNOWN_KEYS)
        if unknown:
            raise DeployFileError(
                f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_KEYS))})."
            )
        missing = [key for key in ("entrypoint", "name", "work_pool") if not entry.get(key)]
        if missing:
            raise DeployFileError(f"{where}: missing {', '.join(missing)}.")
        if not isinstance(entry.get("parameters") or {}, dict):
            raise DeployFileError(f"{where}: `parameters` must be a mapping.")
        tags = entry.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise DeployFileError(f"{where}: `tags` must be a list of strings.")
        if not isinstance(entry.get("source") or "", str):
            raise DeployFileError(f"{where}: `source` is a string such as git+URL@REF, a URL or a path.")
    return entries


def deploy_file(path: Path, client_factory: Callable[[], Client]) -> int:
    """Deploy every entry (the file is checked first: a bad file deploys nothing); 0 if all succeeded."""
    from tether.cli import deploy_one, parse_source

    try:
        entries = load_entries(path)
    except DeployFileError as exc:
        print(f"tether deploy: {exc}", file=sys.stderr)
        return 1
    client = client_factory()
    failed = 0
    for entry in entries:
        failed += (
            deploy_one(
                client,
                entrypoint=str(entry["entrypoint"]),
                name=str(entry["name"]),
                pool=str(entry["work_pool"]),
                queue=entry.get("work_queue"),
                source=parse_source(entry.get("source")),
                parameters=entry.get("parameters") or None,
                tags=entry.get("tags") or [],
            )
            != 0
        )
    print(f"{len(entries) - failed} of {len(entries)} deployment(s) from {path} deployed.")
    return 1 if failed else 0
