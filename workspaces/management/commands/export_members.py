"""manage.py export_members: the member list of one workspace, as CSV or JSON, to standard output."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from portal.csv_export import write_csv
from portal.json_export import json_lines
from workspaces.models import Membership, Workspace
from workspaces.people.search import EXPORT_COLUMNS, export_cells
from workspaces.people.selectors import export_rows

COLUMNS = EXPORT_COLUMNS  # shared with the people page's download


class CountedRows:
    """An iterator over ``rows`` that counts what it handed out."""

    def __init__(self, rows):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


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
        # Streamed a chunk of members at a time, in address order, as the people page's download is.
        rows = CountedRows(export_rows(Membership.objects.filter(workspace=found).order_by("user__email", "id")))
        if format == "json":
            for line in json_lines(rows):
                self.stdout.write(line, ending="")
        else:
            # The shared CSV writer: a name or team that a spreadsheet would run as a formula is defused.
            write_csv(self.stdout, COLUMNS, map(export_cells, rows))
        if verbosity >= 2:
            self.stderr.write(f"{rows.count} member(s) of {found}.")
