"""Writing a bulk import (``invite_create_bulk``) without holding the workspace for it.

The file's promise stays all or nothing. Invitations serialise per workspace on
``kernel.locks.lock_invitations`` (never on the workspace row, which a role change touching the
Owner role locks), and the import holds it only for its last step:

1. The caller checked every row without any lock (``pending_invites(lock=False)``): syntax,
   duplicates, rule 3, members, pending invitations, the daily limits.
2. One transaction writes the new invitations chunk by chunk (``CHUNK`` rows at a time, so memory
   does not grow with the file), with their site grants, teams and audit events, as
   ``Invite.Status.STAGED``: outside the one-pending-invitation-per-address index, and without
   locking any row another change locks, so nothing waits for this transaction meanwhile.
3. Still in that transaction, it takes the invitations lock and checks again what could have changed since
   step 1: an address that became a member or got a pending invitation, a pending invitation to
   refresh that someone changed, withdrew or accepted, and the per-inviter and per-workspace daily
   limits. Anything changed refuses the whole file (``InviteBatchRefused``; the transaction rolls
   back, nothing stays). Otherwise it writes the refreshes and the e-mail counts and turns the
   staged invitations pending in one statement; the commit ends the lock.

A staged invitation is never committed, so no one else ever sees one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from audit.services import Change, record_many
from kernel.locks import lock_invitations
from workspaces.invites.checks import DailyLimits
from workspaces.invites.writes import (
    Plan,
    _new_token,
    _spec_key,
    _spec_state,
    _write_grants_and_teams,
    _write_refreshes,
    pending_invites,
)
from workspaces.models import Invite, InviteSend, Membership, Workspace

if TYPE_CHECKING:
    from workspaces.invites.services import InviteResult

CHUNK = 2_000  # rows per insert batch: big enough to be quick, small enough to bound memory
SHOWN = 10  # addresses named in a "changed meanwhile" message


class NewInvite:
    """What an import keeps of each invitation it made, to report it: an Invite instance costs
    about 1.4 KB, this about 70 bytes. Its ``_meta`` and ``pk`` name it like the Invite it stands
    for (the audit log's target)."""

    __slots__ = ("pk", "email", "role")
    _meta = Invite._meta
    status = Invite.Status.PENDING

    def __init__(self, pk: int | None, email: str, role):
        self.pk, self.email, self.role = pk, email, role

    def __str__(self) -> str:
        return f"Invite for {self.email}"


class RefusedUnderLock(Exception):
    """Something the rows were checked against changed before the lock, or the daily limits would
    now be passed; ``reasons`` say what. Raised inside the transaction, so nothing stays."""

    def __init__(self, reasons: Sequence[str]):
        self.reasons = list(reasons)
        super().__init__(" ".join(self.reasons))


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_staged(
    actor, workspace: Workspace, plan: Plan, result: InviteResult, *, send_email: bool, refresh_action: str
) -> list[tuple[Invite, str]]:
    """Write the plan in one transaction, holding the invitations lock only for its last step; returns the
    (invite, token) pairs to e-mail after commit. Raises RefusedUnderLock with nothing written."""
    now = timezone.now()
    expires = now + timedelta(days=settings.INVITE_EXPIRY_DAYS)
    mails: list[tuple[Invite, str]] = []
    refreshed = [existing.invite for _, _, existing, _ in plan.refresh]
    # Refreshes that would write nothing (a re-run of the same file with live links) are left out:
    # they need neither the lock nor a re-check.
    plan.refresh = [entry for entry in plan.refresh if entry[3] or entry[2].key() != _spec_key(entry[1])]
    with transaction.atomic():
        for chunk in _chunks(plan.new, CHUNK):
            _stage_new(actor, workspace, chunk, plan.mail_indexes, now, expires, mails, result)
        lock_invitations(workspace)
        _refuse_changes(workspace, plan)
        if send_email:
            limits = DailyLimits(actor, workspace).batch_problems(len(plan.mail_indexes))
            if limits:
                raise RefusedUnderLock(limits)
        events: list[tuple[str, Invite, dict | None, dict]] = []
        rewritten = _write_refreshes(actor, plan, now, expires, mails, events, refresh_action)
        _write_grants_and_teams(rewritten)
        record_many(actor=actor, workspace=workspace, changes=[Change(*event) for event in events])
        if send_email:
            InviteSend.objects.bulk_create(
                [InviteSend(workspace=workspace, inviter=actor, email=invite.email, sent_at=now) for invite, _ in mails]
            )
        Invite.objects.filter(workspace=workspace, status=Invite.Status.STAGED).update(status=Invite.Status.PENDING)
    result.refreshed = refreshed
    return mails


def _stage_new(actor, workspace, chunk, mail_indexes, now, expires, mails: list, result: InviteResult) -> None:
    """Insert one chunk of new invitations as staged, with their grants, teams and audit events."""
    created = []
    for index, spec in chunk:
        token, token_hash = _new_token()
        mailed = index in mail_indexes
        invite = Invite(
            workspace=workspace,
            email=spec.email,
            role=spec.role,
            invited_by=actor,
            token_hash=token_hash,
            status=Invite.Status.STAGED,
            created_at=now,
            sent_at=now,
            expires_at=expires,
            send_count=1 if mailed else 0,
        )
        created.append((invite, spec))
        if mailed:
            mails.append((invite, token))
    Invite.objects.bulk_create([invite for invite, _ in created])
    _write_grants_and_teams(created)
    record_many(
        actor=actor,
        workspace=workspace,
        changes=[
            Change("invite.create", invite, None, {"email": invite.email, **_spec_state(spec)})
            for invite, spec in created
        ],
    )
    result.invited.extend(NewInvite(invite.pk, invite.email, spec.role) for invite, spec in created)


def _refuse_changes(workspace: Workspace, plan: Plan) -> None:
    """Under the invitations lock: what changed since the rows were checked without it."""
    staged = Invite.objects.filter(workspace=workspace, status=Invite.Status.STAGED).values("email")
    reasons = []
    members = list(
        Membership.objects.filter(workspace=workspace)
        .annotate(address=Lower("user__email"))
        .filter(address__in=staged)
        .values_list("address", flat=True)[: SHOWN + 1]
    )
    if members:
        reasons.append(f"{_listed(members)} joined {workspace} while the file was being checked.")
    invited = list(
        Invite.objects.filter(workspace=workspace, status=Invite.Status.PENDING)
        .annotate(address=Lower("email"))
        .filter(address__in=staged)
        .values_list("address", flat=True)[: SHOWN + 1]
    )
    if invited:
        reasons.append(f"{_listed(invited)} got an invitation to {workspace} while the file was being checked.")
    if plan.refresh:
        ids = [existing.invite.pk for _, _, existing, _ in plan.refresh]
        now_pending = {p.invite.pk: p for p in pending_invites(workspace, ids=ids).values()}
        changed = [
            existing.invite.email
            for _, _, existing, _ in plan.refresh
            if (current := now_pending.get(existing.invite.pk)) is None
            or (current.invite.token_hash, current.invite.send_count, current.key())
            != (existing.invite.token_hash, existing.invite.send_count, existing.key())
        ]
        if changed:
            reasons.append(f"The pending invitation of {_listed(changed)} changed while the file was being checked.")
    if reasons:
        raise RefusedUnderLock([*reasons, "Run the file again."])


def _listed(addresses: Sequence[str]) -> str:
    shown = ", ".join(addresses[:SHOWN])
    return shown + (" and others" if len(addresses) > SHOWN else "")
