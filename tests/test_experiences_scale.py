"""The experiences page at scale: the experiences a person may see, searched by title, filtered by
status and paged in the URL, each naming its first collaborators; the workspace page shows the latest
few and links to it. The cost does not grow with the experiences or their collaborators, hidden
experiences stay hidden from any search, and hostile parameters never break the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_experience, make_workspace
from workspaces.experiences.services import collaborator_add, experience_publish
from workspaces.models import Experience
from workspaces.overview.views import RECENT_EXPERIENCES
from workspaces.selectors import COLLABORATORS_SHOWN

pytestmark = pytest.mark.django_db


def list_url(workspace):
    return reverse("workspaces:experience_list", args=[workspace.slug])


def get(client, user, workspace, params=None):
    client.force_login(user)
    return client.get(list_url(workspace), params or {})


def titles(response) -> list[str]:
    return [e.title for e in response.context["experiences_pager"]["page"]]


@pytest.fixture
def shelf(workspace, owner):
    """Three experiences, changed in this order (the list shows the latest first); one published."""
    made = [make_experience(workspace, creator=owner, title=t) for t in ("Spring launch", "Onboarding", "Spring sale")]
    experience_publish(actor=owner, experience=made[1], published=True)
    return made


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Onboarding", "Spring sale", "Spring launch"]),
        ({"q": "spring"}, ["Spring sale", "Spring launch"]),
        ({"q": "  SALE "}, ["Spring sale"]),
        ({"status": "published"}, ["Onboarding"]),
        ({"status": "draft", "q": "launch"}, ["Spring launch"]),
        ({"status": "archived"}, ["Onboarding", "Spring sale", "Spring launch"]),  # unknown status: ignored
        ({"q": "nothing"}, []),
    ],
)
def test_search_by_title_and_status(client, workspace, owner, shelf, params, expected):
    response = get(client, owner, workspace, params)
    assert response.status_code == 200
    assert titles(response) == expected
    if not expected:
        assert "No experience you can see matches this search." in response.content.decode()


def test_pages_keep_the_search(client, workspace, owner):
    for n in range(53):
        make_experience(workspace, creator=owner, title=f"Tour {n:02d}")
    make_experience(workspace, creator=owner, title="Other")
    first = get(client, owner, workspace, {"q": "tour"})
    assert len(titles(first)) == 50 and "Other" not in titles(first)
    assert "?q=tour&amp;page=2" in first.content.decode()
    second = get(client, owner, workspace, {"q": "tour", "page": "2"})
    assert titles(second) == ["Tour 02", "Tour 01", "Tour 00"]


def test_a_search_never_finds_what_the_person_may_not_see(client, workspace, owner):
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Creator",
        capabilities={"view_workspace", "add_experience"},
    )
    creator = add_member(workspace, role)
    make_experience(workspace, creator=owner, title="Secret plan")
    make_experience(workspace, creator=creator.user, title="My plan")
    response = get(client, creator.user, workspace, {"q": "plan"})
    assert titles(response) == ["My plan"]
    assert "Secret plan" not in response.content.decode()


def test_rows_name_the_first_collaborators_and_count_them_all(client, workspace, owner):
    experience = make_experience(workspace, creator=owner, title="Crowded")
    for n in range(COLLABORATORS_SHOWN + 2):
        member = add_member(workspace, user=UserFactory(full_name=f"Helper {n}"))
        collaborator_add(actor=owner, experience=experience, membership=member)
    html = get(client, owner, workspace).content.decode()
    assert "Olivia Owner" in html and f"Helper {COLLABORATORS_SHOWN - 2}" in html
    assert f"Helper {COLLABORATORS_SHOWN + 1}" not in html
    assert f"({COLLABORATORS_SHOWN + 3} in all)" in html


def test_the_workspace_page_shows_the_latest_and_links_to_the_list(client, workspace, owner):
    for n in range(RECENT_EXPERIENCES + 2):
        make_experience(workspace, creator=owner, title=f"Piece {n:02d}")
    client.force_login(owner)
    response = client.get(reverse("workspaces:detail", args=[workspace.slug]))
    shown = [e.title for e in response.context["experiences"]]
    assert shown == [f"Piece {n:02d}" for n in range(RECENT_EXPERIENCES + 1, 1, -1)]
    assert f'<a href="{list_url(workspace)}">All experiences</a>' in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "-1"},
        {"page": "9" * 5000},
        {"page": "\x00"},
        {"q": "x" * 10_000},
        {"q": "\x00"},
        {"q": "tour\x00"},
        {"status": "\x00"},
        {"status": "d" * 10_000},
        {"q": "%", "status": "published"},
    ],
)
def test_hostile_parameters_never_break_the_page(client, workspace, owner, shelf, params):
    assert get(client, owner, workspace, params).status_code == 200


def test_other_workspaces_and_strangers(client, workspace, shelf):
    stranger = make_workspace(UserFactory(), "Other")
    outsider = add_member(stranger, catalog.OWNER).user
    assert get(client, outsider, workspace, {"q": "spring", "page": "2"}).status_code == 404
    client.logout()
    response = client.get(list_url(workspace), {"q": "spring"})
    assert response.status_code == 302 and "/accounts/" in response["Location"]


# --- cost ---------------------------------------------------------------------------------------

# session, user, membership with its workspace, workspace permissions, the count of matching
# experiences, a page of them with site and creator, their first collaborators
LIST_QUERIES = 7


@pytest.mark.parametrize("size", [3, 55])
@pytest.mark.parametrize("who", ["owner", "member"])
@pytest.mark.parametrize("params", [{}, {"q": "piece", "status": "draft", "page": "2"}])
def test_cost_is_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size, who, params):
    member = add_member(workspace, catalog.MEMBER)
    helpers = [add_member(workspace) for _ in range(size // 30 + 1)]
    for n in range(size):
        experience = make_experience(workspace, creator=member.user, title=f"Piece {n:02d}")
        for helper in helpers:
            collaborator_add(actor=member.user, experience=experience, membership=helper)
    client.force_login(owner if who == "owner" else member.user)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(list_url(workspace), params)
    assert response.status_code == 200 and titles(response)
    assert Experience.objects.count() == size
