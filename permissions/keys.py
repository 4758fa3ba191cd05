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

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections, transaction
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


class _RowReader:
    """Makes an instance of ``model`` from its concrete fields' database values, converted as the
    ORM would; which fields need converting, and by what, is worked out once."""

    def __init__(self, model, connection):
        self.model, self.alias = model, connection.alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.conversions = []  # (position, expression, converters) of the fields that have any
        for position, field in enumerate(self.fields):
            expression = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
            if converters:
                self.conversions.append((position, expression, converters))

    def read(self, values, connection):
        values = list(values)
        for position, expression, converters in self.conversions:
            if values[position] is not None:
                for convert in converters:
                    values[position] = convert(values[position], expression, connection)
        return self.model.from_db(self.alias, self.attnames, values)


@functools.cache
def _lookup(vendor: str) -> tuple[str, _RowReader, _RowReader]:
    """The key lookup's SQL, and the readers of its key and workspace columns, in column order.

    Written once per process from the models' metadata rather than built by the ORM on every call:
    compiling the queryset cost more CPU than the rest of a cached check together."""
    connection = connections[DEFAULT_DB_ALIAS]  # the vendor keys the cache: tests may switch
    quote = connection.ops.quote_name
    key_reader, ws_reader = _RowReader(AccessKey, connection), _RowReader(Workspace, connection)
    key_meta, ws_meta, av_meta = AccessKey._meta, Workspace._meta, AccessVersion._meta
    columns = [f"k.{quote(f.column)}" for f in key_reader.fields] + [f"w.{quote(f.column)}" for f in ws_reader.fields]
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
    return sql, key_reader, ws_reader


def authenticate_key(raw: str | None) -> AccessKey | None:
    """The active key ``raw`` stands for (with its workspace): not revoked, not expired; or None.

    One indexed SELECT, which also reads the workspace's access version (``key.access_version``,
    None before the workspace's first change), the key of the check API's answer cache
    (``permissions.check_cache``). Nothing about a key is cached: a revocation or an expiry is
    refused by every process from the moment it commits or passes."""
    if not raw:
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    sql, key_reader, ws_reader = _lookup(connection.vendor)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    row = _fetch_one(connection, sql, [hash_key(raw), now])
    if row is None:
        return None
    split = len(key_reader.fields)
    key = key_reader.read(row[:split], connection)
    key.workspace = ws_reader.read(row[split:-1], connection)
    key.access_version = row[-1]
    note_use(key)
    return key


def _fetch_one(connection, sql: str, params: list):
    """The first row of a read, with the read as the reused connection's health check.

    With ``CONN_HEALTH_CHECKS``, Django asks a reused connection ``SELECT 1`` before a request's
    first query: on the check API's warm path a round trip as costly as the key's lookup itself. A
    read can run twice, so the lookup takes that check's place: should the reused connection turn
    out to be broken (the database restarted), it is closed and the read runs once more on a new one,
    just as Django would have after its own check."""
    checking = (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    )
    if checking:
        connection.health_check_done = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except (OperationalError, InterfaceError):
        if not checking:
            raise
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def count_check_call(key: AccessKey, *, checks: int) -> None:
    """Count one check-API call of ``checks`` questions on the key's day (UTC): in the shared cache,
    moved into ``AccessKeyDailyUse`` by ``key_counts.flush_counts``, or straight in the table when the
    cache is local (``permissions.key_counts``)."""
    key_counts.count_call(key.pk, checks=checks)
