"""Rules 1 and 4 (docs/RULES.md 1), each from the refused side first: the last owner stays; nobody
changes their own role except an owner stepping down; only owners make or unmake owners."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import add_member
from workspaces.models import Membership
from workspaces.people.services import member_change_role, member_leave, member_remove, ownership_transfer


def _role(key):
    return builtin_role(key)


def _owner_membership(workspace, owner):
    return Membership.objects.get(workspace=workspace, user=owner)


def _owners(workspace):
    return set(Membership.objects.filter(workspace=workspace, role__key=catalog.OWNER, role__builtin=True))


def _second_owner(workspace, owner):
    other = add_member(workspace, catalog.ADMIN)
    ownership_transfer(actor=owner, workspace=workspace, to=other)
    return Membership.objects.get(pk=other.pk)


# --- rule 1: the last owner -------------------------------------------------------------------


def test_last_owner_cannot_leave(workspace, owner):
    events = AuditEvent.objects.count()
    with pytest.raises(RuleViolation, match="last owner"):
        member_leave(membership=_owner_membership(workspace, owner))
    assert Membership.objects.filter(workspace=workspace, user=owner).exists()
    assert AuditEvent.objects.count() == events


def test_owner_can_leave_once_another_owner_exists(workspace, owner):
    other = _second_owner(workspace, owner)
    member_leave(membership=_owner_membership(workspace, owner))
    assert _owners(workspace) == {other}


def test_last_owner_cannot_be_removed(workspace, owner):
    with pytest.raises(RuleViolation, match="last owner"):
        member_remove(actor=None, membership=_owner_membership(workspace, owner))
    assert Membership.objects.filter(workspace=workspace, user=owner).exists()


def test_owner_can_be_removed_by_another_owner(workspace, owner):
    other = _second_owner(workspace, owner)
    member_remove(actor=other.user, membership=_owner_membership(workspace, owner))
    assert _owners(workspace) == {other}


@pytest.mark.parametrize("actor_is_self", [True, False])
def test_last_owner_cannot_be_demoted(workspace, owner, actor_is_self):
    with pytest.raises(RuleViolation, match="last owner"):
        member_change_role(
            actor=owner if actor_is_self else None,
            membership=_owner_membership(workspace, owner),
            role=_role(catalog.ADMIN),
        )
    assert _owner_membership(workspace, owner).role.key == catalog.OWNER
    assert not AuditEvent.objects.filter(action="member.role_change").exists()


def test_deactivated_owner_does_not_count(workspace, owner):
    other = _second_owner(workspace, owner)
    other.user.is_active = False
    other.user.save(update_fields=["is_active"])
    with pytest.raises(RuleViolation, match="last owner"):
        member_leave(membership=_owner_membership(workspace, owner))


def test_owner_can_be_demoted_once_another_owner_exists(workspace, owner):
    other = _second_owner(workspace, owner)
    member_change_role(actor=other.user, membership=_owner_membership(workspace, owner), role=_role(catalog.ADMIN))
    assert _owners(workspace) == {other}


# --- rule 4: one's own role --------------------------------------------------------------------


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_admin_cannot_change_own_role(workspace, role_key):
    admin = add_member(workspace, catalog.ADMIN)
    with pytest.raises(RuleViolation, match="your own role"):
        member_change_role(actor=admin.user, membership=admin, role=_role(role_key))
    admin.refresh_from_db()
    assert admin.role.key == catalog.ADMIN


def test_member_cannot_raise_own_role(workspace):
    member = add_member(workspace, catalog.MEMBER)
    with pytest.raises(PermissionDenied):
        member_change_role(actor=member.user, membership=member, role=_role(catalog.ADMIN))
    member.refresh_from_db()
    assert member.role.key == catalog.MEMBER


def test_owner_steps_down_when_another_owner_exists(workspace, owner):
    mine = _owner_membership(workspace, owner)
    with pytest.raises(RuleViolation, match="last owner"):
        member_change_role(actor=owner, membership=mine, role=_role(catalog.ADMIN))
    other = _second_owner(workspace, owner)
    member_change_role(actor=owner, membership=mine, role=_role(catalog.ADMIN))
    assert _owners(workspace) == {other}


def test_ownership_transfer_with_step_down(workspace, owner):
    admin = add_member(workspace, catalog.ADMIN)
    ownership_transfer(actor=owner, workspace=workspace, to=admin, step_down=True)
    assert _owners(workspace) == {Membership.objects.get(pk=admin.pk)}
    assert _owner_membership(workspace, owner).role.key == catalog.ADMIN


# --- only owners touch Owner ----------------------------------------------------------------------


def test_admin_cannot_make_an_owner(workspace, owner):
    admin, member = add_member(workspace, catalog.ADMIN), add_member(workspace, catalog.MEMBER)
    with pytest.raises(PermissionDenied):
        member_change_role(actor=admin.user, membership=member, role=_role(catalog.OWNER))
    with pytest.raises(PermissionDenied):
        ownership_transfer(actor=admin.user, workspace=workspace, to=member)
    assert _owners(workspace) == {_owner_membership(workspace, owner)}


def test_admin_cannot_unmake_or_remove_an_owner(workspace, owner):
    admin = add_member(workspace, catalog.ADMIN)
    other = _second_owner(workspace, owner)
    with pytest.raises(PermissionDenied):
        member_change_role(actor=admin.user, membership=other, role=_role(catalog.MEMBER))
    with pytest.raises(PermissionDenied):
        member_remove(actor=admin.user, membership=other)
    assert len(_owners(workspace)) == 2


def test_owner_can_make_an_owner(workspace, owner):
    member = add_member(workspace, catalog.MEMBER)
    member_change_role(actor=owner, membership=member, role=_role(catalog.OWNER))
    assert len(_owners(workspace)) == 2


# --- two owners demoting each other at the same moment ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_mutual_demotion_leaves_one_owner(owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks; SQLite serialises writers anyway")
    from tests.factories import make_workspace

    workspace = make_workspace(owner, "Race")
    other = add_member(workspace, catalog.ADMIN)
    ownership_transfer(actor=owner, workspace=workspace, to=other)
    first, second = _owner_membership(workspace, owner), Membership.objects.get(pk=other.pk)
    barrier = threading.Barrier(2, timeout=30)
    outcomes = []

    def demote(actor, target):
        from django.db import connections

        try:
            barrier.wait()
            member_change_role(actor=actor, membership=target, role=_role(catalog.ADMIN))
            outcomes.append("demoted")
        except (RuleViolation, PermissionDenied) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=demote, args=(owner, second)),
        threading.Thread(target=demote, args=(other.user, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count("demoted") == 1
    assert len(_owners(workspace)) == 1
