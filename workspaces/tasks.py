"""Periodic jobs of the workspaces, run by Celery beat (schedule: settings.CELERY_BEAT_SCHEDULE).

Each runs the service its management command runs, and answers counts only (they are logged).
"""

from __future__ import annotations

from celery import shared_task

from workspaces.invites.services import purge_expired_invites as purge_expired_invites_service
from workspaces.joining.services import join_domains_recheck

# How old an expiry must be before the scheduled purge deletes it (the command's default).
PURGE_AFTER_DAYS = 30


@shared_task(name="workspaces.verify_domains")
def verify_domains() -> dict[str, int]:
    """``manage.py verify_domains``: re-check every DNS-verified join domain."""
    result = join_domains_recheck()
    return {
        "checked": result.checked,
        "suspended": len(result.suspended),
        "restored": len(result.restored),
        "failed": len(result.failed),
    }


@shared_task(name="workspaces.purge_expired_invites")
def purge_expired_invites() -> int:
    """``manage.py purge_expired_invites``: delete invitations expired more than 30 days ago."""
    return purge_expired_invites_service(older_than_days=PURGE_AFTER_DAYS)
