"""The SAML 2.0 sign-in, on python3-saml (OneLogin's toolkit, on xmlsec).

Each connection of kind "saml" is its own service provider: its entity ID is the URL of its
metadata (``/sso/saml/c<pk>/metadata/``) and its assertion consumer service (ACS) is
``/sso/saml/c<pk>/acs/``, so an assertion meant for one connection names another audience and
recipient than any other's. The identity provider's side (entity ID, single sign-on URL, signing
certificates) comes from the metadata an administrator pasted (``parse_idp_metadata``): nothing is
fetched.

- ``start`` (from the sign-in page, ``discovery``): an AuthnRequest over the HTTP-Redirect
  binding; its ID is kept in the session, one use.
- ``acs`` then ``acs_finish``: the identity provider's answer over the HTTP-POST binding (held
  for the browser's next, same-site request, which carries the session), checked in strict mode: the
  assertion must be signed by one of the connection's certificates (XML signature wrapping is
  refused by the toolkit's checks on signed elements and references), with this connection's
  audience, recipient and destination, within its validity window; an ``InResponseTo`` must be a
  request this browser started for this connection, and an answer without one is an
  identity-provider-initiated sign-in. Every accepted assertion ID is stored until it expires and
  refused a second time. Then ``services.sso_sign_in``, as for OpenID Connect.

With the deployment's service-provider key pair (``saml_keys``), AuthnRequests are signed and an
encrypted assertion is decrypted, then held to the same checks (its signature included); without
it, an encrypted assertion is refused ("saml_encrypted").
"""

from __future__ import annotations

import logging
import secrets

import xmlsec
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.metadata import OneLogin_Saml2_Metadata
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from . import connection_test
from .mfa import saml_asserted_mfa
from .models import Connection
from .oidc import refused
from .saml_keys import key_pair
from .saml_services import saml_assertion_use
from .selectors import saml_connection
from .services import SignInRefused, sso_sign_in
from .sessions import mark_signed_in

logger = logging.getLogger(__name__)

SESSION_KEY = "sso_saml_requests"
MAX_PENDING = 5  # AuthnRequests a browser may have under way at once
MAX_RESPONSE_BYTES = 256 * 1024
# The identity provider's POST is held this long for the browser's next request (``acs``).
ACS_HOLD_SECONDS = 60
ACS_COOKIE = "sso_saml_acs"
CACHE_PREFIX = "sso-saml-acs:"

