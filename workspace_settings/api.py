"""What the platform's services read of a workspace's settings, with an access key that has the
"read settings" scope: the sites, the IP blocklist, the data-collection policies, the integrations
and the user attributes, each under /api/v1/settings/.

Authenticated like the check API (``KeyAuth``: 401 JSON for a missing, bad, revoked or expired key,
403 for a key without the scope); each answer carries an ETag, so a service that polls sends
``If-None-Match`` and gets 304 until something changed.
"""

from __future__ import annotations

from ninja import Router, Schema

from permissions.api import REFUSALS, KeyAuth, json_with_etag
from permissions.keys import READ_SETTINGS

from .selectors import (
    attributes_for_platform,
    blocked_networks,
    integrations_for_platform,
    policy_of,
    sites_for_platform,
)

router = Router(tags=["Settings"])
READ = {"auth": KeyAuth(READ_SETTINGS)}


class Networks(Schema):
    networks: list[str]


class PlatformSite(Schema):
    slug: str
    name: str
    address: str
    time_zone: str
    session_capture: bool
    owner: str
    data_reset_at: str | None


class Sites(Schema):
    sites: list[PlatformSite]


class Policy(Schema):
    retention_days: int
    anonymize_ip: bool
    respect_do_not_track: bool
    require_cookie_consent: bool
    mask_text_input: bool


class Policies(Schema):
    policies: Policy


class Integration(Schema):
    key: str
    name: str
    enabled: bool
    settings: dict[str, str]


class Integrations(Schema):
    integrations: list[Integration]


class Attribute(Schema):
    key: str
    name: str
    collected: bool


class Attributes(Schema):
    attributes: list[Attribute]


@router.get("settings/ip-blocklist", **READ, url_name="ip_blocklist", response={200: Networks, **REFUSALS})
def ip_blocklist(request):
    """The networks excluded from tracking, in canonical CIDR form."""
    return json_with_etag(request, {"networks": blocked_networks(request.auth.workspace)})


@router.get("settings/sites", **READ, url_name="settings_sites", response={200: Sites, **REFUSALS})
def sites(request):
    """Each site's slug, name, address, time zone, session capture, owner, and `data_reset_at`: the
    moment of its last reset (ISO 8601, or null), before which the platform keeps no tracked data."""
    return json_with_etag(request, {"sites": sites_for_platform(request.auth.workspace)})


@router.get("settings/policies", **READ, url_name="settings_policies", response={200: Policies, **REFUSALS})
def policies(request):
    """The data-collection policies (their defaults until someone changed one)."""
    return json_with_etag(request, {"policies": policy_of(request.auth.workspace).state()})


@router.get("settings/integrations", **READ, url_name="settings_integrations", response={200: Integrations, **REFUSALS})
def integrations(request):
    """Every integration of the catalogue, on or off, with its identifiers (never secrets)."""
    return json_with_etag(request, {"integrations": integrations_for_platform(request.auth.workspace)})


@router.get(
    "settings/user-attributes", **READ, url_name="settings_user_attributes", response={200: Attributes, **REFUSALS}
)
def user_attributes(request):
    """Every user attribute of the catalogue and whether it is collected."""
    return json_with_etag(request, {"attributes": attributes_for_platform(request.auth.workspace)})
