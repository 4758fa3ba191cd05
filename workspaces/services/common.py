"""Helpers shared by the service modules."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.text import slugify

from permissions import catalog
from permissions.policy import Access
from permissions.roles import role_codes

from ..errors import RuleViolation


def require(actor, codename: str, obj) -> Access | None:
    """Refuse unless ``actor`` holds ``codename`` on ``obj``; the system (None) may do anything."""
    if actor is None:
        return None
    access = Access(actor)
    if not access.is_member(obj.pk if obj._meta.model_name == "workspace" else obj.workspace_id):
        raise PermissionDenied("You are not a member of this workspace.")
    if not access.has(codename, obj):
        raise PermissionDenied(f"You need the “{catalog.CAPABILITIES[codename].label}” capability.")
    return access


def require_any(actor, codenames: tuple[str, ...], obj) -> None:
    """Refuse unless ``actor`` holds at least one of ``codenames`` on ``obj``."""
    if actor is None:
        return
    for codename in codenames[:-1]:
        try:
            require(actor, codename, obj)
            return
        except PermissionDenied:
            continue
    require(actor, codenames[-1], obj)


def _acting_membership(actor, workspace):
    membership = Access(actor).membership(workspace)
    if membership is None:
        raise PermissionDenied("You are not a member of this workspace.")
    return membership


def _refuse_beyond(membership, capabilities, site_capabilities) -> None:
    held, held_site = role_codes(membership.role)
    beyond = (set(capabilities) - held) | (set(site_capabilities) - held_site)
    if beyond:
        raise RuleViolation(f"You cannot give capabilities you do not hold: {', '.join(sorted(beyond))}.")


def require_can_grant_role(actor, workspace, role) -> None:
    """Rule 3: nobody grants what they do not hold; only owners touch the Owner role."""
    if actor is None:
        return
    membership = _acting_membership(actor, workspace)
    if role.is_owner and not membership.role.is_owner:
        raise RuleViolation("Only owners can make someone an owner.")
    caps, site_caps = role_codes(role)
    if role.scope == catalog.SITE:
        caps, site_caps = frozenset(), caps
    _refuse_beyond(membership, caps, site_caps)


def require_can_give(actor, workspace, *, capabilities=frozenset(), site_capabilities=frozenset()) -> None:
    """Rule 3 for a set of capabilities (a custom role's): workspace ones as the actor's role holds
    them, site ones as it holds them on every site (a grant on one site is not enough to hand out)."""
    if actor is None:
        return
    _refuse_beyond(_acting_membership(actor, workspace), capabilities, site_capabilities)


def require_can_grant_on_site(actor, site, codes: frozenset[str]) -> None:
    """Rule 3 for a site grant: every capability must be one the actor holds on that site."""
    if actor is None:
        return
    beyond = set(codes) - Access(actor).perms(site)
    if beyond:
        raise RuleViolation(f"You cannot give capabilities you do not hold on {site}: {', '.join(sorted(beyond))}.")


# Slugs that the URL map uses for its own pages (/w/new/, /w/<slug>/sites/new/): an object with
# one of them would be unreachable.
RESERVED_SLUGS = frozenset({"new"})


def unique_slug(model, base: str, *, max_length: int = 50, **scope) -> str:
    base = slugify(base)[:max_length] or "item"
    slug, n = base, 1
    taken = set(model.objects.filter(slug__startswith=base, **scope).values_list("slug", flat=True))
    taken |= RESERVED_SLUGS
    while slug in taken:
        n += 1
        slug = f"{base[: max_length - len(str(n)) - 1]}-{n}"
    return slug


def lock_workspace(workspace):
    """Lock the workspace row for the rest of the transaction (see ``workspaces.locks`` for the
    one lock order: accounts first, then workspaces, then rows inside a workspace).

    Owner changes serialise on this lock, so two owners demoting each other at the same moment
    cannot both succeed and leave the workspace without an owner (rule 1). On SQLite the
    IMMEDIATE transaction mode already serialises writers.
    """
    from .. import locks

    return locks.lock_workspace(workspace)
