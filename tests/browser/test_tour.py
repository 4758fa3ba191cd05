"""A tour of the portal in a real browser, as each built-in workspace role, on a desktop (1280 px)
and a phone (390 px).

Each role signs in once (landing on the workspace's overview: it belongs to no other) and opens
every page its navigation links to, every settings page its settings hub links to, and the first
pages under them (a site and its access page, a team, an experience), following links as a person
would. On every page, at both widths:

- nothing is wider than the window (no sideways scrolling of the page itself);
- the navigation marks exactly one entry as the current page (``aria-current="page"``): the one
  the page belongs to;
- the browser logged no error (a failing script, a style or script the CSP refused, a missing file);
- axe-core finds no serious or critical accessibility violation.

axe-core comes from npm (``package.json`` at the repository's root; ``npm ci`` installs it) and is
evaluated in the page: Playwright's evaluate is not subject to the page's Content-Security-Policy,
so the portal's own CSP stays on and anything it refuses still shows up as a console error.

Time: axe is most of it, so it runs on every page the first time the tour meets it at each width,
and again, for every role, on the navigation's own pages (what a role sees there differs most).
Colour contrast does not depend on the width: it is checked on the desktop.

With BROWSER_SCREENSHOT_DIR set, the tour saves screenshots of the main pages at both widths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team
from workspaces.invites.services import invite_create
from workspaces.overview.services import workspace_create
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member
from workspaces.viewer_groups.services import viewer_group_create

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP, PHONE = "desktop", "phone"
WIDTHS = {DESKTOP: {"width": 1280, "height": 800}, PHONE: {"width": 390, "height": 844}}
WIDTH_ONLY_SKIPS = {DESKTOP: (), PHONE: ("color-contrast",)}
NAV_LINKS = "nav[aria-label='Workspace'] .nav-groups a"
CURRENT = "nav[aria-label='Workspace'] a[aria-current='page']"
# Links to the pages under a page, followed once: (the page's navigation label, selector).
SUB_PAGE_LINKS = (
    ("Settings", "ul.settings-cards h2 a"),
    ("Sites", "main td a[href*='/sites/']"),
    ("Experiences", "main td a[href*='/experiences/']"),
    ("Teams", "main a[href*='/teams/']:not([href$='/teams/'])"),
)
SITE_ACCESS_LINK = "main a[href$='/access/']"
# Pages shown in the README and docs/screenshots, saved when BROWSER_SCREENSHOT_DIR is set.
SCREENSHOTS = {"Overview", "People", "Settings", "Activity", "Roles"}

ROLE_PEOPLE = {
    catalog.OWNER: ("olivia@acme.test", "Olivia Owner"),
    catalog.ADMIN: ("adam@acme.test", "Adam Admin"),
    catalog.MEMBER: ("maria.with-a-rather-long-address@subsidiary.acme.test", "Maria Member"),
    catalog.VIEWER: ("victor@acme.test", "Victor Viewer"),
    catalog.BILLING_ADMIN: ("bill@acme.test", "Bill Billing"),
}
TOUR_ROLES = [role.key for role in catalog.BUILTIN_WORKSPACE_ROLES]


@pytest.fixture
def acme():
    """One workspace with a member of each built-in role, a site, a team, an experience, a viewer
    group and a pending invitation, so that every page shows a table or a list; long addresses and
    names, as real ones are."""
    people = {key: UserFactory(email=email, full_name=name) for key, (email, name) in ROLE_PEOPLE.items()}
    owner = people[catalog.OWNER]
    workspace = workspace_create(actor=owner, creator=owner, name="Acme Corporation Europe")
    members = {key: add_member(workspace, key, user=people[key]) for key in ROLE_PEOPLE if key != catalog.OWNER}
    site = make_site(workspace, "Shop", url="https://shop.acme.test/a/rather/long/path/to/the/storefront")
    team = make_team(workspace, "Growth")
    team_add_member(actor=None, team=team, membership=members[catalog.MEMBER])
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), team=team)
    viewer_role = builtin_role(catalog.SITE_VIEWER, catalog.SITE)
    site_grant_set(actor=None, site=site, role=viewer_role, membership=members[catalog.VIEWER])
    make_experience(workspace, creator=owner, title="Spring launch")
    viewer_group_create(actor=owner, workspace=workspace, name="Board")
    invite_create(
        actor=owner,
        workspace=workspace,
        emails=["newcomer.with.a.long.address@partner-agency.example.org"],
        role=builtin_role(catalog.MEMBER),
        send_email=False,
    )
    return workspace


@dataclass(frozen=True)
class Stop:
    """One page of the tour: its name, its path, and the path of the navigation entry it belongs to."""

    name: str
    path: str
    entry: str

    @property
    def in_nav(self) -> bool:
        return self.path == self.entry


@dataclass
class Tour:
    """What the tour saw wrong, on every page at once, and which pages axe already checked."""

    problems: list[str] = field(default_factory=list)
    axe_checked: set[tuple[str, str]] = field(default_factory=set)

    def add(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")


def links(page, selector: str) -> list[tuple[str, str]]:
    """(text, path) of the links ``selector`` finds, in page order."""
    return page.eval_on_selector_all(selector, "els => els.map(a => [a.textContent.trim(), new URL(a.href).pathname])")


def axe_violations(page, skip: tuple[str, ...]) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each; ``skip``: rules not run."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(
        """async (skip) => {
            const rules = Object.fromEntries(skip.map(id => [id, {enabled: false}]));
            const result = await axe.run(document, {resultTypes: ["violations"], rules});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => {
                    const where = v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ");
                    return `${v.impact} ${v.id}: ${v.help} (${where})`;
                });
        }""",
        list(skip),
    )


def check(page, tour: Tour, where: str, stop: Stop, width: str, console: list[str], run_axe: bool) -> None:
    scroll_width, window_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if scroll_width > window_width:
        tour.add(where, f"the page is {scroll_width} px wide in a {window_width} px window")
    current = [path for _, path in links(page, CURRENT)]
    if current != [stop.entry]:
        tour.add(where, f"the navigation marks {current} as the current page, not {stop.entry}")
    for message in console:
        tour.add(where, f"console: {message}")
    console.clear()
    if run_axe:
        for violation in axe_violations(page, WIDTH_ONLY_SKIPS[width]):
            tour.add(where, f"axe {violation}")


def visit(page, tour: Tour, role: str, stop: Stop, width: str, console: list[str]) -> None:
    where = f"{role} on a {width}, {stop.name} ({stop.path})"
    response = page.goto(stop.path)
    if response is None or response.status != 200:
        tour.add(where, f"answered {response.status if response else 'nothing'}")
        console.clear()
        return
    run_axe = stop.in_nav and width == DESKTOP or (stop.path, width) not in tour.axe_checked
    tour.axe_checked.add((stop.path, width))
    check(page, tour, where, stop, width, console, run_axe)
    folder = os.environ.get("BROWSER_SCREENSHOT_DIR")
    if folder and role == catalog.OWNER and stop.name in SCREENSHOTS:
        # What the window shows (not the whole page), as a person first sees it: small enough to
        # put in the README (docs/screenshots/, after pngquant).
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{stop.name.lower()}-{width}.png"))


def discover(page, stops: list[Stop], stop: Stop, seen: set[str]) -> None:
    """Add the pages this page leads to (the first of each kind) to the tour."""
    found = []
    if stop.in_nav:
        found += [
            Stop(f"{stop.name} › {text}" if label == "Settings" else text, path, stop.entry)
            for label, selector in SUB_PAGE_LINKS
            if label == stop.name
            for text, path in links(page, selector)[: None if label == "Settings" else 1]
        ]
    elif "/sites/" in stop.path:
        found += [Stop("Site access", path, stop.entry) for _, path in links(page, SITE_ACCESS_LINK)[:1]]
    for new in found:
        if new.path not in seen:
            seen.add(new.path)
            stops.append(new)


def tour_as(browser, base_url: str, tour: Tour, role: str, workspace) -> None:
    """One role's tour: sign in, then every page at both widths, the desktop pass finding the pages."""
    context = browser.new_context(base_url=base_url, locale="en-US", viewport=WIDTHS[DESKTOP])
    context.set_default_timeout(15_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console.append(str(error)))
    try:
        sign_in(page, ROLE_PEOPLE[role][0])
        overview = f"/w/{workspace.slug}/"
        if urlsplit(page.url).path != overview:
            tour.add(role, f"sign-in led to {page.url}, not to the one workspace's overview")
        stops = [Stop(text, path, path) for text, path in links(page, NAV_LINKS)]
        seen = {stop.path for stop in stops}
        for stop in stops:  # grows as pages are found
            visit(page, tour, role, stop, DESKTOP, console)
            discover(page, stops, stop, seen)
        page.set_viewport_size(WIDTHS[PHONE])
        for stop in stops:
            visit(page, tour, role, stop, PHONE, console)
    finally:
        context.close()


