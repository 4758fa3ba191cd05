"""What counting check-API calls (``permissions.keys.count_check_call``) costs. Not a test.

    .venv/bin/python benchmarks/check_counter.py                    # SQLite, in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python benchmarks/check_counter.py

Runs on the test settings, whose cache is local memory, so the counter is the table's UPDATE (with
Redis, calls are counted there instead: ``permissions.key_counts``). Times the key's lookup (one
SELECT) against the counter alone (one UPDATE), then single GET
checks and 1,000-check batches with the counter and with it switched off, one caller at a time,
and (PostgreSQL only) four callers at once with the same key, which all update the same day row:
the contention the counter could add.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

SINGLE = 400
BATCHES = 20
THREADS = 4


def build():
    from permissions import catalog
    from permissions.keys import key_create
    from tests.factories import UserFactory, add_member, make_site, make_workspace

    workspace = make_workspace(UserFactory(email="owner@bench.test"), "Bench")
    make_site(workspace, "Shop")
    people = [add_member(workspace, catalog.MEMBER).user for _ in range(20)]
    _, raw = key_create(actor=None, workspace=workspace, name="Bench")
    return raw, people


def per_call(function, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(raw, people, label: str) -> None:
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    params = {"user": people[0].email, "permission": "change_dashboards", "site": "shop"}
    single = per_call(lambda: client.get("/api/v1/check", params, **headers), SINGLE)
    body = {
        "checks": [
            {"user": people[i % 20].email, "permission": "change_dashboards", "site": "shop"} for i in range(1000)
        ]
    }
    batch = per_call(lambda: client.post("/api/v1/check", body, content_type="application/json", **headers), BATCHES)
    line = f"{label:<12} single GET {single * 1000:6.2f} ms   batch of 1,000 {batch * 1000:7.1f} ms"
    if connection.vendor == "postgresql":
        line += f"   {THREADS} callers at once {concurrent(raw, params) * 1000:6.2f} ms a call"
    print(line, flush=True)


def concurrent(raw, params) -> float:
    results: list[float] = []
    barrier = threading.Barrier(THREADS)

    def run():
        client = Client()
        barrier.wait()
        results.append(
            per_call(lambda: client.get("/api/v1/check", params, HTTP_AUTHORIZATION=f"Bearer {raw}"), SINGLE // 2)
        )
        connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statistics.median(results)


def main() -> None:
    from permissions import check_cache

    setup_test_environment()
    if connection.vendor == "sqlite":  # a file, not memory: the API's requests share it
        connection.settings_dict["TEST"]["NAME"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    old = setup_databases(verbosity=0, interactive=False)
    try:
        raw, people = build()
        from permissions.keys import authenticate_key

        key = authenticate_key(raw)
        lookup = per_call(lambda: authenticate_key(raw), 2000)
        alone = per_call(lambda: check_cache.count_check_call(key, checks=1), 2000)
        print(
            f"finding the key (one SELECT): {lookup * 1000:.3f} ms; the counter (one UPDATE): {alone * 1000:.3f} ms",
            flush=True,
        )
        counting = check_cache.count_check_call
        for round_ in range(2):
            check_cache.count_check_call = lambda key, *, checks: None
            measure(raw, people, f"off ({round_ + 1})")
            check_cache.count_check_call = counting
            measure(raw, people, f"on ({round_ + 1})")
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
