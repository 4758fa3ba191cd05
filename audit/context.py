"""The client address of the request being served, for audit events written deep in services."""

from contextvars import ContextVar

request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)
