"""Testing a connection ("Test the connection" on its page): a sign-in at the real test identity
providers (tests/oidc/hostile_idp.py for OpenID Connect, tests/saml/idp.py and pysaml2's for SAML)
whose answer is checked as a sign-in's and reported to the tester, changing nothing: nobody is
signed in or provisioned, the tester stays signed in as themselves, and the outcome is audited
(``sso.connection_test``) without the claims. The test mark lives in the tester's session only."""

from __future__ import annotations

import re
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from sso.models import Connection, SamlAssertion
from sso.saml_services import saml_connection_add
from sso.services import connection_add, connection_mapping_set, connection_set_enabled
from tests.factories import UserFactory, add_member, make_workspace
from tests.oidc.processes import hostile_idp
from tests.saml.processes import authn_request, crafted, saml_idp, sign_in_at_idp
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership, TeamMembership
from workspaces.people.services import member_change_role
from workspaces.teams.services import team_create

pytestmark = pytest.mark.django_db
NEWCOMER = "nina@acme.test"  # what the hostile provider vouches for when no login_hint is sent


@pytest.fixture(scope="module")
def issuer():
    with hostile_idp() as found:
        yield found


@pytest.fixture(scope="module")
def idp():
    with saml_idp() as found:
        yield found


@pytest.fixture
def acme(db):
    owner = UserFactory(email="olivia@acme.test")
    workspace = make_workspace(owner, "Acme")
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    return owner, workspace, domain


def oidc_connection(acme, issuer: str, mode: str = "honest", enabled: bool = True) -> Connection:
    owner, workspace, domain = acme
    return connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme IdP",
        issuer=issuer,
        client_id=mode,
        client_secret="client-secret-value",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
        enabled=enabled,
    )


def saml_connection(acme, idp, enabled: bool = True) -> Connection:
    owner, workspace, domain = acme
    return saml_connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme SAML",
        metadata_xml=idp["metadata"],
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
        enabled=enabled,
    )


def start_test(client, connection: Connection) -> str:
    """Press "Test the connection"; answers the identity provider's URL the page continues to."""
    response = client.post(reverse("sso:test", args=[connection.workspace.slug, connection.pk]))
    assert response.status_code == 200 and response.templates[0].name == "sso/connection_test_continue.html"
    return response.context["continue_url"]


def provider_answer(authorize_url: str) -> str:
    """The hostile OpenID Connect provider answers at once: the callback URL it sends back to."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def result_url(connection: Connection) -> str:
    return reverse("sso:test_result", args=[connection.workspace.slug, connection.pk])


def audited(**after) -> AuditEvent:
    event = AuditEvent.objects.filter(action="sso.connection_test").latest("pk")
    assert set(event.after) == {"connection", "outcome", "reason"}  # never the claims
    for key, value in after.items():
        assert event.after[key] == value
    return event


def assert_nothing_changed(client, tester: User, email: str = NEWCOMER):
    assert int(client.session[SESSION_KEY]) == tester.pk  # still signed in as themselves
    assert not User.objects.filter(email=email).exists() or Membership.objects.filter(user__email=email).count() <= 1
    assert not AuditEvent.objects.filter(action__in=["sso.sign_in", "member.sso_join", "account.create"]).exists()


# --- OpenID Connect --------------------------------------------------------------------------------


def test_oidc_test_reports_what_the_provider_sent_and_changes_nothing(client, acme, issuer):
    owner, workspace, _ = acme
    connection = oidc_connection(acme, issuer)
    client.force_login(owner)
    url = start_test(client, connection)
    assert url.startswith(f"{issuer}/authorize") and "login_hint" not in url
    back = client.get(provider_answer(url))
    assert back.status_code == 302 and back["Location"] == result_url(connection)
    page = client.get(back["Location"])
    text = page.content.decode()
    assert page.status_code == 200 and "The sign-in would succeed" in text
    assert "OpenID Connect" in text and f"sub-{NEWCOMER}" in text and NEWCOMER in text
    assert "at one of the connection's domains" in text and "would join as Member" in text
    assert "client-secret-value" not in text and "<time datetime=" in text
    assert not User.objects.filter(email=NEWCOMER).exists()
    assert_nothing_changed(client, owner)
    event = audited(outcome="passed", reason="", connection="Acme IdP")
    assert event.actor_id == owner.pk and event.workspace_id == workspace.pk
    # The page reads in the activity log.
    assert "Tested a single sign-on connection" in client.get(reverse("activity:index", args=[workspace.slug])).text


def test_existing_account_at_the_address_is_not_signed_in(client, acme, issuer):
    """The identity provider's person has an account and is a member: the tester stays themselves."""
    owner, workspace, _ = acme
    nina = add_member(workspace, catalog.VIEWER, UserFactory(email=NEWCOMER)).user
    connection = oidc_connection(acme, issuer)
    client.force_login(owner)
    client.get(provider_answer(start_test(client, connection)))
    text = client.get(result_url(connection)).content.decode()
    assert "a member, Viewer" in text
    assert int(client.session[SESSION_KEY]) == owner.pk != nina.pk
    assert not AuditEvent.objects.filter(action="sso.sign_in").exists()


