"""How long do the people page's bulk actions take for 1,000 members? The whole request (the POST
of "all matching the filter", the service, the report kept in the session), its queries, and how
long the batch held its locks, on SQLite or PostgreSQL.

    .venv/bin/python benchmarks/people_bulk.py                      # SQLite, in a scratch file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_people_bulk \\
        .venv/bin/python benchmarks/people_bulk.py                  # PostgreSQL (migrated first)

One workspace with its owner made through the services and ``--members`` others inserted with
``bulk_create`` (members, each with a row in the Member role's group), then, as the owner, with
Django's test client: every Member → Viewer, every Viewer → Member again, every member added to a
team, every member promoted to Owner (the batch that takes the accounts' and the workspace's
locks), and finally every other owner removed. Target: a role change of 1,000 under 5 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
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
    from permissions import catalog, materialize
    from permissions.roles import builtin_role
    from workspaces.models import Membership
    from workspaces.overview.services import workspace_create
    from workspaces.teams.services import team_create

    stamp = int(time.time())
    owner = User.objects.create_user(email=f"owner{stamp}@bench.test", password=None, full_name="Olivia Owner")
    workspace = workspace_create(actor=owner, creator=owner, name=f"Bulk bench {stamp}")
    users = User.objects.bulk_create(
        User(email=f"p{n:05d}.{stamp}@bench.test", full_name=f"Person {n:05d}", password="!") for n in range(size)
    )
    role = builtin_role(catalog.MEMBER)
    Membership.objects.bulk_create(Membership(workspace=workspace, user=u, role=role) for u in users)
    materialize.join_role_group_many([u.pk for u in users], workspace, role, [])
    team = team_create(actor=None, workspace=workspace, name="Growth")
    return owner, workspace, team


def _post(client, url: str, data: dict) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.post(url, data)
        elapsed = time.perf_counter() - start
    assert response.status_code == 302 and "report" in response.url, (response.status_code, response.url)
    return elapsed, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _setup(os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from permissions import catalog
        from permissions.roles import builtin_role
        from workspaces.models import Membership

        owner, workspace, team = _workspace(args.members)
        client = Client()
        client.force_login(owner)
        url = reverse("people:bulk_members", args=[workspace.slug])
        member, viewer, owner_role = (builtin_role(k) for k in (catalog.MEMBER, catalog.VIEWER, catalog.OWNER))
        steps = [
            ("Member → Viewer", {"action": "role", "new_role": viewer.pk, "filter": f"role={member.pk}"}),
            ("Viewer → Member", {"action": "role", "new_role": member.pk, "filter": f"role={viewer.pk}"}),
            ("add to a team", {"action": "team_add", "bulk_team": team.pk, "filter": f"role={member.pk}"}),
            ("Member → Owner", {"action": "role", "new_role": owner_role.pk, "filter": f"role={member.pk}"}),
            ("remove them", {"action": "remove", "filter": f"role={owner_role.pk}&q=person"}),
        ]
        print(f"{connection.vendor}, {args.members:,} members selected by the filter")
        print(f"{'action':<20} {'seconds':>8} {'queries':>8}")
        for label, data in steps:
            seconds, queries = _post(client, url, {"scope": "all", **data})
            print(f"{label:<20} {seconds:>8.2f} {queries:>8}")
        assert Membership.objects.filter(workspace=workspace).count() == 1  # only the acting owner is left


if __name__ == "__main__":
    main()
