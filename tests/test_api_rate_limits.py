"""Rate limits of /api/v1/ (permissions/api_limits.py): per key, per client address, and bad keys
per client address; 429 with Retry-After; counters shared by every process through the cache."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import override_settings

from permissions.keys import SCOPES, key_create, key_revoke
from tests.factories import make_workspace

URL = "/api/v1/check"
QUESTION = {"user": "owner@acme.test", "permission": "view_workspace"}
ROOT = Path(__file__).resolve().parent.parent
# A Redis database the test empties: one of its own for each suite that runs at the same time
# (.ci/run runs the SQLite and the PostgreSQL suite side by side).
REDIS_URL = os.environ.get("TEST_RATE_LIMITS_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def empty_cache():
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def raw_key(workspace):
    return key_create(actor=None, workspace=workspace, name="Dashboards", scopes=list(SCOPES))[1]


def ask(client, raw: str | None, address: str = "203.0.113.7", **headers):
    if raw is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client.get(URL, QUESTION, REMOTE_ADDR=address, **headers)


def assert_too_many(response, message: str):
    assert response.status_code == 429
    assert message in response.json()["error"]
    assert 1 <= int(response["Retry-After"]) <= 60


@override_settings(API_RATE_LIMIT_PER_KEY="3/m")
def test_a_key_past_its_limit_gets_429_from_every_address(client, raw_key):
    assert [ask(client, raw_key, f"203.0.113.{n}").status_code for n in range(3)] == [200, 200, 200]
    assert_too_many(ask(client, raw_key, "198.51.100.1"), "with this access key")


@override_settings(API_RATE_LIMIT_PER_KEY="3/m")
def test_one_keys_limit_leaves_other_keys_alone(client, raw_key, workspace):
    other = key_create(actor=None, workspace=workspace, name="Exports")[1]
    for _ in range(4):
        ask(client, raw_key)
    assert ask(client, other).status_code == 200


@override_settings(API_RATE_LIMIT_PER_CLIENT="3/m")
def test_an_address_past_its_limit_gets_429_whatever_key_it_sends(client, raw_key, workspace):
    other = key_create(actor=None, workspace=workspace, name="Exports")[1]
    assert [ask(client, key).status_code for key in (raw_key, other, raw_key)] == [200, 200, 200]
    assert_too_many(ask(client, other), "from this address")
    assert ask(client, raw_key, "198.51.100.1").status_code == 200


@override_settings(API_BAD_KEY_LIMIT_PER_CLIENT="3/m")
def test_guessing_keys_locks_the_address_out_even_with_a_good_key(client, raw_key, workspace):
    revoked_key, revoked = key_create(actor=None, workspace=workspace, name="Old")
    key_revoke(actor=None, key=revoked_key)
    attempts = [ask(client, raw).status_code for raw in (None, "portal_wrong", revoked)]
    assert attempts == [401, 401, 401]
    assert_too_many(ask(client, "portal_guess"), "bad access key")
    assert_too_many(ask(client, raw_key), "bad access key")
    assert ask(client, raw_key, "198.51.100.1").status_code == 200


@override_settings(API_BAD_KEY_LIMIT_PER_CLIENT="3/m")
def test_good_requests_do_not_count_as_bad_keys(client, raw_key):
    assert {ask(client, raw_key).status_code for _ in range(6)} == {200}
    assert ask(client, "portal_wrong").status_code == 401


@override_settings(API_RATE_LIMIT_PER_CLIENT="2/m", PROXY_COUNT=0)
def test_a_forged_forwarded_for_does_not_dodge_the_limit(client, raw_key):
    for n in range(2):
        ask(client, raw_key, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert_too_many(ask(client, raw_key, HTTP_X_FORWARDED_FOR="192.0.2.99"), "from this address")


@override_settings(API_RATE_LIMIT_PER_KEY="2/m")
def test_every_api_view_shares_the_limit(client, raw_key):
    assert client.get("/api/v1/settings/ip-blocklist", HTTP_AUTHORIZATION=f"Bearer {raw_key}").status_code == 200
    assert ask(client, raw_key).status_code == 200
    response = client.post(URL, "[]", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert_too_many(response, "with this access key")


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


COUNT_IN_ANOTHER_PROCESS = """
import django
django.setup()
from django.conf import settings
settings.API_BAD_KEY_LIMIT_PER_CLIENT = "3/m"
from django.test import RequestFactory
from permissions import api_limits
request = RequestFactory().get("/api/v1/check", REMOTE_ADDR="203.0.113.7")
for _ in range(3):
    assert api_limits.after_bad_key(request) is None
