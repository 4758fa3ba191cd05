"""How fast the permission layer answers, on a scratch database. Not a test: run it by hand.

    .venv/bin/python benchmarks/permissions.py                      # SQLite, in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python benchmarks/permissions.py

With PostgreSQL, Django's test machinery creates and drops ``test_<name>`` beside the database the URL
names, so the named database itself is never touched. Prints:

- one check, cold (a fresh ``Access``: two queries) and warm (a reused ``Access``: cached);
- checks per second through the batch API (POST /api/v1/check with 1,000 checks), against the same
  1,000 checks asked one GET at a time;
- the visible-sites query at 10,000 sites (``Access.filter("view_site")`` evaluated), against the
  naive way: one guardian ``user.has_perm`` per site (timed on 2,000 sites and scaled to 10,000).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)

SITES = 10_000
PEOPLE = 50
GRANTS_PER_PERSON = 10
EXPERIENCES = 200
BATCH = 1_000
NAIVE_SAMPLE = 2_000


def timed(function, repeat: int) -> list[float]:
    """Seconds per call, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured.captured_queries)


def build():
    """A workspace with SITES sites, PEOPLE Members with Editor grants, a Viewer, and experiences.

    Sites are bulk-inserted and their role-group rows written in one pass per role (what the
    services would write one site at a time); everything with rules goes through the services.
    """
    from accounts.models import User
    from permissions import catalog, materialize
    from permissions.keys import key_create
    from permissions.models import RoleGroup
    from permissions.roles import builtin_role
    from workspaces.experiences.services import experience_create
    from workspaces.models import Site
    from workspaces.overview.services import workspace_create
    from workspaces.people.services import member_add
    from workspaces.sites.services import site_grant_set

    owner = User.objects.create_user("owner@bench.test")
    workspace = workspace_create(actor=owner, creator=owner, name="Bench")
    owner_membership = workspace.memberships.get()
    member_role, viewer_role = builtin_role(catalog.MEMBER), builtin_role(catalog.VIEWER)
    people = [
        member_add(workspace=workspace, user=User.objects.create_user(f"member{n}@bench.test"), role=member_role)
        for n in range(PEOPLE)
    ]
    viewer = member_add(workspace=workspace, user=User.objects.create_user("viewer@bench.test"), role=viewer_role)
    Site.objects.bulk_create(
        [Site(workspace=workspace, name=f"Site {n}", slug=f"site-{n}", owner=owner_membership) for n in range(SITES)],
        batch_size=2_000,
    )
    for role_group in RoleGroup.objects.filter(workspace=workspace).select_related("role"):
        materialize.refresh_role_group(role_group)
    sites = list(Site.objects.filter(workspace=workspace).order_by("id"))
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    for n, membership in enumerate(people):
        for k in range(GRANTS_PER_PERSON):
            site = sites[(n * GRANTS_PER_PERSON + k) * 7 % SITES]
            site_grant_set(actor=None, site=site, role=editor, membership=membership)
    experiences = [
        experience_create(actor=people[n % PEOPLE].user, workspace=workspace, title=f"Experience {n}")
        for n in range(EXPERIENCES)
    ]
    raw_key = key_create(actor=None, workspace=workspace, name="Benchmark")[1]
    return {
        "workspace": workspace,
        "people": [m.user for m in people],
        "viewer": viewer.user,
        "sites": sites,
        "experiences": experiences,
        "key": raw_key,
    }


def batch_of_checks(data) -> list[dict]:
    """BATCH questions across people, sites and experiences: a third of each scope, mixed answers."""
    people, sites, experiences = data["people"], data["sites"], data["experiences"]
    checks = []
    for n in range(BATCH):
        email = people[n % len(people)].email
        if n % 3 == 0:
            checks.append({"user": email, "permission": ("add_experience", "invite_members")[n % 2]})
        elif n % 3 == 1:
            checks.append({"user": email, "permission": "change_dashboards", "site": sites[n * 7 % SITES].slug})
        else:
            experience = experiences[n % len(experiences)].pk
            checks.append({"user": email, "permission": "change_experience", "experience": experience})
    return checks


def report(label: str, seconds: float, extra: str = "") -> None:
    shown = f"{seconds * 1e6:>10.1f} µs" if seconds < 1e-3 else f"{seconds * 1000:>10.1f} ms"
    print(f"  {label:<58} {shown}  {extra}")


def n_queries(count: int) -> str:
    return f"{count:,} {'query' if count == 1 else 'queries'}"


