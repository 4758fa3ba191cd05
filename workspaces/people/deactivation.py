"""Deactivating and reactivating accounts (staff do this in the admin).

An inactive account holds nothing (the policy ignores it) and cannot sign in, so deactivating the
last active owner of a workspace would leave it without an owner: rule 1 refuses that, whichever
door the deactivation comes through.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import answer_deadlocks, lock_account, lock_workspaces
from workspaces.models import Membership
from workspaces.people.selectors import sole_owner_workspaces


@answer_deadlocks
@transaction.atomic
def account_deactivate(*, actor, user: User) -> User:
    """Deactivate ``user``'s account, unless it is the last active owner of a workspace (rule 1)."""
    # The one lock order (kernel.locks): the account, then every workspace the person is a
    # member of, in id order. Any change that makes them an owner locks their account first, so
    # the list read here is complete; any change that takes away another owner locks one of
    # these workspaces, so it waits for us or we count after it.
    user = lock_account(user)
    if not user.is_active:
        return user
    lock_workspaces(Membership.objects.filter(user=user).values_list("workspace_id", flat=True))
    sole = sole_owner_workspaces(user)
    if sole:
        names = ", ".join(f"“{workspace.name}”" for workspace in sole)
        raise RuleViolation(
            f"{user.email} is the last active owner of {names}: make another member an owner "
            "(Transfer ownership) before you deactivate this account."
        )
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    record(
        action="account.deactivate",
        actor=actor,
        target=user,
        before={"email": user.email, "is_active": True},
        after={"email": user.email, "is_active": False},
    )
    return user


@answer_deadlocks
@transaction.atomic
def account_reactivate(*, actor, user: User) -> User:
    user = lock_account(user)
    if user.is_active:
        return user
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    record(
        action="account.reactivate",
        actor=actor,
        target=user,
        before={"email": user.email, "is_active": False},
        after={"email": user.email, "is_active": True},
    )
    return user
