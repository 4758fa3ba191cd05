"""Create an API access key for a workspace and print it, alone on the last line, once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from permissions.keys import CHECK, SCOPES, key_create
from workspaces.models import Workspace


class Command(BaseCommand):
    help = "Create an API access key. The key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG", help="The workspace's short name.")
        parser.add_argument("--name", required=True, help="What uses the key, to tell keys apart.")
        parser.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            choices=sorted(SCOPES),
            help="What the key may do; repeat for several (default: check).",
        )
        parser.add_argument("--expires-in-days", type=int, metavar="DAYS", help="Refuse the key after DAYS days.")

    def handle(self, *args, workspace: str, name: str, scopes, expires_in_days, verbosity: int, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace “{workspace}”.")
        try:
            key, raw = key_create(
                actor=None, workspace=found, name=name, scopes=scopes or [CHECK], lifetime_days=expires_in_days
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if verbosity >= 1:
            self.stdout.write(
                f"Created access key “{key.name}” for {found.name}. Store it now; it will not be shown again:"
            )
        self.stdout.write(raw)
