"""The people page's bulk actions: POST a selection of members (or invitations) and an action, see
what happened to each row on the report page.

The selection is the rows ticked, or every row matching the page's filter, which is resolved here,
at the time of the action, never taken from the browser as a list. The action's capability is
required first (403); the services check it again, with the rules, per row (``people.bulk``).
The report is kept in the session and shown by a GET, so reloading it repeats nothing. An action
that takes something away (removing, taking out of a team, revoking, a role change that takes Owner
away from someone) is confirmed first (``kernel.confirm``): the page says how many and what happens.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmFormMixin
from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin, flash_errors
from permissions import catalog
from permissions.selectors import roles_of
from workspaces.people import bulk
from workspaces.people.bulk_forms import ALL, INVITE_ACTIONS, MEMBER_ACTIONS, BulkInvitesForm, BulkMembersForm
from workspaces.people.search import MemberFilterForm, filter_query
from workspaces.people.selectors import matching_member_ids, pending_invite_ids, teams_of
from workspaces.selectors import owners_among

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


class BulkActionView(ConfirmFormMixin, WorkspaceMixin, ContextMixin, View):
    """A bulk POST: the action's capability (403), the form, the selection, the confirmation when
    the action takes something away, the service, then the report page."""

    required_capability = "view_members"
    http_method_names = ["post"]
    actions: dict[str, str] = {}
    ids: list[int] = []

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
        self.confirming_form = form
        try:
            self.ids = self.selection(form.cleaned_data)
            asking = self.unconfirmed()
            if asking is not None:
                return asking
            report = self.act(form.cleaned_data, self.ids)
        except RuleViolation as exc:
            flash_errors(request, exc.messages)
            return self.back()
        data = report.as_data()
        data["back"] = self.back_query()
        request.session[_report_key(self.workspace)] = data
        return redirect("people:bulk_report", self.workspace.slug)

    def back_query(self) -> str:
        return ""

    def back_url(self) -> str:
        return reverse("people:index", args=[self.workspace.slug]) + self.back_query()

    def back(self):
        return redirect(self.back_url())

    def who(self, noun: str) -> str:
        """The selection in words: "the 3 members ticked", "all 120 members matching the search"."""
        data, count = self.confirming_form.cleaned_data, len(self.ids)
        plural = noun if count == 1 else f"{noun}s"
        if data["scope"] == ALL:
            return f"all {count:,} {plural}" + (" matching the search" if self.back_query() else "")
        return f"the {count:,} {plural} ticked" if count > 1 else f"the {noun} ticked"

    def asking(self, title: str, button: str, *consequences: str) -> Confirmation:
        return Confirmation(title=title, button=button, cancel_url=self.back_url(), consequences=list(consequences))


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

    def selection(self, data) -> list[int]:
        if data["scope"] != ALL:
            return data["ids"]
        filters = MemberFilterForm(
            self.filter_params, roles=roles_of(self.workspace, catalog.WORKSPACE), teams=self.teams
        )
        return _within_limit(matching_member_ids(self.workspace, filters.criteria(), bulk.MAX_BATCH))

    def confirmation(self) -> Confirmation | None:
        data, workspace = self.confirming_form.cleaned_data, self.workspace
        who = self.who("member")
        if data["action"] == "remove":
            return self.asking(
                f"Remove {who} from {workspace}?",
                "Remove them",
                f"Each of {who} loses their role, site grants, teams and collaborations in {workspace}, at once. "
                "Their experiences stay; to come back they need a new invitation.",
                "Someone who owns a site is left as they are: remove them on their own row to name who owns "
                "the site next.",
            )
        if data["action"] == "team_remove":
            team = data["team"]
            return self.asking(
                f"Take {who} out of the team “{team.name}”?",
                f"Take them out of “{team.name}”",
                f"Each of {who} loses what “{team.name}” gives on its sites, at once, unless their own grants or "
                "another team give it too.",
            )
        role = data["role"] if data["action"] == "role" else None
        demoting = role is not None and not role.is_owner and self.access.has("manage_owners", workspace)
        owners = owners_among(workspace, self.ids) if demoting else 0
        if not owners:
            # Adding to a team, a role change that takes Owner away from nobody, or one by someone
            # who may not (the report then says so for each owner; nothing changes for them).
            return None
        return self.asking(
            f"Take Owner away from {owners} of {who}?",
            f"Make them {role}",
            f"Of {who}, {owners} {'is an owner' if owners == 1 else 'are owners'} of {workspace}: they become "
            f"{role} at once and lose what only owners may do (billing, owners, deleting the workspace).",
            "Only an owner can make them an owner again.",
        )

    def act(self, data, ids: list[int]) -> bulk.BulkReport:
        shared = {"actor": self.request.user, "workspace": self.workspace, "member_ids": ids}
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

    def selection(self, data) -> list[int]:
        if data["scope"] != ALL:
            return data["ids"]
        return _within_limit(pending_invite_ids(self.workspace, bulk.MAX_BATCH))

    def confirmation(self) -> Confirmation | None:
        if self.confirming_form.cleaned_data["action"] != "revoke":
            return None  # resending: each gets a new link
        who = self.who("invitation")
        return self.asking(
            f"Revoke {who}?",
            "Revoke them",
            f"The links of {who} stop working at once; nobody can join {self.workspace} with them.",
            "You can invite the addresses again later; each gets a new link.",
        )

    def act(self, data, ids: list[int]) -> bulk.BulkReport:
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
