"""The workspace page's self-service controls: deleting the workspace (owner only, typed name),
leaving it from any role (rule 1 keeps the last owner; a site owner names a successor), and the
settings cards that lead there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_experience, make_site, make_workspace
from workspaces.models import Membership, Site, Workspace

pytestmark = pytest.mark.django_db

ROLES = [catalog.ADMIN, catalog.BILLING_ADMIN, catalog.MEMBER, catalog.VIEWER]


def as_(client, user):
    client.force_login(user)
    return client


def delete_url(workspace):
    return reverse("workspaces:delete", args=[workspace.slug])


CONFIRM = {"confirm": "yes"}


def leave_url(workspace):
    return reverse("workspaces:leave", args=[workspace.slug])


# --- deleting the workspace ------------------------------------------------------------------------


def test_the_owner_deletes_the_workspace_after_typing_its_name(client, workspace, owner):
    make_site(workspace, "Shop")
    make_experience(workspace)
    add_member(workspace, catalog.MEMBER)
    client = as_(client, owner)
    page = client.get(delete_url(workspace)).content.decode()
    assert "2 members lose access" in page and "1 site," in page and "1 experience," in page
    response = client.post(delete_url(workspace), {"confirmation": "Acme"}, follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    assert "“Acme” and everything in it are deleted" in response.content.decode()
    assert not Workspace.objects.exists() and not Site.objects.exists()
    event = AuditEvent.objects.get(action="workspace.delete")
    assert (event.actor, event.workspace_name, event.before["members"], event.before["sites"]) == (owner, "Acme", 2, 1)


@pytest.mark.parametrize("typed", ["", "acme", "Acme Inc", "Other"])
def test_a_wrong_name_deletes_nothing(client, workspace, owner, typed):
    response = as_(client, owner).post(delete_url(workspace), {"confirmation": typed})
    assert response.status_code == 200
    assert "nothing was changed" in response.content.decode() or "Type the name" in response.content.decode()
    assert Workspace.objects.filter(pk=workspace.pk).exists()
    assert not AuditEvent.objects.filter(action="workspace.delete").exists()


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_may_delete(client, workspace, role):
    person = add_member(workspace, role).user
    client = as_(client, person)
    assert client.get(delete_url(workspace)).status_code == 403
    assert client.post(delete_url(workspace), {"confirmation": "Acme"}).status_code == 403
    assert Workspace.objects.filter(pk=workspace.pk).exists()


def test_another_workspaces_owner_gets_404(client, workspace):
    stranger = make_workspace(UserFactory(), "Other").memberships.get().user
    response = as_(client, stranger).post(delete_url(workspace), {"confirmation": "Acme"})
    assert response.status_code == 404
    assert Workspace.objects.filter(pk=workspace.pk).exists()


def test_a_custom_role_with_delete_workspace_may_delete(client, workspace, owner):
    """The capability decides, not the role's name (seed 002's Admin holds it)."""
    codes = {"view_workspace", "delete_workspace"}
    role = role_save(actor=owner, workspace=workspace, name="Closer", scope=catalog.WORKSPACE, capabilities=codes)
    person = add_member(workspace, role).user
    assert as_(client, person).post(delete_url(workspace), {"confirmation": "Acme"}).status_code == 302
    assert not Workspace.objects.filter(pk=workspace.pk).exists()


def test_the_pages_lead_to_deletion_for_the_owner_only(client, workspace, owner):
    admin = add_member(workspace, catalog.ADMIN).user
    overview = reverse("workspaces:detail", args=[workspace.slug])
    settings_index = reverse("settings:index", args=[workspace.slug])
    assert delete_url(workspace) in as_(client, owner).get(overview).content.decode()
    assert delete_url(workspace) in client.get(settings_index).content.decode()
    assert delete_url(workspace) not in as_(client, admin).get(overview).content.decode()
    assert delete_url(workspace) not in client.get(settings_index).content.decode()


def test_the_leave_and_delete_sections_are_on_the_page_once_and_not_in_its_title(client, workspace, owner):
    page = as_(client, owner).get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert f"<title>{workspace.name} · Portal</title>" in page
    assert page.count('id="leave-heading"') == 1 and page.count('id="delete-heading"') == 1


# --- leaving from the workspace page ---------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_leaves_from_the_workspace_page(client, workspace, role):
    person = add_member(workspace, role).user
    client = as_(client, person)
    overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert leave_url(workspace) in overview
    asked = client.post(leave_url(workspace)).content.decode()
    assert "Your experiences stay. To come back, you need a new invitation." in asked
    assert Membership.objects.filter(workspace=workspace, user=person).exists()
    response = client.post(leave_url(workspace), CONFIRM, follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    assert f"You left {workspace.name}." in response.content.decode()
    assert not Membership.objects.filter(workspace=workspace, user=person).exists()
    assert AuditEvent.objects.filter(action="member.leave", actor=person).count() == 1


def test_a_preset_role_without_view_members_can_leave(client, workspace, owner):
    role = role_save(
        actor=owner,
        workspace=workspace,
        name="Payer",
        scope=catalog.WORKSPACE,
        capabilities={"view_workspace", "manage_billing"},
    )
    person = add_member(workspace, role).user
    assert as_(client, person).post(leave_url(workspace), CONFIRM).status_code == 302
    assert not Membership.objects.filter(workspace=workspace, user=person).exists()


def test_the_last_owner_cannot_leave(client, workspace, owner):
    client = as_(client, owner)
    overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert "You are the last owner of Acme, so you cannot leave it" in overview
    response = client.post(leave_url(workspace), CONFIRM, follow=True)
    assert response.redirect_chain == [(reverse("workspaces:detail", args=[workspace.slug]), 302)]
    assert "is the last owner of Acme" in response.content.decode()
    assert Membership.objects.filter(workspace=workspace, user=owner).exists()


def test_a_site_owner_names_a_successor(client, workspace, owner):
    person = add_member(workspace, catalog.BILLING_ADMIN).user
    site = make_site(workspace, "Shop", owner=Membership.objects.get(user=person))
    client = as_(client, person)
    overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert "New owner of Shop" in overview
    refused = client.post(leave_url(workspace), CONFIRM, follow=True)
    assert "owns Shop: choose who owns them from now on" in refused.content.decode()
    assert Membership.objects.filter(workspace=workspace, user=person).exists()
    client.post(leave_url(workspace), {"successor_email": "nobody@acme.test", **CONFIRM})
    assert Membership.objects.filter(workspace=workspace, user=person).exists()
    asked = client.post(leave_url(workspace), {"successor_email": owner.email}).content.decode()
    assert "Olivia Owner becomes the owner of your sites." in asked
    assert f'name="successor_email" value="{owner.email}"' in asked  # posted again with the confirmation
    client.post(leave_url(workspace), {"successor_email": owner.email, **CONFIRM})
    assert not Membership.objects.filter(workspace=workspace, user=person).exists()
    site.refresh_from_db()
    assert site.owner.user == owner


def test_leaving_another_workspace_is_a_404(client, workspace):
    stranger = make_workspace(UserFactory(), "Other").memberships.get().user
    assert as_(client, stranger).post(leave_url(workspace), CONFIRM).status_code == 404


def test_a_get_only_asks(client, workspace):
    person = add_member(workspace, catalog.VIEWER).user
    response = as_(client, person).get(leave_url(workspace))
    assert response.status_code == 200 and "Leave Acme?" in response.content.decode()
    assert Membership.objects.filter(workspace=workspace, user=person, role=builtin_role(catalog.VIEWER)).exists()
