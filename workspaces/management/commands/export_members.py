"""manage.py export_members: the member list of one workspace, as CSV or JSON, to standard output."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Prefetch

from portal.csv_export import write_csv
from workspaces.models import Membership, SiteGrant, Team, Workspace

COLUMNS = ("email", "name", "role", "sites", "teams", "joined")


def member_rows(workspace: Workspace) -> list[dict]:
    """One dict per member, in four queries whatever the number of members."""
    members = (
        Membership.objects.filter(workspace=workspace)
        .select_related("user", "role")
        .prefetch_related(
            Prefetch("site_grants", queryset=SiteGrant.objects.select_related("site", "role").order_by("site__slug")),
            Prefetch("teams", queryset=Team.objects.order_by("name")),
        )
        .order_by("user__email")
    )
    return [
        {
            "email": m.user.email,
            "name": m.user.full_name,
            "role": m.role.name,
            # The member's own grants (slug:role), the format invite_bulk reads; team grants come with "teams".
            "sites": [f"{grant.site.slug}:{grant.role.name}" for grant in m.site_grants.all()],
            "teams": [team.name for team in m.teams.all()],
            "joined": m.joined_at.isoformat(),
        }
        for m in members
    ]


class Command(BaseCommand):
    help = (
        "Print the members of a workspace with their e-mail, name, workspace role, own site grants "
        "(slug:role), teams and joined date, as CSV (default) or JSON. Redirect to save: "
        "manage.py export_members --workspace acme > members.csv"
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG", help="The workspace's short name.")
        parser.add_argument("--format", choices=("csv", "json"), default="csv", help="Output format (default csv).")

    def handle(self, *args, workspace: str, format: str, verbosity: int, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace with the short name “{workspace}”.")
        rows = member_rows(found)
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
        else:
            # The shared CSV writer: a name or team that a spreadsheet would run as a formula is defused.
            lines = ([";".join(row[c]) if isinstance(row[c], list) else row[c] for c in COLUMNS] for row in rows)
            write_csv(self.stdout, COLUMNS, lines)
        if verbosity >= 2:
            self.stderr.write(f"{len(rows)} member(s) of {found}.")
