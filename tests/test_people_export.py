"""The members export in the browser: /w/<ws>/people/export.csv and .json, for export_members
holders only, streamed, with the people page's search and filters, the columns of
``manage.py export_members`` and formula-safe cells; its cost does not grow with the members."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from tests.twofactor_factories import enable_two_factor
from workspaces.management.commands.export_members import COLUMNS
from workspaces.models import Membership
from workspaces.people import selectors
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db


def export(client, user, workspace, fmt="csv", params=None):
    client.force_login(user)
    return client.get(reverse(f"people:export_{fmt}", args=[workspace.slug]), params or {})


def body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response), newline="")))


@pytest.fixture
def staffed(workspace):
    site = make_site(workspace, "Shop")
    team = make_team(workspace, "Growth")
    ann = add_member(workspace, catalog.MEMBER, user=UserFactory(email="ann@example.com", full_name="Ann Anders"))
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=ann)
    team_add_member(actor=None, team=team, membership=ann)
    bob = add_member(workspace, catalog.VIEWER, user=UserFactory(email="bob@example.com", full_name="Bob Brown"))
    enable_two_factor(bob.user)
    return {"ann": ann, "bob": bob, "team": team}


def test_csv_has_the_commands_columns_and_rows(client, workspace, owner, staffed):
    response = export(client, owner, workspace, params={"sort": "email"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="members-{workspace.slug}-')
    rows = read_csv(response)
    assert tuple(rows[0]) == COLUMNS
    assert [r["email"] for r in rows] == ["ann@example.com", "bob@example.com", "owner@acme.test"]
    ann = rows[0]
    assert (ann["name"], ann["role"], ann["sites"], ann["teams"]) == ("Ann Anders", "Member", "shop:Editor", "Growth")
    assert ann["joined"] == staffed["ann"].joined_at.isoformat()


def test_json_has_the_same_rows(client, workspace, owner, staffed):
    response = export(client, owner, workspace, "json", {"sort": "email"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    members = json.loads(body(response))
    assert members[0] == {
        "email": "ann@example.com",
        "name": "Ann Anders",
        "role": "Member",
        "sites": ["shop:Editor"],
        "teams": ["Growth"],
        "joined": Membership.objects.get(pk=staffed["ann"].pk).joined_at.isoformat(),
    }
    assert len(members) == 3


@pytest.mark.parametrize(
    ("params", "emails"),
    [
        ({"q": "brown"}, ["bob@example.com"]),
        ({"two_factor": "yes"}, ["bob@example.com"]),
        ({"role": "member"}, None),  # not a role id: ignored, everyone
        ({"sort": "-email", "page": "2"}, ["owner@acme.test", "bob@example.com", "ann@example.com"]),
    ],
)
def test_the_page_search_and_filters_apply(client, workspace, owner, staffed, params, emails):
    rows = read_csv(export(client, owner, workspace, params=params))
    got = [r["email"] for r in rows]
    assert got == emails if emails is not None else len(got) == 3


def test_team_filter_applies(client, workspace, owner, staffed):
    rows = read_csv(export(client, owner, workspace, params={"team": staffed["team"].pk}))
    assert [r["email"] for r in rows] == ["ann@example.com"]
    members = json.loads(body(export(client, owner, workspace, "json", {"team": staffed["team"].pk})))
    assert [m["email"] for m in members] == ["ann@example.com"]


@pytest.mark.parametrize("payload", ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1+1"])
def test_formulas_are_defused(client, workspace, owner, payload):
    mallory = add_member(workspace, catalog.MEMBER, user=UserFactory(email="mallory@evil.test", full_name=payload))
    team_add_member(actor=None, team=make_team(workspace, "=HYPERLINK(1)"), membership=mallory)
    (row,) = [r for r in read_csv(export(client, owner, workspace)) if r["email"] == "mallory@evil.test"]
    assert row["name"] == "'" + payload and row["teams"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_roles_without_export_members_are_refused(client, workspace, role_key, fmt):
    member = add_member(workspace, role_key)
    assert export(client, member.user, workspace, fmt).status_code == 403


def test_other_workspaces_and_signed_out_are_refused(client, workspace, owner, staffed):
    other = make_workspace(UserFactory(), "Other")
    assert export(client, owner, other).status_code == 404
    client.logout()
    response = client.get(reverse("people:export_csv", args=[workspace.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_admin_exports_and_the_page_links_with_the_search(client, workspace, owner, staffed):
    admin = add_member(workspace, catalog.ADMIN)
    assert export(client, admin.user, workspace).status_code == 200
    client.force_login(owner)
    html = client.get(reverse("people:index", args=[workspace.slug]), {"q": "ann", "page": "1"}).content.decode()
    assert f"/w/{workspace.slug}/people/export.csv?q=ann" in html
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    html = client.get(reverse("people:index", args=[workspace.slug])).content.decode()
    assert "export.csv" not in html


@pytest.mark.parametrize("params", [{"q": "\x00"}, {"page": "٣", "sort": "x", "joined_since": "0000-00-00"}])
def test_hostile_parameters_never_break_the_export(client, workspace, owner, staffed, params):
    assert export(client, owner, workspace, params=params).status_code == 200


# session, user, membership with its workspace, permissions; roles and teams for the filter form;
# members, their own site grants, their teams (one chunk)
EXPORT_QUERIES = 9


@pytest.mark.parametrize("size", [5, 300])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_cost_is_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size, fmt):
    site = make_site(workspace, "Shop")
    team = make_team(workspace, "Growth")
    for _ in range(size - 1):
        member = add_member(workspace, catalog.MEMBER)
        team_add_member(actor=None, team=team, membership=member)
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=member)
    client.force_login(owner)
    with django_assert_num_queries(EXPORT_QUERIES):
        response = client.get(reverse(f"people:export_{fmt}", args=[workspace.slug]), {"q": "@"})
        text = body(response)
    count = len(json.loads(text)) if fmt == "json" else len(list(csv.reader(io.StringIO(text)))) - 1
    assert count == size


def test_rows_are_read_a_chunk_at_a_time(client, workspace, owner, django_assert_num_queries, monkeypatch):
    """Memory does not grow with the rows: the members come through an iterator in chunks (two
    chunks here cost two more prefetch pairs of queries), never as one list."""
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 3)
    for _ in range(5):
        add_member(workspace, catalog.MEMBER)
    client.force_login(owner)
    with django_assert_num_queries(EXPORT_QUERIES + 2):
        rows = read_csv(client.get(reverse("people:export_csv", args=[workspace.slug])))
    assert len(rows) == 6
