"""Inviting from a CSV file in the browser: /w/<workspace>/people/invite/bulk/.

The same file format as ``manage.py invite_bulk`` (``invites/csv_file.py``) and the same core
(``invite_create_bulk``), in two steps: upload shows what the file would do, and every row that
would be refused with its reason (a dry run, nothing written); confirm writes it, all or nothing.
Between the two the file stays on the server, in the person's session, under a random id that the
confirm form must send back (so a second upload in another tab cannot be confirmed by the first
tab's button). Files over INVITE_BULK_MAX_BYTES are refused before they are read. Everything needs
``invite_members``.
"""

from __future__ import annotations

import base64
import io
import secrets
from dataclasses import dataclass, field
from smtplib import SMTPException

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import TemplateView

from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin
from workspaces.invites.csv_file import InviteFileError, read_invite_csv, resolve_rows
from workspaces.invites.services import InviteBatchRefused, invite_create_bulk

SESSION_KEY = "invite_bulk"
SHOWN_PROBLEMS = 200  # rows listed on the page; the count says how many there are in all


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Columns email, role, sites, teams; only email is required.")
    role = forms.CharField(
        label="Role for rows without one",
        initial="Member",
        max_length=100,
        help_text="A workspace role by name or key, e.g. Member or Viewer.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.INVITE_BULK_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_000_000:.1f} MB; files of up to {limit / 1_000_000:.0f} MB are "
                "accepted. Split it into smaller files."
            )
        return upload.read(limit + 1)[:limit]


class ConfirmForm(forms.Form):
    upload = forms.CharField(max_length=64)


@dataclass
class Check:
    """What a file would do (or the reasons it cannot be used)."""

    problems: dict[int, str] = field(default_factory=dict)  # line → reason
    batch_problems: list[str] = field(default_factory=list)
    invited: int = 0
    refreshed: int = 0
    already_members: int = 0
    emails: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.batch_problems

    @property
    def shown_problems(self) -> list[tuple[int, str]]:
        return sorted(self.problems.items())[:SHOWN_PROBLEMS]


def run_file(actor, workspace, content: bytes, default_role: str, *, dry_run: bool) -> Check:
    """Parse, resolve and hand the file to ``invite_create_bulk``; a refusal comes back as problems."""
    check = Check()
    try:
        parsed = read_invite_csv(io.BytesIO(content))
        resolved = resolve_rows(workspace, parsed.rows, default_role)
    except InviteFileError as exc:
        check.batch_problems.append(str(exc))
        return check
    check.problems = parsed.problems | resolved.problems
    try:
        result = invite_create_bulk(
            actor=actor,
            workspace=workspace,
            specs=resolved.specs,
            skip_invalid=dry_run,  # a preview lists every bad row; the real run writes all or nothing
            dry_run=dry_run or bool(check.problems),
        )
    except InviteBatchRefused as exc:
        check.problems |= {resolved.lines[i]: reason for i, reason in exc.problems.items()}
        check.batch_problems += exc.batch_problems
        return check
    check.problems |= {resolved.lines[i]: reason for i, reason in result.invalid.items()}
    check.invited, check.refreshed = len(result.invited), len(result.refreshed)
    check.already_members, check.emails = len(result.already_members), result.emails
    return check


class BulkInviteView(WorkspaceMixin, TemplateView):
    """GET: the upload form. POST with a file: the preview. POST ``confirm``: the import."""

    required_capability = "invite_members"
    template_name = "workspaces/invite_bulk.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", UploadForm())
        kwargs.setdefault("max_mb", settings.INVITE_BULK_MAX_BYTES / 1_000_000)
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        if "confirm" in request.POST:
            return self._confirm(request)
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        content, role = form.cleaned_data["file"], form.cleaned_data["role"]
        check = run_file(request.user, self.workspace, content, role, dry_run=True)
        upload_id = None
        if check.ok:
            upload_id = secrets.token_urlsafe(16)
            request.session[SESSION_KEY] = {
                "id": upload_id,
                "workspace": self.workspace.pk,
                "role": role,
                "content": base64.b64encode(content).decode("ascii"),
            }
        else:
            request.session.pop(SESSION_KEY, None)
        return self.render_to_response(self.get_context_data(form=form, check=check, upload_id=upload_id))

    def _confirm(self, request):
        form = ConfirmForm(request.POST)
        stored = request.session.get(SESSION_KEY)
        if (
            not form.is_valid()
            or not stored
            or stored.get("workspace") != self.workspace.pk
            or not secrets.compare_digest(stored.get("id", ""), form.cleaned_data["upload"])
        ):
            messages.error(request, "That file is no longer waiting to be confirmed: upload it again.")
            return redirect("invite_bulk:upload", self.workspace.slug)
        content = base64.b64decode(stored["content"])
        try:
            check = run_file(request.user, self.workspace, content, stored["role"], dry_run=False)
        except RuleViolation as exc:  # anything else the core refuses: nothing was written
            check = Check(batch_problems=list(exc.messages))
        except (SMTPException, OSError):
            del request.session[SESSION_KEY]
            messages.error(
                request,
                "The invitations were saved, but sending the e-mails failed; resend them from the pending "
                "invitations below.",
            )
            return redirect("people:index", self.workspace.slug)
        if not check.ok:
            messages.error(request, "Nobody was invited: the file is refused as a whole.")
            return self.render_to_response(self.get_context_data(check=check))
        del request.session[SESSION_KEY]
        messages.success(
            request,
            f"Invited {check.invited}, refreshed {check.refreshed}; {check.already_members} already members. "
            f"E-mails sent: {check.emails}.",
        )
        return redirect("people:index", self.workspace.slug)
