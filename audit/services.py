"""Writing audit events. Services call ``record`` inside their own transaction."""

from __future__ import annotations

from .context import request_ip
from .models import AuditEvent


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
    ``view_member_activity`` and exported as CSV.
    """
    return AuditEvent.objects.create(
        workspace=workspace,
        workspace_name=workspace.name if workspace is not None else "",
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        before=before,
        after=after,
        ip_address=request_ip.get(),
    )
