"""Every changelist (and the busiest change pages) runs the same number of queries with 5 rows as
with 300: nothing is loaded row by row. Rows are made in bulk; the admin only reads them."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.models import AccessKey, Role, RoleGroup
from permissions.roles import builtin_role, permission_ids
from tests.admin.conftest import admin_url
from tests.factories import make_experience, make_site, make_team
from workspaces.models import (
    Collaborator,
    Experience,
    Invite,
    InviteSend,
    JoinDomain,
    JoinRequest,
    Membership,
    Site,
    SiteGrant,
    Team,
    TeamMembership,
    ViewerGroup,
    ViewerGroupMember,
    Workspace,
)

_serial = itertools.count()


def _users(n):
    return User.objects.bulk_create([User(email=f"bulk{next(_serial)}@example.com") for _ in range(n)])


def _memberships(ws, n, role_key=catalog.MEMBER):
    role = builtin_role(role_key)
    return Membership.objects.bulk_create([Membership(workspace=ws, user=u, role=role) for u in _users(n)])


def _groups(n):
    return Group.objects.bulk_create([Group(name=f"bulk-group-{next(_serial)}") for _ in range(n)])


def _site_grants(ws, n):
    site = Site.objects.filter(workspace=ws).first() or make_site(ws)
    role = builtin_role(catalog.SITE_VIEWER, catalog.SITE)
    grants = SiteGrant.objects.bulk_create([SiteGrant(site=site, membership=m, role=role) for m in _memberships(ws, n)])
    extra = permission_ids(catalog.SITE)["tag_comments"]
    through = SiteGrant.extra_permissions.through
    through.objects.bulk_create([through(sitegrant_id=g.pk, permission_id=extra) for g in grants])


def _collaborators(ws, n):
    experience = Experience.objects.filter(workspace=ws).first() or make_experience(ws)
    Collaborator.objects.bulk_create([Collaborator(experience=experience, membership=m) for m in _memberships(ws, n)])


def _teams(ws, n):
    Team.objects.bulk_create([Team(workspace=ws, name=f"Team {next(_serial)}", group=g) for g in _groups(n)])


def _team_members(ws, n):
    team = Team.objects.filter(workspace=ws).first() or make_team(ws)
    TeamMembership.objects.bulk_create([TeamMembership(team=team, membership=m) for m in _memberships(ws, n)])


def _roles(ws, n):
    Role.objects.bulk_create(
        [Role(workspace=ws, scope=catalog.WORKSPACE, key=f"r{next(_serial)}", name="Custom") for _ in range(n)]
    )


def _role_groups(ws, n):
    _roles(ws, n)
    roles = Role.objects.filter(workspace=ws).exclude(groups__isnull=False)[:n]
    RoleGroup.objects.bulk_create(
        [RoleGroup(workspace=ws, role=r, group=g) for r, g in zip(roles, _groups(n), strict=True)]
    )


def _invites(ws, n):
    later = timezone.now() + timezone.timedelta(days=7)
    role = builtin_role(catalog.MEMBER)
    Invite.objects.bulk_create(
        [
            Invite(
                workspace=ws, email=f"i{i}@x.test", role=role, token_hash=f"{i:064d}", expires_at=later, invited_by=None
            )
            for i in (next(_serial) for _ in range(n))
        ]
    )


def _viewer_groups(ws, n):
    groups = ViewerGroup.objects.bulk_create([ViewerGroup(workspace=ws, name=f"G{next(_serial)}") for _ in range(n)])
    ViewerGroupMember.objects.bulk_create([ViewerGroupMember(group=g, email="v@x.test") for g in groups])


def _join_requests(ws, n):
    JoinRequest.objects.bulk_create([JoinRequest(workspace=ws, user=u) for u in _users(n)])


BUILDERS = {
    User: lambda ws, n: _users(n),
    Group: lambda ws, n: _groups(n),
    Workspace: lambda ws, n: Workspace.objects.bulk_create(
        [Workspace(name=f"W{i}", slug=f"w-{i}") for i in (next(_serial) for _ in range(n))]
    ),
    Membership: _memberships,
    Site: lambda ws, n: Site.objects.bulk_create(
        [
            Site(
                workspace=ws, name="S", slug=f"s-{next(_serial)}", owner=Membership.objects.filter(workspace=ws).first()
            )
            for _ in range(n)
        ]
    ),
    SiteGrant: _site_grants,
    Experience: lambda ws, n: Experience.objects.bulk_create([Experience(workspace=ws, title="E") for _ in range(n)]),
    Collaborator: _collaborators,
    Team: _teams,
    TeamMembership: _team_members,
    ViewerGroup: _viewer_groups,
    Invite: _invites,
    InviteSend: lambda ws, n: InviteSend.objects.bulk_create(
        [InviteSend(workspace=ws, email="s@x.test") for _ in range(n)]
    ),
    JoinDomain: lambda ws, n: JoinDomain.objects.bulk_create(
        [JoinDomain(workspace=ws, domain=f"d{next(_serial)}.test", role=builtin_role(catalog.MEMBER)) for _ in range(n)]
    ),
    JoinRequest: _join_requests,
    Role: _roles,
    RoleGroup: _role_groups,
    AccessKey: lambda ws, n: AccessKey.objects.bulk_create(
        [AccessKey(workspace=ws, name="K", prefix="pk_abc", key_hash=f"{next(_serial):064d}") for _ in range(n)]
    ),
    AuditEvent: lambda ws, n: AuditEvent.objects.bulk_create(
        [AuditEvent(workspace=ws, workspace_name=ws.name, action="test.bulk", actor_email="a@x.test") for _ in range(n)]
    ),
}


def _grow_to(model, ws, size):
    BUILDERS[model](ws, size - model.objects.count())
    assert model.objects.count() >= size


@pytest.mark.parametrize("model", list(BUILDERS), ids=lambda model: model._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(
    staff_client, acme, model, django_assert_num_queries, django_assert_max_num_queries
):
    url = admin_url(model)
    _grow_to(model, acme, 5)
    staff_client.get(url)  # warm the per-process caches (content types, built-in roles)
    with django_assert_max_num_queries(20) as small:
        assert staff_client.get(url).status_code == 200
    _grow_to(model, acme, 300)
    with django_assert_num_queries(len(small)):
        response = staff_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 300


CHANGE_PAGES = {
    Workspace: (Membership, lambda ws: ws),
    Site: (SiteGrant, lambda ws: Site.objects.filter(workspace=ws).first()),
    Team: (TeamMembership, lambda ws: Team.objects.filter(workspace=ws).first()),
    Experience: (Collaborator, lambda ws: Experience.objects.filter(workspace=ws).first()),
    User: (Membership, lambda ws: Membership.objects.filter(workspace=ws).first().user),
    ViewerGroup: (ViewerGroupMember, lambda ws: ViewerGroup.objects.filter(workspace=ws).first()),
}


def _grow_children(model, ws, n):
    if model is ViewerGroupMember:
        group = ViewerGroup.objects.filter(workspace=ws).first() or ViewerGroup.objects.create(workspace=ws, name="G")
        ViewerGroupMember.objects.bulk_create(
            [ViewerGroupMember(group=group, email=f"v{next(_serial)}@x.test") for _ in range(n)]
        )
    else:
        BUILDERS[model](ws, n)


def _join_workspaces(user, n):
    """One person in many workspaces: the rows of the User page's membership inline."""
    workspaces = Workspace.objects.bulk_create([Workspace(name="W", slug=f"u-{next(_serial)}") for _ in range(n)])
    role = builtin_role(catalog.MEMBER)
    Membership.objects.bulk_create([Membership(workspace=w, user=user, role=role) for w in workspaces])


