from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Permissions"

    def ready(self):
        from .upgrade import bring_roles_in_line

        # After every migrate (and every test-database flush): see ``permissions.upgrade``. Runs for
        # this app only, which comes after ``workspaces`` in INSTALLED_APPS, so the capability
        # Permission rows exist by then.
        post_migrate.connect(bring_roles_in_line, sender=self, dispatch_uid="permissions.sync_builtin_roles")