def test_disabled_connection_can_be_tested_but_not_signed_in_through(client, acme, issuer):
    owner, _, _ = acme
    connection = oidc_connection(acme, issuer, enabled=False)
    client.force_login(owner)
    back = provider_answer(start_test(client, connection))
    assert client.get(back)["Location"] == result_url(connection)
    audited(outcome="passed")
    # Replayed, the same answer finds no state: the disabled connection has no app any more.
    assert client.get(back).status_code == 404
    # Nobody else's browser reaches a disabled connection's callback either.
    client.logout()
    assert client.get(back).status_code == 404


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("wrong-audience", "id_token"), ("alg-none", "id_token"), ("expired", "id_token"), ("no-nonce", "nonce")],
)
def test_oidc_checks_all_run_and_refusals_are_reported(client, acme, issuer, mode, reason):
    owner, _, _ = acme
    connection = oidc_connection(acme, issuer, mode)
    client.force_login(owner)
    assert client.get(provider_answer(start_test(client, connection)))["Location"] == result_url(connection)
    text = client.get(result_url(connection)).content.decode()
    assert "The answer was refused" in text and f"({reason})" in text
    audited(outcome="refused", reason=reason)
    assert_nothing_changed(client, owner)
    assert not AuditEvent.objects.filter(action="sso.refused").exists()


def test_unverified_address_would_be_refused(client, acme, issuer):
    owner, _, _ = acme
    connection = oidc_connection(acme, issuer, "unverified")
    client.force_login(owner)
    client.get(provider_answer(start_test(client, connection)))
    text = client.get(result_url(connection)).content.decode()
    assert "would be refused" in text and "(email_not_verified)" in text
    audited(outcome="would_refuse", reason="email_not_verified")


def test_address_outside_the_domains_would_be_refused(client, acme, issuer):
    owner, _, _ = acme
    connection = oidc_connection(acme, issuer, "email=eve@elsewhere.test")
    client.force_login(owner)
    client.get(provider_answer(start_test(client, connection)))
    text = client.get(result_url(connection)).content.decode()
    assert "not at one of the connection's domains" in text and "(domain_not_bound)" in text
    audited(outcome="would_refuse", reason="domain_not_bound")


def test_hostile_claims_are_escaped_capped_and_tokens_hidden(client, acme, issuer):
    owner, _, _ = acme
    connection = oidc_connection(acme, issuer, "hostile-claims")
    client.force_login(owner)
    client.get(provider_answer(start_test(client, connection)))
    text = client.get(result_url(connection)).content.decode()
    assert "<script>alert(" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "should-never-be-shown" not in text and "refresh_token" not in text
    assert "A" * 5000 not in text and "(5000 characters)" in text
    assert "<code>otp</code>" in text  # amr, shown only


