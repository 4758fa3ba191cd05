from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"
    verbose_name = "Workspaces"

    def ready(self):
        from accounts.signals import address_verified

        from .joining.services import auto_join_on_verify

        # A verified address may join the workspace whose verified domain it is at.
        address_verified.connect(auto_join_on_verify, dispatch_uid="workspaces.auto_join")
