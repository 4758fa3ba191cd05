"""SCIM bearer tokens: create, revoke, authenticate.

As access keys (``permissions.keys``), through ``kernel.tokens``: a token is shown once, only its
SHA-256 is stored with a short prefix to tell tokens apart, and a token is found by its hash.
Provisioning belongs with single sign-on, so managing tokens needs ``manage_sso``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.tokens import digest, new_secret, note_use
from permissions.policy import require
from workspaces.models import Workspace

from .models import ScimToken

TOKEN_MARK = "scim_"
hash_token = digest  # how a token is stored (``kernel.tokens``)


def _state(token: ScimToken) -> dict:
    return {"name": token.name, "prefix": token.prefix}


@transaction.atomic
def scim_token_create(*, actor, workspace: Workspace, name: str) -> tuple[ScimToken, str]:
    """A new token; returns it with the raw token, which exists nowhere else from now on."""
    require(actor, "manage_sso", workspace)
    name = (name or "").strip()
    if not name:
        raise RuleViolation("Give the token a name, so you can tell it apart later.")
    if len(name) > 100:
        raise RuleViolation("A token's name has at most 100 characters.")
    raw, prefix, token_hash = new_secret(TOKEN_MARK)
    token = ScimToken.objects.create(
        workspace=workspace, name=name, prefix=prefix, token_hash=token_hash, created_by=actor
    )
    record(action="scim_token.create", actor=actor, workspace=workspace, target=token, after=_state(token))
    return token, raw


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
        ScimToken.objects.select_related("workspace")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        note_use(token)
    return token
