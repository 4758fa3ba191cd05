"""The people page at scale in a real browser: an owner searches, filters by team, pages through
the members, and downloads the export of the search."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_searches_filters_pages_and_exports(page, crowd, screenshot):
    sign_in(page, "olivia@acme.test")
    page.goto(f"/w/{crowd.slug}/people/")
    members = page.get_by_role("table", name="Members of Acme")
    expect(members.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_role("navigation", name="Pages of members")).to_contain_text("Page 1 of 2 (62 members)")

    page.get_by_role("navigation", name="Pages of members").get_by_role("link", name="Next").click()
    expect(members.locator("tbody tr")).to_have_count(12)

    search = page.get_by_role("search", name="Search members")
    search.get_by_label("Search", exact=True).fill("HOPPER")
    search.get_by_role("button", name="Search").click()
    expect(members.locator("tbody tr")).to_have_count(1)
    expect(members.get_by_role("row", name="Grace Hopper")).to_contain_text("Viewer")
    assert "q=HOPPER" in page.url

    search.get_by_label("Search", exact=True).fill("")
    search.get_by_label("Team").select_option(label="Compilers")
    search.get_by_label("Sort by").select_option(label="Name, Z to A")
    search.get_by_role("button", name="Search").click()
    expect(members.locator("tbody th")).to_have_text(["Pat 42", "Pat 07"])
    screenshot(page, "people-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export members (CSV, this search)").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"members-{crowd.slug}-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"), newline="")))
    assert [(r["email"], r["teams"]) for r in rows] == [("p42@acme.test", "Compilers"), ("p07@acme.test", "Compilers")]
