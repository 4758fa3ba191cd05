"""Create a SCIM token for a workspace and print it, alone on the last line, once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from scim.tokens import scim_token_create
from workspaces.models import Workspace


class Command(BaseCommand):
    help = (
        "Create a SCIM 2.0 bearer token for /scim/v2/ of a workspace. The token is printed once, alone on the "
        "last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG", help="The workspace's short name.")
        parser.add_argument("--name", required=True, help="What uses the token (the identity provider).")

    def handle(self, *args, workspace: str, name: str, verbosity: int, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace “{workspace}”.")
        try:
            token, raw = scim_token_create(actor=None, workspace=found, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if verbosity >= 1:
            self.stdout.write(
                f"Created SCIM token “{token.name}” for {found.name}. Store it now; it will not be shown again:"
            )
        self.stdout.write(raw)