EMAIL_ATTRIBUTES = (
    "email",
    "mail",
    "emailAddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)
NAME_ATTRIBUTES = ("displayName", "name", "urn:oid:2.16.840.1.113730.3.1.241")

# The toolkit's validation errors, as the audit log's refusal reasons.
_V = OneLogin_Saml2_ValidationError
ERROR_REASONS = {
    **dict.fromkeys(
        (
            _V.WRONG_SIGNED_ELEMENT,
            _V.ID_NOT_FOUND_IN_SIGNED_ELEMENT,
            _V.DUPLICATED_ID_IN_SIGNED_ELEMENTS,
            _V.INVALID_SIGNED_ELEMENT,
            _V.DUPLICATED_REFERENCE_IN_SIGNED_ELEMENTS,
            _V.UNEXPECTED_SIGNED_ELEMENTS,
            _V.WRONG_NUMBER_OF_SIGNATURES_IN_RESPONSE,
            _V.WRONG_NUMBER_OF_SIGNATURES_IN_ASSERTION,
            _V.WRONG_NUMBER_OF_SIGNATURES,
            _V.NO_SIGNED_MESSAGE,
            _V.NO_SIGNED_ASSERTION,
            _V.NO_SIGNATURE_FOUND,
            _V.INVALID_SIGNATURE,
            _V.DEPRECATED_SIGNATURE_METHOD,
            _V.DEPRECATED_DIGEST_METHOD,
        ),
        "saml_signature",
    ),
    _V.WRONG_AUDIENCE: "saml_audience",
    _V.WRONG_DESTINATION: "saml_recipient",
    _V.EMPTY_DESTINATION: "saml_recipient",
    _V.WRONG_SUBJECTCONFIRMATION: "saml_recipient",
    _V.ASSERTION_TOO_EARLY: "saml_time",
    _V.ASSERTION_EXPIRED: "saml_time",
    _V.RESPONSE_EXPIRED: "saml_time",
    _V.SESSION_EXPIRED: "saml_time",
    _V.WRONG_ISSUER: "saml_issuer",
    _V.ISSUER_NOT_FOUND_IN_ASSERTION: "saml_issuer",
    _V.WRONG_INRESPONSETO: "saml_request",
    _V.STATUS_CODE_IS_NOT_SUCCESS: "provider",
}


# --- configuration ---------------------------------------------------------------------------------


def sp_entity_id(request: HttpRequest, connection: Connection) -> str:
    return request.build_absolute_uri(reverse("sso_saml_metadata", args=[connection.provider_id]))


def acs_url(request: HttpRequest, connection: Connection) -> str:
    return request.build_absolute_uri(reverse("sso_saml_acs", args=[connection.provider_id]))


class _Metadata(OneLogin_Saml2_Metadata):
    """The toolkit's metadata, naming the certificate for encryption too although the portal takes
    plain assertions as well (the toolkit names it only when every assertion must be encrypted)."""

    @classmethod
    def add_x509_key_descriptors(cls, metadata, cert=None, add_encryption=True):
        return super().add_x509_key_descriptors(metadata, cert, add_encryption=True)


class _Settings(OneLogin_Saml2_Settings):
    metadata_class = _Metadata


def toolkit_settings(request: HttpRequest, connection: Connection) -> OneLogin_Saml2_Settings:
    pair = key_pair()
    data = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": sp_entity_id(request, connection),
            "assertionConsumerService": {
                "url": acs_url(request, connection),
                "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
            },
            "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_EMAIL_ADDRESS,
            # The deployment's key pair, if any: the metadata then names its certificate for
            # signing and encryption, and the toolkit signs requests and decrypts assertions.
            "x509cert": pair.certificate if pair else "",
            "privateKey": pair.private_key if pair else "",
        },
        "idp": {
            "entityId": connection.idp_entity_id,
            "singleSignOnService": {
                "url": connection.idp_sso_url,
                "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
            },
            "x509certMulti": {"signing": list(connection.idp_certificates)},
        },
        "security": {
            "wantAssertionsSigned": True,
            "wantMessagesSigned": False,
            "wantNameId": False,
            "wantAttributeStatement": False,
            "requestedAuthnContext": False,
            "rejectDeprecatedAlgorithm": True,
            "signMetadata": False,
            "authnRequestsSigned": pair is not None,
            "wantAssertionsEncrypted": False,  # plain or encrypted; signed either way
            "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
            "allowSingleLabelDomains": True,  # the portal's own host may be e.g. "localhost"
        },
    }
    return _Settings(data, sp_validation_only=True)


def _request_data(request: HttpRequest, connection: Connection) -> dict:
    """What the toolkit knows of the request: the ACS URL is the one the response is checked
    against (its Destination and Recipient), whichever step reads it."""
    return {
        "https": "on" if request.is_secure() else "off",
        "http_host": request.get_host(),
        "server_port": None,  # the port, if any, is in http_host
        "script_name": reverse("sso_saml_acs", args=[connection.provider_id]),
        "get_data": {},
        "post_data": {},
    }


# --- signing in ------------------------------------------------------------------------------------


def start(
    request: HttpRequest, connection: Connection, *, email: str, next_url: str = "", test: str = "", relay: str = ""
) -> str:
    """The URL of the identity provider's page with a fresh AuthnRequest (HTTP-Redirect binding).
    ``test`` and ``relay``: a connection test's mark, kept with the pending request in the session,
    and the RelayState that lets the ACS hold a disabled connection's answer (``connection_test``)."""
    auth = OneLogin_Saml2_Auth(_request_data(request, connection), old_settings=toolkit_settings(request, connection))
    # Signed (Signature, SigAlg) when there is a key pair.
    url = auth.login(return_to=relay or None, name_id_value_req=None)
    pending = [
        entry
        for entry in request.session.get(SESSION_KEY, [])
        if isinstance(entry, dict) and entry.get("id") != auth.get_last_request_id()
    ][-(MAX_PENDING - 1) :]
    entry = {"id": auth.get_last_request_id(), "connection": connection.pk, "next": next_url or ""}
    if test:
        entry["test"] = test
    pending.append(entry)
    request.session[SESSION_KEY] = pending
    return url


