"""The access explainer answers "why not": for a capability a member lacks, no source gives it, and
these roles, site grants or teams would. "My access" (explain:mine) is open to every member and
explains only oneself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.explain import explain, explain_missing
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team, make_workspace
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db


def _url(workspace, name="index", **query) -> str:
    base = reverse(f"explain:{name}", args=[workspace.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _missing(response) -> dict[str, list[str]]:
    return {cap.codename: givers for _, rows in response.context["missing_areas"] for cap, givers in rows}


@pytest.fixture
def shop(workspace):
    site = make_site(workspace, "Shop")
    growth = make_team(workspace, "Growth")
    site_grant_set(actor=None, site=site, team=growth, role=builtin_role(catalog.EDITOR, catalog.SITE))
    return site


def test_workspace_capabilities_not_held_name_the_roles_that_give_them(workspace):
    viewer = add_member(workspace, catalog.VIEWER)
    held = explain(viewer, workspace)
    missing = explain_missing(viewer, workspace, held)
    assert set(missing) == set(catalog.codenames(catalog.WORKSPACE)) - set(held)
    assert missing["manage_billing"] == ["the workspace roles Owner and Billing admin give it"]
    assert missing["manage_owners"] == ["the workspace role Owner gives it"]
    assert "view_members" not in missing


def test_site_capabilities_not_held_name_site_roles_and_teams(workspace, shop):
    member = add_member(workspace, catalog.MEMBER)
    missing = explain_missing(member, shop, explain(member, shop))
    assert missing["add_dashboards"] == [
        "the workspace roles Owner and Admin give it on every site",
        "the site roles Site admin and Editor give it on Shop, by a site grant",
        "team Growth's grant on Shop gives it there (by joining the team)",
    ]
    assert missing["delete_site"] == ["the workspace roles Owner and Admin give it on every site"]
    hidden = explain_missing(member, shop, explain(member, shop), name_teams=False)
    assert hidden["add_dashboards"][-1] == "a team's grant on Shop gives it there (by joining the team)"


def test_a_team_member_holds_what_the_team_gives(workspace, shop):
    member = add_member(workspace, catalog.MEMBER)
    team_add_member(actor=None, team=shop.workspace.teams.get(name="Growth"), membership=member)
    missing = explain_missing(member, shop, explain(member, shop))
    assert "add_dashboards" not in missing
    assert all("Growth" not in " ".join(givers) for givers in missing.values())


def test_custom_roles_are_named_and_nothing_is_said_when_nothing_gives_it(workspace):
    role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Exporter",
        capabilities={"export_members"},
        site_capabilities=set(),
    )
    role_save(
        actor=None,
        workspace=make_workspace(name="Other"),
        scope=catalog.WORKSPACE,
        name="Elsewhere",
        capabilities={"export_members"},
        site_capabilities=set(),
    )
    viewer = add_member(workspace, catalog.VIEWER)
    missing = explain_missing(viewer, workspace, explain(viewer, workspace))
    assert missing["export_members"] == ["the workspace roles Owner, Admin and Exporter give it"]


def test_experience_capabilities_name_collaboration(workspace, owner):
    experience = make_experience(workspace, creator=owner)
    billing = add_member(workspace, catalog.BILLING_ADMIN)
    missing = explain_missing(billing, experience, explain(billing, experience))
    assert missing["change_experience"] == [
        "the workspace roles Owner and Admin give it",
        f"being a collaborator on {experience} gives it there",
    ]
    assert missing["delete_experience"] == ["the workspace roles Owner and Admin give it"]


def test_nothing_for_another_workspaces_place(workspace):
    member = add_member(workspace, catalog.MEMBER)
    assert explain_missing(member, make_site(make_workspace(name="Other"), "Theirs"), {}) == {}


# --- the page ---------------------------------------------------------------------------------------


def test_the_page_answers_why_not_for_one_capability(client, workspace, shop):
    admin = add_member(workspace, catalog.ADMIN)
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(admin.user)
    response = client.get(_url(workspace, member=member.pk, target=f"site:{shop.pk}", capability="add_dashboards"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "“Create dashboards” is not held here" in html
    assert "team Growth&#x27;s grant on Shop gives it there" in html
    assert _missing(response)["add_dashboards"][1].startswith("the site roles Site admin and Editor")
    held = client.get(_url(workspace, member=member.pk, target="workspace", capability="view_members"))
    assert "“See the members” is held" in held.content.decode()
    wrong_scope = client.get(_url(workspace, member=member.pk, target="workspace", capability="view_site"))
    assert "is a site capability" in wrong_scope.content.decode()


@pytest.mark.parametrize("capability", ["nope", "view_site\x00", "١", "x" * 300])
def test_an_unknown_capability_is_404(client, workspace, owner, capability):
    client.force_login(owner)
    assert client.get(_url(workspace, target="workspace", capability=capability)).status_code == 404


@pytest.mark.parametrize("role_key", [r.key for r in catalog.BUILTIN_WORKSPACE_ROLES])
def test_every_member_opens_my_access(client, workspace, owner, role_key):
    user = owner if role_key == catalog.OWNER else add_member(workspace, role_key).user
    client.force_login(user)
    response = client.get(_url(workspace, "mine"))
    assert response.status_code == 200
    assert response.context["subject"].user == user
    assert response.context["target"] == workspace  # the workspace, without choosing
    assert "<h1>My access</h1>" in response.content.decode()
    assert 'name="member"' not in response.content.decode()


def test_my_access_never_explains_someone_else(client, workspace, owner):
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    owner_membership = owner.memberships.get(workspace=workspace)
    response = client.get(_url(workspace, "mine", member=owner_membership.pk))
    assert response.status_code == 200 and response.context["subject"] == member
    client.force_login(owner)
    response = client.get(_url(workspace, "mine", member=member.pk))
    assert response.context["subject"].user == owner


def test_my_access_offers_only_places_one_sees(client, workspace, shop):
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    assert client.get(_url(workspace, "mine", target=f"site:{shop.pk}")).status_code == 404
    team_add_member(actor=None, team=workspace.teams.get(name="Growth"), membership=member)
    response = client.get(_url(workspace, "mine", target=f"site:{shop.pk}"))
    assert response.status_code == 200
    assert "team Growth: Editor" in response.content.decode()


def test_my_access_is_404_outside_the_workspace(client, workspace):
    client.force_login(UserFactory())
    assert client.get(_url(workspace, "mine")).status_code == 404
    client.logout()
    assert client.get(_url(workspace, "mine")).status_code == 302  # to sign-in


def test_a_member_without_view_members_is_not_told_team_names(client, workspace, shop):
    billing = add_member(workspace, catalog.BILLING_ADMIN)
    site_grant_set(actor=None, site=shop, membership=billing, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE))
    client.force_login(billing.user)
    response = client.get(_url(workspace, "mine", target=f"site:{shop.pk}"))
    assert response.status_code == 200
    assert "Growth" not in response.content.decode()
    assert _missing(response)["add_dashboards"][-1] == "a team's grant on Shop gives it there (by joining the team)"


@pytest.mark.parametrize("size", [2, 40])
def test_my_access_query_count_is_fixed(client, workspace, shop, django_assert_num_queries, size):
    member = add_member(workspace, catalog.MEMBER)
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    for n in range(size):
        team = make_team(workspace, f"Team {n:03}")
        site_grant_set(actor=None, site=shop, team=team, role=editor)
        role_save(
            actor=None,
            workspace=workspace,
            scope=catalog.SITE,
            name=f"Role {n}",
            capabilities={"view_site"},
            site_capabilities=set(),
        )
    team_add_member(actor=None, team=workspace.teams.get(name="Growth"), membership=member)
    client.force_login(member.user)
    # session, user, membership, capabilities, the member, the site asked about, the place picker's
    # sites and experiences (2), own and team grants (4), stored permissions, roles (3), teams' grants (2)
    with django_assert_num_queries(18):
        response = client.get(_url(workspace, "mine", target=f"site:{shop.pk}"))
    assert len(_missing(response)["delete_site"]) == 1
