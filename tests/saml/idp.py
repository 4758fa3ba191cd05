"""A SAML 2.0 identity provider for the tests, honest or hostile, as a real HTTP server on
127.0.0.1 (a free port). It prints one JSON line, {"base": ..., "metadata": ...}, then serves:

- GET  /sso?SAMLRequest=…&RelayState=…  its own sign-in page (HTTP-Redirect binding): an address
  field; POST /sso answers the AuthnRequest with a signed response, in a page that posts it to
  the ACS the request named (HTTP-POST binding).
- POST /craft  a JSON body {"case", "acs", "audience", "email", "in_response_to", "encrypt_for"}: a
  response crafted for an attack (below), as {"SAMLResponse": base64}; with "encrypt_for" (a
  service provider's PEM certificate) its assertion is encrypted to it (after signing, as
  identity providers do). The test posts it to the ACS.
- GET  /metadata  its metadata (entity ID, single sign-on URL, signing certificate).

Cases: ``honest``, ``unsigned`` (neither response nor assertion signed), ``other_key`` (signed by a
key the metadata does not name), ``wrapping`` (a forged assertion carrying the signed one inside
it), ``two_assertions`` (a forged assertion before the signed one), ``wrong_audience``,
``wrong_recipient``, ``expired``, ``not_yet_valid``, ``response_signed_only`` (the response signed,
the assertion not). Responses are signed at the assertion
(RSA-SHA256) with xmlsec, through python3-saml's own signing helper.

Run: python tests/saml/idp.py  (the key is made at start-up). With ENCRYPT_FOR=<a service
provider's certificate file, PEM>, its own sign-in page answers with the assertion encrypted to it.
"""

from __future__ import annotations

import base64
import html
import json
import os
import sys
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils


def keypair(common_name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


KEY, CERT = keypair("test identity provider")
OTHER_KEY, OTHER_CERT = keypair("someone else")


def cert_body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)


def when(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"


def assertion_xml(
    *,
    issuer,
    email,
    audience,
    recipient,
    in_response_to,
    not_before,
    not_on_or_after,
    aid=None,
    authn_context=PASSWORD_CONTEXT,
):
    irt = f' InResponseTo="{html.escape(in_response_to)}"' if in_response_to else ""
    aid = aid or f"_a{uuid.uuid4().hex}"
    return (
        f'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'ID="{aid}" Version="2.0" IssueInstant="{when()}">'
        f"<saml:Issuer>{html.escape(issuer)}</saml:Issuer>"
        f'<saml:Subject><saml:NameID Format="{C.NAMEID_EMAIL_ADDRESS}">{html.escape(email)}</saml:NameID>'
        f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{not_on_or_after}" Recipient="{html.escape(recipient)}"{irt}/>'
        f"</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_on_or_after}">'
        f"<saml:AudienceRestriction><saml:Audience>{html.escape(audience)}</saml:Audience></saml:AudienceRestriction>"
        f"</saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{when()}" SessionIndex="_s{uuid.uuid4().hex}">'
        f"<saml:AuthnContext><saml:AuthnContextClassRef>{html.escape(authn_context)}"
        f"</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
        f"<saml:AttributeStatement>"
        f'<saml:Attribute Name="email"><saml:AttributeValue xsi:type="xs:string">{html.escape(email)}'
        f"</saml:AttributeValue></saml:Attribute>"
        f'<saml:Attribute Name="displayName"><saml:AttributeValue xsi:type="xs:string">Test Person'
        f"</saml:AttributeValue></saml:Attribute>"
        f"</saml:AttributeStatement></saml:Assertion>"
    )


def sign(xml: str, key: str = KEY, cert: str = CERT) -> str:
    signed = OneLogin_Saml2_Utils.add_sign(xml, key, cert, sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256)
    return signed.decode() if isinstance(signed, bytes) else signed


def encrypt(assertion: str, certificate: str) -> str:
    """``assertion`` as a SAML EncryptedAssertion for the holder of ``certificate`` (PEM): AES-256-CBC,
    its key wrapped with RSA-OAEP, as Okta, ADFS and Azure send them."""
    import xmlsec

    root = etree.fromstring(
        f'<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{assertion}'
        "</saml:EncryptedAssertion>".encode()
    )
    template = xmlsec.template.encrypted_data_create(
        root, xmlsec.constants.TransformAes256Cbc, type=xmlsec.constants.TypeEncElement, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(certificate.encode(), xmlsec.constants.KeyDataFormatCertPem, None))
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, 256, xmlsec.constants.KeyDataTypeSession)
    encrypted = context.encrypt_xml(template, root[0])
    if encrypted.getparent() is None:
        root.append(encrypted)
    return etree.tostring(root).decode()


def response_xml(*, issuer, destination, in_response_to, assertions: str) -> str:
    irt = f' InResponseTo="{html.escape(in_response_to)}"' if in_response_to else ""
    return (
        f'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r{uuid.uuid4().hex}" Version="2.0" '
        f'IssueInstant="{when()}" Destination="{html.escape(destination)}"{irt}>'
        f"<saml:Issuer>{html.escape(issuer)}</saml:Issuer>"
        f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
        f"{assertions}</samlp:Response>"
    )


def strip_declaration(xml: str) -> str:
    return xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml


