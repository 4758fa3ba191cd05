"""How do the pages that list people, sites and events cost as a workspace grows? Server time,
SQL queries and HTML bytes at several sizes, on SQLite and on PostgreSQL, in one run.

    .venv/bin/python benchmarks/people.py                        # both backends, 100 / 10,000 / 100,000
    .venv/bin/python benchmarks/people.py --sqlite --sizes 100 10000 --events 100000
    .venv/bin/python benchmarks/people.py --postgres --markdown   # the table README shows

Each backend runs in its own process against a scratch database the benchmark (re)creates: SQLite
in a temporary file (WAL, as in production), PostgreSQL in ``portal_bench_people`` on the local
server (override with BENCH_POSTGRES_URL). For each size it builds one workspace: its owner through
the services, the other members inserted with ``bulk_create`` (a tenth of them spread over the
teams), ``--teams`` teams and ``--sites`` sites through the services, 1,000 pending invitations,
and grants on the first site for 20 members. The largest workspace also gets ``--events`` audit
events (1,000,000 by default), inserted by one SQL statement, for the activity page.

Every request is made with Django's test client as the owner; the figure is the median of
``--repeat`` runs after one warm-up (the export and the bulk role change: of three runs at most).
The members export is reported as rows per second and as the peak memory Python allocated while
streaming it (``tracemalloc``), which must not grow with the rows. The bulk role change moves
1,000 members (or all but the owner, if fewer) from Member to Viewer and back through the same
service the people page calls.

Targets on PostgreSQL at 100,000 members: the people page and a search under 150 ms, at most 15
queries and under 150 KB; the page within 2x of the page at 100 members; the export of 100,000
members under 10 s; a bulk role change of 1,000 members under 5 s; every list under 150 ms.
``invite_bulk`` at 100,000 rows is measured by benchmarks/bulk_invite.py (``--with-invite-bulk``
runs it at the end of this one).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_people")
BULK_CHANGE = 1_000
INVITES = 1_000
GRANTED = 20
HEADER = f"{'backend':<10} {'members':>8} {'request':<34} {'median ms':>10} {'queries':>8} {'KB':>9}"


# --- the scratch database -----------------------------------------------------------------------


def _prepare_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    # No setup_test_environment(): its template instrumentation (every rendered template and a copy
    # of its context kept for the test client) would be measured instead of the page.
    call_command("migrate", verbosity=0)


# --- one workspace of a given size ----------------------------------------------------------------


def _workspace(size: int, teams: int, sites: int):
    from accounts.models import User
    from permissions import catalog
    from permissions.roles import builtin_role
    from workspaces.models import Invite, Membership, TeamMembership
    from workspaces.overview.services import workspace_create
    from workspaces.sites.services import site_create
    from workspaces.teams.services import team_create

    owner = User.objects.create_user(email=f"owner{size}@bench.test", password=None, full_name="Olivia Owner")
    workspace = workspace_create(actor=owner, creator=owner, name=f"Bench {size}")
    now = workspace.created_at
    users = User.objects.bulk_create(
        (
            User(
                email=f"person{n:06d}.{size}@bench.test",
                full_name=f"Person {n:06d}",
                password="!",
                # Nine in ten have signed in, at one of 5,000 hours back.
                last_login=now - timedelta(hours=n % 5_000) if n % 10 else None,
            )
            for n in range(size - 1)
        ),
        batch_size=5_000,
    )
    member = builtin_role(catalog.MEMBER)
    members = Membership.objects.bulk_create(
        (Membership(workspace=workspace, user=u, role=member) for u in users), batch_size=5_000
    )
    made_teams = [team_create(actor=owner, workspace=workspace, name=f"Team {n:03d}") for n in range(teams)]
    TeamMembership.objects.bulk_create(
        (TeamMembership(team=made_teams[i % teams], membership=m) for i, m in enumerate(members[::10])),
        batch_size=5_000,
    )
    made_sites = [site_create(actor=owner, workspace=workspace, name=f"Site {n:05d}") for n in range(sites)]
    Invite.objects.bulk_create(
        Invite(
            workspace=workspace,
            email=f"invitee{n:05d}.{size}@bench.test",
            role=member,
            invited_by=owner,
            token_hash=hashlib.sha256(f"{size}-{n}".encode()).hexdigest(),
            expires_at=now + timedelta(days=7),
        )
        for n in range(INVITES)
    )
    _grant_first_site(owner, made_sites[0], members[:GRANTED])
    return owner, workspace, made_sites[0], made_teams[0], members


def _grant_first_site(owner, site, members) -> None:
    from permissions import catalog
    from permissions.roles import builtin_role
    from workspaces.sites.services import site_grant_set

    viewer = builtin_role(catalog.SITE_VIEWER, catalog.SITE)
    for membership in members:
        site_grant_set(actor=owner, site=site, membership=membership, role=viewer)


def _add_events(workspace, count: int) -> None:
    """``count`` audit events of ``workspace``, one a second back from now, in one statement."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO audit_auditevent (workspace_id, workspace_name, actor_email, action, target_type,"
                " target_id, target_repr, created_at)"
                " SELECT %s, %s, 'owner@bench.test', 'member.role_change', 'membership', g::text,"
                " 'Person ' || g, now() - make_interval(secs => g) FROM generate_series(1, %s) AS g",
                [workspace.pk, workspace.name, count],
            )
        else:
            cursor.execute(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %s)"
                " INSERT INTO audit_auditevent (workspace_id, workspace_name, actor_email, action, target_type,"
                " target_id, target_repr, created_at)"
                " SELECT %s, %s, 'owner@bench.test', 'member.role_change', 'membership', n, 'Person ' || n,"
                " strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || n || ' seconds') FROM g",
                [count, workspace.pk, workspace.name],
            )


