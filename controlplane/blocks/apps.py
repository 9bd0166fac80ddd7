from django.apps import AppConfig


class BlocksConfig(AppConfig):
    name = "controlplane.blocks"
    label = "blocks"
    verbose_name = "Blocks"
