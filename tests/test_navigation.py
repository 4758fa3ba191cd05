"""The workspace navigation (portal/navigation.py, templates/workspaces/_nav.html): who sees which
entry, in which group, and which entry is marked as the current page."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from django.urls import reverse

from permissions import catalog
from portal import navigation
from portal.navigation import ENTRIES, Entry, nav_for, needs
from tests.factories import add_member, make_site

ROLES = {spec.key: spec for spec in catalog.BUILTIN_WORKSPACE_ROLES}
SLUG = "acme"


def shown(role_key: str, view_name: str = "", namespace: str = "") -> dict[str, list[str]]:
    """{group: [labels]} of what a built-in role sees, a trailing "*" on the current entry."""
    nav = nav_for(ROLES[role_key].capabilities, SLUG, view_name=view_name, namespace=namespace)
    return {group.label: [link.label + ("*" if link.current else "") for link in group.links] for group in nav.groups}


def test_owner_sees_four_groups_and_settings_pages_only_under_the_hub():
    assert shown(catalog.OWNER) == {
        "Workspace": ["Overview", "Sites", "Experiences", "My access"],
        "People and access": ["People", "Teams", "Roles", "Viewer groups"],
        "Settings": ["Settings"],
        "Activity": ["Activity"],
    }


def test_each_role_sees_only_what_it_may_open():
    assert shown(catalog.ADMIN) == shown(catalog.OWNER)
    assert shown(catalog.MEMBER) == {
        "Workspace": ["Overview", "Sites", "Experiences", "My access"],
        "People and access": ["People", "Teams", "Roles", "Viewer groups"],
        # No settings hub for a member: the settings page they may open stands in its place.
        "Settings": ["Data & privacy"],
    }
    assert shown(catalog.VIEWER) == {
        "Workspace": ["Overview", "Sites", "Experiences", "My access"],
        "People and access": ["People", "Teams", "Roles"],
    }
    assert shown(catalog.BILLING_ADMIN) == {
        "Workspace": ["Overview", "Sites", "Experiences", "My access"],
        "People and access": ["Roles"],
        "Settings": ["Settings"],
    }


def test_every_member_finds_my_access():
    for role_key in ROLES:
        assert "My access" in shown(role_key)["Workspace"]


@pytest.mark.parametrize(
    ("view_name", "namespace", "current"),
    [
        ("workspaces:detail", "workspaces", "Overview"),
        ("workspaces:site_list", "workspaces", "Sites"),
        ("workspaces:site_detail", "workspaces", "Sites"),
        ("site_access:index", "site_access", "Sites"),
        ("workspaces:experience_detail", "workspaces", "Experiences"),
        ("collaborators:index", "collaborators", "Experiences"),
        ("explain:index", "explain", "My access"),
        ("explain:mine", "explain", "My access"),
        ("people:index", "people", "People"),
        ("invite_bulk:upload", "invite_bulk", "People"),
        ("teams:detail", "teams", "Teams"),
        ("roles:create", "roles", "Roles"),
        ("settings:index", "settings", "Settings"),
        ("settings:ip_blocking", "settings", "Settings"),
        ("access_keys:list", "access_keys", "Settings"),
        ("scim_tokens:list", "scim_tokens", "Settings"),
        ("sso:add", "sso", "Settings"),
        ("webhooks:list", "webhooks", "Settings"),
        ("webhooks:create", "webhooks", "Settings"),
        ("join_domains:detail", "join_domains", "Settings"),
        ("two_factor:workspace_policy", "two_factor", "Settings"),
        ("billing:plan", "billing", "Settings"),
        ("privacy:create", "privacy", "Settings"),
        ("usage:index", "usage", "Settings"),
        ("workspaces:delete", "workspaces", "Settings"),
        ("activity:index", "activity", "Activity"),
    ],
)
def test_a_page_marks_its_entry_or_its_parent(view_name, namespace, current):
    nav = nav_for(ROLES[catalog.OWNER].capabilities, SLUG, view_name=view_name, namespace=namespace)
    assert nav.current is not None and nav.current.label == current
    assert sum(link.current for group in nav.groups for link in group.links) == 1


def test_a_stand_in_settings_page_is_marked_on_its_own_pages():
    assert shown(catalog.MEMBER, "privacy:create", "privacy")["Settings"] == ["Data & privacy*"]


def test_a_page_outside_every_entry_marks_none():
    nav = nav_for(ROLES[catalog.OWNER].capabilities, SLUG, view_name="accounts:profile", namespace="accounts")
    assert nav.current is None


def test_a_new_entry_is_one_line_of_data(monkeypatch):
    usage = Entry("Usage", "settings:details", navigation.WORKSPACE, needs("view_usage"), covers=("usage_page",))
    monkeypatch.setattr(navigation, "ENTRIES", (*ENTRIES, usage))
    assert shown(catalog.OWNER, "usage_page:index", "usage_page")["Workspace"] == [
        "Overview",
        "Sites",
        "Experiences",
        "My access",
        "Usage*",
    ]
    assert "Usage" not in shown(catalog.MEMBER)["Workspace"]


def test_an_entry_whose_page_is_not_installed_is_not_shown(monkeypatch):
    missing = replace(ENTRIES[0], label="Nowhere", url_name="nowhere:index")
    monkeypatch.setattr(navigation, "ENTRIES", (*ENTRIES, missing))
    assert "Nowhere" not in shown(catalog.OWNER)["Workspace"]


# --- rendered ------------------------------------------------------------------------------------


def nav_html(page: str) -> str:
    return page[
        page.index('<nav class="workspace-nav"') : page.index("</nav>", page.index('<nav class="workspace-nav"'))
    ]


def test_the_page_marks_its_entry_with_aria_current(client, workspace, owner):
    client.force_login(owner)
    page = client.get(reverse("access_keys:list", args=[workspace.slug])).content.decode()
    current = re.findall(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', nav_html(page))
    assert current == [(reverse("settings:index", args=[workspace.slug]), "Settings")]


def test_settings_sub_pages_are_not_in_the_top_navigation(client, workspace, owner):
    client.force_login(owner)
    nav = nav_html(client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode())
    for name in ("access_keys:list", "join_domains:index", "two_factor:workspace_policy", "billing:index"):
        assert reverse(name, args=[workspace.slug]) not in nav
    assert ">Settings</a>" in nav


def test_the_menu_is_a_details_element_that_works_without_javascript(client, workspace, owner):
    client.force_login(owner)
    nav = nav_html(client.get(reverse("people:index", args=[workspace.slug])).content.decode())
    assert '<details class="nav-menu">' in nav
    assert re.search(r"<summary>Menu<span[^>]*> · People</span></summary>", nav)


def test_the_settings_hub_links_data_and_privacy(client, workspace, owner):
    client.force_login(owner)
    page = client.get(reverse("settings:index", args=[workspace.slug])).content.decode()
    assert f'<a href="{reverse("privacy:index", args=[workspace.slug])}">Data &amp; privacy</a>' in page


def test_a_member_reaches_data_and_privacy_from_the_navigation(client, workspace):
    make_site(workspace)
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    nav = nav_html(client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode())
    assert f'<a href="{reverse("privacy:index", args=[workspace.slug])}">Data &amp; privacy</a>' in nav
    assert reverse("settings:index", args=[workspace.slug]) not in nav
