"""Triggers, actions, notifications and SLAs."""

from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "controlplane.automations"
    label = "automations"
    verbose_name = "Automations"

    def ready(self) -> None:
        from controlplane.automations import tasks
        from controlplane.events.services import on_events_recorded

        tasks.configured_app()
        # Events are a lower layer: they announce commits; automations subscribe.
        on_events_recorded(tasks.evaluate_events_on_commit)
