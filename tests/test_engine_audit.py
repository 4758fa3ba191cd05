"""Each service records exactly one audit event per change, and none when nothing changes."""

from contextlib import contextmanager

import pytest

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_delete, role_save
from tests.factories import add_member, make_experience, make_site, make_team
from workspaces.experiences import services as experiences
from workspaces.models import Membership, SiteGrant
from workspaces.overview import services as workspaces
from workspaces.people import services as members
from workspaces.sites import services as sites
from workspaces.teams import services as teams


@contextmanager
def events(*actions):
    """Exactly these new events (in any order), no others."""
    before = set(AuditEvent.objects.values_list("id", flat=True))
    yield
    new = sorted(AuditEvent.objects.exclude(id__in=before).values_list("action", flat=True))
    assert new == sorted(actions)


@pytest.fixture
def world(workspace, owner):
    return {
        "owner": owner,
        "site": make_site(workspace),
        "member": add_member(workspace, catalog.MEMBER),
        "team": make_team(workspace),
        "experience": make_experience(workspace, creator=owner),
    }


def test_member_role_change(workspace, world):
    owner, member = world["owner"], world["member"]
    with events("member.role_change"):
        members.member_change_role(actor=owner, membership=member, role=builtin_role(catalog.VIEWER))
    with events():
        members.member_change_role(actor=owner, membership=member, role=builtin_role(catalog.VIEWER))


def test_member_add_is_idempotent(workspace, world):
    with events():
        members.member_add(workspace=workspace, user=world["member"].user, role=builtin_role(catalog.MEMBER))


def test_member_remove_and_leave(workspace, world):
    with events("member.remove"):
        members.member_remove(actor=world["owner"], membership=world["member"])
    leaver = add_member(workspace, catalog.VIEWER)
    with events("member.leave"):
        members.member_leave(membership=leaver)


def test_ownership_transfer(workspace, world):
    owner, member = world["owner"], world["member"]
    with events("ownership.grant"):
        members.ownership_transfer(actor=owner, workspace=workspace, to=member)
    with events(), pytest.raises(RuleViolation, match="already an owner"):
        members.ownership_transfer(actor=owner, workspace=workspace, to=member)
    other = add_member(workspace, catalog.ADMIN)
    with events("ownership.grant", "ownership.step_down"):
        members.ownership_transfer(actor=owner, workspace=workspace, to=other, step_down=True)


def test_site_grant_set_and_revoke(workspace, world):
    owner, site, member = world["owner"], world["site"], world["member"]
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    with events("site_grant.set"):
        sites.site_grant_set(actor=owner, site=site, membership=member, role=editor)
    with events():
        sites.site_grant_set(actor=owner, site=site, membership=member, role=editor)
    with events("site_grant.set"):
        sites.site_grant_set(actor=owner, site=site, membership=member, role=editor, extra={"tag_comments"})
    with events("site_grant.revoke"):
        sites.site_grant_revoke(actor=owner, grant=SiteGrant.objects.get(site=site, membership=member))


def test_site_owner_update_and_capture(workspace, world):
    owner, site, member = world["owner"], world["site"], world["member"]
    with events("site.owner_change"):
        sites.site_owner_set(actor=owner, site=site, owner=member)
    with events():
        sites.site_owner_set(actor=owner, site=site, owner=member)
    with events("site.update"):
        sites.site_update(actor=owner, site=site, name="Renamed")
    with events():
        sites.site_update(actor=owner, site=site, name="Renamed")
    with events("site.session_capture"):
        sites.site_set_session_capture(actor=owner, site=site, enabled=True)
    with events():
        sites.site_set_session_capture(actor=owner, site=site, enabled=True)


def test_collaborators(workspace, world):
    owner, experience, member = world["owner"], world["experience"], world["member"]
    with events("collaborator.add"):
        experiences.collaborator_add(actor=owner, experience=experience, membership=member)
    with events():
        experiences.collaborator_add(actor=owner, experience=experience, membership=member)
    with events("collaborator.remove"):
        experiences.collaborator_remove(actor=owner, experience=experience, membership=member)
    with events():
        experiences.collaborator_remove(actor=owner, experience=experience, membership=member)


def test_experience_update_and_publish(workspace, world):
    owner, experience = world["owner"], world["experience"]
    with events("experience.update"):
        experiences.experience_update(actor=owner, experience=experience, title="New title")
    with events():
        experiences.experience_update(actor=owner, experience=experience, title="New title")
    with events("experience.publish"):
        experiences.experience_publish(actor=owner, experience=experience)
    with events():
        experiences.experience_publish(actor=owner, experience=experience)


def test_team_membership(workspace, world):
    owner, team, member = world["owner"], world["team"], world["member"]
    with events("team.member_add"):
        teams.team_add_member(actor=owner, team=team, membership=member)
    with events():
        teams.team_add_member(actor=owner, team=team, membership=member)
    with events("team.update"):
        teams.team_update(actor=owner, team=team, name="Renamed")
    with events():
        teams.team_update(actor=owner, team=team, name="Renamed")
    with events("team.member_remove"):
        teams.team_remove_member(actor=owner, team=team, membership=member)
    with events():
        teams.team_remove_member(actor=owner, team=team, membership=member)


def test_workspace_update(workspace, world):
    with events("workspace.update"):
        workspaces.workspace_update(actor=world["owner"], workspace=workspace, name="Acme 2", time_zone="UTC")
    with events():
        workspaces.workspace_update(actor=world["owner"], workspace=workspace, name="Acme 2", time_zone="UTC")


def test_custom_roles(workspace, world):
    owner = world["owner"]
    arguments = {"actor": owner, "workspace": workspace, "scope": catalog.SITE, "key": "looker", "name": "Looker"}
    with events("role.create"):
        role = role_save(**arguments, capabilities={"view_site"})
    with events():
        role_save(**arguments, capabilities={"view_site"})
    with events("role.update"):
        role_save(**arguments, capabilities={"view_site", "view_dashboards"})
    with events():
        role_save(**arguments, capabilities={"view_site", "view_dashboards", "view_shared_dashboards"})
    with events("role.delete"):
        role_delete(actor=owner, role=role)


def test_refused_changes_record_nothing(workspace, world):
    owner_membership = Membership.objects.get(workspace=workspace, user=world["owner"])
    with events(), pytest.raises(Exception):  # noqa: B017 - the rule's own tests check the type
        members.member_leave(membership=owner_membership)
