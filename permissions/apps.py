from django.apps import AppConfig
from django.db.models.signals import post_migrate


def bring_roles_in_line(verbosity: int = 1, stdout=None, **kwargs) -> None:
    """After every migrate (and every test-database flush) the built-in role rows match the catalog.
    When a release changed what a built-in role holds, the stored object permissions of every
    workspace follow at once (as ``sync_permissions`` would), so ``migrate`` alone is the upgrade."""
    from .materialize import sync_workspaces
    from .roles import sync_builtin_roles

    if not sync_builtin_roles():
        return
    repaired = [workspace.slug for workspace, drift in sync_workspaces(apply=True) if drift]
    if repaired and verbosity >= 1 and stdout is not None:
        stdout.write(f"  The built-in roles changed: stored permissions rebuilt in {len(repaired)} workspace(s).\n")


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Permissions"

    def ready(self):
        # Runs for this app only, which comes after ``workspaces`` in INSTALLED_APPS, so the
        # capability Permission rows exist by then.
        post_migrate.connect(bring_roles_in_line, sender=self, dispatch_uid="permissions.sync_builtin_roles")
