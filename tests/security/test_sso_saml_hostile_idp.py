"""SAML single sign-on against a hostile identity provider: tests/saml/idp.py, a real HTTP server
on 127.0.0.1, crafts the responses (unsigned, signed by another key, XML signature wrapping,
wrong audience or recipient, expired, not yet valid) and the test posts them to the portal's ACS
as a browser would. Every one is refused, audited with the connection and the reason, and creates
nothing: no account, no membership, nobody signed in. One workspace's connection never signs
anyone into another's."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from sso.models import Connection, SamlAssertion
from sso.saml_services import saml_connection_add
from sso.services import sso_requirement_set
from tests.factories import UserFactory, make_workspace
from tests.saml.processes import authn_request, crafted, saml_idp, sign_in_at_idp
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership

pytestmark = pytest.mark.django_db
NEWCOMER = "nina@acme.test"


@pytest.fixture(scope="module")
def idp():
    with saml_idp() as found:
        yield found


def workspace_with_domain(name: str, domain: str):
    owner = UserFactory(email=f"owner@{domain}")
    workspace = make_workspace(owner, name)
    joined = join_domain_add(actor=owner, workspace=workspace, domain=domain, role=builtin_role(catalog.VIEWER))
    return owner, workspace, joined


@pytest.fixture
def acme(db):
    return workspace_with_domain("Acme", "acme.test")


def connect(acme, idp, name="Acme IdP") -> Connection:
    owner, workspace, domain = acme
    return saml_connection_add(
        actor=owner,
        workspace=workspace,
        name=name,
        metadata_xml=idp["metadata"],
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )


def start(client, email: str, idp) -> str:
    """The sign-in page's e-mail-only step; answers the identity provider's URL it continues to."""
    response = client.post(reverse("accounts:login"), {"username": email})
    assert response.status_code == 200 and response.templates[0].name == "sso/continue.html"
    url = response.context["continue_url"]
    assert url.startswith(f"{idp['base']}/sso?SAMLRequest=")
    return url


def post_acs(client, connection: Connection, encoded: str):
    """The identity provider's POST to the ACS, then the browser's GET to where it sends it on."""
    posted = client.post(reverse("sso_saml_acs", args=[connection.provider_id]), {"SAMLResponse": encoded})
    finish = reverse("sso_saml_acs_finish", args=[connection.provider_id])
    if posted.status_code != 303:
        return posted
    assert posted["Location"] == finish
    return client.get(finish)


def attack(client, idp, connection, case: str, email: str = NEWCOMER, solicited: bool = True):
    request = authn_request(start(client, email, idp))
    fields = {"case": case, "acs": request["acs"], "audience": request["audience"], "email": email}
    if solicited:
        fields["in_response_to"] = request["id"]
    return post_acs(client, connection, crafted(idp, **fields))


def assert_refused(client, response, reason: str, workspace, email: str = NEWCOMER, name: str = "Acme IdP"):
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert SESSION_KEY not in client.session
    assert not User.objects.filter(email=email).exists()
    assert not Membership.objects.filter(workspace=workspace, user__email=email).exists()
    event = AuditEvent.objects.filter(action="sso.refused").latest("pk")
    assert event.after["reason"] == reason and event.after["connection"] == name
    assert event.workspace_id == workspace.pk
    assert not AuditEvent.objects.filter(action="sso.sign_in").exists()


def test_honest_sign_in_through_the_identity_providers_page(client, acme, idp):
    connection = connect(acme, idp)
    url = start(client, NEWCOMER, idp)
    response = post_acs(client, connection, sign_in_at_idp(url, NEWCOMER))
    workspace = acme[1]
    assert response.status_code == 302 and response["Location"] == workspace.get_absolute_url()
    user = User.objects.get(email=NEWCOMER)
    assert int(client.session[SESSION_KEY]) == user.pk
    assert user.email_verified_at is not None and not user.has_usable_password()
    assert user.full_name == "Test Person"
    assert Membership.objects.get(workspace=workspace, user=user).role.key == catalog.MEMBER
    event = AuditEvent.objects.get(action="sso.sign_in")
    assert event.after == {
        "connection": "Acme IdP",
        "email": NEWCOMER,
        "account_created": True,
        "joined": True,
        "mfa": False,  # the tests' provider says Password
        "mfa_trusted": False,
    }
    assert SamlAssertion.objects.filter(connection=connection).count() == 1


def test_a_saml_sign_in_satisfies_required_single_sign_on(client, acme, idp):
    """The session is marked as signed in through the workspace's provider, as an OpenID Connect
    sign-in's is, so a workspace that requires single sign-on opens instead of sending it back."""
    connection = connect(acme, idp)
    owner, workspace, _domain = acme
    sso_requirement_set(actor=owner, workspace=workspace, required=True)
    post_acs(client, connection, sign_in_at_idp(start(client, NEWCOMER, idp), NEWCOMER))
    page = client.get(workspace.get_absolute_url())
    assert page.status_code == 200
    assert "sso/required.html" not in [template.name for template in page.templates]


def test_identity_provider_initiated_sign_in(client, acme, idp):
    connection = connect(acme, idp)
    response = attack(client, idp, connection, "honest", solicited=False)
    assert response.status_code == 302 and response["Location"] == acme[1].get_absolute_url()
    assert Membership.objects.filter(workspace=acme[1], user__email=NEWCOMER).exists()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unsigned", "saml_signature"),
        ("response_signed_only", "saml_signature"),
        ("other_key", "saml_signature"),
        ("wrapping", "saml_response"),
        ("two_assertions", "saml_response"),
        ("wrong_audience", "saml_audience"),
        ("wrong_recipient", "saml_recipient"),
        ("expired", "saml_time"),
        ("not_yet_valid", "saml_time"),
    ],
)
@pytest.mark.parametrize("solicited", [True, False], ids=["sp-initiated", "idp-initiated"])
def test_crafted_responses_are_refused(client, acme, idp, case, reason, solicited):
    connection = connect(acme, idp)
    response = attack(client, idp, connection, case, solicited=solicited)
    assert_refused(client, response, reason, acme[1])


