"""Counting the check API's calls per access key and UTC day (``AccessKeyDailyUse``, the usage page).

A call must not pay a database write to be counted: with one UPDATE per call, every call of a key
queued on the same row and waited for a WAL flush. So when the cache is shared (Redis, through
django-redis, as in production), a call adds itself to a hash in Redis, one per day
(``keyuse:<day>``, fields ``<key id>:calls`` and ``<key id>:checks``), in one round trip
(``HINCRBY`` ×2 and ``EXPIRE`` in one MULTI). ``flush_counts`` moves the hashes into the table:
Celery beat runs it every minute (``permissions.flush_key_counts``), and the usage page runs it
before reading, so the page shows every call counted until then.

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
current; ``flush_counts`` then has nothing to do.
"""

from __future__ import annotations

import datetime
import logging
import uuid

from django.core.cache import cache, caches
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError, ResponseError

from .models import AccessKey, AccessKeyDailyUse

logger = logging.getLogger(__name__)

KEEP_DAYS = 8  # how long an unflushed day's hash lives after its last call, and how far a flush looks back


KEEP_SECONDS = KEEP_DAYS * 86400


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


def day_hash(key_id: int) -> tuple[str, tuple[str, str]]:
    """Today's hash (UTC) and the key's two fields in it (calls, checks)."""
    return _day_key(timezone.now().date()), (f"{key_id}:calls", f"{key_id}:checks")


def add_count(pipe, day: str, fields: tuple[str, str], *, checks: int) -> None:
    """Queue one call of ``checks`` questions on a Redis pipeline (``day_hash`` names the fields)."""
    pipe.hincrby(day, fields[0], 1)
    pipe.hincrby(day, fields[1], checks)
    pipe.expire(day, KEEP_SECONDS)


def count_call(key_id: int, *, checks: int) -> None:
    """Count one call of ``checks`` questions for today (UTC): in Redis when the cache is shared,
    else in the table. A Redis that cannot be reached counts in the table."""
    redis = shared_redis()
    if redis is not None:
        try:
            pipe = redis.pipeline(transaction=True)
            add_count(pipe, *day_hash(key_id), checks=checks)
            pipe.execute()
            return
        except (RedisError, OSError):
            logger.warning("Check API call counted in the database: the cache cannot be reached", exc_info=True)
    count_in_table(key_id, timezone.now().date(), calls=1, checks=checks)


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
