"""Secrets the portal shows once and stores only as a SHA-256: access keys and SCIM tokens.

A secret is 256 random bits after a mark that says what it is (``pk_``, ``scim_``); a short prefix
is kept in clear so people can tell their secrets apart. A secret is found by the hash of what was
sent, so the comparison happens in the database, never in Python (no timing leak), and 256 random
bits need no slow hash. "Last used" is written at most once a minute, so a busy secret does not
make every request a write.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

PREFIX_CHARACTERS = 6  # after the mark
LAST_USED_PRECISION = timedelta(minutes=1)


def digest(raw: str) -> str:
    """The stored form of a secret. A lone surrogate is replaced, so hostile text hashes (and
    matches nothing) instead of raising."""
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def new_secret(mark: str) -> tuple[str, str, str]:
    """A new secret: (the raw secret, to show once; its prefix; its digest, to store)."""
    raw = mark + secrets.token_urlsafe(32)
    return raw, raw[: len(mark) + PREFIX_CHARACTERS], digest(raw)


def note_use(row) -> None:
    """Set ``row.last_used_at`` to now with one UPDATE, unless it was set less than a minute ago."""
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        type(row).objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
