"""CSV formula injection: a name, team or address that a spreadsheet would run as a formula is written
with a leading apostrophe, by every export (``manage.py export_members`` and the activity download),
which share one writer."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from permissions import catalog
from tests.factories import UserFactory, add_member, make_team
from workspaces.teams.services import team_add_member

PAYLOADS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def export_members(*args) -> list[dict]:
    out = io.StringIO()
    call_command("export_members", "--workspace", "acme", *args, stdout=out, stderr=io.StringIO())
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_export_members_defuses_a_formula_in_a_name(workspace, payload):
    add_member(workspace, catalog.MEMBER, user=UserFactory(email="mallory@evil.test", full_name=payload))
    (mallory,) = [row for row in export_members() if row["email"] == "mallory@evil.test"]
    assert mallory["name"] == "'" + payload


def test_export_members_defuses_a_formula_in_a_team_name(workspace):
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="ann@acme.test"))
    team_add_member(actor=None, team=make_team(workspace, "=HYPERLINK(1)"), membership=member)
    (ann,) = [row for row in export_members() if row["email"] == "ann@acme.test"]
    assert ann["teams"] == "'=HYPERLINK(1)"


def test_ordinary_cells_are_unchanged(workspace, owner):
    (row,) = export_members()
    assert row["name"] == "Olivia Owner" and row["email"] == owner.email and row["role"] == "Owner"


@pytest.mark.parametrize("payload", ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)"])
def test_activity_export_and_member_export_defuse_the_same_way(client, workspace, owner, payload):
    """Both exports go through the one writer: a team named ``payload`` comes out the same in both."""
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="ann@acme.test"))
    team_add_member(actor=None, team=make_team(workspace, payload), membership=member)
    (ann,) = [row for row in export_members() if row["email"] == "ann@acme.test"]
    client.force_login(owner)
    response = client.get(reverse("activity:export", args=[workspace.slug]) + "?action=team.create")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    targets = [line[4] for line in lines[1:]]
    assert targets == [ann["teams"]] == ["'" + payload]


def test_a_line_break_in_a_name_cannot_split_a_row(workspace):
    add_member(workspace, catalog.MEMBER, user=UserFactory(email="mallory@evil.test", full_name="a\rb\nc"))
    rows = export_members()
    assert [row["email"] for row in rows] == ["mallory@evil.test", "owner@acme.test"]
    assert rows[0]["name"] == "a\rb\nc"
