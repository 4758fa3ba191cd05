"""Writes the guardian rows that roles, grants, teams and collaborations imply.

The source of truth is in ``workspaces`` (memberships and their roles, site grants, team members,
collaborators); everything here is derived from it, so it can be rebuilt at any time
(``manage.py sync_permissions``). Who gets which row:

- a workspace role's group: its capabilities on the workspace, its site capabilities on every site,
  and the experience capabilities they imply on every experience;
- a team's group: the role and extra capabilities of the team's grant, on that site;
- a member: the role and extra capabilities of their own grant on a site, and the collaborator
  capabilities on each experience they collaborate on.

Members join their role's group and their teams' groups, so a role change or a team change moves
one row whatever the number of sites.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from workspaces.models import (
    Collaborator,
    Experience,
    Membership,
    Site,
    SiteGrant,
    Team,
    TeamMembership,
    Workspace,
)

from . import catalog
from .models import (
    ExperienceGroupPermission,
    ExperienceUserPermission,
    Role,
    RoleGroup,
    SiteGroupPermission,
    SiteUserPermission,
    WorkspaceGroupPermission,
    WorkspaceUserPermission,
)
from .roles import grant_codes, permissions_for, role_rows

GROUP_MODELS = {
    catalog.WORKSPACE: WorkspaceGroupPermission,
    catalog.SITE: SiteGroupPermission,
    catalog.EXPERIENCE: ExperienceGroupPermission,
}
USER_MODELS = {
    catalog.WORKSPACE: WorkspaceUserPermission,
    catalog.SITE: SiteUserPermission,
    catalog.EXPERIENCE: ExperienceUserPermission,
}
# How each scope's object reaches its workspace, for filters.
WORKSPACE_PATH = {
    catalog.WORKSPACE: "content_object_id",
    catalog.SITE: "content_object__workspace_id",
    catalog.EXPERIENCE: "content_object__workspace_id",
}


def _replace(model, owner_field: str, owner_id: int, scope_filter: dict, desired: set[tuple[int, int]]) -> None:
    """Make ``model``'s rows of one user or group, within a filter, exactly ``desired``.

    ``desired`` holds (object id, permission id) pairs. Three queries at most, whatever the size.
    """
    rows = model.objects.filter(**{owner_field: owner_id}, **scope_filter)
    existing = {(obj, perm): pk for pk, obj, perm in rows.values_list("id", "content_object_id", "permission_id")}
    stale = [pk for key, pk in existing.items() if key not in desired]
    if stale:
        model.objects.filter(id__in=stale).delete()
    missing = desired - existing.keys()
    if missing:
        model.objects.bulk_create(
            [model(**{owner_field: owner_id}, content_object_id=obj, permission_id=perm) for obj, perm in missing],
            ignore_conflicts=True,
        )


def _grant_permission_ids(grant) -> set[int]:
    return set(permissions_for(catalog.SITE, grant_codes(grant)))


def _role_group_rows(role_group: RoleGroup, workspace_id: int, site_ids, experience_ids) -> dict[str, set]:
    """{scope: {(object id, permission id)}} that one role group carries in its workspace."""
    rows = role_rows(role_group.role)
    objects = {catalog.WORKSPACE: [workspace_id], catalog.SITE: site_ids, catalog.EXPERIENCE: experience_ids}
    return {
        scope: {(obj, p) for obj in objects[scope] for p in permissions_for(scope, rows.of(scope))}
        for scope in catalog.SCOPES
    }


# --- role groups -------------------------------------------------------------------------------


def create_role_group(workspace, role: Role) -> RoleGroup:
    """Make the group that carries ``role`` in ``workspace``, with its rows.

    Called when a workspace is created (for every built-in workspace role) and when a custom
    workspace role is, so a request that gives a role never has to build its group; a missing one
    (a repair) is made by ``sync_permissions``.
    """
    # Named by the role's id: a custom role may share its key with a built-in one.
    # get_or_create: a repair may find the group still there after its RoleGroup row was lost.
    group, _ = Group.objects.get_or_create(name=f"workspace-{workspace.pk}-role-{role.pk}")
    role_group, _ = RoleGroup.objects.get_or_create(workspace=workspace, role=role, defaults={"group": group})
    role_group.role = role
    refresh_role_group(role_group)
    return role_group


def create_builtin_role_groups(workspace) -> None:
    """The groups of every built-in workspace role in a new workspace: no site or experience exists
    yet, so only the workspace rows are written."""
    builtins = Role.objects.filter(builtin=True, scope=catalog.WORKSPACE)
    for role in builtins:
        create_role_group(workspace, role)


def refresh_role_group(role_group: RoleGroup) -> None:
    """Rewrite every row of one role's group in its workspace (after the role's capabilities change)."""
    workspace_id = role_group.workspace_id
    site_ids = list(Site.objects.filter(workspace_id=workspace_id).values_list("id", flat=True))
    experience_ids = list(Experience.objects.filter(workspace_id=workspace_id).values_list("id", flat=True))
    desired = _role_group_rows(role_group, workspace_id, site_ids, experience_ids)
    for scope, rows in desired.items():
        _replace(GROUP_MODELS[scope], "group_id", role_group.group_id, {WORKSPACE_PATH[scope]: workspace_id}, rows)


def refresh_role_everywhere(role: Role) -> None:
    """After a custom role is edited: rewrite its groups' rows and its grants' rows."""
    for role_group in RoleGroup.objects.filter(role=role):
        role_group.role = role
        refresh_role_group(role_group)
    for grant in SiteGrant.objects.filter(role=role).select_related("membership", "team", "role"):
        grant.role = role
        refresh_grant(grant.site_id, membership=grant.membership, team=grant.team)


def add_object_rows(obj, scope: str) -> None:
    """A new site or experience: give every role group of its workspace its rows there."""
    workspace_id = obj.workspace_id
    role_groups = RoleGroup.objects.filter(workspace_id=workspace_id).select_related("role")
    model = GROUP_MODELS[scope]
    rows = []
    for role_group in role_groups.prefetch_related("role__permissions", "role__site_permissions"):
        rows += [
            model(group_id=role_group.group_id, content_object_id=obj.pk, permission_id=p)
            for p in permissions_for(scope, role_rows(role_group.role).of(scope))
        ]
    model.objects.bulk_create(rows, ignore_conflicts=True)


# --- members -----------------------------------------------------------------------------------


def _role_group_ids(workspace, roles: list[Role]) -> dict[int, int]:
    """{role id: group id} of the roles' groups in the workspace: one query."""
    found = dict(RoleGroup.objects.filter(workspace=workspace, role__in=roles).values_list("role_id", "group_id"))
    for role in roles:
        if role.pk not in found:  # only after a repair lost it; sync_permissions makes it too
            found[role.pk] = create_role_group(workspace, role).group_id
    return found


