"""Every write of data & privacy requests.

``data_request_create`` is the workspace member's: it needs the request capability of its kind on
the workspace AND ``view_site`` on the site (nobody asks about data of a site they cannot see).
``data_request_set_status`` is platform staff's (the admin calls it): staff are not members, so
it takes no capability check, and its audit event names the staff member passed as ``actor``.
One audit event per change, none when nothing changes; bad input raises ``RuleViolation`` and writes nothing.

The tracked person's identifier is personal data: it stays on the request row and out of the
audit log, which many people read and nobody can erase.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from permissions.policy import require
from workspaces.models import Site, Workspace

from .models import DataRequest

SUBJECT_MAX = 254
NOTE_MAX = 2000


def _clean_text(subject: str, note: str) -> tuple[str, str]:
    subject, note = (subject or "").strip(), (note or "").strip()
    if not subject:
        raise RuleViolation("Name the tracked person: their id or e-mail address on the site.")
    if len(subject) > SUBJECT_MAX:
        raise RuleViolation(f"Keep the tracked person's id under {SUBJECT_MAX} characters.")
    if len(note) > NOTE_MAX:
        raise RuleViolation(f"Keep the note under {NOTE_MAX} characters.")
    return subject, note


@transaction.atomic
def data_request_create(
    *, actor, workspace: Workspace, site: Site, kind: str, subject: str, note: str = ""
) -> DataRequest:
    if kind not in DataRequest.Kind.values:
        raise RuleViolation("Choose an export or a deletion.")
    require(actor, DataRequest.CAPABILITY[kind], workspace)
    if site.workspace_id != workspace.pk:
        raise RuleViolation("That site is not in this workspace.")
    require(actor, "view_site", site)
    subject, note = _clean_text(subject, note)
    pending = (
        DataRequest.objects.filter(site=site, kind=kind, subject__iexact=subject)
        .exclude(status__in=DataRequest.FINAL)
        .first()
    )
    if pending is not None:
        raise RuleViolation(
            f"The same {kind} request for this person on {site.name} is already "
            f"{pending.get_status_display().lower()} (filed {pending.created_at:%d %B %Y})."
        )
    data_request = DataRequest.objects.create(
        workspace=workspace, site=site, site_name=site.name, kind=kind, subject=subject, note=note, requested_by=actor
    )
    record(
        action="data_request.create",
        actor=actor,
        workspace=workspace,
        target=data_request,
        after={"kind": kind, "site": site.name, "status": data_request.status},
    )
    return data_request


@transaction.atomic
def data_request_set_status(
    *, data_request: DataRequest, status: str, staff_note: str | None = None, actor=None
) -> DataRequest:
    """Move a request along (received → in progress → completed or rejected) and tell the
    requester, through ``staff_note``, what was done. A completed or rejected request keeps its
    status; only its note can still be corrected."""
    if status not in DataRequest.Status.values:
        raise RuleViolation(f"“{status}” is not a request status.")
    # The row lock makes two staff members' updates apply one after the other.
    data_request = DataRequest.objects.select_for_update().select_related("workspace").get(pk=data_request.pk)
    if data_request.is_final and status != data_request.status:
        raise RuleViolation(
            f"Request {data_request.pk} is {data_request.get_status_display().lower()}: its status no longer "
            "changes. File a new request instead."
        )
    note = data_request.staff_note if staff_note is None else staff_note.strip()
    if len(note) > NOTE_MAX:
        raise RuleViolation(f"Keep the note under {NOTE_MAX} characters.")
    before = {"status": data_request.status, "staff_note": data_request.staff_note}
    after = {"status": status, "staff_note": note}
    if before == after:
        return data_request
    data_request.status, data_request.staff_note = status, note
    data_request.handled_by, data_request.handled_at = actor, timezone.now()
    data_request.save(update_fields=["status", "staff_note", "handled_by", "handled_at"])
    record(
        actor=actor,
        action="data_request.status",
        workspace=data_request.workspace,
        target=data_request,
        before=before,
        after=after,
    )
    return data_request
