"""Home and workspace pages: the person's workspaces, creating one, and one workspace's overview.

Views stay thin: reads come from ``selectors``, writes from ``services``, decisions from the policy
(``request.access``). The site and experience pages live in ``views_sites`` and
``views_experiences``.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.generic import FormView, TemplateView

from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin
from workspaces.overview.forms import TypedConfirmationForm, WorkspaceForm
from workspaces.overview.services import workspace_create, workspace_delete
from workspaces.people.selectors import active_owner_count, sites_owned
from workspaces.people.views import LeaveView
from workspaces.selectors import (
    memberships_of,
    visible_experiences,
    visible_site_counts,
    workspace_contents,
)
from workspaces.sites.selectors import sites_listed

SITES_PREVIEW = 10  # sites on the workspace page; the sites list has them all, a page at a time


def home(request):
    """The person's workspaces with their role and the number of sites they can see: two queries
    whatever the number of workspaces and sites."""
    memberships = list(memberships_of(request.user))
    counts = visible_site_counts(request.access, [m.workspace_id for m in memberships])
    rows = [(membership, counts.get(membership.workspace_id, 0)) for membership in memberships]
    return render(request, "workspaces/home.html", {"rows": rows})


def add_rule_violation(form, exc: RuleViolation) -> None:
    """Show a service's refusal on the form, above the fields."""
    form.add_error(None, exc.messages)


class WorkspaceCreateView(FormView):
    """Anyone signed in may start a workspace; they become its Owner."""

    template_name = "workspaces/workspace_form.html"
    form_class = WorkspaceForm

    def form_valid(self, form):
        try:
            workspace = workspace_create(actor=self.request.user, creator=self.request.user, **form.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The workspace “{workspace.name}” is ready. You are its Owner.")
        return redirect(workspace)


RECENT_EXPERIENCES = 10  # experiences on the workspace page; the experiences page lists them all


class WorkspaceDetailView(WorkspaceMixin, TemplateView):
    """The first sites (by name; the sites list has the rest) and the most recently changed
    experiences the person may see, with the controls they may use."""

    template_name = "workspaces/workspace_detail.html"

    def get_context_data(self, **kwargs):
        # One more than shown, to know whether to say that there are more (no count query).
        me = self.membership
        recent = list(visible_experiences(self.access, self.workspace)[: RECENT_EXPERIENCES + 1])
        return super().get_context_data(
            sites=sites_listed(self.access, self.workspace)[:SITES_PREVIEW],
            experiences=recent[:RECENT_EXPERIENCES],
            more_experiences=len(recent) > RECENT_EXPERIENCES,
            my_sites=sites_owned(self.workspace, [me.pk]).get(me.pk, []),
            last_owner=me.role.is_owner and active_owner_count(self.workspace) <= 1,
            **kwargs,
        )


class WorkspaceLeaveView(LeaveView):
    """Leave, from the workspace page: every role may leave (rule 1 keeps the last owner, and a
    site owner names a successor), including those who cannot open the people page. The same
    view as the people page's, coming back here when refused."""

    def back(self):
        return redirect(self.workspace)


class WorkspaceDeleteView(WorkspaceMixin, FormView):
    """GET says what goes and asks for the workspace's name; only a POST with that name deletes."""

    required_capability = "delete_workspace"
    template_name = "workspaces/workspace_confirm_delete.html"
    form_class = TypedConfirmationForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "expected": self.workspace.name, "what": "this workspace"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(contents=workspace_contents(self.workspace), **kwargs)

    def form_valid(self, form):
        name = self.workspace.name
        try:
            workspace_delete(actor=self.request.user, workspace=self.workspace)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The workspace “{name}” and everything in it are deleted.")
        return redirect("home")
