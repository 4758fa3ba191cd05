"""The people page's bulk actions: POST a selection of members (or invitations) and an action, see
what happened to each row on the report page.

The selection is the rows ticked, or every row matching the page's filter, which is resolved here,
at the time of the action, never taken from the browser as a list. The action's capability is
required first (403); the services check it again, with the rules, per row (``people.bulk``).
The report is kept in the session and shown by a GET, so reloading it repeats nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView, View

from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin, flash_errors
from permissions import catalog
from permissions.selectors import roles_of
from workspaces.people import bulk
from workspaces.people.bulk_forms import ALL, INVITE_ACTIONS, MEMBER_ACTIONS, BulkInvitesForm, BulkMembersForm
from workspaces.people.search import MemberFilterForm, filter_query
from workspaces.people.selectors import matching_member_ids, pending_invite_ids, teams_of

TOO_MANY = (
    "More than {limit:,} match: narrow the search (by role, team or joining date) and repeat for the rest. "
    "Nothing was changed."
)


def _within_limit(ids: list[int]) -> list[int]:
    """The ids of "all matching", read with one more than the limit to tell when there are too many."""
    if not ids:
        raise RuleViolation("Nothing matches; nothing was changed.")
    if len(ids) > bulk.MAX_BATCH:
        raise RuleViolation(TOO_MANY.format(limit=bulk.MAX_BATCH))
    return ids


def _report_key(workspace) -> str:
    return f"people-bulk-report:{workspace.pk}"


class BulkActionView(WorkspaceMixin, View):
    """A bulk POST: the action's capability (403), the form, the service, then the report page."""

    required_capability = "view_members"
    http_method_names = ["post"]
    actions: dict[str, str] = {}

    def post(self, request, *args, **kwargs):
        capability = self.actions.get(request.POST.get("action", ""))
        if capability is None:
            messages.error(request, "Choose what to do with the selection; nothing was changed.")
            return self.back()
        self.access.require(capability, self.workspace)
        form = self.get_form()
        if not form.is_valid():
            flash_errors(request, [e for errors in form.errors.values() for e in errors])
            return self.back()
        try:
            report = self.act(form.cleaned_data)
        except RuleViolation as exc:
            flash_errors(request, exc.messages)
            return self.back()
        data = report.as_data()
        data["back"] = self.back_query()
        request.session[_report_key(self.workspace)] = data
        return redirect("people:bulk_report", self.workspace.slug)

    def back_query(self) -> str:
        return ""

    def back(self):
        return redirect(reverse("people:index", args=[self.workspace.slug]) + self.back_query())


class BulkMembersView(BulkActionView):
    actions = MEMBER_ACTIONS

    @cached_property
    def teams(self) -> list:
        return teams_of(self.workspace)

    @cached_property
    def filter_params(self) -> QueryDict:
        return QueryDict(self.request.POST.get("filter", "")[:4000])

    def get_form(self) -> BulkMembersForm:
        roles = list(roles_of(self.workspace, catalog.WORKSPACE))
        return BulkMembersForm(self.request.POST, roles=roles, teams=self.teams)

    def back_query(self) -> str:
        return filter_query(self.filter_params)

    def member_ids(self, data) -> list[int]:
        if data["scope"] != ALL:
            return data["ids"]
        filters = MemberFilterForm(
            self.filter_params, roles=roles_of(self.workspace, catalog.WORKSPACE), teams=self.teams
        )
        return _within_limit(matching_member_ids(self.workspace, filters.criteria(), bulk.MAX_BATCH))

    def act(self, data) -> bulk.BulkReport:
        shared = {"actor": self.request.user, "workspace": self.workspace, "member_ids": self.member_ids(data)}
        action = data["action"]
        if action == "role":
            return bulk.members_change_role(role=data["role"], **shared)
        if action == "team_add":
            return bulk.members_team_add(team=data["team"], **shared)
        if action == "team_remove":
            return bulk.members_team_remove(team=data["team"], **shared)
        return bulk.members_remove(**shared)


class BulkInvitesView(BulkActionView):
    actions = INVITE_ACTIONS

    def get_form(self) -> BulkInvitesForm:
        return BulkInvitesForm(self.request.POST)

    def act(self, data) -> bulk.BulkReport:
        ids = data["ids"] if data["scope"] != ALL else _within_limit(pending_invite_ids(self.workspace, bulk.MAX_BATCH))
        service = bulk.invites_resend if data["action"] == "resend" else bulk.invites_revoke
        return service(actor=self.request.user, workspace=self.workspace, invite_ids=ids)


class BulkReportView(WorkspaceMixin, TemplateView):
    """What the last bulk action did, row by row (kept in the session; nothing is repeated)."""

    required_capability = "view_members"
    template_name = "workspaces/people_bulk_report.html"

    def get(self, request, *args, **kwargs):
        if _report_key(self.workspace) not in request.session:
            return redirect("people:index", self.workspace.slug)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.session[_report_key(self.workspace)]
        rows = [bulk.RowReport(*row) for row in data["rows"]]
        context.update(
            title=data["title"],
            rows=rows,
            counts={
                outcome: sum(1 for row in rows if row.outcome == outcome)
                for outcome in (bulk.CHANGED, bulk.UNCHANGED, bulk.REFUSED)
            },
            back_url=reverse("people:index", args=[self.workspace.slug]) + data.get("back", ""),
        )
        return context
