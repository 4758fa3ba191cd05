"""manage.py load_role_preset: --list, loading, reruns, and refusals with a non-zero exit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from permissions import catalog
from permissions.models import Role
from permissions.presets import PRESETS
from permissions.services import role_save


def run(*args) -> str:
    out = StringIO()
    call_command("load_role_preset", *args, stdout=out)
    return out.getvalue()


def test_list_names_each_preset_first_then_its_title(db):
    lines = run("--list").splitlines()
    assert [line.split("\t") for line in lines] == [[p.name, p.title] for p in PRESETS.values()]


def test_load_reports_each_created_role(workspace):
    output = run("--workspace", workspace.slug, "seed-001-account-data-source")
    assert "created workspace role Account admin (s001-account-admin)" in output
    assert "created site role Advanced user (s001-advanced-user)" in output
    assert "6 changed" in output
    assert Role.objects.filter(workspace=workspace, preset="seed-001-account-data-source").count() == 6
    # The command line acts as the system: the audit log says so (no actor).
    assert set(AuditEvent.objects.filter(action="role.create").values_list("actor", flat=True)) == {None}


def test_second_run_reports_nothing_changed_and_writes_nothing(workspace):
    run("--workspace", workspace.slug, "seed-004-organization-access")
    events = AuditEvent.objects.count()
    output = run("--workspace", workspace.slug, "seed-004-organization-access")
    assert (
        output.strip() == f"Preset seed-004-organization-access is already loaded in {workspace.slug}: nothing changed."
    )
    assert AuditEvent.objects.count() == events


def test_rerun_after_an_edit_reports_the_update(workspace, owner):
    run("--workspace", workspace.slug, "seed-004-organization-access")
    role_save(
        actor=owner,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        key="s004-read-only",
        name="Read only (renamed)",
        capabilities={"view_workspace"},
    )
    output = run("--workspace", workspace.slug, "seed-004-organization-access")
    assert "updated workspace role Read Only (s004-read-only)" in output
    assert "1 changed" in output
    assert Role.objects.get(workspace=workspace, key="s004-read-only").name == "Read Only"


def test_unknown_workspace_exits_non_zero(db):
    with pytest.raises(CommandError, match="No workspace “nowhere”") as refused:
        run("--workspace", "nowhere", "seed-000-product-areas")
    assert refused.value.returncode == 1


def test_unknown_preset_exits_non_zero_and_names_the_presets(workspace):
    with pytest.raises(CommandError) as refused:
        run("--workspace", workspace.slug, "seed-999")
    assert all(name in str(refused.value) for name in PRESETS)
    assert not Role.objects.filter(workspace=workspace).exists()


def test_missing_arguments_are_refused(workspace):
    with pytest.raises(CommandError):
        run("seed-000-product-areas")
    with pytest.raises(CommandError):
        run("--workspace", workspace.slug)
