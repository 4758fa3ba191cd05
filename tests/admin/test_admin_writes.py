"""Every write staff make in the admin goes through a service and leaves exactly one audit event
that names the staff member as its actor (and Django's admin history names them too)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.models import AccessKey, Role
from permissions.roles import builtin_role
from tests.admin.conftest import admin_url, form_data, inline_row, run_action
from tests.factories import UserFactory, add_member
from workspaces.models import (
    Collaborator,
    Experience,
    Invite,
    Membership,
    Site,
    SiteGrant,
    Team,
    TeamMembership,
    Workspace,
)


def change(client, obj, **changes):
    url = admin_url(type(obj), "change", obj.pk)
    return client.post(url, form_data(client.get(url), **changes))


def delete(client, obj):
    return client.post(admin_url(type(obj), "delete", obj.pk), {"post": "yes"})


def add(client, model, data):
    return client.post(admin_url(model, "add"), {**data, "_save": "Save"})


# Each case does one write and checks that it took effect; it returns the audit action expected.
# A case that prepares data first calls start() so the events of the preparation do not count.


def workspace_add(client, w, start):
    owner = UserFactory(email="founder@globex.test")
    add(client, Workspace, {"name": "Globex", "owner": str(owner.pk), "time_zone": "UTC"})
    assert Membership.objects.get(workspace__name="Globex").user == owner
    return "workspace.create"


def workspace_change(client, w, start):
    change(client, w["workspace"], name="Acme Corp")
    assert Workspace.objects.get(pk=w["workspace"].pk).name == "Acme Corp"
    return "workspace.update"


def workspace_delete(client, w, start):
    delete(client, w["workspace"])
    assert not Workspace.objects.filter(pk=w["workspace"].pk).exists()
    return "workspace.delete"


def membership_add(client, w, start):
    person = UserFactory()
    add(
        client, Membership, {"workspace": w["workspace"].pk, "user": person.pk, "role": builtin_role(catalog.VIEWER).pk}
    )
    assert Membership.objects.get(user=person).role.key == catalog.VIEWER
    return "member.add"


def membership_role(client, w, start):
    change(client, w["member"], role=str(builtin_role(catalog.ADMIN).pk))
    assert Membership.objects.get(pk=w["member"].pk).role.key == catalog.ADMIN
    return "member.role_change"


def membership_delete(client, w, start):
    viewer = add_member(w["workspace"], catalog.VIEWER)
    start()
    delete(client, viewer)
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    return "member.remove"


def site_add(client, w, start):
    add(
        client,
        Site,
        {"workspace": w["workspace"].pk, "name": "Blog", "time_zone": "UTC", "owner_person": w["member"].user.pk},
    )
    assert Site.objects.get(name="Blog").owner == w["member"]
    return "site.create"


def site_change(client, w, start):
    change(client, w["site"], name="Webshop")
    assert Site.objects.get(pk=w["site"].pk).name == "Webshop"
    return "site.update"


def site_owner(client, w, start):
    owner = Membership.objects.get(workspace=w["workspace"], role__key=catalog.OWNER)
    change(client, w["site"], owner_person=str(owner.user_id))
    assert Site.objects.get(pk=w["site"].pk).owner == owner
    return "site.owner_change"


def site_capture(client, w, start):
    change(client, w["site"], session_capture="on")
    assert Site.objects.get(pk=w["site"].pk).session_capture
    return "site.session_capture"


def site_delete(client, w, start):
    delete(client, w["site"])
    assert not Site.objects.filter(pk=w["site"].pk).exists()
    return "site.delete"


def site_grant_inline(client, w, start):
    person = add_member(w["workspace"], catalog.MEMBER)
    start()
    url = admin_url(Site, "change", w["site"].pk)
    data = form_data(client.get(url))
    inline_row(data, "grants", person=str(person.user_id), role=str(builtin_role(catalog.EDITOR, catalog.SITE).pk))
    client.post(url, data)
    assert SiteGrant.objects.get(membership=person).role.key == catalog.EDITOR
    return "site_grant.set"


def site_grant_inline_revoke(client, w, start):
    grant = SiteGrant.objects.get(site=w["site"], membership=w["member"])
    url = admin_url(Site, "change", w["site"].pk)
    data = form_data(client.get(url))
    index = next(i for i in range(int(data["grants-INITIAL_FORMS"])) if data[f"grants-{i}-id"] == str(grant.pk))
    data[f"grants-{index}-DELETE"] = "on"
    client.post(url, data)
    assert not SiteGrant.objects.filter(pk=grant.pk).exists()
    return "site_grant.revoke"


def site_grant_add(client, w, start):
    person = add_member(w["workspace"], catalog.MEMBER)
    start()
    role = builtin_role(catalog.SITE_VIEWER, catalog.SITE)
    add(
        client,
        SiteGrant,
        {"site": w["site"].pk, "person": person.user_id, "role": role.pk, "extras": ["tag_comments"]},
    )
    grant = SiteGrant.objects.get(membership=person)
    assert list(grant.extra_permissions.values_list("codename", flat=True)) == ["tag_comments"]
    return "site_grant.set"


def site_grant_change(client, w, start):
    grant = SiteGrant.objects.get(site=w["site"], membership=w["member"])
    change(client, grant, role=str(builtin_role(catalog.SITE_ADMIN, catalog.SITE).pk))
    assert SiteGrant.objects.get(pk=grant.pk).role.key == catalog.SITE_ADMIN
    return "site_grant.set"


def site_grant_delete(client, w, start):
    grant = SiteGrant.objects.get(site=w["site"], team=w["team"])
    delete(client, grant)
    assert not SiteGrant.objects.filter(pk=grant.pk).exists()
    return "site_grant.revoke"


def team_add(client, w, start):
    add(client, Team, {"workspace": w["workspace"].pk, "name": "Support"})
    assert Team.objects.filter(name="Support", workspace=w["workspace"]).exists()
    return "team.create"


def team_change(client, w, start):
    change(client, w["team"], name="Growth hackers")
    assert Team.objects.get(pk=w["team"].pk).name == "Growth hackers"
    return "team.update"


def team_delete(client, w, start):
    delete(client, w["team"])
    assert not Team.objects.filter(pk=w["team"].pk).exists()
    return "team.delete"


def team_member_inline(client, w, start):
    person = add_member(w["workspace"], catalog.VIEWER)
    start()
    url = admin_url(Team, "change", w["team"].pk)
    data = form_data(client.get(url))
    inline_row(data, "team_memberships", person=str(person.user_id))
    client.post(url, data)
    assert TeamMembership.objects.filter(team=w["team"], membership=person).exists()
    return "team.member_add"


def team_membership_add(client, w, start):
    person = add_member(w["workspace"], catalog.VIEWER)
    start()
    add(client, TeamMembership, {"team": w["team"].pk, "person": person.user_id})
    assert TeamMembership.objects.filter(team=w["team"], membership=person).exists()
    return "team.member_add"


def team_membership_delete(client, w, start):
    row = TeamMembership.objects.get(team=w["team"], membership=w["member"])
    delete(client, row)
    assert not TeamMembership.objects.filter(pk=row.pk).exists()
    return "team.member_remove"


def experience_add(client, w, start):
    add(client, Experience, {"workspace": w["workspace"].pk, "title": "Spring sale"})
    assert Experience.objects.filter(title="Spring sale").exists()
    return "experience.create"


def experience_change(client, w, start):
    change(client, w["experience"], title="Launch day")
    assert Experience.objects.get(pk=w["experience"].pk).title == "Launch day"
    return "experience.update"


def experience_publish(client, w, start):
    change(client, w["experience"], status="published")
    assert Experience.objects.get(pk=w["experience"].pk).status == "published"
    return "experience.publish"


def experience_delete(client, w, start):
    delete(client, w["experience"])
    assert not Experience.objects.filter(pk=w["experience"].pk).exists()
    return "experience.delete"


def collaborator_inline(client, w, start):
    person = add_member(w["workspace"], catalog.ADMIN)
    start()
    url = admin_url(Experience, "change", w["experience"].pk)
    data = form_data(client.get(url))
    inline_row(data, "collaborations", person=str(person.user_id))
    client.post(url, data)
    assert Collaborator.objects.filter(experience=w["experience"], membership=person).exists()
    return "collaborator.add"


def collaborator_add(client, w, start):
    person = add_member(w["workspace"], catalog.MEMBER)
    start()
    add(client, Collaborator, {"experience": w["experience"].pk, "person": person.user_id})
    assert Collaborator.objects.filter(experience=w["experience"], membership=person).exists()
    return "collaborator.add"


def collaborator_delete(client, w, start):
    row = Collaborator.objects.get(experience=w["experience"], membership=w["member"])
    delete(client, row)
    assert not Collaborator.objects.filter(pk=row.pk).exists()
    return "collaborator.remove"


def role_add(client, w, start):
    add(
        client,
        Role,
        {
            "workspace": w["workspace"].pk,
            "scope": catalog.WORKSPACE,
            "name": "Auditor",
            "capabilities": ["view_member_activity"],
            "site_capabilities": ["view_site"],
        },
    )
    role = Role.objects.get(name="Auditor")
    assert {p.codename for p in role.permissions.all()} == {"view_workspace", "view_member_activity"}
    return "role.create"


def role_change(client, w, start):
    change(client, w["role"], site_capabilities=["view_site", "view_dashboards"])
    role = Role.objects.get(pk=w["role"].pk)
    assert {p.codename for p in role.site_permissions.all()} == {
        "view_site",
        "view_dashboards",
        "view_shared_dashboards",
    }
    return "role.update"


def role_delete(client, w, start):
    delete(client, w["role"])
    assert not Role.objects.filter(pk=w["role"].pk).exists()
    return "role.delete"


def invite_resend(client, w, start):
    old_hash = w["invite"].token_hash
    run_action(client, Invite, "resend", [w["invite"]])
    assert Invite.objects.get(pk=w["invite"].pk).token_hash != old_hash
    return "invite.resend"


def invite_revoke(client, w, start):
    run_action(client, Invite, "revoke", [w["invite"]])
    assert Invite.objects.get(pk=w["invite"].pk).status == Invite.Status.REVOKED
    return "invite.revoke"


def key_revoke(client, w, start):
    run_action(client, AccessKey, "revoke", [w["key"]])
    assert not AccessKey.objects.get(pk=w["key"].pk).is_active
    return "access_key.revoke"


def transfer_ownership(client, w, start):
    run_action(
        client, Workspace, "transfer_ownership", [w["workspace"]], apply="Make owner", new_owner=w["member"].user_id
    )
    assert Membership.objects.get(pk=w["member"].pk).role.is_owner
    return "ownership.grant"


def account_add(client, w, start):
    add(
        client,
        User,
        {
            "email": "New.Person@Example.com",
            "usable_password": "true",
            "password1": "a-Long-pass-9",
            "password2": "a-Long-pass-9",
        },
    )
    assert User.objects.get(email="new.person@example.com").check_password("a-Long-pass-9")
    return "account.create"


def account_change(client, w, start):
    change(client, w["member"].user, full_name="Renamed Person")
    assert User.objects.get(pk=w["member"].user_id).full_name == "Renamed Person"
    return "account.update"


def account_deactivate_checkbox(client, w, start):
    change(client, w["member"].user, is_active=None)
    assert not User.objects.get(pk=w["member"].user_id).is_active
    return "account.deactivate"


def account_deactivate_action(client, w, start):
    run_action(client, User, "deactivate_accounts", [w["member"].user])
    assert not User.objects.get(pk=w["member"].user_id).is_active
    return "account.deactivate"


def account_reactivate_action(client, w, start):
    from workspaces.people.deactivation import account_deactivate

    account_deactivate(actor=None, user=w["member"].user)
    start()
    run_action(client, User, "reactivate_accounts", [w["member"].user])
    assert User.objects.get(pk=w["member"].user_id).is_active
    return "account.reactivate"


def account_password(client, w, start):
    user = w["member"].user
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    client.post(url, {"password1": "an0ther-Secret", "password2": "an0ther-Secret", "set_usable_password": "true"})
    assert User.objects.get(pk=user.pk).check_password("an0ther-Secret")
    return "account.password_set"


WRITES = [
    workspace_add,
    workspace_change,
    workspace_delete,
    membership_add,
    membership_role,
    membership_delete,
    site_add,
    site_change,
    site_owner,
    site_capture,
    site_delete,
    site_grant_inline,
    site_grant_inline_revoke,
    site_grant_add,
    site_grant_change,
    site_grant_delete,
    team_add,
    team_change,
    team_delete,
    team_member_inline,
    team_membership_add,
    team_membership_delete,
    experience_add,
    experience_change,
    experience_publish,
    experience_delete,
    collaborator_inline,
    collaborator_add,
    collaborator_delete,
    role_add,
    role_change,
    role_delete,
    invite_resend,
    invite_revoke,
    key_revoke,
    transfer_ownership,
    account_add,
    account_change,
    account_deactivate_checkbox,
    account_deactivate_action,
    account_reactivate_action,
    account_password,
]


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.__name__)
def test_each_admin_write_leaves_exactly_one_audit_event(staff_client, staff, world, write):
    def last_event_id():
        return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    mark = {"after": last_event_id()}

    def start():
        mark["after"] = last_event_id()

    expected = write(staff_client, world, start)
    new = list(AuditEvent.objects.filter(id__gt=mark["after"]).values_list("action", "actor_id", "actor_email"))
    assert new == [(expected, staff.pk, staff.email)], "one event, naming the staff member who acted"
    assert LogEntry.objects.filter(user=staff).exists(), "Django's admin history names who acted"


def test_loading_a_preset_records_one_event_per_role_it_adds(staff_client, staff, world):
    from permissions.presets import PRESETS

    preset = PRESETS["seed-000-product-areas"]
    workspace = world["workspace"]
    page = run_action(staff_client, Workspace, "load_role_preset", [workspace])
    assert page.templates[0].name == "admin/portal/action_form.html"
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = run_action(
        staff_client, Workspace, "load_role_preset", [workspace], apply="Load preset", preset=preset.name
    )
    assert response.status_code == 200
    new = AuditEvent.objects.filter(id__gt=last)
    assert new.count() == len(preset.roles)
    assert set(new.values_list("action", flat=True)) == {"role.create"}
    assert set(Role.objects.filter(workspace=workspace, preset=preset.name).values_list("name", flat=True)) == {
        spec.name for spec in preset.roles
    }
    # Idempotent: loading again changes nothing and records nothing.
    again = AuditEvent.objects.count()
    run_action(staff_client, Workspace, "load_role_preset", [workspace], apply="Load preset", preset=preset.name)
    assert AuditEvent.objects.count() == again
    assert LogEntry.objects.filter(user=staff, object_id=str(workspace.pk)).exists()