def _take_request(request: HttpRequest, connection: Connection, request_id: str) -> dict | None:
    """The pending AuthnRequest ``request_id`` of this connection, removed from the session."""
    pending = request.session.get(SESSION_KEY, [])
    found = next(
        (
            e
            for e in pending
            if isinstance(e, dict) and e.get("id") == request_id and e.get("connection") == connection.pk
        ),
        None,
    )
    if found is not None:
        request.session[SESSION_KEY] = [e for e in pending if e is not found]
    return found


def _first(values) -> str:
    if isinstance(values, list | tuple):
        values = values[0] if values else ""
    return values if isinstance(values, str) else ""


def claims_of(response: OneLogin_Saml2_Response) -> dict:
    """The claims ``sso_sign_in`` reads. The address is the NameID when its format is an e-mail
    address, else the first e-mail attribute; it counts as verified, the identity provider being
    the authority for the connection's (verified) domains."""
    attributes = response.get_attributes() or {}
    email = ""
    for name in EMAIL_ATTRIBUTES:
        if email := _first(attributes.get(name)).strip():
            break
    try:
        if response.get_nameid_format() == OneLogin_Saml2_Constants.NAMEID_EMAIL_ADDRESS:
            email = (response.get_nameid() or "").strip() or email
    except OneLogin_Saml2_ValidationError:
        pass
    name = next((_first(attributes.get(key)) for key in NAME_ATTRIBUTES if attributes.get(key)), "")
    # Every other attribute too (lists of values), so a connection's group mapping can name one,
    # e.g. "groups" or "memberOf", as it names an ID token claim.
    reserved = {"email", "email_verified", "name"}
    others = {key: values for key, values in attributes.items() if key not in reserved}
    return {**others, "email": email, "email_verified": True, "name": name}


