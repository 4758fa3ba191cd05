"""Writing audit events. Services call ``record`` (or ``record_many``) inside their own transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Model
from django.utils import timezone

from .context import acting_as, acting_staff, request_ip
from .models import AuditEvent

# Code that must act on every audited change in the same transaction (the webhooks outbox): each
# writer is called with the events just written. Registered by the app that owns it, in its
# ``ready()``, so this bottom layer never imports a feature.
_writers: list[Callable[[list[AuditEvent]], None]] = []


def register_writer(writer: Callable[[list[AuditEvent]], None]) -> None:
    """Have ``writer`` called with every batch of events ``record``/``record_many`` write."""
    if writer not in _writers:
        _writers.append(writer)


def _written(events: list[AuditEvent]) -> None:
    for writer in _writers:
        writer(events)


@dataclass(frozen=True)
class Change:
    """One change of a batch for ``record_many``: the same fields as ``record`` minus the shared ones."""

    action: str
    target: Model | None = None
    before: dict | None = None
    after: dict | None = None


def _target_fields(target: Model | None) -> dict:
    if target is None:
        return {"target_type": "", "target_id": "", "target_repr": ""}
    return {"target_type": target._meta.model_name, "target_id": str(target.pk), "target_repr": str(target)[:255]}


def record(
    *,
    action: str,
    actor=None,
    workspace=None,
    target=None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """One change, once: who did what to which target, with the state before and after.

    Never pass secrets in ``before``/``after``: the log is shown to people with
    ``view_member_activity`` and exported as CSV. Without an ``actor``, the staff member acting in
    the admin (``audit.context.staff_acting``), if any, is named; else the system actor's
    description (``audit.context.system_acting``: a provisioning token's name), if any.
    """
    if actor is None:
        actor = acting_staff.get()
    event = AuditEvent.objects.create(
        workspace=workspace,
        workspace_name=workspace.name if workspace is not None else "",
        actor=actor,
        actor_email=actor.email if actor is not None else acting_as.get()[:254],
        action=action,
        before=before,
        after=after,
        ip_address=request_ip.get(),
        **_target_fields(target),
    )
    _written([event])
    return event


def record_many(*, actor=None, workspace=None, changes: Iterable[Change]) -> list[AuditEvent]:
    """Many changes by one actor in one workspace (bulk writers), one event each, in one insert.

    Same rules as ``record``. Foreign keys are set by id: assigning instances costs noticeably at
    ten thousand rows.
    """
    if actor is None:
        actor = acting_staff.get()
    shared = {
        "workspace_id": workspace.pk if workspace is not None else None,
        "workspace_name": workspace.name if workspace is not None else "",
        "actor_id": actor.pk if actor is not None else None,
        "actor_email": actor.email if actor is not None else acting_as.get()[:254],
        "ip_address": request_ip.get(),
        "created_at": timezone.now(),
    }
    events = [
        AuditEvent(action=c.action, before=c.before, after=c.after, **_target_fields(c.target), **shared)
        for c in changes
    ]
    written = AuditEvent.objects.bulk_create(events)
    _written(written)
    return written
