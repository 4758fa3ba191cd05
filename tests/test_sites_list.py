"""The sites list (/w/<slug>/sites/): the sites a person may see, 50 a page by name, searchable by
name or address, with the search and the page in the URL, a cost that does not grow with the sites,
and hostile parameters that never break it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspaces.sites.services import site_grant_set

pytestmark = pytest.mark.django_db


def url(workspace) -> str:
    return reverse("workspaces:site_list", args=[workspace.slug])


def get(client, user, workspace, params=None):
    client.force_login(user)
    return client.get(url(workspace), params or {})


def names(response) -> list[str]:
    return [site.name for site in response.context["sites"]]


@pytest.fixture
def shops(workspace):
    return {
        "shop": make_site(workspace, "Shop", url="https://shop.example.com"),
        "blog": make_site(workspace, "Blog", url="https://words.example.org"),
        "docs": make_site(workspace, "Docs"),
    }


def test_lists_sites_by_name_with_links(client, workspace, owner, shops):
    response = get(client, owner, workspace)
    assert response.status_code == 200
    assert names(response) == ["Blog", "Docs", "Shop"]
    html = response.content.decode()
    assert reverse("workspaces:site_detail", args=[workspace.slug, "shop"]) in html
    assert "https://words.example.org" in html


@pytest.mark.parametrize(
    ("q", "expected"),
    [("sho", ["Shop"]), ("WORDS", ["Blog"]), ("example", ["Blog", "Shop"]), (" docs ", ["Docs"]), ("none", [])],
)
def test_search_by_name_or_address(client, workspace, owner, shops, q, expected):
    response = get(client, owner, workspace, {"q": q})
    assert names(response) == expected
    html = response.content.decode()
    assert 'method="get"' in html and f'value="{q.strip()}"' in html
    if not expected:
        assert "No site matches" in html


def test_a_member_sees_only_the_sites_they_may_see(client, workspace, shops):
    member = add_member(workspace, catalog.MEMBER)
    site_grant_set(
        actor=None, site=shops["docs"], role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), membership=member
    )
    assert names(get(client, member.user, workspace)) == ["Docs"]
    assert names(get(client, member.user, workspace, {"q": "shop"})) == []


def test_pages_keep_one_order_and_the_search(client, workspace, owner):
    twins = [make_site(workspace, "Same name") for _ in range(55)]
    seen = []
    for number in (1, 2):
        response = get(client, owner, workspace, {"q": "same", "page": number})
        seen += [site.pk for site in response.context["sites"]]
    assert seen == sorted(site.pk for site in twins)  # equal names: by id, nobody twice or missing
    first = get(client, owner, workspace, {"q": "same"}).content.decode()
    assert "?q=same&amp;page=2" in first and "Page 1 of 2 (55 sites)" in first


def test_the_workspace_page_shows_the_first_ten_and_links_to_the_list(client, workspace, owner):
    for n in range(12):
        make_site(workspace, f"Site {n:02d}")
    html = get(client, owner, workspace).content.decode()
    page = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert f'href="{url(workspace)}"' in page
    assert "Site 09" in page and "Site 10" not in page
    assert "Site 11" in html


def test_outsiders_get_404(client, workspace, shops):
    assert get(client, UserFactory(), workspace).status_code == 404
    other = make_workspace(UserFactory(), "Other")
    make_site(other, "Theirs")
    response = get(client, add_member(workspace, catalog.ADMIN).user, other, {"q": "theirs"})
    assert response.status_code == 404


def test_another_workspaces_sites_are_never_listed(client, workspace, owner, shops):
    make_site(make_workspace(UserFactory(), "Other"), "Shop elsewhere")
    assert names(get(client, owner, workspace, {"q": "shop"})) == ["Shop"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "٣"},
        {"page": "9" * 5000},
        {"page": "-1"},
        {"page": "\x00"},
        {"q": "\x00"},
        {"q": "shop\x00"},
        {"q": "x" * 10_000},
        {"q": "é" * 10_000},
        {"q": "%_\\'\""},
    ],
)
def test_hostile_parameters_never_break_the_list(client, workspace, owner, shops, params):
    assert get(client, owner, workspace, params).status_code == 200


# session, user, membership with its workspace, workspace permissions, the count, the page with owners
LIST_QUERIES = 6


@pytest.mark.parametrize("size", [3, 60])
@pytest.mark.parametrize("who", ["owner", "member"])
@pytest.mark.parametrize("params", [{}, {"q": "site"}, {"page": "2"}])
def test_cost_is_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size, who, params):
    member = add_member(workspace, catalog.MEMBER)
    viewer_role = builtin_role(catalog.SITE_VIEWER, catalog.SITE)
    for n in range(size):
        site = make_site(workspace, f"Site {n:03d}", url=f"https://site{n}.example.com")
        site_grant_set(actor=None, site=site, role=viewer_role, membership=member)
    client.force_login(owner if who == "owner" else member.user)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(url(workspace), params)
    assert response.status_code == 200
    second_page = params.get("page") == "2" and size > 50  # a page past the last shows the last
    assert len(response.context["sites"]) == (size - 50 if second_page else min(size, 50))


@pytest.mark.parametrize("params", [{}, {"q": "site"}])
def test_html_does_not_grow_beyond_a_page(client, workspace, owner, params):
    for n in range(55):
        make_site(workspace, f"Site {n:03d}")
    small = get(client, owner, workspace, params).content.decode()
    for n in range(55, 130):
        make_site(workspace, f"Site {n:03d}")
    large = get(client, owner, workspace, params).content.decode()
    assert abs(len(large) - len(small)) < 100  # the counts and page numbers have more digits
