"""What the platform's services read of a workspace's settings, with an access key that has the
"read settings" scope: the sites, the IP blocklist, the data-collection policies, the integrations
and the user attributes, each under /api/v1/settings/.

Authenticated like the check API (``key_api``: 401 JSON for a missing, bad, revoked or expired key,
403 for a key without the scope); each answer carries an ETag, so a service that polls sends
``If-None-Match`` and gets 304 until something changed.
"""

from __future__ import annotations

from permissions.api import json_with_etag, key_api
from permissions.keys import READ_SETTINGS

from .selectors import (
    attributes_for_platform,
    blocked_networks,
    integrations_for_platform,
    policy_of,
    sites_for_platform,
)


@key_api("GET", scope=READ_SETTINGS)
def ip_blocklist(request, workspace):
    """The networks excluded from tracking, in canonical CIDR form."""
    return json_with_etag(request, {"networks": blocked_networks(workspace)})


@key_api("GET", scope=READ_SETTINGS)
def sites(request, workspace):
    """Each site's slug, name, address, time zone, session capture, owner, and ``data_reset_at``: the
    moment of its last reset (ISO 8601, or null), before which the platform keeps no tracked data."""
    return json_with_etag(request, {"sites": sites_for_platform(workspace)})


@key_api("GET", scope=READ_SETTINGS)
def policies(request, workspace):
    """The data-collection policies (their defaults until someone changed one)."""
    return json_with_etag(request, {"policies": policy_of(workspace).state()})


@key_api("GET", scope=READ_SETTINGS)
def integrations(request, workspace):
    return json_with_etag(request, {"integrations": integrations_for_platform(workspace)})


@key_api("GET", scope=READ_SETTINGS)
def user_attributes(request, workspace):
    return json_with_etag(request, {"attributes": attributes_for_platform(workspace)})