def join_role_group(user_id: int, workspace, role: Role, previous: Role | None = None) -> None:
    """Put a member in their role's group (and out of the previous one): three queries."""
    through = get_user_model().groups.through
    group_ids = _role_group_ids(workspace, [role] if previous is None else [role, previous])
    if previous is not None:
        through.objects.filter(user_id=user_id, group_id=group_ids[previous.pk]).delete()
    through.objects.bulk_create([through(user_id=user_id, group_id=group_ids[role.pk])], ignore_conflicts=True)


def join_role_group_many(user_ids: list[int], workspace, role: Role, previous: list[Role]) -> None:
    """``join_role_group`` for many members at once (a bulk role change): three queries, any number.

    ``previous`` are the roles the members leave; a member holds one role per workspace, so leaving
    every one of those groups is exact.
    """
    if not user_ids:
        return
    through = get_user_model().groups.through
    group_ids = _role_group_ids(workspace, [role, *previous])
    leaving = [group_ids[old.pk] for old in previous if old.pk != role.pk]
    if leaving:
        through.objects.filter(user_id__in=user_ids, group_id__in=leaving).delete()
    new_group = group_ids[role.pk]
    through.objects.bulk_create([through(user_id=pk, group_id=new_group) for pk in user_ids], ignore_conflicts=True)


def forget_members(user_ids: list[int], workspace_id: int) -> None:
    """``forget_member`` for many people at once (a bulk removal): the same queries, any number."""
    if not user_ids:
        return
    through = get_user_model().groups.through
    group_ids = list(RoleGroup.objects.filter(workspace_id=workspace_id).values_list("group_id", flat=True))
    group_ids += list(Team.objects.filter(workspace_id=workspace_id).values_list("group_id", flat=True))
    through.objects.filter(user_id__in=user_ids, group_id__in=group_ids).delete()
    for scope, model in USER_MODELS.items():
        model.objects.filter(user_id__in=user_ids, **{WORKSPACE_PATH[scope]: workspace_id}).delete()


