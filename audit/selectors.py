"""Reads of the audit log for the activity page and its export.

Everything is scoped to one workspace. The filters compare the actor's e-mail as it was recorded,
so events stay findable after the account is gone, and dates are days in the workspace's time
zone, as the page shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from .models import AuditEvent
from .wording import ACTION_WORDS

EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


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


def known_actions() -> list[str]:
    """Every action the portal records, for the action filter. From the wording table, not from the
    log: a DISTINCT over millions of events on every view would cost more than the page."""
    return list(ACTION_WORDS)


# --- keyset pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventPage:
    """One page of events, newest first, with the cursors of the pages around it (None: no page)."""

    events: list[AuditEvent]
    older: str | None
    newer: str | None


def cursor_of(event: AuditEvent) -> str:
    """The event's place in the log: its time in microseconds and its id, "1700000000000000-42"."""
    return f"{(event.created_at - EPOCH) // timedelta(microseconds=1)}-{event.pk}"


def _parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    micros, _, pk = (cursor or "").partition("-")
    if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()) or len(cursor) > 40:
        return None  # anything else starts from the newest: a page never fails on a cursor
    try:
        return EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except OverflowError:
        return None


def event_page(events: QuerySet[AuditEvent], *, older_than: str | None, newer_than: str | None, size: int) -> EventPage:
    """A page of ``size`` events after a cursor, by keyset on (time, id): one query at any depth and
    any size of log, with no count. Events written in one batch share a time; the id orders them."""
    after, before = _parse_cursor(newer_than), _parse_cursor(older_than)
    if after is not None:
        when, pk = after
        rows = list(
            events.filter(Q(created_at__gt=when) | Q(created_at=when, id__gt=pk)).order_by("created_at", "id")[
                : size + 1
            ]
        )
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return EventPage(
            rows, cursor_of(rows[-1]) if rows else None, cursor_of(rows[0]) if rows and more_newer else None
        )
    if before is not None:
        when, pk = before
        events = events.filter(Q(created_at__lt=when) | Q(created_at=when, id__lt=pk))
    rows = list(events.order_by("-created_at", "-id")[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    older = cursor_of(rows[-1]) if rows and more_older else None
    newer = cursor_of(rows[0]) if rows and before is not None else None
    return EventPage(rows, older, newer)
