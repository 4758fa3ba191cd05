"""Viewer groups at scale: the groups searched by name and paged, a group's addresses searched and
paged, its experiences paged, each in the URL; a cost that does not grow with the groups, addresses or
experiences, refusals with search parameters, and hostile parameters that never break a page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from tests.factories import UserFactory, add_member, make_experience, make_workspace
from workspaces.experiences.services import experience_publish
from workspaces.viewer_groups.services import viewer_group_create, viewer_group_members_add

pytestmark = pytest.mark.django_db


def url(workspace, name="index", *args):
    return reverse(f"viewer_groups:{name}", args=[workspace.slug, *args])


def get(client, user, target, params=None):
    client.force_login(user)
    return client.get(target, params or {})


def group_names(response) -> list[str]:
    return [group.name for group in response.context["groups_pager"]["page"]]


def addresses(response) -> list[str]:
    return [member.email for member in response.context["addresses_pager"]["page"]]


@pytest.fixture
def press(workspace, owner):
    group = viewer_group_create(actor=owner, workspace=workspace, name="Press")
    viewer_group_members_add(
        actor=owner, group=group, emails=["ada@papers.test", "alan@radio.test", "grace@papers.test"]
    )
    return group


@pytest.mark.parametrize(
    ("q", "expected"),
    [("press", ["Press", "Press abroad"]), ("ABROAD", ["Press abroad"]), ("board", ["Board"]), ("zzz", [])],
)
def test_groups_are_searched_by_name(client, workspace, owner, press, q, expected):
    for name in ("Board", "Press abroad"):
        viewer_group_create(actor=owner, workspace=workspace, name=name)
    response = get(client, owner, url(workspace), {"q": q})
    assert group_names(response) == expected
    if not expected:
        assert "No viewer group's name contains “zzz”." in response.content.decode()


def test_groups_are_paged_with_their_counts(client, workspace, owner, press):
    for n in range(52):
        viewer_group_create(actor=owner, workspace=workspace, name=f"Club {n:02d}")
    experience = make_experience(workspace, creator=owner)
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[press])
    first = get(client, owner, url(workspace))
    assert len(group_names(first)) == 50 and "?page=2" in first.content.decode()
    last = get(client, owner, url(workspace), {"page": "2"})
    assert group_names(last) == ["Club 50", "Club 51", "Press"]
    counted = last.context["groups_pager"]["page"][2]
    assert (counted.address_count, counted.experience_count) == (3, 1)


@pytest.mark.parametrize(
    ("q", "expected"),
    [("papers", ["ada@papers.test", "grace@papers.test"]), ("ALAN", ["alan@radio.test"]), ("nobody", [])],
)
def test_a_groups_addresses_are_searched(client, workspace, owner, press, q, expected):
    response = get(client, owner, url(workspace, "detail", press.pk), {"q": q})
    assert addresses(response) == expected


def test_a_groups_addresses_and_experiences_are_paged_separately(client, workspace, owner, press):
    viewer_group_members_add(actor=owner, group=press, emails=[f"r{n:02d}@x.test" for n in range(50)])
    for n in range(52):
        experience = make_experience(workspace, creator=owner, title=f"Film {n:02d}")
        experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[press])
    response = get(client, owner, url(workspace, "detail", press.pk), {"page": "2", "epage": "2"})
    assert addresses(response) == ["r47@x.test", "r48@x.test", "r49@x.test"]
    assert [e.title for e in response.context["experiences_pager"]["page"]] == ["Film 50", "Film 51"]
    html = response.content.decode()
    assert "?page=1&amp;epage=2" in html and "?page=2&amp;epage=1" in html


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "-1"},
        {"page": "9" * 5000},
        {"page": "\x00"},
        {"epage": "1e9"},
        {"q": "x" * 10_000},
        {"q": "\x00"},
        {"q": "ada\x00"},
        {"q": "%_"},
    ],
)
def test_hostile_parameters_never_break_the_pages(client, workspace, owner, press, params):
    assert get(client, owner, url(workspace), params).status_code == 200
    assert get(client, owner, url(workspace, "detail", press.pk), params).status_code == 200


def test_refused_roles_and_other_workspaces(client, workspace, press):
    params = {"q": "a", "page": "2"}
    viewer = add_member(workspace, catalog.VIEWER).user
    assert get(client, viewer, url(workspace), params).status_code == 403
    assert get(client, viewer, url(workspace, "detail", press.pk), params).status_code == 403
    other = make_workspace(UserFactory(), "Other")
    theirs = viewer_group_create(actor=None, workspace=other, name="Theirs")
    member = add_member(workspace, catalog.MEMBER).user  # may manage viewer groups here
    assert get(client, member, url(workspace, "detail", theirs.pk), params).status_code == 404
    assert get(client, member, url(other), params).status_code == 404


# --- cost ---------------------------------------------------------------------------------------

# session, user, membership with its workspace, workspace permissions, the count and a page of groups
# with their counts
INDEX_QUERIES = 6
# session, user, membership with its workspace, workspace permissions, the group, the count and a page
# of its addresses, the count and a page of its experiences
DETAIL_QUERIES = 9


@pytest.mark.parametrize("size", [5, 120])
@pytest.mark.parametrize("params", [{}, {"q": "1", "page": "2"}])
def test_index_cost_is_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size, params):
    for n in range(size):
        group = viewer_group_create(actor=None, workspace=workspace, name=f"Group {n:03}")
        viewer_group_members_add(actor=None, group=group, emails=[f"p{n}@example.com", f"q{n}@example.com"])
    client.force_login(owner)
    with django_assert_num_queries(INDEX_QUERIES):
        response = client.get(url(workspace), params)
    assert group_names(response)


@pytest.mark.parametrize("size", [5, 120])
@pytest.mark.parametrize("params", [{}, {"q": "person", "page": "2", "epage": "2"}])
def test_detail_cost_is_the_same_at_any_size(client, workspace, owner, press, django_assert_num_queries, size, params):
    viewer_group_members_add(actor=None, group=press, emails=[f"person{n}@example.com" for n in range(size)])
    for n in range(size // 10 + 1):
        experience = make_experience(workspace, title=f"Film {n}")
        experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[press])
    client.force_login(owner)
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(url(workspace, "detail", press.pk), params)
    assert addresses(response) and response.context["experiences_pager"]["page"].object_list
    html = response.content.decode()
    assert html.count('aria-label="Remove ') == len(addresses(response)) <= 50
