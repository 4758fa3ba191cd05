"""The teams pages at scale: the teams list and a team's members searched and paged in the URL, the
team's grants paged, no control that lists every member or site (a member is added by address, the
grant form offers the sites of a site search), a cost that does not grow with teams, members, sites
or grants, and hostile parameters that never break a page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.models import SiteGrant
from workspaces.sites.services import site_grant_set
from workspaces.teams.selectors import GRANTS_SHOWN
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db

EDITOR = "editor"


def url(name, workspace, *args):
    return reverse(f"teams:{name}", args=[workspace.slug, *args])


def get(client, user, target, params=None):
    client.force_login(user)
    return client.get(target, params or {})


def team_names(response) -> list[str]:
    return [team.name for team in response.context["teams_pager"]["page"]]


def member_emails(response) -> list[str]:
    return [link.membership.user.email for link in response.context["members_pager"]["page"]]


def grant(site, team):
    return site_grant_set(actor=None, site=site, team=team, role=builtin_role(EDITOR, catalog.SITE))


def person(workspace, name, email):
    return add_member(workspace, catalog.MEMBER, user=UserFactory(full_name=name, email=email))


# --- the teams list -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [("ops", ["DevOps", "Ops"]), ("OPS", ["DevOps", "Ops"]), ("  design ", ["Design"]), ("nobody", [])],
)
def test_teams_are_searched_by_name(client, workspace, owner, q, expected):
    for name in ("Design", "DevOps", "Ops", "Sales"):
        make_team(workspace, name)
    response = get(client, owner, url("index", workspace), {"q": q})
    assert team_names(response) == expected
    if not expected:
        assert "No team's name contains “nobody”." in response.content.decode()


def test_teams_are_paged_and_the_links_keep_the_search(client, workspace, owner):
    for n in range(55):
        make_team(workspace, f"Squad {n:02d}")
    make_team(workspace, "Other")
    first = get(client, owner, url("index", workspace), {"q": "squad"})
    assert team_names(first) == [f"Squad {n:02d}" for n in range(50)]
    html = first.content.decode()
    assert "?q=squad&amp;page=2" in html and 'value="squad"' in html and "(55 teams)" in html
    second = get(client, owner, url("index", workspace), {"q": "squad", "page": 2})
    assert team_names(second) == [f"Squad {n:02d}" for n in range(50, 55)]


def test_the_list_names_a_few_grants_and_counts_them_all(client, workspace, owner):
    team = make_team(workspace, "Growth")
    make_team(workspace, "Quiet")
    for n in range(GRANTS_SHOWN + 2):
        grant(make_site(workspace, f"Site {n}"), team)
    for _ in range(3):
        team_add_member(actor=None, team=team, membership=add_member(workspace))
    response = get(client, owner, url("index", workspace))
    listed = {t.name: t for t in response.context["teams_pager"]["page"]}
    assert listed["Growth"].member_count == 3 and listed["Growth"].grant_count == GRANTS_SHOWN + 2
    assert len(listed["Growth"].first_grants) == GRANTS_SHOWN
    assert listed["Quiet"].member_count == 0 and listed["Quiet"].grant_count == 0
    html = response.content.decode()
    assert f"{GRANTS_SHOWN + 2} in all" in html and "Site 0: Editor" in html and "Site 4: Editor" not in html


# --- a team's members and grants ------------------------------------------------------------------


@pytest.fixture
def crew(workspace):
    team = make_team(workspace, "Crew")
    people = {
        "ada": person(workspace, "Ada Lovelace", "ada@engines.test"),
        "alan": person(workspace, "Alan Turing", "alan@bletchley.test"),
        "grace": person(workspace, "Grace Hopper", "grace@navy.test"),
    }
    for membership in people.values():
        team_add_member(actor=None, team=team, membership=membership)
    person(workspace, "Adam Outsider", "adam@out.test")  # a member of the workspace, not of the team
    return team


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("a", ["ada@engines.test", "alan@bletchley.test", "grace@navy.test"]),
        ("ADA", ["ada@engines.test"]),  # not Adam: he is not in the team
        ("navy.test", ["grace@navy.test"]),
        ("nobody", []),
    ],
)
def test_a_teams_members_are_searched_by_name_or_address(client, workspace, owner, crew, q, expected):
    response = get(client, owner, url("detail", workspace, crew.pk), {"q": q})
    assert member_emails(response) == expected


def test_a_teams_members_and_grants_are_paged_separately(client, workspace, owner):
    team = make_team(workspace, "Big")
    for n in range(53):
        team_add_member(actor=None, team=team, membership=person(workspace, f"P {n:02d}", f"p{n:02d}@x.test"))
    for n in range(52):
        grant(make_site(workspace, f"Site {n:02d}"), team)
    response = get(client, owner, url("detail", workspace, team.pk), {"page": 2, "gpage": 2})
    assert member_emails(response) == ["p50@x.test", "p51@x.test", "p52@x.test"]
    assert [g.site.name for g in response.context["grants_pager"]["page"]] == ["Site 50", "Site 51"]
    html = response.content.decode()
    assert "?page=2&amp;gpage=1" in html and "?page=1&amp;gpage=2" in html  # each keeps the other's page


def test_the_grant_form_offers_the_sites_of_the_search_and_accepts_any_of_the_workspace(client, workspace, owner):
    team = make_team(workspace, "Growth")
    for n in range(30):
        make_site(workspace, f"Site {n:02d}")
    hidden = make_site(workspace, "Zebra shop")
    page = get(client, owner, url("detail", workspace, team.pk))
    offered = [site.name for site in page.context["sites_offered"]]
    assert len(offered) == 20 and "Zebra shop" not in offered and page.context["more_sites"]
    assert "the first 20; search to find another" in page.content.decode()
    found = get(client, owner, url("detail", workspace, team.pk), {"site_q": "zebra"})
    assert [site.name for site in found.context["sites_offered"]] == ["Zebra shop"]
    assert f'<option value="{hidden.pk}"' in found.content.decode()
    assert not found.context["more_sites"]
    # a site not offered on this page is still a site of the workspace: accepted
    data = {"grant-site": hidden.pk, "grant-role": builtin_role(EDITOR, catalog.SITE).pk}
    client.post(url("grant_set", workspace, team.pk), data)
    assert SiteGrant.objects.filter(team=team, site=hidden).exists()
    nothing = get(client, owner, url("detail", workspace, team.pk), {"site_q": "nothing"})
    assert "No site of this workspace matches “nothing”." in nothing.content.decode()


def test_the_team_page_lists_nobody_outside_the_team(client, workspace, owner):
    team = make_team(workspace, "Growth")
    outsiders = [person(workspace, f"Out {n}", f"out{n}@x.test") for n in range(5)]
    html = get(client, owner, url("detail", workspace, team.pk)).content.decode()
    assert not any(m.user.email in html for m in outsiders)
    assert 'name="email"' in html


# --- hostile parameters and refusals --------------------------------------------------------------

HOSTILE = [
    {"page": "abc"},
    {"page": "-1"},
    {"page": "0"},
    {"page": "9" * 5000},
    {"page": "99999999999999999999"},
    {"page": "\x00"},
    {"gpage": "\x00", "page": "1e3"},
    {"q": "x" * 10_000},
    {"q": "\x00"},
    {"q": "ada\x00"},
    {"q": "%_%"},
    {"site_q": "\x00" * 3},
    {"site_q": "é" * 10_000},
]


@pytest.mark.parametrize("params", HOSTILE)
def test_hostile_parameters_never_break_the_pages(client, workspace, owner, crew, params):
    make_site(workspace, "Shop")
    assert get(client, owner, url("index", workspace), params).status_code == 200
    assert get(client, owner, url("detail", workspace, crew.pk), params).status_code == 200


def test_refused_roles_and_other_workspaces(client, workspace, crew):
    billing = add_member(workspace, catalog.BILLING_ADMIN).user
    params = {"q": "a", "page": "2"}
    assert get(client, billing, url("index", workspace), params).status_code == 403
    assert get(client, billing, url("detail", workspace, crew.pk), params).status_code == 403
    other = make_workspace(UserFactory(), "Other")
    their_team = make_team(other, "Theirs")
    outsider_of_ours = add_member(other, catalog.ADMIN).user
    assert get(client, outsider_of_ours, url("index", workspace), params).status_code == 404
    member = add_member(workspace, catalog.ADMIN).user
    assert get(client, member, url("detail", workspace, their_team.pk), params).status_code == 404


# --- cost and size --------------------------------------------------------------------------------

# session, user, membership with its workspace, workspace permissions, the count of matching teams,
# a page of teams with their counts, their first grants, the grants' extra capabilities
INDEX_QUERIES = 8
# session, user, membership, the team, workspace permissions, the count and a page of its members,
# the count and a page of its grants and their extra capabilities, the sites the grant form offers,
# the site roles (once: the pickers start at "Choose…", so Django's select need not read its first
# option again to decide on "required")
DETAIL_QUERIES = 12


def fill(workspace, size: int):
    """``size`` teams, members and sites; the first team has every member and a grant on every site."""
    sites = [make_site(workspace, f"Site {n:04d}") for n in range(size)]
    teams = [make_team(workspace, f"Team {n:04d}") for n in range(size)]
    for site in sites:
        grant(site, teams[0])
    grant(sites[0], teams[-1])
    for n in range(size):
        team_add_member(actor=None, team=teams[0], membership=person(workspace, f"P {n:04d}", f"p{n:04d}@x.test"))
    return teams[0]


@pytest.mark.parametrize("size", [4, 55])
@pytest.mark.parametrize("params", [{}, {"q": "0"}, {"page": "2"}])
def test_index_cost_is_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size, params):
    fill(workspace, size)
    client.force_login(owner)
    with django_assert_num_queries(INDEX_QUERIES):
        response = client.get(url("index", workspace), params)
    assert response.status_code == 200 and response.context["teams_pager"]["page"].object_list


@pytest.mark.parametrize("size", [4, 55])
@pytest.mark.parametrize("params", [{}, {"q": "p00", "site_q": "site"}, {"page": "2", "gpage": "2"}])
def test_detail_cost_is_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size, params):
    team = fill(workspace, size)
    client.force_login(owner)
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(url("detail", workspace, team.pk), params)
    assert response.status_code == 200
    assert response.context["members_pager"]["page"].object_list
    assert response.context["grants_pager"]["page"].object_list


def test_detail_html_does_not_grow_beyond_a_page(client, workspace, owner):
    team = fill(workspace, 55)
    small = get(client, owner, url("detail", workspace, team.pk)).content.decode()
    for n in range(55, 130):
        team_add_member(actor=None, team=team, membership=person(workspace, f"P {n:04d}", f"p{n:04d}@x.test"))
        grant(make_site(workspace, f"Site {n:04d}"), team)
    large = get(client, owner, url("detail", workspace, team.pk)).content.decode()
    assert abs(len(large) - len(small)) < 100  # the counts and page numbers have more digits
    assert large.count("<option") == small.count("<option")
