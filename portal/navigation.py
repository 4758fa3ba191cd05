"""The workspace navigation, as data: which entries exist, in which group, and who sees each.

``templates/workspaces/_nav.html`` renders what ``nav_for`` answers; nothing else decides what the
navigation shows. Adding a page to the navigation is one ``Entry`` line below. An entry is shown
to a person who may open its page (``opens_for`` reads the capabilities they hold on the workspace,
the ``ws_perms`` every workspace page already has); the server checks again when the page is
opened.

An entry is marked as the current page (``aria-current="page"``) on its own page and on every page
``covers`` names: a URL namespace (``"people"`` covers every people page, the invitation forms
included) or one view name (``"two_factor:workspace_policy"``). Sub-pages mark their parent.

Settings is one entry, the settings hub, whose cards (``workspace_settings.cards``) link each
settings page the person may open. Someone who may open a settings page but not the hub (a Member
filing data & privacy requests, say) sees those pages themselves in the Settings group instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from workspace_settings.cards import CARDS, Card

Perms = frozenset[str]

# The groups, in the order they are shown.
WORKSPACE = "Workspace"
PEOPLE = "People and access"
SETTINGS = "Settings"
ACTIVITY = "Activity"
GROUPS = (WORKSPACE, PEOPLE, SETTINGS, ACTIVITY)


def needs(*capabilities: str) -> Callable[[Perms], bool]:
    """Opens for anyone holding at least one of ``capabilities`` on the workspace."""
    return lambda perms: any(code in perms for code in capabilities)


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str  # reversed with the workspace's slug
    group: str
    opens_for: Callable[[Perms], bool]
    covers: tuple[str, ...] = ()  # namespaces and view names of the pages under this one
    # Shown in its place to whoever may not open this page but may open some of these.
    instead: tuple[Entry, ...] = field(default=(), repr=False)


def _settings_page(card: Card) -> Entry:
    return Entry(card.title, card.url_name, SETTINGS, card.opens_for, covers=(card.url_name.partition(":")[0],))


# The pages under the sites and experiences lists (view names, so they win over Overview's namespace).
SITE_PAGES = tuple(
    f"workspaces:{name}" for name in ("site_create", "site_detail", "site_edit", "site_delete", "site_session_capture")
)
EXPERIENCE_PAGES = (
    *(
        f"workspaces:{name}"
        for name in (
            "experience_create",
            "experience_detail",
            "experience_edit",
            "experience_publish",
            "experience_unpublish",
            "experience_delete",
        )
    ),
    "collaborators",
)

ENTRIES: tuple[Entry, ...] = (
    Entry(
        "Overview",
        "workspaces:detail",
        WORKSPACE,
        needs("view_workspace"),
        covers=("workspaces",),
    ),
    Entry(
        "Sites",
        "workspaces:site_list",
        WORKSPACE,
        needs("view_workspace"),
        covers=SITE_PAGES + ("site_access",),
    ),
    Entry("Experiences", "workspaces:experience_list", WORKSPACE, needs("view_workspace"), covers=EXPERIENCE_PAGES),
    Entry("My access", "explain:mine", WORKSPACE, needs("view_workspace"), covers=("explain",)),
    Entry("People", "people:index", PEOPLE, needs("view_members"), covers=("people", "invite_bulk", "join_requests")),
    Entry("Teams", "teams:index", PEOPLE, needs("view_members"), covers=("teams",)),
    Entry("Roles", "roles:index", PEOPLE, needs("view_workspace"), covers=("roles",)),
    Entry("Viewer groups", "viewer_groups:index", PEOPLE, needs("manage_viewer_groups"), covers=("viewer_groups",)),
    Entry(
        "Settings",
        "settings:index",
        SETTINGS,
        needs("view_workspace_settings"),
        covers=(
            "settings",
            "access_keys",
            "scim_tokens",
            "sso",
            "webhooks",
            "join_domains",
            "two_factor:workspace_policy",
            "billing",
            "privacy",
            "usage",
            "workspaces:delete",
        ),
        instead=tuple(_settings_page(card) for card in CARDS),
    ),
    Entry("Activity", "activity:index", ACTIVITY, needs("view_member_activity"), covers=("activity",)),
)


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class Group:
    label: str
    links: list[Link]

    @property
    def shows_label(self) -> bool:
        """A group of one link named like the group ("Settings", "Activity") needs no heading."""
        return not (len(self.links) == 1 and self.links[0].label == self.label)


@dataclass(frozen=True)
class Nav:
    groups: list[Group]

    @property
    def current(self) -> Link | None:
        return next((link for group in self.groups for link in group.links if link.current), None)


def visible_entries(perms: Perms, entries: Iterable[Entry] | None = None) -> list[Entry]:
    """The entries the person may open, with an unopenable entry replaced by its ``instead`` pages."""
    shown = []
    for entry in ENTRIES if entries is None else entries:
        if entry.opens_for(perms):
            shown.append(entry)
        else:
            shown.extend(page for page in entry.instead if page.opens_for(perms))
    return shown


def _url(entry: Entry, workspace_slug: str) -> str | None:
    try:
        return reverse(entry.url_name, args=[workspace_slug])
    except NoReverseMatch:  # a page that is not installed: no link to nowhere
        return None


def nav_for(perms: Perms, workspace_slug: str, view_name: str = "", namespace: str = "") -> Nav:
    """The groups and links one person sees, the current page's entry marked.

    The entry whose own page this is wins, then one that names the view among its pages, then one
    that covers the view's namespace: a page listed in its own right is never marked as its
    parent's sub-page, and a site's page marks Sites, not Overview (both in ``workspaces``).
    """
    entries = [(entry, url) for entry in visible_entries(perms) if (url := _url(entry, workspace_slug))]
    current = next(
        (
            entry
            for match in (
                lambda e: e.url_name == view_name,
                lambda e: view_name in e.covers,
                lambda e: namespace in e.covers,
            )
            for entry, _ in entries
            if match(entry)
        ),
        None,
    )
    groups = []
    for label in GROUPS:
        links = [Link(entry.label, url, entry is current) for entry, url in entries if entry.group == label]
        if links:
            groups.append(Group(label, links))
    return Nav(groups)
