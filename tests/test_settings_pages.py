"""Who may open which settings page: every page from the allowed and the refused side, generated
from the built-in roles in the catalog; the overview shows only the cards a person may open."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspace_settings.cards import CARDS, card_url
from workspaces.sites.services import site_grant_set

# url name, extra URL args, the workspace capability that opens it (None: session capture, a site one)
PAGES = [
    ("settings:index", [], "view_workspace_settings"),
    ("settings:details", [], "change_workspace"),
    ("settings:ip_blocking", [], "manage_ip_blocking"),
    ("settings:integrations", [], "manage_integrations"),
    ("settings:integration", ["google_analytics"], "manage_integrations"),
    ("settings:user_attributes", [], "manage_user_attributes"),
    ("settings:policies", [], "manage_policies"),
    ("sso:index", [], "manage_sso"),
    ("settings:session_capture", [], None),
]
ROLES = {spec.key: spec for spec in catalog.BUILTIN_WORKSPACE_ROLES}


def allowed(role_key: str, capability: str | None) -> bool:
    spec = ROLES[role_key]
    if capability is None:
        return "manage_session_capture" in spec.site_capabilities
    return capability in spec.capabilities


MATRIX = [
    pytest.param(name, args, role, allowed(role, capability), id=f"{name}-{role}")
    for name, args, capability in PAGES
    for role in ROLES
]


@pytest.mark.parametrize("name, args, role, expected", MATRIX)
def test_each_page_opens_only_for_roles_holding_its_capability(client, workspace, owner, name, args, role, expected):
    person = owner if role == catalog.OWNER else add_member(workspace, role).user
    client.force_login(person)
    response = client.get(reverse(name, args=[workspace.slug, *args]))
    assert response.status_code == (200 if expected else 403)


def test_the_matrix_is_not_trivial():
    # Owner and Admin open the pages; Member and Viewer open none; Billing admin only the overview.
    assert allowed(catalog.ADMIN, "manage_ip_blocking") and not allowed(catalog.ADMIN, "manage_sso")
    assert not any(allowed(catalog.MEMBER, cap) or allowed(catalog.VIEWER, cap) for _n, _a, cap in PAGES)
    assert [cap for _n, _a, cap in PAGES if allowed(catalog.BILLING_ADMIN, cap)] == ["view_workspace_settings"]


@pytest.mark.parametrize("name, args, _capability", PAGES)
def test_non_member_gets_404_on_every_page(client, workspace, name, args, _capability):
    client.force_login(make_workspace(UserFactory(), "Elsewhere").memberships.get().user)
    assert client.get(reverse(name, args=[workspace.slug, *args])).status_code == 404


@pytest.mark.parametrize("name, args, _capability", PAGES)
def test_signed_out_visitor_is_sent_to_sign_in(client, workspace, name, args, _capability):
    response = client.get(reverse(name, args=[workspace.slug, *args]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_unknown_integration_is_404(client, workspace, owner):
    client.force_login(owner)
    assert client.get(reverse("settings:integration", args=[workspace.slug, "myspace"])).status_code == 404


# --- the overview --------------------------------------------------------------------------------


def card_links(page: str, workspace) -> set[str]:
    """The settings-page URLs linked from the overview's cards."""
    cards = page[page.index('aria-label="Settings pages"') :] if 'aria-label="Settings pages"' in page else ""
    return set(re.findall(r'<h2><a href="([^"]+)">', cards))


def expected_links(workspace, capabilities: set[str]) -> set[str]:
    return {url for card in CARDS if card.capability in capabilities and (url := card_url(card, workspace.slug))}


def test_owner_sees_every_card(client, workspace, owner):
    client.force_login(owner)
    page = client.get(reverse("settings:index", args=[workspace.slug])).content.decode()
    links = card_links(page, workspace)
    assert links == expected_links(workspace, set(ROLES[catalog.OWNER].capabilities) | {"manage_session_capture"})
    for name in ("details", "ip_blocking", "integrations", "user_attributes", "policies", "session_capture"):
        assert reverse(f"settings:{name}", args=[workspace.slug]) in links
    assert reverse("access_keys:list", args=[workspace.slug]) in links
    assert reverse("sso:index", args=[workspace.slug]) in links


def test_admin_sees_every_card_but_sso_and_billing(client, workspace):
    client.force_login(add_member(workspace, catalog.ADMIN).user)
    page = client.get(reverse("settings:index", args=[workspace.slug])).content.decode()
    links = card_links(page, workspace)
    assert links == expected_links(workspace, set(ROLES[catalog.ADMIN].capabilities) | {"manage_session_capture"})
    assert reverse("sso:index", args=[workspace.slug]) not in links
    assert reverse("settings:ip_blocking", args=[workspace.slug]) in links