"""


@pytest.mark.skipif(not _redis_reachable() and not os.environ.get("CI"), reason="needs Redis on 127.0.0.1:6379")
@override_settings(
    CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}},
    API_BAD_KEY_LIMIT_PER_CLIENT="3/m",
)
def test_another_process_sees_the_same_counters_through_redis(client, raw_key):
    """Three bad keys counted by a second Python process lock this process's client out: the
    counters live in Redis, not in a worker's memory."""
    caches["default"].clear()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test", "CACHE_URL": REDIS_URL}
    subprocess.run([sys.executable, "-c", COUNT_IN_ANOTHER_PROCESS], cwd=ROOT, env=env, check=True, timeout=60)
    assert_too_many(ask(client, "portal_wrong"), "bad access key")
    assert_too_many(ask(client, raw_key), "bad access key")


@override_settings(
    CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}},
    API_RATE_LIMIT_PER_KEY="1/m",
)
def test_an_unreachable_cache_does_not_stop_the_api(client, raw_key, caplog):
    assert [ask(client, raw_key).status_code for _ in range(2)] == [200, 200]
    assert "cache cannot be reached" in caplog.text


def test_another_workspaces_key_counts_apart(client, raw_key, owner):
    other_workspace = make_workspace(owner, "Beta")
    other = key_create(actor=None, workspace=other_workspace, name="Beta")[1]
    with override_settings(API_RATE_LIMIT_PER_KEY="1/m"):
        assert ask(client, raw_key).status_code == 200
        assert ask(client, other).status_code == 200
        assert ask(client, raw_key).status_code == 429


# -- slots taken ahead ----------------------------------------------------------------------------


def test_a_process_takes_a_hundredth_of_a_limit_at_a_time():
    from permissions.api_limits import lease_size

    assert [lease_size(limit) for limit in (1, 3, 199, 200, 1200, 2400, 10**8)] == [1, 1, 1, 2, 12, 24, 100]


def _shared_key_counter(raw: str) -> int:
    from kernel.tokens import digest

    client = caches["default"].client.get_client(write=True)
    names = list(client.scan_iter(f"*apilimit:key:*:{digest(raw)}:*"))
    return sum(int(client.get(name)) for name in names)


TAKE_SLOTS_IN_ANOTHER_PROCESS = """
import sys
import django
django.setup()
from django.conf import settings
settings.API_RATE_LIMIT_PER_KEY = "1000/m"
from django.test import RequestFactory
from permissions import api_limits
request = RequestFactory().get("/api/v1/check", REMOTE_ADDR="198.51.100.9")
answered = 0
for _ in range(1200):
    if api_limits.before_key(request, sys.argv[1]) is None and api_limits.after_key(request, None) is None:
        answered += 1
print(answered)
"""


@pytest.mark.skipif(not _redis_reachable() and not os.environ.get("CI"), reason="needs Redis on 127.0.0.1:6379")
@override_settings(
    CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}},
    API_RATE_LIMIT_PER_KEY="1000/m",
)
def test_slots_taken_ahead_never_let_two_processes_past_the_limit(client, raw_key):
    """With a limit of 1,000 a process takes 10 slots a round trip. This process answers 5 calls
    (the shared counter says 10: one round trip), another takes every slot left (990), and this one
    answers the 5 it still holds, then refuses: 1,000 answered in all, never more. Started at least
    30 s before the minute's window ends, so both processes count in the same window."""
    seconds_left = 60 - int(time.time()) % 60
    if seconds_left < 30:
        time.sleep(seconds_left + 1)
    caches["default"].clear()
    assert [ask(client, raw_key).status_code for _ in range(5)] == [200] * 5
    assert _shared_key_counter(raw_key) == 10
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test", "CACHE_URL": REDIS_URL}
    other = subprocess.run(
        [sys.executable, "-c", TAKE_SLOTS_IN_ANOTHER_PROCESS, raw_key],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert int(other.stdout.strip().splitlines()[-1]) == 990
    assert [ask(client, raw_key).status_code for _ in range(5)] == [200] * 5
    assert_too_many(ask(client, raw_key), "with this access key")
    caches["default"].clear()


@pytest.mark.skipif(not _redis_reachable() and not os.environ.get("CI"), reason="needs Redis on 127.0.0.1:6379")
@override_settings(
    CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}},
    API_RATE_LIMIT_PER_KEY="3/m",
)
def test_a_flood_past_a_full_window_costs_no_round_trip(client, raw_key):
    caches["default"].clear()
    statuses = [ask(client, raw_key).status_code for _ in range(10)]
    assert statuses == [200, 200, 200] + [429] * 7
    assert _shared_key_counter(raw_key) == 3  # the third filled the window; the rest were refused here
    caches["default"].clear()
