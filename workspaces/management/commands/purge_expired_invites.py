"""manage.py purge_expired_invites: delete invitations whose link expired more than 30 days ago."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from workspaces.invites.selectors import expired_invites
from workspaces.invites.services import purge_expired_invites


class Command(BaseCommand):
    help = (
        "Delete pending and withdrawn invitations whose link expired more than --days days ago "
        "(default 30), and print how many. Accepted invitations are kept. Safe to run daily, "
        "e.g. from cron; --dry-run only counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Age of the expiry, in days (default 30).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, days: int, dry_run: bool, verbosity: int, **options):
        if days < 0:
            raise CommandError("--days cannot be negative.")
        if dry_run:
            count = expired_invites(days).count()
            self.stdout.write(f"{count} expired invitation(s) would be deleted (dry run).")
            return
        count = purge_expired_invites(older_than_days=days)
        if verbosity >= 1:
            self.stdout.write(f"Deleted {count} invitation(s) expired more than {days} days ago.")
        else:
            self.stdout.write(str(count))
