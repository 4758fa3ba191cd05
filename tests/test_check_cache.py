"""The check API's answer cache (permissions/check_cache.py) and the access version that keys it
(permissions/access_version.py): every kind of change, once committed, is answered at once, from
the refused side, whatever path made it (services, bulk updates, raw SQL), and in another process."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.access_version import TABLES
from permissions.keys import key_create, key_revoke
from permissions.models import AccessKey, AccessVersion, SiteGroupPermission, SiteUserPermission
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team
from twofactor.services import two_factor_requirement_set
from workspaces.experiences.services import collaborator_add, collaborator_remove
from workspaces.models import Membership, Site
from workspaces.people.deactivation import account_deactivate, account_reactivate
from workspaces.people.services import member_change_role, member_remove
from workspaces.sites.services import site_delete, site_grant_revoke, site_grant_set
from workspaces.teams.services import team_add_member, team_remove_member

URL = "/api/v1/check"
ROOT = Path(__file__).resolve().parent.parent
# A Redis database the test empties: one of its own for each suite that runs at the same time
# (.ci/run runs the SQLite and the PostgreSQL suite side by side).
REDIS_URL = os.environ.get("TEST_CHECK_CACHE_REDIS_URL", "redis://127.0.0.1:6379/14")
WARM_SINGLE_QUERIES = 2  # the key with its workspace's access version, the day's count


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def raw_key(workspace):
    return key_create(actor=None, workspace=workspace, name="Platform")[1]


def allowed(client, raw, **question) -> bool:
    response = client.get(URL, question, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200, response.content
    return response.json()["allowed"]


def cached_true(client, raw, django_assert_num_queries, **question):
    """Asked twice: allowed, and the second answer came from the cache."""
    assert allowed(client, raw, **question)
    with django_assert_num_queries(WARM_SINGLE_QUERIES):
        assert allowed(client, raw, **question)


def test_every_table_a_check_reads_has_its_triggers(db):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT event_object_table FROM information_schema.triggers")
            tables = {row[0] for row in cursor.fetchall()}
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
            tables = {row[0] for row in cursor.fetchall()}
    assert set(TABLES) <= tables


def test_a_warm_single_check_costs_two_queries(client, workspace, raw_key, django_assert_num_queries):
    cached_true(client, raw_key, django_assert_num_queries, user="owner@acme.test", permission="view_workspace")


def test_a_workspace_change_bumps_its_version_only(workspace):
    other = make_workspace_with_member()
    before = dict(AccessVersion.objects.values_list("workspace_id", "version"))
    add_member(workspace, catalog.VIEWER)
    after = dict(AccessVersion.objects.values_list("workspace_id", "version"))
    assert after[workspace.pk] > before[workspace.pk]
    assert after[other.pk] == before[other.pk]


def make_workspace_with_member():
    from tests.factories import make_workspace

    other = make_workspace(UserFactory(email="boss@other.test"), "Other")
    add_member(other, catalog.MEMBER)
    return other


# -- each kind of change, from the refused side --------------------------------------------------


def test_member_removed(client, workspace, raw_key, django_assert_num_queries):
    member = add_member(workspace, catalog.MEMBER)
    cached_true(client, raw_key, django_assert_num_queries, user=member.user.email, permission="add_experience")
    member_remove(actor=None, membership=member)
    assert not allowed(client, raw_key, user=member.user.email, permission="add_experience")


def test_role_lowered(client, workspace, raw_key, django_assert_num_queries):
    member = add_member(workspace, catalog.MEMBER)
    cached_true(client, raw_key, django_assert_num_queries, user=member.user.email, permission="add_experience")
    member_change_role(actor=None, membership=member, role=builtin_role(catalog.VIEWER))
    assert not allowed(client, raw_key, user=member.user.email, permission="add_experience")


def test_membership_deleted_by_a_queryset_that_skips_every_signal(
    client, workspace, raw_key, django_assert_num_queries
):
    member = add_member(workspace, catalog.MEMBER)
    cached_true(client, raw_key, django_assert_num_queries, user=member.user.email, permission="add_experience")
    Membership.objects.filter(pk=member.pk).delete()  # a queryset delete: no service, no signal needed
    assert not allowed(client, raw_key, user=member.user.email, permission="add_experience")


def test_site_grant_revoked(client, workspace, raw_key, django_assert_num_queries):
    site = make_site(workspace, "Shop")
    viewer = add_member(workspace, catalog.VIEWER)
    grant = site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=viewer)
    question = {"user": viewer.user.email, "permission": "change_dashboards", "site": site.slug}
    cached_true(client, raw_key, django_assert_num_queries, **question)
    site_grant_revoke(actor=None, grant=grant)
    assert not allowed(client, raw_key, **question)


def test_derived_rows_deleted_with_raw_sql(client, workspace, raw_key, django_assert_num_queries):
    site = make_site(workspace, "Shop")
    viewer = add_member(workspace, catalog.VIEWER)
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=viewer)
    question = {"user": viewer.user.email, "permission": "change_dashboards", "site": site.slug}
    cached_true(client, raw_key, django_assert_num_queries, **question)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SiteUserPermission._meta.db_table} WHERE user_id = %s", [viewer.user_id])
    assert not allowed(client, raw_key, **question)


def test_team_member_removed(client, workspace, raw_key, django_assert_num_queries):
    site = make_site(workspace, "Shop")
    team = make_team(workspace, "Growth")
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), team=team)
    viewer = add_member(workspace, catalog.VIEWER)
    team_add_member(actor=None, team=team, membership=viewer)
    question = {"user": viewer.user.email, "permission": "change_dashboards", "site": site.slug}
    cached_true(client, raw_key, django_assert_num_queries, **question)
    team_remove_member(actor=None, team=team, membership=viewer)
    assert not allowed(client, raw_key, **question)


def test_team_grant_rows_deleted_in_bulk(client, workspace, raw_key, django_assert_num_queries):
    site = make_site(workspace, "Shop")
    team = make_team(workspace, "Growth")
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), team=team)
    viewer = add_member(workspace, catalog.VIEWER)
    team_add_member(actor=None, team=team, membership=viewer)
    question = {"user": viewer.user.email, "permission": "change_dashboards", "site": site.slug}
    cached_true(client, raw_key, django_assert_num_queries, **question)
    SiteGroupPermission.objects.filter(group=team.group)._raw_delete(connection.alias)
    assert not allowed(client, raw_key, **question)


def test_custom_role_capability_removed(client, workspace, raw_key, django_assert_num_queries):
    role = role_save(
        actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="Builders", capabilities={"add_experience"}
    )
    member = add_member(workspace, catalog.VIEWER)
    member_change_role(actor=None, membership=member, role=role)
    cached_true(client, raw_key, django_assert_num_queries, user=member.user.email, permission="add_experience")
    role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Builders",
        capabilities={"view_workspace"},
        role=role,
    )
    assert not allowed(client, raw_key, user=member.user.email, permission="add_experience")


def test_account_deactivated_and_reactivated(client, workspace, raw_key, django_assert_num_queries):
    member = add_member(workspace, catalog.MEMBER)
    question = {"user": member.user.email, "permission": "add_experience"}
    cached_true(client, raw_key, django_assert_num_queries, **question)
    account_deactivate(actor=None, user=member.user)
    assert not allowed(client, raw_key, **question)
    account_reactivate(actor=None, user=User.objects.get(pk=member.user_id))
    assert allowed(client, raw_key, **question)


def test_address_changed(client, workspace, raw_key, django_assert_num_queries):
    member = add_member(workspace, catalog.MEMBER)
    old = member.user.email
    cached_true(client, raw_key, django_assert_num_queries, user=old, permission="add_experience")
    User.objects.filter(pk=member.user_id).update(email="new-address@acme.test")
    assert not allowed(client, raw_key, user=old, permission="add_experience")


def test_two_factor_required_without_a_device(client, workspace, owner, raw_key, django_assert_num_queries):
    member = add_member(workspace, catalog.MEMBER)
    question = {"user": member.user.email, "permission": "add_experience"}
    cached_true(client, raw_key, django_assert_num_queries, **question)
    TOTPDevice.objects.create(user=owner, name="app", confirmed=True)
    two_factor_requirement_set(actor=None, workspace=workspace, required=True)
    assert not allowed(client, raw_key, **question)


def test_authenticator_app_removed_under_the_requirement(client, workspace, owner, raw_key, django_assert_num_queries):
    member = add_member(workspace, catalog.MEMBER)
    TOTPDevice.objects.create(user=owner, name="app", confirmed=True)
    device = TOTPDevice.objects.create(user=member.user, name="app", confirmed=True)
    two_factor_requirement_set(actor=None, workspace=workspace, required=True)
    question = {"user": member.user.email, "permission": "add_experience"}
    cached_true(client, raw_key, django_assert_num_queries, **question)
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    assert not allowed(client, raw_key, **question)


def test_collaborator_removed(client, workspace, raw_key, django_assert_num_queries):
    viewer = add_member(workspace, catalog.MEMBER)
    experience = make_experience(workspace, title="Launch")
    collaborator_add(actor=None, experience=experience, membership=viewer)
    question = {"user": viewer.user.email, "permission": "change_experience", "experience": experience.pk}
    cached_true(client, raw_key, django_assert_num_queries, **question)
    collaborator_remove(actor=None, experience=experience, membership=viewer)
    assert not allowed(client, raw_key, **question)


def test_site_deleted_or_renamed_is_a_404_at_once(client, workspace, owner, raw_key, django_assert_num_queries):
    site, other = make_site(workspace, "Shop"), make_site(workspace, "Blog")
    for place in (site, other):
        cached_true(
            client, raw_key, django_assert_num_queries, user=owner.email, permission="view_site", site=place.slug
        )
    site_delete(actor=None, site=site)
    response = client.get(
        URL, {"user": owner.email, "permission": "view_site", "site": "shop"}, HTTP_AUTHORIZATION=f"Bearer {raw_key}"
    )
    assert response.status_code == 404
    old_slug = other.slug
    Site.objects.filter(pk=other.pk).update(slug="renamed")
    response = client.get(
        URL, {"user": owner.email, "permission": "view_site", "site": old_slug}, HTTP_AUTHORIZATION=f"Bearer {raw_key}"
    )
    assert response.status_code == 404


def test_a_revoked_key_is_refused_at_once(client, workspace, raw_key, django_assert_num_queries):
    cached_true(client, raw_key, django_assert_num_queries, user="owner@acme.test", permission="view_workspace")
    key_revoke(actor=None, key=AccessKey.objects.get())
    response = client.get(
        URL, {"user": "owner@acme.test", "permission": "view_workspace"}, HTTP_AUTHORIZATION=f"Bearer {raw_key}"
    )
    assert response.status_code == 401


def test_a_batch_mixes_cached_and_fresh_answers_and_numbers_its_404(client, workspace, owner, raw_key):
    site = make_site(workspace, "Shop")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
    first = [{"user": owner.email, "permission": "view_site", "site": site.slug}]
    assert client.post(URL, {"checks": first}, content_type="application/json", **auth).json() == {"results": [True]}
    batch = first + [
        {"user": "nobody@acme.test", "permission": "view_workspace"},
        {"user": owner.email, "permission": "view_site", "site": "nowhere"},
    ]
    response = client.post(URL, {"checks": batch}, content_type="application/json", **auth)
    assert response.status_code == 404
    assert response.json()["error"].startswith("checks[2]:")
    response = client.post(URL, {"checks": batch[:2]}, content_type="application/json", **auth)
    assert response.json() == {"results": [True, False]}


@override_settings(API_CHECK_CACHE_SECONDS=0)
def test_the_cache_can_be_switched_off(client, workspace, raw_key, django_assert_num_queries):
    assert allowed(client, raw_key, user="owner@acme.test", permission="view_workspace")
    with django_assert_num_queries(4):  # key, members, permissions, the day's count
        assert allowed(client, raw_key, user="owner@acme.test", permission="view_workspace")


@override_settings(
    CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
)
def test_an_unreachable_cache_answers_from_the_database(client, workspace, raw_key):
    assert allowed(client, raw_key, user="owner@acme.test", permission="view_workspace")
    assert not allowed(client, raw_key, user="nobody@acme.test", permission="view_workspace")


# -- another process, through Redis ---------------------------------------------------------------


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


STORE_IN_ANOTHER_PROCESS = """
import sys
import django
django.setup()
from django.core.cache import cache
from permissions.check_cache import _cache_key
from permissions.checks import Check
workspace_id, version, email = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cache.set(_cache_key(workspace_id, version, Check(email, "add_experience", "workspace")), True, 300)
"""


@pytest.mark.skipif(not _redis_reachable() and not os.environ.get("CI"), reason="needs Redis on 127.0.0.1:6379")
@override_settings(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}})
def test_an_answer_another_process_cached_is_not_served_after_a_change(client, workspace, raw_key):
    """A second Python process stores "allowed" for a viewer (as a worker would have before the viewer
    lost the capability): this process serves it, so the cache is shared; after a change commits,
    the next call asks under the new version and answers from the database."""
    caches["default"].clear()
    viewer = add_member(workspace, catalog.VIEWER)
    version = AccessVersion.objects.get(workspace_id=workspace.pk).version
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test", "CACHE_URL": REDIS_URL}
    args = [str(workspace.pk), str(version), viewer.user.email]
    subprocess.run([sys.executable, "-c", STORE_IN_ANOTHER_PROCESS, *args], cwd=ROOT, env=env, check=True, timeout=60)
    assert allowed(client, raw_key, user=viewer.user.email, permission="add_experience")  # from the other process
    make_site(workspace, "Shop")
    assert not allowed(client, raw_key, user=viewer.user.email, permission="add_experience")
    caches["default"].clear()


# -- cached and uncached answers agree, across random changes --------------------------------------


def test_cached_answers_match_uncached_ones_across_random_changes(client, workspace, owner, raw_key):
    rng = random.Random(20261201)
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    sites = [make_site(workspace, f"Site {n}") for n in range(2)]
    team = make_team(workspace, "Growth")
    experience = make_experience(workspace, title="Launch")
    people = [add_member(workspace, rng.choice([catalog.MEMBER, catalog.VIEWER])) for _ in range(4)]
    questions = [
        {"user": m.user.email, "permission": permission, **where}
        for m in people
        for permission, where in [
            ("add_experience", {}),
            ("view_access_keys", {}),
            ("change_dashboards", {"site": sites[0].slug}),
            ("change_dashboards", {"site": sites[1].slug}),
            ("change_experience", {"experience": experience.pk}),
        ]
    ]

    def change():
        member = rng.choice(people)
        member.refresh_from_db()
        kind = rng.randrange(6)
        if kind == 0:
            member_change_role(
                actor=None,
                membership=member,
                role=builtin_role(rng.choice([catalog.MEMBER, catalog.VIEWER, catalog.ADMIN])),
            )
        elif kind == 1:
            site_grant_set(actor=None, site=rng.choice(sites), role=editor, membership=member)
        elif kind == 2:
            if member.team_memberships.filter(team=team).exists():
                team_remove_member(actor=None, team=team, membership=member)
            else:
                team_add_member(actor=None, team=team, membership=member)
        elif kind == 3:
            site_grant_set(actor=None, site=rng.choice(sites), role=editor, team=team)
        elif kind == 4:
            user = User.objects.get(pk=member.user_id)
            (account_reactivate if not user.is_active else account_deactivate)(actor=None, user=user)
        else:
            if experience.collaborations.filter(membership=member).exists():
                collaborator_remove(actor=None, experience=experience, membership=member)
            else:
                collaborator_add(actor=None, experience=experience, membership=member)

    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
    for _ in range(25):
        try:
            change()
        except RuleViolation:
            pass  # a change the rules refuse (a viewer as collaborator, …) changes nothing
        cached = client.post(URL, {"checks": questions}, content_type="application/json", **auth).json()["results"]
        again = client.post(URL, {"checks": questions}, content_type="application/json", **auth).json()["results"]
        with override_settings(API_CHECK_CACHE_SECONDS=0):
            fresh = client.post(URL, {"checks": questions}, content_type="application/json", **auth).json()["results"]
        assert cached == again == fresh


# -- this process's layer ---------------------------------------------------------------------------


def test_the_process_layer_holds_one_version_per_workspace_and_expires():
    from permissions.check_cache import _ProcessAnswers
    from permissions.checks import Check

    layer, question = _ProcessAnswers(), Check("ann@acme.test", "add_experience", "workspace")
    layer.add(layer.answers(1, 10, 300), {question: True})
    assert layer.answers(1, 10, 300) == {question: True}
    assert layer.answers(2, 10, 300) == {}  # another workspace
    assert layer.answers(1, 11, 300) == {}  # a newer version drops the older answers
    assert layer.answers(1, 10, 300) == {}  # and they are not back when the old version is asked for
    layer.add(layer.answers(1, 12, 0), {question: True})
    assert layer.answers(1, 12, 0) == {}  # past their seconds
    assert layer.size == 0


def test_the_process_layer_starts_again_past_its_bound(client, workspace, raw_key, monkeypatch):
    from permissions import check_cache

    monkeypatch.setattr(check_cache, "PROCESS_ANSWERS_MAX", 3)
    people = [add_member(workspace, catalog.VIEWER).user.email for _ in range(5)]
    for _ in range(2):
        for email in ["owner@acme.test", *people]:
            assert allowed(client, raw_key, user=email, permission="view_workspace")
            assert not allowed(client, raw_key, user=email, permission="add_experience") or email.startswith("owner")
            assert check_cache._process_answers.size <= 3


def test_a_batch_answers_from_both_layers_at_once(client, workspace, owner, raw_key):
    viewer = add_member(workspace, catalog.VIEWER).user.email
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
    first = [{"user": viewer, "permission": "view_workspace"}]
    assert client.post(URL, {"checks": first}, content_type="application/json", **auth).json()["results"] == [True]
    cache.clear()  # the first answer now only in this process
    both = [*first, {"user": viewer, "permission": "add_experience"}, {"user": "owner@acme.test", "permission": "x"}]
    response = client.post(URL, {"checks": both}, content_type="application/json", **auth)
    assert response.status_code == 400 and response.json()["error"].startswith("checks[2]:")  # the caller's numbering
    both[2]["permission"] = "add_experience"
    answers = client.post(URL, {"checks": both}, content_type="application/json", **auth).json()["results"]
    assert answers == [True, False, True]


ASK_IN_A_LOOP = """
import sys
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client()
for line in sys.stdin:
    raw, email = line.split()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/check", {"user": email, "permission": "add_experience"},
                              HTTP_AUTHORIZATION=f"Bearer {raw}")
    print(response.json()["allowed"], len(queries), flush=True)