def _analyze() -> None:
    """Fresh planner statistics after the bulk inserts, as autovacuum would give a live database."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- measuring ------------------------------------------------------------------------------------


def _get(client, url: str, params: dict) -> tuple[float, int, int]:
    """(milliseconds, queries, bytes) of one GET, its body read whole (streamed or not)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url, params)
        # A stream is read and dropped chunk by chunk, as a client writing it to a file would: the
        # memory measured is the server's, not a copy of the whole body.
        size = sum(len(chunk) for chunk in response.streaming_content) if response.streaming else len(response.content)
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, params, response.status_code)
    return elapsed * 1000, len(queries), size


def _median_get(client, url: str, params: dict, repeat: int) -> tuple[float, int, int]:
    _get(client, url, params)  # warm-up
    runs = [_get(client, url, params) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), runs[0][1], runs[0][2]


def _export(client, url: str, rows: int, repeat: int) -> list[tuple[str, str]]:
    """The export's rows per second (median of up to three runs) and Python's peak allocation."""
    runs = [_get(client, url, {}) for _ in range(min(repeat, 3))]
    ms = statistics.median(r[0] for r in runs)
    tracemalloc.start()
    _get(client, url, {})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return [
        ("export.csv: rows/s", f"{rows / (ms / 1000):,.0f}", runs[0][1], runs[0][2]),
        ("export.csv: peak Python memory KB", f"{peak / 1024:,.0f}", "", ""),
        ("export.csv: total ms", f"{ms:,.1f}", "", ""),
    ]


