"""`python manage.py bootstrap --org SLUG --workspace SLUG --email E --password P --json`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from controlplane.core.errors import TetherError
from controlplane.orgs.bootstrap import as_json, bootstrap


class Command(BaseCommand):
    help = "Create (or find) a user, organisation and workspace with a developer key and an agent key. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True)
        parser.add_argument("--workspace", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--public-url", default=None, help="base URL for api_url (default TETHER_PUBLIC_URL)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = bootstrap(
                org=options["org"],
                workspace=options["workspace"],
                email=options["email"],
                password=options["password"],
                public_url=options["public_url"] or settings.PUBLIC_URL,
            )
        except TetherError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from None
        if options["json"]:
            self.stdout.write(as_json(result))
            return
        self.stdout.write(f"API URL:   {result.api_url}")
        self.stdout.write(f"User:      {result.user}")
        self.stdout.write(f"API key:   {result.api_key}  (developer role)")
        self.stdout.write(f"Agent key: {result.agent_key}  (worker role)")
