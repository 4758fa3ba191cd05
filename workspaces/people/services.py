"""Membership changes: joining, role changes, removal, leaving, ownership transfer.

Rule 1 (an active owner always remains) is checked under row locks taken in the one order of
``kernel.locks`` (the accounts concerned, then the workspace), after re-reading the
membership, so two changes at the same moment see each other's result; rule 4 (nobody
changes their own role, but an owner may step down while another owner exists) and rule 3 (only
owners touch Owner; nobody gives what they do not hold) are checked before anything is written.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from audit.services import record
from billing.limits import limit_of, plan_of, refuse_over_limit
from kernel.errors import RuleViolation
from kernel.locks import answer_deadlocks, lock_accounts, lock_member_count, lock_workspace
from permissions import catalog, materialize
from permissions.policy import require, require_can_give
from permissions.roles import builtin_role, builtin_role_id
from workspaces import notices
from workspaces.models import Membership, Site, SiteGrant, Workspace


def _active_owner_count(workspace: Workspace, *, excluding: Membership | None = None) -> int:
    owners = Membership.objects.filter(
        workspace=workspace, role_id=builtin_role_id(catalog.OWNER), user__is_active=True
    )
    if excluding is not None:
        owners = owners.exclude(pk=excluding.pk)
    return owners.count()


def _refuse_if_last_owner(membership: Membership, doing: str) -> None:
    if membership.role.is_owner and _active_owner_count(membership.workspace, excluding=membership) == 0:
        raise RuleViolation(
            f"{membership.user.email} is the last owner of {membership.workspace}: "
            f"make someone else an owner before you {doing}."
        )


def _locked_membership(membership: Membership, *also_users) -> tuple[Workspace, Membership]:
    """Lock the member's account (and ``also_users``), then the workspace, in the one lock order,
    and read the membership again under those locks; a RuleViolation if it is gone meanwhile."""
    lock_accounts([membership.user_id, *(getattr(user, "pk", user) for user in also_users)])
    workspace = lock_workspace(membership.workspace_id)
    current = Membership.objects.select_related("role", "user", "workspace").filter(pk=membership.pk).first()
    if current is None:
        raise RuleViolation("That person is no longer a member of this workspace; nothing was changed.")
    return workspace, current


@answer_deadlocks
@transaction.atomic
def member_add(
    *, workspace: Workspace, user, role, invited_by=None, actor=None, action: str | None = "member.join"
) -> Membership:
    """Make ``user`` a member (used by invites, auto-join and join requests). Idempotent.

    ``actor`` is who made it happen: the person themselves when they accept an invite or join by
    domain, an approver, or None for the system (admin, commands). ``action=None`` is for a caller
    that records the joining in its own event (invite acceptance), so one change is logged once.
    """
    # The account first (the one lock order): a deactivation of the same person waits for this
    # joining, or this joining waits for it, and each sees the other's result.
    if user.pk not in lock_accounts([user.pk]):
        raise RuleViolation(f"The account of {user.email} no longer exists.")
    existing = Membership.objects.filter(workspace=workspace, user=user).select_related("role").first()
    if existing is not None:
        return existing
    _refuse_over_member_limit(workspace)
    membership = Membership.objects.create(workspace=workspace, user=user, role=role, invited_by=invited_by)
    materialize.join_role_group(user.pk, workspace, role)
    if action is not None:
        record(
            action=action,
            actor=actor,
            workspace=workspace,
            target=membership,
            after={"user": user.email, "role": role.name},
        )
    return membership


def _refuse_over_member_limit(workspace: Workspace) -> None:
    """The plan's member limit (billing.limits), counted under the member-count lock, so two people
    joining at the same moment cannot both take the last seat."""
    plan = plan_of(workspace)
    if limit_of(plan, "members") is None:
        return
    lock_member_count(workspace)
    used = Membership.objects.filter(workspace=workspace).count()
    refuse_over_limit(workspace, "members", used=used, plan=plan)


@answer_deadlocks
@transaction.atomic
def member_change_role(*, actor, membership: Membership, role) -> Membership:
    """Give a member another workspace role; takes effect at once. The same role changes nothing.

    A change that touches the Owner role (from or to) takes the locks of the one lock order (the
    member's account, then the workspace) and re-reads the member under them, so rule 1 is decided
    on the committed state. Any other change cannot affect the owners, so it takes no lock: its
    update applies only while the member still has the role it was decided on, and a concurrent
    change makes it refuse instead of overwriting.
    """
    workspace = membership.workspace
    if role.scope != catalog.WORKSPACE or (role.workspace_id not in (None, workspace.pk)):
        raise RuleViolation("That role does not belong to this workspace.")
    if membership.role.is_owner or role.is_owner:
        workspace, membership = _locked_membership(membership)
    if membership.role_id == role.pk:
        return membership
    touches_owner = membership.role.is_owner or role.is_owner
    if actor is not None:
        require(actor, "manage_owners" if touches_owner else "change_member_roles", workspace)
        if actor.pk == membership.user_id and not (membership.role.is_owner and not role.is_owner):
            raise RuleViolation("You cannot change your own role.")
        require_can_give(actor, role, workspace)
    if membership.role.is_owner and not role.is_owner:
        _refuse_if_last_owner(membership, "change their role")
    previous = membership.role
    if not Membership.objects.filter(pk=membership.pk, role_id=previous.pk).update(role=role):
        raise RuleViolation(f"{membership.user.email}'s role was changed meanwhile; look again and retry.")
    materialize.join_role_group(membership.user_id, workspace, role, previous=previous)
    membership.role = role
    record(
        action="member.role_change",
        actor=actor,
        workspace=workspace,
        target=membership,
        before={"user": membership.user.email, "role": previous.name},
        after={"user": membership.user.email, "role": role.name},
    )
    notices.role_changed(membership, previous_role=previous, actor=actor)
    return membership


def _hand_over_sites(membership: Membership, successor: Membership | None, actor) -> None:
    owned = list(Site.objects.filter(owner=membership))
    if not owned:
        return
    if successor is None or successor.pk == membership.pk:
        names = ", ".join(site.name for site in owned)
        raise RuleViolation(f"{membership.user.email} owns {names}: choose who owns them from now on.")
    if successor.workspace_id != membership.workspace_id:
        raise RuleViolation("The new site owner must be a member of this workspace.")
    # Under the workspace lock: a successor removed a moment ago is gone by now.
    if not Membership.objects.filter(pk=successor.pk, workspace_id=membership.workspace_id).exists():
        raise RuleViolation(f"{successor.user.email} is no longer a member: choose another site owner.")
    Site.objects.filter(owner=membership).update(owner=successor)
    for site in owned:
        record(
            action="site.owner_change",
            actor=actor,
            workspace=membership.workspace,
            target=site,
            before={"owner": membership.user.email},
            after={"owner": successor.user.email},
        )


@answer_deadlocks
@transaction.atomic
def member_remove(*, actor, membership: Membership, site_successor: Membership | None = None) -> None:
    """Remove a member and everything they hold in the workspace; their experiences stay."""
    workspace, membership = _locked_membership(membership)
    if actor is not None:
        if actor.pk == membership.user_id:
            raise RuleViolation("To leave the workspace yourself, use Leave.")
        require(actor, "manage_owners" if membership.role.is_owner else "remove_members", workspace)
    _refuse_if_last_owner(membership, "remove them")
    _delete_membership(membership, site_successor, actor, action="member.remove")
    notices.member_removed(membership, actor=actor)


@answer_deadlocks
@transaction.atomic
def member_leave(*, membership: Membership, site_successor: Membership | None = None) -> None:
    _, membership = _locked_membership(membership)
    _refuse_if_last_owner(membership, "leave")
    _delete_membership(membership, site_successor, membership.user, action="member.leave")


def _delete_membership(membership: Membership, site_successor, actor, *, action: str) -> None:
    _hand_over_sites(membership, site_successor, actor)
    materialize.forget_member(membership.user_id, membership.workspace_id)
    record(
        action=action,
        actor=actor,
        workspace=membership.workspace,
        target=membership,
        before={"user": membership.user.email, "role": membership.role.name},
    )
    # The cascade would delete site grants 100 ids per statement; two statements instead keep the
    # cost of a removal the same whatever the number of sites.
    grants = SiteGrant.objects.filter(membership=membership)
    SiteGrant.extra_permissions.through.objects.filter(sitegrant__in=grants).delete()
    grants._raw_delete(grants.db)
    try:
        membership.delete()  # cascades to team memberships and collaborations
    except (ProtectedError, IntegrityError) as exc:
        # Last line for rule 2: the locks above should make this unreachable, but should a site
        # still point at the membership, the person gets the rule, not an error page. (Raising
        # out of the service's transaction rolls it back, so no savepoint is needed.)
        raise RuleViolation(
            f"{membership.user.email} owns a site of this workspace: choose who owns it from now on."
        ) from exc


@answer_deadlocks
@transaction.atomic
def ownership_transfer(*, actor, workspace: Workspace, to: Membership, step_down: bool = False) -> Membership:
    """Make ``to`` an owner; with ``step_down`` the acting owner becomes Admin in the same change."""
    if to.workspace_id != workspace.pk:
        raise RuleViolation("The new owner must be a member of this workspace.")
    # Both accounts, then the workspace: a deactivation of either waits, or is seen.
    workspace, to = _locked_membership(to, actor)
    if actor is not None:
        require(actor, "manage_owners", workspace)
    owner_role = builtin_role(catalog.OWNER)
    if not to.user.is_active:
        raise RuleViolation(f"{to.user.email}'s account is deactivated; it cannot own the workspace.")
    if to.role.is_owner:
        # Read again under the locks: a transfer that would change nothing is refused, not
        # silently "done" (and never a way to step down beside another owner without saying so).
        raise RuleViolation(f"{to.user.email} is already an owner of {workspace}. Choose a member who is not.")
    previous = to.role
    Membership.objects.filter(pk=to.pk).update(role=owner_role)
    materialize.join_role_group(to.user_id, workspace, owner_role, previous=previous)
    record(
        action="ownership.grant",
        actor=actor,
        workspace=workspace,
        target=to,
        before={"user": to.user.email, "role": previous.name},
        after={"user": to.user.email, "role": "Owner"},
    )
    to.role = owner_role
    notices.role_changed(to, previous_role=previous, actor=actor)
    if step_down:
        if actor is None:
            raise PermissionDenied("Only an acting owner can step down.")
        mine = Membership.objects.select_related("role", "user", "workspace").get(workspace=workspace, user=actor)
        if mine.pk == to.pk:
            raise RuleViolation("Choose another member to hand ownership to.")
        admin_role = builtin_role(catalog.ADMIN)
        Membership.objects.filter(pk=mine.pk).update(role=admin_role)
        materialize.join_role_group(actor.pk, workspace, admin_role, previous=mine.role)
        record(
            action="ownership.step_down",
            actor=actor,
            workspace=workspace,
            target=mine,
            before={"user": actor.email, "role": "Owner"},
            after={"user": actor.email, "role": admin_role.name},
        )
    return to
