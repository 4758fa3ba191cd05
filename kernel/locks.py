"""Row locks, and the one order in which every service takes them.

Changes that can take away a workspace's last active owner, or a site owner's membership, must
see each other's committed result before they decide. They do so by locking rows, always in this
order (a service skips the levels it does not need, never goes back up one):

0. **a workspace's provisioning** (``lock_provisioning``): every SCIM write of one workspace
   takes it first, so the identity provider's calls apply one after the other, each reading
   what the previous committed (two PATCHes of one group, two POSTs of one userName, a
   deactivation and a group change of one person). No other change takes it;
1. **accounts** (``accounts_user`` rows), several at once in id order: the people whose account or
   membership the change is about, and the acting owner of a transfer;
2. **workspaces**, several at once in id order: the workspace(s) whose owners, members or sites
   the change touches;
3. **anything inside a workspace** afterwards (an invitation, a site, a join request, ...), and
   a workspace's invitations as a whole (``lock_invitations``, before any invitation row).

Two changes that take locks in the same order can wait for each other but never deadlock. Every
check that depends on what the locks protect (is this account active? is this person still a
member? how many active owners remain?) is read again *after* the locks are held.

The locks are ``SELECT ... FOR NO KEY UPDATE``: they exclude each other and ordinary updates, but
not the foreign-key checks of rows that merely point at the locked row (an audit event naming the
actor, a membership naming the workspace), so writing those never waits for another change's lock.
On SQLite these are no-ops: its IMMEDIATE transactions already serialise writers.

``answer_deadlocks`` is the last line: should PostgreSQL ever report a deadlock all the same, the
person gets a message asking to try again instead of an error page.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.db import OperationalError, transaction

from accounts.models import User
from kernel.errors import RuleViolation
from workspaces.models import Workspace

TRY_AGAIN = "Someone else changed this workspace at the same moment; nothing was changed. Please try again."


def _in_transaction() -> None:
    assert transaction.get_connection().in_atomic_block, "locks last until the end of a transaction"


def lock_accounts(user_ids: Iterable[int | None]) -> dict:
    """Lock the accounts with these ids, in id order; {id: User} of those that exist."""
    _in_transaction()
    ids = sorted({pk for pk in user_ids if pk is not None})
    if not ids:
        return {}
    return {user.pk: user for user in User.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")}


def lock_account(user):
    """Lock one account and return it as it is now (``User.DoesNotExist`` if it was deleted)."""
    locked = lock_accounts([user.pk]).get(user.pk)
    if locked is None:
        raise User.DoesNotExist(f"Account {user.pk} does not exist.")
    return locked


def lock_workspaces(workspace_ids: Iterable[int]) -> list:
    """Lock these workspaces, in id order."""
    _in_transaction()
    ids = sorted(set(workspace_ids))
    if not ids:
        return []
    return list(Workspace.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk"))


def lock_workspace(workspace):
    """Lock one workspace row and return it as it is now.

    Owner changes serialise on this lock, so two owners demoting each other at the same moment
    cannot both succeed and leave the workspace without an owner (rule 1).
    """
    _in_transaction()
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return Workspace.objects.select_for_update(no_key=True).get(pk=workspace_id)


INVITATIONS_LOCK = 0x696E76  # the namespace of lock_invitations' advisory locks ("inv")


def lock_invitations(workspace) -> None:
    """Serialise the invitation writes of one workspace (level 3 of the order): the daily limits
    and the one-pending-invitation-per-address rule are decided on what the others committed.

    A PostgreSQL advisory lock for the transaction, not the workspace row: invitations never
    change who owns the workspace, so a role change touching the Owner role, which locks the row,
    never waits for an invitation, nor for a bulk import's last step. Re-entrant within the
    transaction. On SQLite a no-op (its IMMEDIATE transactions serialise writers).
    """
    _in_transaction()
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    with connection.cursor() as cursor:
        # The two-int form: (namespace, workspace id folded into 31 bits; a collision only serialises more).
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INVITATIONS_LOCK, workspace_id & 0x7FFFFFFF])


PROVISIONING_LOCK = 0x73636D  # the namespace of lock_provisioning's advisory locks ("scm")


def lock_provisioning(workspace) -> None:
    """Serialise the SCIM writes of one workspace (level 0 of the order: before any account).

    An advisory lock for the transaction, not the workspace row, which belongs to level 2: a SCIM
    call goes on to lock accounts and the workspace through the services it uses, in order.
    Re-entrant within the transaction; on SQLite a no-op (its writers serialise anyway).
    """
    _in_transaction()
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PROVISIONING_LOCK, workspace_id & 0x7FFFFFFF])


MEMBER_COUNT_LOCK = 0x6D656D  # the namespace of lock_member_count's advisory locks ("mem")


def lock_member_count(workspace) -> None:
    """Serialise the joinings of one workspace whose plan limits its members (level 3 of the
    order, the last lock a joining takes): two people joining at once are counted one after the
    other, so the limit holds. An advisory lock, not the workspace row: an accepted invitation
    holds the invitation's row (level 3) by then, and the workspace row belongs to level 2.
    Re-entrant within the transaction; on SQLite a no-op (writers serialise anyway)."""
    _in_transaction()
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [MEMBER_COUNT_LOCK, workspace_id & 0x7FFFFFFF])


def _is_deadlock(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == "40P01" or type(cause).__name__ == "DeadlockDetected"


def answer_deadlocks(service):
    """Turn a deadlock reported by the database into a RuleViolation asking to try again.

    Put it outside ``transaction.atomic``: by the time it sees the error the service's transaction
    (or savepoint) has been rolled back, so nothing was written.
    """

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except OperationalError as exc:
            if _is_deadlock(exc):
                raise RuleViolation(TRY_AGAIN) from exc
            raise

    return wrapper
