"""Create a SCIM token for a workspace and print it, alone on the last line, once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from scim.selectors import provisioning_roles
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
        parser.add_argument(
            "--role",
            metavar="NAME",
            help="The workspace role the people it provisions join with, by name or key (default: Member; never "
            "Owner).",
        )

    def handle(self, *args, workspace: str, name: str, role: str | None, verbosity: int, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace “{workspace}”.")
        chosen = None
        if role is not None:
            wanted = role.strip()
            chosen = provisioning_roles(found).filter(Q(name__iexact=wanted) | Q(key=wanted.lower())).first()
            if chosen is None:
                names = ", ".join(found_role.name for found_role in provisioning_roles(found))
                raise CommandError(f"No role “{role}” a token can give in {found.name}; choose one of: {names}.")
        try:
            token, raw = scim_token_create(actor=None, workspace=found, name=name, role=chosen)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if verbosity >= 1:
            self.stdout.write(
                f"Created SCIM token “{token.name}” for {found.name}; the people it provisions join as "
                f"{token.role.name}. Store it now; it will not be shown again:"
            )
        self.stdout.write(raw)
