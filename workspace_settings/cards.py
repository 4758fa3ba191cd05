"""The settings overview's cards, as data: which page each opens and which capability opens it.

Cards of pages built by other apps (billing, join domains, data & privacy) appear only once their URL exists, so
the overview never links to a page that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Card:
    capability: str
    url_name: str
    title: str
    description: str
    # Other capabilities that open the page too (any one is enough).
    or_capabilities: tuple[str, ...] = ()

    def opens_for(self, ws_perms: frozenset[str]) -> bool:
        return self.capability in ws_perms or any(code in ws_perms for code in self.or_capabilities)


# A site capability: whether it opens its card is decided per person by ``cards_for``'s caller.
SESSION_CAPTURE = "manage_session_capture"

CARDS: tuple[Card, ...] = (
    Card("change_workspace", "settings:details", "Workspace details", "Name, time zone and description."),
    Card(
        "manage_ip_blocking",
        "settings:ip_blocking",
        "IP blocking",
        "Addresses and ranges whose visits are not tracked.",
    ),
    Card("manage_integrations", "settings:integrations", "Integrations", "Switch integrations on or off."),
    Card(
        "manage_user_attributes",
        "settings:user_attributes",
        "User attributes",
        "Which facts about tracked people are collected.",
    ),
    Card(
        "manage_policies",
        "settings:policies",
        "Data-collection policies",
        "Retention, IP anonymisation, Do-Not-Track, consent.",
    ),
    Card(
        SESSION_CAPTURE,
        "settings:session_capture",
        "Session capture",
        "Capture for heatmaps and recordings, site by site.",
    ),
    Card("view_access_keys", "access_keys:list", "Access keys", "Keys other services use for the check API."),
    Card("manage_auto_join", "join_domains:index", "Join domains", "Let people with your e-mail domain join."),
    Card(
        "manage_two_factor_policy",
        "two_factor:workspace_policy",
        "Two-factor authentication",
        "Require members to sign in with a second factor.",
    ),
    Card(
        "manage_sso",
        "sso:index",
        "Single sign-on",
        "Sign-in through your identity provider: OpenID Connect and SAML 2.0 connections.",
    ),
    Card(
        "manage_sso",
        "scim_tokens:list",
        "SCIM provisioning",
        "Tokens that let the identity provider add and remove people and teams.",
    ),
    Card(
        "manage_webhooks",
        "webhooks:list",
        "Webhooks",
        "Endpoints of your other services that hear of every change, signed.",
    ),
    Card("manage_billing", "billing:index", "Billing", "Plan, billing e-mails, invoices."),
    Card(
        "manage_policies",
        "privacy:index",
        "Data & privacy",
        "Requests to export or delete a tracked person's data.",
        or_capabilities=("request_data_export", "request_data_deletion"),
    ),
    Card("view_usage", "usage:index", "Usage", "Members, sites, experiences and check-API calls against the plan."),
    Card("delete_workspace", "workspaces:delete", "Delete workspace", "Delete the workspace and everything in it."),
)


def card_url(card: Card, workspace_slug: str) -> str | None:
    try:
        return reverse(card.url_name, args=[workspace_slug])
    except NoReverseMatch:  # a page another app has not built (yet)
        return None


def cards_for(ws_perms: frozenset[str], workspace_slug: str, *, session_capture: bool) -> list[tuple[Card, str]]:
    """(card, url) for every settings page the person may open, in catalogue order."""
    found = []
    for card in CARDS:
        allowed = session_capture if card.capability == SESSION_CAPTURE else card.opens_for(ws_perms)
        if allowed and (url := card_url(card, workspace_slug)):
            found.append((card, url))
    return found