def bench_single_check(data) -> None:
    from permissions.policy import Access

    person, site = data["people"][0], data["sites"][0]
    print("One check: Access(user).has('view_site', site)")
    cold_queries = queries(lambda: Access(person).has("view_site", site))
    cold = timed(lambda: Access(person).has("view_site", site), 500)
    report("cold (fresh Access each time)", statistics.median(cold), n_queries(cold_queries))
    access = Access(person)
    access.has("view_site", site)
    warm_queries = queries(lambda: access.has("view_site", site))
    warm = timed(lambda: access.has("view_site", site), 10_000)
    report("warm (reused Access)", statistics.median(warm), n_queries(warm_queries))


def bench_batch_api(data) -> None:
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {data['key']}"}
    checks = batch_of_checks(data)
    body = json.dumps({"checks": checks})

    def batch():
        response = client.post("/api/v1/check", body, content_type="application/json", **auth)
        assert response.status_code == 200, response.content
        return response

    results = batch().json()["results"]
    print(f"Batch API: POST /api/v1/check with {BATCH} checks ({sum(results)} allowed)")
    batch_queries = queries(batch)
    times = timed(batch, 20)
    per_request = statistics.median(times)
    report("one request", per_request, f"{n_queries(batch_queries)}, {BATCH / per_request:,.0f} checks/s")

    def one_by_one():
        for check in checks:
            response = client.get("/api/v1/check", check, **auth)
            assert response.status_code == 200

    naive_queries = queries(one_by_one)
    naive = statistics.median(timed(one_by_one, 1))
    report(
        f"naive: {BATCH} GET requests",
        naive,
        f"{n_queries(naive_queries)}, {BATCH / naive:,.0f} checks/s, batch is {naive / per_request:.1f}x faster",
    )


def bench_visible_sites(data) -> None:
    from workspaces.models import Site

    sites = Site.objects.filter(workspace=data["workspace"])
    print(f"Visible sites among {SITES:,}: Access(user).filter('view_site', sites) evaluated")
    _visible_sites_for("Viewer (role group: every site)", data["viewer"], sites)
    _visible_sites_for(f"Member ({GRANTS_PER_PERSON} own grants)", data["people"][0], sites)


def _visible_sites_for(label: str, person, sites) -> None:
    from accounts.models import User
    from permissions.policy import Access

    def visible():
        return list(Access(person).filter("view_site", sites))

    def visible_ids():
        return list(Access(person).filter("view_site", sites).values_list("id", flat=True))

    count = len(visible())
    fast = statistics.median(timed(visible, 5))
    report(f"{label}: {count:,} visible", fast, n_queries(queries(visible)))
    report("  the same, ids only (no model instances)", statistics.median(timed(visible_ids, 5)))

    # The naive way is timed on a sample and scaled: run in full it takes minutes.
    fresh = User.objects.get(pk=person.pk)  # no permission cache carried over
    sample = list(sites.order_by("id")[:: SITES // NAIVE_SAMPLE])
    scale = SITES / len(sample)

    def naive():
        return [site for site in sample if fresh.has_perm("workspaces.view_site", site)]

    naive_queries = queries(naive)
    start = time.perf_counter()
    found = naive()
    slow = (time.perf_counter() - start) * scale
    sample_ids = {site.pk for site in sample}
    assert {site.pk for site in found} == {site.pk for site in visible()} & sample_ids, "naive and filter disagree"
    report(
        f"  naive: user.has_perm per site (x{scale:g} of {len(sample):,})",
        slow,
        f"~{n_queries(int(naive_queries * scale))}, filter is {slow / fast:,.0f}x faster",
    )


def main() -> None:
    setup_test_environment()
    scratch = None
    if connection.vendor == "sqlite":
        # A file, not SQLite's in-memory test database, so the figures include real I/O.
        scratch = tempfile.TemporaryDirectory(prefix="portal-bench-")
        connection.settings_dict["TEST"]["NAME"] = str(Path(scratch.name) / "bench.sqlite3")
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
        start = time.perf_counter()
        with transaction.atomic():  # one commit, not one per service call
            data = build()
        if connection.vendor == "postgresql":
            # Autovacuum would have gathered planner statistics on a live database. SQLite gathers
            # none unless asked, and Django never asks, so it is left as it would be.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - start
        print(f"Setup: {SITES:,} sites, {PEOPLE + 2} people, {EXPERIENCES} experiences in {elapsed:.1f} s")
        print(f"Stored site permission rows: {_site_rows():,}")
        print()
        bench_single_check(data)
        print()
        bench_batch_api(data)
        print()
        bench_visible_sites(data)
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
        if scratch is not None:
            scratch.cleanup()


def _site_rows() -> int:
    from permissions.models import SiteGroupPermission, SiteUserPermission

    return SiteGroupPermission.objects.count() + SiteUserPermission.objects.count()


if __name__ == "__main__":
    main()
