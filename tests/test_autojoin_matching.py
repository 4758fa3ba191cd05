"""Auto-join matching: domain names normalised (case, IDNA), public providers refused, and an
address matched to a verified domain exactly, to its subdomains only when the domain says so, and
never to a look-alike (docs/RULES.md 4.4)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import make_workspace
from workspaces.joining.dns import (
    PUBLIC_PROVIDERS,
    InvalidDomain,
    email_domain,
    is_public_provider,
    normalize_domain,
    unicode_form,
)
from workspaces.joining.selectors import domain_for_email
from workspaces.joining.services import join_domain_add
from workspaces.models import JoinDomain


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("acme.com", "acme.com"),
        ("  ACME.Com.  ", "acme.com"),
        ("@acme.com", "acme.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("аcme.com", "xn--cme-5cd.com"),  # a Cyrillic "а": another name, kept apart by its punycode
        ("eu.Acme.com", "eu.acme.com"),
    ],
)
def test_domains_are_stored_lower_case_in_their_ascii_form(typed, stored):
    assert normalize_domain(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "localhost",
        "acme",
        "acme..com",
        "-acme.com",
        "acme-.com",
        "ac me.com",
        "acme.com/path",
        "https://acme.com",
        "person@acme.com",
        "192.168.0.1",
        "acme_corp.com",
        "xn--zz.com",  # not valid punycode
        "a" * 64 + ".com",
        ("a" * 60 + ".") * 5 + "com",  # longer than 253 characters
    ],
)
def test_invalid_names_are_refused(typed):
    with pytest.raises(InvalidDomain):
        normalize_domain(typed)


def test_email_domain_and_display_form():
    assert email_domain("Ada@Acme.COM") == "acme.com"
    assert email_domain("no-at-sign") is None
    assert email_domain("ada@") is None
    assert unicode_form("xn--bcher-kva.example") == "bücher.example"


@pytest.mark.parametrize("name", ["gmail.com", "GoogleMail.com", "outlook.com", "proton.me", "mail.yahoo.com"])
def test_public_providers_and_their_subdomains_are_recognised(name):
    assert is_public_provider(normalize_domain(name))


def test_the_provider_list_is_data_and_covers_the_big_ones():
    for name in ("gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com"):
        assert name in PUBLIC_PROVIDERS
    assert not is_public_provider("acme.com")
    assert not is_public_provider("notgmail.com")


# --- matching addresses to verified domains -------------------------------------------------------


@pytest.fixture
def acme(db):
    """acme.com, verified by its owner's own address, automatic, subdomains not included."""
    workspace = make_workspace(name="Acme")
    owner = workspace.memberships.get().user
    owner.email = "owner@acme.com"
    owner.save(update_fields=["email"])
    return join_domain_add(actor=owner, workspace=workspace, domain="acme.com", role=builtin_role(catalog.MEMBER))


@pytest.mark.parametrize("email", ["ada@acme.com", "ADA@ACME.COM", "ada@Acme.Com.", "  ada@acme.com "])
def test_exact_domain_matches_whatever_the_case(acme, email):
    assert acme.verified_at is not None
    assert domain_for_email(email) == acme


@pytest.mark.parametrize(
    "email",
    [
        "ada@evil-acme.com",
        "ada@acmeacme.com",
        "ada@acme.com.evil.com",
        "ada@acme.co",
        "ada@acme.comm",
        "ada@аcme.com",  # Cyrillic "а"
        "ada@xn--cme-5cd.com",  # the same homograph, typed as punycode
        "ada@eu.acme.com",  # a subdomain, while the domain does not include them
        "ada@com",
        "ada@",
        "acme.com",
    ],
)
def test_look_alikes_never_match(acme, email):
    assert domain_for_email(email) is None


def test_subdomains_match_only_when_the_domain_includes_them(acme):
    assert domain_for_email("ada@eu.acme.com") is None
    JoinDomain.objects.filter(pk=acme.pk).update(include_subdomains=True)
    assert domain_for_email("ada@eu.acme.com") == acme
    assert domain_for_email("ada@deep.eu.ACME.com") == acme
    assert domain_for_email("ada@eu-acme.com") is None
    assert domain_for_email("ada@acme.com.evil.com") is None


def test_the_most_specific_verified_domain_wins(acme):
    JoinDomain.objects.filter(pk=acme.pk).update(include_subdomains=True)
    other = make_workspace(name="Acme Europe")
    eu = JoinDomain.objects.create(
        workspace=other,
        domain="eu.acme.com",
        role=builtin_role(catalog.VIEWER),
        verification_token="t",
        verified_at=timezone.now(),
        verification_method=JoinDomain.Method.DNS,
    )
    assert domain_for_email("ada@eu.acme.com") == eu
    assert domain_for_email("ada@us.acme.com") == acme


def test_unverified_and_suspended_domains_do_not_match(acme):
    JoinDomain.objects.filter(pk=acme.pk).update(suspended_at=timezone.now())
    assert domain_for_email("ada@acme.com") is None
    JoinDomain.objects.filter(pk=acme.pk).update(suspended_at=None, verified_at=None)
    assert domain_for_email("ada@acme.com") is None


def test_unicode_domains_match_in_either_spelling(db):
    workspace = make_workspace(name="Bücher")
    owner = workspace.memberships.get().user
    owner.email = "owner@xn--bcher-kva.example"
    owner.save(update_fields=["email"])
    found = join_domain_add(
        actor=owner, workspace=workspace, domain="BÜCHER.example", role=builtin_role(catalog.MEMBER)
    )
    assert found.domain == "xn--bcher-kva.example" and found.verified_at is not None
    assert domain_for_email("ada@bücher.example") == found
    assert domain_for_email("ada@XN--BCHER-KVA.example") == found
    assert domain_for_email("ada@bucher.example") is None


def test_look_alike_domains_cannot_be_claimed_by_an_address_at_the_real_one(acme):
    """Verification at once needs an address at exactly the domain: the owner at acme.com proves
    nothing about a look-alike, which stays unverified (and so never matches)."""
    owner = acme.added_by
    for name in ("evil-acme.com", "acme.co", "аcme.com", "eu.acme.com"):
        added = join_domain_add(actor=owner, workspace=acme.workspace, domain=name, role=builtin_role(catalog.MEMBER))
        assert added.verified_at is None, name
    with pytest.raises(RuleViolation):
        join_domain_add(actor=owner, workspace=acme.workspace, domain="ACME.com", role=builtin_role(catalog.MEMBER))
