"""The access explainer page: every capability a member holds in the workspace, on a site or on an
experience, with where it comes from, agreeing with what the policy answers.

Any member may explain themselves; explaining someone else needs ``manage_site_access``.
Another workspace's member, site or experience is a 404, and the page's query count is fixed.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.policy import Access
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team, make_workspace
from workspaces.experiences.services import collaborator_add
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db


def url(workspace, **query):
    base = reverse("explain:index", args=[workspace.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def login(client, user):
    client.force_login(user)
    return client


def shown(response) -> dict[str, list[str]]:
    """{codename: sources} as the page lists them."""
    return {cap.codename: sources for _, rows in response.context["areas"] for cap, sources in rows}


@pytest.fixture
def setup(workspace, owner):
    """A member with a custom workspace role, an own grant with an extra, a team's grant and a
    collaboration; plus an admin to ask."""
    planner = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Planner",
        capabilities={"add_experience", "view_members"},
        site_capabilities={"view_site", "view_performance"},
    )
    site = make_site(workspace, "Shop")
    member = add_member(workspace, planner, user=UserFactory(email="pat@acme.test", full_name="Pat Planner"))
    site_grant_set(
        actor=None, site=site, membership=member, role=builtin_role("site_viewer", catalog.SITE), extra={"tag_comments"}
    )
    team = make_team(workspace, "Growth")
    team_add_member(actor=None, team=team, membership=member)
    site_grant_set(actor=None, site=site, team=team, role=builtin_role("editor", catalog.SITE))
    experience = make_experience(workspace, creator=owner, title="Launch")
    collaborator_add(actor=owner, experience=experience, membership=member)
    return {
        "member": member,
        "site": site,
        "experience": experience,
        "admin": add_member(workspace, catalog.ADMIN).user,
    }


def test_site_sources_are_shown_and_agree_with_access(client, workspace, setup):
    member, site = setup["member"], setup["site"]
    response = login(client, setup["admin"]).get(url(workspace, member=member.pk, target=f"site:{site.pk}"))
    assert response.status_code == 200
    sources = shown(response)
    assert set(sources) == set(Access(member.user).perms(site))
    assert sources["view_site"] == ["workspace role Planner", "own grant: Site viewer", "team Growth: Editor"]
    assert sources["tag_comments"] == ["own grant: extra capability"]
    assert sources["add_dashboards"] == ["team Growth: Editor"]
    assert response.context["in_sync"] is True
    page = response.content.decode()
    assert "Pat Planner" in page and "team Growth: Editor" in page and "own grant: extra capability" in page
    assert "do not match" not in page
    for area in {catalog.CAPABILITIES[code].area for code in sources}:
        assert area in page


def test_experience_and_workspace_sources(client, workspace, setup):
    member, experience = setup["member"], setup["experience"]
    client = login(client, setup["admin"])
    response = client.get(url(workspace, member=member.pk, target=f"experience:{experience.pk}"))
    sources = shown(response)
    assert set(sources) == set(Access(member.user).perms(experience)) == catalog.COLLABORATOR_CAPABILITIES
    assert all(found == ["collaborator"] for found in sources.values())
    response = client.get(url(workspace, member=member.pk, target="workspace"))
    sources = shown(response)
    assert set(sources) == set(Access(member.user).perms(workspace))
    assert sources["add_experience"] == ["workspace role Planner"]


def test_the_page_says_when_the_stored_permissions_disagree(client, workspace, setup):
    from permissions.models import SiteUserPermission

    member, site = setup["member"], setup["site"]
    SiteUserPermission.objects.filter(user=member.user, content_object=site).delete()  # drift
    response = login(client, setup["admin"]).get(url(workspace, member=member.pk, target=f"site:{site.pk}"))
    assert response.context["in_sync"] is False
    assert "sync_permissions" in response.content.decode()


def test_any_member_may_explain_themselves_only(client, workspace, setup, owner):
    member, site = setup["member"], setup["site"]
    client = login(client, member.user)
    response = client.get(url(workspace, target=f"site:{site.pk}"))
    assert response.status_code == 200 and response.context["subject"] == member
    assert set(shown(response)) == set(Access(member.user).perms(site))
    page = response.content.decode()
    assert response.context["member_picker"] is None  # no member picker: only oneself
    assert 'name="member_q"' not in page and 'type="radio" name="member"' not in page
    assert f'<input type="hidden" name="member" value="{member.pk}">' in page
    # Another member of the same workspace: 403.
    owner_membership = owner.memberships.get(workspace=workspace)
    assert client.get(url(workspace, member=owner_membership.pk, target="workspace")).status_code == 403


def test_members_see_only_the_places_they_can_see(client, workspace, setup):
    hidden = make_site(workspace, "Hidden")
    viewer = add_member(workspace, catalog.MEMBER)
    client = login(client, viewer.user)
    response = client.get(url(workspace))
    assert response.status_code == 200 and "areas" not in response.context
    offered = [choice.value for choice in response.context["place_picker"].choices]
    assert offered[0] == "workspace" and not any(value.startswith("site:") for value in offered)  # no site
    assert "Hidden" not in response.content.decode()
    assert client.get(url(workspace, target=f"site:{hidden.pk}")).status_code == 404


def test_other_workspaces_members_and_places_are_404(client, workspace, setup):
    other = make_workspace(name="Other")
    their_member = add_member(other)
    their_site, their_experience = make_site(other, "Theirs"), make_experience(other)
    client = login(client, setup["admin"])
    for query in (
        {"member": their_member.pk, "target": "workspace"},
        {"member": "abc", "target": "workspace"},
        {"target": f"site:{their_site.pk}"},
        {"target": f"experience:{their_experience.pk}"},
        {"target": "site:nonsense"},
    ):
        assert client.get(url(workspace, **query)).status_code == 404, query
    assert client.get(url(other)).status_code == 404
    assert login(client, UserFactory()).get(url(workspace)).status_code == 404


def test_every_member_finds_my_access_in_the_nav(client, workspace, setup):
    link = f'href="{reverse("explain:mine", args=[workspace.slug])}"'
    detail = reverse("workspaces:detail", args=[workspace.slug])
    assert link in login(client, setup["admin"]).get(detail).content.decode()
    assert link in login(client, setup["member"].user).get(detail).content.decode()


# session, user, membership with its workspace, workspace permissions, the member and the site
# asked about (2), the pickers' matches: members, sites, experiences (3), grants with their role
# capabilities and extras (4), the stored permissions; a built-in role's capabilities come from the
# catalog. "Why not": the workspace's roles with their capabilities (3),
# the teams' grants on the site with their extras (2)
SITE_QUERIES = 21


@pytest.mark.parametrize("size", [3, 60])
def test_query_count_is_fixed(client, workspace, setup, django_assert_num_queries, size):
    member, site = setup["member"], setup["site"]
    editor = builtin_role("editor", catalog.SITE)
    for n in range(size):
        team = make_team(workspace, f"Team {n:03}")
        team_add_member(actor=None, team=team, membership=member)
        site_grant_set(actor=None, site=site, team=team, role=editor, extra={"tag_comments"})
        add_member(workspace)
        make_site(workspace, f"Site {n}")
    client = login(client, setup["admin"])
    with django_assert_num_queries(SITE_QUERIES):
        response = client.get(url(workspace, member=member.pk, target=f"site:{site.pk}"))
    assert response.context["in_sync"] is True
    assert len(shown(response)["view_site"]) == size + 3


# --- the pickers at scale --------------------------------------------------------------------------


def crowd(workspace, size: int) -> None:
    """``size`` more members, ``size // 5`` sites and ``size // 15`` experiences, named in order."""
    for n in range(size):
        add_member(workspace, user=UserFactory(full_name=f"Person {n:05d}", email=f"p{n:05d}@x.test"))
    for n in range(size // 5):
        make_site(workspace, f"Site {n:05d}")
    for n in range(size // 15):
        make_experience(workspace, title=f"Experience {n:05d}")


def radios(page: str, field: str) -> int:
    return page.count(f'type="radio" name="{field}"')


PICKER_QUERIES = SITE_QUERIES  # the pickers read at most 21 rows each, whatever the size


@pytest.mark.parametrize("size", [5, 300])
def test_pickers_cost_and_size_do_not_grow(client, workspace, setup, django_assert_num_queries, size):
    crowd(workspace, size)
    member, site = setup["member"], setup["site"]
    client = login(client, setup["admin"])
    with django_assert_num_queries(PICKER_QUERIES):
        response = client.get(url(workspace, member=member.pk, target=f"site:{site.pk}"))
    page = response.content.decode()
    assert radios(page, "member") <= 20 and radios(page, "target") <= 20
    assert page.count("<select") == 1  # the capability only: no list of members or sites
    assert f'value="{member.pk}" checked' in page and f'value="site:{site.pk}" checked' in page
    assert ("picker-more" in page) is (size == 300)


def test_a_chosen_member_and_place_far_down_the_lists_stay_chosen(client, workspace, setup):
    crowd(workspace, 60)
    last = workspace.memberships.get(user__email="p00059@x.test")
    far_site = workspace.sites.get(name="Site 00011")
    page = (
        login(client, setup["admin"]).get(url(workspace, member=last.pk, target=f"site:{far_site.pk}")).content.decode()
    )
    assert f'name="member" value="{last.pk}" checked' in page
    assert f'name="target" value="site:{far_site.pk}" checked' in page
    assert radios(page, "member") <= 20 and radios(page, "target") <= 20


def test_the_pickers_find_by_name_and_keep_the_page(client, workspace, setup):
    crowd(workspace, 60)
    client = login(client, setup["admin"])
    response = client.get(
        url(workspace, member=setup["member"].pk, member_q="p00042", target_q="00011", capability="view_site")
    )
    members = [choice.label for choice in response.context["member_picker"].choices]
    assert members == ["Pat Planner", "Person 00042"]  # the chosen member stays first
    places = [choice.label for choice in response.context["place_picker"].choices]
    assert places == ["The workspace itself", "Site 00011"]
    page = response.content.decode()
    assert '<input type="hidden" name="capability" value="view_site">' in page  # a search keeps it
    experience = make_experience(workspace, title="Autumn sale")
    places = client.get(url(workspace, target_q="autumn")).context["place_picker"].choices
    assert [choice.value for choice in places] == ["workspace", f"experience:{experience.pk}"]


def test_the_member_picker_fragment_is_only_for_those_who_may_explain_others(client, workspace, setup):
    admin_fragment = login(client, setup["admin"]).get(url(workspace, picker="member", member_q="pat"))
    assert "Pat Planner" in admin_fragment.content.decode() and "<h1>" not in admin_fragment.content.decode()
    own = login(client, setup["member"].user).get(url(workspace, picker="member", member_q="a"))
    assert "<h1>Explain access</h1>" in own.content.decode()  # the page, not a list of members
    assert 'type="radio" name="member"' not in own.content.decode()
    places = login(client, setup["member"].user).get(url(workspace, picker="target")).content.decode()
    assert "<h1>" not in places and 'value="workspace"' in places


@pytest.mark.parametrize(
    "query",
    [
        {"member_q": "%00", "target_q": "\u202e" * 500},
        {"target": "site:99999999999999999999999"},
        {"target": "experience:-1"},
        {"target": "site:"},
        {"member": "99999999999999999999999"},
        {"member": "-3"},
    ],
)
def test_hostile_parameters_never_break_the_page(client, workspace, setup, query):
    response = login(client, setup["admin"]).get(reverse("explain:index", args=[workspace.slug]), query)
    assert response.status_code in (200, 404)
    assert response.status_code == 200 or "member_q" not in query
