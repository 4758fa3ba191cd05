"""Reads of accounts that pages need: a person's waiting address change, and the one a link names."""

from __future__ import annotations

import hashlib

from django.utils import timezone

from .models import EmailChange, User

MAX_TOKEN_LENGTH = 100


def token_hash(token: str) -> str:
    """How an address change's link is stored: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def email_change_waiting(user: User) -> EmailChange | None:
    """The person's request whose link has not been followed yet (for the profile page)."""
    return EmailChange.objects.filter(user=user, expires_at__gt=timezone.now()).first()


def email_change_pending(token: str) -> EmailChange | None:
    """The request a link stands for, with its account, or None (unknown, used or replaced)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return EmailChange.objects.select_related("user").filter(token_hash=token_hash(token)).first()