"""


@pytest.mark.skipif(not _redis_reachable() and not os.environ.get("CI"), reason="needs Redis on 127.0.0.1:6379")
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_another_process_that_keeps_the_answer_in_memory_refuses_at_once_after_a_change(owner):
    """A long-lived second process (as a gunicorn worker) answers "allowed" twice, the second time
    from its own memory (one query: the key's; the shared cache emptied in between). This process
    removes the member and commits: the other process's very next answer is "refused"."""
    from tests.factories import make_workspace

    workspace = make_workspace(owner, "Acme")
    member = add_member(workspace, catalog.MEMBER)
    raw = key_create(actor=None, workspace=workspace, name="Platform")[1]
    settings = connection.settings_dict
    database_url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test", "DATABASE_URL": database_url}
    env["CACHE_URL"] = f"{REDIS_URL}?key_prefix=memory-{workspace.pk}-{os.getpid()}"
    other = subprocess.Popen(
        [sys.executable, "-c", ASK_IN_A_LOOP],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def ask_there() -> tuple[str, int]:
        other.stdin.write(f"{raw} {member.user.email}\n")
        other.stdin.flush()
        answer, queries = other.stdout.readline().split()
        return answer, int(queries)

    try:
        assert ask_there()[0] == "True"
        import redis

        shared = redis.Redis.from_url(REDIS_URL)
        for name in shared.scan_iter(f"memory-{workspace.pk}-{os.getpid()}:*"):
            shared.delete(name)
        assert ask_there() == ("True", 1)  # from the other process's memory: only the key was read
        member_remove(actor=None, membership=Membership.objects.get(pk=member.pk))
        assert ask_there()[0] == "False"
    finally:
        other.stdin.close()
        other.wait(timeout=60)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_reused_connection_that_broke_is_replaced_by_the_key_lookup(client, owner):
    """Django checks a reused connection before a request's first query; the check API lets the
    key's lookup be that check. A connection the database dropped (a restart) is replaced and the
    call answered, not failed."""
    import psycopg

    from tests.factories import make_workspace

    workspace = make_workspace(owner, "Acme")
    raw = key_create(actor=None, workspace=workspace, name="Platform")[1]
    assert allowed(client, raw, user="owner@acme.test", permission="view_workspace")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname="postgres") as db:
        db.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.close_if_unusable_or_obsolete()  # what Django does as each request starts
    assert connection.health_check_enabled and not connection.health_check_done
    assert allowed(client, raw, user="owner@acme.test", permission="view_workspace")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
