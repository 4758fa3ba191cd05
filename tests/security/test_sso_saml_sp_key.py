"""The SAML service provider's own key pair (SAML_SP_PRIVATE_KEY, SAML_SP_CERTIFICATE;
sso/saml_keys.py). With it the metadata publishes the certificate, AuthnRequests are signed (and
pysaml2's identity provider verifies them with that certificate), and encrypted assertions from the
test identity provider are decrypted and held to the same checks as plain ones. Without it an
encrypted assertion is refused and audited as such. The private key is never shown or audited."""

from __future__ import annotations

import base64
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from lxml import etree
from saml2.sigver import RSACrypto, verify_redirect_signature

from accounts.models import User
from audit.models import AuditEvent
from sso.saml_keys import check_key_pair
from tests.saml.idp import keypair
from tests.saml.processes import authn_request, crafted, saml_idp, sign_in_at_idp
from tests.security.test_sso_saml_hostile_idp import (  # noqa: F401 - fixtures
    NEWCOMER,
    acme,
    assert_refused,
    connect,
    idp,
    post_acs,
    start,
)

pytestmark = pytest.mark.django_db
SP_KEY, SP_CERT = keypair("portal service provider")
OTHER_SP_KEY, OTHER_SP_CERT = keypair("another service provider")
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"


@pytest.fixture
def sp_key(settings):
    settings.SAML_SP_PRIVATE_KEY, settings.SAML_SP_CERTIFICATE = SP_KEY, SP_CERT


def body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if "-----" not in line)


def encrypted_attack(client, idp, case="honest", encrypt_for=SP_CERT):  # noqa: F811
    request = authn_request(start(client, NEWCOMER, idp))
    fields = {"case": case, "acs": request["acs"], "audience": request["audience"], "email": NEWCOMER}
    return crafted(idp, **fields, in_response_to=request["id"], encrypt_for=encrypt_for)


def test_metadata_names_the_certificate_for_signing_and_encryption(client, acme, idp, sp_key):  # noqa: F811
    connection = connect(acme, idp)
    xml = client.get(reverse("sso_saml_metadata", args=[connection.provider_id])).content
    descriptor = etree.fromstring(xml).find(f"{MD}SPSSODescriptor")
    assert descriptor.get("AuthnRequestsSigned") == "true"
    uses = {key.get("use"): "".join(key.itertext()).split() for key in descriptor.findall(f"{MD}KeyDescriptor")}
    assert uses == {"signing": [body(SP_CERT)], "encryption": [body(SP_CERT)]}
    assert b"PRIVATE KEY" not in xml and body(SP_KEY)[:40].encode() not in xml


def test_without_a_key_pair_the_metadata_names_none_and_requests_are_unsigned(client, acme, idp):  # noqa: F811
    connection = connect(acme, idp)
    xml = client.get(reverse("sso_saml_metadata", args=[connection.provider_id])).content
    descriptor = etree.fromstring(xml).find(f"{MD}SPSSODescriptor")
    assert descriptor.get("AuthnRequestsSigned") == "false" and descriptor.find(f"{MD}KeyDescriptor") is None
    query = parse_qs(urlsplit(start(client, NEWCOMER, idp)).query)
    assert "Signature" not in query and "SigAlg" not in query


