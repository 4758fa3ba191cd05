"""SCIM bearer tokens: create, revoke, authenticate.

As access keys (``permissions.keys``), through ``kernel.tokens``: a token is shown once, only its
SHA-256 is stored with a short prefix to tell tokens apart, and a token is found by its hash.
Provisioning belongs with single sign-on, so managing tokens needs ``manage_sso``.

Each token has the role the people it provisions join with (``ScimToken.role``; Member unless
chosen). Choosing it is giving it: the actor must be allowed to give that role (rule 3, asked of
``permissions.policy``), and Owner is never a provisioning role. The role is per token, not per
workspace, because a token stands for one directory: a workspace fed by two (its staff's Entra ID
and a contractors' Okta, say) can provision each with its own role, while the usual workspace with
one token has, in effect, the per-workspace default role GitLab and Sentry offer.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.tokens import digest, new_secret, note_use
from permissions import catalog
from permissions.models import Role
from permissions.policy import require, require_can_give
from permissions.roles import builtin_role
from workspaces.models import Workspace

from .models import ScimToken

TOKEN_MARK = "scim_"
hash_token = digest  # how a token is stored (``kernel.tokens``)


def _state(token: ScimToken) -> dict:
    return {"name": token.name, "prefix": token.prefix}


def _check_role(actor, workspace: Workspace, role: Role) -> Role:
    """The role, locked (so it is not deleted meanwhile), if provisioning may give it in
    ``workspace``: a workspace role of it, not Owner, and one the actor may give (rule 3)."""
    if role.scope != catalog.WORKSPACE or role.workspace_id not in (None, workspace.pk):
        raise RuleViolation(f"“{role}” is not a workspace role of {workspace}.")
    if role.is_owner:
        raise RuleViolation("Provisioning never makes anyone an owner: choose another role.")
    require_can_give(actor, role, workspace)  # rule 3
    if role.builtin:
        return role
    # The lock ``role_delete`` takes: a custom role is never deleted under a token choosing it.
    locked = Role.objects.select_for_update().filter(pk=role.pk).first()
    if locked is None:
        raise RuleViolation(f"The role “{role}” no longer exists.")
    return locked


@transaction.atomic
def scim_token_create(*, actor, workspace: Workspace, name: str, role: Role | None = None) -> tuple[ScimToken, str]:
    """A new token; returns it with the raw token, which exists nowhere else from now on. The
    people it provisions join with ``role`` (Member when not given)."""
    require(actor, "manage_sso", workspace)
    role = _check_role(actor, workspace, role if role is not None else builtin_role(catalog.MEMBER))
    name = (name or "").strip()
    if not name:
        raise RuleViolation("Give the token a name, so you can tell it apart later.")
    if len(name) > 100:
        raise RuleViolation("A token's name has at most 100 characters.")
    raw, prefix, token_hash = new_secret(TOKEN_MARK)
    token = ScimToken.objects.create(
        workspace=workspace,
        name=name,
        prefix=prefix,
        token_hash=token_hash,
        created_by=actor,
        role=role,
        role_set_by=actor,
    )
    record(
        action="scim_token.create",
        actor=actor,
        workspace=workspace,
        target=token,
        after={**_state(token), "role": role.name},
    )
    return token, raw


@transaction.atomic
def scim_token_set_role(*, actor, token: ScimToken, role: Role) -> ScimToken:
    """Change the role the token's newly provisioned people join with (people already provisioned
    keep theirs). Choosing the role it has changes nothing."""
    require(actor, "manage_sso", token.workspace)
    role = _check_role(actor, token.workspace, role)
    token = ScimToken.objects.select_for_update(of=("self",)).select_related("workspace", "role").get(pk=token.pk)
    if token.revoked_at is not None:
        raise RuleViolation("This token is revoked: it provisions nobody any more.")
    if token.role_id == role.pk:
        return token
    before = {**_state(token), "role": token.role.name if token.role else None}
    token.role, token.role_set_by = role, actor
    token.save(update_fields=["role", "role_set_by"])
    record(
        action="scim_token.set_role",
        actor=actor,
        workspace=token.workspace,
        target=token,
        before=before,
        after={**_state(token), "role": role.name},
    )
    return token


@transaction.atomic
def scim_token_revoke(*, actor, token: ScimToken) -> ScimToken:
    """Refuse the token from now on. Revoking a revoked token changes nothing."""
    require(actor, "manage_sso", token.workspace)
    # Lock the row so two revocations at once record one event.
    token = ScimToken.objects.select_for_update().select_related("workspace").get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        action="scim_token.revoke",
        actor=actor,
        workspace=token.workspace,
        target=token,
        before={**_state(token), "revoked": False},
        after={**_state(token), "revoked": True},
    )
    return token


def authenticate_token(raw: str | None) -> ScimToken | None:
    """The active token ``raw`` stands for (with its workspace), or None."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ScimToken.objects.select_related("workspace", "role", "role_set_by")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        note_use(token)
    return token
