"""Rate limits of the API under /api/v1/: fixed-window counters in the shared cache.

Three limits, each over a fixed window (``"<count>/<s|m|h>"`` settings):

- ``API_BAD_KEY_LIMIT_PER_CLIENT``: attempts with a missing, wrong or revoked key from one client
  address. Only failures count; once the limit is passed the address gets 429 until the window
  ends, even with a good key, so keys cannot be guessed by brute force.
- ``API_RATE_LIMIT_PER_CLIENT``: every request from one client address, counted before the key is
  looked up, so a flood costs no database query.
- ``API_RATE_LIMIT_PER_KEY``: every request with one key, from any address and any process. It is
  counted by the key's hash in the same round trip as the address's counters, before the key is
  looked up (so a request refused for its address counts against its key too), and judged once
  the key is known to be good.

The client address is ``kernel.client_ip`` (a forged ``X-Forwarded-For`` counts for nothing unless
PROXY_COUNT trusts a proxy). A limit protects the portal; it is not a permission, so when the cache
cannot be reached the request goes on and the failure is logged.

A counter is one cache entry per limit, value and window (``apilimit:<group>:<value>:<window
start>``), added to and read with its expiry in the same step. With Redis (django-redis) the counters
a step needs travel in one pipeline: before the key is looked up, one round trip reads the
address's bad-key counter and counts the request against the address and the key; only a bad key
costs a second one, to count it against the address. Other caches (local memory: ``make run``, the
tests) count with ``add`` and ``incr``. django-ratelimit stays installed for its system checks,
which refuse a cache that worker processes do not share.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError

from kernel.client_ip import client_ip
from kernel.tokens import digest

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Limited:
    """A limit was passed: the message for the caller and the seconds until the window ends."""

    message: str
    retry_after: int


@dataclass(frozen=True)
class _Counter:
    group: str
    rate_setting: str
    value: str
    increment: bool


def _rate(setting: str) -> tuple[int, int]:
    """``"<count>/<s|m|h>"`` (or ``"<count>/<n><s|m|h>"``) → (count, seconds)."""
    count, _, per = getattr(settings, setting).partition("/")
    multiple = int(per[:-1]) if per[:-1] else 1
    return int(count), multiple * PERIODS[per[-1]]


def _counts(counters: list[_Counter]) -> list[tuple[int, int, int]] | None:
    """(count, limit, seconds left in the window) of each counter, adding one where it says so, in
    one round trip to Redis; None when the cache cannot be reached."""
    now = int(time.time())
    backend = caches["default"]
    entries = []
    for counter in counters:
        limit, period = _rate(counter.rate_setting)
        start = now - now % period
        key = backend.make_key(f"apilimit:{counter.group}:{limit}/{period}:{counter.value}:{start}")
        entries.append((counter, key, limit, period, start + period - now))
    try:
        if type(backend).__module__.startswith("django_redis"):
            pipe = backend.client.get_client(write=True).pipeline(transaction=False)
            for counter, key, _limit, period, _left in entries:
                if counter.increment:
                    pipe.incr(key)
                    pipe.expire(key, period + 1)
                else:
                    pipe.get(key)
            replies = iter(pipe.execute())
            values = []
            for counter, *_ in entries:
                values.append(int(next(replies) or 0))
                if counter.increment:
                    next(replies)  # the expiry's
        else:
            values = []
            for counter, key, _limit, period, _left in entries:
                if counter.increment:
                    backend.add(key, 0, period + 1)
                    values.append(backend.incr(key))
                else:
                    values.append(int(backend.get(key) or 0))
    except (RedisError, OSError):
        groups = ", ".join(counter.group for counter in counters)
        logger.warning("API rate limit %s not applied: the cache cannot be reached", groups, exc_info=True)
        return None
    return [(value, limit, left) for value, (_c, _k, limit, _p, left) in zip(values, entries, strict=True)]


def _limited(count: tuple[int, int, int], message: str) -> Limited | None:
    value, limit, left = count
    if value <= limit:
        return None
    return Limited(message, retry_after=max(1, left))


def _client(request) -> str:
    return client_ip(request) or "unknown"


BAD_KEYS = "Too many requests with a bad access key from this address."


def before_key(request, token: str | None = None) -> Limited | None:
    """Count the request against its client address and against the key it sends (by the key's
    hash: the key is not looked up yet); refuse an address that is flooding or that has sent too
    many bad keys. The key's count is judged by ``after_key``, once the key is known to be good."""
    client = _client(request)
    counters = [
        _Counter("bad_key", "API_BAD_KEY_LIMIT_PER_CLIENT", client, increment=False),
        _Counter("client", "API_RATE_LIMIT_PER_CLIENT", client, increment=True),
    ]
    if token:
        counters.append(_Counter("key", "API_RATE_LIMIT_PER_KEY", digest(token), increment=True))
    counts = _counts(counters)
    if counts is None:
        return None
    if token:
        request.api_key_count = counts[2]
    return _limited(counts[0], BAD_KEYS) or _limited(counts[1], "Too many requests from this address.")


def after_bad_key(request) -> Limited | None:
    """Count a missing, wrong or revoked key against the client address."""
    counts = _counts([_Counter("bad_key", "API_BAD_KEY_LIMIT_PER_CLIENT", _client(request), increment=True)])
    return _limited(counts[0], BAD_KEYS) if counts else None


def after_key(request, key) -> Limited | None:
    """Refuse a (valid) key past its limit, by the count ``before_key`` took."""
    count = getattr(request, "api_key_count", None)
    return _limited(count, "Too many requests with this access key.") if count else None
