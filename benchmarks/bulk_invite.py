"""``manage.py invite_bulk`` at several sizes: time, peak memory, and how long a concurrent role
change waits for it.

    .venv/bin/python benchmarks/bulk_invite.py                          # SQLite and PostgreSQL
    .venv/bin/python benchmarks/bulk_invite.py --sqlite --rows 10000    # one backend, one size
    .venv/bin/python benchmarks/bulk_invite.py --postgres --rows 10000 --rows 100000

Each (backend, size) runs in its own process, so that the process's peak resident memory belongs
to that run alone, against a scratch database the benchmark (re)creates: SQLite in a temporary file
(WAL, as in production), PostgreSQL in ``portal_bench_bulk`` on the local server (override with
BENCH_POSTGRES_URL). The command runs with ``--no-email`` on a generated CSV file of new addresses.

While it runs, another thread (its own database connection) changes a member's role between Admin
and Owner over and over: a change touching the Owner role locks the workspace, as every invitation
write did for the whole import before. The longest and the median of those role changes are
reported, with how many ran during the import.

Reported per run: the command's wall time; its peak memory, as the growth of the process's peak
resident set size (``ru_maxrss``) over what it was just before the command; and the role changes.
Targets: 100,000 rows under 300 MB, and on PostgreSQL every concurrent role change under 1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_bulk")
TARGET_MB, TARGET_WAIT = 300, 1.0


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

    call_command("migrate", verbosity=0)


def _write_csv(path: Path, prefix: str, rows: int) -> None:
    with path.open("w") as f:
        f.write("email,role\n")
        f.writelines(f"{prefix}.person{i}@example.com,{'viewer' if i % 3 == 0 else 'member'}\n" for i in range(rows))


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def run_one(url: str, rows: int) -> None:
    _setup_django(url)
    from django.core.management import call_command
    from django.db import OperationalError, connection, connections

    from permissions import catalog
    from permissions.roles import builtin_role
    from tests.factories import UserFactory, add_member, make_workspace
    from workspaces.people.services import member_change_role

    owner = UserFactory(email=f"owner.{rows}@bench.test")  # one database serves every size
    workspace = make_workspace(owner, f"Bench {rows}")
    member = add_member(workspace, catalog.ADMIN, UserFactory(email=f"admin.{rows}@bench.test"))
    owner_role, admin_role = builtin_role(catalog.OWNER), builtin_role(catalog.ADMIN)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "people.csv"
        _write_csv(path, f"r{rows}", rows)
        done, waits, refused, failure = threading.Event(), [], [], []

        def import_file():
            try:
                call_command(
                    "invite_bulk", "--workspace", workspace.slug, "--file", str(path), "--no-email", verbosity=0
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                failure.append(exc)
            finally:
                connections.close_all()
                done.set()

        def change_roles():
            role = owner_role
            try:
                while not done.is_set():
                    start = time.perf_counter()
                    try:
                        member_change_role(actor=None, membership=member, role=role)
                    except OperationalError:  # SQLite: "database is locked" after its busy timeout
                        refused.append(time.perf_counter() - start)
                        continue
                    waits.append(time.perf_counter() - start)  # started while the import ran
                    member.refresh_from_db()
                    role = admin_role if role is owner_role else owner_role
                    time.sleep(0.02)
            finally:
                connections.close_all()

        rss_before = _max_rss_mb()
        start = time.perf_counter()
        importer = threading.Thread(target=import_file)
        changer = threading.Thread(target=change_roles)
        importer.start()
        changer.start()
        importer.join()
        elapsed = time.perf_counter() - start
        changer.join()
        peak = _max_rss_mb() - rss_before
    if failure:
        raise failure[0]
    longest = max(waits + refused, default=0.0)
    median = statistics.median(waits) if waits else 0.0
    verdict_mb = "" if rows < 100_000 else (" OK" if peak < TARGET_MB else " MISSED")
    verdict_wait = ""
    if connection.vendor == "postgresql":
        verdict_wait = " OK" if waits and not refused and longest < TARGET_WAIT else " MISSED"
    print(
        f"{connection.vendor:<10} {rows:>7,} rows: {elapsed:6.2f} s, peak memory +{peak:5.0f} MB{verdict_mb}; "
        f"role changes meanwhile: {len(waits)}, longest {longest:.2f} s{verdict_wait}, median {median:.3f} s"
        + (f"; {len(refused)} refused after waiting (database is locked)" if refused else "")
    )
    print(f"{'':<10} load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--rows", type=int, action="append", help="rows per file (repeatable); default 10,000 and 100,000"
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)  # the child process's database
    args = parser.parse_args()
    sizes = args.rows or [10_000, 100_000]
    if args.url:
        run_one(args.url, sizes[0])
        return
    backends = [b for b in ("sqlite", "postgres") if getattr(args, b)] or ["sqlite", "postgres"]
    for backend in backends:
        if backend == "sqlite":
            handle, path = tempfile.mkstemp(prefix="portal_bench_bulk_", suffix=".sqlite3")
            os.close(handle)
            url = f"sqlite:///{path}"
        else:
            _prepare_postgres(POSTGRES_URL)
            url = POSTGRES_URL
        try:
            for rows in sizes:
                subprocess.run([sys.executable, __file__, "--url", url, "--rows", str(rows)], check=True, cwd=ROOT)
        finally:
            if backend == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(path + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
