"""Seed 003 (workspace roles for experiences): Admin, Member, Analytics, checked through the API.

docs/RULES.md 3 (003): the built-in Owner/Admin, Member and Viewer already are this system, and the
preset only renames them. The first user of a workspace ("the admin of that workspace") is the
built-in Owner. Auto-join giving Member is the join domain's default role (a later change).
"""

from __future__ import annotations

import pytest

from kernel.errors import RuleViolation
from permissions import catalog
from tests.factories import add_member, make_experience, make_site
from tests.presets.support import Cell, CheckApi, email_for, member, preset_roles, wrong_cells
from workspaces.experiences.services import collaborator_add
from workspaces.models import Membership

PRESET = "seed-003-workspace-experiences"
COLUMNS = ("First user", "Admin", "Member", "Analytics")
OWN, OTHER = "own", "other"  # the Member's own experience, and one the Member does not collaborate on

# "What can the different roles access?", one entry per statement:
# (seed words, codename, experience or None for the workspace, Y/N per COLUMNS).
ROWS = [
    ("Admins can add team members", "invite_members", None, "YYNN"),
    ("remove a team member", "remove_members", None, "YYNN"),
    ("the inviter has the ability to decide the role", "change_member_roles", None, "YYNN"),
    ("Can access the settings page", "view_workspace_settings", None, "YYNN"),
    ("change workspace related settings", "change_workspace", None, "YYNN"),
    ("Has access to edit all experiences", "change_all_experiences", None, "YYNN"),
    ("Has access to edit all experiences", "change_experience", OTHER, "YYNN"),
    ("add/remove collaborators from any experience", "manage_collaborators", OTHER, "YYNN"),
    ("Create new experiences", "add_experience", None, "YYYN"),
    ("you are automatically a collaborator (who can edit)", "change_experience", OWN, "YYYN"),
    ("Any collaborator ... can invite more collaborators", "manage_collaborators", OWN, "YYYN"),
    ("Publish projects they are a collaborator of", "publish_experience", OWN, "YYYN"),
    ("members by default cannot edit all experience", "publish_experience", OTHER, "YYNN"),
    ("access analytics data for those experiences", "view_experience_analytics", OWN, "YYYY"),
    ("Access and modify viewer groups", "manage_viewer_groups", None, "YYYN"),
    ("aggregated analytics of all projects", "view_all_analytics", None, "YYYY"),
    ("access analytics of individual projects", "view_experience_analytics", OTHER, "YYYY"),
]

RENAMES = {"Admin": catalog.ADMIN, "Member": catalog.MEMBER, "Analytics": catalog.VIEWER}


@pytest.fixture
def setup(client, workspace, owner):
    roles = preset_roles(workspace, owner, PRESET)
    memberships = {name: member(workspace, roles[name], email_for(name)) for name in RENAMES}
    people = {"First user": owner, **{name: m.user for name, m in memberships.items()}}
    experiences = {
        OWN: make_experience(workspace, creator=people["Member"], title="Member's"),
        OTHER: make_experience(workspace, creator=owner, title="Owner's"),
    }
    return {
        "api": CheckApi(client, workspace),
        "people": people,
        "memberships": memberships,
        "experiences": experiences,
        "roles": roles,
    }


def test_every_statement_cell_by_cell(setup):
    cells = []
    for row, codename, which, marks in ROWS:
        target = setup["experiences"][which] if which else None
        for column, mark in zip(COLUMNS, marks, strict=True):
            expected = mark == "Y"
            cells.append(Cell(row, column, codename, expected, target))
    assert wrong_cells(setup["api"], setup["people"], cells) == []


def test_a_member_can_do_everything_an_analytics_user_can_do(setup, workspace):
    """The seed: "A member can do everything an analytics user can do." Every workspace capability
    the Analytics role holds, and every experience capability it holds on any experience (the
    Member's own and one they do not collaborate on), the API also grants a built-in Member.

    Seed 003 has workspaces and experiences only: the Analytics role's view capabilities on every
    site (it is the built-in Viewer) are outside it, and a Member's site access comes from site
    grants and teams."""
    api, analytics = setup["api"], setup["people"]["Analytics"]
    builtin_member = add_member(workspace, catalog.MEMBER).user
    analytics_holds = api.held(analytics, catalog.WORKSPACE)
    assert "view_all_analytics" in analytics_holds
    assert analytics_holds <= api.held(builtin_member, catalog.WORKSPACE)
    for experience in setup["experiences"].values():
        for code in catalog.codenames(catalog.EXPERIENCE):
            if api.allowed(analytics, code, experience=experience):
                assert api.allowed(builtin_member, code, experience=experience), (code, experience.title)


@pytest.mark.parametrize("name", list(RENAMES))
def test_preset_roles_are_the_builtin_roles_renamed(setup, workspace, name):
    """Someone with the preset role and someone with the built-in role get the same answers
    everywhere: the workspace, a site, and an experience neither collaborates on."""
    api = setup["api"]
    twin = add_member(workspace, RENAMES[name]).user
    person = setup["people"][name]
    site = make_site(workspace, "Shop")
    assert api.held(person, catalog.WORKSPACE) == api.held(twin, catalog.WORKSPACE)
    assert api.held(person, catalog.SITE, site=site) == api.held(twin, catalog.SITE, site=site)
    other = setup["experiences"][OTHER]
    for code in catalog.codenames(catalog.EXPERIENCE):
        assert api.allowed(person, code, experience=other) == api.allowed(twin, code, experience=other)
    assert setup["roles"][name].name == name


def test_collaborators_have_an_admin_or_member_role(setup):
    """ "Any collaborator ... can invite more collaborators (who have an admin or member role)"."""
    memberships, own = setup["memberships"], setup["experiences"][OWN]
    inviter = setup["people"]["Member"]
    with pytest.raises(RuleViolation):
        collaborator_add(actor=inviter, experience=own, membership=memberships["Analytics"])
    collaborator_add(actor=inviter, experience=own, membership=memberships["Admin"])
    colleague = member(own.workspace, setup["roles"]["Member"], "colleague@acme.test")
    collaborator_add(actor=inviter, experience=own, membership=colleague)
    api = setup["api"]
    assert api.allowed(colleague.user, "change_experience", experience=own)
    assert not api.allowed(memberships["Analytics"].user, "change_experience", experience=own)


def test_the_first_user_is_the_owner(setup, workspace, owner):
    assert Membership.objects.get(workspace=workspace, user=owner).role.is_owner
