from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project's own app: project-wide hooks that belong to no feature."""

    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from . import checks  # noqa: F401  (registers the project's system checks)
        from .ascii_ids import install

        install()  # object ids are ASCII digits only, wherever they arrive as text
