"""The people page's bulk actions in a real browser, at 1280 px: an owner searches, ticks rows on two
pages (the optional script carries the first page's ticks), changes their role and reads the
report; then takes every member matching a filter. Also the members CSV download, and a bulk
invite file with one bad row, named in the preview."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from permissions import catalog
from permissions.forms import role_choice_label
from permissions.roles import builtin_role
from workspaces.models import Invite, Membership

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1280, 900


def role_of(workspace, email: str) -> str:
    return Membership.objects.select_related("role").get(workspace=workspace, user__email=email).role.name


def test_owner_ticks_rows_on_two_pages_changes_their_role_and_reads_the_report(page, crowd, screenshot):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{crowd.slug}/people/")
    search = page.get_by_role("search", name="Search members")
    search.get_by_label("Search", exact=True).fill("pat")
    search.get_by_label("Sort by").select_option(label="Name, A to Z")
    search.get_by_role("button", name="Search").click()
    members = page.get_by_role("table", name="Members of Acme")
    expect(members.locator("tbody tr")).to_have_count(50)

    page.get_by_label("Select Pat 03").check()
    page.get_by_label("Select Pat 04").check()
    bulk = page.get_by_role("form", name="With several members")
    expect(bulk.locator(".bulk-count")).to_have_text("2 selected")
    page.get_by_role("navigation", name="Pages of members").get_by_role("link", name="Next").click()
    expect(members.locator("tbody tr")).to_have_count(10)
    page.get_by_label("Select Pat 55").check()
    expect(bulk.locator(".bulk-count")).to_have_text("3 selected (2 on other pages)")
    bulk.get_by_label("New workspace role").select_option(label=role_choice_label(builtin_role(catalog.VIEWER)))
    screenshot(page, "people-bulk-selected")
    bulk.get_by_role("button", name="Change role").click()

    expect(page.get_by_role("heading", name="Change the workspace role to Viewer")).to_be_visible()
    expect(page.locator(".bulk-summary")).to_have_text("3 changed, 0 unchanged, 0 refused.")
    report = page.get_by_role("table")
    for email in ("p03@acme.test", "p04@acme.test", "p55@acme.test"):
        expect(report.get_by_role("row", name=email)).to_contain_text("Member → Viewer")
    screenshot(page, "people-bulk-report")
    assert {role_of(crowd, e) for e in ("p03@acme.test", "p04@acme.test", "p55@acme.test")} == {"Viewer"}
    assert role_of(crowd, "p05@acme.test") == "Member"

    # every member matching a filter, on the server: the team's two members become Admin
    page.get_by_role("link", name="Back to the people of Acme").click()
    assert "q=pat" in page.url
    search.get_by_label("Search", exact=True).fill("")
    search.get_by_label("Team").select_option(label="Compilers")
    search.get_by_role("button", name="Search").click()
    expect(members.locator("tbody tr")).to_have_count(2)
    bulk.get_by_label("All 2 members matching this search").check()
    bulk.get_by_label("New workspace role").select_option(label=role_choice_label(builtin_role(catalog.ADMIN)))
    bulk.get_by_role("button", name="Change role").click()
    expect(page.locator(".bulk-summary")).to_have_text("2 changed, 0 unchanged, 0 refused.")
    assert role_of(crowd, "p07@acme.test") == role_of(crowd, "p42@acme.test") == "Admin"


def test_owner_downloads_the_members_csv(page, crowd):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{crowd.slug}/people/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export members (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"members-{crowd.slug}-") and download.suggested_filename.endswith(
        ".csv"
    )
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 62
    assert {"email": "grace@navy.test", "role": "Viewer"}.items() <= next(
        r for r in rows if r["email"] == "grace@navy.test"
    ).items()


def test_bulk_invite_file_with_one_bad_row_names_it_in_the_preview(page, crowd, tmp_path, screenshot):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{crowd.slug}/people/")
    page.get_by_role("link", name="Invite from a CSV file").click()
    upload = tmp_path / "people.csv"
    upload.write_text("email,role\nann@new.test,member\nnot-an-address,member\nbob@new.test,viewer\n", encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="This file cannot be used")).to_be_visible()
    problems = page.get_by_role("table")
    expect(problems.locator("tbody tr")).to_have_count(1)
    expect(problems.locator("tbody tr td").first).to_have_text("3")  # the header is line 1
    expect(problems).to_contain_text("not-an-address")
    expect(page.get_by_role("button", name="Invite them")).to_have_count(0)
    screenshot(page, "invite-bulk-bad-row")
    assert not Invite.objects.filter(workspace=crowd).exists()
