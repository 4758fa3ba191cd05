"""What the request being served adds to every audit event written deep in services: the client
address, and the staff member acting in the admin."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)

# The staff member whose admin request is being served. Staff are not members of the workspaces
# they support, so the admin calls the workspace services as the system (no capability check);
# ``record`` names this person as the actor of such events, so the audit log says who acted.
acting_staff: ContextVar = ContextVar("acting_staff", default=None)


@contextmanager
def staff_acting(user) -> Iterator[None]:
    """Within the block, events recorded without an actor name ``user`` (a staff member)."""
    token = acting_staff.set(user)
    try:
        yield
    finally:
        acting_staff.reset(token)


# A description of the system actor of the current block (a provisioning token: "SCIM token “Okta”"),
# for changes no person makes: ``record`` writes it as the actor's text when there is no actor.
acting_as: ContextVar[str] = ContextVar("acting_as", default="")


@contextmanager
def system_acting(description: str) -> Iterator[None]:
    """Within the block, events recorded without an actor (and no staff acting) name ``description``."""
    token = acting_as.set(description)
    try:
        yield
    finally:
        acting_as.reset(token)
