"""Workspace access keys for the API: create, revoke, authenticate.

A key carries scopes (``SCOPES``): which parts of /api/v1/ it may call. A key made without a choice,
or before scopes existed, is a check key. A key may expire; past its expiry it is refused exactly
like a revoked one.

A key is shown once, when it is made; only its SHA-256 is stored, plus a short prefix so people can
tell their keys apart. Looking a key up by its hash keeps the comparison out of Python (no timing
leak from comparing strings), and a 256-bit random key needs no slow hash.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.tokens import digest, new_secret, note_use
from permissions.policy import require
from workspaces.models import Workspace

from . import key_counts
from .models import AccessKey, AccessVersion

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


@functools.cache
def _lookup_sql(vendor: str) -> tuple[str, list, list]:
    """The key lookup's SQL, with the key's and its workspace's concrete fields in column order.

    Written once per process from the models' metadata rather than built by the ORM on every call:
    compiling the queryset cost more CPU than the rest of a cached check together."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name  # the vendor keys the cache: tests may switch
    key_fields, ws_fields = AccessKey._meta.concrete_fields, Workspace._meta.concrete_fields
    key_meta, ws_meta, av_meta = AccessKey._meta, Workspace._meta, AccessVersion._meta
    columns = [f"k.{quote(f.column)}" for f in key_fields] + [f"w.{quote(f.column)}" for f in ws_fields]
    sql = (
        f"SELECT {', '.join(columns)}, "
        f"(SELECT v.{quote(av_meta.get_field('version').column)} FROM {quote(av_meta.db_table)} v "
        f"WHERE v.{quote(av_meta.pk.column)} = k.{quote(key_meta.get_field('workspace').column)}) "
        f"FROM {quote(key_meta.db_table)} k INNER JOIN {quote(ws_meta.db_table)} w "
        f"ON w.{quote(ws_meta.pk.column)} = k.{quote(key_meta.get_field('workspace').column)} "
        f"WHERE k.{quote(key_meta.get_field('key_hash').column)} = %s "
        f"AND k.{quote(key_meta.get_field('revoked_at').column)} IS NULL "
        f"AND (k.{quote(key_meta.get_field('expires_at').column)} IS NULL "
        f"OR k.{quote(key_meta.get_field('expires_at').column)} > %s)"
    )
    return sql, list(key_fields), list(ws_fields)


def _from_row(model, fields, values, connection):
    """An instance of ``model`` from its concrete fields' database values, converted as the ORM would."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        if value is not None:
            expression = field.get_col(model._meta.db_table)
            for convert in connection.ops.get_db_converters(expression) + field.get_db_converters(connection):
                value = convert(value, expression, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def authenticate_key(raw: str | None) -> AccessKey | None:
    """The active key ``raw`` stands for (with its workspace): not revoked, not expired; or None.

    One indexed SELECT, which also reads the workspace's access version (``key.access_version``,
    None before the workspace's first change), the key of the check API's answer cache
    (``permissions.check_cache``). Nothing about a key is cached: a revocation or an expiry is
    refused by every process from the moment it commits or passes."""
    if not raw:
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    sql, key_fields, ws_fields = _lookup_sql(connection.vendor)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [hash_key(raw), now])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(key_fields)
    key = _from_row(AccessKey, key_fields, row[:split], connection)
    key.workspace = _from_row(Workspace, ws_fields, row[split:-1], connection)
    key.access_version = row[-1]
    note_use(key)
    return key


def count_check_call(key: AccessKey, *, checks: int) -> None:
    """Count one check-API call of ``checks`` questions on the key's day (UTC): in the shared cache,
    moved into ``AccessKeyDailyUse`` by ``key_counts.flush_counts``, or straight in the table when the
    cache is local (``permissions.key_counts``)."""
    key_counts.count_call(key.pk, checks=checks)
