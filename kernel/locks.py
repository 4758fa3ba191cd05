"""Row locks that the rules need, taken in one order everywhere (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

from django.db import transaction

from workspaces.models import Workspace


def lock_workspace(workspace: Workspace) -> Workspace:
    """Lock the workspace row for the rest of the transaction.

    Owner changes serialise on this lock, so two owners demoting each other at the same moment
    cannot both succeed and leave the workspace without an owner (rule 1). On SQLite the
    IMMEDIATE transaction mode already serialises writers.
    """
    assert transaction.get_connection().in_atomic_block
    return Workspace.objects.select_for_update().get(pk=workspace.pk)