@pytest.mark.parametrize("parent", list(CHANGE_PAGES), ids=lambda model: model._meta.label)
def test_change_page_query_count_does_not_grow_with_its_rows(
    staff_client, acme, parent, django_assert_num_queries, django_assert_max_num_queries
):
    child, pick = CHANGE_PAGES[parent]
    _grow_children(child, acme, 5)
    obj = pick(acme)
    if parent is User:
        # One person's memberships: make them a member of many workspaces.
        Workspace_ids = Workspace.objects.bulk_create(
            [Workspace(name=f"W{i}", slug=f"u-{next(_serial)}") for i in range(4)]
        )
        Membership.objects.bulk_create(
            [Membership(workspace=w, user=obj, role=builtin_role(catalog.MEMBER)) for w in Workspace_ids]
        )
    url = admin_url(parent, "change", obj.pk)
    staff_client.get(url)
    with django_assert_max_num_queries(40) as small:
        assert staff_client.get(url).status_code == 200
    if parent is User:
        more = Workspace.objects.bulk_create([Workspace(name=f"W{i}", slug=f"u-{next(_serial)}") for i in range(295)])
        Membership.objects.bulk_create(
            [Membership(workspace=w, user=obj, role=builtin_role(catalog.MEMBER)) for w in more]
        )
    else:
        _grow_children(child, acme, 295)
    with django_assert_num_queries(len(small)):
        assert staff_client.get(url).status_code == 200
