"""How fast is ``manage.py invite_bulk`` for 10,000 new addresses, against a plain bulk_create?

    .venv/bin/python benchmarks/bulk_invite.py              # SQLite and PostgreSQL
    .venv/bin/python benchmarks/bulk_invite.py --sqlite     # one of them
    .venv/bin/python benchmarks/bulk_invite.py --postgres

Each backend runs in its own process against its own scratch database, which the benchmark
(re)creates: SQLite in a temporary file (WAL, as in production), PostgreSQL in
``portal_bench_bulk`` on the local server (override with BENCH_POSTGRES_URL). The command runs with
``--no-email`` on a generated CSV file; the reference is ``Invite.objects.bulk_create`` of the same
10,000 rows (objects built inside the timing, as the command must), rolled back afterwards. Each is
timed ``--repeat`` times, each time in a new workspace, and the median is reported.

Target: the whole command under 2 s and within 3x the plain insert.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_bulk")
TARGET_SECONDS, TARGET_RATIO = 2.0, 3.0


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


def _time_command(workspace, path: Path) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds)."""
    from django.core.management import call_command

    start, cpu = time.perf_counter(), time.process_time()
    call_command("invite_bulk", "--workspace", workspace.slug, "--file", str(path), "--no-email", verbosity=0)
    return time.perf_counter() - start, time.process_time() - cpu


def _time_plain_insert(workspace, prefix: str, rows: int) -> float:
    """bulk_create of the same rows (built inside the timing), rolled back so nothing stays."""
    import hashlib
    import secrets
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from permissions.roles import builtin_role
    from workspaces.models import Invite

    member = builtin_role("member")
    with transaction.atomic():
        start = time.perf_counter()
        now = timezone.now()
        Invite.objects.bulk_create(
            [
                Invite(
                    workspace=workspace,
                    email=f"{prefix}.person{i}@example.com",
                    role=member,
                    token_hash=hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest(),
                    created_at=now,
                    sent_at=now,
                    expires_at=now + timedelta(days=7),
                    send_count=0,
                )
                for i in range(rows)
            ]
        )
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


def run_backend(url: str, rows: int, repeat: int) -> None:
    _setup_django(url)
    from django.db import connection

    from tests.factories import UserFactory, make_workspace

    owner = UserFactory(email="bench-owner@example.com")
    commands, command_cpu, inserts = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        warmup = make_workspace(owner, "Warm-up")
        _write_csv(Path(tmp) / "warmup.csv", "warmup", 100)
        _time_command(warmup, Path(tmp) / "warmup.csv")
        for n in range(repeat):
            workspace = make_workspace(owner, f"Bench {n}")
            path = Path(tmp) / f"people{n}.csv"
            _write_csv(path, f"run{n}", rows)
            inserts.append(_time_plain_insert(workspace, f"run{n}", rows))
            wall, cpu = _time_command(workspace, path)
            commands.append(wall)
            command_cpu.append(cpu)
    command, insert = statistics.median(commands), statistics.median(inserts)
    ratio = command / insert
    verdict = "OK" if command < TARGET_SECONDS and ratio <= TARGET_RATIO else "MISSED"
    print(
        f"{connection.vendor:<10} invite_bulk --no-email {rows:,} rows: {command:.2f} s (median of {repeat}); "
        f"plain bulk_create: {insert:.2f} s; ratio {ratio:.1f}x  [{verdict}: < {TARGET_SECONDS:.0f} s and "
        f"<= {TARGET_RATIO:.0f}x]"
    )
    # On a busy machine wall time mostly measures the wait for a CPU; this process's own CPU time
    # (which for SQLite includes the database work) shows what the command itself costs.
    print(
        f"{'':<10} command CPU time in this process: {statistics.median(command_cpu):.2f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help=argparse.SUPPRESS)  # the child process's database
    args = parser.parse_args()
    if args.url:
        run_backend(args.url, args.rows, args.repeat)
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
            cmd = [sys.executable, __file__, "--url", url, "--rows", str(args.rows), "--repeat", str(args.repeat)]
            subprocess.run(cmd, check=True, cwd=ROOT)
        finally:
            if backend == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(path + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
