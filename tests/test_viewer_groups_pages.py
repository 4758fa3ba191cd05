"""Viewer-group pages: list and create, one group with its addresses, rename, delete, remove an
address; who may open them (manage_viewer_groups), other workspaces' ids, CSRF and query counts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from tests.factories import UserFactory, add_member, make_experience, make_workspace, viewer_group_member_add
from workspaces.experiences.services import experience_publish
from workspaces.models import ViewerGroup, ViewerGroupMember
from workspaces.viewer_groups.services import viewer_group_create

pytestmark = pytest.mark.django_db


def url(name, group=None, *extra):
    if group is None:
        return reverse(f"viewer_groups:{name}", args=["acme"])
    return reverse(f"viewer_groups:{name}", args=[group.workspace.slug, group.pk, *extra])


@pytest.fixture
def group(workspace, owner):
    return viewer_group_create(actor=owner, workspace=workspace, name="Press")


@pytest.fixture
def member(workspace):
    return add_member(workspace, catalog.MEMBER).user


# --- who may open them ---


def test_members_see_the_nav_link_and_the_page(client, workspace, member, group):
    client.force_login(member)
    overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert f'href="{url("index")}">Viewer groups</a>' in overview
    response = client.get(url("index"))
    assert response.status_code == 200
    assert f'href="{url("detail", group)}">Press</a>' in response.content.decode()


@pytest.mark.parametrize("role_key", [catalog.VIEWER, catalog.BILLING_ADMIN])
def test_roles_without_the_capability_get_403_everywhere(client, workspace, group, role_key):
    person = add_member(workspace, role_key).user
    address = viewer_group_member_add(actor=None, group=group, email="ada@example.com")
    client.force_login(person)
    overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert "Viewer groups</a>" not in overview
    assert client.get(url("index")).status_code == 403
    assert client.post(url("index"), {"name": "Mine"}).status_code == 403
    assert client.get(url("detail", group)).status_code == 403
    assert client.post(url("detail", group), {"emails": "x@example.com"}).status_code == 403
    assert client.post(url("rename", group), {"name": "Mine"}).status_code == 403
    assert client.post(url("delete", group), {"confirm": "yes"}).status_code == 403
    assert client.post(url("member_remove", group, address.pk), {"confirm": "yes"}).status_code == 403
    assert list(ViewerGroup.objects.values_list("name", flat=True)) == ["Press"]
    assert list(ViewerGroupMember.objects.values_list("email", flat=True)) == ["ada@example.com"]


def test_other_workspaces_answer_404(client, workspace, owner, group):
    other = make_workspace(UserFactory(), "Other")
    theirs = viewer_group_create(actor=None, workspace=other, name="Theirs")
    their_address = viewer_group_member_add(actor=None, group=theirs, email="eve@example.com")
    mine = viewer_group_member_add(actor=None, group=group, email="ada@example.com")
    client.force_login(owner)
    # Their group under my workspace's address.
    for name in ("detail", "rename", "delete"):
        wrong = reverse(f"viewer_groups:{name}", args=[workspace.slug, theirs.pk])
        assert client.post(wrong, {"name": "Stolen", "emails": "x@example.com"}).status_code == 404
    # Their address under my group, and my address under another of my groups.
    assert client.post(url("member_remove", group, their_address.pk), {"confirm": "yes"}).status_code == 404
    second = viewer_group_create(actor=None, workspace=workspace, name="Second")
    assert client.post(url("member_remove", second, mine.pk), {"confirm": "yes"}).status_code == 404
    assert ViewerGroupMember.objects.count() == 2
    assert ViewerGroup.objects.get(pk=theirs.pk).name == "Theirs"
    # Someone outside my workspace.
    client.force_login(UserFactory())
    assert client.get(url("index")).status_code == 404
    assert client.get(url("detail", group)).status_code == 404


def test_forms_need_the_csrf_token(owner, group):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(url("index"), {"name": "Sneaky"}).status_code == 403
    assert client.post(url("detail", group), {"emails": "x@example.com"}).status_code == 403
    assert ViewerGroup.objects.count() == 1 and not ViewerGroupMember.objects.exists()


# --- writes through the pages ---


def test_member_creates_a_group_and_adds_addresses(client, workspace, member):
    client.force_login(member)
    response = client.post(url("index"), {"name": "Investors"})
    group = ViewerGroup.objects.get(name="Investors")
    assert response["Location"] == url("detail", group)
    response = client.post(url("detail", group), {"emails": "Ada@Example.com\nbob@example.com"}, follow=True)
    page = response.content.decode()
    assert "2 addresses added to “Investors”." in page
    assert "ada@example.com" in page and "bob@example.com" in page
    assert AuditEvent.objects.filter(action="viewer_group.create", actor=member).count() == 1
    assert AuditEvent.objects.filter(action="viewer_group.member_add", actor=member).count() == 2


def test_duplicate_group_name_is_shown_on_the_form(client, owner, group):
    client.force_login(owner)
    response = client.post(url("index"), {"name": "PRESS"})
    assert response.status_code == 200
    assert "A viewer group named “PRESS” already exists in this workspace." in response.content.decode()
    assert ViewerGroup.objects.count() == 1


def test_bad_and_duplicate_addresses_are_shown_and_nothing_is_added(client, owner, group):
    viewer_group_member_add(actor=None, group=group, email="ada@example.com")
    client.force_login(owner)
    response = client.post(url("detail", group), {"emails": "new@example.com, nonsense"})
    assert response.status_code == 200
    assert "“nonsense” is not a valid e-mail address." in response.content.decode()
    response = client.post(url("detail", group), {"emails": "new@example.com, ADA@example.com"})
    assert "ada@example.com is already in “Press”." in response.content.decode()
    assert list(group.members.values_list("email", flat=True)) == ["ada@example.com"]


def test_rename_delete_and_remove_an_address(client, workspace, owner, group):
    address = viewer_group_member_add(actor=None, group=group, email="ada@example.com")
    client.force_login(owner)
    client.post(url("member_remove", group, address.pk))
    assert group.members.exists()  # asks first
    client.post(url("member_remove", group, address.pk), {"confirm": "yes"})
    assert not group.members.exists()
    response = client.post(url("rename", group), {"name": "Journalists"}, follow=True)
    assert "now called “Journalists”" in response.content.decode()
    assert client.get(url("delete", group)).status_code == 200  # asks first
    assert ViewerGroup.objects.filter(pk=group.pk).exists()
    response = client.post(url("delete", group), {"confirm": "yes"})
    assert response["Location"] == url("index")
    assert not ViewerGroup.objects.exists()
    actions = AuditEvent.objects.filter(actor=owner, target_type="viewergroup").values_list("action", flat=True)
    assert sorted(actions) == [
        "viewer_group.create",
        "viewer_group.delete",
        "viewer_group.member_remove",
        "viewer_group.update",
    ]


def test_rename_to_a_taken_name_explains(client, workspace, owner, group):
    viewer_group_create(actor=None, workspace=workspace, name="Partners")
    client.force_login(owner)
    response = client.post(url("rename", group), {"name": "partners"}, follow=True)
    assert "already exists" in response.content.decode()
    group.refresh_from_db()
    assert group.name == "Press"


def test_deleting_the_only_group_of_a_published_experience_explains(client, workspace, owner, group):
    experience = make_experience(workspace, title="Launch film")
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group])
    client.force_login(owner)
    response = client.post(url("delete", group), {"confirm": "yes"}, follow=True)
    assert "only viewer group of the published experience(s) “Launch film”" in response.content.decode()
    assert ViewerGroup.objects.filter(pk=group.pk).exists()


def test_detail_lists_the_experiences_and_their_public_address(client, workspace, owner, group):
    experience = make_experience(workspace, title="Launch film")
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group])
    client.force_login(owner)
    page = client.get(url("detail", group)).content.decode()
    assert "Launch film" in page
    assert f"http://testserver/p/{experience.public_token}/" in page


# Paging, search and query counts: tests/test_viewer_groups_scale.py
