"""The activity page: the workspace's audit log, filtered, paginated and exported as CSV.

Both pages need ``view_member_activity`` and only read: there is nothing here to edit or delete
(the model refuses both anyway). A page costs the same number of queries whatever the size of the
log, and the export streams the rows from one query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View

from kernel.views import WorkspaceMixin
from portal.csv_export import csv_lines as export_lines

from .forms import ActivityFilterForm
from .models import AuditEvent
from .selectors import event_page, known_actions, workspace_events
from .wording import FieldChange, action_label, as_json, field_changes, target_label, target_type_label

PER_PAGE = 50
PAGE_PARAMETERS = ("before", "after")  # the keyset cursors: where a page starts, not what it shows
CSV_COLUMNS = ["time", "actor", "action", "target type", "target", "before", "after", "ip address"]
EXPORT_FIELDS = ("created_at", "actor_email", "action", "target_type", "target_repr", "before", "after", "ip_address")


@dataclass(frozen=True)
class EventRow:
    """One event as the page shows it."""

    event: AuditEvent
    when: datetime
    actor: str
    action: str
    target_type: str
    target: str
    changes: list[FieldChange]


def event_row(event: AuditEvent, zone: ZoneInfo) -> EventRow:
    return EventRow(
        event=event,
        when=timezone.localtime(event.created_at, zone),
        actor=event.actor_email or "system",
        action=action_label(event.action),
        target_type=target_type_label(event.target_type),
        target=target_label(event.target_type, event.target_repr, event.before, event.after),
        changes=field_changes(event.before, event.after),
    )


class ActivityView(WorkspaceMixin, TemplateView):
    required_capability = "view_member_activity"
    http_method_names = ["get", "head"]
    template_name = "audit/activity.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET
        filters = {key: value for key, value in query.items() if key not in PAGE_PARAMETERS}
        form = ActivityFilterForm(filters or None, actions=known_actions())
        context["form"] = form
        if form.is_bound and not form.is_valid():
            return context  # the errors say what to fix; no rows that the filters did not ask for
        events = workspace_events(self.workspace, form.filters() if form.is_bound else None)
        page = event_page(events, older_than=query.get("before"), newer_than=query.get("after"), size=PER_PAGE)
        zone = ZoneInfo(self.workspace.time_zone)
        context.update(
            page=page,
            rows=[event_row(event, zone) for event in page.events],
            export_url=_with_query(reverse("activity:export", args=[self.workspace.slug]), query),
        )
        return context


class ActivityExportView(WorkspaceMixin, View):
    required_capability = "view_member_activity"
    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
        form = ActivityFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            # Back to the page, which shows what is wrong with the filters.
            return redirect(_with_query(reverse("activity:index", args=[self.workspace.slug]), request.GET))
        events = workspace_events(self.workspace, form.filters() if form.is_bound else None)
        day = timezone.localdate(timezone.now(), ZoneInfo(self.workspace.time_zone))
        response = StreamingHttpResponse(
            csv_lines(events.values_list(*EXPORT_FIELDS), ZoneInfo(self.workspace.time_zone)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="activity-{self.workspace.slug}-{day:%Y-%m-%d}.csv"'
        return response


def _with_query(url: str, query) -> str:
    query = {key: value for key, value in query.items() if key not in PAGE_PARAMETERS and value}
    return f"{url}?{urlencode(query)}" if query else url


def csv_lines(rows: QuerySet, zone: ZoneInfo) -> Iterator[str]:
    """The CSV header, then one line per ``EXPORT_FIELDS`` row. ``iterator`` reads the rows in
    chunks from one query (a server-side cursor on PostgreSQL), so memory stays flat. Cells that a
    spreadsheet would run as a formula are defused by the shared CSV writer."""

    def cells(row):
        created_at, actor_email, action, target_type, target_repr, before, after, ip_address = row
        target = target_label(target_type, target_repr, before, after)
        when = timezone.localtime(created_at, zone).isoformat()
        return [when, actor_email or "system", action, target_type, target, as_json(before), as_json(after), ip_address]

    return export_lines(CSV_COLUMNS, map(cells, rows.iterator(chunk_size=2000)))