def test_group_mapping_is_a_dry_run(client, acme, issuer):
    """The mapping says what it would give; no membership, role or team is written."""
    owner, workspace, _ = acme
    team = team_create(actor=owner, workspace=workspace, name="Engineering")
    nina = add_member(workspace, catalog.VIEWER, UserFactory(email=NEWCOMER))
    connection = oidc_connection(acme, issuer, "hostile-claims")
    connection_mapping_set(
        actor=owner, connection=connection, group_claim="groups", text="engineering = admin\nengineering = Engineering"
    )
    client.force_login(owner)
    client.get(provider_answer(start_test(client, connection)))
    text = client.get(result_url(connection)).content.decode()
    assert "Role: Admin" in text and "Added to the team Engineering" in text
    nina.refresh_from_db()
    assert nina.role.key == catalog.VIEWER
    assert not TeamMembership.objects.filter(team=team).exists()


def test_another_users_session_cannot_complete_a_test(client, acme, issuer):
    """The provider's answer to Olivia's test, opened in another admin's browser: refused like any
    answer to a sign-in that browser did not start; no report, nobody signed in."""
    owner, workspace, _ = acme
    connection = oidc_connection(acme, issuer)
    client.force_login(owner)
    back = provider_answer(start_test(client, connection))
    other = client.__class__()
    co_owner = add_member(workspace, catalog.OWNER, UserFactory(email="ada@acme.test")).user
    other.force_login(co_owner)
    response = other.get(back)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert not AuditEvent.objects.filter(action="sso.connection_test").exists()
    assert AuditEvent.objects.get(action="sso.refused").after["reason"] == "state"
    assert "No test of this connection" in other.get(result_url(connection)).content.decode()
    assert not User.objects.filter(email=NEWCOMER).exists()


def test_a_parameter_does_not_turn_a_sign_in_into_a_test(client, acme, issuer):
    """A real sign-in from the sign-in page, with test-looking parameters added to the callback, is
    a real sign-in: the person is signed in, no report."""
    connection = oidc_connection(acme, issuer)
    response = client.post(reverse("accounts:login"), {"username": NEWCOMER})
    back = provider_answer(response.context["continue_url"])
    done = client.get(f"{back}&connection_test=1&test=1")
    assert done.status_code == 302 and done["Location"] == acme[1].get_absolute_url()
    assert int(client.session[SESSION_KEY]) == User.objects.get(email=NEWCOMER).pk
    assert not AuditEvent.objects.filter(action="sso.connection_test").exists()
    assert connection.pk


def test_a_pending_test_does_not_turn_the_testers_own_sign_in_into_one(client, acme, issuer):
    """The tester starts a test, then signs out and a real sign-in starts in the same browser: it
    signs in (the mark was in the session the sign-out ended)."""
    owner, _, _ = acme
    connection = oidc_connection(acme, issuer)
    client.force_login(owner)
    start_test(client, connection)
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": NEWCOMER})
    done = client.get(provider_answer(response.context["continue_url"]))
    assert done["Location"] == acme[1].get_absolute_url()
    assert not AuditEvent.objects.filter(action="sso.connection_test").exists()


def test_unreachable_provider_is_reported(client, acme, issuer):
    owner, _, _ = acme
    connection = oidc_connection(acme, issuer)
    Connection.objects.filter(pk=connection.pk).update(issuer="http://127.0.0.1:9")
    client.force_login(owner)
    response = client.post(reverse("sso:test", args=[acme[1].slug, connection.pk]))
    assert response.status_code == 302 and response["Location"] == result_url(connection)
    assert "(discovery)" in client.get(result_url(connection)).content.decode()
    audited(outcome="refused", reason="discovery")


# --- who may test ----------------------------------------------------------------------------------


