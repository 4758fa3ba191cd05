"""Bulk actions of the people page: one role, one team or removal for many members at once, and
resending or revoking many invitations.

Every action takes ids that the caller resolved inside the URL's workspace (the rows ticked, or
every member matching the page's filter, read again at the time of the action); an id that is not
a member of ``workspace`` is reported, never touched. Each person is decided on their own and the
report says per row what happened: changed, unchanged, or refused and why (rules 3 and 4, a
missing capability, a site they own). Each change writes one audit event per person, in bulk.

One rule is decided for the batch as a whole: a batch that would leave the workspace without an
active owner (rule 1) is refused entirely, and nothing changes. That decision is race-safe because
it is taken under the locks of the one lock order (``kernel.locks``): the accounts of the owners
concerned, then the workspace. Only the part of a batch that touches the Owner role takes them:
a role change between two other roles locks just the membership rows it changes, so the workspace
is never held for a whole batch that cannot affect its owners. Removals hold the workspace for
their (bulk) writes, since any removal may touch rule 1 or rule 2 (site owners).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from audit.services import Change, record_many
from kernel.errors import RuleViolation
from kernel.locks import answer_deadlocks, lock_accounts, lock_workspace
from permissions import catalog, materialize
from permissions.models import Role
from permissions.policy import Access, require
from workspaces.invites.services import invite_resend, invite_revoke
from workspaces.models import Invite, Membership, Site, SiteGrant, Team, TeamMembership, Workspace

MAX_BATCH = 1000  # people or invitations per action; more is refused with a hint to narrow the filter

CHANGED, UNCHANGED, REFUSED = "changed", "unchanged", "refused"
NOT_HERE = "not a member of this workspace (any more); nothing was changed"
CHANGED_MEANWHILE = "changed by someone else meanwhile; look again and retry"


@dataclass(frozen=True)
class RowReport:
    who: str  # the person's or invitation's address; "#<id>" for an id that is not in the workspace
    outcome: str  # CHANGED, UNCHANGED or REFUSED
    detail: str


@dataclass
class BulkReport:
    """What one bulk action did, per row, in the order the rows were given."""

    title: str
    order: list[int]
    rows: dict[int, RowReport] = field(default_factory=dict)

    def add(self, pk: int, who: str, outcome: str, detail: str) -> None:
        self.rows[pk] = RowReport(who, outcome, detail)

    def ordered(self) -> list[RowReport]:
        return [self.rows[pk] for pk in self.order if pk in self.rows]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows.values() if row.outcome == outcome)

    def as_data(self) -> dict:
        """Plain data, to keep in the session until the report page shows it."""
        return {"title": self.title, "rows": [[r.who, r.outcome, r.detail] for r in self.ordered()]}


def _checked_ids(ids: Iterable[int]) -> list[int]:
    """The ids once each, in order; more than MAX_BATCH is refused before anything is read."""
    unique = list(dict.fromkeys(int(pk) for pk in ids))
    if len(unique) > MAX_BATCH:
        raise RuleViolation(
            f"At most {MAX_BATCH:,} at a time ({len(unique):,} were chosen): narrow the search and "
            "repeat for the rest. Nothing was changed."
        )
    return unique


# What a batch reads of each member: a thousand full accounts and roles cost more to build than to fetch.
MEMBER_FIELDS = ("workspace_id", "user__email", "user__is_active", "role__name", "role__key", "role__builtin")


def _member_rows(**lookup):
    return Membership.objects.select_related("user", "role").only(*MEMBER_FIELDS).filter(**lookup)


def _members(workspace: Workspace, ids: list[int], report: BulkReport) -> list[Membership]:
    """The members of ``workspace`` among ``ids`` (one query); the other ids are reported."""
    found = {member.pk: member for member in _member_rows(workspace=workspace, pk__in=ids)}
    members = []
    for pk in ids:
        member = found.get(pk)
        if member is None:
            report.add(pk, f"#{pk}", REFUSED, NOT_HERE)
        else:
            member.workspace = workspace
            members.append(member)
    return members


def _active_owners_besides(workspace: Workspace, leaving: Sequence[Membership]) -> int:
    return (
        Membership.objects.filter(workspace=workspace, role__builtin=True, role__key=catalog.OWNER)
        .filter(user__is_active=True)
        .exclude(pk__in=[m.pk for m in leaving])
        .count()
    )


def _refuse_if_no_owner_remains(workspace: Workspace, leaving: Sequence[Membership], doing: str) -> None:
    """Rule 1 for the batch as a whole, under the workspace lock: all or nothing."""
    if leaving and _active_owners_besides(workspace, leaving) == 0:
        names = ", ".join(m.user.email for m in leaving)
        raise RuleViolation(
            f"This would leave {workspace} without an active owner ({names}): nothing was changed. "
            f"Make someone else an owner first, or leave one owner out before you {doing}."
        )


# --- workspace role --------------------------------------------------------------------------------


def _role_refusal(actor, access: Access | None, member: Membership, role: Role, give_refusal: str | None):
    """Why ``actor`` may not give ``member`` the role ``role`` (as ``member_change_role`` decides), or None."""
    if access is None:
        return None
    if member.role.is_owner and not access.has("manage_owners", member.workspace):
        return "Only owners can change an owner's role."
    if actor.pk == member.user_id and not (member.role.is_owner and not role.is_owner):
        return "You cannot change your own role."
    return give_refusal  # rule 3, the same for every row: only owners give Owner, nobody more than they hold


@answer_deadlocks
def members_change_role(*, actor, workspace: Workspace, member_ids: Iterable[int], role: Role) -> BulkReport:
    """Give ``role`` to many members. Each is changed, unchanged or refused with the reason; a batch
    that would demote every active owner is refused whole.

    The rows that touch the Owner role (from or to) are changed first, in one transaction under the
    locks of the one order (their accounts, then the workspace), where rule 1 is decided on the
    committed state; the other rows after, in a second transaction that locks only their
    membership rows (an owner demoted or promoted meanwhile is refused, not overwritten).
    """
    ids = _checked_ids(member_ids)
    if role.scope != catalog.WORKSPACE or role.workspace_id not in (None, workspace.pk):
        raise RuleViolation("That role does not belong to this workspace.")
    access = require(actor, "change_member_roles", workspace)
    report = BulkReport(f"Change the workspace role to {role.name}", ids)
    give_refusal = access.give_refusal(role, workspace) if access is not None else None
    owner_rows, other_rows = [], []
    for member in _members(workspace, ids, report):
        refusal = _role_refusal(actor, access, member, role, give_refusal)
        if member.role_id == role.pk:
            report.add(member.pk, member.user.email, UNCHANGED, f"already {role.name}")
        elif refusal:
            report.add(member.pk, member.user.email, REFUSED, refusal)
        elif member.role.is_owner or role.is_owner:
            owner_rows.append(member)
        else:
            other_rows.append(member)
    if owner_rows:
        _change_owner_rows(actor, workspace, owner_rows, role, report)
    if other_rows:
        try:
            _change_other_rows(actor, workspace, other_rows, role, report)
        except RuleViolation as exc:  # a deadlock: this transaction rolled back, the owners' one stands
            for member in other_rows:
                report.add(member.pk, member.user.email, REFUSED, " ".join(exc.messages))
    return report


@transaction.atomic
def _change_owner_rows(actor, workspace, rows: list[Membership], role: Role, report: BulkReport) -> None:
    lock_accounts(member.user_id for member in rows)
    workspace = lock_workspace(workspace.pk)
    now = {m.pk: m for m in _member_rows(workspace=workspace, pk__in=[r.pk for r in rows])}
    still = _still_as_decided(rows, now, report)
    if not role.is_owner:
        _refuse_if_no_owner_remains(workspace, still, "change their roles")
    _write_role(actor, workspace, still, role, report)


@answer_deadlocks
@transaction.atomic
def _change_other_rows(actor, workspace, rows: list[Membership], role: Role, report: BulkReport) -> None:
    # Level 3 of the lock order (rows inside a workspace), in id order: a concurrent change of one
    # of these members waits for this batch, and one made before it is seen here.
    locked = Membership.objects.select_for_update(no_key=True).filter(workspace=workspace, pk__in=[r.pk for r in rows])
    now = {pk: role_id for pk, role_id in locked.order_by("pk").values_list("pk", "role_id")}
    still = []
    for member in rows:
        if member.pk not in now:
            report.add(member.pk, member.user.email, REFUSED, NOT_HERE)
        elif now[member.pk] != member.role_id:
            report.add(member.pk, member.user.email, REFUSED, CHANGED_MEANWHILE)
        else:
            still.append(member)
    _write_role(actor, workspace, still, role, report)


def _still_as_decided(rows: list[Membership], now: dict[int, Membership], report: BulkReport) -> list[Membership]:
    """The rows whose member is still here with the role the decision was made on, as read now."""
    still = []
    for member in rows:
        current = now.get(member.pk)
        if current is None:
            report.add(member.pk, member.user.email, REFUSED, NOT_HERE)
        elif current.role_id != member.role_id:
            report.add(member.pk, member.user.email, REFUSED, CHANGED_MEANWHILE)
        else:
            current.workspace = member.workspace
            still.append(current)
    return still


def _write_role(actor, workspace, members: list[Membership], role: Role, report: BulkReport) -> None:
    """One update, three queries of derived rows and one insert of audit events, for any number."""
    if not members:
        return
    Membership.objects.filter(pk__in=[m.pk for m in members]).update(role=role)
    previous = list({m.role_id: m.role for m in members}.values())
    materialize.join_role_group_many([m.user_id for m in members], workspace, role, previous)
    record_many(
        actor=actor,
        workspace=workspace,
        changes=[
            Change(
                "member.role_change",
                target=m,
                before={"user": m.user.email, "role": m.role.name},
                after={"user": m.user.email, "role": role.name},
            )
            for m in members
        ],
    )
    for member in members:
        report.add(member.pk, member.user.email, CHANGED, f"{member.role.name} → {role.name}")


# --- removal ---------------------------------------------------------------------------------------


def _removal_refusal(actor, access: Access | None, member: Membership, owned: list[str]) -> str | None:
    if access is not None and actor.pk == member.user_id:
        return "To leave the workspace yourself, use Leave."
    if access is not None and member.role.is_owner and not access.has("manage_owners", member.workspace):
        return "Only owners can remove an owner."
    if owned:
        return f"owns {', '.join(owned)}: remove them on their own, naming who owns these sites from now on"
    return None


@answer_deadlocks
@transaction.atomic
def members_remove(*, actor, workspace: Workspace, member_ids: Iterable[int]) -> BulkReport:
    """Remove many members with everything they hold here (their experiences stay).

    Site owners are refused (each needs a successor, named on their own row). A batch that would
    remove every active owner is refused whole. Holds the members' accounts and the workspace (the
    one lock order) for its few bulk writes, as ``member_remove`` does for one person.
    """
    ids = _checked_ids(member_ids)
    access = require(actor, "remove_members", workspace)
    report = BulkReport("Remove from the workspace", ids)
    lock_accounts(Membership.objects.filter(workspace=workspace, pk__in=ids).values_list("user_id", flat=True))
    workspace = lock_workspace(workspace.pk)
    members = _members(workspace, ids, report)  # read again under the locks
    owned = defaultdict(list)
    for owner_id, name in Site.objects.filter(owner_id__in=[m.pk for m in members]).values_list("owner_id", "name"):
        owned[owner_id].append(name)
    leaving = []
    for member in members:
        refusal = _removal_refusal(actor, access, member, owned.get(member.pk, []))
        if refusal:
            report.add(member.pk, member.user.email, REFUSED, refusal)
        else:
            leaving.append(member)
    _refuse_if_no_owner_remains(workspace, [m for m in leaving if m.role.is_owner], "remove them")
    _delete_members(actor, workspace, leaving)
    for member in leaving:
        report.add(member.pk, member.user.email, CHANGED, f"removed (was {member.role.name})")
    return report


def _delete_members(actor, workspace: Workspace, members: list[Membership]) -> None:
    if not members:
        return
    pks = [m.pk for m in members]
    materialize.forget_members([m.user_id for m in members], workspace.pk)
    record_many(
        actor=actor,
        workspace=workspace,
        changes=[
            Change("member.remove", target=m, before={"user": m.user.email, "role": m.role.name}) for m in members
        ],
    )
    grants = SiteGrant.objects.filter(membership_id__in=pks)
    SiteGrant.extra_permissions.through.objects.filter(sitegrant__in=grants).delete()
    grants._raw_delete(grants.db)
    try:
        Membership.objects.filter(pk__in=pks).delete()  # cascades to team memberships and collaborations
    except (ProtectedError, IntegrityError) as exc:
        # Last line for rule 2, as in member_remove: a site owner was refused above under the lock.
        raise RuleViolation("One of them owns a site of this workspace: nothing was changed.") from exc


# --- teams -----------------------------------------------------------------------------------------


def _team_members(actor, workspace: Workspace, team: Team, ids: list[int], title: str):
    if team.workspace_id != workspace.pk:
        raise RuleViolation("That team is not in this workspace.")
    access = require(actor, "manage_teams", workspace)
    report = BulkReport(title, ids)
    members = _members(workspace, ids, report)
    linked = set(
        TeamMembership.objects.filter(team=team, membership_id__in=[m.pk for m in members]).values_list(
            "membership_id", flat=True
        )
    )
    return access, report, members, linked


@transaction.atomic
def members_team_add(*, actor, workspace: Workspace, team: Team, member_ids: Iterable[int]) -> BulkReport:
    """Put many members in ``team``. Joining gives the team's site grants, so rule 3 applies (the same
    refusal for every row). Team membership never touches rules 1 and 2: no lock is taken."""
    ids = _checked_ids(member_ids)
    access, report, members, linked = _team_members(actor, workspace, team, ids, f"Add to the team {team.name}")
    refusal = access.give_refusal(team, workspace) if access is not None else None
    joining = []
    for member in members:
        if member.pk in linked:
            report.add(member.pk, member.user.email, UNCHANGED, f"already in {team.name}")
        elif refusal:
            report.add(member.pk, member.user.email, REFUSED, refusal)
        else:
            joining.append(member)
    if joining:
        links = [TeamMembership(team=team, membership=m) for m in joining]
        TeamMembership.objects.bulk_create(links, ignore_conflicts=True)  # one added meanwhile stays one
        materialize.set_team_memberships([m.user_id for m in joining], team, True)
        record_many(
            actor=actor,
            workspace=workspace,
            changes=[Change("team.member_add", target=team, after={"member": m.user.email}) for m in joining],
        )
    for member in joining:
        report.add(member.pk, member.user.email, CHANGED, f"added to {team.name}")
    return report


@transaction.atomic
def members_team_remove(*, actor, workspace: Workspace, team: Team, member_ids: Iterable[int]) -> BulkReport:
    """Take many members out of ``team``."""
    ids = _checked_ids(member_ids)
    _, report, members, linked = _team_members(actor, workspace, team, ids, f"Remove from the team {team.name}")
    leaving = [m for m in members if m.pk in linked]
    for member in members:
        if member.pk not in linked:
            report.add(member.pk, member.user.email, UNCHANGED, f"not in {team.name}")
    if leaving:
        TeamMembership.objects.filter(team=team, membership_id__in=[m.pk for m in leaving]).delete()
        materialize.set_team_memberships([m.user_id for m in leaving], team, False)
        record_many(
            actor=actor,
            workspace=workspace,
            changes=[Change("team.member_remove", target=team, before={"member": m.user.email}) for m in leaving],
        )
    for member in leaving:
        report.add(member.pk, member.user.email, CHANGED, f"removed from {team.name}")
    return report


# --- invitations -----------------------------------------------------------------------------------


def _invites(workspace: Workspace, ids: list[int], report: BulkReport) -> list[Invite]:
    found = {
        i.pk: i for i in Invite.objects.select_related("role", "invited_by").filter(workspace=workspace, pk__in=ids)
    }
    invites = []
    for pk in ids:
        if pk not in found:
            report.add(pk, f"#{pk}", REFUSED, "not an invitation of this workspace; nothing was changed")
        else:
            found[pk].workspace = workspace
            invites.append(found[pk])
    return invites


def invites_resend(*, actor, workspace: Workspace, invite_ids: Iterable[int]) -> BulkReport:
    """Resend many pending invitations, each through ``invite_resend`` in its own short transaction
    (its rules: the inviter may still give what it carries, the daily limits, pending only)."""
    ids = _checked_ids(invite_ids)
    require(actor, "invite_members", workspace)
    report = BulkReport("Resend invitations", ids)
    for invite in _invites(workspace, ids, report):
        try:
            invite_resend(actor=actor, invite=invite)
        except RuleViolation as exc:
            report.add(invite.pk, invite.email, REFUSED, " ".join(exc.messages))
        else:
            report.add(invite.pk, invite.email, CHANGED, "a new link is on its way; the old one no longer works")
    return report


def invites_revoke(*, actor, workspace: Workspace, invite_ids: Iterable[int]) -> BulkReport:
    """Revoke many invitations, each through ``invite_revoke`` in its own short transaction."""
    ids = _checked_ids(invite_ids)
    require(actor, "invite_members", workspace)
    report = BulkReport("Revoke invitations", ids)
    for invite in _invites(workspace, ids, report):
        if invite.status == Invite.Status.REVOKED:
            report.add(invite.pk, invite.email, UNCHANGED, "already revoked")
            continue
        try:
            invite_revoke(actor=actor, invite=invite)
        except RuleViolation as exc:
            report.add(invite.pk, invite.email, REFUSED, " ".join(exc.messages))
        else:
            report.add(invite.pk, invite.email, CHANGED, "revoked; its link no longer works")
    return report
