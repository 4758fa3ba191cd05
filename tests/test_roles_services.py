"""permissions.services: custom role create, update, delete and their rules."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.models import Role
from permissions.policy import Access
from permissions.roles import builtin_role, role_codes
from permissions.services import role_delete, role_save
from tests.factories import add_member, make_site, make_workspace
from workspaces.models import JoinDomain
from workspaces.people.services import member_change_role
from workspaces.sites.services import site_grant_set


def _events(action):
    return AuditEvent.objects.filter(action=action).count()


def _analyst(actor, workspace, **kwargs):
    defaults = {
        "scope": catalog.WORKSPACE,
        "name": "Analyst",
        "key": "analyst",
        "capabilities": {"view_members", "view_usage"},
        "site_capabilities": {"view_site", "view_dashboards"},
    }
    return role_save(actor=actor, workspace=workspace, **{**defaults, **kwargs})


def test_create_adds_view_workspace_and_implied_siblings_with_one_event(workspace, owner):
    role = _analyst(owner, workspace)
    caps, site_caps = role_codes(Role.objects.get(pk=role.pk))
    assert caps == {"view_workspace", "view_members", "view_usage"}
    assert site_caps == {"view_site", "view_dashboards", "view_shared_dashboards"}
    assert role.workspace == workspace and not role.builtin
    event = AuditEvent.objects.get(action="role.create")
    assert event.after["capabilities"] == sorted(caps)
    assert event.after["site_capabilities"] == sorted(site_caps)


def test_saving_the_same_data_twice_changes_nothing(workspace, owner):
    first = _analyst(owner, workspace)
    second = _analyst(owner, workspace)
    assert first.pk == second.pk
    assert Role.objects.filter(workspace=workspace).count() == 1
    assert _events("role.create") == 1 and _events("role.update") == 0


def test_update_records_before_and_after_once(workspace, owner):
    role = _analyst(owner, workspace)
    _analyst(owner, workspace, role=role, capabilities={"view_members", "export_members"})
    event = AuditEvent.objects.get(action="role.update")
    assert "view_usage" in event.before["capabilities"]
    assert "export_members" in event.after["capabilities"] and "view_usage" not in event.after["capabilities"]


def test_manage_owners_never_accepted(workspace, owner):
    with pytest.raises(RuleViolation, match="never include"):
        _analyst(owner, workspace, capabilities={"manage_owners"})
    assert not Role.objects.filter(workspace=workspace).exists()
    assert _events("role.create") == 0


@pytest.mark.parametrize(
    "scope, caps, site_caps",
    [
        (catalog.WORKSPACE, {"no_such_thing"}, set()),
        (catalog.WORKSPACE, {"view_site"}, set()),  # a site capability among workspace ones
        (catalog.WORKSPACE, set(), {"view_members"}),  # a workspace capability among site ones
        (catalog.SITE, {"view_members"}, set()),
        (catalog.SITE, {"view_site"}, {"view_site"}),  # a site role has no "on every site" part
        (catalog.EXPERIENCE, {"view_experience"}, set()),
    ],
)
def test_bad_codes_refused_nothing_written(workspace, owner, scope, caps, site_caps):
    with pytest.raises(RuleViolation):
        role_save(
            actor=owner, workspace=workspace, scope=scope, name="X", capabilities=caps, site_capabilities=site_caps
        )
    assert not Role.objects.filter(workspace=workspace).exists()


def test_builtin_roles_cannot_be_edited_or_deleted(workspace, owner):
    member_role = builtin_role(catalog.MEMBER)
    with pytest.raises(RuleViolation, match="built-in"):
        _analyst(owner, workspace, role=member_role)
    with pytest.raises(RuleViolation, match="built-in"):
        role_delete(actor=owner, role=member_role)
    assert role_codes(builtin_role(catalog.MEMBER))[0] == catalog.BUILTIN_WORKSPACE_ROLES[3].capabilities


def test_requires_manage_roles(workspace):
    member = add_member(workspace, catalog.MEMBER)
    with pytest.raises(PermissionDenied):
        _analyst(member.user, workspace)
    outsider_ws = make_workspace(name="Other")
    with pytest.raises(PermissionDenied):
        _analyst(member.user, outsider_ws)
    assert not Role.objects.exists() or not Role.objects.filter(builtin=False).exists()


def test_system_actor_allowed(workspace):
    assert _analyst(None, workspace).pk


def test_another_workspace_role_refused(workspace, owner):
    other = make_workspace(name="Other")
    foreign = _analyst(None, other)
    with pytest.raises(RuleViolation, match="another workspace"):
        _analyst(owner, workspace, role=foreign)


def test_delete_unused_role_removes_it_and_its_group(workspace, owner):
    from permissions.models import RoleGroup

    role = _analyst(owner, workspace)
    holder = add_member(workspace, role)
    member_change_role(actor=owner, membership=holder, role=builtin_role(catalog.MEMBER))
    assert RoleGroup.objects.filter(role=role).exists()
    role_delete(actor=owner, role=role)
    assert not Role.objects.filter(pk=role.pk).exists()
    assert not RoleGroup.objects.filter(role_id=role.pk).exists()
    assert _events("role.delete") == 1


def test_role_in_use_cannot_be_deleted_and_says_how_many(workspace, owner):
    role = _analyst(owner, workspace)
    add_member(workspace, role)
    add_member(workspace, role)
    with pytest.raises(RuleViolation, match="2 members"):
        role_delete(actor=owner, role=role)
    assert Role.objects.filter(pk=role.pk).exists()
    assert _events("role.delete") == 0


def test_site_role_used_by_a_grant_or_join_domain_cannot_be_deleted(workspace, owner):
    site = make_site(workspace)
    site_role = role_save(
        actor=owner, workspace=workspace, scope=catalog.SITE, name="Looker", capabilities={"view_site"}
    )
    member = add_member(workspace, catalog.MEMBER)
    site_grant_set(actor=owner, site=site, membership=member, role=site_role)
    with pytest.raises(RuleViolation, match="1 site grants"):
        role_delete(actor=owner, role=site_role)
    ws_role = _analyst(owner, workspace)
    JoinDomain.objects.create(workspace=workspace, domain="acme.test", role=ws_role, verification_token="t")
    with pytest.raises(RuleViolation, match="1 join domains"):
        role_delete(actor=owner, role=ws_role)


def test_editing_a_role_changes_holders_access_on_next_check(workspace, owner):
    site = make_site(workspace)
    role = _analyst(owner, workspace)
    holder = add_member(workspace, role)
    assert Access(holder.user).has("view_dashboards", site)
    assert not Access(holder.user).has("export_members", workspace)
    _analyst(owner, workspace, capabilities={"export_members"}, site_capabilities={"view_recordings"})
    fresh = Access(holder.user)
    assert fresh.has("export_members", workspace)
    assert not fresh.has("view_dashboards", site)
    assert fresh.perms(site) == {"view_recordings", "view_shared_recordings"}


def test_custom_key_may_match_a_builtin_key(workspace, owner):
    """A preset may name its role "admin": its group must not clash with the built-in Admin's."""
    add_member(workspace, catalog.ADMIN)
    role = _analyst(owner, workspace, key="admin", name="Admin")
    holder = add_member(workspace, role)
    assert Access(holder.user).has("view_usage", workspace)


def test_key_is_normalised_so_reloading_finds_the_role(workspace, owner):
    first = _analyst(owner, workspace, key="Data Team")
    second = _analyst(owner, workspace, key="Data Team")
    assert first.pk == second.pk and first.key == "data-team"


def test_generated_keys_do_not_collide(workspace, owner):
    first = _analyst(owner, workspace, key="", name="Analyst")
    second = _analyst(owner, workspace, key="", name="Analyst")
    assert {first.key, second.key} == {"analyst", "analyst-2"}
