"""Browser tests: Debian's chromium driven by Playwright's sync API against pytest-django's
live_server (a real HTTP server in this process, on a transactional test database).

Run them with ``pytest -m browser``. Without /usr/bin/chromium they are skipped, unless
BROWSER_TESTS_REQUIRED=1 (set it in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from permissions import catalog
from tests.factories import PASSWORD, UserFactory, add_member, make_team
from workspaces.teams.services import team_add_member

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse the ORM
# calls the tests and fixtures make while it is running.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium) so the browser tests cannot run"
        if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
            pytest.fail(f"BROWSER_TESTS_REQUIRED=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server, settings) -> Iterator:
    """A fresh browser context (no cookies shared between tests) whose relative URLs go to the
    live server, which also becomes the base of every link the portal mails."""
    settings.PORTAL_BASE_URL = live_server.url
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def sign_in(page, email: str, password: str = PASSWORD, *, check: bool = True) -> None:
    """Sign in through the sign-in page; with ``check``, wait until the top bar says so (leave it
    off where signing in leads on to another step, such as two-factor)."""
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    if check:
        expect(page.get_by_role("navigation", name="Account")).to_contain_text("Sign out")


@pytest.fixture
def owner():
    """The owner of ``workspace`` (tests/conftest.py's, which is "Acme") in the browser tests."""
    return UserFactory(email="olivia@acme.test", full_name="Olivia Owner")


@pytest.fixture
def crowd(workspace):
    """Acme with 60 members (Pat 00 to Pat 59, p00@acme.test…), two of them (07 and 42) in the team
    Compilers, and a Viewer, Grace Hopper: more than a page of the people page."""
    team = make_team(workspace, "Compilers")
    for n in range(60):
        member = add_member(
            workspace, catalog.MEMBER, user=UserFactory(email=f"p{n:02d}@acme.test", full_name=f"Pat {n:02d}")
        )
        if n in (7, 42):
            team_add_member(actor=None, team=team, membership=member)
    add_member(workspace, catalog.VIEWER, user=UserFactory(email="grace@navy.test", full_name="Grace Hopper"))
    return workspace


@pytest.fixture
def latest_email() -> Callable:
    """Returns a function giving the newest mail sent. The live server runs in this process, so its
    mail lands in the same locmem ``django.core.mail.outbox`` (emptied before each test)."""

    def latest(to: str | None = None):
        sent = [m for m in mail.outbox if to is None or to in m.to]
        assert sent, f"no e-mail was sent{f' to {to}' if to else ''}"
        return sent[-1]

    return latest


def link_in(message) -> str:
    """The first web link in a mail's plain-text body."""
    found = re.search(r"https?://\S+", message.body)
    assert found, f"no link in the mail {message.subject!r}"
    return found.group(0)


@pytest.fixture
def screenshot(tmp_path) -> Callable[[object, str], Path]:
    """Save a full-page screenshot as <name>.png, in $BROWSER_SCREENSHOT_DIR when set (to look at
    the pages), else in the test's temporary directory."""

    def take(page, name: str) -> Path:
        folder = Path(os.environ.get("BROWSER_SCREENSHOT_DIR") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
