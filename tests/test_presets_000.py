"""Seed 000 (product-area roles): the preset reproduces the seed's roles, checked through the API.

docs/RULES.md 3 (000) decides the seed's conflicts: the prose description of each role is exhaustive
for its area, and the permission matrix (columns read as Admin, Editor, Member, Project Manager)
only says what ○ means: "limited (shared items only)", the view_shared_* and
view_basic_performance capabilities. Where a matrix cell says more than the prose, the decision
wins and ``PROSE_WINS`` below names the cell.
"""

from __future__ import annotations

import pytest

from permissions import catalog
from tests.factories import make_site
from tests.presets.support import Cell, CheckApi, email_for, member, preset_roles, wrong_cells

PRESET = "seed-000-product-areas"
ROLES = ("Admin", "Editor", "Project Manager", "Member", "Tester")
MATRIX_COLUMNS = ("Admin", "Editor", "Member", "Project Manager")

# The seed's permission matrix, one entry per row: (area, row, codename, cells in MATRIX_COLUMNS).
# ○ on a full view capability means its limited sibling (catalog.IMPLIES) and not the full one.
MATRIX = [
    ("Analytics", "View Dashboards", "view_dashboards", "✓✓-✓"),
    ("Analytics", "Create Dashboards", "add_dashboards", "✓✓-✓"),
    ("Analytics", "Edit Dashboards", "change_dashboards", "✓✓-✓"),
    ("Analytics", "Delete Dashboards", "delete_dashboards", "✓✓-✓"),
    ("Analytics", "Export Data", "export_data", "✓✓--"),
    ("Experiments", "View Experiments", "view_experiments", "✓✓✓✓"),
    ("Experiments", "Create Experiments", "add_experiments", "✓✓--"),
    ("Experiments", "Edit Experiments", "change_experiments", "✓✓--"),
    ("Experiments", "Start/Stop Experiments", "run_experiments", "✓✓--"),
    ("Experiments", "Delete Experiments", "delete_experiments", "✓✓--"),
    ("Session Recording", "View Recordings", "view_recordings", "✓✓○✓"),
    ("Session Recording", "Create Highlights", "add_highlights", "✓✓-✓"),
    ("Session Recording", "Delete Recordings", "delete_recordings", "✓✓--"),
    ("Performance", "View Metrics", "view_performance", "✓✓○✓"),
    ("Performance", "Configure Alerts", "configure_alerts", "✓✓--"),
    ("Performance", "Modify Thresholds", "modify_thresholds", "✓✓--"),
    ("User Management", "Invite Users", "invite_members", "✓✓--"),
    ("User Management", "Manage Roles", "manage_roles", "✓---"),
    ("User Management", "View User Activity", "view_member_activity", "✓---"),
]

# Matrix cells the role's prose contradicts, with the prose line and the answer it gives.
# docs/RULES.md 3 (000): "the prose description of each role is exhaustive for its area".
NO, YES = False, True
PROSE_WINS = {
    ("Edit Dashboards", "Editor"): ("Analytics: View and create reports and dashboards", NO),
    ("Delete Dashboards", "Editor"): ("Analytics: View and create reports and dashboards", NO),
    ("Export Data", "Editor"): ("Analytics: View and create reports and dashboards", NO),
    ("Delete Experiments", "Editor"): ("Experiments: Create, edit, start, and stop experiments", NO),
    ("Delete Recordings", "Editor"): ("Session Recording: View recordings and create highlights", NO),
    ("Configure Alerts", "Editor"): ("Performance: View performance data and create reports", NO),
    ("Modify Thresholds", "Editor"): ("Performance: View performance data and create reports", NO),
    ("Invite Users", "Editor"): ("User Management: No access", NO),
    ("Edit Dashboards", "Project Manager"): ("Analytics: View and create reports and dashboards", NO),
    ("Delete Dashboards", "Project Manager"): ("Analytics: View and create reports and dashboards", NO),
    ("Create Highlights", "Project Manager"): ("Session Recording: View recordings", NO),
    ("View Experiments", "Member"): ("Experiments: View results of selected experiments", NO),
    # The matrix gives Member no dashboards at all; the prose gives predefined ones (limited).
    ("View Dashboards (limited)", "Member"): ("Analytics: View predefined dashboards and reports", YES),
}

