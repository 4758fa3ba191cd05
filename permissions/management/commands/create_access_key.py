"""Create a check-API key for a workspace and print it, alone on the last line, once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from permissions.keys import key_create
from workspaces.models import Workspace


class Command(BaseCommand):
    help = "Create an access key for the check API. The key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG", help="The workspace's short name.")
        parser.add_argument("--name", required=True, help="What uses the key, to tell keys apart.")

    def handle(self, *args, workspace: str, name: str, verbosity: int, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace “{workspace}”.")
        try:
            key, raw = key_create(actor=None, workspace=found, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if verbosity >= 1:
            self.stdout.write(
                f"Created access key “{key.name}” for {found.name}. Store it now; it will not be shown again:"
            )
        self.stdout.write(raw)
