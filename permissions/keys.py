"""Workspace access keys for the API: create, revoke, authenticate.

A key carries scopes (``SCOPES``): which parts of /api/v1/ it may call. A key made without a choice,
or before scopes existed, is a check key. A key may expire; past its expiry it is refused exactly
like a revoked one.

A key is shown once, when it is made; only its SHA-256 is stored, plus a short prefix so people can
tell their keys apart. Looking a key up by its hash keeps the comparison out of Python (no timing
leak from comparing strings), and a 256-bit random key needs no slow hash.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.tokens import digest, new_secret, note_use
from permissions.policy import require
from workspaces.models import Workspace

from .models import AccessKey, AccessKeyDailyUse, AccessVersion

KEY_MARK = "pk_"

CHECK, READ_SETTINGS, READ_MEMBERS = "check", "read_settings", "read_members"
# scope → what it lets a service do, as the key form says it (the key list uses SCOPE_NAMES)
SCOPES = {
    CHECK: "Ask whether a person may do something (the check API and a member's permissions)",
    READ_SETTINGS: "Read the workspace's settings: sites, IP blocklist, data-collection policies, integrations, "
    "user attributes",
    READ_MEMBERS: "Read members' profiles: workspace role, teams and site grants",
}
# Lifetimes the key form offers, in days (None: until revoked).
LIFETIMES = {None: "Never (until revoked)", 30: "30 days", 90: "90 days", 365: "1 year"}


hash_key = digest  # how a key is stored (``kernel.tokens``)


def _key_state(key: AccessKey) -> dict:
    state = {"name": key.name, "prefix": key.prefix, "scopes": list(key.scopes)}
    if key.expires_at:
        state["expires_at"] = key.expires_at.isoformat()
    return state


def _clean_scopes(scopes) -> list[str]:
    chosen = sorted(set(scopes or ()))
    if not chosen:
        raise RuleViolation("Choose at least one thing the key may do.")
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise RuleViolation(f"Unknown key scope: {', '.join(unknown)}.")
    return chosen


@transaction.atomic
def key_create(
    *, actor, workspace: Workspace, name: str, scopes=(CHECK,), lifetime_days: int | None = None
) -> tuple[AccessKey, str]:
    """A new key with ``scopes``, valid for ``lifetime_days`` (None: until revoked); returns it with
    the raw key, which exists nowhere else from now on."""
    require(actor, "view_access_keys", workspace)
    name = (name or "").strip()
    if not name:
        raise RuleViolation("Give the key a name, so you can tell it apart later.")
    if lifetime_days is not None and lifetime_days < 1:
        raise RuleViolation("A key must live at least one day.")
    raw, prefix, key_hash = new_secret(KEY_MARK)
    key = AccessKey.objects.create(
        workspace=workspace,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        created_by=actor,
        scopes=_clean_scopes(scopes),
        expires_at=timezone.now() + timedelta(days=lifetime_days) if lifetime_days else None,
    )
    record(action="access_key.create", actor=actor, workspace=workspace, target=key, after=_key_state(key))
    return key, raw


@transaction.atomic
def key_revoke(*, actor, key: AccessKey) -> AccessKey:
    """Refuse the key from now on. Revoking a revoked key changes nothing."""
    require(actor, "view_access_keys", key.workspace)
    # Lock the row so two revocations at once record one event.
    key = AccessKey.objects.select_for_update().select_related("workspace").get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    record(
        action="access_key.revoke",
        actor=actor,
        workspace=key.workspace,
        target=key,
        before={**_key_state(key), "revoked": False},
        after={**_key_state(key), "revoked": True},
    )
    return key


def authenticate_key(raw: str | None) -> AccessKey | None:
    """The active key ``raw`` stands for (with its workspace): not revoked, not expired; or None.

    The same query reads the workspace's access version (``key.access_version``, None before the
    workspace's first change), which keys the check API's answer cache (``permissions.check_cache``)."""
    if not raw:
        return None
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    version = AccessVersion.objects.filter(workspace_id=OuterRef("workspace_id")).values("version")[:1]
    key = (
        AccessKey.objects.select_related("workspace")
        .annotate(access_version=Subquery(version))
        .filter(unexpired, key_hash=hash_key(raw), revoked_at__isnull=True)
        .first()
    )
    if key is not None:
        note_use(key)
    return key


def count_check_call(key: AccessKey, *, checks: int) -> None:
    """Count one check-API call of ``checks`` questions on today's row of the key (UTC days).

    One UPDATE in the usual case. It runs outside any transaction of the request, so the row lock
    lasts for that one statement: concurrent calls of the same key queue for microseconds, and
    nothing else ever locks these rows. The day's first call inserts the row; should two first
    calls race, the loser's insert fails on the unique constraint and it counts by UPDATE instead.
    """
    day = timezone.now().date()
    counted = AccessKeyDailyUse.objects.filter(key_id=key.pk, day=day)
    if counted.update(calls=F("calls") + 1, checks=F("checks") + checks):
        return
    try:
        with transaction.atomic():
            AccessKeyDailyUse.objects.create(key_id=key.pk, day=day, calls=1, checks=checks)
    except IntegrityError:
        counted.update(calls=F("calls") + 1, checks=F("checks") + checks)
