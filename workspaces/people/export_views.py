"""The members export in the browser: /w/<workspace>/people/export.csv and export.json.

The same columns as ``manage.py export_members``, for holders of ``export_members`` only, of the
members the people page's search and filters select (its ``q``, ``role``, ``team``, ``two_factor``,
``joined_since`` and ``sort`` parameters; pages do not apply: the whole selection is exported). The
response is streamed from an iterator that reads the members a chunk at a time, so memory does not
grow with the number of rows; CSV cells go through the one formula-safe writer.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.generic import View

from kernel.views import WorkspaceMixin
from permissions import catalog
from permissions.selectors import roles_of
from portal.csv_export import csv_lines
from portal.json_export import json_lines
from workspaces.people.search import EXPORT_COLUMNS, MemberFilterForm, export_cells
from workspaces.people.selectors import export_rows, members_matching, teams_of


class MembersExportView(WorkspaceMixin, View):
    required_capability = "export_members"
    http_method_names = ["get", "head"]
    content_types = {"csv": "text/csv; charset=utf-8", "json": "application/json"}

    def get(self, request, *args, format: str, **kwargs):
        roles = roles_of(self.workspace, catalog.WORKSPACE).prefetch_related(None)
        criteria = MemberFilterForm(request.GET, roles=roles, teams=teams_of(self.workspace)).criteria()
        rows = export_rows(members_matching(self.workspace, criteria))
        lines = json_lines(rows) if format == "json" else csv_lines(EXPORT_COLUMNS, map(export_cells, rows))
        response = StreamingHttpResponse(lines, content_type=self.content_types[format])
        day = timezone.localdate()
        response["Content-Disposition"] = (
            f'attachment; filename="members-{self.workspace.slug}-{day:%Y-%m-%d}.{format}"'
        )
        return response
