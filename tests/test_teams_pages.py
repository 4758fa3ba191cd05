"""The teams pages: list and create, one team's page, members, site grants, rename and delete.

Viewing needs ``view_members``; changing a team needs ``manage_teams``; a team's site grants need
``manage_teams`` or ``manage_site_access`` and rule 3. Another workspace's ids are a 404 on every
URL, and every change made through the pages writes exactly one audit event.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.policy import Access
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.models import SiteGrant, Team, TeamMembership
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db

SITE_VIEWER_CAPS = next(r for r in catalog.BUILTIN_SITE_ROLES if r.key == catalog.SITE_VIEWER).capabilities


def site_role(key):
    return builtin_role(key, catalog.SITE)


def url(name, workspace, *args):
    return reverse(f"teams:{name}", args=[workspace.slug, *args])


def login(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def team(workspace):
    return make_team(workspace, "Growth")


@pytest.fixture
def site(workspace):
    return make_site(workspace, "Shop")


@pytest.fixture
def admin(workspace):
    return add_member(workspace, catalog.ADMIN).user


@pytest.fixture
def other():
    """Another workspace with its owner, a member, a site, a team and a team grant."""
    workspace = make_workspace(name="Other")
    site, team = make_site(workspace, "Theirs"), make_team(workspace, "Their team")
    grant = site_grant_set(actor=None, site=site, team=team, role=site_role(catalog.EDITOR))
    member = add_member(workspace, catalog.MEMBER)
    return {"workspace": workspace, "site": site, "team": team, "grant": grant, "member": member}


# --- who may see and who may change ---------------------------------------------------------------


@pytest.mark.parametrize(
    "role_key, status",
    [(catalog.ADMIN, 200), (catalog.MEMBER, 200), (catalog.VIEWER, 200), (catalog.BILLING_ADMIN, 403)],
)
def test_viewing_needs_view_members(client, workspace, team, role_key, status):
    client = login(client, add_member(workspace, role_key).user)
    assert client.get(url("index", workspace)).status_code == status
    assert client.get(url("detail", workspace, team.pk)).status_code == status


def test_non_members_get_404(client, workspace, team, site):
    grant = site_grant_set(actor=None, site=site, team=team, role=site_role(catalog.EDITOR))
    client = login(client, UserFactory())
    for name, args in _every_url(team, grant, membership_pk=1):
        assert client.get(url(name, workspace, *args)).status_code == 404, name
        assert client.post(url(name, workspace, *args), {"name": "X"}).status_code == 404, name
    assert Team.objects.get(pk=team.pk).name == "Growth" and SiteGrant.objects.count() == 1


def _every_url(team, grant, membership_pk):
    return [
        ("index", ()),
        ("create", ()),
        ("detail", (team.pk,)),
        ("edit", (team.pk,)),
        ("delete", (team.pk,)),
        ("member_add", (team.pk,)),
        ("member_remove", (team.pk, membership_pk)),
        ("grant_set", (team.pk,)),
        ("grant_edit", (team.pk, grant.pk)),
        ("grant_revoke", (team.pk, grant.pk)),
    ]


def test_members_and_viewers_see_no_controls_and_are_refused(client, workspace, team, site):
    member = add_member(workspace, catalog.MEMBER)
    team_add_member(actor=None, team=team, membership=member)
    grant = site_grant_set(actor=None, site=site, team=team, role=site_role(catalog.EDITOR))
    for role_key in (catalog.MEMBER, catalog.VIEWER):
        client = login(client, add_member(workspace, role_key).user)
        page = client.get(url("detail", workspace, team.pk)).content.decode()
        assert member.user.email in page and "Shop" in page and "Editor" in page
        for name in ("delete", "edit", "member_add", "grant_set", "grant_revoke"):
            assert url(name, workspace, *([team.pk, grant.pk] if name == "grant_revoke" else [team.pk])) not in page
        assert 'action="' + url("create", workspace) + '"' not in client.get(url("index", workspace)).content.decode()
        posts = [
            (url("create", workspace), {"name": "Mine"}),
            (url("edit", workspace, team.pk), {"name": "Renamed"}),
            (url("delete", workspace, team.pk), {}),
            (url("member_add", workspace, team.pk), {"email": add_member(workspace).user.email}),
            (url("member_remove", workspace, team.pk, member.pk), {}),
            (url("grant_set", workspace, team.pk), {"grant-site": site.pk, "grant-role": grant.role_id}),
            (url("grant_edit", workspace, team.pk, grant.pk), {"role": site_role(catalog.SITE_ADMIN).pk}),
            (url("grant_revoke", workspace, team.pk, grant.pk), {}),
        ]
        events = AuditEvent.objects.count()
        for target, data in posts:
            assert client.post(target, {"confirm": "yes", **data}).status_code == 403, target
        assert client.get(url("delete", workspace, team.pk)).status_code == 403
        assert client.get(url("grant_edit", workspace, team.pk, grant.pk)).status_code == 403
        assert AuditEvent.objects.count() == events
        assert list(Team.objects.filter(workspace=workspace).values_list("name", flat=True)) == ["Growth"]
        assert TeamMembership.objects.filter(team=team).count() == 1
        grant.refresh_from_db()
        assert grant.role.key == catalog.EDITOR


def test_other_workspaces_ids_are_404_on_every_url(client, workspace, owner, team, other):
    client = login(client, owner)
    their_team, their_grant = other["team"], other["grant"]
    for name, args in _every_url(their_team, their_grant, membership_pk=other["member"].pk)[2:]:
        target = url(name, workspace, *args)
        assert client.post(target, {"name": "Taken", "role": site_role(catalog.SITE_ADMIN).pk}).status_code == 404
        assert client.get(target).status_code == 404, name
    # This workspace's team with another workspace's grant or member: 404 too.
    assert client.post(url("grant_revoke", workspace, team.pk, their_grant.pk)).status_code == 404
    assert client.get(url("grant_edit", workspace, team.pk, their_grant.pk)).status_code == 404
    assert client.post(url("member_remove", workspace, team.pk, other["member"].pk)).status_code == 404
    their_team.refresh_from_db()
    assert their_team.name == "Their team" and SiteGrant.objects.filter(pk=their_grant.pk).exists()


# --- create, rename, delete -----------------------------------------------------------------------


def test_admin_creates_a_team(client, workspace, admin):
    client = login(client, admin)
    response = client.post(url("create", workspace), {"name": " Growth ", "description": "Marketing people"})
    team = Team.objects.get(workspace=workspace)
    assert response.status_code == 302 and response["Location"] == url("detail", workspace, team.pk)
    assert (team.name, team.description) == ("Growth", "Marketing people")
    assert list(AuditEvent.objects.filter(action__startswith="team.").values_list("action", flat=True)) == [
        "team.create"
    ]
    page = client.get(url("index", workspace)).content.decode()
    assert "Growth" in page and "Marketing people" in page


@pytest.mark.parametrize(
    "data, message",
    [({"name": ""}, "Give the team a name."), ({"name": "growth"}, "already has a team called")],
)
def test_bad_team_names_are_refused_with_a_message(client, workspace, admin, team, data, message):
    events = AuditEvent.objects.count()
    response = login(client, admin).post(url("create", workspace), data, follow=True)
    assert any(message in m for m in messages_of(response))
    assert Team.objects.filter(workspace=workspace).count() == 1 and AuditEvent.objects.count() == events


def test_rename_and_describe(client, workspace, admin, team):
    client = login(client, admin)
    response = client.post(url("edit", workspace, team.pk), {"name": "Growth hackers", "description": "New"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.description) == ("Growth hackers", "New")
    assert AuditEvent.objects.filter(action="team.update").count() == 1
    make_team(workspace, "Ops")
    response = client.post(url("edit", workspace, team.pk), {"name": "OPS"}, follow=True)
    assert any("already has a team called" in m for m in messages_of(response))
    team.refresh_from_db()
    assert team.name == "Growth hackers" and AuditEvent.objects.filter(action="team.update").count() == 1


def test_delete_asks_first_then_deletes_and_takes_the_access_away(client, workspace, admin, team, site):
    member = add_member(workspace, catalog.MEMBER)
    team_add_member(actor=None, team=team, membership=member)
    site_grant_set(actor=None, site=site, team=team, role=site_role(catalog.EDITOR))
    assert Access(member.user).has("view_site", site)
    client = login(client, admin)
    page = client.get(url("delete", workspace, team.pk))
    assert page.status_code == 200 and "1 member and 1 site grant" in page.content.decode()
    assert Team.objects.filter(pk=team.pk).exists()
    response = client.post(url("delete", workspace, team.pk), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == url("index", workspace)
    assert not Team.objects.filter(pk=team.pk).exists() and not SiteGrant.objects.exists()
    assert not Access(member.user).has("view_site", site)
    assert AuditEvent.objects.filter(action="team.delete").count() == 1


# --- members --------------------------------------------------------------------------------------


def test_joining_a_team_gives_its_site_access_and_leaving_takes_it_away(client, workspace, admin, team, site):
    site_grant_set(actor=None, site=site, team=team, role=site_role(catalog.EDITOR))
    member = add_member(workspace, catalog.MEMBER)
    assert not Access(member.user).has("view_site", site)
    client = login(client, admin)
    events = AuditEvent.objects.count()
    response = client.post(url("member_add", workspace, team.pk), {"email": member.user.email.upper()}, follow=True)
    assert any("is in the team" in m for m in messages_of(response))
    assert Access(member.user).has("change_dashboards", site)
    assert AuditEvent.objects.count() == events + 1
    assert member.user.email in client.get(url("detail", workspace, team.pk)).content.decode()

    response = client.post(url("member_remove", workspace, team.pk, member.pk), {"confirm": "yes"})
    assert response.status_code == 302
    assert not Access(member.user).has("view_site", site)
    assert not TeamMembership.objects.exists()
    assert AuditEvent.objects.count() == events + 2
    assert list(AuditEvent.objects.order_by("-id").values_list("action", flat=True)[:2]) == [
        "team.member_remove",
        "team.member_add",
    ]


def test_the_add_form_names_the_member_by_address_and_lists_nobody(client, workspace, owner, team):
    outside = add_member(workspace)
    page = login(client, owner).get(url("detail", workspace, team.pk)).content.decode()
    assert 'name="email"' in page and outside.user.email not in page  # no list of candidates
    assert 'name="membership"' not in page


@pytest.mark.parametrize(
    "who, message",
    [
        ("other workspace", "No member of this workspace has the address"),
        ("no account", "No member of this workspace has the address"),
        ("already in", "is already in the team"),
        ("empty", "Enter the e-mail address of a member of this workspace."),
        ("nul", "Null characters are not allowed."),
        ("too long", "at most 254 characters"),
    ],
)
def test_adding_a_wrong_member_is_refused_with_a_message(client, workspace, owner, team, other, who, message):
    inside = add_member(workspace)
    team_add_member(actor=None, team=team, membership=inside)
    email = {
        "other workspace": other["member"].user.email,
        "no account": "nobody@nowhere.test",
        "already in": inside.user.email,
        "empty": "  ",
        "nul": "a\x00@b.test",
        "too long": "a" * 250 + "@b.test",
    }[who]
    events = AuditEvent.objects.count()
    response = login(client, owner).post(url("member_add", workspace, team.pk), {"email": email}, follow=True)
    assert response.status_code == 200
    assert any(message in m for m in messages_of(response)), messages_of(response)
    assert TeamMembership.objects.count() == 1 and AuditEvent.objects.count() == events
    assert not TeamMembership.objects.filter(membership=other["member"]).exists()


def test_removing_someone_not_in_the_team_is_404(client, workspace, owner, team):
    outside = add_member(workspace)
    assert login(client, owner).post(url("member_remove", workspace, team.pk, outside.pk)).status_code == 404


# --- the team's site grants -----------------------------------------------------------------------


def test_team_grant_with_an_extra_capability_then_change_then_revoke(client, workspace, admin, team, site):
    member = add_member(workspace, catalog.MEMBER)
    team_add_member(actor=None, team=team, membership=member)
    client = login(client, admin)
    events = AuditEvent.objects.count()
    data = {"grant-site": site.pk, "grant-role": site_role(catalog.SITE_VIEWER).pk, "grant-extra": ["tag_comments"]}
    response = client.post(url("grant_set", workspace, team.pk), data, follow=True)
    assert any("has the role Site viewer on Shop" in m for m in messages_of(response))
    grant = SiteGrant.objects.get(team=team)
    assert set(grant.extra_permissions.values_list("codename", flat=True)) == {"tag_comments"}
    access = Access(member.user)
    assert access.has("tag_comments", site) and access.has("view_site", site)
    assert not access.has("change_dashboards", site)
    assert AuditEvent.objects.count() == events + 1
    page = client.get(url("detail", workspace, team.pk)).content.decode()
    assert "Add tags to comments" in page and url("grant_edit", workspace, team.pk, grant.pk) in page

    edit = client.get(url("grant_edit", workspace, team.pk, grant.pk))
    assert (
        edit.status_code == 200 and 'value="tag_comments" id="id_extra_tag_comments" checked' in edit.content.decode()
    )
    response = client.post(url("grant_edit", workspace, team.pk, grant.pk), {"role": site_role(catalog.EDITOR).pk})
    assert response.status_code == 302 and response["Location"] == url("detail", workspace, team.pk)
    access = Access(member.user)
    assert access.has("change_dashboards", site) and not access.has("tag_comments", site)
    assert AuditEvent.objects.count() == events + 2

    response = client.post(url("grant_revoke", workspace, team.pk, grant.pk), {"confirm": "yes"})
    assert response.status_code == 302
    assert not SiteGrant.objects.exists() and not Access(member.user).has("view_site", site)
    assert list(AuditEvent.objects.order_by("-id").values_list("action", flat=True)[:3]) == [
        "site_grant.revoke",
        "site_grant.set",
        "site_grant.set",
    ]


def test_site_access_managers_may_grant_to_teams_without_manage_teams(client, workspace, team, site):
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Access desk",
        capabilities={"view_members", "manage_site_access"},
        site_capabilities=set(catalog.codenames(catalog.SITE)),
    )
    client = login(client, add_member(workspace, role).user)
    page = client.get(url("detail", workspace, team.pk)).content.decode()
    assert url("grant_set", workspace, team.pk) in page and url("member_add", workspace, team.pk) not in page
    data = {"grant-site": site.pk, "grant-role": site_role(catalog.EDITOR).pk}
    assert client.post(url("grant_set", workspace, team.pk), data).status_code == 302
    assert SiteGrant.objects.filter(team=team, role__key=catalog.EDITOR).exists()
    assert (
        client.post(url("member_add", workspace, team.pk), {"email": add_member(workspace).user.email}).status_code
        == 403
    )


def test_rule_3_a_team_grant_beyond_the_actors_own_is_refused(client, workspace, team, site):
    """Someone who manages teams but holds only view capabilities on the sites cannot give Editor,
    nor an extra capability they lack; a grant within their own capabilities goes through."""
    delegate = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Team lead",
        capabilities={"view_members", "manage_teams"},
        site_capabilities=set(SITE_VIEWER_CAPS),
    )
    client = login(client, add_member(workspace, delegate).user)
    events = AuditEvent.objects.count()
    for role_key, extra in [(catalog.EDITOR, []), (catalog.SITE_VIEWER, ["tag_comments"])]:
        data = {"grant-site": site.pk, "grant-role": site_role(role_key).pk, "grant-extra": extra}
        response = client.post(url("grant_set", workspace, team.pk), data, follow=True)
        assert any("You cannot give capabilities you do not hold on Shop" in m for m in messages_of(response))
    assert not SiteGrant.objects.exists() and AuditEvent.objects.count() == events
    data = {"grant-site": site.pk, "grant-role": site_role(catalog.SITE_VIEWER).pk}
    client.post(url("grant_set", workspace, team.pk), data)
    assert SiteGrant.objects.filter(team=team, role__key=catalog.SITE_VIEWER).exists()


def test_grant_edit_refusal_is_shown_on_the_form(client, workspace, team, site):
    delegate = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Team lead",
        capabilities={"view_members", "manage_teams"},
        site_capabilities=set(SITE_VIEWER_CAPS),
    )
    grant = site_grant_set(actor=None, site=site, team=team, role=site_role(catalog.SITE_VIEWER))
    client = login(client, add_member(workspace, delegate).user)
    response = client.post(url("grant_edit", workspace, team.pk, grant.pk), {"role": site_role(catalog.EDITOR).pk})
    assert response.status_code == 200
    assert "You cannot give capabilities you do not hold" in response.content.decode()
    grant.refresh_from_db()
    assert grant.role.key == catalog.SITE_VIEWER


def test_a_grant_on_another_workspaces_site_or_with_its_role_is_refused(client, workspace, owner, team, other):
    their_role = role_save(
        actor=None, workspace=other["workspace"], scope=catalog.SITE, name="Theirs", capabilities={"view_site"}
    )
    site = make_site(workspace, "Shop")
    client = login(client, owner)
    for data in (
        {"grant-site": other["site"].pk, "grant-role": site_role(catalog.EDITOR).pk},
        {"grant-site": site.pk, "grant-role": their_role.pk},
    ):
        response = client.post(url("grant_set", workspace, team.pk), data, follow=True)
        assert any("Choose" in m for m in messages_of(response))
    assert not SiteGrant.objects.filter(team=team).exists()


def test_custom_site_roles_are_offered(client, workspace, owner, team, other):
    mine = role_save(actor=None, workspace=workspace, scope=catalog.SITE, name="Commenter", capabilities={"view_site"})
    theirs = role_save(actor=None, workspace=other["workspace"], scope=catalog.SITE, name="Theirs", capabilities=set())
    make_site(workspace)
    form = login(client, owner).get(url("detail", workspace, team.pk)).context["grant_form"]
    offered = list(form.fields["role"].queryset)
    assert offered[:3] == [site_role(k) for k in (catalog.SITE_ADMIN, catalog.EDITOR, catalog.SITE_VIEWER)]
    assert mine in offered and theirs not in offered


# --- the nav (paging, search and query counts: tests/test_teams_scale.py) -------------------------


def test_nav_links_to_teams_for_view_members_only(client, workspace):
    for role_key, shown in [(catalog.MEMBER, True), (catalog.BILLING_ADMIN, False)]:
        page = login(client, add_member(workspace, role_key).user).get(
            reverse("workspaces:detail", args=[workspace.slug])
        )
        assert (f'href="{url("index", workspace)}"' in page.content.decode()) == shown
