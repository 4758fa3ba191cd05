"""Data request writes: filing needs the request capability of the kind AND view_site on the site;
staff move a request along with one audit event per change."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from privacy.models import DataRequest
from privacy.services import data_request_create, data_request_set_status
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(workspace):
    return make_site(workspace, "Shop")


@pytest.fixture
def member(workspace):
    return add_member(workspace, catalog.MEMBER)


def create(actor, workspace, site, kind="export", subject="visitor-1", note=""):
    return data_request_create(actor=actor, workspace=workspace, site=site, kind=kind, subject=subject, note=note)


def test_a_member_needs_a_way_to_see_the_site(workspace, member, shop):
    with pytest.raises(PermissionDenied):
        create(member.user, workspace, shop)
    assert not DataRequest.objects.exists()
    # a team's grant is as good as their own
    team = make_team(workspace, "Support")
    team_add_member(actor=None, team=team, membership=member)
    site_grant_set(actor=None, site=shop, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), team=team)
    assert create(member.user, workspace, shop).requested_by == member.user


def test_a_viewer_sees_every_site_but_may_not_ask(workspace, shop):
    viewer = add_member(workspace, catalog.VIEWER).user
    for kind in ("export", "deletion"):
        with pytest.raises(PermissionDenied):
            create(viewer, workspace, shop, kind=kind)
    assert not DataRequest.objects.exists()


def test_an_outsider_may_not_ask(workspace, shop):
    stranger = make_workspace(UserFactory(), "Other").memberships.get().user
    with pytest.raises(PermissionDenied):
        create(stranger, workspace, shop)


def test_a_site_of_another_workspace_is_refused(workspace, owner, shop):
    other = make_workspace(owner, "Other")
    with pytest.raises(RuleViolation, match="not in this workspace"):
        create(owner, other, shop)
    assert not DataRequest.objects.exists()


def test_an_unknown_kind_is_refused(workspace, owner, shop):
    with pytest.raises(RuleViolation, match="Choose an export or a deletion"):
        create(owner, workspace, shop, kind="erase")


def test_filing_writes_one_event_without_the_tracked_person(workspace, owner, shop):
    before = AuditEvent.objects.count()
    request = create(owner, workspace, shop, kind="deletion", subject=" jane@shopper.test ", note=" asap ")
    assert (request.subject, request.note, request.site_name, request.status) == (
        "jane@shopper.test",
        "asap",
        "Shop",
        "received",
    )
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="data_request.create")
    assert "jane@shopper.test" not in f"{event.before}{event.after}{event.target_repr}"


def test_staff_move_a_request_along_with_one_event_per_change(workspace, owner, shop):
    staff = UserFactory(is_staff=True)
    request = create(owner, workspace, shop)
    before = AuditEvent.objects.count()
    data_request_set_status(data_request=request, status="in_progress", actor=staff)
    data_request_set_status(data_request=request, status="in_progress", actor=staff)  # nothing changes
    assert AuditEvent.objects.count() == before + 1
    data_request_set_status(data_request=request, status="completed", staff_note="Sent on 3 May.", actor=staff)
    request.refresh_from_db()
    assert (request.status, request.staff_note, request.handled_by) == ("completed", "Sent on 3 May.", staff)
    assert request.handled_at is not None
    events = list(AuditEvent.objects.filter(action="data_request.status").order_by("id"))
    assert [(e.before["status"], e.after["status"]) for e in events] == [
        ("received", "in_progress"),
        ("in_progress", "completed"),
    ]
    assert all(e.actor == staff for e in events)  # the staff member who acted is named


def test_a_finished_request_keeps_its_status_but_its_note_can_be_corrected(workspace, owner, shop):
    request = create(owner, workspace, shop)
    data_request_set_status(data_request=request, status="rejected", staff_note="Unknown id.")
    before = AuditEvent.objects.count()
    with pytest.raises(RuleViolation, match="is rejected: its status no longer changes"):
        data_request_set_status(data_request=request, status="in_progress")
    with pytest.raises(RuleViolation, match="not a request status"):
        data_request_set_status(data_request=request, status="lost")
    assert AuditEvent.objects.count() == before
    data_request_set_status(data_request=request, status="rejected", staff_note="Unknown id on Shop.")
    request.refresh_from_db()
    assert (request.status, request.staff_note) == ("rejected", "Unknown id on Shop.")
    assert AuditEvent.objects.count() == before + 1
    # a finished request no longer blocks a new one for the same person
    assert create(owner, workspace, shop).pk != request.pk
