"""A member's profile for the platform's services, with an access key that has the "read members"
scope (``key_api``); the answer carries an ETag for ``If-None-Match``."""

from __future__ import annotations

from django.http import JsonResponse

from permissions.api import json_with_etag, key_api
from permissions.keys import READ_MEMBERS

from .profile import member_profile


@key_api("GET", scope=READ_MEMBERS)
def member_profile_view(request, workspace, email: str):
    profile = member_profile(workspace, email)
    if profile is None:
        return JsonResponse({"error": "No member with that e-mail address in this workspace."}, status=404)
    return json_with_etag(request, profile)
