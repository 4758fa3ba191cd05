"""Load one seed's role preset into a workspace (docs/RULES.md 2.2, 3), or list the presets."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from permissions import catalog
from permissions.presets import CREATE, PRESETS, UPDATE, load_preset, preset_plan
from workspaces.models import Workspace

SCOPE_WORDS = {catalog.WORKSPACE: "workspace role", catalog.SITE: "site role"}
DONE = {CREATE: "created", UPDATE: "updated"}


class Command(BaseCommand):
    help = "Load a role preset into a workspace (safe to run again), or --list the presets."

    def add_arguments(self, parser):
        parser.add_argument("preset", nargs="?", metavar="PRESET", help="The preset's name (see --list).")
        parser.add_argument("--workspace", metavar="SLUG", help="The workspace's short name.")
        parser.add_argument(
            "--list", action="store_true", dest="list_presets", help="List the presets: name, then title."
        )

    def handle(self, *args, preset: str | None, workspace: str | None, list_presets: bool, **options):
        if list_presets:
            for found in PRESETS.values():
                self.stdout.write(f"{found.name}\t{found.title}")
            return
        if not preset or not workspace:
            raise CommandError("Give --workspace SLUG and a PRESET, or --list.")
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace “{workspace}”.")
        try:
            # Plan and load in one transaction, so the report matches what was written.
            with transaction.atomic():
                plan = preset_plan(workspace=target, name=preset)
                load_preset(actor=None, workspace=target, name=preset)
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from exc
        self._report(target, preset, plan)

    def _report(self, workspace, preset: str, plan) -> None:
        changed = [(spec, status) for spec, status in plan if status in DONE]
        if not changed:
            self.stdout.write(f"Preset {preset} is already loaded in {workspace.slug}: nothing changed.")
            return
        for spec, status in changed:
            self.stdout.write(f"{DONE[status]} {SCOPE_WORDS[spec.scope]} {spec.name} ({spec.key})")
        self.stdout.write(self.style.SUCCESS(f"Loaded preset {preset} into {workspace.slug}: {len(changed)} changed."))
