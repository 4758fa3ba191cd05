"""Testing a connection in a browser: the owner, signed in with their password, presses "Test the
connection" on a disabled SAML connection's page, signs in on the test identity provider's own
page (tests/saml/idp.py, another site on 127.0.0.1), whose answer is posted back cross-site to the
ACS, and reads the report, still signed in as themselves; nobody was added."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from sso.saml_services import saml_connection_add
from tests.browser.conftest import sign_in
from tests.factories import UserFactory, make_workspace
from tests.saml.processes import saml_idp
from workspaces.joining.services import join_domain_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idp():
    with saml_idp() as found:
        yield found


def test_owner_tests_a_disabled_connection_and_reads_the_report(page, idp, live_server):
    owner = UserFactory(email="olivia@acme.test", full_name="Olivia Owner")
    workspace = make_workspace(owner, "Acme")
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    connection = saml_connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme SAML",
        metadata_xml=idp["metadata"],
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
        enabled=False,
    )
    sign_in(page, owner.email)
    page.goto(f"/w/{workspace.slug}/settings/sso/connections/{connection.pk}/")
    page.get_by_role("button", name="Test the connection").click()
    page.wait_for_selector("text=Test identity provider")  # the identity provider's own page
    page.get_by_label("Address").fill("nina@acme.test")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/w/{workspace.slug}/settings/sso/connections/{connection.pk}/test/result/")
    expect(page.get_by_role("heading", name="The sign-in would succeed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("nina@acme.test")
    expect(page.locator("main")).to_contain_text("urn:oasis:names:tc:SAML:2.0:ac:classes:Password")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Sign out")
    assert not User.objects.filter(email="nina@acme.test").exists()
    assert AuditEvent.objects.get(action="sso.connection_test").after["outcome"] == "passed"
    assert not AuditEvent.objects.filter(action="sso.sign_in").exists()
