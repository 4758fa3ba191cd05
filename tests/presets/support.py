"""Shared by the preset conformance tests: load a preset, give people its roles, ask the check API.

Every answer comes from GET /api/v1/check (or its batch form) with a workspace access key, the
way another service of the platform would ask, so these tests cover the whole path: preset data,
role_save, the guardian rows, the policy and the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.text import slugify

from permissions import catalog
from permissions.keys import key_create
from permissions.models import Role
from permissions.presets import load_preset
from tests.factories import UserFactory, add_member
from workspaces.models import Membership, Site, Workspace
from workspaces.sites.services import site_grant_set


class CheckApi:
    """A client of the check API holding one workspace's key."""

    def __init__(self, client, workspace: Workspace):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key_create(actor=None, workspace=workspace, name='test')[1]}"}

    def allowed(self, user, codename: str, *, site: Site | None = None, experience=None) -> bool:
        params = {"user": user.email, "permission": codename}
        if site is not None:
            params["site"] = site.slug
        if experience is not None:
            params["experience"] = experience.pk
        response = self.client.get(reverse("api:check"), params, **self.headers)
        assert response.status_code == 200, response.content
        return response.json()["allowed"]

    def held(self, user, scope: str, *, site: Site | None = None) -> frozenset[str]:
        """Every capability of ``scope`` the API says ``user`` holds (one batch request)."""
        codes = catalog.codenames(scope)
        where = {"site": site.slug} if site is not None else {}
        checks = [{"user": user.email, "permission": code, **where} for code in codes]
        response = self.client.post(
            reverse("api:check"), {"checks": checks}, content_type="application/json", **self.headers
        )
        assert response.status_code == 200, response.content
        return frozenset(code for code, yes in zip(codes, response.json()["results"], strict=True) if yes)


def preset_roles(workspace: Workspace, owner, name: str) -> dict[str, Role]:
    """Load preset ``name`` as the workspace's owner; its roles by name."""
    roles = load_preset(actor=owner, workspace=workspace, name=name)
    return {role.name: role for role in roles}


def member(workspace: Workspace, role: Role, email: str) -> Membership:
    return add_member(workspace, role, user=UserFactory(email=email))


def email_for(name: str, domain: str = "acme.test") -> str:
    """A readable address for the person holding role ``name``: "Read & Write" → read-write@acme.test."""
    return f"{slugify(name)}@{domain}"


def grant(site: Site, membership: Membership, role: Role, extra=frozenset()):
    return site_grant_set(actor=None, site=site, role=role, membership=membership, extra=set(extra))


@dataclass(frozen=True)
class Cell:
    """One cell of a seed's table: may ``column`` do ``codename`` (on ``target``)?"""

    row: str
    column: str
    codename: str
    expected: bool
    target: object = None  # a Site or an Experience; None for a workspace capability


def wrong_cells(api: CheckApi, people: dict, cells: list[Cell]) -> list[str]:
    """The cells whose answer differs from the seed, described for the failure message."""
    wrong = []
    for cell in cells:
        scope = catalog.CAPABILITIES[cell.codename].scope
        where = {scope: cell.target} if scope != catalog.WORKSPACE else {}
        got = api.allowed(people[cell.column], cell.codename, **where)
        if got != cell.expected:
            wrong.append(
                f"{cell.row} / {cell.column} / {cell.codename} on {cell.target}: {got}, seed says {cell.expected}"
            )
    return wrong
