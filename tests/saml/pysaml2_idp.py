"""A real SAML 2.0 identity provider for the browser test: pysaml2's IdP (``saml2.server.Server``,
which signs with Debian's ``xmlsec1``) behind a small HTTP server on 127.0.0.1 (a free port).

It prints one JSON line, {"base": ..., "metadata": ...} (its own metadata, from pysaml2), then:

- POST /register  the service provider's metadata (XML body), as an administrator would give it
  to the identity provider; the ACS and audience come from it.
- GET  /sso?SAMLRequest=…&RelayState=…  pysaml2 parses the AuthnRequest (HTTP-Redirect binding)
  and the page asks for an address; POST /sso answers with a response whose assertion pysaml2
  signs, in pysaml2's own auto-posting page (HTTP-POST binding) to the ACS the request named. The
  AuthnContextClassRef is Password, or the ``authn_context`` field posted with the address.

It signs in anyone who types an address: for tests and a development machine only.
With WANT_SIGNED_REQUESTS=1 in its environment it refuses an AuthnRequest whose signature does not
verify with the registered service provider's certificate (pysaml2's own check).

Run: python tests/saml/pysaml2_idp.py  (needs pysaml2 and /usr/bin/xmlsec1)
"""

from __future__ import annotations

import html
import json
import os
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AUTHN_PASSWORD, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

sys.path.insert(0, str(Path(__file__).resolve().parent))
from idp import CERT, KEY  # noqa: E402 - a key and a self-signed certificate made at start-up

PAGE = """<!doctype html><html><head><title>pysaml2 identity provider</title></head><body>
<h1>pysaml2 identity provider</h1>{body}</body></html>"""


def make_server(base: str, workdir: Path) -> Server:
    (workdir / "idp.key").write_text(KEY)
    (workdir / "idp.crt").write_text(CERT)
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base}/metadata",
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    # WANT_SIGNED_REQUESTS=1: an AuthnRequest must carry a signature that verifies
                    # with the signing certificate of the registered service provider's metadata.
                    "want_authn_requests_signed": os.environ.get("WANT_SIGNED_REQUESTS") == "1",
                    "sign_response": False,
                    "sign_assertion": True,
                    "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                }
            },
            "key_file": str(workdir / "idp.key"),
            "cert_file": str(workdir / "idp.crt"),
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {},
            "allow_unknown_attributes": True,
        }
    )
    return Server(config=config)


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

    def _body(self) -> str:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/metadata":
            return self._send(200, self.server.metadata, "application/samlmetadata+xml")
        if url.path == "/sso" and "SAMLRequest" in query:
            try:
                self.server.idp.parse_authn_request(
                    query["SAMLRequest"],
                    BINDING_HTTP_REDIRECT,
                    relay_state=query.get("RelayState"),
                    sigalg=query.get("SigAlg"),
                    signature=query.get("Signature"),
                )
            except Exception as exc:  # noqa: BLE001
                return self._send(400, PAGE.format(body=f"<p>Refused: {html.escape(type(exc).__name__)}</p>"))
            hidden = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(query.get(k, ""))}">'
                for k in ("SAMLRequest", "RelayState", "SigAlg", "Signature")
            )
            body = (
                f'<form method="post" action="/sso">{hidden}<label for="email">Address</label> '
                '<input id="email" name="email" type="email" required> <button type="submit">Sign in</button></form>'
            )
            return self._send(200, PAGE.format(body=body))
        return self._send(404, PAGE.format(body="<p>Not found.</p>"))

    def do_POST(self):
        url = urlsplit(self.path)
        idp = self.server.idp
        if url.path == "/register":
            idp.metadata.load("inline", self._body())
            return self._send(204, "")
        if url.path == "/sso":
            form = {k: v[0] for k, v in parse_qs(self._body()).items()}
            request = idp.parse_authn_request(
                form["SAMLRequest"],
                BINDING_HTTP_REDIRECT,
                relay_state=form.get("RelayState"),
                sigalg=form.get("SigAlg"),
                signature=form.get("Signature"),
            )
            args = idp.response_args(request.message, [BINDING_HTTP_POST])
            email = form.get("email", "")
            response = idp.create_authn_response(
                {"mail": [email], "displayName": ["pysaml2 Person"]},
                userid=email,
                name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
                authn={
                    "class_ref": form.get("authn_context") or AUTHN_PASSWORD,
                    "authn_auth": f"{self.server.base}/metadata",
                },
                sign_assertion=True,
                sign_response=False,
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
                **args,
            )
            http_args = idp.apply_binding(
                BINDING_HTTP_POST, str(response), args["destination"], form.get("RelayState", ""), response=True
            )
            return self._send(200, http_args["data"])
        return self._send(404, "not found", "text/plain")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as workdir:
        server.idp = make_server(server.base, Path(workdir))
        server.metadata = create_metadata_string(None, config=server.idp.config, valid=1).decode()
        print(json.dumps({"base": server.base, "metadata": server.metadata}), flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
