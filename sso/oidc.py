"""The OpenID Connect sign-in, on django-allauth's ``openid_connect`` provider.

Each enabled ``Connection`` is one allauth app (``adapter.SocialAccountAdapter.list_apps`` builds
them from the table; allauth's own ``SocialApp`` table stays empty), with ``provider_id`` ``c<pk>``
and the issuer as ``server_url``, so discovery, the authorization request (with PKCE and a one-use
``state`` kept in the session) and the code exchange are allauth's.

What is stricter here than allauth's defaults:

- the ID token's signature is always checked against the provider's published keys, with an
  asymmetric algorithm only (allauth skips the signature of a token fetched from the token
  endpoint; over a plain-HTTP test provider that would let ``alg: none`` through);
- the issuer must be the connection's issuer, in the discovery document and in the token;
- every sign-in sends a fresh ``nonce``, kept in allauth's one-use state, and the token must carry
  it (``adapter.pre_social_login`` compares them).

Only two URLs are served: ``start`` is reached from the sign-in page (``discovery``), and the
callback is ``/sso/oidc/<provider_id>/login/callback/``. allauth's account pages are not routed.
"""

from __future__ import annotations

import logging
import secrets

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from requests import RequestException

from .models import Connection
from .selectors import enabled_connection
from .services import sso_refusal_record

logger = logging.getLogger(__name__)

# Asymmetric algorithms only: "none" and the HMAC family (keyed with the client secret) are refused.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
CLOCK_LEEWAY_SECONDS = 30


class StrictOIDCAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self):
        config = super().openid_config
        # OpenID Connect Discovery 1.0, 4.3: the document's issuer is exactly the configured one.
        if config.get("issuer") != self.get_provider().app.settings["issuer"]:
            raise OAuth2Error("The discovery document names another issuer.")
        return config

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        try:
            header = jwt.get_unverified_header(id_token)
            algorithm = header.get("alg")
            if algorithm not in ID_TOKEN_ALGORITHMS:
                raise OAuth2Error("ID token algorithm refused.")
            with get_adapter().get_requests_session() as session:
                response = session.get(self.openid_config["jwks_uri"])
                response.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(response.json())
            kid = header.get("kid")
            candidates = [key for key in keys.keys if kid is None or key.key_id == kid]
            if len(candidates) != 1:
                raise OAuth2Error("No single signing key for the ID token.")
            return jwt.decode(
                id_token,
                key=candidates[0].key,
                algorithms=[algorithm],
                audience=app.client_id,
                issuer=app.settings["issuer"],
                leeway=CLOCK_LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise OAuth2Error("Invalid ID token.") from exc


def social_app(connection: Connection) -> SocialApp:
    """The allauth app of a connection (not saved: the connection is the stored configuration)."""
    return SocialApp(
        provider="openid_connect",
        provider_id=connection.provider_id,
        name=connection.name,
        client_id=connection.client_id,
        secret=connection.client_secret,
        settings={
            "server_url": connection.issuer,
            "issuer": connection.issuer,
            "fetch_userinfo": False,  # the verified ID token carries the claims used
            "oauth_pkce_enabled": True,
        },
    )


def start(request: HttpRequest, connection: Connection, *, email: str, next_url: str = "", test: str = ""):
    """The redirect to the connection's identity provider, with a fresh state and nonce. ``test``:
    the mark of a connection test (``connection_test.begin``), kept in allauth's server-side state
    with the nonce, so only this session's state makes the answer a test."""
    provider = get_adapter().get_provider(request, connection.provider_id)
    nonce = secrets.token_urlsafe(32)
    auth_params = {**provider.get_auth_params(), "nonce": nonce}
    if email:
        auth_params["login_hint"] = email
    extra = {"connection_test": test} if test else {}
    return provider.redirect(request, "login", next_url=next_url or None, auth_params=auth_params, nonce=nonce, **extra)


REFUSED_MESSAGE = "Single sign-on did not sign you in. Try again, or ask your workspace's administrators."


def refused(request: HttpRequest, connection: Connection | None, reason: str, email: str = ""):
    """Audit a refusal (when the connection is known) and go back to the sign-in page."""
    if connection is not None:
        sso_refusal_record(connection=connection, reason=reason, email=email)
    messages.error(request, REFUSED_MESSAGE)
    return redirect("accounts:login")


@login_not_required
def callback(request: HttpRequest, provider_id: str):
    try:
        view = OAuth2CallbackView.adapter_view(StrictOIDCAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404 from exc
    except (OAuth2Error, RequestException, ValueError, KeyError) as exc:
        # Discovery failed before allauth's own error handling (unreachable, not JSON, or naming
        # another issuer). Only the exception's type is logged: never a token or the secret.
        logger.info("Single sign-on refused at discovery: %s", type(exc).__name__)
        return refused(request, enabled_connection(provider_id), "discovery")
