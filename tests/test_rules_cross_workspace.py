"""Rule 5 at the service level: an object of another workspace is refused everywhere, and an actor
of one workspace can change nothing in another."""

import pytest
from django.core.exceptions import PermissionDenied

from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_delete, role_save
from tests.factories import add_member, make_experience, make_site, make_team, make_workspace, owner_of
from workspaces.models import Membership, SiteGrant
from workspaces.people.services import member_change_role, member_remove, ownership_transfer
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member


@pytest.fixture
def other():
    """Another workspace with a member, a site, a team and a custom role."""
    workspace = make_workspace(name="Other")
    role = role_save(
        actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="Theirs", capabilities={"view_members"}
    )
    site_role = role_save(
        actor=None, workspace=workspace, scope=catalog.SITE, name="Their site role", capabilities={"view_site"}
    )
    return {
        "workspace": workspace,
        "owner": owner_of(workspace),
        "member": add_member(workspace, catalog.MEMBER),
        "site": make_site(workspace, "Theirs"),
        "team": make_team(workspace, "Their team"),
        "role": role,
        "site_role": site_role,
    }


def test_another_workspaces_custom_role_cannot_be_given(workspace, owner, other):
    member = add_member(workspace, catalog.MEMBER)
    with pytest.raises(RuleViolation, match="does not belong"):
        member_change_role(actor=owner, membership=member, role=other["role"])
    site = make_site(workspace)
    with pytest.raises(RuleViolation, match="site role of this workspace"):
        site_grant_set(actor=owner, site=site, membership=member, role=other["site_role"])
    member.refresh_from_db()
    assert member.role.key == catalog.MEMBER and not SiteGrant.objects.exists()


def test_another_workspaces_member_or_team_gets_no_grant(workspace, owner, other):
    site = make_site(workspace)
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    with pytest.raises(RuleViolation):
        site_grant_set(actor=owner, site=site, membership=other["member"], role=editor)
    with pytest.raises(RuleViolation):
        site_grant_set(actor=owner, site=site, team=other["team"], role=editor)
    assert not SiteGrant.objects.exists()


def test_another_workspaces_member_cannot_join_a_team(workspace, owner, other):
    team = make_team(workspace)
    with pytest.raises(RuleViolation):
        team_add_member(actor=owner, team=team, membership=other["member"])


def test_ownership_cannot_go_to_another_workspaces_member(workspace, owner, other):
    with pytest.raises(RuleViolation):
        ownership_transfer(actor=owner, workspace=workspace, to=other["member"])
    other["member"].refresh_from_db()
    assert other["member"].role.key == catalog.MEMBER


def test_an_owner_here_is_nobody_there(workspace, owner, other):
    with pytest.raises(PermissionDenied):
        member_change_role(actor=owner, membership=other["member"], role=builtin_role(catalog.ADMIN))
    with pytest.raises(PermissionDenied):
        member_remove(actor=owner, membership=other["member"])
    with pytest.raises(PermissionDenied):
        site_grant_set(
            actor=owner, site=other["site"], membership=other["member"], role=builtin_role(catalog.EDITOR, catalog.SITE)
        )
    with pytest.raises(PermissionDenied):
        role_delete(actor=owner, role=other["role"])
    with pytest.raises(PermissionDenied):
        role_save(actor=owner, workspace=other["workspace"], scope=catalog.WORKSPACE, name="Mine", capabilities=set())
    assert Membership.objects.filter(pk=other["member"].pk, role__key=catalog.MEMBER).exists()


def test_another_workspaces_role_cannot_be_edited_through_this_one(workspace, owner, other):
    with pytest.raises(RuleViolation, match="another workspace"):
        role_save(
            actor=owner,
            workspace=workspace,
            role=other["role"],
            scope=catalog.WORKSPACE,
            name="Hijacked",
            capabilities={"view_members"},
        )
    other["role"].refresh_from_db()
    assert other["role"].name == "Theirs"


def test_experience_site_must_be_in_the_workspace(workspace, owner, other):
    from workspaces.experiences.services import experience_create, experience_update

    with pytest.raises(RuleViolation):
        experience_create(actor=owner, workspace=workspace, title="X", site=other["site"])
    experience = make_experience(workspace, creator=owner)
    with pytest.raises(RuleViolation):
        experience_update(actor=owner, experience=experience, site=other["site"])
