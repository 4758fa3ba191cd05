"""What accounts tell the apps above them, so that accounts never import them.

``address_verified`` is sent inside the transaction that marks an address verified, after its
audit event; a receiver's writes commit or roll back with it. Joining by e-mail domain listens
(``workspaces.joining``), so every way of verifying an address (the link, an invitation) leads to it.
"""

from django.dispatch import Signal

address_verified = Signal()  # sender: the User model; user: the account, now verified
