"""Reads of roles: the one way to ask for "the roles of a workspace"."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Role


def roles_of(workspace, scope: str | None = None) -> QuerySet[Role]:
    """The built-in roles (of ``scope``, or both scopes) and the workspace's own custom ones, built-in
    first, with their capabilities prefetched (so ``roles.role_codes`` asks nothing more)."""
    roles = Role.objects.filter(Q(workspace__isnull=True) | Q(workspace=workspace))
    if scope is not None:
        roles = roles.filter(scope=scope)
    return roles.order_by("-builtin", "position", "name").prefetch_related("permissions", "site_permissions")
