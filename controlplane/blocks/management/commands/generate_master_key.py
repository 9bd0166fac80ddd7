"""Print a new master key entry for TETHER_MASTER_KEYS (`key_id:base64url(32 bytes)`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from controlplane.blocks.keyring import MasterKeyError, generate_master_key


class Command(BaseCommand):
    help = "Print a new block master key. Put it first in TETHER_MASTER_KEYS, then run rotate_master_key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", dest="key_id", help="Key id (letters, digits, . _ -); random if omitted.")

    def handle(self, *args: Any, key_id: str | None = None, **options: Any) -> None:
        try:
            self.stdout.write(generate_master_key(key_id))
        except MasterKeyError as exc:
            raise CommandError(str(exc)) from None
