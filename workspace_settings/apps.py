from django.apps import AppConfig


class WorkspaceSettingsConfig(AppConfig):
    name = "workspace_settings"
    verbose_name = "Workspace settings"
