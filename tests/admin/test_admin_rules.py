"""The admin obeys docs/RULES.md section 1: a refused change shows the rule's message and changes
nothing (no row, no audit event, no admin history)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.materialize import GROUP_MODELS
from permissions.models import Role, SiteGroupPermission
from permissions.roles import builtin_role
from tests.admin.conftest import admin_url, form_data, messages_of, run_action
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspaces.models import Membership, Site, SiteGrant, Workspace


@pytest.fixture
def owner_membership(acme, owner):
    return Membership.objects.get(workspace=acme, user=owner)


def _unchanged(before_events: int, before_log: int = 0) -> None:
    assert AuditEvent.objects.count() == before_events
    assert LogEntry.objects.count() == before_log


# --- rule 1: a workspace always has an active owner ------------------------------------------------


def test_deleting_the_last_owner_is_refused_with_its_message(staff_client, owner_membership):
    events = AuditEvent.objects.count()
    response = staff_client.post(admin_url(Membership, "delete", owner_membership.pk), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert any("last owner of Acme" in m for m in messages_of(response))
    assert Membership.objects.filter(pk=owner_membership.pk).exists()
    _unchanged(events)


def test_demoting_the_last_owner_is_refused_with_its_message(staff_client, owner_membership):
    url = admin_url(Membership, "change", owner_membership.pk)
    events = AuditEvent.objects.count()
    data = form_data(staff_client.get(url), role=str(builtin_role(catalog.ADMIN).pk))
    response = staff_client.post(url, data, follow=True)
    assert any("last owner of Acme" in m for m in messages_of(response))
    owner_membership.refresh_from_db()
    assert owner_membership.role.is_owner
    _unchanged(events)


def test_demoting_an_owner_works_once_another_owner_exists(staff_client, acme, owner_membership):
    add_member(acme, catalog.OWNER)
    url = admin_url(Membership, "change", owner_membership.pk)
    data = form_data(staff_client.get(url), role=str(builtin_role(catalog.ADMIN).pk))
    staff_client.post(url, data)
    owner_membership.refresh_from_db()
    assert owner_membership.role.key == catalog.ADMIN


def test_change_role_action_refuses_the_whole_batch_with_the_last_owner(staff_client, acme, owner_membership):
    member = add_member(acme, catalog.MEMBER)
    events = AuditEvent.objects.count()
    response = run_action(
        staff_client,
        Membership,
        "change_role",
        [member, owner_membership],
        apply="Change role",
        role=str(builtin_role(catalog.VIEWER).pk),
    )
    assert any("last owner of Acme" in m for m in messages_of(response))
    assert Membership.objects.get(pk=member.pk).role.key == catalog.MEMBER  # all or nothing
    assert Membership.objects.get(pk=owner_membership.pk).role.is_owner
    _unchanged(events)


def test_change_role_action_shows_its_form_then_applies(staff_client, acme):
    members = [add_member(acme, catalog.MEMBER) for _ in range(2)]
    page = run_action(staff_client, Membership, "change_role", members)
    assert page.templates[0].name == "admin/portal/action_form.html"
    assert members[0].user.email in page.content.decode()
    viewer = builtin_role(catalog.VIEWER)
    events = AuditEvent.objects.count()
    response = run_action(staff_client, Membership, "change_role", members, apply="Change role", role=str(viewer.pk))
    assert response.status_code == 200
    assert all(m.role_id == viewer.pk for m in Membership.objects.filter(pk__in=[m.pk for m in members]))
    assert AuditEvent.objects.count() == events + 2
    assert LogEntry.objects.filter(user__email="staff@portal.test").count() == 2


def test_deactivating_the_last_active_owner_is_refused(staff_client, owner, acme):
    events = AuditEvent.objects.count()
    response = run_action(staff_client, User, "deactivate_accounts", [owner])
    assert any("last active owner of “Acme”" in m for m in messages_of(response))
    owner.refresh_from_db()
    assert owner.is_active
    _unchanged(events)


def test_unticking_active_of_the_last_owner_is_refused(staff_client, owner, acme):
    url = admin_url(User, "change", owner.pk)
    events = AuditEvent.objects.count()
    response = staff_client.post(url, form_data(staff_client.get(url), is_active=None), follow=True)
    assert any("last active owner of “Acme”" in m for m in messages_of(response))
    owner.refresh_from_db()
    assert owner.is_active
    _unchanged(events)


def test_deactivating_one_of_two_owners_works_then_the_other_is_the_last(staff_client, owner, acme):
    second = add_member(acme, catalog.OWNER).user
    run_action(staff_client, User, "deactivate_accounts", [second])
    second.refresh_from_db()
    assert not second.is_active
    assert AuditEvent.objects.filter(action="account.deactivate", target_id=str(second.pk)).count() == 1

    response = run_action(staff_client, User, "deactivate_accounts", [owner])
    assert any("last active owner" in m for m in messages_of(response))
    owner.refresh_from_db()
    assert owner.is_active


def test_deactivation_names_every_workspace_owned_alone(staff_client, owner, acme):
    make_workspace(owner, "Globex")
    response = run_action(staff_client, User, "deactivate_accounts", [owner])
    assert any("“Acme”, “Globex”" in m for m in messages_of(response))


# --- rule 2: a site owner is replaced before they go ----------------------------------------------


def test_removing_a_site_owner_is_refused_and_says_where_to_reassign(staff_client, acme):
    member = add_member(acme, catalog.MEMBER)
    make_site(acme, "Shop", owner=member)
    events = AuditEvent.objects.count()
    response = staff_client.post(admin_url(Membership, "delete", member.pk), {"post": "yes"}, follow=True)
    shown = " ".join(messages_of(response))
    assert f"{member.user.email} owns Shop" in shown
    assert "Set another owner on each of" in shown and "/admin/workspaces/site/?id__in=" in shown
    assert Membership.objects.filter(pk=member.pk).exists()
    _unchanged(events)


def test_site_owner_must_be_a_member_of_the_workspace(staff_client, acme, owner):
    site = make_site(acme, "Shop")
    stranger = UserFactory()
    url = admin_url(Site, "change", site.pk)
    response = staff_client.post(url, form_data(staff_client.get(url), owner_person=str(stranger.pk)))
    assert response.status_code == 200  # the form again, with its error
    assert f"{stranger.email} is not a member of Acme" in response.content.decode()
    assert Site.objects.get(pk=site.pk).owner.user == owner


# --- rule 3: nothing beyond the rules -----------------------------------------------------------------


def test_a_custom_role_cannot_include_manage_owners(staff_client, acme):
    response = staff_client.post(
        admin_url(Role, "add"),
        {
            "workspace": str(acme.pk),
            "scope": catalog.WORKSPACE,
            "name": "Co-owner",
            "capabilities": ["view_workspace", "manage_owners"],
        },
    )
    assert response.status_code == 200
    assert "manage_owners is not one of the available choices" in response.content.decode()
    assert not Role.objects.filter(name="Co-owner").exists()


def test_built_in_roles_cannot_be_edited_or_deleted(staff_client):
    admin_role = builtin_role(catalog.ADMIN)
    url = admin_url(Role, "change", admin_role.pk)
    assert staff_client.get(url).status_code == 200  # visible
    assert staff_client.post(url, {"name": "Boss", "_save": "Save"}).status_code == 403
    assert staff_client.post(admin_url(Role, "delete", admin_role.pk), {"post": "yes"}).status_code == 403
    admin_role.refresh_from_db()
    assert admin_role.name == "Admin"


def test_a_site_grant_with_another_workspaces_role_is_refused(staff_client, acme, owner):
    site = make_site(acme, "Shop")
    member = add_member(acme, catalog.MEMBER)
    other = make_workspace(UserFactory(), "Globex")
    from permissions.services import role_save

    foreign = role_save(actor=None, workspace=other, scope=catalog.SITE, name="Outsider", capabilities={"view_site"})
    events = AuditEvent.objects.count()
    response = staff_client.post(
        admin_url(SiteGrant, "add"),
        {"site": str(site.pk), "person": str(member.user.pk), "role": str(foreign.pk), "_save": "Save"},
        follow=True,
    )
    assert "Choose a site role of this workspace." in messages_of(response)
    assert not SiteGrant.objects.filter(site=site).exists()
    _unchanged(events)


# --- the audit log is append-only -----------------------------------------------------------------------


def test_audit_events_can_be_read_but_never_added_changed_or_deleted(staff_client, acme):
    event = AuditEvent.objects.filter(workspace=acme).first()
    change = admin_url(AuditEvent, "change", event.pk)
    assert staff_client.get(change).status_code == 200
    assert staff_client.post(change, {"action": "forged"}).status_code == 403
    assert staff_client.get(admin_url(AuditEvent, "delete", event.pk)).status_code == 403
    assert staff_client.post(admin_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    assert staff_client.get(admin_url(AuditEvent, "add")).status_code == 403
    listing = staff_client.get(admin_url(AuditEvent))
    assert "delete_selected" not in listing.content.decode()
    event.refresh_from_db()
    assert event.action == "workspace.create"


# --- derived rows stay derived ----------------------------------------------------------------------------


def test_object_permission_screens_show_but_never_change_guardian_rows(staff_client, acme, owner):
    site = make_site(acme, "Shop")
    page = staff_client.get(admin_url(Site, "permissions", site.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Workspace role “Owner”" in text and "change_site" in text and "sync_permissions" in text

    rows = SiteGroupPermission.objects.count()
    refused = staff_client.post(admin_url(Site, "permissions", site.pk), {"user": owner.email}, follow=True)
    assert any("read-only" in m for m in messages_of(refused))
    group = GROUP_MODELS[catalog.SITE].objects.filter(content_object=site).first().group
    for url in (
        admin_url(Site, "permissions_manage_group", site.pk, group.pk),
        admin_url(Workspace, "permissions_manage_user", acme.pk, owner.pk),
    ):
        response = staff_client.post(url, {"permissions": ["delete_site"]}, follow=True)
        assert any("read-only" in m for m in messages_of(response))
    assert SiteGroupPermission.objects.count() == rows


# --- secrets and odd requests ------------------------------------------------------------------------------


def test_key_and_invite_hashes_never_show(staff_client, world):
    from permissions.models import AccessKey
    from workspaces.models import Invite

    key, invite = world["key"], world["invite"]
    pages = [
        staff_client.get(admin_url(AccessKey)),
        staff_client.get(admin_url(AccessKey, "change", key.pk)),
        staff_client.get(admin_url(Invite)),
        staff_client.get(admin_url(Invite, "change", invite.pk)),
    ]
    for page in pages:
        text = page.content.decode()
        assert key.key_hash not in text and invite.token_hash not in text
    assert f"{key.prefix}…" in pages[0].content.decode()
    assert staff_client.get(admin_url(AccessKey, "add")).status_code == 403
    assert staff_client.post(admin_url(Invite, "change", invite.pk), {"email": "x@y.test"}).status_code == 403


def test_transfer_ownership_needs_exactly_one_workspace(staff_client, acme, owner):
    other = make_workspace(owner, "Globex")
    response = run_action(staff_client, Workspace, "transfer_ownership", [acme, other])
    assert "Choose exactly one workspace to transfer." in messages_of(response)


def test_transfer_ownership_to_a_non_member_is_refused_on_its_form(staff_client, acme):
    stranger = UserFactory()
    response = run_action(
        staff_client, Workspace, "transfer_ownership", [acme], apply="Make owner", new_owner=str(stranger.pk)
    )
    assert f"{stranger.email} is not a member of Acme." in response.content.decode()
    assert not Membership.objects.filter(user=stranger).exists()


def test_an_account_with_memberships_is_not_deleted(staff_client, acme, owner):
    events = AuditEvent.objects.count()
    response = staff_client.post(admin_url(User, "delete", owner.pk), {"post": "yes"}, follow=True)
    assert any("remove them from those workspaces first, or deactivate" in m for m in messages_of(response))
    assert User.objects.filter(pk=owner.pk).exists()
    _unchanged(events)


def test_people_are_picked_by_e_mail_address(staff_client, acme, owner):
    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "workspaces", "model_name": "membership", "field_name": "user", "term": "owner@"},
    )
    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == [owner.email]


def test_refused_changes_leave_no_admin_history(staff_client, owner_membership):
    url = admin_url(Membership, "change", owner_membership.pk)
    data = form_data(staff_client.get(url), role=str(builtin_role(catalog.VIEWER).pk))
    staff_client.post(url, data)
    assert not LogEntry.objects.exists()


def test_adding_a_role_with_a_key_in_use_does_not_overwrite_that_role(staff_client, acme):
    from permissions.services import role_save

    existing = role_save(actor=None, workspace=acme, scope=catalog.WORKSPACE, name="Analyst", capabilities=set())
    response = staff_client.post(
        admin_url(Role, "add"),
        {
            "workspace": str(acme.pk),
            "scope": catalog.WORKSPACE,
            "name": "Other",
            "key": existing.key,
            "capabilities": [],
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    existing.refresh_from_db()
    assert existing.name == "Analyst"


def test_a_deactivated_account_cannot_be_made_a_workspaces_owner(staff_client):
    person = UserFactory(is_active=False)
    response = staff_client.post(
        admin_url(Workspace, "add"), {"name": "Globex", "owner": str(person.pk), "time_zone": "UTC", "_save": "Save"}
    )
    assert "account is deactivated; it cannot own a workspace" in response.content.decode()
    assert not Workspace.objects.filter(name="Globex").exists()
