"""GET /api/v1/members/<email>/permissions (docs/RULES.md 5.1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog, member_permissions
from permissions.keys import key_create
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team, make_workspace
from workspaces.models import Site
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def url(email: str) -> str:
    return f"/api/v1/members/{email}/permissions"


@pytest.fixture
def raw_key(workspace):
    return key_create(actor=None, workspace=workspace, name="Dashboards")[1]


def test_url_is_the_contract():
    assert reverse("api:member_permissions", args=["a@b.c"]) == url("a@b.c")


def test_owner_holds_everything_everywhere(client, raw_key, workspace, owner):
    shop, blog = make_site(workspace, "Shop"), make_site(workspace, "Blog")
    experience = make_experience(workspace, creator=owner)
    response = client.get(url(owner.email), **bearer(raw_key))
    assert response.status_code == 200
    assert response.json() == {
        "workspace": sorted(catalog.codenames(catalog.WORKSPACE)),
        "sites": {
            shop.slug: sorted(catalog.codenames(catalog.SITE)),
            blog.slug: sorted(catalog.codenames(catalog.SITE)),
        },
        "experiences": {str(experience.pk): sorted(catalog.codenames(catalog.EXPERIENCE))},
        "next": None,
    }


def test_member_lists_only_what_they_hold(client, raw_key, workspace, owner):
    shop, blog = make_site(workspace, "Shop"), make_site(workspace, "Blog")
    make_site(workspace, "Docs")
    member = add_member(workspace, catalog.MEMBER)
    site_grant_set(actor=None, site=shop, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), membership=member)
    team = make_team(workspace, "Growth")
    team_add_member(actor=None, team=team, membership=member)
    site_grant_set(actor=None, site=blog, role=builtin_role(catalog.EDITOR, catalog.SITE), team=team)
    theirs = make_experience(workspace, creator=member.user, title="Theirs")
    not_theirs = make_experience(workspace, creator=owner, title="Not theirs")
    response = client.get(url(member.user.email.upper()), **bearer(raw_key))
    assert response.status_code == 200
    body = response.json()
    member_role = next(r for r in catalog.BUILTIN_WORKSPACE_ROLES if r.key == catalog.MEMBER)
    assert body["workspace"] == sorted(member_role.capabilities)
    site_viewer = next(r for r in catalog.BUILTIN_SITE_ROLES if r.key == catalog.SITE_VIEWER)
    editor = next(r for r in catalog.BUILTIN_SITE_ROLES if r.key == catalog.EDITOR)
    assert body["sites"] == {"shop": sorted(site_viewer.capabilities), "blog": sorted(editor.capabilities)}
    # A Member sees every experience and its analytics (view_all_analytics), and changes only theirs.
    assert body["experiences"] == {
        str(theirs.pk): sorted(catalog.COLLABORATOR_CAPABILITIES),
        str(not_theirs.pk): sorted(catalog.EXPERIENCE_CAPABILITIES_FROM_WORKSPACE["view_all_analytics"]),
    }


def test_billing_admin_has_no_sites_or_experiences(client, raw_key, workspace, owner):
    make_site(workspace, "Shop")
    make_experience(workspace, creator=owner)
    billing = add_member(workspace, catalog.BILLING_ADMIN).user
    body = client.get(url(billing.email), **bearer(raw_key)).json()
    assert body == {
        "workspace": ["manage_billing", "view_workspace", "view_workspace_settings"],
        "sites": {},
        "experiences": {},
        "next": None,
    }


def test_not_a_member_gets_404(client, raw_key, workspace):
    outsider = make_workspace(UserFactory(), "Elsewhere").memberships.get().user
    superuser = UserFactory(is_superuser=True, is_staff=True)
    inactive = add_member(workspace, catalog.ADMIN).user
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    for email in (outsider.email, superuser.email, inactive.email, "nobody@example.com"):
        response = client.get(url(email), **bearer(raw_key))
        assert response.status_code == 404, email
        assert response.json()["error"]


def test_needs_a_key(client, raw_key, owner):
    assert client.get(url(owner.email)).status_code == 401
    assert client.get(url(owner.email), **bearer("pk_guess")).status_code == 401
    assert client.post(url(owner.email), **bearer(raw_key)).status_code == 405


# key, member, workspace permissions, site ids, site permissions, experience ids and permissions
MEMBER_QUERIES = 7


@pytest.mark.parametrize("sites", [2, 12])
def test_query_count_does_not_grow_with_sites(client, raw_key, workspace, owner, django_assert_num_queries, sites):
    viewer = add_member(workspace, catalog.VIEWER).user
    for n in range(sites):
        make_site(workspace, f"Site {n}")
        make_experience(workspace, creator=owner, title=f"E{n}")
    client.get(url(viewer.email), **bearer(raw_key))  # first use records last_used_at
    with django_assert_num_queries(MEMBER_QUERIES):
        body = client.get(url(viewer.email), **bearer(raw_key)).json()
    assert len(body["sites"]) == sites
    assert len(body["experiences"]) == sites


# --- pages: the answer does not grow with the workspace -----------------------------------------------


def max_site_id(body) -> int:
    return max(Site.objects.filter(slug__in=body["sites"]).values_list("id", flat=True))


def walk(client, raw_key, email, limit) -> list[dict]:
    """Every page, following ``next`` from the first."""
    pages, link = [], f"{url(email)}?limit={limit}"
    while link:
        response = client.get(link, **bearer(raw_key))
        assert response.status_code == 200, response.content
        pages.append(response.json())
        link = pages[-1]["next"]
        assert len(pages) < 50
    return pages


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 100])
def test_pages_together_are_the_whole_answer(client, raw_key, workspace, owner, limit):
    for n in range(5):
        make_site(workspace, f"Site {n}")
    for n in range(3):
        make_experience(workspace, creator=owner, title=f"E{n}")
    make_site(make_workspace(UserFactory(), "Elsewhere"), "Theirs")  # never listed
    whole = client.get(url(owner.email), **bearer(raw_key)).json()
    assert whole["next"] is None and len(whole["sites"]) == 5 and len(whole["experiences"]) == 3
    pages = walk(client, raw_key, owner.email, limit)
    sites, experiences = {}, {}
    for page in pages:
        assert len(page["sites"]) + len(page["experiences"]) <= limit
        assert page["workspace"] == whole["workspace"]
        assert not set(page["sites"]) & set(sites) and not set(page["experiences"]) & set(experiences)
        sites.update(page["sites"])
        experiences.update(page["experiences"])
    assert sites == whole["sites"] and experiences == whole["experiences"]
    assert len(pages) == -(-8 // limit)  # no empty last page


def test_pages_list_only_what_the_member_holds(client, raw_key, workspace):
    member = add_member(workspace, catalog.MEMBER)
    sites = [make_site(workspace, f"Site {n}") for n in range(6)]
    for site in sites[1::2]:
        site_grant_set(actor=None, site=site, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), membership=member)
    pages = walk(client, raw_key, member.user.email, 2)
    assert [list(page["sites"]) for page in pages] == [[sites[1].slug, sites[3].slug], [sites[5].slug]]


def test_next_keeps_the_limit_and_the_address(client, raw_key, workspace, owner):
    for n in range(3):
        make_site(workspace, f"Site {n}")
    body = client.get(f"{url(owner.email)}?limit=2", **bearer(raw_key)).json()
    assert body["next"].startswith("/api/v1/members/owner@acme.test/permissions?cursor=site%3A")
    assert body["next"].endswith("&limit=2")
    assert client.get(body["next"]).status_code == 401  # the key is still needed


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "limit=%D9%A3",  # Arabic-Indic three
        "limit=",
        "limit=-5",
        "cursor=abc",
        "cursor=",
        "cursor=site:-1",
        "cursor=planet:3",
        "cursor=site:" + "9" * 40,
        "cursor=experience:99999999999999999999",
        "cursor=site:1%00",
        "limit=" + "9" * 10_000,
    ],
)
def test_bad_page_parameters_are_a_400(client, raw_key, owner, query):
    response = client.get(f"{url(owner.email)}?{query}", **bearer(raw_key))
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_cursor_past_the_end_is_an_empty_last_page(client, raw_key, workspace, owner):
    make_site(workspace, "Shop")
    body = client.get(f"{url(owner.email)}?cursor=experience:{2**62}", **bearer(raw_key)).json()
    assert body["sites"] == {} and body["experiences"] == {} and body["next"] is None
    assert body["workspace"]


# key, member, workspace permissions, the page of sites and what is held on them
FULL_PAGE_QUERIES = 5


@pytest.mark.parametrize("sites", [11, 40])
def test_a_page_costs_the_same_and_weighs_the_same_at_any_size(
    client, raw_key, workspace, owner, django_assert_num_queries, sites
):
    admin = add_member(workspace, catalog.ADMIN).user
    for n in range(sites):
        make_site(workspace, f"Site {n:03d}")
    client.get(url(admin.email), **bearer(raw_key))  # first use records last_used_at
    with django_assert_num_queries(FULL_PAGE_QUERIES):
        response = client.get(f"{url(admin.email)}?limit=5", **bearer(raw_key))
    body = response.json()
    assert len(body["sites"]) == 5 and body["next"]
    per_site = len(response.content) / 5
    assert per_site < 1_000  # five sites' worth, whatever the workspace holds
    with django_assert_num_queries(FULL_PAGE_QUERIES):
        later = client.get(body["next"], **bearer(raw_key))
    assert len(later.json()["sites"]) == 5 and abs(len(later.content) - len(response.content)) < 50


def test_without_parameters_a_page_holds_at_most_the_default(client, raw_key, workspace, owner, monkeypatch):
    monkeypatch.setattr(member_permissions, "PAGE_DEFAULT", 3)
    for n in range(4):
        make_site(workspace, f"Site {n}")
    body = client.get(url(owner.email), **bearer(raw_key)).json()
    assert len(body["sites"]) == 3 and body["next"].endswith("permissions?cursor=site%3A" + str(max_site_id(body)))
