"""A SCIM client for the test client: the workspace's token in the Authorization header, JSON in
and out."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from permissions import catalog
from permissions.roles import builtin_role
from scim.tokens import scim_token_create
from workspaces.models import JoinDomain

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Scim:
    def __init__(self, client, raw: str | None):
        self.client, self.raw = client, raw

    def _headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.raw}"} if self.raw is not None else {}

    def call(self, method: str, path: str, body=None, **extra):
        data = body if isinstance(body, (str, bytes)) else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method)(
            f"/scim/v2/{path}", data=data, content_type="application/scim+json", **self._headers(), **extra
        )

    def get(self, path: str, **params):
        return self.client.get(f"/scim/v2/{path}", params, **self._headers())

    def post(self, path: str, body):
        return self.call("post", path, body)

    def put(self, path: str, body):
        return self.call("put", path, body)

    def patch(self, path: str, *operations):
        return self.call("patch", path, {"schemas": [PATCH], "Operations": list(operations)})

    def delete(self, path: str):
        return self.call("delete", path)


def user_body(user_name: str, **fields) -> dict:
    return {"schemas": [USER], "userName": user_name, **fields}


def verify_domain(workspace, domain: str = "acme.test") -> JoinDomain:
    """A join domain of the workspace, verified (SCIM provisions only addresses at those)."""
    return JoinDomain.objects.create(
        workspace=workspace,
        domain=domain,
        role=builtin_role(catalog.MEMBER),
        verification_token="t",
        verified_at=timezone.now(),
        verification_method=JoinDomain.Method.DNS,
    )


@pytest.fixture
def acme_domain(workspace) -> JoinDomain:
    return verify_domain(workspace)


@pytest.fixture
def token(workspace, acme_domain):
    return scim_token_create(actor=None, workspace=workspace, name="Okta")


@pytest.fixture
def scim(client, token) -> Scim:
    return Scim(client, token[1])
