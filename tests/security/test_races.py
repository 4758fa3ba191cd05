"""Races from the attacker's side: two people (or a person and staff) change owners, memberships,
site owners or accounts at the same moment, on PostgreSQL, with real threads released together by
a barrier. After every try the rules still hold (each workspace keeps an active owner; each site's
owner is a member of its workspace) and nobody got anything but a rule's message or a refusal: no
deadlock, no database error, no "does not exist" (which the browser would show as a 500).

Each pair runs TRIES times on fresh, minimal data. Two worker threads keep their own database
connections for the whole module, so a try costs its fixtures and two transactions; the data is
committed (the threads must see it) and the database is emptied once, after the module.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Count, F, Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.context import system_acting
from kernel.errors import RuleViolation
from kernel.locks import answer_deadlocks, lock_accounts, lock_workspace
from permissions import catalog
from permissions.roles import builtin_role
from scim.models import ScimGroupMember, ScimToken, ScimUser
from scim.protocol import user_data
from scim.services import user_delete, user_provision, user_update
from scim.tokens import scim_token_create
from tests.factories import PASSWORD, UserFactory, add_member, make_site
from workspaces.models import JoinDomain, Membership, Site, TeamMembership, Workspace
from workspaces.overview.services import workspace_create
from workspaces.people.closing import account_close
from workspaces.people.deactivation import account_deactivate
from workspaces.people.services import member_change_role, member_leave, member_remove, ownership_transfer
from workspaces.sites.services import site_create, site_owner_set

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL's row locks; SQLite serialises writers anyway",
    ),
]

TRIES = 50
EXPECTED = (RuleViolation, PermissionDenied)


@pytest.fixture(scope="module", autouse=True)
def transactional_db(django_db_setup, django_db_blocker):
    """Committed data, visible to every thread, for the whole module; emptied once at its end.

    This replaces pytest-django's function-scoped fixture of the same name for this module: one
    flush for the module instead of one per test (a flush and the built-in roles it recreates cost
    more than a whole pair of races). The name matters: pytest-django creates the test database
    and orders the tests by the fixtures named ``db`` / ``transactional_db`` that tests use.
    """
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def pool():
    """Two threads, each with its own database connection, reused by every try."""
    executor = ThreadPoolExecutor(max_workers=2)
    yield executor
    together = threading.Barrier(2, timeout=30)

    def close():
        together.wait()  # one task per thread, so both threads close their connection
        connections.close_all()

    for future in [executor.submit(close), executor.submit(close)]:
        future.result()
    executor.shutdown(wait=True)


@dataclass
class Outcome:
    results: list
    unexpected: list


def race(pool, first, second) -> Outcome:
    barrier = threading.Barrier(2, timeout=30)

    def run(change):
        try:
            barrier.wait()
            change()
            return "done"
        except EXPECTED as exc:
            return type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - anything else is what the test looks for
            connections["default"].close()  # a broken connection must not leak into the next try
            return exc

    futures = [pool.submit(run, first), pool.submit(run, second)]
    results = [future.result(timeout=60) for future in futures]
    return Outcome(results, [r for r in results if isinstance(r, BaseException)])


def broken_rules(workspace_ids) -> list[str]:
    owner = builtin_role(catalog.OWNER)
    without_owner = (
        Workspace.objects.filter(pk__in=workspace_ids)
        .annotate(
            active_owners=Count(
                "memberships", filter=Q(memberships__role=owner, memberships__user__is_active=True), distinct=True
            )
        )
        .filter(active_owners=0)
        .values_list("name", flat=True)
    )
    problems = [f"{name} has no active owner" for name in without_owner]
    strays = Site.objects.filter(workspace_id__in=workspace_ids).exclude(owner__workspace_id=F("workspace_id"))
    problems += [f"site {site.pk} is owned by a non-member" for site in strays]
    return problems


class Tally:
    """What the tries of one pair did: outcomes counted, problems kept."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.problems: list[str] = []

    def add(self, outcome: Outcome, workspace_ids, label: str = "") -> None:
        key = " / ".join(r if isinstance(r, str) else type(r).__name__ for r in outcome.results)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.problems += [f"{label}{type(exc).__name__}: {exc}" for exc in outcome.unexpected]
        self.problems += broken_rules(workspace_ids)

    def check(self) -> None:
        assert not self.problems, f"{len(self.problems)} problems in {self.counts}: {self.problems[:5]}"


_counter = iter(range(10**9))


