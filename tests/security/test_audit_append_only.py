"""The audit log is append-only in the database itself: on PostgreSQL a trigger refuses UPDATE and
DELETE of audit rows, even as raw SQL. The one change it lets through is the one the product needs:
deleting a person's account sets actor_id to NULL (actor_email keeps who it was) and nothing else.
Deleting a workspace leaves its events as they were."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services import record
from tests.factories import UserFactory, make_site, make_workspace
from workspaces.overview.services import workspace_delete

pytestmark = pytest.mark.postgres_only


def raw(sql: str, *params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def snapshot(pk: int) -> dict:
    return AuditEvent.objects.filter(pk=pk).values().get()


@pytest.fixture
def event(workspace, owner):
    return record(action="team.create", actor=owner, workspace=workspace, after={"name": "Growth"})


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'nothing.happened' WHERE id = %s",
        "UPDATE audit_auditevent SET actor_email = 'someone-else@x.test' WHERE id = %s",
        "UPDATE audit_auditevent SET created_at = created_at - interval '1 year' WHERE id = %s",
        "UPDATE audit_auditevent SET after = '{}'::jsonb WHERE id = %s",
        "UPDATE audit_auditevent SET workspace_id = NULL WHERE id = %s",
        "UPDATE audit_auditevent SET actor_id = NULL, actor_email = '' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_raw_sql_cannot_rewrite_or_erase_an_event(event, sql):
    before = snapshot(event.pk)
    with pytest.raises(DatabaseError, match="append-only"):
        raw(sql, event.pk)
    assert snapshot(event.pk) == before


def test_raw_sql_cannot_give_an_event_another_actor(event):
    other = UserFactory(email="scapegoat@acme.test")
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE audit_auditevent SET actor_id = %s WHERE id = %s", other.pk, event.pk)


def test_the_orm_bypass_is_refused_too(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="nothing.happened")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk)._raw_delete(connection.alias)


def test_deleting_the_actors_account_keeps_the_event(workspace):
    actor = UserFactory(email="leaver@acme.test")
    event = record(action="team.create", actor=actor, workspace=workspace, after={"name": "Growth"})
    before, actor_id = snapshot(event.pk), actor.pk
    actor.delete()
    after = snapshot(event.pk)
    assert after.pop("actor_id") is None and before.pop("actor_id") == actor_id
    assert after == before and after["actor_email"] == "leaver@acme.test"


def test_deleting_a_workspace_leaves_its_events_untouched(owner):
    workspace = make_workspace(owner, "Doomed")
    make_site(workspace, "Shop")
    workspace_id = workspace.pk
    before = list(AuditEvent.objects.filter(workspace_id=workspace_id).order_by("pk").values())
    assert before
    workspace_delete(actor=owner, workspace=workspace)
    after = list(AuditEvent.objects.filter(workspace_id=workspace_id).order_by("pk").values())
    assert after[: len(before)] == before
    assert AuditEvent.objects.filter(action="workspace.delete", workspace_name="Doomed").exists()