def test_billing_admin_sees_the_overview_with_only_the_billing_card(client, workspace):
    make_site(workspace, "Shop")
    client.force_login(add_member(workspace, catalog.BILLING_ADMIN).user)
    response = client.get(reverse("settings:index", args=[workspace.slug]))
    assert response.status_code == 200
    links = card_links(response.content.decode(), workspace)
    billing = next(card for card in CARDS if card.capability == "manage_billing")
    assert links == ({card_url(billing, workspace.slug)} if card_url(billing, workspace.slug) else set())
    assert "/settings/ip-blocking/" not in response.content.decode()


def test_settings_link_in_the_workspace_nav_follows_the_capability(client, workspace, owner):
    url = reverse("settings:index", args=[workspace.slug])
    detail = reverse("workspaces:detail", args=[workspace.slug])
    client.force_login(owner)
    assert f'<a href="{url}">Settings</a>' in client.get(detail).content.decode()
    client.force_login(add_member(workspace, catalog.MEMBER).user)
    assert f'<a href="{url}">Settings</a>' not in client.get(detail).content.decode()


# --- session capture: a site capability ----------------------------------------------------------


@pytest.fixture
def shop_and_blog(workspace):
    return make_site(workspace, "Shop"), make_site(workspace, "Blog")


def site_admin_on(workspace, site):
    member = add_member(workspace, catalog.MEMBER)
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.SITE_ADMIN, catalog.SITE), membership=member)
    return member.user


def toggle_url(workspace, site) -> str:
    return reverse("settings:session_capture_set", args=[workspace.slug, site.slug])


def test_a_site_admin_member_sees_only_their_site(client, workspace, shop_and_blog):
    shop, blog = shop_and_blog
    client.force_login(site_admin_on(workspace, shop))
    response = client.get(reverse("settings:session_capture", args=[workspace.slug]))
    assert response.status_code == 200
    assert [site.name for site in response.context["sites"]] == ["Shop"]
    assert toggle_url(workspace, shop) in response.content.decode()
    assert toggle_url(workspace, blog) not in response.content.decode()


def test_a_site_admin_member_switches_their_site_but_not_another(client, workspace, shop_and_blog):
    from audit.models import AuditEvent

    shop, blog = shop_and_blog
    client.force_login(site_admin_on(workspace, shop))
    response = client.post(toggle_url(workspace, shop), {"enabled": "on"}, follow=True)
    assert "Session capture is on for “Shop”." in response.content.decode()
    assert client.post(toggle_url(workspace, blog), {"enabled": "on"}).status_code == 403
    shop.refresh_from_db(), blog.refresh_from_db()
    assert shop.session_capture and not blog.session_capture
    assert AuditEvent.objects.filter(action="site.session_capture").count() == 1


def test_owner_switches_capture_off_and_a_repeat_changes_nothing(client, workspace, owner, shop_and_blog):
    from audit.models import AuditEvent

    shop, _blog = shop_and_blog
    client.force_login(owner)
    client.post(toggle_url(workspace, shop), {"enabled": "on"})
    client.post(toggle_url(workspace, shop), {"enabled": "on"})
    client.post(toggle_url(workspace, shop), {"enabled": "off"})
    shop.refresh_from_db()
    assert not shop.session_capture
    assert AuditEvent.objects.filter(action="site.session_capture").count() == 2


def test_bad_toggle_value_changes_nothing(client, workspace, owner, shop_and_blog):
    shop, _blog = shop_and_blog
    client.force_login(owner)
    response = client.post(toggle_url(workspace, shop), {"enabled": "maybe"}, follow=True)
    assert "Choose whether session capture is on or off." in response.content.decode()
    shop.refresh_from_db()
    assert not shop.session_capture


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_toggle_refused_without_the_capability(client, workspace, shop_and_blog, role):
    shop, _blog = shop_and_blog
    client.force_login(add_member(workspace, role).user)
    assert client.post(toggle_url(workspace, shop), {"enabled": "on"}).status_code == 403
    shop.refresh_from_db()
    assert not shop.session_capture


def test_toggle_for_outsiders_and_other_workspaces_sites_is_404(client, workspace, owner, shop_and_blog):
    shop, _blog = shop_and_blog
    elsewhere = make_workspace(owner, "Elsewhere")
    theirs = make_site(elsewhere, "Theirs")
    client.force_login(owner)
    assert client.post(toggle_url(workspace, theirs), {"enabled": "on"}).status_code == 404
    client.force_login(make_workspace(UserFactory(), "Other").memberships.get().user)
    assert client.post(toggle_url(workspace, shop), {"enabled": "on"}).status_code == 404
    theirs.refresh_from_db(), shop.refresh_from_db()
    assert not theirs.session_capture and not shop.session_capture
