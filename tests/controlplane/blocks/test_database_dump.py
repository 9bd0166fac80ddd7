"""RELIABILITY 4, 22, 23: a full pg_dump after storing canary secrets holds none of them, nor any key material."""

from __future__ import annotations

import subprocess

import pytest
from django.conf import settings
from django.db import connection

from controlplane.blocks.datakeys import keyring
from tests.controlplane.blocks.support import CANARY, make_block
from tests.support.tenants import World


@pytest.mark.django_db(transaction=True)
def test_database_dump_contains_no_canary_or_key(world: World) -> None:
    canaries = {f"{CANARY}-{kind}" for kind in ("secret", "git", "slack", "header", "kube", "username")}
    make_block(world, "secret", "s", {"value": f"{CANARY}-secret"})
    make_block(world, "git-credentials", "g", {"username": f"{CANARY}-username", "password": f"{CANARY}-git"})
    make_block(world, "slack-webhook", "alerts", {"url": f"https://hooks.slack.com/{CANARY}-slack"})
    make_block(
        world, "webhook", "h", {"url": "https://x.example", "secret_headers": {"Authorization": f"{CANARY}-header"}}
    )
    make_block(world, "kubernetes-cluster-config", "k", {"config": f"apiVersion: v1 # {CANARY}-kube"})
    db = connection.settings_dict
    dump = subprocess.run(
        ["pg_dump", "-h", db["HOST"] or "127.0.0.1", "-U", db["USER"] or "postgres", db["NAME"]],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "blocks_blockdocument" in dump
    assert "git-credentials" in dump
    assert "canary" not in dump.lower()
    for canary in canaries:
        assert canary not in dump
    for master in keyring().keys:
        assert master.material.hex() not in dump
        assert settings.TETHER_MASTER_KEYS.split(":", 1)[1] not in dump
