"""SAML single sign-on end to end in a browser, against the tests' identity provider
(tests/saml/idp.py) and pysaml2's (tests/saml/pysaml2_idp.py), each started on 127.0.0.1 at a free
port, another site than the live server's ``localhost``: the address alone on the portal's sign-in
page, the identity provider's own page (HTTP-Redirect binding), its signed response posted back
cross-site to the ACS (HTTP-POST binding), and the person signed in, a member of the workspace
with the connection's role."""

from __future__ import annotations

import os
import shutil

import pytest
import requests

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from sso.saml_services import saml_connection_add
from tests.factories import UserFactory, make_workspace
from tests.saml.processes import saml_idp
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idp():
    with saml_idp() as found:
        yield found


@pytest.fixture
def acme(idp):
    owner = UserFactory(email="olivia@acme.test")
    workspace = make_workspace(owner, "Acme")
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    connection = saml_connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme SAML",
        metadata_xml=idp["metadata"],
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )
    return workspace, connection


def sign_in_at_idp(page, email: str, at_idp: str | None = None):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=Test identity provider")  # the identity provider's own page
    page.get_by_label("Address").fill(at_idp or email)
    page.get_by_role("button", name="Sign in").click()


def test_first_sign_in_creates_the_account_and_membership(page, acme, live_server, idp):
    workspace, connection = acme
    assert live_server.url.split("//")[1].split(":")[0] != "127.0.0.1"  # the IdP is another site
    sign_in_at_idp(page, "nina@acme.test")
    page.wait_for_url(f"{live_server.url}{workspace.get_absolute_url()}")
    assert page.get_by_role("heading", name="Acme").first.is_visible()
    user = User.objects.get(email="nina@acme.test")
    assert user.email_verified_at is not None and user.full_name == "Test Person"
    assert Membership.objects.get(workspace=workspace, user=user).role.key == catalog.MEMBER
    assert AuditEvent.objects.filter(action="sso.sign_in", target_id=str(connection.pk)).count() == 1


def test_identity_provider_vouching_for_another_domain_is_refused(page, acme, live_server):
    sign_in_at_idp(page, "nina@acme.test", at_idp="eve@elsewhere.test")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.get_by_text("Single sign-on did not sign you in").is_visible()
    assert not User.objects.filter(email="eve@elsewhere.test").exists()
    assert AuditEvent.objects.get(action="sso.refused").after["reason"] == "domain_not_bound"


@pytest.fixture
def pysaml2_acme(live_server):
    if shutil.which("xmlsec1") is None:
        reason = "pysaml2 signs with xmlsec1 (Debian package xmlsec1)"
        if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with saml_idp("pysaml2_idp.py") as found:
        owner = UserFactory(email="olivia@acme.test")
        workspace = make_workspace(owner, "Acme")
        domain = join_domain_add(
            actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER)
        )
        connection = saml_connection_add(
            actor=owner,
            workspace=workspace,
            name="Acme pysaml2",
            metadata_xml=found["metadata"],
            domains=[domain],
            default_role=builtin_role(catalog.MEMBER),
        )
        # The administrator gives the identity provider the portal's service-provider metadata.
        sp_metadata = requests.get(f"{live_server.url}/sso/saml/{connection.provider_id}/metadata/", timeout=10)
        requests.post(f"{found['base']}/register", data=sp_metadata.content, timeout=10).raise_for_status()
        yield workspace, connection


def test_sign_in_through_pysaml2s_identity_provider(page, pysaml2_acme, live_server):
    workspace, connection = pysaml2_acme
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("nina@acme.test")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=pysaml2 identity provider")
    page.get_by_label("Address").fill("nina@acme.test")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}{workspace.get_absolute_url()}")
    user = User.objects.get(email="nina@acme.test")
    assert user.email_verified_at is not None and user.full_name == "pysaml2 Person"
    assert Membership.objects.get(workspace=workspace, user=user).role.key == catalog.MEMBER
    assert AuditEvent.objects.filter(action="sso.sign_in", target_id=str(connection.pk)).count() == 1
