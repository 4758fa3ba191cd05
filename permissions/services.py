"""Custom roles: create, update, delete (docs/RULES.md 2.2).

Built-in roles are data (``catalog``) and never change here. A custom role belongs to one
workspace; saving it rewrites the guardian rows of everyone who holds it, so an edit takes effect
on the next check.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import slugify

from audit.services import record
from kernel.errors import RuleViolation
from permissions.policy import Capabilities, require, require_can_give

from . import catalog, materialize
from .models import Role
from .roles import permissions_for, role_codes
from .selectors import role_usage

ROLE_SCOPES = (catalog.WORKSPACE, catalog.SITE)


def _role_state(role: Role, caps, site_caps) -> dict:
    return {
        "name": role.name,
        "scope": role.scope,
        "description": role.description,
        "capabilities": sorted(caps),
        "site_capabilities": sorted(site_caps),
    }


def _check_codes(codes: set[str], scope: str, what: str) -> None:
    unknown = sorted(c for c in codes if c not in catalog.CAPABILITIES)
    if unknown:
        raise RuleViolation(f"Unknown capabilities: {', '.join(unknown)}.")
    wrong = sorted(c for c in codes if catalog.CAPABILITIES[c].scope != scope)
    if wrong:
        raise RuleViolation(f"Not {what}: {', '.join(wrong)}.")
    owner_only = sorted(codes & catalog.OWNER_ONLY)
    if owner_only:
        labels = ", ".join(catalog.CAPABILITIES[c].label for c in owner_only)
        raise RuleViolation(f"A custom role can never include {labels}: only owners hold it.")


def clean_capabilities(scope: str, capabilities, site_capabilities) -> tuple[frozenset[str], frozenset[str]]:
    """Validated (capabilities, site capabilities) with implied siblings added."""
    if scope not in ROLE_SCOPES:
        raise RuleViolation("A role is a workspace role or a site role.")
    capabilities, site_capabilities = set(capabilities), set(site_capabilities)
    _check_codes(capabilities, scope, f"{scope} capabilities")
    if scope == catalog.SITE and site_capabilities:
        raise RuleViolation("A site role has no “on every site” capabilities; put them in the role itself.")
    _check_codes(site_capabilities, catalog.SITE, "site capabilities")
    if scope == catalog.WORKSPACE:
        # Without it the holder could not even open the workspace.
        capabilities.add("view_workspace")
    return catalog.with_implied(capabilities), catalog.with_implied(site_capabilities)


def _unique_key(workspace, scope: str, name: str) -> str:
    base = slugify(name)[:50] or "role"
    taken = set(Role.objects.filter(workspace=workspace, scope=scope).values_list("key", flat=True))
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return key


def _existing_role(workspace, scope: str, key: str, role: Role | None) -> Role | None:
    if role is None and key:
        role = Role.objects.filter(workspace=workspace, scope=scope, key=key).first()
    if role is None:
        return None
    if role.builtin:
        raise RuleViolation(f"{role.name} is a built-in role: it cannot be edited.")
    if role.workspace_id != workspace.pk:
        raise RuleViolation("That role belongs to another workspace.")
    if role.scope != scope:
        raise RuleViolation("A role's scope cannot be changed; create a new role instead.")
    return role


@transaction.atomic
def role_save(
    *,
    actor,
    workspace,
    scope: str,
    name: str,
    capabilities: set[str],
    site_capabilities: set[str] = frozenset(),
    key: str = "",
    description: str = "",
    preset: str = "",
    role: Role | None = None,
) -> Role:
    """Create a custom role, or update ``role`` (or this workspace's custom role with the same scope
    and key). Saving what is already stored changes nothing and records nothing.

    An update keeps the role's key, and its preset unless a new one is named.
    """
    require(actor, "manage_roles", workspace)
    name, description = name.strip(), description.strip()
    if not name:
        raise RuleViolation("Give the role a name.")
    caps, site_caps = clean_capabilities(scope, capabilities, site_capabilities)
    key = slugify(key)[:60]
    role = _existing_role(workspace, scope, key, role)
    # Rule 3: a role may carry only what the actor holds.
    require_can_give(actor, _as_given(scope, caps, site_caps), workspace)
    if role is None:
        return _create(actor, workspace, scope, name, description, key, preset, caps, site_caps)
    return _update(actor, role, name, description, preset, caps, site_caps)


def _as_given(scope: str, caps, site_caps) -> Capabilities:
    if scope == catalog.SITE:
        return Capabilities(site=frozenset(caps))
    return Capabilities(workspace=frozenset(caps), site=frozenset(site_caps))


def _create(actor, workspace, scope, name, description, key, preset, caps, site_caps) -> Role:
    role = Role.objects.create(
        workspace=workspace,
        scope=scope,
        key=key or _unique_key(workspace, scope, name),
        name=name,
        description=description,
        preset=preset,
    )
    _store_codes(role, caps, site_caps)
    if scope == catalog.WORKSPACE:
        materialize.create_role_group(workspace, role)
    record(
        action="role.create", actor=actor, workspace=workspace, target=role, after=_role_state(role, caps, site_caps)
    )
    return role


def _update(actor, role: Role, name, description, preset, caps, site_caps) -> Role:
    role = Role.objects.select_for_update().get(pk=role.pk)
    old_caps, old_site_caps = role_codes(role)
    before, old_preset = _role_state(role, old_caps, old_site_caps), role.preset
    role.name, role.description, role.preset = name, description, preset or role.preset
    after = _role_state(role, caps, site_caps)
    if before == after and role.preset == old_preset:
        return role
    role.save(update_fields=["name", "description", "preset"])
    if (old_caps, old_site_caps) != (caps, site_caps):
        _store_codes(role, caps, site_caps)
        materialize.refresh_role_everywhere(role)
    record(action="role.update", actor=actor, workspace=role.workspace, target=role, before=before, after=after)
    return role


def _store_codes(role: Role, caps, site_caps) -> None:
    role.permissions.set(permissions_for(role.scope, caps))
    role.site_permissions.set(permissions_for(catalog.SITE, site_caps))
    role._codes = (frozenset(caps), frozenset(site_caps))


@transaction.atomic
def role_delete(*, actor, role: Role) -> None:
    """Delete a custom role that nobody holds."""
    if role.builtin:
        raise RuleViolation(f"{role.name} is a built-in role: it cannot be deleted.")
    workspace = role.workspace
    require(actor, "manage_roles", workspace)
    role = Role.objects.select_for_update().get(pk=role.pk)
    usage = role_usage(role)
    if usage:
        uses = ", ".join(f"{n} {what}" for what, n in usage.items())
        raise RuleViolation(f"{role.name} is in use ({uses}): give them another role first.")
    caps, site_caps = role_codes(role)
    record(
        action="role.delete", actor=actor, workspace=workspace, target=role, before=_role_state(role, caps, site_caps)
    )
    # The role's groups are empty now; deleting them takes their guardian rows along.
    Group.objects.filter(role_group__role=role).delete()
    role.delete()
