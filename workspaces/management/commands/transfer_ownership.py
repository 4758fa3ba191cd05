"""manage.py transfer_ownership: make a member an owner, optionally with an owner stepping down."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import normalize_email
from workspaces.models import Membership, Workspace
from workspaces.people.services import ownership_transfer


class Command(BaseCommand):
    help = (
        "Make the member --to an Owner of the workspace. With --step-down, that owner becomes Admin "
        "in the same change (as the browser's “transfer ownership” does), acting as themselves. "
        "Every workspace keeps at least one owner; the audit log records the change."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG", help="The workspace's short name.")
        parser.add_argument("--to", required=True, metavar="EMAIL", help="The member who becomes an owner.")
        parser.add_argument("--step-down", metavar="EMAIL", help="An owner who becomes Admin in the same change.")

    def handle(self, *args, workspace: str, to: str, step_down: str | None, verbosity: int, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"No workspace with the short name “{workspace}”.")
        new_owner = self._member(found, to, "--to")
        stepping = self._member(found, step_down, "--step-down") if step_down else None
        if stepping is not None and not stepping.role.is_owner:
            raise CommandError(f"--step-down: {stepping.user.email} is not an owner of {found}.")
        try:
            ownership_transfer(
                actor=stepping.user if stepping else None,
                workspace=found,
                to=new_owner,
                step_down=stepping is not None,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        if verbosity >= 1:
            self.stdout.write(f"{new_owner.user.email} is now an owner of {found}.")
            if stepping is not None:
                self.stdout.write(f"{stepping.user.email} stepped down to Admin.")

    def _member(self, workspace: Workspace, email: str, option: str) -> Membership:
        member = (
            Membership.objects.select_related("user", "role")
            .filter(workspace=workspace, user__email=normalize_email(email))
            .first()
        )
        if member is None:
            raise CommandError(f"{option}: {email} is not a member of {workspace}.")
        return member
