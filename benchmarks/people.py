"""How does the people page cost grow with the members? Server time, queries and HTML bytes of the
page, a search and the CSV export, at 100 and 10,000 members, on SQLite.

    .venv/bin/python benchmarks/people.py
    .venv/bin/python benchmarks/people.py --sizes 100 2001 10000 --repeat 7

The benchmark builds a scratch SQLite database in a temporary file (WAL, as in production), one
workspace per size with its owner made through the services and the other members inserted with
``bulk_create`` (a tenth of them in a team), and asks for each page with Django's test client as
the owner: the median of ``--repeat`` runs, after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup(path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)


def _workspace(size: int):
    from accounts.models import User
    from permissions import catalog
    from permissions.roles import builtin_role
    from workspaces.models import Membership, TeamMembership
    from workspaces.overview.services import workspace_create
    from workspaces.teams.services import team_create

    owner = User.objects.create_user(email=f"owner{size}@bench.test", password=None, full_name="Olivia Owner")
    workspace = workspace_create(actor=owner, creator=owner, name=f"Bench {size}")
    users = User.objects.bulk_create(
        User(email=f"person{n:05d}.{size}@bench.test", full_name=f"Person {n:05d}", password="!")
        for n in range(size - 1)
    )
    role = builtin_role(catalog.MEMBER)
    members = Membership.objects.bulk_create(Membership(workspace=workspace, user=u, role=role) for u in users)
    team = team_create(actor=None, workspace=workspace, name="Growth")
    TeamMembership.objects.bulk_create(TeamMembership(team=team, membership=m) for m in members[::10])
    return owner, workspace


def _measure(client, url: str, params: dict, repeat: int) -> tuple[float, int, int]:
    """(median milliseconds, queries, bytes) of one GET, body read whole (streamed or not)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def one() -> tuple[float, int, int]:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url, params)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.status_code
        return elapsed * 1000, len(queries), len(body)

    one()  # warm-up
    runs = [one() for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), runs[0][1], runs[0][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _setup(str(Path(tmp) / "bench.sqlite3"))
        from django.test import Client
        from django.urls import reverse

        print(f"{'members':>8} {'request':<22} {'median ms':>10} {'queries':>8} {'bytes':>10}")
        for size in args.sizes:
            owner, workspace = _workspace(size)
            client = Client()
            client.force_login(owner)
            people = reverse("people:index", args=[workspace.slug])
            export = reverse("people:export_csv", args=[workspace.slug])
            for label, url, params in (
                ("page", people, {}),
                ("search 'person 0001'", people, {"q": "person 0001"}),
                ("page 20, by name", people, {"sort": "name", "page": "20"}),
                ("export.csv, all", export, {}),
            ):
                ms, queries, size_bytes = _measure(client, url, params, args.repeat)
                print(f"{size:>8} {label:<22} {ms:>10.1f} {queries:>8} {size_bytes:>10,}")


if __name__ == "__main__":
    main()
