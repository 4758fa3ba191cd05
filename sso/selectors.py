"""Reads of single sign-on connections. They change nothing; the writes are in ``sso.services``."""

from __future__ import annotations

import re

from django.db.models import Q
from django.shortcuts import get_object_or_404

from permissions import catalog
from permissions.selectors import roles_of
from workspaces.joining.selectors import domain_for_email
from workspaces.models import JoinDomain, Workspace

from .models import Connection, SSORequirement

PROVIDER_ID = re.compile(r"c([1-9][0-9]{0,17})")


def connections_of(workspace: Workspace):
    return (
        Connection.objects.filter(workspace=workspace)
        .select_related("default_role", "updated_by")
        .prefetch_related("domains")
    )


def connection_in(workspace: Workspace, pk) -> Connection:
    """The connection ``pk`` of ``workspace``; 404 for another workspace's."""
    found = get_object_or_404(Connection.objects.select_related("default_role"), workspace=workspace, pk=pk)
    found.workspace = workspace
    return found


def bindable_domains(workspace: Workspace):
    """The workspace's verified, active join domains: the only ones a connection may admit."""
    return JoinDomain.objects.filter(workspace=workspace, verified_at__isnull=False, suspended_at__isnull=True)


def connection_roles(workspace: Workspace):
    """Roles a connection may give new members: any workspace role of this workspace but Owner."""
    return roles_of(workspace, catalog.WORKSPACE).exclude(builtin=True, key=catalog.OWNER)


def connection_for_email(email: str) -> Connection | None:
    """The enabled connection bound to the verified join domain an address is at, or None."""
    join_domain = domain_for_email(email)
    if join_domain is None:
        return None
    return (
        Connection.objects.filter(enabled=True, workspace_id=join_domain.workspace_id, domains=join_domain)
        .select_related("workspace", "default_role")
        .order_by("pk")
        .first()
    )


def enabled_connection(provider_id: str) -> Connection | None:
    """The enabled connection named in a sign-in URL, or None (unknown, malformed or disabled)."""
    match = PROVIDER_ID.fullmatch(provider_id or "")
    if match is None:
        return None
    return (
        Connection.objects.filter(Q(pk=int(match.group(1))), enabled=True)
        .select_related("workspace", "default_role", "updated_by")
        .first()
    )


def connection_by_provider_id(provider_id: str) -> Connection | None:
    """The connection named in a sign-in URL, enabled or not (a connection test's), or None."""
    match = PROVIDER_ID.fullmatch(provider_id or "")
    if match is None:
        return None
    return (
        Connection.objects.filter(pk=int(match.group(1)))
        .select_related("workspace", "default_role", "updated_by")
        .first()
    )


def enabled_connections():
    return Connection.objects.filter(enabled=True).select_related("workspace")


def saml_connection(provider_id: str) -> Connection | None:
    """The SAML connection named in a SAML URL (enabled or not), or None."""
    match = PROVIDER_ID.fullmatch(provider_id or "")
    if match is None:
        return None
    return (
        Connection.objects.filter(pk=int(match.group(1)), kind=Connection.Kind.SAML)
        .select_related("workspace", "default_role", "updated_by")
        .first()
    )


def requirement_applies(workspace: Workspace) -> bool:
    """Whether an enabled connection of the workspace admits at least one domain: what required
    single sign-on needs to mean anything."""
    return Connection.objects.filter(workspace=workspace, enabled=True, domains__isnull=False).exists()


def sso_required(workspace: Workspace) -> bool:
    return SSORequirement.objects.filter(workspace=workspace, required=True).exists()
