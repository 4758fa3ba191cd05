"""Races of the people page's bulk actions, on PostgreSQL, with real threads released together (the
machinery of test_races.py): a bulk demotion or removal at the same moment as another owner's
change, a deactivation or a site handed to one of the people removed. After every try each
workspace keeps an active owner, each site's owner is a member, and nothing but a rule's message
or a refusal came out (no deadlock, no database error)."""

from __future__ import annotations

from functools import partial

import pytest
from django.conf import settings

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site
from tests.security.test_races import Tally, _membership, _workspace, pool, race, transactional_db  # noqa: F401
from workspaces.people import bulk
from workspaces.people.deactivation import account_deactivate
from workspaces.people.services import member_change_role
from workspaces.sites.services import site_owner_set

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL's row locks; SQLite serialises writers anyway",
    ),
]

TRIES = 25


def _two_owners_and_members(count: int = 3):
    first, second = UserFactory(), UserFactory()
    workspace = _workspace(first, second)
    members = [add_member(workspace, catalog.MEMBER) for _ in range(count)]
    return workspace, first, second, members


def test_bulk_demotions_of_each_other(pool):  # noqa: F811 - the fixture imported above
    """Two owners each demote the other, with some members, in one batch at the same moment."""
    tally = Tally()
    admin = builtin_role(catalog.ADMIN)
    for _ in range(TRIES):
        workspace, first, second, members = _two_owners_and_members()
        ids = [m.pk for m in members]
        mine, theirs = _membership(workspace, first), _membership(workspace, second)
        outcome = race(
            pool,
            partial(
                bulk.members_change_role, actor=first, workspace=workspace, member_ids=[theirs.pk, *ids], role=admin
            ),
            partial(
                bulk.members_change_role, actor=second, workspace=workspace, member_ids=[mine.pk, *ids], role=admin
            ),
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_bulk_step_down_vs_single_demotion(pool):  # noqa: F811
    """An owner steps down in a batch while the other owner demotes them on their own row."""
    tally = Tally()
    admin = builtin_role(catalog.ADMIN)
    for _ in range(TRIES):
        workspace, first, second, members = _two_owners_and_members()
        mine, theirs = _membership(workspace, first), _membership(workspace, second)
        outcome = race(
            pool,
            partial(
                bulk.members_change_role,
                actor=first,
                workspace=workspace,
                member_ids=[mine.pk, *(m.pk for m in members)],
                role=admin,
            ),
            partial(member_change_role, actor=second, membership=theirs, role=admin),
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_bulk_demotion_vs_deactivation_of_the_remaining_owner(pool):  # noqa: F811
    """Owner 1 demotes owner 2 in a batch while staff deactivates owner 1."""
    tally = Tally()
    viewer = builtin_role(catalog.VIEWER)
    for _ in range(TRIES):
        workspace, first, second, members = _two_owners_and_members()
        theirs = _membership(workspace, second)
        outcome = race(
            pool,
            partial(account_deactivate, actor=None, user=first),
            partial(
                bulk.members_change_role,
                actor=first,
                workspace=workspace,
                member_ids=[theirs.pk, *(m.pk for m in members)],
                role=viewer,
            ),
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_bulk_removal_vs_a_site_handed_to_one_of_them(pool):  # noqa: F811
    """Rule 2: a site is given to X while X is removed in a batch."""
    tally = Tally()
    for _ in range(TRIES):
        owner = UserFactory()
        workspace = _workspace(owner)
        site = make_site(workspace, owner=_membership(workspace, owner))
        members = [add_member(workspace, catalog.MEMBER) for _ in range(3)]
        outcome = race(
            pool,
            partial(site_owner_set, actor=owner, site=site, owner=members[1]),
            partial(bulk.members_remove, actor=owner, workspace=workspace, member_ids=[m.pk for m in members]),
        )
        tally.add(outcome, [workspace.pk])
    tally.check()


def test_bulk_role_change_vs_promotion_of_one_of_them(pool):  # noqa: F811
    """A batch Member → Viewer while the owner makes one of the same members an owner: the batch
    refuses that row (changed meanwhile) or the promotion sees the new role; never both overwrite."""
    tally = Tally()
    viewer, owner_role = builtin_role(catalog.VIEWER), builtin_role(catalog.OWNER)
    for _ in range(TRIES):
        workspace, first, second, members = _two_owners_and_members()
        outcome = race(
            pool,
            partial(
                bulk.members_change_role,
                actor=first,
                workspace=workspace,
                member_ids=[m.pk for m in members],
                role=viewer,
            ),
            partial(member_change_role, actor=second, membership=members[0], role=owner_role),
        )
        tally.add(outcome, [workspace.pk])
    tally.check()
