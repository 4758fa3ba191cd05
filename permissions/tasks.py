"""Periodic jobs of the permissions app, run by Celery beat (schedule: settings.CELERY_BEAT_SCHEDULE):
the permissions check and the flush of the access keys' call counts."""

from __future__ import annotations

from celery import shared_task

from .key_counts import flush_counts
from .materialize import sync_workspaces


class PermissionsDrifted(Exception):
    """Stored permissions differ from what roles and grants imply; ``sync_permissions`` repairs them."""


@shared_task(name="permissions.sync_permissions_check")
def sync_permissions_check() -> int:
    """``manage.py sync_permissions --check``: compare, repair nothing, and fail on any drift, so
    the failure is listed with the failed tasks in the admin. Answers the workspaces checked."""
    found = sync_workspaces(apply=False)
    drifted = sorted(workspace.slug for workspace, drift in found if drift)
    if drifted:
        raise PermissionsDrifted(
            f"Permissions drifted in {len(drifted)} workspace(s): {', '.join(drifted[:20])}; "
            "run manage.py sync_permissions to repair."
        )
    return len(found)


@shared_task(name="permissions.flush_key_counts")
def flush_key_counts() -> int:
    """Move the check API's call counts from the shared cache into ``AccessKeyDailyUse``
    (``permissions.key_counts``). Answers the calls moved."""
    return flush_counts()