def test_button_needs_manage_sso_and_other_workspaces_ids_are_404(client, acme, issuer):
    owner, workspace, _ = acme
    connection = oidc_connection(acme, issuer)
    client.force_login(owner)
    page = client.get(reverse("sso:edit", args=[workspace.slug, connection.pk])).content.decode()
    assert "Test the connection" in page and reverse("sso:test", args=[workspace.slug, connection.pk]) in page
    assert client.get(reverse("sso:test", args=[workspace.slug, connection.pk])).status_code == 405
    viewer = add_member(workspace, catalog.MEMBER, UserFactory(email="max@acme.test")).user
    client.force_login(viewer)
    assert client.post(reverse("sso:test", args=[workspace.slug, connection.pk])).status_code == 403
    assert client.get(result_url(connection)).status_code == 403
    other_owner = UserFactory(email="gus@globex.test")
    globex = make_workspace(other_owner, "Globex")
    client.force_login(other_owner)
    assert client.post(reverse("sso:test", args=[globex.slug, connection.pk])).status_code == 404
    assert client.post(reverse("sso:test", args=[workspace.slug, connection.pk])).status_code == 404
    assert client.post(reverse("sso:test", args=[globex.slug, 999999])).status_code == 404
    assert not AuditEvent.objects.filter(action="sso.connection_test").exists()


def test_tester_who_lost_manage_sso_gets_no_report(client, acme, issuer):
    owner, workspace, _ = acme
    co_owner = add_member(workspace, catalog.OWNER, UserFactory(email="ada@acme.test"))
    connection = oidc_connection(acme, issuer)
    client.force_login(co_owner.user)
    back = provider_answer(start_test(client, connection))
    member_change_role(actor=owner, membership=co_owner, role=builtin_role(catalog.ADMIN))  # no manage_sso
    response = client.get(back)
    assert response["Location"] == reverse("accounts:login")
    assert not AuditEvent.objects.filter(action="sso.connection_test").exists()
    assert AuditEvent.objects.get(action="sso.refused").after["reason"] == "test_expired"


# --- SAML 2.0 --------------------------------------------------------------------------------------


def post_acs(client, connection: Connection, encoded: str, relay: str = ""):
    data = {"SAMLResponse": encoded, **({"RelayState": relay} if relay else {})}
    posted = client.post(reverse("sso_saml_acs", args=[connection.provider_id]), data)
    if posted.status_code != 303:
        return posted
    return client.get(posted["Location"])


def relay_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["RelayState"][0]


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_saml_test_through_the_identity_providers_page(client, acme, idp, enabled):
    owner, _, _ = acme
    connection = saml_connection(acme, idp, enabled=enabled)
    client.force_login(owner)
    url = start_test(client, connection)
    response = post_acs(client, connection, sign_in_at_idp(url, NEWCOMER), relay_of(url))
    assert response.status_code == 302 and response["Location"] == result_url(connection)
    text = client.get(result_url(connection)).content.decode()
    assert "The sign-in would succeed" in text and "SAML 2.0" in text and "NameID" in text
    assert "Test Person" in text and NEWCOMER in text
    assert "urn:oasis:names:tc:SAML:2.0:ac:classes:Password" in text  # AuthnContextClassRef
    assert "SignatureValue" not in text and "ds:Signature" not in text and "BEGIN CERTIFICATE" not in text
    assert_nothing_changed(client, owner)
    assert not User.objects.filter(email=NEWCOMER).exists()
    assert SamlAssertion.objects.filter(connection=connection).count() == 1  # the assertion is spent
    audited(outcome="passed", connection="Acme SAML")


def test_saml_crafted_response_is_refused_in_the_report(client, acme, idp):
    owner, _, _ = acme
    connection = saml_connection(acme, idp)
    client.force_login(owner)
    request = authn_request(start_test(client, connection))
    fields = {"acs": request["acs"], "audience": request["audience"], "email": NEWCOMER}
    encoded = crafted(idp, case="other_key", in_response_to=request["id"], **fields)
    assert post_acs(client, connection, encoded)["Location"] == result_url(connection)
    assert "(saml_signature)" in client.get(result_url(connection)).content.decode()
    audited(outcome="refused", reason="saml_signature")
    assert_nothing_changed(client, owner)