# Each role's prose, line by line, as site capabilities (view_site opens the site for all five);
# "create reports" is add_dashboards, and nothing but Admin has a people or billing line.
PROSE = {
    "Editor": {
        "Analytics: View and create reports and dashboards": {"view_dashboards", "add_dashboards"},
        "Experiments: Create, edit, start, and stop experiments": {
            "view_experiments",
            "add_experiments",
            "change_experiments",
            "run_experiments",
        },
        "Session Recording: View recordings and create highlights": {"view_recordings", "add_highlights"},
        "Performance: View performance data and create reports": {"view_performance", "add_dashboards"},
    },
    "Project Manager": {
        "Analytics: View and create reports and dashboards": {"view_dashboards", "add_dashboards"},
        "Experiments: View results and approve changes": {"view_experiments", "approve_experiments"},
        "Session Recording: View recordings": {"view_recordings"},
        "Performance: View performance data": {"view_performance"},
    },
    "Member": {
        "Analytics: View predefined dashboards and reports": {"view_shared_dashboards"},
        "Experiments: View results of selected experiments": {"view_shared_experiments"},
        "Session Recording: View shared recordings only": {"view_shared_recordings"},
        "Performance: View basic performance metrics": {"view_basic_performance"},
    },
    "Tester": {
        "Analytics: Limited access to testing-related data": {"view_shared_dashboards"},
        "Experiments: Preview and test experiments": {"preview_experiments"},
        "Session Recording: Create test recordings": {"add_test_recordings"},
        "Performance: View performance during testing": {"view_basic_performance"},
    },
}


@pytest.fixture
def setup(client, workspace, owner):
    roles = preset_roles(workspace, owner, PRESET)
    people = {name: member(workspace, roles[name], email_for(name)).user for name in ROLES}
    sites = [make_site(workspace, "Shop"), make_site(workspace, "Blog")]
    return {"api": CheckApi(client, workspace), "people": people, "sites": sites, "roles": roles}


def test_preset_has_the_five_roles_as_workspace_roles(setup):
    assert sorted(setup["roles"]) == sorted(ROLES)
    assert {role.scope for role in setup["roles"].values()} == {catalog.WORKSPACE}


def _matrix_cells(sites) -> list[Cell]:
    cells = []
    for _area, row, codename, marks in MATRIX:
        target = sites if catalog.CAPABILITIES[codename].scope == catalog.SITE else [None]
        for column, mark in zip(MATRIX_COLUMNS, marks, strict=True):
            answers = [(row, codename, mark == "✓")]
            if codename in catalog.IMPLIES:  # ○ and ✓ both include the limited view
                answers.append((f"{row} (limited)", catalog.IMPLIES[codename], mark != "-"))
            for label, code, seed_says in answers:
                expected = PROSE_WINS.get((label, column), (None, seed_says))[1]
                cells += [Cell(label, column, code, expected, where) for where in target]
    return cells


def test_every_prose_exception_overrides_a_matrix_cell():
    """Each PROSE_WINS entry names a real cell and says the opposite of the matrix."""
    seed_cells = {}
    for _area, row, codename, marks in MATRIX:
        for column, mark in zip(MATRIX_COLUMNS, marks, strict=True):
            seed_cells[(row, column)] = mark == "✓"
            if codename in catalog.IMPLIES:
                seed_cells[(f"{row} (limited)", column)] = mark != "-"
    assert {key: seed_cells.get(key) for key in PROSE_WINS} == {
        key: not answer for key, (_, answer) in PROSE_WINS.items()
    }


def test_permission_matrix_cell_by_cell(setup):
    """Every cell of the seed's matrix, on both sites, with the prose-wins exceptions."""
    assert wrong_cells(setup["api"], setup["people"], _matrix_cells(setup["sites"])) == []


@pytest.mark.parametrize("role", list(PROSE))
def test_prose_is_exhaustive(setup, role):
    """docs/RULES.md 3 (000): a non-admin role holds exactly its prose, on every site, and only
    view_workspace in the workspace (no people or billing capability)."""
    api, person = setup["api"], setup["people"][role]
    expected_site = catalog.with_implied({"view_site"}.union(*PROSE[role].values()))
    for site in setup["sites"]:
        assert api.held(person, catalog.SITE, site=site) == expected_site
    assert api.held(person, catalog.WORKSPACE) == {"view_workspace"}


def test_admin_has_everything_but_owners_and_workspace_deletion(setup):
    """docs/RULES.md 3 (000): Admin = every workspace capability but manage_owners and
    delete_workspace (billing included: "Manage subscription and billing"), every site capability."""
    api, admin = setup["api"], setup["people"]["Admin"]
    everything = set(catalog.codenames(catalog.WORKSPACE))
    assert api.held(admin, catalog.WORKSPACE) == everything - {"manage_owners", "delete_workspace"}
    for site in setup["sites"]:
        assert api.held(admin, catalog.SITE, site=site) == set(catalog.codenames(catalog.SITE))


def test_a_site_added_later_gets_the_roles_site_capabilities(setup, workspace):
    later = make_site(workspace, "Later")
    api, people = setup["api"], setup["people"]
    assert api.allowed(people["Editor"], "run_experiments", site=later)
    assert not api.allowed(people["Tester"], "run_experiments", site=later)
    assert api.allowed(people["Tester"], "add_test_recordings", site=later)
