"""Home-realm discovery: the sign-in page asks, through ``accounts.signals.sign_in_realm``, where an
address signs in. An address at a domain bound to an enabled connection is sent to that identity
provider; for any other address the answer is None and the page asks for the password.

The answer is a page that continues to the identity provider (a link, followed at once by a
``meta`` refresh), not a redirect: the sign-in form's ``form-action 'self'`` (the portal's CSP)
also governs where its submission may be redirected, and an identity provider is elsewhere."""

from __future__ import annotations

import logging

from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from requests import RequestException

from . import saml
from .oidc import refused, start
from .selectors import connection_for_email

logger = logging.getLogger(__name__)


def send_to_identity_provider(sender, *, request, email: str, next_url: str = "", **kwargs):
    connection = connection_for_email(email)
    if connection is None:
        return None
    if connection.is_saml:
        continue_url = saml.start(request, connection, email=email, next_url=next_url)
        context = {"connection": connection, "continue_url": continue_url}
        return TemplateResponse(request, "sso/continue.html", context)
    try:
        response = start(request, connection, email=email, next_url=next_url)
    except (OAuth2Error, RequestException, ValueError, KeyError) as exc:
        # The provider's discovery document is unreachable or unusable: say so, audited, and let
        # the page ask again (only the exception's type is logged).
        logger.info("Single sign-on could not start: %s", type(exc).__name__)
        return refused(request, connection, "discovery", email)
    if not isinstance(response, HttpResponseRedirect):
        return response  # allauth's own error page
    context = {"connection": connection, "continue_url": response["Location"]}
    return TemplateResponse(request, "sso/continue.html", context)