def _workspace(*owners: User) -> Workspace:
    """A workspace whose owners are ``owners`` (the first creates it)."""
    workspace = workspace_create(actor=None, creator=owners[0], name=f"Race {next(_counter)}")
    for other in owners[1:]:
        add_member(workspace, catalog.OWNER, user=other)
    return workspace


def _membership(workspace, user) -> Membership:
    return Membership.objects.get(workspace=workspace, user=user)


def _two_owners():
    first, second = UserFactory(), UserFactory()
    workspace = _workspace(first, second)
    return workspace, first, second


# --- the pairs --------------------------------------------------------------------------------------


def test_deactivate_vs_transfer_with_step_down(pool):
    """Finding 1: staff deactivates X while the only owner hands ownership to X and steps down."""
    tally = Tally()
    for _ in range(TRIES):
        owner, x = UserFactory(), UserFactory()
        workspace = _workspace(owner)
        to = add_member(workspace, catalog.ADMIN, user=x)
        outcome = race(
            pool,
            lambda: account_deactivate(actor=None, user=x),  # noqa: B023 - called within the iteration
            lambda: ownership_transfer(actor=owner, workspace=workspace, to=to, step_down=True),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_deactivate_vs_change_role(pool):
    """Finding 2: staff deactivates owner O1 while O1 demotes the other owner O2."""
    tally = Tally()
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        target = _membership(workspace, second)
        outcome = race(
            pool,
            lambda: account_deactivate(actor=None, user=first),  # noqa: B023
            lambda: member_change_role(actor=first, membership=target, role=builtin_role(catalog.ADMIN)),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_change_role_vs_change_role(pool):
    """Two owners demote each other."""
    tally = Tally()
    admin = builtin_role(catalog.ADMIN)
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        mine, theirs = _membership(workspace, first), _membership(workspace, second)
        outcome = race(
            pool,
            lambda: member_change_role(actor=first, membership=theirs, role=admin),  # noqa: B023
            lambda: member_change_role(actor=second, membership=mine, role=admin),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_transfer_vs_remove(pool):
    """The owner hands ownership to X and steps down while staff removes X."""
    tally = Tally()
    for _ in range(TRIES):
        owner, x = UserFactory(), UserFactory()
        workspace = _workspace(owner)
        to = add_member(workspace, catalog.ADMIN, user=x)
        outcome = race(
            pool,
            lambda: ownership_transfer(actor=owner, workspace=workspace, to=to, step_down=True),  # noqa: B023
            lambda: member_remove(actor=None, membership=to),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_site_owner_set_vs_member_remove(pool):
    """Finding 3: a site is given to X while an admin removes X without naming a successor."""
    tally = Tally()
    for _ in range(TRIES):
        owner, x = UserFactory(), UserFactory()
        workspace = _workspace(owner)
        site = make_site(workspace, owner=_membership(workspace, owner))
        member = add_member(workspace, catalog.MEMBER, user=x)
        outcome = race(
            pool,
            lambda: site_owner_set(actor=owner, site=site, owner=member),  # noqa: B023
            lambda: member_remove(actor=owner, membership=member),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_leave_vs_change_role(pool):
    """Owner O1 leaves while O1 also demotes O2 (two tabs)."""
    tally = Tally()
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        mine, theirs = _membership(workspace, first), _membership(workspace, second)
        outcome = race(
            pool,
            lambda: member_leave(membership=mine),  # noqa: B023
            lambda: member_change_role(actor=first, membership=theirs, role=builtin_role(catalog.ADMIN)),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_leave_vs_leave(pool):
    """Both owners leave at once."""
    tally = Tally()
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        mine, theirs = _membership(workspace, first), _membership(workspace, second)
        outcome = race(pool, lambda: member_leave(membership=mine), lambda: member_leave(membership=theirs))  # noqa: B023
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_deactivate_vs_leave(pool):
    """Staff deactivates owner O1 while owner O2 leaves."""
    tally = Tally()
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        theirs = _membership(workspace, second)
        outcome = race(
            pool,
            lambda: account_deactivate(actor=None, user=first),  # noqa: B023
            lambda: member_leave(membership=theirs),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_deactivate_vs_deactivate(pool):
    """Staff deactivates both owners of a workspace at once (two admin tabs)."""
    tally = Tally()
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        outcome = race(
            pool,
            lambda: account_deactivate(actor=None, user=first),  # noqa: B023
            lambda: account_deactivate(actor=None, user=second),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_deactivate_vs_remove_across_two_workspaces(pool):
    """One person owns two workspaces with the other's owner: deactivations and removals cross."""
    tally = Tally()
    for _ in range(TRIES):
        first, second = UserFactory(), UserFactory()
        one, two = _workspace(first, second), _workspace(second, first)
        outcome = race(
            pool,
            lambda: account_deactivate(actor=None, user=first),  # noqa: B023
            lambda: member_remove(actor=None, membership=_membership(two, second)),  # noqa: B023
        )
        tally.add(outcome, [one.pk, two.pk])
    tally.check()


def test_transfer_vs_leave(pool):
    """The owner hands ownership to X and steps down while X leaves."""
    tally = Tally()
    for _ in range(TRIES):
        owner, x = UserFactory(), UserFactory()
        workspace = _workspace(owner)
        to = add_member(workspace, catalog.ADMIN, user=x)
        outcome = race(
            pool,
            lambda: ownership_transfer(actor=owner, workspace=workspace, to=to, step_down=True),  # noqa: B023
            lambda: member_leave(membership=to),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_site_owner_set_vs_member_leave(pool):
    """A site is given to X while X leaves without naming a successor."""
    tally = Tally()
    for _ in range(TRIES):
        owner, x = UserFactory(), UserFactory()
        workspace = _workspace(owner)
        site = make_site(workspace, owner=_membership(workspace, owner))
        member = add_member(workspace, catalog.MEMBER, user=x)
        outcome = race(
            pool,
            lambda: site_owner_set(actor=owner, site=site, owner=member),  # noqa: B023
            lambda: member_leave(membership=member),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_site_create_vs_member_remove(pool):
    """A new site is made with X as its owner while staff removes X."""
    tally = Tally()
    for n in range(TRIES):
        owner, x = UserFactory(), UserFactory()
        workspace = _workspace(owner)
        member = add_member(workspace, catalog.MEMBER, user=x)
        outcome = race(
            pool,
            lambda: site_create(actor=owner, workspace=workspace, name=f"Site {n}", owner=member),  # noqa: B023
            lambda: member_remove(actor=None, membership=member),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_remove_with_successor_vs_remove_the_successor(pool):
    """A site owner is removed with Y as the sites' successor while staff removes Y."""
    tally = Tally()
    for _ in range(TRIES):
        owner = UserFactory()
        workspace = _workspace(owner)
        leaving, successor = add_member(workspace, catalog.MEMBER), add_member(workspace, catalog.MEMBER)
        make_site(workspace, owner=leaving)
        outcome = race(
            pool,
            lambda: member_remove(actor=owner, membership=leaving, site_successor=successor),  # noqa: B023
            lambda: member_remove(actor=None, membership=successor),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


# --- the same race through the browser: a message, never a 500 ----------------------------------------


def _someone_waits_for_a_lock(timeout: float = 10.0) -> bool:
    """Whether another connection to this database is waiting for a row lock (polled)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def test_site_owner_page_answers_the_rule_when_the_member_is_removed_meanwhile(pool, client):
    """The owner picks X on the site access page while staff removes X: the page shows the rule's
    message (X is no longer a member) and the site keeps its owner."""
    owner, x = UserFactory(), UserFactory()
    workspace = _workspace(owner)
    site = make_site(workspace, owner=_membership(workspace, owner))
    member = add_member(workspace, catalog.MEMBER, user=x)
    removing, done = threading.Event(), threading.Event()

    def remove_slowly():
        # Staff's removal holds its locks (taken in the documented order) while the page is
        # submitted, then commits: the page's change must wait for it and see its result.
        try:
            with transaction.atomic():
                lock_accounts([x.pk])
                lock_workspace(workspace)
                removing.set()
                done.wait(timeout=30)
                member_remove(actor=None, membership=member)
        finally:
            connections["default"].close()

    client.force_login(owner)
    url = reverse("site_access:owner", args=[workspace.slug, site.slug])
    removal = pool.submit(remove_slowly)
    assert removing.wait(timeout=30)
    post = pool.submit(client.post, url, {"owner": str(member.pk)})
    _someone_waits_for_a_lock()  # the page's change waits for the removal (without the fix it does not)
    done.set()
    removal.result(timeout=60)
    response = post.result(timeout=60)

    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "is no longer a member of this workspace" in page
    site.refresh_from_db()
    assert site.owner_id == _membership(workspace, owner).pk
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_a_deadlock_reported_by_the_database_becomes_a_message(pool):
    """The last line: two changes that lock the same rows in opposite orders (nothing in the code
    base does, the order forbids it) get one deadlock from PostgreSQL; the service decorated with
    answer_deadlocks answers it as a RuleViolation asking to try again, and writes nothing."""
    one, two = _workspace(UserFactory()), _workspace(UserFactory())
    barrier = threading.Barrier(2, timeout=30)

    @answer_deadlocks
    @transaction.atomic
    def against_the_order(first, second):
        lock_workspace(first)
        Workspace.objects.filter(pk=first.pk).update(description="changed")
        barrier.wait()
        lock_workspace(second)

    outcome = race(pool, lambda: against_the_order(one, two), lambda: against_the_order(two, one))
    assert not outcome.unexpected
    assert sorted(outcome.results) == ["RuleViolation", "done"]
    assert Workspace.objects.filter(pk__in=[one.pk, two.pk], description="changed").count() == 1


def test_the_race_suite_runs_on_postgresql():
    """Guard: these tests must not silently run on another database."""
    assert connection.vendor == "postgresql"


def test_two_owners_delete_their_accounts_at_once(pool):
    """Each would be fine alone; together they would leave the workspace without an owner."""
    tally = Tally()
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        outcome = race(
            pool,
            lambda: account_close(user=first, password=PASSWORD),  # noqa: B023
            lambda: account_close(user=second, password=PASSWORD),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
        assert sorted(outcome.results, key=str) == ["RuleViolation", "done"], outcome.results
    tally.check()


def test_two_people_take_the_last_seat_of_a_plan(pool, settings):
    """A plan of three members with two in it: two joinings at once, one gets the seat."""
    settings.BILLING_PLANS = [{"key": "free", "name": "Free", "monthly_price": "0", "limits": {"members": 3}}]
    for _ in range(TRIES):
        workspace = _workspace(UserFactory())
        add_member(workspace, catalog.MEMBER)
        joiners = [UserFactory(), UserFactory()]
        outcome = race(
            pool,
            *[
                lambda user=user: add_member(workspace, catalog.MEMBER, user=user)  # noqa: B023
                for user in joiners
            ],
        )
        assert sorted(outcome.results, key=str) == ["PlanLimitReached", "done"], outcome.results
        assert Membership.objects.filter(workspace=workspace).count() == 3


# --- SCIM provisioning: the identity provider as one more door ---------------------------------------


def _scim_token(workspace) -> ScimToken:
    """The workspace's SCIM token, its domain verified: the factories' addresses are at example.com,
    and a verified domain belongs to one workspace, so an earlier try's workspace gives it up."""
    JoinDomain.objects.filter(domain="example.com").exclude(workspace=workspace).delete()
    JoinDomain.objects.get_or_create(
        workspace=workspace,
        domain="example.com",
        defaults={
            "role": builtin_role(catalog.MEMBER),
            "verification_token": "t",
            "verified_at": timezone.now(),
            "verification_method": JoinDomain.Method.DNS,
        },
    )
    token = ScimToken.objects.filter(workspace=workspace, revoked_at__isnull=True).select_related("workspace").first()
    return token or scim_token_create(actor=None, workspace=workspace, name="Race")[0]


def _provisioned(workspace, user) -> ScimUser:
    with system_acting("SCIM token “Race”"):
        return user_provision(token=_scim_token(workspace), data=user_data({"userName": user.email}))


def test_scim_deprovisions_both_owners_at_once(pool):
    """The provider deactivates the workspace's two owners at the same moment: one stays."""
    tally = Tally()
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        identities = [_provisioned(workspace, first), _provisioned(workspace, second)]
        token = _scim_token(workspace)
        deactivated = user_data({"userName": second.email, "active": False})
        outcome = race(
            pool,
            lambda: user_delete(identity=identities[0]),  # noqa: B023
            lambda: user_update(token=token, identity=identities[1], data=deactivated),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
    tally.check()
    assert any("RuleViolation" in key for key in tally.counts), tally.counts


def test_scim_deprovisions_a_site_owner_while_the_successor_is_removed(pool):
    """The provider deprovisions a site owner, whose sites go to the longest-standing owner, while
    another owner removes that owner on the people page: the site never ends up with a non-member."""
    tally = Tally()
    for _ in range(TRIES):
        workspace, first, second = _two_owners()
        x = UserFactory()
        site = make_site(workspace, owner=add_member(workspace, catalog.MEMBER, user=x))
        identity = _provisioned(workspace, x)
        successor = _membership(workspace, first)
        outcome = race(
            pool,
            lambda: user_delete(identity=identity),  # noqa: B023
            lambda: member_remove(actor=second, membership=successor),  # noqa: B023
        )
        tally.add(outcome, [workspace.pk])
        assert Site.objects.filter(pk=site.pk).exists()
    tally.check()


# --- SCIM over HTTP: the identity provider's concurrent calls answer, never a 500 ----------------------

SCIM_JSON = "application/scim+json"
SCIM_TRIES = 20  # each try is four or five HTTP calls
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _scim_call(raw: str, method: str, path: str, body: dict) -> int:
    """One SCIM call through the whole stack (view, service, locks), on this thread's connection."""
    client = Client(raise_request_exception=False)
    response = getattr(client, method)(
        f"/scim/v2/{path}", data=json.dumps(body), content_type=SCIM_JSON, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    return response.status_code


def _scim_workspace():
    owner = UserFactory()
    workspace = _workspace(owner)
    token = _scim_token(workspace)
    ScimToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # the raw token is shown once
    token, raw = scim_token_create(actor=None, workspace=workspace, name="Race")
    return workspace, raw


def _add_members(*identities: ScimUser) -> dict:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": str(i.scim_id)} for i in identities]}],
    }


def test_scim_two_patches_add_people_to_one_group_at_once(pool):
    """Two PATCHes of one group at the same moment, adding the same person, or two different
    people: both answer 200 and both additions are kept (none lost to the other's read)."""
    for attempt in range(SCIM_TRIES):
        workspace, raw = _scim_workspace()
        ann, bob = UserFactory(), UserFactory()
        ann_id, bob_id = _provisioned(workspace, ann), _provisioned(workspace, bob)
        assert _scim_call(raw, "post", "Groups", {"displayName": "Ops"}) == 201
        team = workspace.teams.get(name="Ops")
        second = ann_id if attempt % 2 else bob_id
        outcome = race(
            pool,
            lambda: _scim_call(raw, "patch", f"Groups/{team.pk}", _add_members(ann_id)),  # noqa: B023
            lambda: _scim_call(raw, "patch", f"Groups/{team.pk}", _add_members(second)),  # noqa: B023
        )
        assert outcome.results == ["done", "done"], outcome.results
        expected = {ann_id.pk, second.pk}
        assert set(ScimGroupMember.objects.filter(team=team).values_list("identity_id", flat=True)) == expected
        in_team = set(TeamMembership.objects.filter(team=team).values_list("membership__user_id", flat=True))
        assert in_team == {identity.user_id for identity in (ann_id, second)}


def test_scim_two_posts_of_one_user_name_at_once(pool):
    """The provider retries a POST /Users while the first is still running: one 201, one 409."""
    statuses = []
    for _ in range(SCIM_TRIES):
        workspace, raw = _scim_workspace()
        body = {"userName": f"new{next(_counter)}@example.com"}
        codes = []
        outcome = race(
            pool,
            lambda: codes.append(_scim_call(raw, "post", "Users", body)),  # noqa: B023
            lambda: codes.append(_scim_call(raw, "post", "Users", body)),  # noqa: B023
        )
        assert not outcome.unexpected, outcome.unexpected
        statuses.append(tuple(sorted(codes)))
        assert ScimUser.objects.filter(workspace=workspace).count() == 1
        assert Membership.objects.filter(workspace=workspace, user__email=body["userName"]).count() == 1
    assert set(statuses) == {(201, 409)}, statuses


def test_scim_deactivation_and_group_addition_at_once(pool):
    """The provider deactivates a person while adding them to a group: no 500, and the team never
    keeps someone who is no longer a member (the group keeps them, for when they come back)."""
    for _ in range(SCIM_TRIES):
        workspace, raw = _scim_workspace()
        ann = UserFactory()
        identity = _provisioned(workspace, ann)
        assert _scim_call(raw, "post", "Groups", {"displayName": "Ops"}) == 201
        team = workspace.teams.get(name="Ops")
        deactivate = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
        codes = []
        outcome = race(
            pool,
            lambda: codes.append(_scim_call(raw, "patch", f"Users/{identity.scim_id}", deactivate)),  # noqa: B023
            lambda: codes.append(_scim_call(raw, "patch", f"Groups/{team.pk}", _add_members(identity))),  # noqa: B023
        )
        assert not outcome.unexpected and sorted(codes) == [200, 200], (outcome.results, codes)
        assert not Membership.objects.filter(workspace=workspace, user=ann).exists()
        assert not TeamMembership.objects.filter(team=team).exists()
        assert ScimGroupMember.objects.filter(team=team, identity=identity).exists()
