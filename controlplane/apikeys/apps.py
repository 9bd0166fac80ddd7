from django.apps import AppConfig


class ApikeysConfig(AppConfig):
    name = "controlplane.apikeys"
    label = "apikeys"
    verbose_name = "Apikeys"

    def ready(self) -> None:
        from controlplane.apikeys import schema  # noqa: F401 - registers the OpenAPI extension
