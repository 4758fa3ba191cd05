"""Just-in-time provisioning by ``sso.services.sso_sign_in``, given the claims of an ID token that
was already verified (the token checks themselves run against real providers in
tests/security/test_sso_hostile_idp.py and tests/browser/test_sso_oidc.py), and home-realm
discovery on the sign-in page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from sso.services import SignInRefused, connection_add, sso_refusal_record, sso_sign_in
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership
from workspaces.people.services import member_change_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(email="olivia@acme.test")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


@pytest.fixture
def connection(owner, workspace):
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    return connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme IdP",
        issuer="https://idp.acme.test",
        client_id="portal",
        client_secret="secret-value",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )


def claims(email: str, verified=True) -> dict:
    return {"sub": "x", "email": email, "email_verified": verified, "name": "Nina N"}


def test_first_sign_in_creates_verified_account_and_membership(connection, workspace):
    user, membership = sso_sign_in(connection=connection, claims=claims("Nina@ACME.test"))
    assert user.email == "nina@acme.test"  # the one canonical form
    assert user.email_verified_at is not None and not user.has_usable_password() and user.full_name == "Nina N"
    assert membership.workspace == workspace and membership.role.key == catalog.MEMBER
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"account.create", "member.sso_join", "account.verify", "sso.sign_in"} <= actions


def test_existing_member_keeps_their_role(connection, workspace):
    admin = add_member(workspace, catalog.ADMIN, UserFactory(email="ada@acme.test")).user
    _, membership = sso_sign_in(connection=connection, claims=claims("ada@acme.test"))
    assert membership.role.key == catalog.ADMIN
    assert admin.has_usable_password()  # a verified account keeps its password
    assert AuditEvent.objects.get(action="sso.sign_in").after["joined"] is False


def test_unverified_account_loses_the_password_nobody_proved(connection):
    """Someone signed up with the address but never verified it: their password no longer signs in."""
    squatter = UserFactory(email="nina@acme.test", email_verified_at=None)
    user, _ = sso_sign_in(connection=connection, claims=claims("nina@acme.test"))
    assert user.pk == squatter.pk
    user.refresh_from_db()
    assert not user.has_usable_password() and user.email_verified_at is not None


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (claims("nina@acme.test", verified=False), "email_not_verified"),
        (claims("nina@acme.test", verified="false"), "email_not_verified"),
        ({"sub": "x", "email": "nina@acme.test"}, "email_not_verified"),
        ({"sub": "x", "email_verified": True}, "no_email"),
        (claims("not an address"), "no_email"),
        (claims("nina@evil-acme.test"), "domain_not_bound"),
        (claims("nina@sub.acme.test"), "domain_not_bound"),
        (claims("nina@acme.test\x00"), "no_email"),
    ],
)
def test_refused_claims_create_nothing(connection, given, reason):
    before = User.objects.count()
    with pytest.raises(SignInRefused) as refused:
        sso_sign_in(connection=connection, claims=given)
    assert refused.value.reason == reason
    assert User.objects.count() == before and Membership.objects.count() == 1


def test_inactive_account_is_refused(connection):
    UserFactory(email="gone@acme.test", is_active=False)
    with pytest.raises(SignInRefused, match="deactivated"):
        sso_sign_in(connection=connection, claims=claims("gone@acme.test"))


def test_role_no_longer_givable_by_its_setter_is_refused(connection, workspace, owner):
    """Rule 3 at the time of joining: the connection's role was set by someone who lost it since."""
    co_owner = add_member(workspace, catalog.OWNER, UserFactory(email="cora@acme.test")).user
    connection.updated_by = co_owner
    connection.default_role = builtin_role(catalog.ADMIN)
    connection.save()
    member_change_role(actor=owner, membership=Membership.objects.get(user=co_owner), role=builtin_role("viewer"))
    with pytest.raises(SignInRefused) as refused:
        sso_sign_in(connection=connection, claims=claims("nina@acme.test"))
    assert refused.value.reason == "role_not_givable"
    assert not User.objects.filter(email="nina@acme.test").exists()


# --- the sign-in page ------------------------------------------------------------------------------


def test_unreachable_provider_is_refused_and_audited(client, connection, settings):
    """Discovery fails (nothing listens at the issuer): back to the sign-in page, nothing created."""
    connection.issuer = "http://127.0.0.1:9"  # the discard port: connection refused
    connection.save()
    response = client.post(reverse("accounts:login"), {"username": "nina@acme.test"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert AuditEvent.objects.get(action="sso.refused").after["reason"] == "discovery"
    assert not User.objects.filter(email="nina@acme.test").exists()


def test_address_alone_elsewhere_gets_the_password_form(client, connection):
    response = client.post(reverse("accounts:login"), {"username": "pat@elsewhere.test"})
    assert response.status_code == 200 and "Enter the password of pat@elsewhere.test" in response.content.decode()
    assert not response.context["form"].errors


def test_password_sign_in_still_works_at_a_bound_domain(client, connection):
    UserFactory(email="ada@acme.test", password="a long and unusual passphrase")
    response = client.post(
        reverse("accounts:login"), {"username": "ada@acme.test", "password": "a long and unusual passphrase"}
    )
    assert response.status_code == 302


def test_hostile_addresses_do_not_500(client, connection):
    for value in ("\x00", "@", "x" * 5000 + "@acme.test", "nina@acme.test\x00"):
        assert client.post(reverse("accounts:login"), {"username": value}).status_code in (200, 400)


def test_sign_ins_and_refusals_read_in_the_activity_page(client, connection, workspace, owner):
    sso_sign_in(connection=connection, claims=claims("nina@acme.test"))
    sso_refusal_record(connection=connection, reason="nonce")
    client.force_login(owner)
    page = client.get(reverse("activity:index", args=[workspace.slug]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Signed in with single sign-on" in text and "Single sign-on refused" in text
    assert "secret-value" not in text
