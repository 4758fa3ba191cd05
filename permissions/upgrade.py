"""What ``migrate`` does for the permissions after every run (and every test-database flush).

The built-in role rows are brought in line with the catalog. When a release changed what a built-in
role holds, the stored object permissions of every workspace follow at once, as ``sync_permissions``
would, so ``migrate`` alone is the upgrade.
"""

from __future__ import annotations

from .materialize import sync_workspaces
from .roles import sync_builtin_roles


def bring_roles_in_line(verbosity: int = 1, stdout=None, **kwargs) -> None:
    """The ``post_migrate`` receiver of this app."""
    if not sync_builtin_roles():
        return
    repaired = [workspace.slug for workspace, drift in sync_workspaces(apply=True) if drift]
    if repaired and verbosity >= 1 and stdout is not None:
        stdout.write(f"  The built-in roles changed: stored permissions rebuilt in {len(repaired)} workspace(s).\n")
