"""The member picker in a real browser: on a site's access page an owner finds a member by typing
(static/js/picker.js swaps the list in, the page is not reloaded) and gives them a site role; with
JavaScript off the same picker is a search form whose "Find" button reloads the page."""

import pytest
from playwright.sync_api import expect

from permissions import catalog
from tests.factories import UserFactory, add_member, make_site
from workspaces.models import SiteGrant

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def crowd(workspace):
    """Acme's site Shop and 31 members: more than a picker shows."""
    site = make_site(workspace, "Shop")
    for n in range(30):
        add_member(workspace, catalog.MEMBER, user=UserFactory(email=f"p{n:02d}@acme.test", full_name=f"Pat {n:02d}"))
    grace = add_member(workspace, catalog.MEMBER, user=UserFactory(email="grace@navy.test", full_name="Grace Hopper"))
    return {"workspace": workspace, "site": site, "grace": grace}


def give_grace_a_role(page, crowd, *, reloads: bool) -> None:
    access = f"/w/{crowd['workspace'].slug}/sites/{crowd['site'].slug}/access/"
    page.goto(access)
    choices = page.get_by_role("group", name="Member or team")
    expect(choices.get_by_role("radio")).to_have_count(20)
    finder = page.get_by_role("search", name="Find member or team")
    finder.get_by_label("Find member or team").fill("hopper")
    if reloads:
        finder.get_by_role("button", name="Find").click()
        page.wait_for_url("**grantee_q=hopper**")
    expect(choices.get_by_role("radio")).to_have_count(1)
    if not reloads:
        assert "grantee_q" not in page.url  # the list came by fetch, the page stayed
    choices.get_by_role("radio", name="Grace Hopper").check()
    page.locator("select[name='grant-role']").select_option(index=1)  # the picker starts at Choose…
    page.get_by_role("button", name="Save the grant").click()
    expect(page.get_by_role("status")).to_contain_text("Grace Hopper has the role")
    assert SiteGrant.objects.filter(site=crowd["site"], membership=crowd["grace"]).exists()


def test_the_picker_searches_as_you_type(page, crowd):
    refused, failed = [], []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    sign_in(page, "olivia@acme.test")
    give_grace_a_role(page, crowd, reloads=False)
    assert refused == []  # the script is a static file the CSP allows
    assert [url for url in failed if not url.endswith("/favicon.ico")] == []


def test_the_picker_works_without_javascript(browser, live_server, crowd):
    context = browser.new_context(base_url=live_server.url, locale="en-US", java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, "olivia@acme.test")
        give_grace_a_role(page, crowd, reloads=True)
    finally:
        context.close()
