from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "controlplane.flows"
    label = "flows"
    verbose_name = "Flows"
