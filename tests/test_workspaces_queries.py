"""The home and workspace pages cost the same number of queries with 2 and with 50 sites and
experiences, for an Owner (sees everything) and a Member (sees through grants and collaboration)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import add_member, make_experience, make_site, make_workspace
from workspaces.models import Membership
from workspaces.overview.views import RECENT_EXPERIENCES
from workspaces.sites.services import site_grant_set

pytestmark = pytest.mark.django_db

# session, user, memberships with workspace and role, visible-site counts
HOME_QUERIES = 4
# session, user, membership with its workspace, workspace permissions, sites with owners,
# experiences with site and creator, their collaborators with users, the sites the person owns
# (the Leave form asks for their successor), and for an owner the number of active owners (the
# last owner cannot leave)
DETAIL_QUERIES = {"owner": 9, "member": 8}


def fill(workspace, size: int) -> Membership:
    """``size`` sites and experiences; a Member with a grant on every site who collaborates on all."""
    member = add_member(workspace, catalog.MEMBER)
    editor = builtin_role("editor", catalog.SITE)
    for n in range(size):
        site = make_site(workspace, f"Site {n}")
        site_grant_set(actor=None, site=site, role=editor, membership=member)
        make_experience(workspace, creator=member.user, title=f"Experience {n}")
    return member


@pytest.mark.parametrize("size", [2, 50])
def test_home_query_count_does_not_grow(client, workspace, owner, django_assert_num_queries, size):
    member = fill(workspace, size)
    for n in range(size // 10 + 1):
        make_workspace(member.user, f"Side project {n}")
    client.force_login(member.user)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    counts = {m.workspace.name: count for m, count in response.context["rows"]}
    assert counts["Acme"] == size
    assert len(counts) == size // 10 + 2


@pytest.mark.parametrize("size", [2, 50])
@pytest.mark.parametrize("who", ["owner", "member"])
def test_workspace_page_query_count_does_not_grow(client, workspace, owner, django_assert_num_queries, size, who):
    member = fill(workspace, size)
    client.force_login(owner if who == "owner" else member.user)
    with django_assert_num_queries(DETAIL_QUERIES[who]):
        response = client.get(reverse("workspaces:detail", args=[workspace.slug]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('href="/w/acme/sites/site-') == min(size, 10)  # the sites list has the rest
    shown = min(size, RECENT_EXPERIENCES)  # the latest; the experiences page lists them all
    assert len(re.findall(r'href="/w/acme/experiences/\d+/"', page)) == shown
    assert page.count(member.user.display_name) >= shown  # every experience names its collaborator
