"""A hostile OpenID Connect identity provider for the single sign-on tests: a real HTTP server on
127.0.0.1 (a free port) that issues crafted ID tokens. Run as a program; it prints one JSON line,
{"issuer": ...}, once it listens.

Its authorization endpoint sends the browser straight back with a code (no login page). What the
token endpoint then answers depends on the client ID, so each test picks its attack by the
client ID of its connection:

  honest          a correct token (signed RS256, right issuer, audience, nonce, expiry)
  wrong-issuer    "iss" is another issuer
  wrong-audience  "aud" is another client
  alg-none        unsigned, "alg": "none"
  hs256           signed with HMAC keyed by the client secret (a symmetric algorithm)
  other-key       signed by a key the provider does not publish
  expired         expired an hour ago
  nonce-replay    the nonce of the first authorization this provider saw, ever after
  no-nonce        no nonce at all
  unverified      "email_verified": false
  email=<addr>    a correct token for another address than the one asked for
  hostile-claims  a correct token whose name, groups and other claims carry markup, a long value,
                  a "refresh_token" claim and "amr"
  wrong-discovery the discovery document names another issuer

The address is the ``login_hint`` the portal sent (the address typed on its sign-in page), or
nina@acme.test when it sent none (a connection test).
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "hostile-1"
CODES: dict[str, dict] = {}  # code -> what the authorization request asked
FIRST_NONCE: list[str] = []
DEFAULT_EMAIL = "nina@acme.test"  # when the portal sent no login_hint (a connection test)


def _token(issuer: str, client_id: str, secret: str, asked: dict) -> str:
    now = int(time.time())
    email = asked.get("login_hint") or DEFAULT_EMAIL
    claims = {
        "iss": issuer,
        "sub": f"sub-{email}",
        "aud": client_id,
        "iat": now,
        "exp": now + 300,
        "nonce": asked.get("nonce"),
        "email": email,
        "email_verified": True,
    }
    mode = client_id
    if mode == "wrong-issuer":
        claims["iss"] = "http://127.0.0.1:1/evil"
    elif mode == "wrong-audience":
        claims["aud"] = "another-client"
    elif mode == "expired":
        claims["iat"], claims["exp"] = now - 7200, now - 3600
    elif mode == "nonce-replay":
        if not FIRST_NONCE:
            FIRST_NONCE.append(asked.get("nonce"))
        claims["nonce"] = FIRST_NONCE[0]
    elif mode == "no-nonce":
        del claims["nonce"]
    elif mode == "unverified":
        claims["email_verified"] = False
    elif mode == "hostile-claims":
        claims["name"] = "<script>alert('name')</script>"
        claims["groups"] = ["<img src=x onerror=alert(1)>", "engineering"]
        claims["amr"] = ["pwd", "otp"]
        claims["x_long"] = "A" * 5000
        claims["refresh_token"] = "should-never-be-shown"
    elif mode.startswith("email="):
        claims["email"] = mode.removeprefix("email=")
        claims["sub"] = f"sub-{claims['email']}"
    if mode == "alg-none":
        return jwt.encode(claims, key=None, algorithm="none")
    if mode == "hs256":
        return jwt.encode(claims, key=secret.encode() * 4, algorithm="HS256", headers={"kid": KID})
    key = OTHER_KEY if mode == "other-key" else KEY
    return jwt.encode(claims, key=key, algorithm="RS256", headers={"kid": KID})


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _json(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            issuer = self.issuer
            return self._json(
                {
                    "issuer": issuer,
                    "authorization_endpoint": f"{issuer}/authorize",
                    "token_endpoint": f"{issuer}/token",
                    "jwks_uri": f"{issuer}/jwks",
                    "userinfo_endpoint": f"{issuer}/userinfo",
                    "response_types_supported": ["code"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                }
            )
        if url.path == "/wrong-discovery/.well-known/openid-configuration":
            issuer = self.issuer
            return self._json(
                {
                    "issuer": "http://127.0.0.1:1/evil",
                    "authorization_endpoint": f"{issuer}/authorize",
                    "token_endpoint": f"{issuer}/token",
                    "jwks_uri": f"{issuer}/jwks",
                }
            )
        if url.path == "/jwks":
            jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
            return self._json({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]})
        if url.path in ("/authorize", "/wrong-discovery/authorize"):
            code = secrets.token_urlsafe(16)
            CODES[code] = query
            back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
            self.send_response(302)
            self.send_header("Location", back)
            self.end_headers()
            return None
        return self._json({"error": "not_found"}, 404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlsplit(self.path).path.endswith("/token"):
            asked = CODES.pop(form.get("code", ""), None)
            if asked is None:
                return self._json({"error": "invalid_grant"}, 400)
            client_id = form.get("client_id", "")
            token = _token(self.issuer, client_id, form.get("client_secret", ""), asked)
            return self._json(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": token,
                }
            )
        return self._json({"error": "not_found"}, 404)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"issuer": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
