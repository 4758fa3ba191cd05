"""Counting check-API calls per key and day in the shared cache (permissions/key_counts.py): counts
reach the table after a flush (beat's job or the usage page), flushes at once never lose or double
a count; and a key's revocation or expiry is refused at once by another connection."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from permissions import key_counts
from permissions.key_counts import _day_key, count_call, flush_counts, send_pending, shared_redis
from permissions.keys import count_check_call, key_create, key_revoke
from permissions.models import AccessKey, AccessKeyDailyUse
from permissions.tasks import flush_key_counts

pytestmark = pytest.mark.django_db


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/11"
needs_redis = pytest.mark.skipif(
    not _redis_reachable() and not os.environ.get("CI"), reason="needs Redis on 127.0.0.1:6379"
)


@pytest.fixture
def redis_cache():
    """The shared cache as in production, under a prefix of this test's own."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}
    with override_settings(CACHES={"default": {**settings, "KEY_PREFIX": prefix}}):
        yield caches["default"]
        send_pending()
        client = shared_redis()
        for name in client.scan_iter(f"{prefix}:*"):
            client.delete(name)


@pytest.fixture
def key_and_raw(workspace):
    return key_create(actor=None, workspace=workspace, name="Tracker")


def ask(client, raw, owner, **params):
    question = {"user": owner.email, "permission": "view_workspace", **params}
    return client.get("/api/v1/check", question, HTTP_AUTHORIZATION=f"Bearer {raw}")


def counted(key):
    return list(AccessKeyDailyUse.objects.filter(key=key).values_list("day", "calls", "checks"))


