from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "controlplane.automations"
    label = "automations"
    verbose_name = "Automations"