def test_saml_test_answer_is_never_a_sign_in_elsewhere(client, acme, idp):
    """Olivia's test answer, posted from another browser: no pending request there, refused."""
    owner, _, _ = acme
    connection = saml_connection(acme, idp)
    client.force_login(owner)
    url = start_test(client, connection)
    encoded = sign_in_at_idp(url, NEWCOMER)
    other = client.__class__()
    response = post_acs(other, connection, encoded, relay_of(url))
    assert response["Location"] == reverse("accounts:login") and SESSION_KEY not in other.session
    assert AuditEvent.objects.get(action="sso.refused").after["reason"] == "saml_request"
    assert not User.objects.filter(email=NEWCOMER).exists()
    assert not AuditEvent.objects.filter(action="sso.connection_test").exists()


def test_disabled_saml_connection_acs_needs_a_tests_relay_state(client, acme, idp):
    owner, _, _ = acme
    connection = saml_connection(acme, idp, enabled=False)
    client.force_login(owner)
    url = start_test(client, connection)
    encoded = sign_in_at_idp(url, NEWCOMER)
    assert post_acs(client, connection, encoded).status_code == 404  # no RelayState
    assert post_acs(client, connection, encoded, "x" * 43).status_code == 404  # not a test's
    # An IdP-initiated answer to the disabled connection, with the test's RelayState: not a test.
    request = authn_request(url)
    encoded = crafted(idp, case="honest", acs=request["acs"], audience=request["audience"], email=NEWCOMER)
    response = post_acs(client, connection, encoded, relay_of(url))
    assert response["Location"] == reverse("accounts:login")
    assert int(client.session[SESSION_KEY]) == owner.pk
    assert not User.objects.filter(email=NEWCOMER).exists()


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="pysaml2 signs with xmlsec1 (Debian package xmlsec1)")
def test_pysaml2_identity_provider(client, acme):
    owner, _, _ = acme
    with saml_idp("pysaml2_idp.py") as pysaml2:
        connection = saml_connection(acme, pysaml2)
        sp_metadata = client.get(reverse("sso_saml_metadata", args=[connection.provider_id])).content
        requests.post(f"{pysaml2['base']}/register", data=sp_metadata, timeout=10).raise_for_status()
        client.force_login(owner)
        url = start_test(client, connection)
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        page = requests.post(f"{pysaml2['base']}/sso", data={**query, "email": NEWCOMER}, timeout=10)
        encoded = re.search(r'name="SAMLResponse" value="([^"]+)"', page.text).group(1)
        response = post_acs(client, connection, encoded, relay_of(url))
    assert response["Location"] == result_url(connection)
    text = client.get(result_url(connection)).content.decode()
    assert NEWCOMER in text and "pysaml2 Person" in text
    audited(outcome="passed")
    assert_nothing_changed(client, owner)


def test_re_enabling_keeps_the_ordinary_sign_in(client, acme, idp):
    """A test of a disabled connection, then the connection enabled: sign-ins work as before."""
    owner, workspace, _ = acme
    connection = saml_connection(acme, idp, enabled=False)
    connection_set_enabled(actor=owner, connection=connection, enabled=True)
    response = client.post(reverse("accounts:login"), {"username": NEWCOMER})
    url = response.context["continue_url"]
    done = post_acs(client, connection, sign_in_at_idp(url, NEWCOMER))
    assert done["Location"] == workspace.get_absolute_url()


def test_a_relay_state_does_not_turn_a_saml_sign_in_into_a_test(client, acme, idp):
    """A real SAML sign-in whose answer carries a test's RelayState (another browser's test under
    way) is a real sign-in: the session's pending request decides, not the RelayState."""
    owner, workspace, _ = acme
    connection = saml_connection(acme, idp)
    tester = client.__class__()
    tester.force_login(owner)
    relay = relay_of(start_test(tester, connection))
    response = client.post(reverse("accounts:login"), {"username": NEWCOMER})
    done = post_acs(client, connection, sign_in_at_idp(response.context["continue_url"], NEWCOMER), relay)
    assert done["Location"] == workspace.get_absolute_url()
    assert int(client.session[SESSION_KEY]) == User.objects.get(email=NEWCOMER).pk
    assert not AuditEvent.objects.filter(action="sso.connection_test").exists()