def forget_member(user_id: int, workspace_id: int) -> None:
    """Remove every row a person holds in a workspace: their groups there and their own rows."""
    through = get_user_model().groups.through
    group_ids = list(RoleGroup.objects.filter(workspace_id=workspace_id).values_list("group_id", flat=True))
    group_ids += list(Team.objects.filter(workspace_id=workspace_id).values_list("group_id", flat=True))
    through.objects.filter(user_id=user_id, group_id__in=group_ids).delete()
    for scope, model in USER_MODELS.items():
        model.objects.filter(user_id=user_id, **{WORKSPACE_PATH[scope]: workspace_id}).delete()


def refresh_grant(site_id: int, *, membership=None, team=None) -> None:
    """Make the rows of one member's or one team's grant on one site match the grant (or its absence)."""
    grant = SiteGrant.objects.filter(site_id=site_id, membership=membership, team=team).select_related("role").first()
    desired = {(site_id, p) for p in _grant_permission_ids(grant)} if grant else set()
    if membership is not None:
        _replace(SiteUserPermission, "user_id", membership.user_id, {"content_object_id": site_id}, desired)
    else:
        _replace(SiteGroupPermission, "group_id", team.group_id, {"content_object_id": site_id}, desired)


def set_collaborator_rows(user_id: int, experience_id: int, collaborator: bool) -> None:
    ids = permissions_for(catalog.EXPERIENCE, catalog.COLLABORATOR_CAPABILITIES) if collaborator else []
    _replace(
        ExperienceUserPermission,
        "user_id",
        user_id,
        {"content_object_id": experience_id},
        {(experience_id, p) for p in ids},
    )


def set_team_memberships(user_ids: list[int], team, member: bool) -> None:
    """``set_team_membership`` for many members of one team: one query."""
    if not user_ids:
        return
    through = get_user_model().groups.through
    if member:
        rows = [through(user_id=pk, group_id=team.group_id) for pk in user_ids]
        through.objects.bulk_create(rows, ignore_conflicts=True)
    else:
        through.objects.filter(user_id__in=user_ids, group_id=team.group_id).delete()


def set_team_membership(user_id: int, team, member: bool) -> None:
    through = get_user_model().groups.through
    if member:
        through.objects.bulk_create([through(user_id=user_id, group_id=team.group_id)], ignore_conflicts=True)
    else:
        through.objects.filter(user_id=user_id, group_id=team.group_id).delete()


# --- the whole workspace, for sync_permissions -------------------------------------------------


