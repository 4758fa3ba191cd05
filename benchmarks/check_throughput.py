"""Requests per second and latency of the check API under gunicorn, beside a trivial view. Not a test.

    .venv/bin/python benchmarks/check_throughput.py [--seconds 10] [--concurrency 4]

Builds a scratch PostgreSQL database (``BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/portal_checkbench, dropped and made again), starts gunicorn with
the production settings (2 workers, ``CACHE_URL=redis://127.0.0.1:6379/13``, flushed first), and
drives it from ``--concurrency`` client processes, each sending one request at a time for
``--seconds`` after a warm-up, for:

- ``/healthz``: no database, no cache (the ceiling of this machine and server);
- ``GET /api/v1/check``: one question, drawn from 200 distinct ones, all answered once before
  (the cache is warm);
- ``POST /api/v1/check``: a batch of 1,000 questions, warm;
- the same two with one client, for the latency of a request that does not queue;
- the batch with a new access version before every request (a change in between: every answer
  from the database), one client.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_checkbench")
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")
WORKERS = 2

SEED = """
import json
from django.conf import settings
free = settings.BILLING_PLANS[0]  # the seed's workspace is on the free plan: lift its limits here
settings.BILLING_PLANS = [{**free, "limits": {**free["limits"], "sites": None, "members": None}},
                          *settings.BILLING_PLANS[1:]]
from permissions import catalog
from permissions.keys import key_create
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspaces.sites.services import site_grant_set

workspace = make_workspace(UserFactory(email="owner@bench.test"), "Bench")
sites = [make_site(workspace, f"Site {n}") for n in range(20)]
people = [add_member(workspace, catalog.MEMBER if n % 2 else catalog.VIEWER) for n in range(50)]
editor = builtin_role(catalog.EDITOR, catalog.SITE)
for n, member in enumerate(people[:25]):
    site_grant_set(actor=None, site=sites[n % 20], role=editor, membership=member)
_, raw = key_create(actor=None, workspace=workspace, name="Bench")
print(json.dumps({"key": raw, "workspace": workspace.pk, "emails": [m.user.email for m in people],
                  "sites": [s.slug for s in sites]}))
"""

# What a change does to the cache: a new access version (as any trigger would write it).
BUMP = "UPDATE permissions_accessversion SET version = version + 1"


def environment(port: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": DATABASE_URL,
        "CACHE_URL": CACHE_URL,
        "API_RATE_LIMIT_PER_KEY": "100000000/m",
        "API_RATE_LIMIT_PER_CLIENT": "100000000/m",
        "EMAIL_URL": "consolemail://",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database() -> None:
    import psycopg

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    admin = DATABASE_URL.replace(url.path, "/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def request(port: int, method: str, path: str, headers: dict, body: bytes | None) -> float:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {path[:60]}: {response.status}")
    return time.perf_counter() - start


def client(args) -> list[float]:
    port, requests, seconds, offset, bump = args
    times, n = [], offset
    database = None
    if bump:
        import psycopg

        database = psycopg.connect(DATABASE_URL, autocommit=True)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        method, path, headers, body = requests[n % len(requests)]
        n += 1
        if database is not None:
            database.execute(BUMP)
        times.append(request(port, method, path, headers, body))
    return times


def run(port: int, requests: list, seconds: float, concurrency: int, bump: bool = False) -> dict:
    with multiprocessing.Pool(concurrency) as pool:
        pool.map(client, [(port, requests, 1.0, n, None) for n in range(concurrency)])  # warm-up
        start = time.perf_counter()
        results = pool.map(client, [(port, requests, seconds, n * 7, bump) for n in range(concurrency)])
        elapsed = time.perf_counter() - start
    if bump:  # the changes between requests are not the server's time
        elapsed = sum(t for part in results for t in part) / concurrency
    times = sorted(t for part in results for t in part)
    quantiles = statistics.quantiles(times, n=100)
    return {
        "requests": len(times),
        "rps": len(times) / elapsed,
        "p50": statistics.median(times) * 1000,
        "p95": quantiles[94] * 1000,
        "p99": quantiles[98] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    options = parser.parse_args()
    if not shutil.which("redis-cli") and not os.environ.get("CI"):
        print("(redis-cli not found: the cache database is not flushed first)")
    else:
        db = urlparse(CACHE_URL).path.lstrip("/") or "0"
        subprocess.run(["redis-cli", "-n", db, "flushdb"], check=False, capture_output=True)
    port = free_port()
    env = environment(port)
    fresh_database()
    manage(env, "migrate", "--no-input")
    seed = json.loads(manage(env, "shell", stdin=SEED).strip().splitlines()[-1])
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "portal.wsgi", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        https = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
        for _ in range(100):
            try:
                request(port, "GET", "/healthz", https, None)
                break
            except (OSError, RuntimeError):
                time.sleep(0.2)
        auth = {**https, "Authorization": f"Bearer {seed['key']}"}
        singles = []
        for n in range(200):
            email, site = seed["emails"][n % 50], seed["sites"][n % 20]
            question = {"user": email, "permission": "change_dashboards", "site": site}
            singles.append(("GET", "/api/v1/check?" + urlencode(question), auth, None))
        checks = [
            {"user": seed["emails"][n % 50], "permission": "change_dashboards", "site": seed["sites"][n % 20]}
            if n % 2
            else {"user": seed["emails"][n % 50], "permission": "add_experience"}
            for n in range(1000)
        ]
        batch = [
            (
                "POST",
                "/api/v1/check",
                {**auth, "Content-Type": "application/json"},
                json.dumps({"checks": checks}).encode(),
            )
        ]
        for method, path, headers, body in singles + batch:
            request(port, method, path, headers, body)  # every answer once: the cache is warm
        rows = [
            (
                "trivial view (/healthz)",
                run(port, [("GET", "/healthz", https, None)], options.seconds, options.concurrency),
            ),
            ("single check, warm cache", run(port, singles, options.seconds, options.concurrency)),
            ("batch of 1,000 checks, warm cache", run(port, batch, options.seconds, options.concurrency)),
            ("single check, warm cache, one client", run(port, singles, options.seconds, 1)),
            ("batch of 1,000 checks, warm cache, one client", run(port, batch, options.seconds, 1)),
            ("batch of 1,000 checks, after a change (cold)", run(port, batch, options.seconds, 1, bump=True)),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    load = os.getloadavg()
    print(
        f"\ngunicorn, {WORKERS} workers, PostgreSQL + Redis; {options.concurrency} client processes, "
        f"{options.seconds:g} s each; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
        f"{os.cpu_count()} cores\n"
    )
    print("| request | requests/s | p50 | p95 | p99 |")
    print("| --- | --- | --- | --- | --- |")
    for label, row in rows:
        print(f"| {label} | {row['rps']:.0f} | {row['p50']:.1f} ms | {row['p95']:.1f} ms | {row['p99']:.1f} ms |")
    trivial, single = rows[0][1]["rps"], rows[1][1]["rps"]
    print(f"\nsingle check / trivial view: {100 * single / trivial:.0f}% of the requests/s (target: 50%)")
    print(f"warm batch of 1,000, one client, median: {rows[4][1]['p50']:.1f} ms (target: under 20 ms)")


if __name__ == "__main__":
    main()
