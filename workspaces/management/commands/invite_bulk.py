"""manage.py invite_bulk: invite the people listed in a CSV file to one workspace."""

from __future__ import annotations

import os
import sys
from argparse import RawDescriptionHelpFormatter
from smtplib import SMTPException

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from tqdm import tqdm

from accounts.models import User, normalize_email
from workspaces.invites.csv_file import InviteFileError, read_invite_csv, resolve_rows
from workspaces.invites.services import InviteBatchRefused, invite_create_bulk
from workspaces.models import Membership, Workspace

HELP = """Invite the people listed in a CSV file to a workspace, and e-mail each an invitation link.

The file needs a header row, then one row per person. Columns (any order, only email required):
  email   the address to invite
  role    their workspace role, by name or key (Owner, Admin, Billing admin, Member, Viewer or a
          custom role of the workspace); empty means --role
  sites   site grants as slug:role;slug:role, e.g. shop:editor;blog:Site viewer
  teams   teams to join, as name;name

Every row is checked first: address, duplicates (in any letter case or spelling), roles, sites, teams, what
--inviter may give, and the daily invitation limits. If any row is bad, nothing is written and each
bad row is listed with its line number; --skip-invalid writes the good rows anyway. The command
exits with status 0 only when every row was handled.

The daily limits (settings INVITE_LIMIT_PER_*) count e-mails sent in the last 24 hours: those per
workspace and per address always apply, the one per person with --inviter. --no-email sends none.

Role changes and the rest of the workspace do not wait for the import: the file is checked
without any lock, and the workspace's invitations are locked only for the import's last step. If
an address of the file joins the workspace or is invited while the file is being written, nothing
is written: run the file again.

Running the same file again is safe: people who are already members are reported as such, and a
pending invitation is brought up to date (role, sites, teams) without a second e-mail while its link
still works; an expired link is renewed and e-mailed again.
"""


class _TooLarge(Exception):
    """More than INVITE_BULK_MAX_BYTES came out of the file."""


def _lines_within(stream, limit: int):
    """The stream's lines, counting bytes as they are read; _TooLarge once more than ``limit`` came.

    Each read asks for at most what is left of the limit (plus one byte), so even a stream with no
    line break is never held in memory beyond the limit."""
    remaining = limit
    while True:
        line = stream.readline(remaining + 1)
        if not line:
            return
        remaining -= len(line)
        if remaining < 0:
            raise _TooLarge
        yield line


