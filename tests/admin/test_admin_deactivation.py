"""account_deactivate / account_reactivate: rule 1 holds when staff deactivate an account."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.policy import Access
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.people.deactivation import account_deactivate, account_reactivate
from workspaces.people.selectors import sole_owner_workspaces
from workspaces.people.services import ownership_transfer


def test_the_last_active_owner_cannot_be_deactivated(acme, owner, staff):
    with pytest.raises(RuleViolation, match="last active owner of “Acme”"):
        account_deactivate(actor=staff, user=owner)
    owner.refresh_from_db()
    assert owner.is_active
    assert not AuditEvent.objects.filter(action="account.deactivate").exists()


def test_an_inactive_co_owner_does_not_count(acme, owner, staff):
    co_owner = add_member(acme, catalog.OWNER).user
    account_deactivate(actor=staff, user=co_owner)
    with pytest.raises(RuleViolation):
        account_deactivate(actor=staff, user=owner)


def test_deactivating_a_co_owner_records_one_event_and_removes_their_access(acme, owner, staff):
    co_owner = add_member(acme, catalog.OWNER).user
    assert Access(co_owner).has("view_workspace", acme)
    account_deactivate(actor=staff, user=co_owner)
    co_owner.refresh_from_db()
    assert not co_owner.is_active
    assert not Access(co_owner).has("view_workspace", acme)
    event = AuditEvent.objects.get(action="account.deactivate")
    assert (event.actor, event.target_id, event.after) == (
        staff,
        str(co_owner.pk),
        {"email": co_owner.email, "is_active": False},
    )
    account_deactivate(actor=staff, user=co_owner)  # already inactive: nothing more
    assert AuditEvent.objects.filter(action="account.deactivate").count() == 1


def test_members_who_own_nothing_are_deactivated_freely(acme, staff):
    member = add_member(acme, catalog.ADMIN).user
    assert sole_owner_workspaces(member) == []
    account_deactivate(actor=staff, user=member)
    member.refresh_from_db()
    assert not member.is_active


def test_only_the_workspaces_owned_alone_are_named(owner, staff):
    make_workspace(owner, "Acme")
    shared = make_workspace(owner, "Shared")
    add_member(shared, catalog.OWNER, user=UserFactory())
    assert [w.name for w in sole_owner_workspaces(owner)] == ["Acme"]


def test_reactivation_records_one_event_and_an_ownership_transfer_then_works(acme, owner, staff):
    member = add_member(acme, catalog.MEMBER)
    account_deactivate(actor=staff, user=member.user)
    with pytest.raises(RuleViolation, match="deactivated"):
        ownership_transfer(actor=None, workspace=acme, to=member)
    account_reactivate(actor=staff, user=member.user)
    account_reactivate(actor=staff, user=member.user)
    assert AuditEvent.objects.filter(action="account.reactivate").count() == 1
    ownership_transfer(actor=None, workspace=acme, to=member)
    account_deactivate(actor=staff, user=owner)  # now another active owner exists