def test_the_authn_request_is_signed_and_verifies_with_the_sp_certificate_only(client, acme, idp, sp_key):  # noqa: F811
    connect(acme, idp)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start(client, NEWCOMER, idp)).query).items()}
    assert query["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert verify_redirect_signature(query, RSACrypto(None), cert=body(SP_CERT))
    assert not verify_redirect_signature(query, RSACrypto(None), cert=body(OTHER_SP_CERT))
    assert not verify_redirect_signature({**query, "RelayState": "/w/elsewhere/"}, RSACrypto(None), cert=body(SP_CERT))


@pytest.mark.parametrize("signed", [True, False])
def test_pysaml2_identity_provider_checks_the_request_signature(client, acme, settings, signed):  # noqa: F811
    """pysaml2's IdP, told to want signed requests, accepts the portal's signed AuthnRequest and
    signs the person in; an unsigned one (no key pair) it refuses."""
    settings.SAML_SP_PRIVATE_KEY, settings.SAML_SP_CERTIFICATE = (SP_KEY, SP_CERT) if signed else ("", "")
    with saml_idp("pysaml2_idp.py", env={"WANT_SIGNED_REQUESTS": "1"}) as pysaml2_idp:
        connection = connect(acme, pysaml2_idp)
        sp_metadata = client.get(reverse("sso_saml_metadata", args=[connection.provider_id])).content
        requests.post(f"{pysaml2_idp['base']}/register", data=sp_metadata, timeout=10).raise_for_status()
        url = start(client, NEWCOMER, pysaml2_idp)
        page = requests.get(url, timeout=10)
        if not signed:
            assert page.status_code == 400 and "Refused" in page.text
            return
        assert page.status_code == 200
        fields = {k: html.unescape(v) for k, v in re.findall(r'name="(\w+)" value="([^"]*)"', page.text)}
        answer = requests.post(f"{pysaml2_idp['base']}/sso", data={**fields, "email": NEWCOMER}, timeout=10)
        encoded = re.search(r'name="SAMLResponse" value="([^"]+)"', answer.text).group(1)
        response = post_acs(client, connection, encoded)
    assert response.status_code == 302 and User.objects.filter(email=NEWCOMER).exists()
    assert AuditEvent.objects.filter(action="sso.sign_in").count() == 1


def test_an_encrypted_assertion_signs_in(client, acme, idp, sp_key):  # noqa: F811
    connection = connect(acme, idp)
    encoded = encrypted_attack(client, idp)
    assert b"EncryptedAssertion" in base64.b64decode(encoded) and NEWCOMER.encode() not in base64.b64decode(encoded)
    response = post_acs(client, connection, encoded)
    workspace = acme[1]
    assert response.status_code == 302 and response["Location"] == workspace.get_absolute_url()
    assert int(client.session[SESSION_KEY]) == User.objects.get(email=NEWCOMER).pk
    assert User.objects.get(email=NEWCOMER).full_name == "Test Person"  # attributes read after decryption
    event = AuditEvent.objects.get(action="sso.sign_in")
    assert event.after["email"] == NEWCOMER
    assert not any(body(SP_KEY)[:40] in str(e.after) + str(e.before) for e in AuditEvent.objects.all())


def test_plain_assertions_still_sign_in_with_a_key_pair(client, acme, idp, sp_key):  # noqa: F811
    connection = connect(acme, idp)
    response = post_acs(client, connection, sign_in_at_idp(start(client, NEWCOMER, idp), NEWCOMER))
    assert response.status_code == 302 and User.objects.filter(email=NEWCOMER).exists()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("other_key", "saml_signature"),  # encrypted to the portal, signed by a key the IdP metadata lacks
        ("unsigned", "saml_signature"),  # encrypted, not signed: encryption is no signature
        ("wrong_audience", "saml_audience"),
        ("expired", "saml_time"),
    ],
)
def test_an_encrypted_assertion_is_held_to_the_same_checks(client, acme, idp, sp_key, case, reason):  # noqa: F811
    connection = connect(acme, idp)
    response = post_acs(client, connection, encrypted_attack(client, idp, case))
    assert_refused(client, response, reason, acme[1])


def test_an_assertion_encrypted_to_another_key_is_refused(client, acme, idp, sp_key):  # noqa: F811
    connection = connect(acme, idp)
    response = post_acs(client, connection, encrypted_attack(client, idp, encrypt_for=OTHER_SP_CERT))
    assert_refused(client, response, "saml_decryption", acme[1])


def test_without_a_key_pair_an_encrypted_assertion_is_refused_and_audited(client, acme, idp):  # noqa: F811
    connection = connect(acme, idp)
    response = post_acs(client, connection, encrypted_attack(client, idp))
    assert_refused(client, response, "saml_encrypted", acme[1])


# --- configuration ---------------------------------------------------------------------------------


def test_the_settings_may_name_pem_files(client, acme, idp, settings, tmp_path):  # noqa: F811
    (tmp_path / "sp.key").write_text(SP_KEY)
    (tmp_path / "sp.crt").write_text(SP_CERT)
    settings.SAML_SP_PRIVATE_KEY, settings.SAML_SP_CERTIFICATE = str(tmp_path / "sp.key"), str(tmp_path / "sp.crt")
    assert check_key_pair() == []
    connection = connect(acme, idp)
    assert post_acs(client, connection, encrypted_attack(client, idp)).status_code == 302
    assert User.objects.filter(email=NEWCOMER).exists()


@pytest.mark.parametrize(
    ("key", "cert", "message"),
    [
        (SP_KEY, "", "SAML_SP_CERTIFICATE is not set"),
        ("", SP_CERT, "SAML_SP_PRIVATE_KEY is not set"),
        (OTHER_SP_KEY, SP_CERT, "SAML_SP_PRIVATE_KEY is not the key of SAML_SP_CERTIFICATE"),
        ("/nonexistent/sp.key", SP_CERT, "SAML_SP_PRIVATE_KEY is neither PEM text nor a readable PEM file"),
        ("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", SP_CERT, "not an unencrypted PEM"),
        (SP_KEY, "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----", "is not a PEM certificate"),
    ],
)
def test_a_broken_key_pair_fails_the_system_check_without_showing_the_key(settings, key, cert, message):
    settings.SAML_SP_PRIVATE_KEY, settings.SAML_SP_CERTIFICATE = key, cert
    (error,) = check_key_pair()
    assert error.id == "sso.E001" and message in error.msg
    assert "PRIVATE KEY" not in error.msg and body(SP_KEY)[:20] not in error.msg
    with pytest.raises(SystemCheckError):
        call_command("check")


def test_a_broken_key_pair_signs_nothing_and_reads_no_encrypted_assertion(client, acme, idp, settings):  # noqa: F811
    settings.SAML_SP_PRIVATE_KEY, settings.SAML_SP_CERTIFICATE = OTHER_SP_KEY, SP_CERT
    connection = connect(acme, idp)
    response = post_acs(client, connection, encrypted_attack(client, idp))
    assert_refused(client, response, "saml_encrypted", acme[1])
