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
from workspaces.overview.forms import WorkspaceForm
from workspaces.overview.services import workspace_create
from workspaces.selectors import memberships_of, visible_experiences, visible_site_counts
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
        recent = list(visible_experiences(self.access, self.workspace)[: RECENT_EXPERIENCES + 1])
        return super().get_context_data(
            sites=sites_listed(self.access, self.workspace)[:SITES_PREVIEW],
            experiences=recent[:RECENT_EXPERIENCES],
            more_experiences=len(recent) > RECENT_EXPERIENCES,
            **kwargs,
        )