@csrf_exempt  # the identity provider posts it cross-site; the signed response is the proof
@login_not_required
def acs(request: HttpRequest, provider_id: str):
    """Step one of the assertion consumer service: the identity provider's cross-site POST.

    That POST carries no session cookie (the portal's is ``SameSite=Lax``), so the response is put
    aside for a minute under a random key, kept in a cookie of this browser only, and the browser
    is sent on (303) to ``acs_finish``: a top-level GET, which carries the session, where the
    pending AuthnRequest can be found and the response is checked."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    connection = saml_connection(provider_id)
    if connection is None:
        raise Http404
    if not connection.enabled and not connection_test.relay_names(request.POST.get("RelayState", ""), connection):
        raise Http404  # a disabled connection answers only a test of it under way
    encoded = request.POST.get("SAMLResponse", "")
    if not encoded or len(encoded) > MAX_RESPONSE_BYTES:
        return refused(request, connection, "saml_response")
    key = secrets.token_urlsafe(32)
    cache.set(f"{CACHE_PREFIX}{key}", {"connection": connection.pk, "response": encoded}, ACS_HOLD_SECONDS)
    response = HttpResponseRedirect(reverse("sso_saml_acs_finish", args=[connection.provider_id]), status=303)
    response.set_cookie(
        ACS_COOKIE,
        key,
        max_age=ACS_HOLD_SECONDS,
        path="/sso/saml/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@login_not_required
def acs_finish(request: HttpRequest, provider_id: str):
    """Step two: the response put aside by ``acs`` for this browser, checked and signed in."""
    connection = saml_connection(provider_id)
    if connection is None or not (connection.enabled or connection_test.pending(request, connection)):
        raise Http404
    key = request.COOKIES.get(ACS_COOKIE, "")
    held = cache.get(f"{CACHE_PREFIX}{key}") if key else None
    if held is not None:
        cache.delete(f"{CACHE_PREFIX}{key}")  # one use
    if not isinstance(held, dict) or held.get("connection") != connection.pk:
        response = refused(request, connection, "saml_response")
    else:
        response = _consume(request, connection, held["response"])
    response.delete_cookie(ACS_COOKIE, path="/sso/saml/", samesite="Lax")
    return response


def _consume(request: HttpRequest, connection: Connection, encoded: str):
    saml_settings = toolkit_settings(request, connection)
    try:
        response = OneLogin_Saml2_Response(saml_settings, encoded)
        in_response_to = response.document.get("InResponseTo")
    except OneLogin_Saml2_Error as exc:
        if exc.code == OneLogin_Saml2_Error.PRIVATE_KEY_NOT_FOUND:  # an encrypted assertion, no key pair
            logger.info("SAML response refused: encrypted, and no service-provider key is configured")
            return refused(request, connection, "saml_encrypted")
        logger.info("SAML response refused: %s", type(exc).__name__)
        return refused(request, connection, "saml_response")
    except xmlsec.Error as exc:  # encrypted to another key, or damaged
        logger.info("SAML response refused: %s", type(exc).__name__)
        return refused(request, connection, "saml_decryption")
    except Exception as exc:  # not base64, not XML: the toolkit raises whatever the parser raised
        logger.info("SAML response refused: %s", type(exc).__name__)
        return refused(request, connection, "saml_response")
    pending = None
    if in_response_to is not None:
        pending = _take_request(request, connection, in_response_to)
        if pending is None:
            return refused(request, connection, "saml_request")
    # A connection test only when the session's own pending request says so (connection_test).
    test = (pending or {}).get("test")
    if test:
        if not connection_test.take(request, test, connection):
            return refused(request, connection, "test_expired")

        def fail(reason: str):
            return connection_test.finish(request, connection, connection_test.refusal(connection_test.SAML, reason))

    elif not connection.enabled:
        return refused(request, connection, "saml_request")
    else:

        def fail(reason: str):
            return refused(request, connection, reason)

    data = {**_request_data(request, connection), "post_data": {"SAMLResponse": encoded}}
    try:
        response.is_valid(data, request_id=in_response_to, raise_exceptions=True)
    except OneLogin_Saml2_ValidationError as exc:
        reason = ERROR_REASONS.get(exc.code, "saml_response")
        logger.info("SAML response refused (%s): code %s", reason, exc.code)
        return fail(reason)
    except Exception as exc:  # noqa: BLE001 - xmlsec, lxml and the toolkit raise their own
        logger.info("SAML response refused: %s", type(exc).__name__)
        return fail("saml_response")
    claims = claims_of(response)
    if test:
        try:
            saml_assertion_use(
                connection=connection,
                assertion_id=response.get_assertion_id() or "",
                not_on_or_after=response.get_assertion_not_on_or_after(),
            )
        except SignInRefused as exc:
            return fail(exc.reason)
        return connection_test.finish(request, connection, _test_report(connection, response, claims))
    try:
        saml_assertion_use(
            connection=connection,
            assertion_id=response.get_assertion_id() or "",
            not_on_or_after=response.get_assertion_not_on_or_after(),
        )
        mfa = saml_asserted_mfa(response.get_authn_contexts())
        user, membership = sso_sign_in(connection=connection, claims=claims, mfa=mfa)
    except SignInRefused as exc:
        return refused(request, connection, exc.reason, exc.email or claims.get("email", ""))
    login(request, user, backend="accounts.backends.EmailBackend")
    # What a workspace that requires single sign-on asks for, and its two-factor requirement when
    # the connection trusts the provider's multi-factor sign-in (the AuthnContextClassRef).
    mark_signed_in(request, connection, mfa=mfa)
    next_url = (pending or {}).get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = membership.workspace.get_absolute_url()
    return redirect(next_url)


def _test_report(connection: Connection, response: OneLogin_Saml2_Response, claims: dict) -> dict:
    """A connection test's report of a verified response: the NameID, the attributes and the
    authentication contexts (display only), never the assertion or its signature."""
    try:
        nameid, nameid_format = response.get_nameid() or "", response.get_nameid_format() or ""
    except OneLogin_Saml2_ValidationError:
        nameid, nameid_format = "", ""
    raw = {**(response.get_attributes() or {}), "NameID": nameid, "NameID format": nameid_format}
    raw["Issuer"] = response.get_issuers()
    return connection_test.report(
        connection,
        claims,
        protocol=connection_test.SAML,
        subject=nameid,
        mfa=[str(context) for context in response.get_authn_contexts() or []],
        raw=raw,
    )


@login_not_required
def metadata(request: HttpRequest, provider_id: str):
    """The service provider's metadata for the identity provider (entity ID, ACS URL; with a key
    pair, its certificate for signing and encryption and AuthnRequestsSigned="true")."""
    connection = saml_connection(provider_id)
    if connection is None:
        raise Http404
    xml = toolkit_settings(request, connection).get_sp_metadata()
    response = HttpResponse(xml, content_type="application/samlmetadata+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="portal-sp-{connection.provider_id}.xml"'
    return response