class _HelpFormatter(RawDescriptionHelpFormatter, DjangoHelpFormatter):
    pass


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)  # keep the help's line breaks
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG", help="The workspace's short name.")
        parser.add_argument("--file", required=True, metavar="F.csv", help="The CSV file (UTF-8).")
        parser.add_argument(
            "--role", default="member", metavar="ROLE", help="Role for rows with an empty role (default: Member)."
        )
        parser.add_argument(
            "--inviter",
            metavar="EMAIL",
            help="A member the invitations come from: their capabilities and daily limit apply, "
            "and the e-mails name them. Default: the workspace itself (no capability check).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")
        parser.add_argument("--skip-invalid", action="store_true", help="Write the good rows even if some are bad.")
        parser.add_argument(
            "--no-email",
            action="store_true",
            help="Create the invitations without e-mailing them (resend them later from the team page).",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        self.show_bar = self.verbosity >= 1 and sys.stdout.isatty()
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the short name “{options['workspace']}”.")
        inviter = self._inviter(workspace, options["inviter"])
        try:
            parsed = self._read(options["file"])
            resolved = resolve_rows(workspace, parsed.rows, options["role"])
        except InviteFileError as exc:
            raise CommandError(f"{options['file']}: {exc} Nothing was written.") from exc
        problems = parsed.problems | resolved.problems
        parsed.rows = []  # resolved: the file's text rows are not needed any more (memory)

        # With a bad row and no --skip-invalid nothing will be written, but the service still checks
        # the other rows (as a dry run) so that the operator sees every problem at once.
        collect_only = bool(problems) and not options["skip_invalid"]
        dry_run = options["dry_run"] or collect_only
        try:
            result = invite_create_bulk(
                actor=inviter,
                workspace=workspace,
                specs=resolved.specs,
                send_email=not options["no_email"],
                skip_invalid=options["skip_invalid"] or collect_only,
                dry_run=dry_run,
                on_mail_progress=self._mail_progress(),
            )
        except InviteBatchRefused as exc:
            problems |= {resolved.lines[i]: reason for i, reason in exc.problems.items()}
            self._report_problems(problems)
            raise CommandError(self._refusal(exc.batch_problems, problems)) from exc
        except PermissionDenied as exc:
            raise CommandError(f"--inviter: {exc} Nothing was written.") from exc
        except (SMTPException, OSError) as exc:
            raise CommandError(
                f"The invitations were saved, but sending the e-mails failed: {exc}. "
                "Resend them from the workspace's team page."
            ) from exc
        problems |= {resolved.lines[i]: reason for i, reason in result.invalid.items()}
        self._report_problems(problems)
        if collect_only:
            raise CommandError(self._refusal([], problems))
        self._summary(result, problems, dry_run=options["dry_run"], emailed=not options["no_email"])
        if problems:
            raise CommandError(
                f"{_rows(problems)} not handled ({_lines(problems)}); the other rows were "
                + ("checked." if options["dry_run"] else "written.")
            )

    def _inviter(self, workspace: Workspace, email: str | None):
        if not email:
            return None
        user = User.objects.filter(email=normalize_email(email)).first()
        if user is None or not Membership.objects.filter(workspace=workspace, user=user).exists():
            raise CommandError(f"--inviter: {email} is not a member of {workspace}.")
        return user

    def _read(self, path: str):
        limit = settings.INVITE_BULK_MAX_BYTES
        try:
            size = os.path.getsize(path)
            if size > limit:
                # A mistaken export (a whole CRM, a log file) is refused before anything is read,
                # rather than held in one transaction with tens of thousands of invites.
                raise CommandError(
                    f"{path} is {size / 1_000_000:.1f} MB; files of up to {limit / 1_000_000:.0f} MB are "
                    "accepted (INVITE_BULK_MAX_BYTES). Split it into smaller files. Nothing was written."
                )
            with open(path, "rb") as stream:
                # A pipe, a FIFO or /dev/stdin reports size 0: the limit is also counted while reading.
                lines = _lines_within(stream, limit)
                if not self.show_bar:
                    if self.verbosity >= 2:
                        self.stdout.write(f"Reading {path} ({size:,} bytes)…")
                    return read_invite_csv(lines)
                with tqdm(total=size or None, unit="B", unit_scale=True, desc="Reading", file=sys.stdout) as bar:
                    return read_invite_csv(lines, on_bytes=bar.update)
        except _TooLarge as exc:
            raise CommandError(
                f"{path} is larger than {limit / 1_000_000:.0f} MB (more than {limit:,} bytes read), the most "
                "that is accepted (INVITE_BULK_MAX_BYTES). Split it into smaller files. Nothing was written."
            ) from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc

    def _mail_progress(self):
        """A callback for the e-mails queued after commit (the mail worker sends them): a bar on a
        terminal, a few lines otherwise."""
        state = {"bar": None, "next_line": 0}

        def progress(sent: int, total: int) -> None:
            if self.show_bar:
                if state["bar"] is None:
                    state["bar"] = tqdm(total=total, unit="e-mail", desc="Queueing", file=sys.stdout)
                state["bar"].update(sent - state["bar"].n)
                if sent == total:
                    state["bar"].close()
            elif self.verbosity >= 1 and (sent >= state["next_line"] or sent == total):
                self.stdout.write(f"Queued {sent:,} of {total:,} e-mails.")
                state["next_line"] = sent + max(total // 10, 1)

        return progress

    def _report_problems(self, problems: dict[int, str]) -> None:
        for line in sorted(problems):
            self.stderr.write(f"line {line}: {problems[line]}")

    def _refusal(self, batch_problems: list[str], problems: dict[int, str]) -> str:
        reasons = list(batch_problems)
        if problems:
            reasons.append(
                f"{_rows(problems)} with problems ({_lines(problems)}): fix them, or use "
                "--skip-invalid to write the other rows."
            )
        return " ".join(reasons) + " Nothing was written."

    def _summary(self, result, problems: dict[int, str], *, dry_run: bool, emailed: bool) -> None:
        if self.verbosity >= 2:
            for invite in result.invited:
                self.stdout.write(f"invited          {invite.email} ({invite.role.name})")
            for invite in result.refreshed:
                self.stdout.write(f"refreshed        {invite.email} ({invite.role.name})")
            for email in result.already_members:
                self.stdout.write(f"already a member {email}")
        if self.verbosity < 1:
            return
        prefix = "Dry run, nothing was written. Would have: " if dry_run else ""
        invalid = f"{len(problems)}" + (f" ({_lines(problems)})" if problems else "")
        self.stdout.write(
            f"{prefix}invited {len(result.invited)}, refreshed {len(result.refreshed)}, "
            f"already members {len(result.already_members)}, invalid {invalid}."
        )
        if emailed:
            self.stdout.write(f"E-mails {'to send' if dry_run else 'sent'}: {result.emails}.")
        else:
            self.stdout.write("No e-mails were sent (--no-email).")


def _rows(problems: dict[int, str]) -> str:
    return "1 row" if len(problems) == 1 else f"{len(problems)} rows"


def _lines(problems: dict[int, str], limit: int = 20) -> str:
    """ "line 7" or "lines 3, 7, 9" (the first ``limit``; every one is listed on stderr)."""
    lines = sorted(problems)
    shown = ", ".join(str(n) for n in lines[:limit])
    more = f" and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{'line' if len(lines) == 1 else 'lines'} {shown}{more}"