def test_replayed_assertion_is_refused(client, acme, idp):
    connection = connect(acme, idp)
    request = authn_request(start(client, NEWCOMER, idp))
    encoded = crafted(idp, case="honest", acs=request["acs"], audience=request["audience"], email=NEWCOMER)
    assert post_acs(client, connection, encoded).status_code == 302
    client.logout()
    response = post_acs(client, connection, encoded)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="sso.refused").latest("pk").after["reason"] == "saml_replay"
    assert AuditEvent.objects.filter(action="sso.sign_in").count() == 1


def test_answer_to_a_request_not_started_here_is_refused(client, acme, idp):
    connection = connect(acme, idp)
    request = authn_request(start(client, NEWCOMER, idp))
    fields = {"acs": request["acs"], "audience": request["audience"], "email": NEWCOMER}
    encoded = crafted(idp, case="honest", in_response_to="_someone-elses-request", **fields)
    assert_refused(client, post_acs(client, connection, encoded), "saml_request", acme[1])
    # And a request is answered once: a second answer to the same request ID is refused too.
    encoded = crafted(idp, case="honest", in_response_to=request["id"], **fields)
    assert post_acs(client, connection, encoded).status_code == 302
    client.logout()
    encoded = crafted(idp, case="honest", in_response_to=request["id"], **fields)
    response = post_acs(client, connection, encoded)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")


def test_address_outside_the_connections_domains_is_refused(client, acme, idp):
    connection = connect(acme, idp)
    request = authn_request(start(client, NEWCOMER, idp))
    encoded = crafted(
        idp,
        case="honest",
        acs=request["acs"],
        audience=request["audience"],
        email="eve@elsewhere.test",
        in_response_to=request["id"],
    )
    assert_refused(client, post_acs(client, connection, encoded), "domain_not_bound", acme[1], "eve@elsewhere.test")


def test_one_workspaces_connection_never_signs_into_another(client, acme, idp):
    """Acme's identity provider vouches for an address at Globex's domain, and an answer meant for
    Acme's connection is posted to Globex's: both refused, Globex untouched."""
    acme_connection = connect(acme, idp)
    globex = workspace_with_domain("Globex", "globex.test")
    globex_connection = connect(globex, idp, name="Globex IdP")
    # Acme's connection, an address at Globex's domain.
    request = authn_request(start(client, NEWCOMER, idp))
    encoded = crafted(
        idp,
        case="honest",
        acs=request["acs"],
        audience=request["audience"],
        email="gail@globex.test",
        in_response_to=request["id"],
    )
    assert_refused(client, post_acs(client, acme_connection, encoded), "domain_not_bound", acme[1], "gail@globex.test")
    # An answer for Acme's connection posted to Globex's ACS: another audience and recipient.
    encoded = crafted(idp, case="honest", acs=request["acs"], audience=request["audience"], email="gail@globex.test")
    response = post_acs(client, globex_connection, encoded)
    assert_refused(client, response, "saml_recipient", globex[1], "gail@globex.test", name="Globex IdP")
    assert Membership.objects.filter(workspace=globex[1]).count() == 1


def test_disabled_or_unknown_connection_acs_is_404(client, acme, idp):
    connection = connect(acme, idp)
    connection.enabled = False
    connection.save()
    assert post_acs(client, connection, "x").status_code == 404
    for provider_id in ("c999999", "cx", "1", "c0"):
        assert client.post(f"/sso/saml/{provider_id}/acs/", {"SAMLResponse": "x"}).status_code == 404
    assert client.get(reverse("sso_saml_acs", args=[connection.provider_id])).status_code == 405


@pytest.mark.parametrize(
    "garbage",
    ["", "not base64!", "PHg+", "A" * 300_000, "PD94bWwgdmVyc2lvbj0iMS4wIj8+PCFET0NUWVBFIHg+PHg+JnhlOzwveD4="],
)
def test_garbage_responses_do_not_500(client, acme, idp, garbage):
    connection = connect(acme, idp)
    response = post_acs(client, connection, garbage)
    assert_refused(client, response, "saml_response", acme[1])


def test_held_response_is_one_use_and_bound_to_its_browser_and_connection(client, acme, idp):
    connection = connect(acme, idp)
    finish = reverse("sso_saml_acs_finish", args=[connection.provider_id])
    # Nothing held for this browser.
    assert_refused(client, client.get(finish), "saml_response", acme[1])
    request = authn_request(start(client, NEWCOMER, idp))
    fields = {"acs": request["acs"], "audience": request["audience"], "email": NEWCOMER}
    encoded = crafted(idp, case="honest", in_response_to=request["id"], **fields)
    client.post(reverse("sso_saml_acs", args=[connection.provider_id]), {"SAMLResponse": encoded})
    held = client.cookies["sso_saml_acs"].value
    # Another browser holding nothing gets nothing; the cookie's key is worth one use at most.
    other = type(client)()
    assert_refused(other, other.get(finish), "saml_response", acme[1])
    assert client.get(finish).status_code == 302 and SESSION_KEY in client.session
    client.logout()
    client.cookies["sso_saml_acs"] = held
    response = client.get(finish)
    assert response["Location"] == reverse("accounts:login") and SESSION_KEY not in client.session
