"""manage.py verify_domains [--workspace SLUG]: re-check the DNS records of DNS-verified join domains.

A domain whose TXT record is gone is suspended (nobody joins through it) and one whose record is
back is restored, each with an audit event. A domain whose look-up fails is left as it is and
named on stderr. Safe to run from cron, e.g. daily.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from workspaces.joining.dns import unicode_form
from workspaces.joining.services import join_domains_recheck
from workspaces.models import Workspace


class Command(BaseCommand):
    help = (
        "Re-check the DNS TXT record of every DNS-verified join domain (of one workspace with "
        "--workspace). Suspends domains whose record is gone and restores those whose record is back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", metavar="SLUG", help="Only this workspace's domains.")

    def handle(self, *args, workspace: str | None, verbosity: int, **options):
        found = None
        if workspace:
            found = Workspace.objects.filter(slug=workspace).first()
            if found is None:
                raise CommandError(f"No workspace with the slug “{workspace}”.")
        result = join_domains_recheck(workspace=found)
        if verbosity >= 1:
            for join_domain in result.suspended:
                self.stdout.write(f"Suspended {self._name(join_domain)}: its DNS record is gone.")
            for join_domain in result.restored:
                self.stdout.write(f"Restored {self._name(join_domain)}: its DNS record is back.")
        for join_domain, reason in result.failed:
            self.stderr.write(f"Could not check {self._name(join_domain)}, left unchanged: {reason}")
        self.stdout.write(
            f"Checked {result.checked} DNS-verified domain(s): {len(result.still_verified)} still verified, "
            f"{len(result.suspended)} suspended, {len(result.restored)} restored, "
            f"{len(result.still_suspended)} still suspended, {len(result.failed)} could not be checked."
        )

    @staticmethod
    def _name(join_domain) -> str:
        return f"{unicode_form(join_domain.domain)} ({join_domain.workspace.slug})"
