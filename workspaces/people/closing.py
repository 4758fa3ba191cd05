"""A person deleting their own account (the profile page's "Delete your account").

Refused while they are the last active owner of a workspace (rule 1: the message names each
one) or own a site (rule 2: the message names each, to be handed over when leaving that
workspace). Otherwise, in one transaction: they leave every workspace through ``member_leave``
(one ``member.leave`` event each, as if they had left one by one), one ``account.close`` event is
written, and the account is deleted. The audit log is append-only: earlier events keep the
address they were written with (who acted is part of the record); the events' link to the
account becomes empty, as for any deleted account. The new event names the account by id (its
actor's address is the record of who acted), and the sign-in records django-axes kept under the
address are deleted with the account.
"""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction

from accounts.models import User
from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import answer_deadlocks, lock_account, lock_workspaces
from workspaces.models import Membership, Site
from workspaces.people.selectors import sole_owner_workspaces
from workspaces.people.services import member_leave


def close_refusals(user: User) -> list[str]:
    """Why the account cannot be deleted now (empty when it can): two queries."""
    reasons = []
    sole = sole_owner_workspaces(user)
    if sole:
        names = ", ".join(f"“{workspace.name}”" for workspace in sole)
        reasons.append(
            f"You are the last owner of {names}: make another member an owner (Transfer ownership on the "
            "people page), or delete the workspace, first."
        )
    owned = list(Site.objects.filter(owner__user=user).select_related("workspace").order_by("workspace__name", "name"))
    if owned:
        names = ", ".join(f"“{site.name}” ({site.workspace.name})" for site in owned)
        reasons.append(f"You own the sites {names}: leave those workspaces first, naming who owns them from now on.")
    return reasons


@answer_deadlocks
@transaction.atomic
def account_close(*, user: User, password: str) -> None:
    """Delete one's own account after confirming the password; see the module's docstring."""
    if not user.has_usable_password() or not user.check_password(password or ""):
        raise RuleViolation("That is not your password; nothing was changed.")
    # The one lock order (kernel.locks): the account, then its workspaces in id order, as
    # deactivation does: whatever would make this person an owner, or take another owner away,
    # waits for us or is counted by us.
    user = lock_account(user)
    memberships = list(Membership.objects.filter(user=user).select_related("workspace", "role", "user"))
    lock_workspaces(m.workspace_id for m in memberships)
    reasons = close_refusals(user)
    if reasons:
        raise RuleViolation(reasons)
    for membership in memberships:
        member_leave(membership=membership)
    record(
        action="account.close",
        actor=user,
        target=None,
        after={"account_id": user.pk, "workspaces_left": len(memberships)},
    )
    _forget_sign_ins(user.email)
    user.delete()  # cascades to devices and address changes; audit events keep their text


def _forget_sign_ins(address: str) -> None:
    """django-axes keeps sign-ins and failures by address; a deleted account leaves none behind."""
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=address).delete()
