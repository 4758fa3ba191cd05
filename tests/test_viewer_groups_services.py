"""Viewer-group services: who may change groups, names and addresses normalised and never
duplicated, one audit event per change, and a group that a published experience depends on."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from tests.factories import UserFactory, add_member, make_experience, make_workspace, viewer_group_member_add
from workspaces.experiences.services import experience_publish
from workspaces.models import ViewerGroup, ViewerGroupMember
from workspaces.viewer_groups.services import (
    viewer_group_create,
    viewer_group_delete,
    viewer_group_member_remove,
    viewer_group_members_add,
    viewer_group_update,
)

pytestmark = pytest.mark.django_db


def events(action):
    return list(AuditEvent.objects.filter(action=action))


def addresses(group):
    return sorted(group.members.values_list("email", flat=True))


@pytest.fixture
def member(workspace):
    return add_member(workspace, catalog.MEMBER).user


@pytest.fixture
def group(workspace, owner):
    return viewer_group_create(actor=owner, workspace=workspace, name="Press")


# --- groups ---


def test_member_creates_a_group_with_one_event(workspace, member):
    group = viewer_group_create(actor=member, workspace=workspace, name="  Board   members ")
    assert group.name == "Board members"
    [event] = events("viewer_group.create")
    assert (event.actor, event.target_id, event.after) == (member, str(group.pk), {"name": "Board members"})


@pytest.mark.parametrize("role_key", [catalog.VIEWER, catalog.BILLING_ADMIN])
def test_roles_without_the_capability_are_refused(workspace, group, role_key):
    actor = add_member(workspace, role_key).user
    calls = [
        lambda: viewer_group_create(actor=actor, workspace=workspace, name="Mine"),
        lambda: viewer_group_update(actor=actor, group=group, name="Renamed"),
        lambda: viewer_group_delete(actor=actor, group=group),
        lambda: viewer_group_member_add(actor=actor, group=group, email="a@example.com"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert list(ViewerGroup.objects.values_list("name", flat=True)) == ["Press"]
    assert not ViewerGroupMember.objects.exists()


def test_people_of_another_workspace_are_refused(group):
    stranger = UserFactory()
    make_workspace(stranger, "Other")
    with pytest.raises(PermissionDenied):
        viewer_group_member_add(actor=stranger, group=group, email="a@example.com")
    with pytest.raises(PermissionDenied):
        viewer_group_update(actor=stranger, group=group, name="Mine now")
    assert not ViewerGroupMember.objects.exists()


@pytest.mark.parametrize("name", ["press", "PRESS", " Press "])
def test_duplicate_names_are_refused_in_any_case(workspace, owner, group, name):
    with pytest.raises(RuleViolation, match="already exists"):
        viewer_group_create(actor=owner, workspace=workspace, name=name)
    assert ViewerGroup.objects.count() == 1
    assert len(events("viewer_group.create")) == 1


def test_the_same_name_is_fine_in_another_workspace(group):
    other = make_workspace(UserFactory(), "Other")
    assert viewer_group_create(actor=None, workspace=other, name="Press").name == "Press"


def test_blank_name_is_refused(workspace, owner):
    with pytest.raises(RuleViolation, match="Give the viewer group a name"):
        viewer_group_create(actor=owner, workspace=workspace, name="   ")
    assert not ViewerGroup.objects.exists()


def test_rename_records_before_and_after_once(workspace, owner, group):
    viewer_group_create(actor=owner, workspace=workspace, name="Partners")
    viewer_group_update(actor=owner, group=group, name="Journalists")
    viewer_group_update(actor=owner, group=group, name="Journalists")  # no change, no event
    [event] = events("viewer_group.update")
    assert (event.before, event.after) == ({"name": "Press"}, {"name": "Journalists"})
    with pytest.raises(RuleViolation, match="already exists"):
        viewer_group_update(actor=owner, group=group, name="partners")
    group.refresh_from_db()
    assert group.name == "Journalists"
    # Changing only the letter case of its own name is allowed.
    viewer_group_update(actor=owner, group=group, name="JOURNALISTS")
    assert len(events("viewer_group.update")) == 2


def test_delete_records_one_event(owner, group):
    viewer_group_member_add(actor=owner, group=group, email="a@example.com")
    viewer_group_delete(actor=owner, group=group)
    assert not ViewerGroup.objects.exists() and not ViewerGroupMember.objects.exists()
    [event] = events("viewer_group.delete")
    assert event.before == {"name": "Press", "addresses": 1}


def test_the_only_group_of_a_published_restricted_experience_cannot_be_deleted(workspace, owner, group):
    experience = make_experience(workspace, title="Launch film")
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group])
    with pytest.raises(RuleViolation, match="only viewer group of the published experience"):
        viewer_group_delete(actor=owner, group=group)
    assert ViewerGroup.objects.filter(pk=group.pk).exists()
    assert not events("viewer_group.delete")

    # With a second group, or once unpublished, it can go.
    backup = viewer_group_create(actor=owner, workspace=workspace, name="Backup")
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group, backup])
    viewer_group_delete(actor=owner, group=group)
    assert list(experience.viewer_groups.all()) == [backup]


# --- addresses ---


def test_addresses_are_normalised_and_audited_one_by_one(owner, group):
    added = viewer_group_members_add(actor=owner, group=group, emails=" Ada@Example.COM,\nbob@example.com ; ")
    assert [m.email for m in added] == ["ada@example.com", "bob@example.com"]
    assert addresses(group) == ["ada@example.com", "bob@example.com"]
    assert sorted(e.after["email"] for e in events("viewer_group.member_add")) == addresses(group)
    assert {e.target_id for e in events("viewer_group.member_add")} == {str(group.pk)}


@pytest.mark.parametrize("again", ["ada@example.com", "ADA@example.com", " Ada@Example.Com "])
def test_an_address_already_in_the_group_is_refused_in_any_case(owner, group, again):
    viewer_group_member_add(actor=owner, group=group, email="ada@example.com")
    with pytest.raises(RuleViolation, match="already in “Press”"):
        viewer_group_members_add(actor=owner, group=group, emails=["new@example.com", again])
    assert addresses(group) == ["ada@example.com"]  # the valid one was not added either
    assert len(events("viewer_group.member_add")) == 1


def test_an_address_given_twice_is_refused(owner, group):
    with pytest.raises(RuleViolation, match="given twice"):
        viewer_group_members_add(actor=owner, group=group, emails="ada@example.com, ADA@example.com")
    assert addresses(group) == []


def test_bad_addresses_are_named_and_nothing_is_written(owner, group):
    with pytest.raises(RuleViolation) as caught:
        viewer_group_members_add(actor=owner, group=group, emails="ok@example.com, not-an-address, also@bad")
    assert caught.value.messages == [
        "“not-an-address” is not a valid e-mail address.",
        "“also@bad” is not a valid e-mail address.",
    ]
    assert addresses(group) == [] and not events("viewer_group.member_add")


def test_nothing_to_add_is_refused(owner, group):
    with pytest.raises(RuleViolation, match="at least one"):
        viewer_group_members_add(actor=owner, group=group, emails=" , ")


def test_the_same_address_may_be_in_two_groups(workspace, owner, group):
    other = viewer_group_create(actor=owner, workspace=workspace, name="Partners")
    viewer_group_member_add(actor=owner, group=group, email="ada@example.com")
    viewer_group_member_add(actor=owner, group=other, email="ada@example.com")
    assert ViewerGroupMember.objects.count() == 2


def test_remove_records_one_event(owner, group):
    member = viewer_group_member_add(actor=owner, group=group, email="ada@example.com")
    viewer_group_member_remove(actor=owner, group=group, member=member)
    viewer_group_member_remove(actor=owner, group=group, member=member)  # already gone: no change
    assert addresses(group) == []
    [event] = events("viewer_group.member_remove")
    assert event.before == {"email": "ada@example.com"}


def test_removing_an_address_of_another_group_is_refused(workspace, owner, group):
    other = viewer_group_create(actor=owner, workspace=workspace, name="Partners")
    member = viewer_group_member_add(actor=owner, group=other, email="ada@example.com")
    with pytest.raises(RuleViolation):
        viewer_group_member_remove(actor=owner, group=group, member=member)
    assert addresses(other) == ["ada@example.com"]
