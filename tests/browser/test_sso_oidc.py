"""Single sign-on end to end in a browser, against a real OpenID Connect provider (the npm package
oidc-provider, tests/oidc/idp.mjs) started on 127.0.0.1 at a free port: the address alone on the
portal's sign-in page, the provider's own login page, and back signed in, a member of the
workspace with the connection's role (just-in-time provisioning)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from sso.services import connection_add, connection_mapping_set, connection_set_enabled, sso_requirement_set
from tests.factories import UserFactory, add_member, make_workspace
from tests.oidc.processes import oidc_provider_idp
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idp(live_server):
    if shutil.which("node") is None or not (Path(settings.BASE_DIR) / "node_modules/oidc-provider").exists():
        pytest.skip("node and node_modules/oidc-provider (npm ci) are needed")
    secret = secrets.token_urlsafe(24)
    with oidc_provider_idp(client_id="portal-test", client_secret=secret, redirect_prefix=live_server.url) as issuer:
        yield issuer, secret


@pytest.fixture
def acme(idp):
    issuer, secret = idp
    owner = UserFactory(email="olivia@acme.test")
    workspace = make_workspace(owner, "Acme")
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    connection = connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme Identity",
        issuer=issuer,
        client_id="portal-test",
        client_secret=secret,
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )
    return workspace, connection


def sign_in_at_idp(page, email: str, login: str | None = None):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Sign in").click()
    # The provider's own login page (oidc-provider's development interaction).
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login or email)
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")


def test_first_sign_in_creates_the_account_and_membership(page, acme, live_server):
    workspace, connection = acme
    sign_in_at_idp(page, "nina@acme.test")
    page.wait_for_url(f"{live_server.url}{workspace.get_absolute_url()}")
    assert page.get_by_role("heading", name="Acme").first.is_visible()
    user = User.objects.get(email="nina@acme.test")
    assert user.email_verified_at is not None and user.full_name == "Test nina"
    assert Membership.objects.get(workspace=workspace, user=user).role.key == catalog.MEMBER
    assert AuditEvent.objects.filter(action="sso.sign_in", target_id=str(connection.pk)).count() == 1

    # Signed out of the portal and back in: the provider's own session answers at once, and it is
    # the same account and membership, nothing new.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("nina@acme.test")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}{workspace.get_absolute_url()}")
    assert User.objects.filter(email="nina@acme.test").count() == 1
    assert Membership.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action="sso.sign_in", target_id=str(connection.pk)).count() == 2


def test_provider_not_saying_verified_is_refused(page, acme, live_server):
    workspace, _ = acme
    sign_in_at_idp(page, "uma@acme.test", login="unverified.uma@acme.test")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.get_by_text("Single sign-on did not sign you in").is_visible()
    assert not User.objects.filter(email="uma@acme.test").exists()
    assert AuditEvent.objects.get(action="sso.refused").after["reason"] == "email_not_verified"


def test_other_addresses_keep_the_password_form(page, acme, live_server):
    UserFactory(email="pat@elsewhere.test", password="a long and unusual passphrase")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("pat@elsewhere.test")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("Enter the password of pat@elsewhere.test").is_visible()
    page.get_by_label("Password").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_required_sso_sends_a_password_session_to_the_provider_and_back(page, acme, live_server):
    """Signed in with a password before the workspace required single sign-on: opening the
    workspace leads to the provider and back, signed in through it."""
    workspace, connection = acme
    owner = workspace.memberships.get(role__key=catalog.OWNER).user
    connection_set_enabled(actor=owner, connection=connection, enabled=False)
    nina = UserFactory(email="nina@acme.test", password="a long and unusual passphrase")
    add_member(workspace, catalog.MEMBER, nina)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("nina@acme.test")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Password").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    assert not AuditEvent.objects.filter(action="sso.sign_in").exists()  # a password session

    connection_set_enabled(actor=owner, connection=connection, enabled=True)
    sso_requirement_set(actor=owner, workspace=workspace, required=True)
    page.goto(workspace.get_absolute_url())
    page.wait_for_selector("input[name=login]")  # the provider's login page, reached by the explaining page
    page.fill("input[name=login]", "nina@acme.test")
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{workspace.get_absolute_url()}")
    assert page.get_by_role("heading", name="Acme").first.is_visible()
    assert AuditEvent.objects.filter(action="sso.sign_in", actor=nina).count() == 1
    # Signed in through the provider now: the workspace's pages open directly.
    page.goto(workspace.get_absolute_url())
    assert page.get_by_role("heading", name="Acme").first.is_visible()


def test_group_mapping_changes_the_role_at_sign_in(page, acme, live_server):
    """The provider's "groups" claim, mapped on the connection, makes a Member an Admin at their
    next sign-in, through the membership service (audited)."""
    workspace, connection = acme
    owner = workspace.memberships.get(role__key=catalog.OWNER).user
    nina = UserFactory(email="nina@acme.test")
    add_member(workspace, catalog.MEMBER, nina)
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="portal-admins = Admin")
    sign_in_at_idp(page, "nina@acme.test", login="nina@acme.test#portal-admins,other")
    page.wait_for_url(f"{live_server.url}{workspace.get_absolute_url()}")
    assert Membership.objects.get(workspace=workspace, user=nina).role.key == catalog.ADMIN
    change = AuditEvent.objects.get(action="member.role_change")
    assert change.actor == owner and change.workspace == workspace
