from django.apps import AppConfig


class ConcurrencyConfig(AppConfig):
    name = "controlplane.concurrency"
    label = "concurrency"
    verbose_name = "Concurrency"
