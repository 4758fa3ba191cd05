"""The site access page: who has access and how, grants to members and teams (with extra
capabilities), change, revoke, the site owner (rule 2), and rule 3 refusals shown as messages.

Needs ``manage_site_access``; another workspace's site, grant, member or team is refused (404 in
the URL, a message and nothing written in the form), and each change writes one audit event.
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
from workspaces.models import Membership, Site, SiteGrant
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db

SITE_VIEWER_CAPS = next(r for r in catalog.BUILTIN_SITE_ROLES if r.key == catalog.SITE_VIEWER).capabilities


def site_role(key):
    return builtin_role(key, catalog.SITE)


def url(name, site, *args):
    return reverse(f"site_access:{name}", args=[site.workspace.slug, site.slug, *args])


def login(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def site(workspace):
    return make_site(workspace, "Shop")


@pytest.fixture
def admin(workspace):
    return add_member(workspace, catalog.ADMIN).user


@pytest.fixture
def other():
    workspace = make_workspace(name="Other")
    site, team = make_site(workspace, "Theirs"), make_team(workspace, "Their team")
    member = add_member(workspace, catalog.MEMBER)
    grant = site_grant_set(actor=None, site=site, membership=member, role=site_role(catalog.EDITOR))
    return {"workspace": workspace, "site": site, "team": team, "member": member, "grant": grant}


def _every_url(site, grant):
    return [
        ("index", ()),
        ("grant_set", ()),
        ("grant_edit", (grant.pk,)),
        ("grant_revoke", (grant.pk,)),
        ("owner", ()),
    ]


# --- who may ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role_key, status",
    [(catalog.ADMIN, 200), (catalog.MEMBER, 403), (catalog.VIEWER, 403), (catalog.BILLING_ADMIN, 403)],
)
def test_the_page_needs_manage_site_access(client, workspace, site, role_key, status):
    client = login(client, add_member(workspace, role_key).user)
    assert client.get(url("index", site)).status_code == status
    detail = client.get(reverse("workspaces:site_detail", args=[workspace.slug, site.slug]))
    if detail.status_code == 200:
        assert (url("index", site) in detail.content.decode()) == (status == 200)


def test_members_without_the_capability_change_nothing(client, workspace, site):
    target = add_member(workspace, catalog.MEMBER)
    grant = site_grant_set(actor=None, site=site, membership=target, role=site_role(catalog.SITE_VIEWER))
    owner_before = site.owner_id
    events = AuditEvent.objects.count()
    for role_key in (catalog.MEMBER, catalog.VIEWER):
        client = login(client, add_member(workspace, role_key).user)
        for name, args in _every_url(site, grant):
            data = {"grant-grantee": f"m{target.pk}", "grant-role": site_role(catalog.EDITOR).pk, "owner": target.pk}
            assert client.post(url(name, site, *args), data).status_code == 403, name
        assert client.get(url("grant_edit", site, grant.pk)).status_code == 403
    grant.refresh_from_db()
    assert grant.role.key == catalog.SITE_VIEWER and Site.objects.get(pk=site.pk).owner_id == owner_before
    assert AuditEvent.objects.count() == events + 2  # the two add_member calls above


def test_non_members_get_404(client, workspace, site):
    grant = site_grant_set(actor=None, site=site, membership=add_member(workspace), role=site_role(catalog.EDITOR))
    client = login(client, UserFactory())
    for name, args in _every_url(site, grant):
        assert client.get(url(name, site, *args)).status_code == 404, name
        assert client.post(url(name, site, *args), {}).status_code == 404, name
    assert SiteGrant.objects.filter(pk=grant.pk).exists()


def test_other_workspaces_sites_and_grants_are_404(client, workspace, owner, site, other):
    client = login(client, owner)
    their_site, their_grant = other["site"], other["grant"]
    # Their site under our workspace's slug:
    for name, args in _every_url(their_site, their_grant):
        target = reverse(f"site_access:{name}", args=[workspace.slug, their_site.slug, *args])
        assert client.get(target).status_code == 404, name
        assert client.post(target, {"role": site_role(catalog.SITE_ADMIN).pk}).status_code == 404, name
    # Their grant under our site:
    assert client.get(url("grant_edit", site, their_grant.pk)).status_code == 404
    assert (
        client.post(url("grant_edit", site, their_grant.pk), {"role": site_role(catalog.SITE_ADMIN).pk}).status_code
        == 404
    )
    assert client.post(url("grant_revoke", site, their_grant.pk), {"confirm": "yes"}).status_code == 404
    # Their workspace's page, for our owner: 404.
    assert client.get(url("index", their_site)).status_code == 404
    their_grant.refresh_from_db()
    assert their_grant.role.key == catalog.EDITOR


# --- what the page shows ------------------------------------------------------------------------------


def test_the_page_shows_every_way_in(client, workspace, owner, site):
    tagger = add_member(workspace, catalog.MEMBER, user=UserFactory(email="tagger@acme.test"))
    site_grant_set(
        actor=None, site=site, membership=tagger, role=site_role(catalog.SITE_VIEWER), extra={"tag_comments"}
    )
    team = make_team(workspace, "Growth")
    team_add_member(actor=None, team=team, membership=add_member(workspace))
    site_grant_set(actor=None, site=site, team=team, role=site_role(catalog.EDITOR))
    role_save(actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="No sites", capabilities=set())
    role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Perf",
        capabilities=set(),
        site_capabilities={"view_performance"},
    )
    response = login(client, owner).get(url("index", site))
    page = response.content.decode()
    lines = {role.name: role for role in response.context["wide_roles"]}
    assert list(lines) == ["Owner", "Admin", "Viewer", "Perf"]  # only roles that reach every site
    assert lines["Owner"].member_count == 1 and lines["Owner"].site_caps is None
    assert [c.codename for c in lines["Perf"].site_caps] == ["view_performance", "view_basic_performance"]
    assert "Everyone with workspace role <strong>Viewer</strong>" in page
    assert "tagger@acme.test" in page and "Add tags to comments" in page
    assert "Growth" in page and "Editor" in page
    assert "owner@acme.test" in page  # the site owner
    assert f'href="{url("index", site)}"' in login(client, owner).get(site.get_absolute_url()).content.decode()


def test_the_grant_form_offers_this_workspaces_members_teams_and_site_roles(client, workspace, owner, site, other):
    mine = role_save(actor=None, workspace=workspace, scope=catalog.SITE, name="Commenter", capabilities={"view_site"})
    team = make_team(workspace, "Growth")
    response = login(client, owner).get(url("index", site))
    form = response.context["grant_form"]
    grantees = {choice.value: choice.label for choice in response.context["grantee_picker"].choices}
    assert {value: label for value, label in grantees.items() if value.startswith("t")} == {f"t{team.pk}": "Growth"}
    members = {value for value in grantees if value.startswith("m")}
    assert members == {f"m{m.pk}" for m in Membership.objects.filter(workspace=workspace)}
    assert f"m{other['member'].pk}" not in members and f"t{other['team'].pk}" not in grantees
    assert f'type="radio" name="grant-grantee" value="t{team.pk}"' in response.content.decode()
    roles = list(form.fields["role"].queryset)
    assert mine in roles and len(roles) == 4
    html = client.get(url("index", site)).content.decode()
    for area, _ in catalog.areas(catalog.SITE):
        assert f"<legend>{area}</legend>" in html
    assert 'name="grant-extra" value="tag_comments"' in html


# --- grants -----------------------------------------------------------------------------------------------


def test_grant_to_a_member_with_an_extra_then_change_then_revoke(client, workspace, admin, site):
    target = add_member(workspace, catalog.MEMBER)
    client = login(client, admin)
    events = AuditEvent.objects.count()
    data = {
        "grant-grantee": f"m{target.pk}",
        "grant-role": site_role(catalog.SITE_VIEWER).pk,
        "grant-extra": ["tag_comments"],
    }
    response = client.post(url("grant_set", site), data, follow=True)
    assert any("has the role Site viewer on Shop" in m for m in messages_of(response))
    access = Access(target.user)
    assert access.has("tag_comments", site) and access.has("view_site", site) and not access.has("add_dashboards", site)
    assert AuditEvent.objects.count() == events + 1
    grant = SiteGrant.objects.get(membership=target)

    response = client.post(
        url("grant_edit", site, grant.pk), {"role": site_role(catalog.EDITOR).pk, "extra": ["tag_comments"]}
    )
    assert response.status_code == 302 and response["Location"] == url("index", site)
    assert Access(target.user).has("add_dashboards", site) and Access(target.user).has("tag_comments", site)
    assert AuditEvent.objects.count() == events + 2

    response = client.post(url("grant_revoke", site, grant.pk), {"confirm": "yes"}, follow=True)
    assert any("is revoked" in m for m in messages_of(response))
    assert not Access(target.user).has("view_site", site) and not SiteGrant.objects.exists()
    assert list(AuditEvent.objects.order_by("-id").values_list("action", flat=True)[:3]) == [
        "site_grant.revoke",
        "site_grant.set",
        "site_grant.set",
    ]


def test_grant_to_a_team_reaches_its_members(client, workspace, admin, site):
    team = make_team(workspace, "Growth")
    inside = add_member(workspace, catalog.MEMBER)
    team_add_member(actor=None, team=team, membership=inside)
    client = login(client, admin)
    events = AuditEvent.objects.count()
    data = {"grant-grantee": f"t{team.pk}", "grant-role": site_role(catalog.EDITOR).pk, "grant-extra": ["tag_comments"]}
    client.post(url("grant_set", site), data)
    grant = SiteGrant.objects.get(team=team)
    assert Access(inside.user).has("tag_comments", site) and Access(inside.user).has("run_experiments", site)
    assert AuditEvent.objects.count() == events + 1
    page = client.get(url("index", site)).content.decode()
    assert url("grant_edit", site, grant.pk) in page
    response = client.get(url("grant_edit", site, grant.pk))
    assert "the team “Growth”" in response.content.decode()
    client.post(url("grant_edit", site, grant.pk), {"role": site_role(catalog.SITE_VIEWER).pk})
    assert not Access(inside.user).has("run_experiments", site) and not Access(inside.user).has("tag_comments", site)
    client.post(url("grant_revoke", site, grant.pk), {"confirm": "yes"})
    assert not Access(inside.user).has("view_site", site)
    assert AuditEvent.objects.count() == events + 3


def test_saving_the_same_grant_again_writes_no_event(client, workspace, admin, site):
    target = add_member(workspace)
    client = login(client, admin)
    data = {"grant-grantee": f"m{target.pk}", "grant-role": site_role(catalog.EDITOR).pk}
    client.post(url("grant_set", site), data)
    events = AuditEvent.objects.count()
    client.post(url("grant_set", site), data)
    assert AuditEvent.objects.count() == events and SiteGrant.objects.count() == 1


@pytest.mark.parametrize("grantee", ["other member", "other team", "empty", "nonsense"])
def test_grants_to_outsiders_or_nobody_are_refused_with_a_message(client, workspace, owner, site, other, grantee):
    value = {
        "other member": f"m{other['member'].pk}",
        "other team": f"t{other['team'].pk}",
        "empty": "",
        "nonsense": "x1",
    }
    events = AuditEvent.objects.count()
    data = {"grant-grantee": value[grantee], "grant-role": site_role(catalog.EDITOR).pk}
    response = login(client, owner).post(url("grant_set", site), data, follow=True)
    assert any("Member or team:" in m for m in messages_of(response))
    assert not SiteGrant.objects.filter(site=site).exists() and AuditEvent.objects.count() == events


def test_another_workspaces_site_role_is_refused(client, workspace, owner, site):
    theirs = role_save(
        actor=None,
        workspace=make_workspace(name="Other"),
        scope=catalog.SITE,
        name="Theirs",
        capabilities={"view_site"},
    )
    target = add_member(workspace)
    data = {"grant-grantee": f"m{target.pk}", "grant-role": theirs.pk}
    response = login(client, owner).post(url("grant_set", site), data, follow=True)
    assert any("Choose one of this workspace's site roles" in m for m in messages_of(response))
    assert not SiteGrant.objects.exists()


# --- rule 3 -----------------------------------------------------------------------------------------------


@pytest.fixture
def delegate(workspace):
    """Manages site access, but holds only the view capabilities on every site."""
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Access desk",
        capabilities={"view_members", "manage_site_access"},
        site_capabilities=set(SITE_VIEWER_CAPS),
    )
    return add_member(workspace, role).user


def test_rule_3_granting_what_the_actor_lacks_on_the_site_is_refused(client, workspace, site, delegate):
    strong = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.SITE,
        name="Alerts",
        capabilities={"view_site", "configure_alerts"},
    )
    target, team = add_member(workspace), make_team(workspace, "Growth")
    client = login(client, delegate)
    events = AuditEvent.objects.count()
    refused = [
        {"grant-grantee": f"m{target.pk}", "grant-role": strong.pk},
        {"grant-grantee": f"m{target.pk}", "grant-role": site_role(catalog.EDITOR).pk},
        {
            "grant-grantee": f"t{team.pk}",
            "grant-role": site_role(catalog.SITE_VIEWER).pk,
            "grant-extra": ["tag_comments"],
        },
    ]
    for data in refused:
        response = client.post(url("grant_set", site), data, follow=True)
        assert response.status_code == 200
        assert any("You cannot give capabilities you do not hold on Shop" in m for m in messages_of(response)), data
    assert not SiteGrant.objects.exists() and AuditEvent.objects.count() == events
    assert not Access(target.user).has("view_site", site)
    # Within their own capabilities it goes through.
    client.post(
        url("grant_set", site), {"grant-grantee": f"m{target.pk}", "grant-role": site_role(catalog.SITE_VIEWER).pk}
    )
    assert Access(target.user).has("view_site", site) and AuditEvent.objects.count() == events + 1


def test_rule_3_on_the_change_form(client, workspace, site, delegate):
    target = add_member(workspace)
    grant = site_grant_set(actor=None, site=site, membership=target, role=site_role(catalog.SITE_VIEWER))
    response = login(client, delegate).post(
        url("grant_edit", site, grant.pk), {"role": site_role(catalog.SITE_VIEWER).pk, "extra": ["tag_comments"]}
    )
    assert response.status_code == 200 and "tag_comments" in response.content.decode()
    assert "You cannot give capabilities you do not hold" in response.content.decode()
    assert not grant.extra_permissions.exists()


# --- site owner (rule 2) ---------------------------------------------------------------------------------


def test_set_the_site_owner(client, workspace, admin, site):
    successor = add_member(workspace, catalog.VIEWER)  # any member, whatever their role
    client = login(client, admin)
    events = AuditEvent.objects.count()
    response = client.post(url("owner", site), {"owner": successor.pk}, follow=True)
    assert any("is the site owner of Shop" in m for m in messages_of(response))
    assert Site.objects.get(pk=site.pk).owner_id == successor.pk
    event = AuditEvent.objects.get(action="site.owner_change")
    assert event.after == {"owner": successor.user.email} and AuditEvent.objects.count() == events + 1
    assert f"<p>{successor.user.display_name} <span" in response.content.decode()  # shown as the owner


@pytest.mark.parametrize("owner_value", ["other workspace", "not a member", "empty"])
def test_the_site_owner_must_be_a_member_of_the_workspace(client, workspace, owner, site, other, owner_value):
    value = {"other workspace": other["member"].pk, "not a member": 999999, "empty": ""}[owner_value]
    before = site.owner_id
    events = AuditEvent.objects.count()
    response = login(client, owner).post(url("owner", site), {"owner": value}, follow=True)
    assert any("Site owner:" in m for m in messages_of(response))
    assert Site.objects.get(pk=site.pk).owner_id == before and AuditEvent.objects.count() == events


# --- query counts -----------------------------------------------------------------------------------------


# session, user, workspace, membership, site, workspace permissions (2), workspace-wide roles and the
# members holding them (2; built-in roles' capabilities come from the catalog), a page of member grants
# (count, rows, their extras), a page of team grants (count, rows, their extras), the grantee picker
# (members, teams), the owner picker (members), and the site roles and the person's capabilities on
# the site, to offer only the roles they may give (listed once)
INDEX_QUERIES = 18


@pytest.mark.parametrize("size", [5, 300])
def test_access_page_query_count_does_not_grow(client, workspace, owner, site, django_assert_num_queries, size):
    editor = site_role(catalog.EDITOR)
    for n in range(size):
        member = add_member(workspace)
        site_grant_set(actor=None, site=site, membership=member, role=editor, extra={"tag_comments"})
        if n % 10 == 0:
            team = make_team(workspace, f"Team {n:03}")
            team_add_member(actor=None, team=team, membership=member)
            site_grant_set(actor=None, site=site, team=team, role=editor, extra={"tag_comments"})
    client = login(client, owner)
    with django_assert_num_queries(INDEX_QUERIES):
        response = client.get(url("index", site))
    assert response.status_code == 200
    shown_members, shown_teams = min(size, 50), len(range(0, size, 10))
    assert len(response.context["member_grants"]) == shown_members
    assert response.context["member_grants_pager"]["page"].paginator.count == size
    assert len(response.context["team_grants"]) == shown_teams
    assert response.content.decode().count(">Add tags to comments</span>") == shown_members + shown_teams
    assert response.content.decode().count('type="radio"') <= 40  # two pickers of at most 20