@dataclass
class Drift:
    """Differences between the stored rows and what the source tables imply."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def __bool__(self):
        return bool(self.missing or self.extra)


def expected_state(workspace, *, missing_groups: list[str] | None = None) -> tuple[dict, dict]:
    """(rows, group memberships) the workspace's source tables imply.

    rows: {(model, owner id): {(object id, permission id)}}; memberships: {(user id, group id)}.
    A role in use without its group gets one made, unless ``missing_groups`` is given: then the
    role is named there instead and nothing is written (``sync_permissions --check`` must not write).
    """
    rows: dict = defaultdict(set)
    memberships: set[tuple[int, int]] = set()
    site_ids = list(Site.objects.filter(workspace=workspace).values_list("id", flat=True))
    experience_ids = list(Experience.objects.filter(workspace=workspace).values_list("id", flat=True))
    role_groups = {rg.role_id: rg for rg in RoleGroup.objects.filter(workspace=workspace).select_related("role")}
    for membership in Membership.objects.filter(workspace=workspace).select_related("role"):
        if membership.role_id not in role_groups:
            if missing_groups is not None:
                missing_groups.append(f"no group for role {membership.role} (id {membership.role_id})")
                continue
            role_groups[membership.role_id] = create_role_group(workspace, membership.role)
        memberships.add((membership.user_id, role_groups[membership.role_id].group_id))
    for role_group in role_groups.values():
        for scope, scope_rows in _role_group_rows(role_group, workspace.pk, site_ids, experience_ids).items():
            rows[(GROUP_MODELS[scope], role_group.group_id)] |= scope_rows
    grants = SiteGrant.objects.filter(site__workspace=workspace).select_related("role", "membership", "team")
    roles: dict[int, Role] = {}
    for grant in grants.prefetch_related("extra_permissions"):
        grant.role = roles.setdefault(grant.role_id, grant.role)  # one role_codes lookup per role
        ids = _grant_permission_ids(grant)
        if grant.membership_id:
            rows[(SiteUserPermission, grant.membership.user_id)] |= {(grant.site_id, p) for p in ids}
        else:
            rows[(SiteGroupPermission, grant.team.group_id)] |= {(grant.site_id, p) for p in ids}
    for team_membership in TeamMembership.objects.filter(team__workspace=workspace).select_related(
        "team", "membership"
    ):
        memberships.add((team_membership.membership.user_id, team_membership.team.group_id))
    collaborator_ids = permissions_for(catalog.EXPERIENCE, catalog.COLLABORATOR_CAPABILITIES)
    for collaboration in Collaborator.objects.filter(experience__workspace=workspace).select_related("membership"):
        key = (ExperienceUserPermission, collaboration.membership.user_id)
        rows[key] |= {(collaboration.experience_id, p) for p in collaborator_ids}
    return rows, memberships


def _stored_state(workspace) -> tuple[dict, set]:
    rows: dict = defaultdict(set)
    for scope in catalog.SCOPES:
        for model, owner in ((GROUP_MODELS[scope], "group_id"), (USER_MODELS[scope], "user_id")):
            stored = model.objects.filter(**{WORKSPACE_PATH[scope]: workspace.pk})
            for owner_id, obj, perm in stored.values_list(owner, "content_object_id", "permission_id"):
                rows[(model, owner_id)].add((obj, perm))
    group_ids = set(RoleGroup.objects.filter(workspace=workspace).values_list("group_id", flat=True))
    group_ids |= set(Team.objects.filter(workspace=workspace).values_list("group_id", flat=True))
    through = get_user_model().groups.through
    memberships = set(through.objects.filter(group_id__in=group_ids).values_list("user_id", "group_id"))
    return rows, memberships


def sync_workspace(workspace, *, apply: bool) -> Drift:
    """Compare the stored rows with the expected ones; with ``apply``, make them equal."""
    missing_groups: list[str] | None = None if apply else []
    expected_rows, expected_memberships = expected_state(workspace, missing_groups=missing_groups)
    stored_rows, stored_memberships = _stored_state(workspace)
    drift = Drift(missing=list(missing_groups or []))
    for key in expected_rows.keys() | stored_rows.keys():
        model, owner_id = key
        want, have = expected_rows.get(key, set()), stored_rows.get(key, set())
        drift.missing += [f"{model.__name__} owner={owner_id} object={o} perm={p}" for o, p in want - have]
        drift.extra += [f"{model.__name__} owner={owner_id} object={o} perm={p}" for o, p in have - want]
        if apply and want != have:
            owner = "group_id" if "Group" in model.__name__ else "user_id"
            scope = next(s for s in catalog.SCOPES if model in (GROUP_MODELS[s], USER_MODELS[s]))
            _replace(model, owner, owner_id, {WORKSPACE_PATH[scope]: workspace.pk}, want)
    drift.missing += [f"user {u} not in group {g}" for u, g in expected_memberships - stored_memberships]
    drift.extra += [f"user {u} in group {g}" for u, g in stored_memberships - expected_memberships]
    if apply:
        through = get_user_model().groups.through
        for user_id, group_id in stored_memberships - expected_memberships:
            through.objects.filter(user_id=user_id, group_id=group_id).delete()
        through.objects.bulk_create(
            [through(user_id=u, group_id=g) for u, g in expected_memberships - stored_memberships],
            ignore_conflicts=True,
        )
    return drift


def sync_workspaces(*, apply: bool, workspaces=None) -> list[tuple[Workspace, Drift]]:
    """``sync_workspace`` for every workspace (or those given), by slug, one transaction each;
    answers each workspace with its drift. What ``sync_permissions`` and the scheduled check run."""
    if workspaces is None:
        workspaces = Workspace.objects.all()
    found = []
    for workspace in workspaces.order_by("slug"):
        with transaction.atomic():
            found.append((workspace, sync_workspace(workspace, apply=apply)))
    return found
