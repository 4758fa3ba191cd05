"""docs/CAPABILITIES.md is generated from the catalog and must match it: this is the CI check that
the reference in the repository is current (run ``manage.py capabilities_reference`` to refresh)."""

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from permissions import catalog

REFERENCE = Path(settings.BASE_DIR) / "docs" / "CAPABILITIES.md"


def generated() -> str:
    out = StringIO()
    call_command("capabilities_reference", output="-", stdout=out)
    return out.getvalue()


def test_the_reference_in_the_repository_is_what_the_catalog_generates():
    assert REFERENCE.read_text(encoding="utf-8") == generated(), (
        "docs/CAPABILITIES.md is stale: run `manage.py capabilities_reference` and commit the file."
    )


def test_every_codename_has_a_row_with_its_scope_area_and_description():
    text = generated()
    for scope in catalog.SCOPES:
        section = text.split(f"## {scope.capitalize()} capabilities")[1].split("\n## ")[0]
        for cap in catalog.BY_SCOPE[scope]:
            row = next(line for line in section.splitlines() if line.startswith(f"| `{cap.codename}` |"))
            assert f"| {cap.area} | {cap.label} | {cap.description} |" in row


def test_holders_follow_the_builtin_roles():
    rows = {line.split("|")[1].strip(" `"): line for line in generated().splitlines() if line.startswith("| `")}
    assert rows["view_all_analytics"].rstrip(" |").endswith("Owner, Admin, Member, Viewer")
    assert "Billing admin" not in rows["view_members"]
    assert "Editor (site role)" in rows["change_dashboards"] and "Member" not in rows["change_dashboards"]
    assert "Collaborator (that experience)" in rows["publish_experience"]
    assert "Collaborator" not in rows["delete_experience"]


def test_check_refuses_a_stale_file_and_writing_refreshes_it(tmp_path):
    target = tmp_path / "CAPABILITIES.md"
    target.write_text("# old\n", encoding="utf-8")
    with pytest.raises(CommandError, match="out of date"):
        call_command("capabilities_reference", output=str(target), check=True, stdout=StringIO())
    call_command("capabilities_reference", output=str(target), stdout=StringIO())
    call_command("capabilities_reference", output=str(target), check=True, stdout=StringIO())
    assert target.read_text(encoding="utf-8") == generated()
