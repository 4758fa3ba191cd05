"""The one canonical form of an e-mail address, used wherever an address is stored or compared.

Two spellings that reach the same mailbox must be one address to the portal: otherwise a limit per
address, "already a member", a duplicate check or a sign-in can be passed with a look-alike
spelling while the mail still lands in the same inbox. So every address is stored and compared as:

- Unicode NFKC: fullwidth and other compatibility characters become their plain form
  ("ｖictim" → "victim", "ｂeta-inv.test" → "beta-inv.test");
- the domain in its ASCII (A-label) form, after the UTS-46 mapping of the ``idna`` package
  (non-transitional, as browsers and mail servers use today): "Bücher.Example" →
  "xn--bcher-kva.example", a trailing dot dropped. That is the name the mail server is given, so
  the stored address is exactly where the mail goes. A Cyrillic "а" stays a different domain;
- lower case in full, the local part too (the portal has always compared addresses ignoring case);
- surrounding white space removed.

A domain that UTS-46 refuses is tried with the older IDNA 2003 codec (the one Django's mailer uses),
then left as it is (lower case, NFKC); such an address is refused by ``validate_address`` anyway.
"""

from __future__ import annotations

import functools
import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

MAX_LENGTH = 254  # RFC 5321's limit on a path, and the length of every e-mail column

_validator = EmailValidator()


def canonical_domain(domain: str) -> str:
    """A domain's ASCII form (UTS-46, lower case, no trailing dot); raises ``idna.IDNAError`` or
    ``UnicodeError`` when the name cannot be converted."""
    name = unicodedata.normalize("NFKC", domain or "").strip().rstrip(".")
    if not name:
        raise idna.IDNAError("Empty domain name")
    return idna.encode(name, uts46=True, transitional=False).decode("ascii").lower()


def _domain_or_fallback(domain: str) -> str:
    # The IDNA mapping costs tens of microseconds; a batch of checks names few domains many times.
    return _cached_domain(domain) if len(domain) <= MAX_CACHED_DOMAIN else _convert_domain(domain)


MAX_CACHED_DOMAIN = 253  # the longest domain name: longer text is never cached


@functools.lru_cache(maxsize=1024)
def _cached_domain(domain: str) -> str:
    return _convert_domain(domain)


def _convert_domain(domain: str) -> str:
    try:
        return canonical_domain(domain)
    except (idna.IDNAError, UnicodeError):
        pass
    name = unicodedata.normalize("NFKC", domain).strip().lower().rstrip(".")
    try:
        return name.encode("idna").decode("ascii")  # IDNA 2003, as django.core.mail would send it
    except UnicodeError:
        return name


def normalize_email(email: str | None) -> str:
    """The canonical form of an address (see the module's docstring). Never raises: text that is
    not an address comes back tidied, for ``validate_address`` to refuse."""
    text = unicodedata.normalize("NFKC", email or "").strip()
    local, at, domain = text.rpartition("@")
    if not at or not domain.strip():
        return text.lower()
    return f"{local.lower()}@{_domain_or_fallback(domain)}"


def validate_address(email: str) -> str:
    """Canonicalise and check an address; returns the canonical form or raises ValidationError."""
    address = normalize_email(email)
    if len(address) > MAX_LENGTH:
        raise ValidationError(f"“{address[:60]}…” is too long for an e-mail address.", code="too_long")
    try:
        _validator(address)
    except ValidationError:
        raise ValidationError("Enter a valid e-mail address.", code="invalid") from None
    return address


def same_address(a: str | None, b: str | None) -> bool:
    return normalize_email(a) == normalize_email(b)
