from django.apps import AppConfig


class WorkpoolsConfig(AppConfig):
    name = "controlplane.workpools"
    label = "workpools"
    verbose_name = "Workpools"
