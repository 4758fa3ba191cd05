"""Rate limits of the API under /api/v1/: counters in the shared cache, through django-ratelimit.

Three limits, each over a fixed window (``"<count>/<s|m|h>"`` settings):

- ``API_BAD_KEY_LIMIT_PER_CLIENT``: attempts with a missing, wrong or revoked key from one client
  address. Only failures count; once the limit is passed the address gets 429 until the window
  ends, even with a good key, so keys cannot be guessed by brute force.
- ``API_RATE_LIMIT_PER_CLIENT``: every request from one client address, counted before the key is
  looked up, so a flood costs no database query.
- ``API_RATE_LIMIT_PER_KEY``: every request with one key, from any address and any process.

The client address is ``kernel.client_ip`` (a forged ``X-Forwarded-For`` counts for nothing unless
PROXY_COUNT trusts a proxy). A limit protects the portal; it is not a permission, so when the cache
cannot be reached the request goes on and the failure is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from kernel.client_ip import client_ip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limited:
    """A limit was passed: the message for the caller and the seconds until the window ends."""

    message: str
    retry_after: int


def _usage(request, group: str, rate_setting: str, value: str, *, increment: bool) -> dict | None:
    try:
        return get_usage(
            request,
            group=f"api.{group}",
            key=lambda _group, _request: value,
            rate=getattr(settings, rate_setting),
            increment=increment,
        )
    except (RedisError, OSError):
        logger.warning("API rate limit %s not applied: the cache cannot be reached", group, exc_info=True)
        return None


def _limited(usage: dict | None, message: str) -> Limited | None:
    if usage is None or not usage["should_limit"]:
        return None
    return Limited(message, retry_after=max(1, usage["time_left"]))


def _client(request) -> str:
    return client_ip(request) or "unknown"


def before_key(request) -> Limited | None:
    """Count the request against its client address; refuse an address that is flooding or that has
    sent too many bad keys."""
    client = _client(request)
    bad_keys = _usage(request, "bad_key", "API_BAD_KEY_LIMIT_PER_CLIENT", client, increment=False)
    refused = _limited(bad_keys, "Too many requests with a bad access key from this address.")
    if refused:
        return refused
    requests = _usage(request, "client", "API_RATE_LIMIT_PER_CLIENT", client, increment=True)
    return _limited(requests, "Too many requests from this address.")


def after_bad_key(request) -> Limited | None:
    """Count a missing, wrong or revoked key against the client address."""
    usage = _usage(request, "bad_key", "API_BAD_KEY_LIMIT_PER_CLIENT", _client(request), increment=True)
    return _limited(usage, "Too many requests with a bad access key from this address.")


def after_key(request, key) -> Limited | None:
    """Count the request against its (valid) key."""
    usage = _usage(request, "key", "API_RATE_LIMIT_PER_KEY", str(key.pk), increment=True)
    return _limited(usage, "Too many requests with this access key.")
