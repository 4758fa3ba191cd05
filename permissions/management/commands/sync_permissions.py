"""Rebuild the stored object permissions from roles, grants, teams and collaborations.

The guardian rows are derived data (``permissions.materialize``); this compares them with what the
source tables imply and repairs any drift, one workspace per transaction. ``--check`` only reports,
and fails when anything differs, so it can guard a deployment or a cron job.
"""

from django.core.management.base import BaseCommand, CommandError

from permissions.materialize import sync_workspaces
from workspaces.models import Workspace


class Command(BaseCommand):
    help = "Rebuild stored object permissions from roles and grants; --check reports drift and fails if any."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift without repairing it; fail if any.")
        parser.add_argument("--workspace", metavar="SLUG", help="Only this workspace.")

    def handle(self, *args, check: bool, workspace: str | None, verbosity: int, **options):
        workspaces = Workspace.objects.order_by("slug")
        if workspace:
            workspaces = workspaces.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"No workspace “{workspace}”.")
        drifted = 0
        for ws, drift in sync_workspaces(apply=not check, workspaces=workspaces):
            if drift:
                drifted += 1
            self._report(ws, drift, check, verbosity)
        self._summarise(drifted, check, verbosity)

    def _report(self, workspace, drift, check: bool, verbosity: int) -> None:
        if not drift:
            if verbosity >= 2:
                self.stdout.write(f"{workspace.slug}: in sync")
            return
        outcome = "found" if check else "repaired"
        self.stdout.write(
            f"{workspace.slug}: {len(drift.missing)} missing and {len(drift.extra)} extra rows or group "
            f"memberships {outcome}"
        )
        if verbosity >= 2:
            for line in drift.missing:
                self.stdout.write(f"  missing: {line}")
            for line in drift.extra:
                self.stdout.write(f"  extra:   {line}")

    def _summarise(self, drifted: int, check: bool, verbosity: int) -> None:
        if check and drifted:
            raise CommandError(f"Permissions drifted in {drifted} workspace(s); run sync_permissions to repair.")
        if verbosity >= 1:
            if not drifted:
                self.stdout.write(self.style.SUCCESS("Stored permissions match roles and grants."))
            else:
                self.stdout.write(self.style.SUCCESS(f"Repaired {drifted} workspace(s)."))
