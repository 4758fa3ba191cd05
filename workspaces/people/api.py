"""A member's profile for the platform's services, with an access key that has the "read members"
scope (``KeyAuth``); the answer carries an ETag for ``If-None-Match``."""

from __future__ import annotations

from ninja import Router, Schema

from permissions.api import REFUSALS, ApiError, Error, KeyAuth, json_with_etag
from permissions.keys import READ_MEMBERS

from .profile import member_profile

router = Router(tags=["Members"])


class RoleRef(Schema):
    key: str
    name: str


class SiteGrant(Schema):
    site: str
    role: RoleRef


class Profile(Schema):
    email: str
    name: str
    joined_at: str
    role: RoleRef
    teams: list[str]
    site_grants: list[SiteGrant]


@router.get(
    "members/{email}",
    auth=KeyAuth(READ_MEMBERS),
    url_name="member_profile",
    summary="A member's workspace role, teams and site grants",
    response={200: Profile, 404: Error, **REFUSALS},
)
def member_profile_view(request, email: str):
    profile = member_profile(request.auth.workspace, email)
    if profile is None:
        raise ApiError(404, "No member with that e-mail address in this workspace.")
    return json_with_etag(request, profile)
