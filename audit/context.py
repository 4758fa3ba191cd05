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
