"""Reads of the audit log for the activity page and its export.

Everything is scoped to one workspace. The filters compare the actor's e-mail as it was recorded,
so events stay findable after the account is gone, and dates are days in the workspace's time
zone, as the page shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from .models import AuditEvent


@dataclass(frozen=True)
class EventFilters:
    person: str = ""
    exact: bool = False  # the person is a whole e-mail address, not a part of one
    action: str = ""
    since: date | None = None  # first day shown
    until: date | None = None  # last day shown


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def workspace_events(workspace, filters: EventFilters | None = None) -> QuerySet[AuditEvent]:
    """The workspace's events, newest first, narrowed by ``filters``.

    Each row carries the actor's e-mail and the target's name as text, so a page of events needs no
    join and no further query.
    """
    filters = filters or EventFilters()
    events = AuditEvent.objects.filter(workspace=workspace).order_by("-created_at", "-id")
    if filters.person:
        lookup = "actor_email__iexact" if filters.exact else "actor_email__icontains"
        events = events.filter(**{lookup: filters.person})
    if filters.action:
        events = events.filter(action=filters.action)
    zone = ZoneInfo(workspace.time_zone)
    if filters.since:
        events = events.filter(created_at__gte=_start_of(filters.since, zone))
    if filters.until:
        events = events.filter(created_at__lt=_start_of(filters.until + timedelta(days=1), zone))
    return events


def workspace_actions(workspace) -> list[str]:
    """The actions that occur in the workspace's log, for the action filter: one query."""
    actions = AuditEvent.objects.filter(workspace=workspace).order_by("action").values_list("action", flat=True)
    return list(actions.distinct())
