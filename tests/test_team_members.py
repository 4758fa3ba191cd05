"""The team page's member controls: role change, remove, leave, transfer ownership.

Each is tried from the allowed side (the change happens, one audit event, a message) and from the
refused side (403 for a role without the capability, a message and no change for a rule, 404 for
another workspace's ids).
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspaces.models import Membership, Site

pytestmark = pytest.mark.django_db


def url(name, workspace, *args):
    return reverse(f"people:{name}", args=[workspace.slug, *args])


def post(client, user, path, data=None):
    """A confirmed POST (the refused, unconfirmed side is in test_confirmations.py)."""
    client.force_login(user)
    return client.post(path, {"confirm": "yes", **(data or {})})


def said(response) -> str:
    return " | ".join(str(m) for m in get_messages(response.wsgi_request))


def role_of(membership) -> str:
    return Membership.objects.select_related("role").get(pk=membership.pk).role.key


@pytest.fixture
def admin(workspace):
    return add_member(workspace, catalog.ADMIN)


@pytest.fixture
def member(workspace):
    return add_member(workspace, catalog.MEMBER)


@pytest.fixture
def mine(owner):
    return owner.memberships.get()


# --- role change ----------------------------------------------------------------------------------


def test_owner_changes_a_members_role(client, workspace, owner, member):
    before = AuditEvent.objects.count()
    response = post(client, owner, url("change_role", workspace, member.pk), {"role": builtin_role(catalog.ADMIN).pk})
    assert response.status_code == 302 and response.url == url("index", workspace)
    assert role_of(member) == catalog.ADMIN
    assert f"{member.user.display_name} is now Admin." in said(response)
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.filter(action="member.role_change", target_id=str(member.pk)).count() == 1


def test_admin_changes_a_member_but_not_an_owner(client, workspace, owner, admin, member, mine):
    viewer = builtin_role(catalog.VIEWER)
    post(client, admin.user, url("change_role", workspace, member.pk), {"role": viewer.pk})
    assert role_of(member) == catalog.VIEWER
    second_owner = add_member(workspace, catalog.OWNER)
    for target in (mine, second_owner):
        response = post(client, admin.user, url("change_role", workspace, target.pk), {"role": viewer.pk})
        assert response.status_code == 403
        assert role_of(target) == catalog.OWNER


def test_admin_cannot_make_an_owner(client, workspace, admin, member):
    response = post(
        client, admin.user, url("change_role", workspace, member.pk), {"role": builtin_role(catalog.OWNER).pk}
    )
    assert response.status_code == 403
    assert role_of(member) == catalog.MEMBER


def test_admin_cannot_give_a_custom_role_beyond_their_own(client, workspace, admin, member):
    billing = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Accounts",
        capabilities={"view_workspace", "manage_billing"},
        site_capabilities=set(),
    )
    response = post(client, admin.user, url("change_role", workspace, member.pk), {"role": billing.pk})
    assert "You cannot give capabilities you do not hold: manage_billing." in said(response)
    assert role_of(member) == catalog.MEMBER


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_roles_without_the_capability_are_refused(client, workspace, admin, role_key):
    actor = add_member(workspace, role_key).user
    response = post(client, actor, url("change_role", workspace, admin.pk), {"role": builtin_role(catalog.VIEWER).pk})
    assert response.status_code == 403
    assert role_of(admin) == catalog.ADMIN


def test_nobody_changes_their_own_role(client, workspace, admin):
    response = post(
        client, admin.user, url("change_role", workspace, admin.pk), {"role": builtin_role(catalog.VIEWER).pk}
    )
    assert "You cannot change your own role." in said(response)
    assert role_of(admin) == catalog.ADMIN


def test_last_owner_cannot_step_down(client, workspace, owner, mine):
    events = AuditEvent.objects.count()
    response = post(client, owner, url("change_role", workspace, mine.pk), {"role": builtin_role(catalog.ADMIN).pk})
    assert "owner@acme.test is the last owner of Acme" in said(response)
    assert role_of(mine) == catalog.OWNER
    assert AuditEvent.objects.count() == events


def test_another_workspaces_role_is_refused(client, workspace, owner, member):
    elsewhere = make_workspace(UserFactory(), "Elsewhere")
    foreign = role_save(
        actor=None,
        workspace=elsewhere,
        scope=catalog.WORKSPACE,
        name="Foreign",
        capabilities={"view_workspace"},
        site_capabilities=set(),
    )
    response = post(client, owner, url("change_role", workspace, member.pk), {"role": foreign.pk})
    assert "Choose one of this workspace's roles." in said(response)
    assert role_of(member) == catalog.MEMBER


def test_same_role_changes_nothing(client, workspace, owner, member):
    events = AuditEvent.objects.count()
    response = post(client, owner, url("change_role", workspace, member.pk), {"role": builtin_role(catalog.MEMBER).pk})
    assert "already has the role Member" in said(response)
    assert AuditEvent.objects.count() == events


# --- remove -----------------------------------------------------------------------------------------


def test_owner_removes_a_member(client, workspace, owner, member):
    events = AuditEvent.objects.count()
    response = post(client, owner, url("remove", workspace, member.pk))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert "is removed from Acme" in said(response)
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.get(action="member.remove").target_id == str(member.pk)


def test_a_site_owner_needs_a_successor(client, workspace, owner, member, mine):
    site = make_site(workspace, "Shop", owner=member)
    response = post(client, owner, url("remove", workspace, member.pk))
    assert "owns Shop: choose who owns them from now on." in said(response)
    assert Membership.objects.filter(pk=member.pk).exists()

    response = post(client, owner, url("remove", workspace, member.pk), {"successor": mine.pk})
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert Site.objects.get(pk=site.pk).owner_id == mine.pk


def test_successor_from_another_workspace_is_refused(client, workspace, owner, member):
    make_site(workspace, "Shop", owner=member)
    stranger = add_member(make_workspace(UserFactory(), "Elsewhere"), catalog.MEMBER)
    response = post(client, owner, url("remove", workspace, member.pk), {"successor": stranger.pk})
    assert "Choose a member of this workspace to own the sites." in said(response)
    assert Membership.objects.filter(pk=member.pk).exists()


def test_admin_cannot_remove_an_owner(client, workspace, admin, mine):
    add_member(workspace, catalog.OWNER)
    response = post(client, admin.user, url("remove", workspace, mine.pk))
    assert response.status_code == 403
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_owner_removes_another_owner(client, workspace, owner):
    second = add_member(workspace, catalog.OWNER)
    post(client, owner, url("remove", workspace, second.pk))
    assert not Membership.objects.filter(pk=second.pk).exists()


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER])
def test_member_and_viewer_cannot_remove(client, workspace, admin, role_key):
    actor = add_member(workspace, role_key).user
    assert post(client, actor, url("remove", workspace, admin.pk)).status_code == 403
    assert Membership.objects.filter(pk=admin.pk).exists()


def test_removing_yourself_points_to_leave(client, workspace, admin):
    response = post(client, admin.user, url("remove", workspace, admin.pk))
    assert "To leave the workspace yourself, use Leave." in said(response)
    assert Membership.objects.filter(pk=admin.pk).exists()


# --- leave ------------------------------------------------------------------------------------------


def test_member_leaves(client, workspace, member):
    response = post(client, member.user, url("leave", workspace))
    assert response.status_code == 302 and response.url == reverse("home")
    assert "You left Acme." in said(response)
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert AuditEvent.objects.filter(action="member.leave", target_id=str(member.pk)).count() == 1


def test_last_owner_cannot_leave(client, workspace, owner, mine):
    events = AuditEvent.objects.count()
    response = post(client, owner, url("leave", workspace))
    assert response.url == url("index", workspace)
    assert "owner@acme.test is the last owner of Acme: make someone else an owner before you leave." in said(response)
    assert Membership.objects.filter(pk=mine.pk).exists()
    assert AuditEvent.objects.count() == events


def test_site_owner_leaves_with_a_successor(client, workspace, member, mine):
    site = make_site(workspace, "Shop", owner=member)
    response = post(client, member.user, url("leave", workspace))
    assert "owns Shop" in said(response)
    assert Membership.objects.filter(pk=member.pk).exists()
    post(client, member.user, url("leave", workspace), {"successor": mine.pk})
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert Site.objects.get(pk=site.pk).owner_id == mine.pk


# --- transfer ownership -------------------------------------------------------------------------------


def test_owner_transfers_and_steps_down(client, workspace, owner, member, mine):
    events = AuditEvent.objects.count()
    data = {"to": member.pk, "step_down": "on", "confirm_phrase": member.user.email}
    response = post(client, owner, url("transfer", workspace), data)
    assert role_of(member) == catalog.OWNER
    assert role_of(mine) == catalog.ADMIN
    text = said(response)
    assert f"{member.user.display_name} is now an owner of Acme." in text
    assert "You stepped down: you are now Admin." in text
    assert AuditEvent.objects.count() == events + 2
    assert set(AuditEvent.objects.order_by("-id").values_list("action", flat=True)[:2]) == {
        "ownership.grant",
        "ownership.step_down",
    }


def test_owner_transfers_and_stays(client, workspace, owner, member, mine):
    post(client, owner, url("transfer", workspace), {"to": member.pk, "confirm_phrase": member.user.email})
    assert role_of(member) == catalog.OWNER and role_of(mine) == catalog.OWNER


def test_an_owner_is_not_offered_and_is_refused_as_new_owner(client, workspace, owner, member):
    other_owner = add_member(workspace, catalog.OWNER, user=UserFactory(email="otto@acme.test"))
    data = {"to_email": "otto@acme.test", "step_down": "on", "confirm_phrase": "otto@acme.test"}
    response = post(client, owner, url("transfer", workspace), data)
    assert "otto@acme.test is already an owner of Acme." in said(response)
    assert role_of(Membership.objects.get(workspace=workspace, user=owner)) == catalog.OWNER
    response = post(client, owner, url("transfer", workspace), {"to": other_owner.pk})
    assert "Choose another member of this workspace." in said(response)


@pytest.mark.parametrize("role_key", [catalog.ADMIN, catalog.MEMBER, catalog.VIEWER])
def test_only_owners_transfer(client, workspace, member, role_key):
    actor = add_member(workspace, role_key)
    response = post(client, actor.user, url("transfer", workspace), {"to": member.pk, "step_down": "on"})
    assert response.status_code == 403
    assert role_of(member) == catalog.MEMBER and role_of(actor) == role_key


def test_transfer_to_yourself_or_a_stranger_is_refused(client, workspace, owner, mine):
    stranger = add_member(make_workspace(UserFactory(), "Elsewhere"), catalog.MEMBER)
    for target in (mine, stranger):
        response = post(client, owner, url("transfer", workspace), {"to": target.pk, "step_down": "on"})
        assert "Choose another member of this workspace." in said(response)
    assert role_of(mine) == catalog.OWNER and role_of(stranger) == catalog.MEMBER


# --- other workspaces' ids --------------------------------------------------------------------------


def test_other_workspaces_members_are_404_on_every_url(client, workspace, owner):
    elsewhere = make_workspace(UserFactory(), "Elsewhere")
    foreign = add_member(elsewhere, catalog.MEMBER)
    role = {"role": builtin_role(catalog.VIEWER).pk}
    for name, data in (("change_role", role), ("remove", {})):
        assert post(client, owner, url(name, workspace, foreign.pk), data).status_code == 404
    assert role_of(foreign) == catalog.MEMBER
    # …and a non-member is told nothing about the workspace itself
    assert post(client, owner, url("change_role", elsewhere, foreign.pk), role).status_code == 404
    assert post(client, owner, url("leave", elsewhere)).status_code == 404


def test_controls_only_accept_post(client, workspace, owner, member):
    client.force_login(owner)
    assert client.get(url("change_role", workspace, member.pk)).status_code == 405
    assert client.get(url("transfer", workspace)).status_code == 405
    # Removing asks first: a GET shows what would happen and changes nothing.
    assert client.get(url("remove", workspace, member.pk)).status_code == 200
    assert Membership.objects.filter(pk=member.pk).exists()
