"""What accounts tell the apps above them, so that accounts never import them.

``address_verified`` is sent inside the transaction that marks an address verified, after its
audit event; a receiver's writes commit or roll back with it. Joining by e-mail domain listens
(``workspaces.joining``), so every way of verifying an address (the link, an invitation) leads to it.

A receiver may answer with a ``Followed`` (or None): what the verification led to, in words and
with a link, which the verification page shows ("You joined Acme as Member"). That way the page
can say what happened without accounts knowing what a workspace is.
"""

from dataclasses import dataclass

from django.dispatch import Signal

address_verified = Signal()  # sender: the User model; user: the account, now verified


@dataclass(frozen=True)
class Followed:
    """One thing a verified address led to, as the person should read it."""

    message: str
    link_url: str = ""
    link_text: str = ""


# Sent by the sign-in page when an address comes without a password: a receiver that knows where
# that address signs in (single sign-on) answers with the response that sends it there, else None.
sign_in_realm = Signal()  # sender: the sign-in view's class; request, email, next_url
