"""Role rows and the capability Permission rows, looked up by codename.

Lookups are cached per process; the cache is cleared whenever ``post_migrate`` rebuilds the rows
(a test database flush does that too).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache

from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Value

from . import catalog
from .models import Role


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
def _builtin_roles() -> dict[int, Role]:
    return {role.pk: role for role in Role.objects.filter(builtin=True)}


@cache
def _builtin_role_ids() -> dict[tuple[str, str], int]:
    return {(role.scope, role.key): pk for pk, role in _builtin_roles().items()}


def builtin_role_by_id(pk: int) -> Role | None:
    """A built-in role without a query (their rows change only with the catalog, at migrate), or
    None for any other id. Each call returns a copy, so callers may attach what they like to it."""
    role = _builtin_roles().get(pk)
    return copy.copy(role) if role is not None else None


def builtin_role(key: str, scope: str = catalog.WORKSPACE) -> Role:
    return builtin_role_by_id(_builtin_role_ids()[(scope, key)])


def builtin_role_id(key: str, scope: str = catalog.WORKSPACE) -> int:
    return _builtin_role_ids()[(scope, key)]


def clear_caches() -> None:
    permission_ids.cache_clear()
    _codename_by_id.cache_clear()
    _builtin_role_ids.cache_clear()
    _builtin_roles.cache_clear()


_BUILTIN_CODES = {(spec.scope, spec.key): (spec.capabilities, spec.site_capabilities) for spec in catalog.BUILTIN_ROLES}


def role_codes(role) -> tuple[frozenset[str], frozenset[str]]:
    """(capabilities, site capabilities on every site) of a role, as codenames; cached on the row.

    A built-in role's come from the catalog (its rows mirror it exactly), so they cost no query; a
    custom role's are read once, from the prefetch cache when the caller prefetched them.
    """
    cached = getattr(role, "_codes", None)
    if cached is None:
        if role.builtin:
            cached = _BUILTIN_CODES[(role.scope, role.key)]
        else:
            by_id = _codename_by_id()
            caps = frozenset(by_id[p.pk] for p in role.permissions.all())
            site_caps = frozenset(by_id[p.pk] for p in role.site_permissions.all())
            cached = (caps, site_caps)
        role._codes = cached
    return cached


def load_codes(roles) -> None:
    """Cache the codenames of many roles at once (``role_codes`` then asks nothing): the built-in
    ones from the catalog, the custom ones' from both capability tables in one query, none when
    every role is built in. For a list of roles read without their permissions prefetched."""
    custom = {role.pk: role for role in roles if not role.builtin and getattr(role, "_codes", None) is None}
    if custom:
        through_caps = Role.permissions.through.objects.filter(role_id__in=list(custom))
        through_site = Role.site_permissions.through.objects.filter(role_id__in=list(custom))
        rows = (
            through_caps.annotate(site=Value(False))
            .values_list("role_id", "permission_id", "site")
            .union(through_site.annotate(site=Value(True)).values_list("role_id", "permission_id", "site"), all=True)
        )
        by_id = _codename_by_id()
        codes = {pk: (set(), set()) for pk in custom}
        for role_id, permission_id, site in rows:
            codes[role_id][1 if site else 0].add(by_id[permission_id])
        for pk, role in custom.items():
            role._codes = (frozenset(codes[pk][0]), frozenset(codes[pk][1]))
    for role in roles:
        role_codes(role)


def forget_codes(role) -> None:
    """Drop the cached codenames of a role whose capabilities were just rewritten."""
    role.__dict__.pop("_codes", None)


@dataclass(frozen=True)
class RoleRows:
    """What a workspace role gives, per scope: on the workspace, on every site, on every experience.

    The one derivation of a role's rows: the role groups' rows (``materialize``), the expected state
    that ``sync_permissions`` compares with, the explainer and the "may X give Y" checks all use it,
    so they cannot disagree.
    """

    workspace: frozenset[str]
    site: frozenset[str]
    experience: frozenset[str]

    def of(self, scope: str) -> frozenset[str]:
        return getattr(self, scope)


def role_rows(role) -> RoleRows:
    caps, site_caps = role_codes(role)
    if role.scope == catalog.SITE:
        return RoleRows(workspace=frozenset(), site=catalog.with_implied(caps), experience=frozenset())
    return RoleRows(workspace=caps, site=site_caps, experience=catalog.experience_capabilities_from(caps))


def grant_codes(grant) -> frozenset[str]:
    """The site capabilities a site grant gives: its site role's (with what they imply) and its
    extra capabilities (prefetched by callers that read many grants)."""
    return role_rows(grant.role).site | {p.codename for p in grant.extra_permissions.all()}


def _held_ids(role: Role) -> tuple[set[int], set[int]]:
    return set(role.permissions.values_list("id", flat=True)), set(role.site_permissions.values_list("id", flat=True))


def sync_builtin_roles(**kwargs) -> bool:
    """Create or update the built-in role rows so they match the catalog exactly. Answers whether a
    role was added or now holds something else, so the stored permissions that follow from the
    roles need rebuilding (``permissions.apps``)."""
    clear_caches()
    changed = False
    with transaction.atomic():
        for position, spec in enumerate(catalog.BUILTIN_ROLES):
            role, created = Role.objects.update_or_create(
                workspace=None,
                scope=spec.scope,
                key=spec.key,
                defaults={"name": spec.name, "description": spec.description, "builtin": True, "position": position},
            )
            held = None if created else _held_ids(role)
            wanted = (
                set(permissions_for(spec.scope, spec.capabilities)),
                set(permissions_for(catalog.SITE, spec.site_capabilities)),
            )
            if held != wanted:
                role.permissions.set(wanted[0])
                role.site_permissions.set(wanted[1])
                changed = True
    clear_caches()
    return changed
