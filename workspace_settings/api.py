"""What the platform's trackers read: the IP blocklist (GET /api/v1/settings/ip-blocklist) and the
sites with their tracking settings and last data reset (GET /api/v1/settings/sites).

Authenticated like the check API, by a workspace access key (``key_api``: 401 JSON for a missing,
bad or revoked key); the answer is the key's workspace's blocked networks in canonical CIDR form.
"""

from __future__ import annotations

from django.http import JsonResponse

from permissions.api import key_api

from .selectors import blocked_networks, sites_for_platform


@key_api("GET")
def ip_blocklist(request, workspace):
    return JsonResponse({"networks": blocked_networks(workspace)})


@key_api("GET")
def sites(request, workspace):
    """Each site's slug, name, time zone, session capture, and ``data_reset_at``: the moment of its
    last reset (ISO 8601, or null), before which the platform keeps no tracked data."""
    return JsonResponse({"sites": sites_for_platform(workspace)})
