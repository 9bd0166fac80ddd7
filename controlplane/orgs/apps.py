from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "controlplane.orgs"
    label = "orgs"
    verbose_name = "Orgs"
