"""Invitations: create (one address or ten thousand), resend, revoke, accept, purge.

docs/RULES.md 4.2 (Invite) and 4.3 (Accept), rules 3, 6 and 8. The browser's invite form
(``invite_create``), resending (``invite_resend``) and the operator's CSV import
(``invite_create_bulk``) share one core, ``_invite_many``: the same checks (``invite_checks``) and
the same bulk writes (``invite_writes``), so the number of queries does not grow with the number of
addresses.

A link's token is ``secrets.token_urlsafe(32)`` (256 bits). Only its SHA-256 is stored; the token
itself lives in memory until the e-mail is handed to the mail server, after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import normalize_email
from audit.services import record
from billing.limits import PlanLimitReached, refuse_over_limit
from kernel.errors import RuleViolation
from kernel.locks import lock_accounts, lock_invitations
from permissions.models import Role
from permissions.policy import require, require_can_give
from workspaces import notices
from workspaces.invites.checks import DailyLimits, GrantRules, address_problems
from workspaces.invites.mail import invite_url, send_invite_emails
from workspaces.invites.selectors import MAX_TOKEN_LENGTH, expired_invites, invite_outgrown
from workspaces.invites.specs import InviteSpec
from workspaces.invites.staged import NewInvite, RefusedUnderLock, write_staged
from workspaces.invites.writes import Plan, hash_token, member_addresses, pending_invites, write_plan
from workspaces.models import Invite, Membership, Site, Team, Workspace
from workspaces.people.services import member_add
from workspaces.selectors import workspace_contents
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

__all__ = [
    "InviteBatchRefused",
    "InviteResult",
    "InviteSpec",
    "hash_token",
    "invite_accept",
    "invite_create",
    "invite_create_bulk",
    "invite_resend",
    "invite_revoke",
    "invite_url",
    "purge_expired_invites",
]


@dataclass
class InviteResult:
    # Invites; a bulk import (or a dry run) keeps only staged.NewInvite (pk, email, role) of each
    invited: list[Invite | NewInvite] = field(default_factory=list)
    refreshed: list[Invite] = field(default_factory=list)  # had a pending invitation, brought up to date
    already_members: list[str] = field(default_factory=list)
    invalid: dict[int, str] = field(default_factory=dict)  # index in the specs → why it was refused
    emails: int = 0  # e-mails sent (or, in a dry run, that would be sent)


class InviteBatchRefused(RuleViolation):
    """Nothing was written. ``problems`` maps an index in the specs to its reason;
    ``batch_problems`` are the reasons that concern the whole batch (the daily limits)."""

    def __init__(self, problems: dict[int, str], batch_problems: Sequence[str] = ()):
        self.problems = dict(problems)
        self.batch_problems = list(batch_problems)
        super().__init__(list(dict.fromkeys([*self.batch_problems, *self.problems.values()])))


# --- the core -----------------------------------------------------------------------------------


def _invite_many(
    *,
    actor,
    workspace: Workspace,
    specs: Sequence[InviteSpec],
    send_email: bool,
    renew_pending: bool,
    members_are_problems: bool,
    skip_invalid: bool = False,
    dry_run: bool = False,
    refresh_action: str = "invite.refresh",
    on_mail_progress: Callable[[int, int], None] | None = None,
    staged: bool = False,
) -> InviteResult:
    """Check every spec, then write the good ones in bulk (or none, unless ``skip_invalid``).

    ``renew_pending``: a pending invitation gets a new link (and e-mail) even while its link still
    works. Without it (the CSV import) a live link is kept and not mailed again, so re-running a
    file never spams anyone; an expired link, or one never e-mailed, is renewed.

    ``staged`` (the CSV import): check without any lock, then write through ``invites.staged``,
    which holds the invitations lock only for a last step that checks again what could have
    changed. Otherwise the whole call holds that lock (a form's few addresses).
    """
    require(actor, "invite_members", workspace)
    specs = [
        spec if spec.email == (email := normalize_email(spec.email)) else replace(spec, email=email) for spec in specs
    ]
    options = {"send_email": send_email, "renew_pending": renew_pending, "members_are_problems": members_are_problems}
    if staged:
        result, plan = _check(actor, workspace, specs, skip_invalid=skip_invalid, lock=False, **options)
        if dry_run:
            return _dry_run(workspace, plan, result)
        try:
            mails = write_staged(actor, workspace, plan, result, send_email=send_email, refresh_action=refresh_action)
        except RefusedUnderLock as exc:
            raise InviteBatchRefused({}, exc.reasons) from exc
        _mail_after_commit(workspace, actor, mails, on_mail_progress)
        return result
    with transaction.atomic():
        # The invitations lock serialises invitations per workspace: the daily limits and the
        # one-pending-invitation-per-address rule hold when two admins invite at the same moment.
        lock_invitations(workspace)
        result, plan = _check(actor, workspace, specs, skip_invalid=skip_invalid, lock=True, **options)
        if dry_run:
            return _dry_run(workspace, plan, result)
        mails = write_plan(actor, workspace, plan, result, send_email=send_email, refresh_action=refresh_action)
        _mail_after_commit(workspace, actor, mails, on_mail_progress)
    return result


def _check(actor, workspace, specs, *, skip_invalid: bool, lock: bool, **options) -> tuple[InviteResult, Plan]:
    """Every check of the core; raises InviteBatchRefused unless ``skip_invalid``."""
    problems = address_problems(specs)
    rules = GrantRules(actor, workspace, [s for i, s in enumerate(specs) if i not in problems])
    _refuse_beyond_rule_3(rules, specs, problems)
    plan, already_members = _plan(workspace, specs, problems, lock=lock, **options)
    _refuse_foreign_refreshes(rules, plan, problems)
    _check_limits(actor, workspace, specs, plan, problems)
    _check_plan_limit(workspace, plan, problems)
    if problems and not skip_invalid:
        raise InviteBatchRefused(problems)
    return InviteResult(already_members=already_members, invalid=problems, emails=len(plan.mail_indexes)), plan


def _dry_run(workspace, plan: Plan, result: InviteResult) -> InviteResult:
    result.invited = [NewInvite(None, s.email, s.role) for _, s in plan.new]
    result.refreshed = [p.invite for _, _, p, _ in plan.refresh]
    return result


def _mail_after_commit(workspace, actor, mails, on_mail_progress) -> None:
    if mails:
        transaction.on_commit(
            lambda: send_invite_emails(
                workspace=workspace, inviter=actor, invites_and_tokens=mails, on_progress=on_mail_progress
            )
        )


def _refuse_beyond_rule_3(rules: GrantRules, specs: Sequence[InviteSpec], problems: dict[int, str]) -> None:
    """Add the specs that give what the actor does not hold (rule 3) to ``problems``."""
    for index, spec in enumerate(specs):
        if index not in problems and (reason := rules.problem(spec)):
            problems[index] = reason


def _refuse_foreign_refreshes(rules: GrantRules, plan: Plan, problems: dict[int, str]) -> None:
    """A pending invitation may be refreshed or replaced only by someone who could have made it:
    an Admin cannot turn the owner's Owner invitation into a Member one, nor take it over."""
    if rules.actor is None:
        return
    for entry in list(plan.refresh):
        index, _, existing, _ = entry
        if reason := rules.pending_problem(existing):
            problems[index] = reason
            plan.refresh.remove(entry)
            plan.mail_indexes.discard(index)


def _plan(
    workspace: Workspace,
    specs: Sequence[InviteSpec],
    problems: dict[int, str],
    *,
    send_email: bool,
    renew_pending: bool,
    members_are_problems: bool,
    lock: bool = True,
) -> tuple[Plan, list[str]]:
    """Sort the good specs into new invitations and pending ones to refresh; returns the plan and
    the addresses that are already members (or adds them to ``problems``)."""
    members = member_addresses(workspace)
    pending = pending_invites(workspace, lock=lock)
    plan, already_members = Plan(), []
    for index, spec in enumerate(specs):
        if index in problems:
            continue
        if spec.email in members:
            if members_are_problems:
                problems[index] = f"{spec.email} is already a member of {workspace}."
            else:
                already_members.append(spec.email)
            continue
        if (existing := pending.get(spec.email)) is None:
            plan.new.append((index, spec))
            renew = True
        else:
            invite = existing.invite
            renew = renew_pending or invite.is_expired or (send_email and invite.send_count == 0)
            plan.refresh.append((index, spec, existing, renew))
        if send_email and renew:
            plan.mail_indexes.add(index)
    return plan, already_members


def _check_limits(actor, workspace, specs, plan: Plan, problems: dict[int, str]) -> None:
    """Refuse the whole batch over a per-inviter or per-workspace limit; refuse the rows whose
    address has had its fill today (and take them out of the plan)."""
    if not plan.mail_indexes:
        return
    limits = DailyLimits(actor, workspace)
    batch = limits.batch_problems(len(plan.mail_indexes))
    if batch:
        raise InviteBatchRefused(problems, batch)
    full = limits.address_problems([specs[i].email for i in plan.mail_indexes])
    if not full:
        return
    for index in list(plan.mail_indexes):
        if specs[index].email in full:
            problems[index] = full[specs[index].email]
            plan.mail_indexes.discard(index)
    plan.new = [(i, s) for i, s in plan.new if i not in problems]
    plan.refresh = [row for row in plan.refresh if row[0] not in problems]


def _check_plan_limit(workspace, plan: Plan, problems: dict[int, str]) -> None:
    """Refuse the whole batch when its new invitations, with the members and the pending
    invitations, pass the plan's member limit: an early answer, as joining is refused then anyway
    (``member_add`` counts again, under its lock, when someone joins)."""
    if not plan.new:
        return
    used = workspace_contents(workspace)
    try:
        refuse_over_limit(workspace, "members", used=used["members"] + used["pending_invites"], adding=len(plan.new))
    except PlanLimitReached as exc:
        raise InviteBatchRefused(problems, exc.messages) from exc


# --- the public services ------------------------------------------------------------------------


def invite_create(
    *,
    actor,
    workspace: Workspace,
    emails: Sequence[str],
    role: Role,
    site_grants: Sequence[tuple[Site, Role]] = (),
    teams: Sequence[Team] = (),
    send_email: bool = True,
) -> InviteResult:
    """Invite one or many addresses with the same role, site grants and teams (the browser form).

    All or nothing: an invalid address, an address that is already a member, a grant beyond the
    actor's own (rule 3) or a daily limit refuses the whole request, with a message naming each
    problem (``InviteBatchRefused``, a RuleViolation). A pending invitation for an address is
    refreshed (new link, new expiry, new role, grants and teams), never duplicated.
    """
    emails = list(dict.fromkeys(normalize_email(e) for e in emails if e and e.strip()))  # once each
    if not emails:
        raise RuleViolation("Enter at least one e-mail address.")
    specs = [InviteSpec(email, role, tuple(site_grants), tuple(teams)) for email in emails]
    return _invite_many(
        actor=actor,
        workspace=workspace,
        specs=specs,
        send_email=send_email,
        renew_pending=True,
        members_are_problems=True,
    )


def invite_create_bulk(
    *,
    actor,
    workspace: Workspace,
    specs: Sequence[InviteSpec],
    send_email: bool = True,
    skip_invalid: bool = False,
    dry_run: bool = False,
    on_mail_progress: Callable[[int, int], None] | None = None,
) -> InviteResult:
    """Invite many addresses, each with its own role, grants and teams (the CSV import).

    Every spec is checked before anything is written. With a bad spec, nothing is written and
    ``InviteBatchRefused.problems`` names each bad one by its index; with ``skip_invalid`` the good
    ones are written and the bad ones come back in ``result.invalid``. Existing members are reported
    in ``result.already_members``, not refused. Running the same batch again is safe: a pending
    invitation keeps its live link and is not e-mailed again (see ``_invite_many``).
    """
    return _invite_many(
        actor=actor,
        workspace=workspace,
        specs=specs,
        send_email=send_email,
        renew_pending=False,
        members_are_problems=False,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        on_mail_progress=on_mail_progress,
        staged=True,
    )


@transaction.atomic
def invite_resend(*, actor, invite: Invite) -> Invite:
    """A new link and a new expiry for a pending invitation; the old link stops working at once.

    Counts toward the daily limits, and the resender must be allowed to give what it carries.
    """
    require(actor, "invite_members", invite.workspace)
    # The invitations lock first, as in _invite_many, so the two never wait for each other's locks.
    lock_invitations(invite.workspace)
    invite = Invite.objects.select_related("workspace", "role").get(pk=invite.pk)
    if invite.status != Invite.Status.PENDING:
        raise RuleViolation(
            f"The invitation for {invite.email} is {invite.get_status_display().lower()}; "
            "only pending invitations can be resent."
        )
    grants = tuple((g.site, g.role) for g in invite.site_grants.select_related("site", "role"))
    spec = InviteSpec(invite.email, invite.role, grants, tuple(invite.teams.all()))
    result = _invite_many(
        actor=actor,
        workspace=invite.workspace,
        specs=[spec],
        send_email=True,
        renew_pending=True,
        members_are_problems=True,
        refresh_action="invite.resend",
    )
    return result.refreshed[0]


@transaction.atomic
def invite_revoke(*, actor, invite: Invite) -> Invite:
    """Withdraw a pending invitation: its link stops working."""
    require(actor, "invite_members", invite.workspace)
    invite = Invite.objects.select_for_update().get(pk=invite.pk)
    if invite.status != Invite.Status.PENDING:
        raise RuleViolation(f"The invitation for {invite.email} is already {invite.get_status_display().lower()}.")
    if invite.role.is_owner:
        require_can_give(actor, invite.role, invite.workspace)  # only owners touch the Owner role
    invite.status, invite.revoked_at = Invite.Status.REVOKED, timezone.now()
    invite.save(update_fields=["status", "revoked_at"])
    record(
        action="invite.revoke",
        actor=actor,
        workspace=invite.workspace,
        target=invite,
        before={"email": invite.email, "status": "pending"},
        after={"email": invite.email, "status": "revoked"},
    )
    return invite


def _who_to_ask(invite: Invite) -> str:
    if invite.invited_by is not None:
        return f"Ask {invite.invited_by.email} for a new invitation."
    return f"Ask an administrator of {invite.workspace} for a new invitation."


def _refuse_unusable(invite: Invite | None, user) -> None:
    if invite is None:
        raise RuleViolation("This invitation link is not valid. Check that you copied the whole link.")
    where = f"The invitation to {invite.workspace}"
    if invite.status == Invite.Status.REVOKED:
        raise RuleViolation(f"{where} was withdrawn. {_who_to_ask(invite)}")
    if invite.status == Invite.Status.ACCEPTED:
        raise RuleViolation(f"{where} has already been used. {_who_to_ask(invite)}")
    if invite.is_expired:
        day = timezone.localtime(invite.expires_at)
        raise RuleViolation(f"{where} expired on {day.day} {day:%B %Y}. {_who_to_ask(invite)}")
    if normalize_email(user.email) != normalize_email(invite.email):
        raise RuleViolation(
            f"{where} is for {invite.email}, but you are signed in as {user.email}. "
            f"Sign out, then sign in or sign up as {invite.email}."
        )


@transaction.atomic
def invite_accept(*, invite_token: str, user) -> Membership:
    """Join the workspace with the invitation's role, site grants and teams (the accept POST).

    Rule 6: the row lock makes two concurrent accepts produce one membership; the second sees the
    invitation used. Opening the link proves the invitee reads that address, so it counts as
    verified.
    """
    invite = None
    if getattr(user, "pk", None) is not None:
        lock_accounts([user.pk])  # the one lock order (kernel.locks): the account before the invitation
    if invite_token and len(invite_token) <= MAX_TOKEN_LENGTH:
        # of=("self",): lock the invitation row only, not the rows joined to it.
        invite = (
            Invite.objects.select_for_update(of=("self",))
            .select_related("workspace", "role", "invited_by")
            .filter(token_hash=hash_token(invite_token))
            .first()
        )
    _refuse_unusable(invite, user)
    if invite_outgrown(invite):
        raise RuleViolation(
            f"The invitation to {invite.workspace} offers more than {invite.invited_by.email} may give now, "
            f"so it cannot be used. {_who_to_ask(invite)}"
        )
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    workspace = invite.workspace
    is_new = not Membership.objects.filter(workspace=workspace, user=user).exists()
    # The invite.accept event below records the joining: one change, one event.
    membership = member_add(
        workspace=workspace, user=user, role=invite.role, invited_by=invite.invited_by, actor=user, action=None
    )
    if is_new:
        for grant in invite.site_grants.select_related("site", "role"):
            site_grant_set(actor=None, site=grant.site, role=grant.role, membership=membership)
        for team in invite.teams.all():
            team_add_member(actor=None, team=team, membership=membership)
    invite.status, invite.accepted_at, invite.accepted_by = Invite.Status.ACCEPTED, timezone.now(), user
    invite.save(update_fields=["status", "accepted_at", "accepted_by"])
    record(
        action="invite.accept",
        actor=user,
        workspace=workspace,
        target=invite,
        before={"email": invite.email, "status": "pending"},
        after={"email": invite.email, "status": "accepted", "role": invite.role.name},
    )
    if is_new:
        notices.invite_accepted(invite, membership=membership)
    return membership


@transaction.atomic
def purge_expired_invites(older_than_days: int = 30) -> int:
    """Delete invitations expired for more than ``older_than_days``; one audit event per workspace."""
    stale = expired_invites(older_than_days)
    per_workspace = dict(stale.order_by().values_list("workspace").annotate(n=Count("id")))
    if not per_workspace:
        return 0
    stale.delete()  # their site grants and team links cascade
    for workspace in Workspace.objects.filter(pk__in=per_workspace):
        record(
            action="invite.purge",
            workspace=workspace,
            after={"deleted": per_workspace[workspace.pk], "expired_more_than_days": older_than_days},
        )
    return sum(per_workspace.values())
