"""RELIABILITY 21: master-key rotation killed (`kill -9`) midway and re-run → completes; every block readable.

The rotation runs in its own process against this test's database. It is killed by SIGKILL
inside its second batch, after re-wrapping a key it has not committed: PostgreSQL rolls that
batch back, the first batch stays done. Re-running the real management command finishes the
job, and with the old master key gone every block still reveals its value.
(tests/controlplane/blocks/test_rotation.py covers the same in-process, with an exception.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from controlplane.blocks import datakeys
from controlplane.blocks.keyring import generate_master_key
from controlplane.blocks.models import BlockDocument
from controlplane.blocks.services import block_document_reveal
from controlplane.core.tenancy import tenant_scope
from tests.controlplane.blocks.support import CANARY, make_block
from tests.support.processes import REPO_ROOT
from tests.support.tenants import actor_for, build_world, make_org

OLD = generate_master_key("old")
NEW = generate_master_key("new")
WORKSPACES = 6
# Batches of 2: the first commits, then the process dies having re-wrapped the third key.
KILLED_MIDWAY = """
import os, signal, django
django.setup()
from controlplane.blocks import datakeys
done = []
def die_on_the_third(workspace_id):
    done.append(workspace_id)
    if len(done) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
datakeys.master_key_rotate(batch_size=2, on_rewrapped=die_on_the_third)
"""


def _env() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TETHER_", "DATABASE_URL"))}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings.test",
        "DATABASE_URL": url,
        "TETHER_MASTER_KEYS": f"{NEW},{OLD}",
    }


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=180
    )


@pytest.mark.django_db(transaction=True)
def test_a_rotation_killed_midway_then_rerun_leaves_every_block_readable(settings: Settings) -> None:
    settings.TETHER_MASTER_KEYS = OLD
    world = build_world()
    _, workspaces = make_org(world.alice, "rotating", *(f"ws{i}" for i in range(WORKSPACES)))
    blocks = [
        (workspace, make_block(world, "secret", "s", {"value": f"{CANARY}-{i}"}, workspace=workspace))
        for i, workspace in enumerate(workspaces)
    ]
    assert datakeys.data_keys_by_master_key() == {"old": WORKSPACES}

    killed = _run("-c", KILLED_MIDWAY)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert datakeys.data_keys_by_master_key() == {"new": 2, "old": WORKSPACES - 2}

    rerun = _run("manage.py", "rotate_master_key")
    assert rerun.returncode == 0, rerun.stderr
    assert f"re-wrapped {WORKSPACES - 2} data keys under 'new'; 0 remaining" in rerun.stdout
    assert datakeys.data_keys_by_master_key() == {"new": WORKSPACES}

    settings.TETHER_MASTER_KEYS = NEW  # the old key is dropped
    for i, (workspace, block) in enumerate(blocks):
        with tenant_scope(organization_id=workspace.organization_id, workspace_id=workspace.id):
            document = BlockDocument.objects.get(pk=block.pk)
            assert block_document_reveal(actor=actor_for(world.alice), document=document) == {"value": f"{CANARY}-{i}"}
