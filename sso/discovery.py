"""Home-realm discovery: the sign-in page asks, through ``accounts.signals.sign_in_realm``, where an
address signs in. An address at a domain bound to an enabled connection is sent to that identity
provider; for any other address the answer is None and the page asks for the password."""

from __future__ import annotations

from .oidc import start
from .selectors import connection_for_email


def send_to_identity_provider(sender, *, request, email: str, next_url: str = "", **kwargs):
    connection = connection_for_email(email)
    if connection is None:
        return None
    return start(request, connection, email=email, next_url=next_url)
