"""django-allauth's socialaccount adapter (``SOCIALACCOUNT_ADAPTER``): allauth finds its apps and
hands back the people it authenticated here, and the portal's services do the rest.

- ``list_apps``: one app per *enabled* connection (``oidc.social_app``); a disabled or removed
  connection has no app, so its URLs answer 404.
- ``pre_social_login``: the nonce is compared with the one sent, then ``services.sso_sign_in``
  finds or makes the account and membership, Django's ``login`` signs the person in (two-factor
  authentication still applies: ``twofactor.session`` listens to ``user_logged_in``), and the
  session is marked as signed in through the connection's workspace (``sessions``), and the
  flow ends here with a redirect; allauth's own account flow (its ``SocialAccount`` rows, sign-up
  and connect pages) never runs.
- ``on_authentication_error``: the refusal is audited and the person is sent back to the sign-in
  page with a message.
- A connection test (``connection_test``; its mark is in allauth's server-side state, never in
  the request): the same checks, then a report for the tester instead of a sign-in. A disabled
  connection has an app only for a session with a test of it under way.
"""

from __future__ import annotations

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib.auth import login
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from . import connection_test
from .mfa import oidc_asserted_mfa
from .oidc import refused, social_app
from .selectors import connection_by_provider_id, enabled_connection, enabled_connections
from .services import SignInRefused, sso_sign_in
from .sessions import mark_signed_in

logger = logging.getLogger(__name__)


def _back_to_sign_in(request, connection=None, reason: str = "", email: str = ""):
    return ImmediateHttpResponse(refused(request, connection, reason, email))


def _test_answer(request, provider_id: str, state: dict, reason: str = "", claims: dict | None = None):
    """The end of a connection test: the mark spent, the nonce checked as for a sign-in, then the
    report (or the refusal's reason). Nobody is signed in and nothing is provisioned."""
    connection = connection_by_provider_id(provider_id)
    if connection is None or not connection_test.take(request, state.get("connection_test"), connection):
        return refused(request, connection, "test_expired")
    if not reason:
        sent = state.get("nonce")
        if not sent or not isinstance(claims, dict) or claims.get("nonce") != sent:
            reason = "nonce"
    if reason:
        return connection_test.finish(request, connection, connection_test.refusal(connection_test.OIDC, reason))
    amr = claims.get("amr")
    mfa = [str(v) for v in amr] if isinstance(amr, list) else []
    if isinstance(claims.get("acr"), str):
        mfa.append(f"acr: {claims['acr']}")
    result = connection_test.report(
        connection, claims, protocol=connection_test.OIDC, subject=str(claims.get("sub", "")), mfa=mfa, raw=claims
    )
    return connection_test.finish(request, connection, result)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        if provider in (None, "openid_connect"):
            connections = list(enabled_connections())
        else:
            found = enabled_connection(provider)
            if found is None and request is not None:
                tested = connection_by_provider_id(provider)
                found = tested if connection_test.pending(request, tested) else None
            connections = [found] if found is not None else []
        apps = [social_app(connection) for connection in connections if not connection.is_saml]
        return [app for app in apps if client_id is None or app.client_id == client_id]

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        connection = enabled_connection(getattr(provider, "sub_id", ""))
        state = (extra_context or {}).get("state")
        if state is None:
            reason = "state"
        elif isinstance(exception, OAuth2Error):
            reason = "id_token"
        else:
            reason = "provider"
        # The exception's type only: never the request, a token or the client secret.
        logger.info("Single sign-on refused (%s): %s", reason, type(exception).__name__ if exception else error)
        if isinstance(state, dict) and state.get("connection_test"):
            raise ImmediateHttpResponse(_test_answer(request, getattr(provider, "sub_id", ""), state, reason))
        raise _back_to_sign_in(request, connection, reason)

    def pre_social_login(self, request, sociallogin):
        if sociallogin.state.get("connection_test"):
            claims = sociallogin.account.extra_data.get("id_token") or {}
            answer = _test_answer(request, sociallogin.account.provider, sociallogin.state, claims=claims)
            raise ImmediateHttpResponse(answer)
        connection = enabled_connection(sociallogin.account.provider)
        if connection is None:
            raise _back_to_sign_in(request)
        claims = sociallogin.account.extra_data.get("id_token") or {}
        sent = sociallogin.state.get("nonce")
        if not sent or claims.get("nonce") != sent:
            raise _back_to_sign_in(request, connection, "nonce")
        try:
            mfa = oidc_asserted_mfa(claims)
            user, membership = sso_sign_in(connection=connection, claims=claims, mfa=mfa)
        except SignInRefused as exc:
            raise _back_to_sign_in(request, connection, exc.reason, exc.email) from exc
        login(request, user, backend="accounts.backends.EmailBackend")
        # What a workspace that requires single sign-on asks for, and its two-factor requirement
        # when the connection trusts the provider's multi-factor sign-in.
        mark_signed_in(request, connection, mfa=mfa)
        next_url = sociallogin.state.get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
            next_url = membership.workspace.get_absolute_url()
        raise ImmediateHttpResponse(redirect(next_url))

    # allauth's own sign-up never runs: everything ends in pre_social_login.
    def is_open_for_signup(self, request, sociallogin):
        return False
