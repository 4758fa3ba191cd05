"""Home page and workspace creation: whose workspaces are listed, who becomes Owner, bad input."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspaces.models import Membership, Workspace
from workspaces.sites.services import site_grant_set

pytestmark = pytest.mark.django_db

CREATE_URL = "/w/new/"


def test_urls():
    assert reverse("home") == "/"
    assert reverse("workspaces:create") == CREATE_URL


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_home_lists_only_my_workspaces_with_role_and_visible_sites(client, workspace, owner):
    make_site(workspace, "Shop")
    make_site(workspace, "Blog")
    me = UserFactory()
    mine = add_member(workspace, catalog.MEMBER, user=me)
    site_grant_set(
        actor=None, site=workspace.sites.get(name="Blog"), role=builtin_role("editor", "site"), membership=mine
    )
    make_workspace(me, "Beta")
    make_workspace(UserFactory(), "Hidden corp")

    client.force_login(me)
    response = client.get("/")

    assert response.status_code == 200
    rows = [(m.workspace.name, m.role.key, count) for m, count in response.context["rows"]]
    assert rows == [("Acme", catalog.MEMBER, 1), ("Beta", catalog.OWNER, 0)]
    page = response.content.decode()
    assert "Hidden corp" not in page
    assert f'href="{reverse("workspaces:detail", args=[workspace.slug])}"' in page
    assert "Member" in page and "Owner" in page
    assert f'<a class="button" href="{CREATE_URL}">Create a workspace</a>' in page


def test_home_without_workspaces_offers_to_create_one(client):
    client.force_login(UserFactory())
    page = client.get("/").content.decode()
    assert "not in any workspace yet" in page
    assert "Create a workspace" in page


def test_create_form_has_name_time_zone_description_and_button(client):
    client.force_login(UserFactory())
    page = client.get(CREATE_URL).content.decode()
    assert '<label for="id_name">Name</label>' in page
    assert '<label for="id_time_zone">Time zone</label>' in page
    assert '<label for="id_description">Description</label>' in page
    assert '<button type="submit">Create workspace</button>' in page


def test_creator_becomes_owner_and_lands_on_the_workspace(client):
    creator = UserFactory()
    client.force_login(creator)
    response = client.post(CREATE_URL, {"name": "  Nimbus  ", "time_zone": "Europe/Paris", "description": "Ours"})

    workspace = Workspace.objects.get(name="Nimbus")
    assert response.status_code == 302
    assert response["Location"] == reverse("workspaces:detail", args=[workspace.slug])
    assert (workspace.time_zone, workspace.description) == ("Europe/Paris", "Ours")
    membership = Membership.objects.get(workspace=workspace)
    assert membership.user == creator and membership.role.key == catalog.OWNER
    assert "You are its Owner" in [str(m) for m in get_messages(response.wsgi_request)][0]
    assert AuditEvent.objects.filter(action="workspace.create", workspace=workspace, actor=creator).count() == 1
    follow = client.get(response["Location"])
    assert follow.status_code == 200
    assert "add_site" in follow.context["ws_perms"]


def test_bad_input_is_refused_with_a_message_and_nothing_is_written(client):
    client.force_login(UserFactory())
    for data, message in (
        ({"name": "   ", "time_zone": "UTC"}, "Give the workspace a name."),
        ({"name": "Ok", "time_zone": "Mars/Olympus"}, "Select a valid choice."),
        ({"name": "x" * 101, "time_zone": "UTC"}, "at most 100 characters"),
    ):
        response = client.post(CREATE_URL, data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Workspace.objects.exists()
    assert not AuditEvent.objects.exists()


def test_csrf_is_enforced_on_create():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    response = client.post(CREATE_URL, {"name": "Forged", "time_zone": "UTC"})
    assert response.status_code == 403
    assert not Workspace.objects.exists()
    # The same browser with the token from the form succeeds.
    client.get(CREATE_URL)
    token = client.cookies["csrftoken"].value
    response = client.post(CREATE_URL, {"name": "Real", "time_zone": "UTC", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Workspace.objects.filter(name="Real").exists()


def test_a_workspace_named_new_does_not_hide_behind_the_create_page(client):
    client.force_login(UserFactory())
    response = client.post(CREATE_URL, {"name": "New", "time_zone": "UTC"}, follow=True)
    workspace = Workspace.objects.get(name="New")
    assert workspace.slug != "new"
    assert response.status_code == 200
    assert response.context["workspace"] == workspace
