"""Workspace-settings rows for tests, made through the services (task "settings")."""

from __future__ import annotations

from workspace_settings.services import (
    integration_save,
    ip_rules_add,
    policy_update,
    user_attribute_set,
)

# A real self-signed certificate (openssl req -x509, prime256v1).
CERTIFICATE = """-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIULqOIagp7GH8uE02kT7PZ5TEbx+MwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMB4XDTI2MTEyMzEzMDk1MloXDTM2
MTEyMDEzMDk1MlowGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEzPk9vC4zhuptIgNm8x9xkRavbfTW6ajSXJ5HqmY6
VeugSBK5zR0DL7vdOdk/MsS8ro6nergGgTvuLHwKoR8QFaNTMFEwHQYDVR0OBBYE
FMB9NSonceTQbz/ta5fvkTX/gZ2xMB8GA1UdIwQYMBaAFMB9NSonceTQbz/ta5fv
kTX/gZ2xMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgH7zRfC1B
qa9LE9rebcw7p8xFnGeYUy7sn45HmXOLkaUCIQDN5PMG8qVc0vqwUfwsPg/MFpTQ
6iCEyzFo9sMDrI/4Lg==
-----END CERTIFICATE-----
"""
# As `openssl x509 -noout -fingerprint -sha256` prints it.
FINGERPRINT = "F0:0C:72:B6:6F:09:28:4C:C0:97:9D:0E:91:72:CF:72:58:B7:4D:0F:8A:54:B6:A2:E1:A8:AE:89:7A:AE:03:F9"

SSO = {
    "entity_id": "https://idp.example.com/saml",
    "sso_url": "https://idp.example.com/sso",
    "certificate": CERTIFICATE,
}

POLICY = {
    "retention_days": 90,
    "anonymize_ip": True,
    "respect_do_not_track": True,
    "require_cookie_consent": True,
    "mask_text_input": True,
}


def make_settings(workspace, actor=None) -> None:
    """One row of every settings model in ``workspace``."""
    ip_rules_add(actor=actor, workspace=workspace, text="10.0.0.0/8\n2001:db8::/32", note="Office")
    integration_save(actor=actor, workspace=workspace, key="hubspot", enabled=True, settings={"portal_id": "4815162"})
    user_attribute_set(actor=actor, workspace=workspace, key="email", enabled=True)
    policy_update(actor=actor, workspace=workspace, **POLICY)
