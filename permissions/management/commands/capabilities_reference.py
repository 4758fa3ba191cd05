"""Write docs/CAPABILITIES.md from the capability catalog (or print it, or check it is current)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from permissions.reference import capabilities_markdown

DEFAULT_PATH = Path(settings.BASE_DIR) / "docs" / "CAPABILITIES.md"


class Command(BaseCommand):
    help = "Write the capabilities reference (docs/CAPABILITIES.md) from the catalog; --check only compares."

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="PATH", help="Where to write it; '-' prints it. Default: %(default)s.")
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; exit non-zero if the file differs from the catalog."
        )
        parser.set_defaults(output=str(DEFAULT_PATH))

    def handle(self, *args, output: str, check: bool, **options):
        text = capabilities_markdown()
        if output == "-":
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        if check:
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current != text:
                raise CommandError(f"{path} is out of date: run manage.py capabilities_reference.")
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