@needs_redis
def test_calls_wait_in_redis_and_reach_the_table_once_after_a_flush(client, redis_cache, owner, key_and_raw):
    key, raw = key_and_raw
    for _ in range(3):
        assert ask(client, raw, owner).status_code == 200
    batch = {"checks": [{"user": owner.email, "permission": "view_workspace"}] * 4}
    response = client.post("/api/v1/check", batch, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert ask(client, raw, owner, permission="nonsense").status_code == 400  # not counted
    assert counted(key) == []  # no write per call
    assert flush_key_counts.delay().get() == 4  # beat's job
    today = timezone.now().date()
    assert counted(key) == [(today, 4, 7)]
    assert flush_counts() == 0
    assert ask(client, raw, owner).status_code == 200
    assert flush_counts() == 1
    assert counted(key) == [(today, 5, 8)]


@needs_redis
def test_the_usage_page_flushes_before_reading(client, redis_cache, workspace, owner, key_and_raw):
    key, raw = key_and_raw
    for _ in range(2):
        assert ask(client, raw, owner).status_code == 200
    client.force_login(owner)
    page = client.get(reverse("usage:index", args=[workspace.slug])).content.decode()
    assert "2 calls, 2 checks in all" in page and "Tracker: 2" in page
    assert counted(key) == [(timezone.now().date(), 2, 2)]


@needs_redis
def test_a_flush_adds_to_the_days_row_and_takes_past_days_too(redis_cache, key_and_raw):
    key, _ = key_and_raw
    today = timezone.now().date()
    yesterday = today - datetime.timedelta(days=1)
    AccessKeyDailyUse.objects.create(key=key, day=yesterday, calls=10, checks=20)
    shared_redis().hset(_day_key(yesterday), mapping={f"{key.pk}:calls": 2, f"{key.pk}:checks": 3})
    count_call(key.pk, checks=5)
    assert flush_counts(today) == 3
    assert sorted(counted(key)) == [(yesterday, 12, 23), (today, 1, 5)]


@needs_redis
def test_a_deleted_keys_counts_are_dropped_without_failing_the_flush(redis_cache, workspace, key_and_raw):
    key, _ = key_and_raw
    other, _ = key_create(actor=None, workspace=workspace, name="Gone")
    count_check_call(key, checks=1)
    count_check_call(other, checks=1)
    AccessKey.objects.filter(pk=other.pk).delete()
    assert flush_counts() == 1
    assert counted(key) == [(timezone.now().date(), 1, 1)]


def test_with_a_local_cache_calls_are_counted_straight_in_the_table(client, owner, key_and_raw):
    key, raw = key_and_raw
    assert ask(client, raw, owner).status_code == 200
    assert counted(key) == [(timezone.now().date(), 1, 1)]
    assert flush_counts() == 0


@override_settings(
    CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
)
def test_an_unreachable_redis_counts_in_the_table(client, owner, key_and_raw, caplog):
    key, raw = key_and_raw
    assert ask(client, raw, owner).status_code == 200
    assert ask(client, raw, owner).status_code == 200
    assert counted(key) == []  # waiting in the process
    send_pending()
    assert counted(key) == [(timezone.now().date(), 2, 2)]
    assert "counted in the database" in caplog.text


@needs_redis
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_flushes_at_once_never_lose_or_double_a_count(redis_cache, key_and_raw):
    """Four threads count 250 calls each while two flush over and over, each on its own database
    connection: every call reaches the table exactly once."""
    key, _ = key_and_raw
    counting = threading.Event()
    errors = []

    def count():
        try:
            for _ in range(250):
                count_call(key.pk, checks=2)
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    def flush():
        try:
            while not counting.is_set():
                flush_counts()
            flush_counts()
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    flushers = [threading.Thread(target=flush) for _ in range(2)]
    counters = [threading.Thread(target=count) for _ in range(4)]
    for thread in flushers + counters:
        thread.start()
    for thread in counters:
        thread.join()
    counting.set()
    for thread in flushers:
        thread.join()
    assert errors == []
    flush_counts()
    assert counted(key) == [(timezone.now().date(), 1000, 2000)]


def _in_another_connection(work):
    """Run ``work`` in a thread of its own, so on its own database connection, committed."""
    failures = []

    def run():
        try:
            work()
        except Exception as exc:  # pragma: no cover
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert failures == []


@needs_redis
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_revoked_key_is_refused_at_once_by_another_connection(client, redis_cache, owner, key_and_raw):
    key, raw = key_and_raw
    assert ask(client, raw, owner).status_code == 200  # the answer is now in the cache
    _in_another_connection(lambda: key_revoke(actor=None, key=AccessKey.objects.get(pk=key.pk)))
    assert ask(client, raw, owner).status_code == 401


@needs_redis
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_expired_key_is_refused_at_once_by_another_connection(client, redis_cache, owner, key_and_raw):
    key, raw = key_and_raw
    assert ask(client, raw, owner).status_code == 200
    past = timezone.now() - datetime.timedelta(seconds=1)
    _in_another_connection(lambda: AccessKey.objects.filter(pk=key.pk).update(expires_at=past))
    assert ask(client, raw, owner).status_code == 401


# -- the counts waiting in a process ---------------------------------------------------------------


def _waiting_in_redis(key) -> tuple[int, int]:
    fields = shared_redis().hgetall(_day_key(timezone.now().date()))
    return int(fields.get(f"{key.pk}:calls".encode(), 0)), int(fields.get(f"{key.pk}:checks".encode(), 0))


@needs_redis
def test_a_calls_count_reaches_redis_within_the_delay_without_a_flush(
    client, redis_cache, owner, key_and_raw, monkeypatch
):
    key, raw = key_and_raw
    monkeypatch.setattr(key_counts, "SEND_AFTER_SECONDS", 0.2)
    for _ in range(3):
        assert ask(client, raw, owner).status_code == 200
    assert _waiting_in_redis(key) == (0, 0)  # no round trip per call
    deadline = time.monotonic() + 10
    while _waiting_in_redis(key) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_in_redis(key) == (3, 3)  # one send, by the timer
    assert counted(key) == []  # the table is the flush's


COUNT_AND_EXIT = """
import sys
import django
django.setup()
from permissions.key_counts import count_call
count_call(int(sys.argv[1]), checks=4)
"""


@needs_redis
def test_a_process_sends_its_waiting_counts_when_it_exits(redis_cache, key_and_raw):
    key, _ = key_and_raw
    prefix = redis_cache.key_prefix
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "CACHE_URL": f"{REDIS_URL}?key_prefix={prefix}",
    }
    code = COUNT_AND_EXIT
    subprocess.run([sys.executable, "-c", code, str(key.pk)], cwd=ROOT, env=env, check=True, timeout=60)
    assert _waiting_in_redis(key) == (1, 4)


@needs_redis
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_starts_with_no_counts_of_its_parent(redis_cache, key_and_raw):
    key, _ = key_and_raw
    count_call(key.pk, checks=1)
    child = os.fork()
    if child == 0:  # the child: it must hold nothing to send
        os._exit(0 if key_counts._pending.counts == {} and key_counts._pending.timer is None else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    send_pending()
    assert _waiting_in_redis(key) == (1, 1)  # the parent's count, sent once
