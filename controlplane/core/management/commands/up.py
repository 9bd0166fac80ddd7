"""`python manage.py up`: the embedded runner behind `make up`.

Migrates, provisions the demo tenant, starts the periodic services in-process and serves
the ASGI app with uvicorn until Ctrl-C.
"""

from __future__ import annotations

import logging
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from controlplane.core.demo import DEMO_POOL, provision_demo
from controlplane.core.local_agent import LocalAgent
from controlplane.services.runner import SERVICES, InProcessServiceRunner

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run Tether in the embedded mode: migrate, provision a demo, serve on HOST:PORT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="do not provision the demo tenant")
        parser.add_argument("--no-agent", action="store_true", help="do not start the local agent")

    def handle(self, *args: Any, host: str, port: int, no_demo: bool, no_agent: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        url = f"http://{host}:{port}"
        if not no_demo:
            demo = provision_demo(public_url=url)
            self.stdout.write(f"Demo sign-in:   {demo.email} / {demo.password}")
            self.stdout.write(f"Workspace API:  {demo.tenant.api_url}")
            self.stdout.write(f"Developer key:  {demo.tenant.api_key}")
            self.stdout.write(f"Agent key:      {demo.tenant.agent_key}")
        runner = InProcessServiceRunner(SERVICES) if settings.TETHER_RUN_SERVICES_IN_PROCESS else None
        if runner:
            runner.start()
        agent = None if no_demo or no_agent else LocalAgent(api_url=demo.tenant.api_url, key=demo.tenant.agent_key)
        self.stdout.write(f"Tether {settings.TETHER_VERSION} ({settings.TETHER_MODE}) at {url}  (Ctrl-C stops)")
        self.stdout.flush()
        config = uvicorn.Config("controlplane.asgi:application", host=host, port=port, lifespan="off", log_level="info")
        if agent:
            agent.start_when_ready(url)
            self.stdout.write(f"Local agent serving pool {DEMO_POOL!r} (log: {agent.log_path})")
        try:
            uvicorn.Server(config).run()
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the signal after its graceful shutdown; that is our normal exit
        finally:
            if agent:
                agent.stop()
            if runner:
                runner.stop()
            self.stdout.write("Tether stopped.")
