"""Counting the check API's calls per access key and UTC day (``AccessKeyDailyUse``, the usage page).

A call must not pay a database write to be counted: with one UPDATE per call, every call of a key
queued on the same row and waited for a WAL flush. Nor a round trip of its own: on a warm check
that was a quarter of the call's cost. So when the cache is shared (Redis, through django-redis,
as in production), a call adds itself to this process's pending counts (``count_call``: a dict
under a lock, no I/O), and a timer thread sends them within ``SEND_AFTER_SECONDS``, one round trip
for all the calls counted meanwhile, into a hash in Redis, one per day (``keyuse:<day>``, fields
``<key id>:calls`` and ``<key id>:checks``; ``HINCRBY`` and ``EXPIRE`` in one MULTI). A process
sends what it still holds when it exits (``atexit``: gunicorn's workers exit through it, restarts
included) and before it flushes. ``flush_counts`` moves the hashes into the table: Celery beat runs
it every minute (``permissions.flush_key_counts``), and the usage page runs it before reading, so
the page shows every call counted until a second before. Only a process killed outright (SIGKILL,
an out-of-memory kill) loses the counts of its last second.

No count is lost or counted twice when flushes run at once (beat, several pages): a flush first
RENAMEs each day's hash to a name of its own (atomic: exactly one flusher gets a given hash, and a
call counted after the rename starts a new hash under the day's name, for the next flush), adds
what it took to the rows in one transaction, and deletes its copy only after that commits. Should
the transaction fail, the counts are added back to the day's hash for the next flush. A hash
expires ``KEEP_DAYS`` days after its day's last call, and a flush looks back as far, so counts that
no flush ever took (beat and the page both stopped for a week) are the only ones that go; so would
those of a flusher killed between its rename and its commit (its copy expires unread).

When the cache is not shared (local memory: ``make run``, the tests, or no Redis), a call is
counted straight in the table by one UPDATE, as before, so the figures are the same and always
current; ``flush_counts`` then has nothing to do. A Redis that cannot be reached when counts are
sent gets them in the table too.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import os
import threading
import uuid

from django.core.cache import cache, caches
from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError, ResponseError

from .models import AccessKey, AccessKeyDailyUse

logger = logging.getLogger(__name__)

KEEP_DAYS = 8  # how long an unflushed day's hash lives after its last call, and how far a flush looks back


KEEP_SECONDS = KEEP_DAYS * 86400
SEND_AFTER_SECONDS = 1.0  # how long a call's count waits in its process before it is sent to Redis


def shared_redis():
    """The raw Redis client of a django-redis cache, or None when the cache is not Redis."""
    backend = caches["default"]
    if not type(backend).__module__.startswith("django_redis"):
        return None
    return backend.client.get_client(write=True)


def _day_key(day: datetime.date) -> str:
    return cache.make_key(f"keyuse:{day.isoformat()}")


def count_in_table(key_id: int, day: datetime.date, *, calls: int, checks: int) -> None:
    """Add to the key's row for ``day``: one UPDATE in the usual case. Outside any transaction of
    the caller it holds the row for that one statement; the day's first count inserts the row, and
    should two first counts race, the loser's insert fails on the unique constraint and it counts
    by UPDATE instead."""
    counted = AccessKeyDailyUse.objects.filter(key_id=key_id, day=day)
    if counted.update(calls=F("calls") + calls, checks=F("checks") + checks):
        return
    try:
        with transaction.atomic():
            AccessKeyDailyUse.objects.create(key_id=key_id, day=day, calls=calls, checks=checks)
    except IntegrityError:
        counted.update(calls=F("calls") + calls, checks=F("checks") + checks)


class _PendingCounts:
    """Calls counted in this process and not yet in Redis, by the Redis client they are for (one in
    production; tests switch caches) and then by (the day's hash, UTC day, key id): [calls, checks].
    ``add`` starts the timer that sends them, unless one is already waiting."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict = {}
        self.timer: threading.Timer | None = None

    def add(self, redis, day: datetime.date, key_id: int, checks: int) -> None:
        with self.lock:
            entry = self.counts.setdefault(redis, {}).setdefault((_day_key(day), day, key_id), [0, 0])
            entry[0] += 1
            entry[1] += checks
            if self.timer is None:
                self.timer = threading.Timer(SEND_AFTER_SECONDS, _send_from_timer)
                self.timer.daemon = True  # never keeps a process alive; atexit sends what is left
                self.timer.start()

    def take(self) -> dict:
        with self.lock:
            counts, self.counts, self.timer = self.counts, {}, None
        return counts


_pending = _PendingCounts()
# A forked child (a gunicorn or Celery worker) starts with no counts and no timer of its parent's.
os.register_at_fork(after_in_child=lambda: globals().update(_pending=_PendingCounts()))


def count_call(key_id: int, *, checks: int) -> None:
    """Count one call of ``checks`` questions for today (UTC): in this process's pending counts,
    sent to Redis within ``SEND_AFTER_SECONDS``, when the cache is shared; else in the table."""
    redis = shared_redis()
    if redis is None:
        count_in_table(key_id, timezone.now().date(), calls=1, checks=checks)
        return
    _pending.add(redis, timezone.now().date(), key_id, checks)


def send_pending() -> None:
    """Send this process's pending counts to Redis in one round trip per client (the table, should
    Redis fail). Runs from the timer, at exit, and before a flush."""
    for redis, counts in _pending.take().items():
        try:
            pipe = redis.pipeline(transaction=True)
            for (day_hash, _day, key_id), (calls, checks) in counts.items():
                pipe.hincrby(day_hash, f"{key_id}:calls", calls)
                pipe.hincrby(day_hash, f"{key_id}:checks", checks)
            for day_hash in {day_hash for day_hash, _day, _key_id in counts}:
                pipe.expire(day_hash, KEEP_SECONDS)
            pipe.execute()
        except (RedisError, OSError):
            logger.warning("Check API calls counted in the database: the cache cannot be reached", exc_info=True)
            for (_day_hash, day, key_id), (calls, checks) in counts.items():
                count_in_table(key_id, day, calls=calls, checks=checks)


def _send_from_timer() -> None:
    try:
        send_pending()
    finally:
        connections.close_all()  # the timer thread's own, if Redis failed and the table was written


atexit.register(send_pending)


def _parse(fields: dict) -> dict[int, list[int]]:
    """{key id: [calls, checks]} from a day hash's fields."""
    counts: dict[int, list[int]] = {}
    for field, value in fields.items():
        key_id, _, what = (field.decode() if isinstance(field, bytes) else field).partition(":")
        counts.setdefault(int(key_id), [0, 0])[0 if what == "calls" else 1] += int(value)
    return counts


def _add_to_table(day: datetime.date, counts: dict[int, list[int]]) -> int:
    """Add ``counts`` to the day's rows (a deleted key's counts go with it); answers the calls added."""
    existing = set(AccessKey.objects.filter(pk__in=counts).values_list("pk", flat=True))
    for key_id in sorted(existing):
        calls, checks = counts[key_id]
        count_in_table(key_id, day, calls=calls, checks=checks)
    return sum(counts[key_id][0] for key_id in existing)


def flush_counts(today: datetime.date | None = None) -> int:
    """Move the counts waiting in Redis into ``AccessKeyDailyUse``; answers the calls moved (0 when
    the cache is not shared: the table is already current)."""
    send_pending()
    redis = shared_redis()
    if redis is None:
        return 0
    today = today or timezone.now().date()
    days = [today - datetime.timedelta(days=n) for n in range(KEEP_DAYS)]
    token = uuid.uuid4().hex
    taken = {day: f"{_day_key(day)}:flushing:{token}" for day in days}
    pipe = redis.pipeline(transaction=False)
    for day in days:
        pipe.rename(_day_key(day), taken[day])
    renamed = pipe.execute(raise_on_error=False)
    moved = 0
    for day, outcome in zip(days, renamed, strict=True):
        if isinstance(outcome, ResponseError):  # no such key: nothing counted that day since the last flush
            continue
        if isinstance(outcome, Exception):
            raise outcome
        fields = redis.hgetall(taken[day])
        counts = _parse(fields)
        try:
            with transaction.atomic():
                added = _add_to_table(day, counts)
        except BaseException:
            # Back into the day's hash, for the next flush; then give up the copy.
            back = redis.pipeline(transaction=True)
            for field, value in fields.items():
                back.hincrby(_day_key(day), field, int(value))
            back.expire(_day_key(day), KEEP_SECONDS)
            back.delete(taken[day])
            back.execute()
            raise
        redis.delete(taken[day])
        moved += added
    return moved
