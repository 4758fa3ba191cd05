"""The IP blocklist for the platform's trackers: GET /api/v1/settings/ip-blocklist.

Authenticated like the check API, by a workspace access key (``key_api``: 401 JSON for a missing,
bad or revoked key); the answer is the key's workspace's blocked networks in canonical CIDR form.
"""

from __future__ import annotations

from django.http import JsonResponse

from permissions.api import key_api

from .selectors import blocked_networks


@key_api("GET")
def ip_blocklist(request, workspace):
    return JsonResponse({"networks": blocked_networks(workspace)})
