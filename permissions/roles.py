"""Role rows and the capability Permission rows, looked up by codename.

Lookups are cached per process; the cache is cleared whenever ``post_migrate`` rebuilds the rows
(a test database flush does that too).
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth.models import Permission
from django.db import transaction

from . import catalog


@cache
def permission_ids(scope: str) -> dict[str, int]:
    """codename → Permission id for one scope's capabilities."""
    app_label, model = catalog.SCOPE_MODELS[scope].split(".")
    rows = Permission.objects.filter(content_type__app_label=app_label, content_type__model=model)
    return dict(rows.values_list("codename", "id"))


@cache
def _codename_by_id() -> dict[int, str]:
    return {pk: code for scope in catalog.SCOPES for code, pk in permission_ids(scope).items()}


def codename_of(permission_id: int) -> str:
    return _codename_by_id()[permission_id]


def permissions_for(scope: str, codes) -> list[int]:
    ids = permission_ids(scope)
    return [ids[code] for code in codes]


@cache
def _builtin_role_ids() -> dict[tuple[str, str], int]:
    from .models import Role

    return {(scope, key): pk for scope, key, pk in Role.objects.filter(builtin=True).values_list("scope", "key", "id")}


def builtin_role(key: str, scope: str = catalog.WORKSPACE):
    from .models import Role

    return Role.objects.get(pk=_builtin_role_ids()[(scope, key)])


def builtin_role_id(key: str, scope: str = catalog.WORKSPACE) -> int:
    return _builtin_role_ids()[(scope, key)]


def clear_caches() -> None:
    permission_ids.cache_clear()
    _codename_by_id.cache_clear()
    _builtin_role_ids.cache_clear()


def role_codes(role) -> tuple[frozenset[str], frozenset[str]]:
    """(capabilities, site capabilities on every site) of a role, as codenames; cached on the row."""
    cached = getattr(role, "_codes", None)
    if cached is None:
        by_id = _codename_by_id()
        caps = frozenset(by_id[pk] for pk in role.permissions.values_list("id", flat=True))
        site_caps = frozenset(by_id[pk] for pk in role.site_permissions.values_list("id", flat=True))
        cached = role._codes = (caps, site_caps)
    return cached


def sync_builtin_roles(**kwargs) -> None:
    """Create or update the built-in role rows so they match the catalog exactly."""
    from .models import Role

    clear_caches()
    with transaction.atomic():
        for position, spec in enumerate(catalog.BUILTIN_ROLES):
            role, _ = Role.objects.update_or_create(
                workspace=None,
                scope=spec.scope,
                key=spec.key,
                defaults={"name": spec.name, "description": spec.description, "builtin": True, "position": position},
            )
            role.permissions.set(permissions_for(spec.scope, spec.capabilities))
            role.site_permissions.set(permissions_for(catalog.SITE, spec.site_capabilities))
    clear_caches()
