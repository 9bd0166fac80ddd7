from django.apps import AppConfig


class ApikeysConfig(AppConfig):
    name = "controlplane.apikeys"
    label = "apikeys"
    verbose_name = "Apikeys"
