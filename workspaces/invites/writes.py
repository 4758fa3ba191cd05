"""Writing a batch of invitations in bulk: new ones, pending ones brought up to date, their site
grants and teams, one audit event each (never with the token) and one InviteSend per e-mail.

A fixed number of statements whatever the batch size (SQLite splits big inserts into several).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models.functions import Lower
from django.utils import timezone

from audit.services import Change, record_many
from kernel.tokens import digest as hash_token  # how a token is stored: its SHA-256
from workspaces.models import Invite, InviteSend, InviteSiteGrant, Membership, Workspace

if TYPE_CHECKING:
    from workspaces.invites.services import InviteResult
    from workspaces.invites.specs import InviteSpec

TOKEN_BYTES = 32  # 256 bits; rule 6 asks for at least 128


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


# --- the state of an invitation, for comparisons and the audit log (never the token) -------------


@dataclass
class PendingInvite:
    invite: Invite
    grants: list[tuple[int, str, int, str]] = field(default_factory=list)  # site id, slug, role id, role name
    teams: list[tuple[int, str]] = field(default_factory=list)  # team id, name

    def key(self) -> tuple:
        return (self.invite.role_id, frozenset((g[0], g[2]) for g in self.grants), frozenset(t[0] for t in self.teams))

    def state(self) -> dict:
        return {
            "role": self.invite.role.name,
            "sites": sorted(f"{slug}:{role}" for _, slug, _, role in self.grants),
            "teams": sorted(name for _, name in self.teams),
        }


def _spec_key(spec: InviteSpec) -> tuple:
    return (spec.role.pk, frozenset((s.pk, r.pk) for s, r in spec.site_grants), frozenset(t.pk for t in spec.teams))


def _spec_state(spec: InviteSpec) -> dict:
    return {
        "role": spec.role.name,
        "sites": sorted(f"{site.slug}:{role.name}" for site, role in spec.site_grants),
        "teams": sorted(team.name for team in spec.teams),
    }


def pending_invites(
    workspace: Workspace, *, lock: bool = True, ids: Sequence[int] | None = None
) -> dict[str, PendingInvite]:
    """Every pending invitation of the workspace (or those of ``ids``) with its grants and teams:
    three queries.

    ``lock=False`` reads without locking (a bulk import's check, outside any transaction); what it
    plans is checked again under the invitations lock before it is written (``invites.staged``)."""
    rows = Invite.objects.filter(workspace=workspace, status=Invite.Status.PENDING)
    grants = InviteSiteGrant.objects.filter(invite__workspace=workspace, invite__status=Invite.Status.PENDING)
    links = Invite.teams.through.objects.filter(invite__workspace=workspace, invite__status=Invite.Status.PENDING)
    if ids is not None:
        rows, grants, links = rows.filter(pk__in=ids), grants.filter(invite_id__in=ids), links.filter(invite_id__in=ids)
    if lock:
        # Locked, so that an accept running now waits for us, and we never renew a link just used.
        rows = rows.select_for_update(of=("self",))
    pending = {invite.email.lower(): PendingInvite(invite) for invite in rows.select_related("role")}
    by_id = {p.invite.pk: p for p in pending.values()}
    for invite_id, *grant in grants.values_list("invite_id", "site_id", "site__slug", "role_id", "role__name"):
        if invite_id in by_id:  # unlocked, an invitation may have become pending between the queries
            by_id[invite_id].grants.append(tuple(grant))
    for invite_id, team_id, name in links.values_list("invite_id", "team_id", "team__name"):
        if invite_id in by_id:
            by_id[invite_id].teams.append((team_id, name))
    return pending


def member_addresses(workspace: Workspace) -> set[str]:
    return set(
        Membership.objects.filter(workspace=workspace)
        .annotate(address=Lower("user__email"))
        .values_list("address", flat=True)
    )


@dataclass
class Plan:
    new: list[tuple[int, InviteSpec]] = field(default_factory=list)
    refresh: list[tuple[int, InviteSpec, PendingInvite, bool]] = field(default_factory=list)  # …, renew the link
    mail_indexes: set[int] = field(default_factory=set)


def write_plan(actor, workspace, plan: Plan, result: InviteResult, *, send_email: bool, refresh_action: str):
    """Bulk writes for the plan; returns the (invite, token) pairs to e-mail after commit."""
    now = timezone.now()
    expires = now + timedelta(days=settings.INVITE_EXPIRY_DAYS)
    mails: list[tuple[Invite, str]] = []
    events: list[tuple[str, Invite, dict | None, dict]] = []
    created = _write_new(actor, workspace, plan, now, expires, mails, events)
    rewritten = _write_refreshes(actor, plan, now, expires, mails, events, refresh_action)
    _write_grants_and_teams(created + rewritten)
    record_many(actor=actor, workspace=workspace, changes=[Change(*event) for event in events])
    if send_email:
        InviteSend.objects.bulk_create(
            [InviteSend(workspace=workspace, inviter=actor, email=invite.email, sent_at=now) for invite, _ in mails]
        )
    result.invited = [invite for invite, _ in created]
    result.refreshed = [existing.invite for _, _, existing, _ in plan.refresh]
    return mails


def _write_new(actor, workspace, plan: Plan, now, expires, mails: list, events: list) -> list:
    """Insert the new invitations; returns (invite, spec) pairs whose grants and teams to write."""
    created = []
    for index, spec in plan.new:
        token, token_hash = _new_token()
        invite = Invite(
            workspace=workspace,
            email=spec.email,
            role=spec.role,
            invited_by=actor,
            token_hash=token_hash,
            created_at=now,
            sent_at=now,
            expires_at=expires,
            send_count=1 if index in plan.mail_indexes else 0,
        )
        created.append((invite, spec))
        if index in plan.mail_indexes:
            mails.append((invite, token))
    Invite.objects.bulk_create([invite for invite, _ in created])
    events += [
        ("invite.create", invite, None, {"email": invite.email, **_spec_state(spec)}) for invite, spec in created
    ]
    return created


def _write_refreshes(actor, plan: Plan, now, expires, mails: list, events: list, action: str) -> list:
    """Bring pending invitations up to date; returns (invite, spec) pairs whose grants and teams
    changed (their old rows are deleted here, the new ones written by the caller)."""
    changed, rewritten = [], []
    for index, spec, existing, renew in plan.refresh:
        invite = existing.invite
        same = existing.key() == _spec_key(spec)
        if same and not renew:
            continue  # nothing to change: a re-run of the same file writes nothing for it
        before = existing.state()
        invite.role = spec.role
        invite.invited_by = actor if actor is not None else invite.invited_by
        after = {"email": invite.email, **_spec_state(spec)}
        if renew:
            token, invite.token_hash = _new_token()
            invite.expires_at, invite.sent_at = expires, now
            after["link"] = "renewed"
            if index in plan.mail_indexes:
                invite.send_count += 1
                mails.append((invite, token))
        changed.append(invite)
        if not same:
            rewritten.append((invite, spec))
        events.append((action, invite, before, after))
    if changed:
        Invite.objects.bulk_update(changed, ["role", "invited_by", "token_hash", "expires_at", "sent_at", "send_count"])
    if rewritten:
        ids = [invite.pk for invite, _ in rewritten]
        InviteSiteGrant.objects.filter(invite_id__in=ids).delete()
        Invite.teams.through.objects.filter(invite_id__in=ids).delete()
    return rewritten


def _write_grants_and_teams(pairs: Sequence[tuple[Invite, InviteSpec]]) -> None:
    InviteSiteGrant.objects.bulk_create(
        [
            InviteSiteGrant(invite=invite, site=site, role=role)
            for invite, spec in pairs
            for site, role in spec.site_grants
        ]
    )
    through = Invite.teams.through
    through.objects.bulk_create(
        [through(invite_id=invite.pk, team_id=team.pk) for invite, spec in pairs for team in spec.teams]
    )
