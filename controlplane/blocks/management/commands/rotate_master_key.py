"""Re-wrap every workspace data key under the newest master key (resumable, safe to re-run)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from controlplane.blocks.crypto import BlockCryptoError
from controlplane.blocks.datakeys import data_keys_by_master_key, master_key_rotate


class Command(BaseCommand):
    help = (
        "Re-wrap every workspace data key under the first key of TETHER_MASTER_KEYS. Each data key "
        "records its master key id, so an interrupted run resumes where it stopped. When it reports "
        "0 remaining, older master keys may be removed from TETHER_MASTER_KEYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=100, help="Data keys per transaction (default 100).")
        parser.add_argument("--limit", type=int, default=None, help="Stop after re-wrapping this many data keys.")

    def handle(self, *args: Any, batch_size: int = 100, limit: int | None = None, **options: Any) -> None:
        if batch_size < 1 or (limit is not None and limit < 0):
            raise CommandError("--batch-size must be at least 1 and --limit at least 0")
        try:
            report = master_key_rotate(batch_size=batch_size, limit=limit)
        except BlockCryptoError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"re-wrapped {report.rewrapped} data keys under {report.current_key_id!r}; {report.remaining} remaining"
        )
        counts = ", ".join(f"{key_id}: {count}" for key_id, count in sorted(data_keys_by_master_key().items()))
        self.stdout.write(f"data keys per master key: {counts or 'none'}")
