"""50 concurrent writers on the embedded SQLite database never see "database is locked".

Each writer reads then writes inside one transaction: the pattern that fails at once under
SQLite's default DEFERRED transactions (the read lock cannot be upgraded while another
writer holds the database), and that IMMEDIATE transactions plus a busy timeout serialise.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError, connection, transaction

WRITERS = 50
WRITES_EACH = 10


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_writers_never_see_database_is_locked() -> None:
    errors: list[str] = []
    start = threading.Barrier(WRITERS)

    def writer(index: int) -> None:
        try:
            start.wait()
            for round_ in range(WRITES_EACH):
                with transaction.atomic():
                    seen = Group.objects.count()
                    Group.objects.create(name=f"writer-{index}-{round_}-saw-{seen}")
        except OperationalError as exc:
            errors.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    assert Group.objects.count() == WRITERS * WRITES_EACH


@pytest.mark.django_db
def test_database_runs_in_wal_mode_with_a_busy_timeout() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
