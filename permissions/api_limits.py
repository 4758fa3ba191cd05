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

A process takes the request counters' slots ahead, a lease at a time (``lease_size``: a hundredth of
the limit, at most 100; one, so every request, for a limit under 200): it adds the lease to the
shared counter in one round trip and judges the next requests by the slots it holds, with no round
trip until they are used. Since a lease is counted when it is taken, the processes together never
answer more than the limit; at worst one refuses while another still holds unused slots, a
hundredth of the limit each. A process that saw a window full refuses for the rest of it without a
round trip, so a flood past the limit costs nothing. The address's bad-key count is read in each
round trip and known at once to the process that counts a bad key; another process holding slots
learns it at its next round trip, so until then (a lease's worth of requests at most) it may let a
good key from that address through; every bad key is still counted and refused past the limit.
This takes the rate limits' round trip off most calls: a tenth of a cached check's cost.
"""

from __future__ import annotations

import logging
import os
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
    leased: bool = False  # may this process take slots of it ahead (``_Slots``)


def _rate(setting: str) -> tuple[int, int]:
    """``"<count>/<s|m|h>"`` (or ``"<count>/<n><s|m|h>"``) → (count, seconds)."""
    count, _, per = getattr(settings, setting).partition("/")
    multiple = int(per[:-1]) if per[:-1] else 1
    return int(count), multiple * PERIODS[per[-1]]


LEASE_SHARE, LEASE_MAX = 100, 100  # a process takes a hundredth of a limit at a time, at most 100


def lease_size(limit: int) -> int:
    """How many slots of a counter with ``limit`` a process takes at once: 1 (every request counted
    in the cache, exactly) for a limit under 200."""
    return max(1, min(LEASE_MAX, limit // LEASE_SHARE))


class _Slots:
    """What this process knows of the shared counters, per counter entry (whose name holds its
    window, so an entry is only ever about one window):

    - ``taken``: slots of a request counter it added to the cache ahead, as [next, last, full]:
      the next slot to hand out, the last one within the limit, and whether the shared counter has
      reached the limit (then, once ``next`` passes ``last``, every further request is refused here,
      without a round trip);
    - ``read``: the last count it read or made of a counter it does not take slots of (the
      address's bad keys), kept until its next round trip.

    One dict operation at a time, so the threads of a process may share it (two may now and then
    take the same slot: an allowance off by one, never a refusal)."""

    BOUND = 10_000  # entries, past which it starts again, empty (old windows' entries go with it)

    def __init__(self):
        self.taken: dict[str, list] = {}
        self.read: dict[str, int] = {}

    def take(self, key: str) -> int | None:
        """The next slot of ``key`` for this request: a count to judge it by, or None when the
        process holds none (a round trip is needed)."""
        slots = self.taken.get(key)
        if slots is None:
            return None
        slot, last, full = slots
        if slot > last and not full:
            return None
        slots[0] = slot + 1
        return slot

    def took(self, key: str, total: int, size: int, limit: int) -> int:
        """The shared counter is ``total`` after this process added ``size``: this request's slot is
        the first of them; the rest up to the limit are this process's to hand out."""
        if len(self.taken) + len(self.read) > self.BOUND:
            self.clear()
        first = total - size + 1
        self.taken[key] = [first + 1, min(total, limit), total >= limit]
        return first

    def clear(self) -> None:
        self.taken, self.read = {}, {}


_slots = _Slots()
# A forked worker starts knowing nothing of its parent's slots.
os.register_at_fork(after_in_child=_slots.clear)


def clear_process_slots() -> None:
    """Forget the slots and counts this process holds (the cache keeps the shared counters)."""
    _slots.clear()


def _counts(counters: list[_Counter]) -> list[tuple[int, int, int]] | None:
    """(count, limit, seconds left in the window) of each counter, adding one where it says so; None
    when the cache cannot be reached. A request counter is judged by a slot this process took ahead
    when it holds one (no round trip); otherwise the counters it holds nothing of, and the read ones
    with them, travel in one round trip."""
    now = int(time.time())
    backend = caches["default"]
    entries = []
    for counter in counters:
        limit, period = _rate(counter.rate_setting)
        start = now - now % period
        key = backend.make_key(f"apilimit:{counter.group}:{limit}/{period}:{counter.value}:{start}")
        entries.append((counter, key, limit, period, start + period - now))
    values = [_known(counter, key) for counter, key, *_ in entries]
    if any(value is None for value in values):
        ask = [index for index, (counter, *_) in enumerate(entries) if values[index] is None or not counter.increment]
        try:
            fetched = _count_in_cache(backend, [entries[index] for index in ask])
        except (RedisError, OSError):
            groups = ", ".join(counter.group for counter in counters)
            logger.warning("API rate limit %s not applied: the cache cannot be reached", groups, exc_info=True)
            return None
        for index, value in zip(ask, fetched, strict=True):
            values[index] = value
    return [(value, limit, left) for value, (_c, _k, limit, _p, left) in zip(values, entries, strict=True)]


def _known(counter: _Counter, key: str) -> int | None:
    """The count this process can judge a request by without a round trip, or None."""
    if not counter.increment:
        return _slots.read.get(key)
    return _slots.take(key) if counter.leased else None


def _count_in_cache(backend, entries) -> list[int]:
    """Add each request counter's slots (its lease, or one) and read the others, in one round trip
    with Redis (django-redis; ``add`` and ``incr`` in other caches: local memory in ``make run`` and
    the tests); the count each request is judged by."""
    sizes = [lease_size(limit) if counter.leased else 1 for counter, _k, limit, _p, _l in entries]
    if type(backend).__module__.startswith("django_redis"):
        pipe = backend.client.get_client(write=True).pipeline(transaction=False)
        for (counter, key, _limit, period, _left), size in zip(entries, sizes, strict=True):
            if counter.increment:
                pipe.incrby(key, size)
                pipe.expire(key, period + 1)
            else:
                pipe.get(key)
        replies = iter(pipe.execute())
        totals = []
        for counter, *_ in entries:
            totals.append(int(next(replies) or 0))
            if counter.increment:
                next(replies)  # the expiry's
    else:
        totals = []
        for (counter, key, _limit, period, _left), size in zip(entries, sizes, strict=True):
            if counter.increment:
                backend.add(key, 0, period + 1)
                totals.append(backend.incr(key, size))
            else:
                totals.append(int(backend.get(key) or 0))
    values = []
    for (counter, key, limit, _period, _left), size, total in zip(entries, sizes, totals, strict=True):
        if counter.leased:
            values.append(_slots.took(key, total, size, limit))
        else:
            _slots.read[key] = total  # the bad keys' count, read or just added to
            values.append(total)
    return values


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
        _Counter("client", "API_RATE_LIMIT_PER_CLIENT", client, increment=True, leased=True),
    ]
    if token:
        counters.append(_Counter("key", "API_RATE_LIMIT_PER_KEY", digest(token), increment=True, leased=True))
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
