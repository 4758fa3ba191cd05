"""permissions.explain: every capability and where it comes from, agreeing with Access."""

import pytest

from permissions import catalog
from permissions.explain import explain
from permissions.policy import Access
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import add_member, make_experience, make_site, make_team, make_workspace
from workspaces.experiences.services import collaborator_add
from workspaces.models import Membership
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member


@pytest.fixture
def mixed(workspace, owner):
    """A member with a custom workspace role, an own grant, two teams with grants, a collaboration."""
    planner = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Planner",
        capabilities={"add_experience", "view_members"},
        site_capabilities={"view_site", "view_performance"},
    )
    alerts = role_save(
        actor=None, workspace=workspace, scope=catalog.SITE, name="Alerts", capabilities={"configure_alerts"}
    )
    site = make_site(workspace, "Shop")
    other_site = make_site(workspace, "Blog")
    membership = add_member(workspace, planner)
    site_grant_set(
        actor=owner, site=site, membership=membership, role=builtin_role("editor", catalog.SITE), extra={"tag_comments"}
    )
    growth, ops = make_team(workspace, "Growth"), make_team(workspace, "Ops")
    for team in (growth, ops):
        team_add_member(actor=None, team=team, membership=membership)
    site_grant_set(actor=owner, site=site, team=growth, role=builtin_role("site_viewer", catalog.SITE))
    site_grant_set(actor=owner, site=site, team=ops, role=alerts, extra={"modify_thresholds"})
    site_grant_set(actor=owner, site=other_site, team=ops, role=alerts)
    experience = make_experience(workspace, creator=owner)
    collaborator_add(actor=owner, experience=experience, membership=membership)
    membership = Membership.objects.select_related("role", "user").get(pk=membership.pk)
    return {"membership": membership, "site": site, "other_site": other_site, "experience": experience}


def test_site_sources_agree_with_access(mixed):
    membership, site = mixed["membership"], mixed["site"]
    found = explain(membership, site)
    assert set(found) == Access(membership.user).perms(site)
    assert found["view_site"] == ["workspace role Planner", "own grant: Editor", "team Growth: Site viewer"]
    assert found["view_basic_performance"][0] == "workspace role Planner"
    assert found["tag_comments"] == ["own grant: extra capability"]
    assert found["configure_alerts"] == ["team Ops: Alerts"]
    assert found["modify_thresholds"] == ["team Ops: extra capability"]
    assert found["add_highlights"] == ["own grant: Editor", "team Growth: Site viewer"]
    assert list(found) == [c for c in catalog.codenames(catalog.SITE) if c in found]


def test_other_site_only_what_reaches_it(mixed):
    membership, other = mixed["membership"], mixed["other_site"]
    found = explain(membership, other)
    assert set(found) == Access(membership.user).perms(other)
    assert "tag_comments" not in found and "modify_thresholds" not in found
    assert found["configure_alerts"] == ["team Ops: Alerts"]


def test_workspace_and_experience_sources(mixed, workspace):
    membership, experience = mixed["membership"], mixed["experience"]
    assert set(explain(membership, workspace)) == Access(membership.user).perms(workspace)
    assert explain(membership, workspace)["add_experience"] == ["workspace role Planner"]
    found = explain(membership, experience)
    assert set(found) == Access(membership.user).perms(experience) == catalog.COLLABORATOR_CAPABILITIES
    assert found["change_experience"] == ["collaborator"]


def test_viewer_experience_comes_from_role(workspace, owner):
    viewer = add_member(workspace, catalog.VIEWER)
    experience = make_experience(workspace, creator=owner)
    found = explain(viewer, experience)
    assert found == {
        "view_experience": ["workspace role Viewer"],
        "view_experience_analytics": ["workspace role Viewer"],
    }


def test_nothing_elsewhere_or_when_deactivated(mixed):
    membership = mixed["membership"]
    foreign_site = make_site(make_workspace(name="Other"), "Theirs")
    assert explain(membership, foreign_site) == {}
    membership.user.is_active = False
    membership.user.save(update_fields=["is_active"])
    assert explain(membership, mixed["site"]) == {}
    assert Access(membership.user).perms(mixed["site"]) == frozenset()


@pytest.mark.parametrize("teams", [1, 6])
def test_query_count_is_fixed(workspace, owner, django_assert_num_queries, teams):
    site = make_site(workspace)
    membership = add_member(workspace, catalog.MEMBER)
    for n in range(teams):
        team = make_team(workspace, f"Team {n}")
        team_add_member(actor=None, team=team, membership=membership)
        site_grant_set(
            actor=owner, site=site, team=team, role=builtin_role("editor", catalog.SITE), extra={"tag_comments"}
        )
    membership = Membership.objects.select_related("role", "user").get(pk=membership.pk)
    # grants, their role permissions (2), their extra permissions; built-in roles come from the catalog
    with django_assert_num_queries(4):
        found = explain(membership, site)
    assert found["tag_comments"] == [f"team Team {n}: extra capability" for n in range(teams)]
