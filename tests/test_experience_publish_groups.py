"""The publish form at scale: it offers the viewer groups already chosen and the first 20 others
(by name, or matching ``groups_q``), never a checkbox for every group; any group of the workspace
may still be posted, another workspace's is refused, and the cost does not grow with the groups."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory, make_experience, make_workspace
from workspaces.experiences.services import experience_publish
from workspaces.models import ViewerGroup

pytestmark = pytest.mark.django_db


def url(workspace, experience, **query):
    base = reverse("workspaces:experience_publish", args=[workspace.slug, experience.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def groups(workspace, count: int, start: int = 0) -> list[ViewerGroup]:
    return ViewerGroup.objects.bulk_create(
        ViewerGroup(workspace=workspace, name=f"Group {n:04d}") for n in range(start, start + count)
    )


def boxes(response) -> int:
    return response.content.decode().count('name="viewer_groups"')


def test_the_boxes_and_the_cost_do_not_grow_with_the_groups(client, workspace, owner):
    experience = make_experience(workspace, creator=owner)
    client.force_login(owner)
    groups(workspace, 3)
    with CaptureQueriesContext(connection) as small:
        response = client.get(url(workspace, experience))
    assert boxes(response) == 3 and "find a group by name" not in response.content.decode()
    groups(workspace, 200, start=3)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url(workspace, experience))
    assert len(large) == len(small)
    assert boxes(response) == 20 and "find a group by name" in response.content.decode()


def test_chosen_groups_stay_checked_and_a_search_finds_the_others(client, workspace, owner):
    experience = make_experience(workspace, creator=owner)
    made = groups(workspace, 60)
    far = made[55]
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[far])
    client.force_login(owner)
    page = client.get(url(workspace, experience)).content.decode()
    assert "checked" in re.search(rf'<input[^>]*name="viewer_groups"[^>]*value="{far.pk}"[^>]*>', page).group(0)
    assert boxes(client.get(url(workspace, experience))) == 21  # the chosen one and the first 20
    found = client.get(url(workspace, experience, groups_q="0042")).content.decode()
    assert "Group 0042" in found and "Group 0001" not in found and "Group 0055" in found


def test_any_group_of_the_workspace_may_be_posted_but_not_another_workspaces(client, workspace, owner):
    experience = make_experience(workspace, creator=owner)
    made = groups(workspace, 60)
    theirs = ViewerGroup.objects.create(workspace=make_workspace(UserFactory(), "Other"), name="Theirs")
    client.force_login(owner)
    refused = client.post(url(workspace, experience), {"visibility": "restricted", "viewer_groups": [theirs.pk]})
    assert refused.status_code == 200 and "Select a valid choice." in refused.content.decode()
    done = client.post(url(workspace, experience), {"visibility": "restricted", "viewer_groups": [made[59].pk]})
    assert done.status_code == 302
    assert list(experience.viewer_groups.all()) == [made[59]]


@pytest.mark.parametrize("text", ["%00", "\u202e" * 300, "'%20OR%201=1"])
def test_hostile_searches_never_break_the_form(client, workspace, owner, text):
    experience = make_experience(workspace, creator=owner)
    client.force_login(owner)
    assert client.get(url(workspace, experience, groups_q=text)).status_code == 200
