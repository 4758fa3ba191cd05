"""Whether the identity provider says a sign-in was multi-factor.

Read at each single sign-on sign-in, audited with it (``sso.sign_in``'s ``mfa``), and trusted as
the workspace's second factor only where the connection says so (``Connection.trust_idp_mfa``:
then ``twofactor.session.mark_verified_by_identity_provider``).

OpenID Connect: the ID token's ``amr`` claim (RFC 8176, a list of method names; a lone string is
read as a list of one) names at least one of ``OIDC_MFA_AMR``: ``mfa`` (multiple factors), or a
possession factor that makes the sign-in multi-factor or phishing-resistant: ``otp`` (one-time
code), ``hwk`` (hardware-secured key), ``swk`` (software-secured key), ``sc`` (smart card) and
``fido`` (a FIDO authenticator, as several providers name it). ``sms`` and ``tel`` alone are not
enough, and ``pwd``, ``pin``, ``kba`` are knowledge factors. Or its ``acr`` is one of
``OIDC_MFA_ACR`` (the OpenID PAPE multi-factor policies). Values are compared exactly.

SAML 2.0: an AuthnStatement of the (signed) assertion has an AuthnContextClassRef in
``SAML_MFA_CONTEXTS``. Anything else (``PasswordProtectedTransport``, ``Password``, ``X509``,
``unspecified``, a provider's own class) is not.
"""

from __future__ import annotations

OIDC_MFA_AMR = frozenset({"mfa", "otp", "hwk", "swk", "sc", "fido"})
OIDC_MFA_ACR = frozenset(
    {
        "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
        "http://schemas.openid.net/pape/policies/2007/06/multi-factor-physical",
    }
)

SAML_MFA_CONTEXTS = frozenset(
    {
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
        "https://refeds.org/profile/mfa",
        "http://schemas.microsoft.com/claims/multipleauthn",
    }
)


def oidc_asserted_mfa(claims: dict) -> bool:
    """Whether the verified ID token's claims say the sign-in was multi-factor."""
    amr = claims.get("amr")
    methods = [amr] if isinstance(amr, str) else amr if isinstance(amr, list) else []
    if any(isinstance(method, str) and method in OIDC_MFA_AMR for method in methods):
        return True
    acr = claims.get("acr")
    return isinstance(acr, str) and acr in OIDC_MFA_ACR


def saml_asserted_mfa(authn_contexts) -> bool:
    """Whether an AuthnContextClassRef of the assertion is a multi-factor class."""
    return any(isinstance(found, str) and found.strip() in SAML_MFA_CONTEXTS for found in authn_contexts or ())
