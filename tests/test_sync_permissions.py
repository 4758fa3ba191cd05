"""manage.py sync_permissions [--check] [--workspace SLUG]: find and repair drift in the guardian rows."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from permissions import catalog
from permissions.models import ExperienceUserPermission, SiteGroupPermission, SiteUserPermission
from permissions.policy import Access
from permissions.roles import builtin_role, permission_ids
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team, make_workspace
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member


def sync(*args, verbosity: int = 1) -> str:
    out = StringIO()
    call_command("sync_permissions", *args, verbosity=verbosity, stdout=out)
    return out.getvalue()


@pytest.fixture
def populated(workspace, owner):
    """Roles, a member grant, a team grant and a collaboration: every kind of stored row."""
    shop, blog = make_site(workspace, "Shop"), make_site(workspace, "Blog")
    member = add_member(workspace, catalog.MEMBER)
    add_member(workspace, catalog.VIEWER)
    site_grant_set(actor=None, site=shop, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=member)
    team = make_team(workspace, "Growth")
    team_add_member(actor=None, team=team, membership=member)
    site_grant_set(actor=None, site=blog, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), team=team)
    experience = make_experience(workspace, creator=member.user)
    return {"shop": shop, "blog": blog, "member": member.user, "team": team, "experience": experience}


def test_clean_database_passes_check(populated):
    assert "match" in sync("--check")
    assert sync("--check", verbosity=0) == ""
    assert "acme: in sync" in sync("--check", verbosity=2)


def test_drift_is_reported_then_repaired(populated):
    shop, member, experience = populated["shop"], populated["member"], populated["experience"]
    SiteUserPermission.objects.filter(user=member, content_object=shop).delete()
    ExperienceUserPermission.objects.filter(user=member, content_object=experience).delete()
    stranger_group = populated["team"].group
    stray = SiteGroupPermission.objects.create(
        group=stranger_group, content_object=shop, permission_id=permission_ids(catalog.SITE)["delete_site"]
    )
    through = get_user_model().groups.through
    through.objects.filter(user_id=member.pk, group_id=stranger_group.pk).delete()
    assert not Access(member).has("change_dashboards", shop)

    out = StringIO()
    with pytest.raises(CommandError, match="drifted in 1 workspace"):
        call_command("sync_permissions", "--check", verbosity=2, stdout=out)
    report = out.getvalue()
    assert "acme:" in report and "missing" in report and "extra" in report
    assert f"perm={stray.permission_id}" in report
    assert f"user {member.pk} not in group {stranger_group.pk}" in report
    # --check changed nothing.
    assert SiteGroupPermission.objects.filter(pk=stray.pk).exists()
    assert not Access(member).has("change_dashboards", shop)

    assert "repaired" in sync()
    assert not SiteGroupPermission.objects.filter(pk=stray.pk).exists()
    access = Access(member)
    assert access.has("change_dashboards", shop)
    assert access.has("view_dashboards", populated["blog"])  # through the team again
    assert access.perms(experience) == catalog.COLLABORATOR_CAPABILITIES
    assert "match" in sync("--check")


def test_role_group_rows_are_repaired(workspace, owner, populated):
    owner_group = workspace.role_groups.get(role__key=catalog.OWNER).group
    SiteGroupPermission.objects.filter(group=owner_group).delete()
    assert not Access(owner).has("view_site", populated["shop"])
    with pytest.raises(CommandError):
        sync("--check")
    sync()
    assert Access(owner).perms(populated["shop"]) == frozenset(catalog.codenames(catalog.SITE))


def test_workspace_option_limits_the_work(populated, workspace):
    other = make_workspace(UserFactory(), "Other")
    site = make_site(other, "Theirs")
    SiteGroupPermission.objects.filter(content_object=site).delete()
    assert "match" in sync("--check", "--workspace", workspace.slug)
    with pytest.raises(CommandError):
        sync("--check", "--workspace", other.slug)
    with pytest.raises(CommandError):
        sync("--check")
    sync("--workspace", other.slug)
    assert "match" in sync("--check")


def test_unknown_workspace_is_an_error(populated):
    with pytest.raises(CommandError, match="No workspace"):
        sync("--workspace", "no-such")


def test_check_mode_reports_a_missing_role_group_without_creating_it(workspace):
    from django.core.management import CommandError, call_command

    from permissions.models import RoleGroup
    from tests.factories import add_member

    add_member(workspace, "viewer")
    RoleGroup.objects.filter(workspace=workspace, role__key="viewer").delete()
    with pytest.raises(CommandError):
        call_command("sync_permissions", "--check", stdout=StringIO(), stderr=StringIO())
    assert not RoleGroup.objects.filter(workspace=workspace, role__key="viewer").exists()
    call_command("sync_permissions", stdout=StringIO())
    assert RoleGroup.objects.filter(workspace=workspace, role__key="viewer").exists()
    call_command("sync_permissions", "--check", stdout=StringIO())


def test_migrate_rebuilds_stored_permissions_when_a_builtin_role_changed(populated, workspace, owner):
    """A release that gives a built-in role a new capability needs no extra command: ``migrate``
    (its post_migrate step) brings the role and every workspace's stored permissions in line."""
    from django.contrib.auth.models import Permission
    from django.core.management.sql import emit_post_migrate_signal

    from permissions.models import WorkspaceGroupPermission, WorkspaceUserPermission

    # The database as an earlier release left it: no role holds manage_webhooks, nor does anyone.
    capability = Permission.objects.get(codename="manage_webhooks")
    builtin_role(catalog.OWNER).permissions.remove(capability)
    builtin_role(catalog.ADMIN).permissions.remove(capability)
    WorkspaceGroupPermission.objects.filter(permission=capability).delete()
    WorkspaceUserPermission.objects.filter(permission=capability).delete()
    assert not Access(owner).has("manage_webhooks", workspace)

    out = StringIO()
    emit_post_migrate_signal(verbosity=1, interactive=False, db="default", stdout=out)

    assert Access(owner).has("manage_webhooks", workspace)
    assert "stored permissions rebuilt in 1 workspace(s)" in out.getvalue()
    assert sync("--check", verbosity=0) == ""


def test_migrate_leaves_stored_permissions_alone_when_the_roles_did_not_change(populated):
    from django.core.management.sql import emit_post_migrate_signal

    shop, member = populated["shop"], populated["member"]
    SiteUserPermission.objects.filter(user=member, content_object=shop).delete()
    emit_post_migrate_signal(verbosity=1, interactive=False, db="default", stdout=StringIO())
    with pytest.raises(CommandError, match="drifted in 1 workspace"):
        sync("--check")
