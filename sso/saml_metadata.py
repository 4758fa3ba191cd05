"""Reading an identity provider's SAML metadata, pasted by an administrator (nothing is fetched)."""

from __future__ import annotations

import logging

from django.conf import settings
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from kernel.errors import RuleViolation

logger = logging.getLogger(__name__)

MAX_METADATA_BYTES = 256 * 1024


def parse_idp_metadata(xml: str) -> dict:
    """Entity ID, single sign-on URL (HTTP-Redirect binding, else HTTP-POST) and signing
    certificates from an identity provider's metadata. Raises ``RuleViolation``."""
    xml = (xml or "").strip()
    if not xml:
        raise RuleViolation("Paste the identity provider's SAML metadata (XML).")
    if len(xml.encode()) > MAX_METADATA_BYTES:
        raise RuleViolation("The metadata is too large (at most 256 KB).")
    parsed = None
    for binding in (OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT, OneLogin_Saml2_Constants.BINDING_HTTP_POST):
        try:
            found = OneLogin_Saml2_IdPMetadataParser.parse(xml, required_sso_binding=binding).get("idp") or {}
        except Exception as exc:  # the toolkit raises lxml's and its own errors alike
            logger.info("SAML metadata refused: %s", type(exc).__name__)
            raise RuleViolation("This is not SAML metadata of an identity provider (XML).") from exc
        if found.get("singleSignOnService", {}).get("url"):
            parsed = found
            break
    if parsed is None:
        raise RuleViolation("The metadata names no single sign-on service (HTTP-Redirect or HTTP-POST binding).")
    entity_id = (parsed.get("entityId") or "").strip()
    sso_url = parsed["singleSignOnService"]["url"].strip()
    certificates = list(parsed.get("x509certMulti", {}).get("signing", []))
    if not certificates and parsed.get("x509cert"):
        certificates = [parsed["x509cert"]]
    certificates = ["".join(cert.split()) for cert in certificates if cert and cert.strip()]
    if not entity_id or len(entity_id) > 500:
        raise RuleViolation("The metadata names no entity ID (or one longer than 500 characters).")
    schemes = ("https://", "http://") if settings.SSO_ALLOW_HTTP_ISSUER else ("https://",)
    if not sso_url.startswith(schemes) or len(sso_url) > 500:
        raise RuleViolation("The single sign-on URL of the metadata must start with https://.")
    if not certificates:
        raise RuleViolation("The metadata has no signing certificate: the portal accepts only signed assertions.")
    return {"idp_entity_id": entity_id, "idp_sso_url": sso_url, "idp_certificates": certificates[:4]}
