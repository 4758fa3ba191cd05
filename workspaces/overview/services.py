from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import lock_account, lock_workspace
from kernel.slugs import unique_slug
from permissions import catalog, materialize
from permissions.policy import require
from permissions.roles import builtin_role
from workspaces.models import Membership, Workspace


@transaction.atomic
def workspace_create(*, actor, creator, name: str, time_zone: str = "UTC", description: str = "") -> Workspace:
    """A new workspace whose ``creator`` is its first Owner. ``actor`` is who made it: the creator
    in the browser, the staff member in the admin, None for the system (``create_workspace``)."""
    # The creator's account is locked first (kernel.locks) and read again: a deactivation at
    # the same moment either comes first and is refused here, or waits and sees the new workspace.
    if not lock_account(creator).is_active:
        raise RuleViolation(f"{creator.email}'s account is deactivated; it cannot own a workspace.")
    name = name.strip()
    workspace = Workspace.objects.create(
        name=name, slug=unique_slug(Workspace, name), time_zone=time_zone, description=description
    )
    materialize.create_builtin_role_groups(workspace)
    owner_role = builtin_role(catalog.OWNER)
    Membership.objects.create(workspace=workspace, user=creator, role=owner_role)
    materialize.join_role_group(creator.pk, workspace, owner_role)
    record(
        action="workspace.create",
        actor=actor,
        workspace=workspace,
        target=workspace,
        after={"name": workspace.name, "slug": workspace.slug, "owner": creator.email},
    )
    return workspace


@transaction.atomic
def workspace_update(*, actor, workspace: Workspace, name: str, time_zone: str, description: str = "") -> Workspace:
    require(actor, "change_workspace", workspace)
    before = {"name": workspace.name, "time_zone": workspace.time_zone, "description": workspace.description}
    after = {"name": name.strip(), "time_zone": time_zone, "description": description}
    if before == after:
        return workspace
    Workspace.objects.filter(pk=workspace.pk).update(**after)
    workspace.refresh_from_db()
    record(action="workspace.update", actor=actor, workspace=workspace, target=workspace, before=before, after=after)
    return workspace


@transaction.atomic
def workspace_delete(*, actor, workspace: Workspace) -> None:
    """Delete the workspace with everything in it (sites, experiences, people's memberships, keys,
    settings, billing). The audit log keeps its events, with the workspace's name."""
    require(actor, "delete_workspace", workspace)
    # The workspace lock: a site added or an owner changed at this moment waits, then finds nothing.
    workspace = lock_workspace(workspace)
    record(
        action="workspace.delete",
        actor=actor,
        workspace=workspace,
        target=workspace,
        before={
            "name": workspace.name,
            "slug": workspace.slug,
            "members": workspace.memberships.count(),
            "sites": workspace.sites.count(),
        },
    )
    group_ids = list(workspace.role_groups.values_list("group_id", flat=True))
    group_ids += list(workspace.teams.values_list("group_id", flat=True))
    # Delete in dependency order: sites PROTECT their owners' memberships, and memberships,
    # invites, grants and join domains PROTECT the custom roles that the workspace cascades to.
    workspace.sites.all().delete()
    for related in (workspace.invites, workspace.join_domains, workspace.teams, workspace.memberships):
        related.all().delete()
    workspace.delete()
    Group.objects.filter(pk__in=group_ids).delete()
