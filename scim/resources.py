"""The User and Group resources as JSON, and the discovery documents that describe them.

The discovery documents state exactly what the portal supports (RFC 7643 sections 5 to 7), so a
client that reads them never tries what would be refused.
"""

from __future__ import annotations

from accounts.addresses import normalize_email

from .models import ScimUser
from .protocol import GROUP, MAX_RESULTS, USER

SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def _when(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _same(address, other: str) -> bool:
    return isinstance(address, str) and normalize_email(address) == other


def user_resource(identity: ScimUser, base: str) -> dict:
    user = identity.user
    name = {
        "givenName": identity.given_name,
        "familyName": identity.family_name,
        "formatted": identity.formatted_name,
    }
    # The addresses the provider sent, when the account's is among them; else the account's alone.
    emails = identity.emails if any(_same(item.get("value"), user.email) for item in identity.emails) else []
    emails = emails or [{"value": user.email, "primary": True}]
    resource = {
        "schemas": [USER],
        "id": str(identity.scim_id),
        "userName": identity.user_name,
        "name": {key: value for key, value in name.items() if value},
        "displayName": identity.display_name,
        "emails": emails,
        "active": bool(identity.is_member),
        "meta": {
            "resourceType": "User",
            "created": _when(identity.created_at),
            "lastModified": _when(identity.updated_at),
            "location": f"{base}/Users/{identity.scim_id}",
        },
    }
    if identity.external_id:
        resource["externalId"] = identity.external_id
    if not resource["name"]:
        del resource["name"]
    if not identity.display_name:
        del resource["displayName"]
    return resource


def user_document(identity: ScimUser, base: str) -> dict:
    """The resource as PATCH works on it: lower-case attribute names."""
    resource = user_resource(identity, base)
    document = {key.lower(): value for key, value in resource.items()}
    if "name" in document:
        document["name"] = {key.lower(): value for key, value in document["name"].items()}
    return document


def group_resource(team, members: list[ScimUser], base: str) -> dict:
    resource = {
        "schemas": [GROUP],
        "id": str(team.pk),
        "displayName": team.name,
        "members": [{"value": str(member.scim_id), "$ref": f"{base}/Users/{member.scim_id}"} for member in members],
        "meta": {
            "resourceType": "Group",
            "created": _when(team.created_at),
            "lastModified": _when(team.created_at),
            "location": f"{base}/Groups/{team.pk}",
        },
    }
    external_id = getattr(getattr(team, "scim", None), "external_id", "")
    if external_id:
        resource["externalId"] = external_id
    return resource


def group_document(team, members: list[ScimUser], base: str) -> dict:
    resource = group_resource(team, members, base)
    return {key.lower(): value for key, value in resource.items()}


# --- discovery ----------------------------------------------------------------------------------


def service_provider_config(base: str) -> dict:
    return {
        "schemas": [SPC],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A workspace's SCIM token, made in the workspace's settings or by "
                "manage.py create_scim_token, sent as “Authorization: Bearer <token>”.",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base}/ServiceProviderConfig"},
    }


def _attribute(name: str, kind: str = "string", **options) -> dict:
    attribute = {
        "name": name,
        "type": kind,
        "multiValued": False,
        "description": options.pop("description", name),
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }
    attribute.update(options)
    return attribute


USER_ATTRIBUTES = [
    _attribute(
        "userName",
        required=True,
        uniqueness="server",
        description="The provider's unique name for the person. When it is an e-mail address, it is the "
        "account's address; otherwise the primary e-mail is. Only addresses at the workspace's verified domains "
        "are provisioned.",
    ),
    _attribute(
        "name",
        "complex",
        description="The person's name.",
        subAttributes=[
            _attribute("formatted", description="The full name, as shown."),
            _attribute("familyName", description="The family name."),
            _attribute("givenName", description="The given name."),
        ],
    ),
    _attribute("displayName", description="The name shown for the person."),
    _attribute(
        "emails",
        "complex",
        multiValued=True,
        required=True,
        description="The account's e-mail address (the portal keeps one: the primary, or the first). "
        "Required unless userName is an address.",
        subAttributes=[
            _attribute("value", required=True, description="The address."),
            _attribute("type", description="A label: work, home, other.", canonicalValues=["work", "home", "other"]),
            _attribute("primary", "boolean", description="Whether it is the primary address."),
        ],
    ),
    _attribute(
        "active",
        "boolean",
        required=True,
        description="Assumed true when not sent. "
        "Whether the person is a member of the workspace: false removes the membership, "
        "true makes them a member again (with the role of the token used).",
    ),
]

GROUP_ATTRIBUTES = [
    _attribute("displayName", required=True, uniqueness="server", description="The team's name."),
    _attribute(
        "members",
        "complex",
        multiValued=True,
        description="The provisioned users in the team.",
        subAttributes=[
            _attribute("value", mutability="immutable", description="The user's id."),
            _attribute(
                "$ref", "reference", mutability="immutable", referenceTypes=["User"], description="The user's URI."
            ),
        ],
    ),
]


def schemas(base: str) -> list[dict]:
    return [
        {
            "schemas": [SCHEMA],
            "id": USER,
            "name": "User",
            "description": "A person of the workspace.",
            "attributes": USER_ATTRIBUTES,
            "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{USER}"},
        },
        {
            "schemas": [SCHEMA],
            "id": GROUP,
            "name": "Group",
            "description": "A team of the workspace.",
            "attributes": GROUP_ATTRIBUTES,
            "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{GROUP}"},
        },
    ]


def resource_types(base: str) -> list[dict]:
    return [
        {
            "schemas": [RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "The people of the workspace the provider manages.",
            "schema": USER,
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/User"},
        },
        {
            "schemas": [RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "The teams of the workspace.",
            "schema": GROUP,
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/Group"},
        },
    ]