def _bulk_role_change(owner, workspace, members, repeat: int) -> tuple[float, int]:
    """Median milliseconds and queries of moving BULK_CHANGE members to Viewer and back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from permissions import catalog
    from permissions.roles import builtin_role
    from workspaces.people.bulk import members_change_role

    chosen = [m.pk for m in members[:BULK_CHANGE]]
    roles = [builtin_role(catalog.VIEWER), builtin_role(catalog.MEMBER)]
    runs = []
    for n in range(min(repeat, 3) * 2):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            members_change_role(actor=owner, workspace=workspace, member_ids=chosen, role=roles[n % 2])
            runs.append(((time.perf_counter() - start) * 1000, len(queries)))
    return statistics.median(r[0] for r in runs), runs[0][1]


def _requests(workspace, site, team) -> list[tuple[str, str, dict]]:
    from django.urls import reverse

    slug = workspace.slug
    people = reverse("people:index", args=[slug])
    return [
        ("people page", people, {}),
        ("people: search contains 'son 0001'", people, {"q": "son 0001"}),
        ("people: search prefix 'person0001'", people, {"q": "person0001"}),
        ("people: role + team filter", people, {"role": _member_role_id(), "team": team.pk}),
        ("people: page 20 by name", people, {"sort": "name", "page": "20"}),
        ("sites list", reverse("workspaces:detail", args=[slug]), {}),
        ("teams list", reverse("teams:index", args=[slug]), {}),
        ("team members", reverse("teams:detail", args=[slug, team.pk]), {}),
        ("site access", reverse("site_access:index", args=[slug, site.slug]), {}),
        ("activity", reverse("activity:index", args=[slug]), {}),
    ]


def _member_role_id() -> int:
    from permissions import catalog
    from permissions.roles import builtin_role

    return builtin_role(catalog.MEMBER).pk


def _run_backend(backend: str, sizes: list[int], args) -> None:
    if backend == "postgresql":
        _prepare_postgres(POSTGRES_URL)
        _setup_django(POSTGRES_URL)
    else:
        tmp = tempfile.mkdtemp()
        _setup_django(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
    from django.test import Client
    from django.urls import reverse

    for size in sizes:
        owner, workspace, site, team, members = _workspace(size, args.teams, args.sites)
        if size == max(sizes) and args.events:
            _add_events(workspace, args.events)
        _analyze()
        client = Client(SERVER_NAME="127.0.0.1")  # an allowed host; "testserver" is not one
        client.force_login(owner)
        rows = [
            (label, *_median_get(client, url, params, args.repeat))
            for label, url, params in _requests(workspace, site, team)
        ]
        for label, ms, queries, size_bytes in rows:
            _print(args, backend, size, label, f"{ms:,.1f}", queries, f"{size_bytes / 1024:,.1f}")
        for label, value, queries, size_bytes in _export(
            client, reverse("people:export_csv", args=[workspace.slug]), size, args.repeat
        ):
            _print(args, backend, size, label, value, queries, f"{size_bytes / 1024:,.0f}" if size_bytes else "")
        if not args.no_bulk:
            ms, queries = _bulk_role_change(owner, workspace, members, args.repeat)
            _print(
                args, backend, size, f"bulk role change of {min(BULK_CHANGE, size - 1):,}", f"{ms:,.1f}", queries, ""
            )
        if size == max(sizes) and args.events:
            print(f"{'':<10} {'':>8} (activity measured with {args.events:,} events in the workspace)", flush=True)


def _print(args, backend, size, label, value, queries, kb) -> None:
    if args.markdown:
        print(f"| {backend} | {size:,} | {label} | {value} | {queries} | {kb} |", flush=True)
    else:
        print(f"{backend:<10} {size:>8,} {label:<34} {value:>10} {queries!s:>8} {kb:>9}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true", help="only SQLite")
    parser.add_argument("--postgres", action="store_true", help="only PostgreSQL")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--sites", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=1_000_000, help="audit events in the largest workspace")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="print rows of a Markdown table")
    parser.add_argument("--with-invite-bulk", action="store_true", help="then run benchmarks/bulk_invite.py")
    parser.add_argument("--no-bulk", action="store_true", help="skip the bulk role change")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        _run_backend(args.backend, sorted(args.sizes), args)
        return
    backends = ["sqlite"] * (not args.postgres) + ["postgresql"] * (not args.sqlite)
    if args.markdown:
        print("| backend | members | request | median ms (or figure) | queries | KB |", flush=True)
        print("| --- | ---: | --- | ---: | ---: | ---: |", flush=True)
    else:
        print(HEADER, flush=True)
    passed = [a for a in sys.argv[1:] if a not in ("--sqlite", "--postgres", "--with-invite-bulk")]
    for backend in backends:
        # One process per backend: Django's settings and connections are set once per process.
        subprocess.run([sys.executable, __file__, "--backend", backend, *passed], check=True)
    if args.with_invite_bulk:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bulk_invite.py"), "--rows", "100000"], check=True)


if __name__ == "__main__":
    main()
