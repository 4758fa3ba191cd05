"""manage.py export_members: the member list of one workspace, as CSV or JSON, to standard output."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from portal.csv_export import write_csv
from workspaces.models import Membership, Workspace
from workspaces.people.search import EXPORT_COLUMNS, export_cells, export_row
from workspaces.people.selectors import with_export_details

COLUMNS = EXPORT_COLUMNS  # shared with the people page's download


def member_rows(workspace: Workspace) -> list[dict]:
    """One dict per member, in four queries whatever the number of members."""
    members = with_export_details(Membership.objects.filter(workspace=workspace)).order_by("user__email")
    return [export_row(m) for m in members]


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
            write_csv(self.stdout, COLUMNS, map(export_cells, rows))
        if verbosity >= 2:
            self.stderr.write(f"{len(rows)} member(s) of {found}.")
