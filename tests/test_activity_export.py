"""The activity export: the same events and filters as the page, as a streamed CSV file, from one
query whatever the size of the log."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.overview.services import workspace_update
from workspaces.people.services import member_change_role

HEADER = ["time", "actor", "action", "target type", "target", "before", "after", "ip address"]


def export_url(workspace, **query) -> str:
    base = reverse("activity:export", args=[workspace.slug])
    return f"{base}?{urlencode(query)}" if query else base


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def event_at(workspace, when, *, actor_email="ann@acme.test", target="Growth", action="team.create"):
    return AuditEvent.objects.create(
        workspace=workspace,
        workspace_name=workspace.name,
        actor_email=actor_email,
        action=action,
        target_type="team",
        target_id="1",
        target_repr=target,
        after={"name": target},
        ip_address="203.0.113.7",
        created_at=when,
    )


def test_columns_and_a_row(client, workspace, owner):
    workspace_update(actor=owner, workspace=workspace, name=workspace.name, time_zone="Europe/Paris")
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    client.force_login(owner)
    member_change_role(actor=owner, membership=member, role=builtin_role(catalog.VIEWER))
    response = client.get(export_url(workspace))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="activity-{workspace.slug}-')
    lines = read_csv(response)
    assert lines[0] == HEADER
    newest = dict(zip(HEADER, lines[1], strict=True))
    event = AuditEvent.objects.filter(action="member.role_change").get()
    assert datetime.fromisoformat(newest["time"]) == event.created_at
    assert newest["time"].endswith(("+01:00", "+02:00"))  # Paris time, with its offset
    assert newest["actor"] == owner.email
    assert newest["action"] == "member.role_change"
    assert newest["target type"] == "membership" and newest["target"] == "mia@acme.test"
    assert json.loads(newest["before"]) == {"user": "mia@acme.test", "role": "Member"}
    assert json.loads(newest["after"]) == {"user": "mia@acme.test", "role": "Viewer"}
    assert [line[2] for line in lines[1:]] == [
        "member.role_change",
        "member.join",
        "workspace.update",
        "workspace.create",
    ]
    joined = dict(zip(HEADER, lines[2], strict=True))
    assert joined["actor"] == "system" and joined["before"] == ""


def test_ip_address_column_holds_the_address_of_the_request_that_made_the_change(client, workspace, owner):
    client.force_login(owner)
    created = client.post(
        reverse("access_keys:create", args=[workspace.slug]),
        {"name": "CI", "scopes": ["check"]},
        REMOTE_ADDR="198.51.100.4",
    )
    assert created.status_code == 200
    lines = read_csv(client.get(export_url(workspace, action="access_key.create")))
    assert [(line[2], line[-1]) for line in lines[1:]] == [("access_key.create", "198.51.100.4")]


def test_the_page_filters_apply(client, workspace, owner):
    day = datetime(2024, 5, 10, 12, tzinfo=UTC)
    event_at(workspace, day, actor_email="ann@acme.test", target="A")
    event_at(workspace, day + timedelta(days=1), actor_email="bob@acme.test", target="B")
    event_at(workspace, day + timedelta(days=2), actor_email="ann@acme.test", target="C", action="team.delete")
    client.force_login(owner)
    targets = [line[4] for line in read_csv(client.get(export_url(workspace, person="ann")))[1:]]
    assert targets == ["C", "A"]
    targets = [line[4] for line in read_csv(client.get(export_url(workspace, since="2024-05-11", until="2024-05-11")))]
    assert targets == ["target", "B"]
    targets = [line[4] for line in read_csv(client.get(export_url(workspace, action="team.delete")))]
    assert targets == ["target", "C"]


def test_bad_filters_go_back_to_the_page_which_says_why(client, workspace, owner):
    client.force_login(owner)
    response = client.get(export_url(workspace, since="2024-05-12", until="2024-05-10"), follow=True)
    assert response.redirect_chain[0][0] == (
        reverse("activity:index", args=[workspace.slug]) + "?since=2024-05-12&until=2024-05-10"
    )
    assert "The last day must not be before the first day." in response.content.decode()


def test_cells_that_a_spreadsheet_would_run_are_defused(client, workspace, owner):
    event_at(workspace, datetime(2024, 1, 1, tzinfo=UTC), actor_email="=cmd@evil.test", target='=HYPERLINK("x")')
    event_at(workspace, datetime(2024, 1, 2, tzinfo=UTC), actor_email="@x", target="-2+3")
    client.force_login(owner)
    lines = read_csv(client.get(export_url(workspace, action="team.create")))
    assert [(line[1], line[4]) for line in lines[1:]] == [("'@x", "'-2+3"), ("'=cmd@evil.test", '\'=HYPERLINK("x")')]


def test_only_this_workspaces_events(client, workspace, owner):
    other = make_workspace(UserFactory(email="boss@other.test"), "Other corp")
    event_at(other, datetime(2024, 1, 1, tzinfo=UTC), target="Their secret")
    client.force_login(owner)
    content = b"".join(client.get(export_url(workspace)).streaming_content).decode()
    assert "Their secret" not in content and "boss@other.test" not in content


EXPORT_QUERIES = 5  # session, user, membership with its workspace, workspace permissions, the events


@pytest.mark.parametrize("size", [5, 300])
def test_query_count_does_not_grow(client, workspace, owner, django_assert_num_queries, size):
    users = UserFactory.create_batch(size)
    for user in users:
        add_member(workspace, catalog.MEMBER, user)
    when = datetime(2024, 1, 1, tzinfo=UTC)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(workspace=workspace, actor_email=users[n].email, action="team.create", created_at=when)
            for n in range(size)
        ]
    )
    client.force_login(owner)
    with django_assert_num_queries(EXPORT_QUERIES):
        lines = read_csv(client.get(export_url(workspace)))
    assert len(lines) == 1 + 2 * size + 1  # header, joins and events, the workspace's creation


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_roles_without_the_capability_get_403(client, workspace, role):
    client.force_login(add_member(workspace, role).user)
    assert client.get(export_url(workspace)).status_code == 403


def test_non_members_get_404(client, workspace):
    client.force_login(UserFactory())
    assert client.get(export_url(workspace)).status_code == 404