def test_every_role_on_a_desktop_and_a_phone(browser, live_server, settings, acme):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` at the repository's root", pytrace=False)
    settings.PORTAL_BASE_URL = live_server.url
    tour = Tour()
    for role in TOUR_ROLES:
        tour_as(browser, live_server.url, tour, role, acme)
    assert not tour.problems, "\n".join(tour.problems)


def test_the_phone_menu_and_the_error_pages(browser, live_server, acme):
    """On a phone the navigation folds into a Menu that opens without JavaScript; open, it fits and
    passes axe. The 403 and 404 pages fit both widths and pass axe too."""
    member_email = ROLE_PEOPLE[catalog.MEMBER][0]
    no_script = browser.new_context(base_url=live_server.url, viewport=WIDTHS[PHONE], java_script_enabled=False)
    try:
        page = no_script.new_page()
        sign_in(page, member_email)
        people = page.get_by_role("navigation", name="Workspace").get_by_role("link", name="People")
        expect(people).to_be_hidden()
        page.get_by_text("Menu", exact=False).first.click()
        expect(people).to_be_visible()
        people.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("People")
    finally:
        no_script.close()

    context = browser.new_context(base_url=live_server.url, viewport=WIDTHS[PHONE])
    tour = Tour()
    try:
        page = context.new_page()
        console: list[str] = []
        # The error pages' own status is logged as a failed resource; anything else is a finding.
        page.on(
            "console",
            lambda message: (
                console.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )
        sign_in(page, member_email)
        overview = f"/w/{acme.slug}/"
        page.locator("nav[aria-label='Workspace'] summary").click()
        check(
            page, tour, "member on a phone, the open menu", Stop("Overview", overview, overview), PHONE, console, True
        )
        for width in (PHONE, DESKTOP):
            page.set_viewport_size(WIDTHS[width])
            refused = page.goto(f"/w/{acme.slug}/roles/new/")
            assert refused.status == 403
            expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
            expect(page.locator("main")).to_contain_text("Manage custom roles")
            expect(page.locator("main")).to_contain_text("Olivia Owner")
            roles = f"/w/{acme.slug}/roles/"
            check(page, tour, f"member on a {width}, 403", Stop("403", roles, roles), width, console, True)
            missing = page.goto("/w/no-such-workspace/people/")
            assert missing.status == 404
            expect(page.get_by_role("heading", level=1)).to_have_text("There is no page here")
            scroll_width, window_width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            assert scroll_width <= window_width
            tour.problems += [f"404 on a {width}: axe {v}" for v in axe_violations(page, WIDTH_ONLY_SKIPS[width])]
    finally:
        context.close()
    assert not tour.problems, "\n".join(tour.problems)