def craft(
    base: str,
    *,
    case: str,
    acs: str,
    audience: str,
    email: str,
    in_response_to: str = "",
    authn_context: str = PASSWORD_CONTEXT,
    encrypt_for: str = "",
) -> str:
    issuer = f"{base}/metadata"
    window = {"not_before": when(timedelta(minutes=-2)), "not_on_or_after": when(timedelta(minutes=5))}
    if case == "expired":
        window = {"not_before": when(timedelta(hours=-2)), "not_on_or_after": when(timedelta(hours=-1))}
    elif case == "not_yet_valid":
        window = {"not_before": when(timedelta(hours=1)), "not_on_or_after": when(timedelta(hours=2))}
    recipient = acs
    if case == "wrong_recipient":
        recipient = acs.replace("/acs/", "/elsewhere/")
    fields = {
        "issuer": issuer,
        "email": email,
        "audience": "https://another.example/sp" if case == "wrong_audience" else audience,
        "recipient": recipient,
        "in_response_to": in_response_to,
        "authn_context": authn_context,
        **window,
    }
    assertion = assertion_xml(**fields)
    if case == "unsigned":
        body = assertion
    elif case == "other_key":
        body = strip_declaration(sign(assertion, OTHER_KEY, OTHER_CERT))
    elif case in ("wrapping", "two_assertions"):
        # A signed assertion for someone at the identity provider's own choice, and a forged one
        # (no signature of its own) naming the attacker's address.
        signed = strip_declaration(sign(assertion_xml(**{**fields, "email": "victim@acme.test"})))
        forged = assertion_xml(**fields)
        if case == "two_assertions":
            body = forged + signed
        else:
            tree = etree.fromstring(forged.encode())
            tree.find("{urn:oasis:names:tc:SAML:2.0:assertion}Subject").append(etree.fromstring(signed.encode()))
            body = etree.tostring(tree).decode()
    else:
        body = strip_declaration(sign(assertion))
    if encrypt_for and case != "wrapping" and case != "two_assertions":
        body = encrypt(body, encrypt_for)
    xml = response_xml(issuer=issuer, destination=recipient, in_response_to=in_response_to, assertions=body)
    if case == "response_signed_only":  # the right key, on the response; the assertion unsigned
        xml = sign(
            response_xml(issuer=issuer, destination=recipient, in_response_to=in_response_to, assertions=assertion)
        )
    return base64.b64encode(xml.encode()).decode()


def metadata(base: str) -> str:
    return (
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{base}/metadata">'
        f'<md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
        f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        f"<ds:X509Data><ds:X509Certificate>{cert_body(CERT)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        f"</md:KeyDescriptor>"
        f"<md:NameIDFormat>{C.NAMEID_EMAIL_ADDRESS}</md:NameIDFormat>"
        f'<md:SingleSignOnService Binding="{C.BINDING_HTTP_REDIRECT}" Location="{base}/sso"/>'
        f"</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def read_request(encoded: str) -> dict:
    xml = zlib.decompress(base64.b64decode(encoded), -15)
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    issuer = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer")
    return {"id": root.get("ID"), "acs": root.get("AssertionConsumerServiceURL"), "audience": issuer.text}


PAGE = """<!doctype html><html><head><title>Test identity provider</title></head><body>
<h1>Test identity provider</h1>{body}</body></html>"""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(raw)
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/metadata":
            return self._send(200, metadata(self.server.base), "application/samlmetadata+xml")
        if url.path == "/sso" and "SAMLRequest" in query:
            try:
                request = read_request(query["SAMLRequest"])
            except Exception:  # noqa: BLE001
                return self._send(400, PAGE.format(body="<p>Not an AuthnRequest.</p>"))
            hidden = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v or "")}">'
                for k, v in {**request, "relay_state": query.get("RelayState", "")}.items()
            )
            body = (
                f'<form method="post" action="/sso">{hidden}<label for="email">Address</label> '
                f'<input id="email" name="email" type="email" required> <button type="submit">Sign in</button></form>'
            )
            return self._send(200, PAGE.format(body=body))
        return self._send(404, PAGE.format(body="<p>Not found.</p>"))

    def do_POST(self):
        url = urlsplit(self.path)
        try:
            form = self._form()
        except (ValueError, UnicodeDecodeError):
            return self._send(400, "bad request", "text/plain")
        base = self.server.base
        if url.path == "/craft":
            encoded = craft(
                base,
                case=form.get("case", "honest"),
                acs=form["acs"],
                audience=form["audience"],
                email=form["email"],
                in_response_to=form.get("in_response_to", ""),
                encrypt_for=form.get("encrypt_for", ""),
                authn_context=form.get("authn_context") or PASSWORD_CONTEXT,
            )
            return self._send(200, json.dumps({"SAMLResponse": encoded}), "application/json")
        if url.path == "/sso":
            encoded = craft(
                base,
                case="honest",
                acs=form["acs"],
                audience=form["audience"],
                email=form["email"],
                in_response_to=form["id"],
                encrypt_for=self.server.encrypt_for,
                authn_context=form.get("authn_context") or PASSWORD_CONTEXT,
            )
            relay = form.get("relay_state", "")
            body = (
                f'<form id="answer" method="post" action="{html.escape(form["acs"])}">'
                f'<input type="hidden" name="SAMLResponse" value="{encoded}">'
                f'<input type="hidden" name="RelayState" value="{html.escape(relay)}">'
                f'<button type="submit">Continue</button></form>'
                f"<script>document.getElementById('answer').submit()</script>"
            )
            return self._send(200, PAGE.format(body=body))
        return self._send(404, "not found", "text/plain")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    encrypt_for = os.environ.get("ENCRYPT_FOR", "")  # a service provider's certificate file (PEM)
    server.encrypt_for = open(encrypt_for).read() if encrypt_for else ""  # noqa: SIM115
    print(json.dumps({"base": server.base, "metadata": metadata(server.base)}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
