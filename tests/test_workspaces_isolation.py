"""Rule 5 and the 404/403 split on every workspace, site and experience page.

Another workspace's slugs and ids answer 404 (even to an Owner of this one), outsiders get 404,
members without the capability get 403, and the refused request succeeds once the capability is
there.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from tests.factories import UserFactory, add_member, make_experience, make_site, make_workspace
from workspaces.models import Experience, Site

pytestmark = pytest.mark.django_db

SITE_PAGES = ["site_detail", "site_edit", "site_delete", "site_reset", "site_session_capture"]
EXPERIENCE_PAGES = [
    "experience_detail",
    "experience_edit",
    "experience_publish",
    "experience_unpublish",
    "experience_delete",
]
WORKSPACE_PAGES = ["detail", "site_list", "experience_list", "leave", "delete", "site_create", "experience_create"]


def every_url(workspace_slug: str, site_slug: str, experience_id: int) -> list[str]:
    urls = [reverse(f"workspaces:{name}", args=[workspace_slug]) for name in WORKSPACE_PAGES]
    urls += [reverse(f"workspaces:{name}", args=[workspace_slug, site_slug]) for name in SITE_PAGES]
    urls += [reverse(f"workspaces:{name}", args=[workspace_slug, experience_id]) for name in EXPERIENCE_PAGES]
    return urls


@pytest.fixture
def other():
    """A second workspace with its own owner, site and experience."""
    workspace = make_workspace(UserFactory(), "Other corp")
    return workspace, make_site(workspace, "Other shop"), make_experience(workspace, title="Other launch")


@pytest.fixture
def mine(workspace):
    return make_site(workspace, "Shop"), make_experience(workspace, title="Launch")


def test_every_url_is_covered(workspace, mine):
    from workspaces.overview.urls import urlpatterns

    names = {p.name for p in urlpatterns} - {"create"}
    assert names == set(WORKSPACE_PAGES + SITE_PAGES + EXPERIENCE_PAGES)


def test_another_workspaces_site_and_experience_are_404_even_for_an_owner(client, workspace, owner, mine, other):
    other_ws, other_site, other_exp = other
    client.force_login(owner)
    mixed = [reverse(f"workspaces:{name}", args=[workspace.slug, other_site.slug]) for name in SITE_PAGES]
    mixed += [reverse(f"workspaces:{name}", args=[workspace.slug, other_exp.pk]) for name in EXPERIENCE_PAGES]
    for url in mixed:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "Taken", "title": "Taken", "enabled": "on"}).status_code == 404, url
    assert Site.objects.get(pk=other_site.pk).name == "Other shop"
    assert Experience.objects.get(pk=other_exp.pk).title == "Other launch"


def test_every_url_of_another_workspace_is_404_for_a_non_member(client, workspace, owner, other):
    other_ws, other_site, other_exp = other
    client.force_login(owner)
    for url in every_url(other_ws.slug, other_site.slug, other_exp.pk):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "Taken", "title": "Taken", "enabled": "on"}).status_code == 404, url
    assert Site.objects.filter(workspace=other_ws).count() == 1
    assert Experience.objects.filter(workspace=other_ws).count() == 1
    other_site.refresh_from_db()
    assert not other_site.session_capture


def test_the_same_urls_answer_the_owner_of_that_workspace(client, other):
    """The 404s above are about who asks, not broken URLs."""
    other_ws, other_site, other_exp = other
    client.force_login(other_ws.memberships.get().user)
    for url in every_url(other_ws.slug, other_site.slug, other_exp.pk):
        expected = 405 if url.endswith("session-capture/") else 200  # unpublishing and leaving ask first
        assert client.get(url).status_code == expected, url


def test_unknown_workspace_site_and_experience_are_404(client, workspace, owner, mine):
    client.force_login(owner)
    assert client.get("/w/no-such-place/").status_code == 404
    assert client.get(reverse("workspaces:site_detail", args=[workspace.slug, "nope"])).status_code == 404
    assert client.get(reverse("workspaces:experience_detail", args=[workspace.slug, 999999])).status_code == 404


def test_viewer_gets_403_on_site_and_experience_writes(client, workspace, mine):
    site, experience = mine
    viewer = add_member(workspace, catalog.VIEWER).user
    client.force_login(viewer)
    refused = [
        reverse("workspaces:site_create", args=[workspace.slug]),
        reverse("workspaces:site_edit", args=[workspace.slug, site.slug]),
        reverse("workspaces:site_delete", args=[workspace.slug, site.slug]),
        reverse("workspaces:experience_create", args=[workspace.slug]),
        reverse("workspaces:experience_edit", args=[workspace.slug, experience.pk]),
        reverse("workspaces:experience_publish", args=[workspace.slug, experience.pk]),
        reverse("workspaces:experience_delete", args=[workspace.slug, experience.pk]),
    ]
    for url in refused:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Taken", "title": "Taken", "time_zone": "UTC"}).status_code == 403, url
    session_capture = reverse("workspaces:site_session_capture", args=[workspace.slug, site.slug])
    assert client.post(session_capture, {"enabled": "on"}).status_code == 403
    assert list(Site.objects.values_list("name", flat=True)) == ["Shop"]
    assert list(Experience.objects.values_list("title", flat=True)) == ["Launch"]
    # ...while what a Viewer may do is open.
    assert client.get(reverse("workspaces:site_detail", args=[workspace.slug, site.slug])).status_code == 200
    assert client.get(reverse("workspaces:experience_detail", args=[workspace.slug, experience.pk])).status_code == 200


def test_member_without_a_grant_gets_403_on_a_site_and_200_with_one(client, workspace, mine):
    from permissions.roles import builtin_role
    from workspaces.sites.services import site_grant_set

    site, _ = mine
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    url = reverse("workspaces:site_detail", args=[workspace.slug, site.slug])
    assert client.get(url).status_code == 403
    site_grant_set(actor=None, site=site, role=builtin_role("site_viewer", "site"), membership=member)
    assert client.get(url).status_code == 200
