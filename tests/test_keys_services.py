"""Access keys: created once, stored hashed, revocable, audited; the create_access_key command."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.keys import authenticate_key, key_create, key_revoke
from permissions.models import AccessKey
from tests.factories import UserFactory, add_member, make_workspace


def _stored_text(model) -> str:
    """Every column of every row of ``model``, as one string."""
    fields = [f.attname for f in model._meta.concrete_fields]
    return "\n".join(str(value) for row in model.objects.values_list(*fields) for value in row)


def test_create_returns_the_key_once_and_stores_only_its_hash(workspace, owner):
    key, raw = key_create(actor=owner, workspace=workspace, name="  Dashboards ")
    assert raw.startswith("pk_") and len(raw) >= 3 + 43  # 32 random bytes, URL-safe base64
    assert key.name == "Dashboards"
    assert key.created_by == owner
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(key.prefix) and len(key.prefix) < 12
    assert raw not in _stored_text(AccessKey)
    assert raw[len(key.prefix) :] not in _stored_text(AccessKey)
    assert raw not in _stored_text(AuditEvent)
    assert key_create(actor=owner, workspace=workspace, name="Other")[1] != raw


def test_create_and_revoke_record_one_audit_event_each(workspace, owner):
    key, _ = key_create(actor=owner, workspace=workspace, name="Dashboards")
    created = AuditEvent.objects.get(action="access_key.create")
    assert (created.actor, created.workspace_id, created.target_id) == (owner, workspace.pk, str(key.pk))
    assert created.after == {"name": "Dashboards", "prefix": key.prefix, "scopes": ["check"]}
    key_revoke(actor=owner, key=key)
    key_revoke(actor=owner, key=key)  # already revoked: nothing changes
    assert AuditEvent.objects.filter(action="access_key.revoke").count() == 1
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_blank_name_is_refused_and_writes_nothing(workspace, owner):
    with pytest.raises(RuleViolation, match="name"):
        key_create(actor=owner, workspace=workspace, name="   ")
    assert not AccessKey.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="access_key").exists()


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_roles_without_view_access_keys_cannot_create_or_revoke(workspace, role):
    person = add_member(workspace, role).user
    with pytest.raises(PermissionDenied):
        key_create(actor=person, workspace=workspace, name="Mine")
    key, raw = key_create(actor=None, workspace=workspace, name="System")
    with pytest.raises(PermissionDenied):
        key_revoke(actor=person, key=key)
    assert AccessKey.objects.count() == 1
    assert authenticate_key(raw) == key


def test_admin_may_and_outsider_may_not(workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    key, _ = key_create(actor=admin, workspace=workspace, name="Admin's")
    outsider = make_workspace(UserFactory(), "Elsewhere").memberships.get().user
    with pytest.raises(PermissionDenied):
        key_create(actor=outsider, workspace=workspace, name="Sneaky")
    with pytest.raises(PermissionDenied):
        key_revoke(actor=outsider, key=key)
    key_revoke(actor=admin, key=key)


def test_authenticate(workspace):
    key, raw = key_create(actor=None, workspace=workspace, name="Dashboards")
    found = authenticate_key(raw)
    assert found == key and found.workspace == workspace
    for wrong in (None, "", raw[:-1], raw + "a", key.key_hash, key.prefix):
        assert authenticate_key(wrong) is None
    key_revoke(actor=None, key=key)
    assert authenticate_key(raw) is None


def test_last_use_is_recorded_at_most_once_a_minute(workspace, django_assert_num_queries):
    key, raw = key_create(actor=None, workspace=workspace, name="Dashboards")
    assert key.last_used_at is None
    with django_assert_num_queries(2):  # look-up, then the first use is written
        authenticate_key(raw)
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # within the minute: look-up only
        authenticate_key(raw)
    AccessKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    authenticate_key(raw)
    key.refresh_from_db()
    assert key.last_used_at >= first
    assert timezone.now() - key.last_used_at < timedelta(minutes=1)


# --- create_access_key -------------------------------------------------------------------------


def test_command_prints_the_key_alone_on_the_last_line(workspace):
    out = StringIO()
    call_command("create_access_key", "--workspace", workspace.slug, "--name", "Recordings", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    key = authenticate_key(raw)
    assert key is not None and key.workspace == workspace and key.name == "Recordings"
    assert key.created_by is None
    assert AuditEvent.objects.filter(action="access_key.create", actor__isnull=True).count() == 1
    assert raw not in _stored_text(AccessKey) + _stored_text(AuditEvent)


def test_command_quiet_prints_only_the_key(workspace):
    out = StringIO()
    call_command("create_access_key", "--workspace", workspace.slug, "--name", "Quiet", verbosity=0, stdout=out)
    assert authenticate_key(out.getvalue().strip()) is not None


def test_command_refuses_unknown_workspace_and_blank_name(workspace):
    with pytest.raises(CommandError, match="no-such"):
        call_command("create_access_key", "--workspace", "no-such", "--name", "X", stdout=StringIO())
    with pytest.raises(CommandError, match="name"):
        call_command("create_access_key", "--workspace", workspace.slug, "--name", " ", stdout=StringIO())
    assert not AccessKey.objects.exists()
