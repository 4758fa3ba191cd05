from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Permissions"

    def ready(self):
        from .roles import sync_builtin_roles

        # After every migrate (and every test-database flush) the built-in role rows match the
        # catalog. Runs for this app only, which comes after ``workspaces`` in INSTALLED_APPS, so
        # the capability Permission rows exist by then.
        post_migrate.connect(sync_builtin_roles, sender=self, dispatch_uid="permissions.sync_builtin_roles")
