"""Teams pages (seed 002): the list of teams, one team's page, and the actions on it.

Anyone with ``view_members`` sees the teams, their members and their site grants. Creating,
renaming, deleting a team and changing its members need ``manage_teams``; its site grants need
``manage_teams`` or ``manage_site_access`` (the service decides the same way and also applies
rule 3). Every action is a POST that answers with a message and a redirect to the team's page.
Another workspace's team, member or grant id is a 404.

The lists are paged and searched through ``kernel.paging`` (teams by name, a team's members by name
or address), and no control lists every member or site: a member is added by e-mail address, and the
grant form offers the sites of a site search (``site_q``), so a page costs the same at any size.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView, View

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.paging import paged, search_text
from kernel.views import WorkspaceActionView, WorkspaceMixin, flash_errors
from permissions import catalog
from workspaces.models import SiteGrant, Team
from workspaces.sites.forms_access import GrantForm, require_valid
from workspaces.sites.services import site_grant_revoke, site_grant_set
from workspaces.teams.forms import SITES_SHOWN, TeamForm, TeamGrantForm, TeamMemberForm
from workspaces.teams.selectors import (
    extra_codes,
    is_in_team,
    member_by_address,
    sites_to_offer,
    team_grant_in,
    team_grants,
    team_in,
    team_link_in,
    team_members_matching,
    team_size,
    teams_matching,
    with_extra_caps,
)
from workspaces.teams.services import team_add_member, team_create, team_delete, team_remove_member, team_update

GRANT_CAPABILITIES = ("manage_teams", "manage_site_access")


class TeamListView(WorkspaceMixin, TemplateView):
    required_capability = "view_members"
    template_name = "workspaces/teams.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = search_text(self.request.GET)
        pager = paged(teams_matching(self.workspace, q), self.request.GET)
        for team in pager["page"]:
            team.first_grants = with_extra_caps(team.first_grants)
        context.update(teams_pager=pager, q=q, can_manage="manage_teams" in context["ws_perms"])
        if context["can_manage"]:
            context["form"] = kwargs.get("form") or TeamForm()
        return context


class TeamCreateView(WorkspaceMixin, View):
    required_capability = "manage_teams"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = TeamForm(request.POST)
        try:
            require_valid(form)
            team = team_create(actor=request.user, workspace=self.workspace, **form.cleaned_data)
        except ValidationError as exc:  # bad input or a rule's refusal: say why; nothing was written
            flash_errors(request, exc.messages)
            return redirect("teams:index", self.workspace.slug)
        messages.success(request, f"The team “{team.name}” is created. Add its members and site grants here.")
        return redirect("teams:detail", self.workspace.slug, team.pk)


class TeamMixin(WorkspaceMixin):
    """Finds the team in the URL's workspace (404 otherwise) before any capability check."""

    @cached_property
    def team(self) -> Team:
        return team_in(self.workspace, self.kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.team  # noqa: B018 -- outsiders and other workspaces' ids get 404 before any 403
        return super().dispatch(request, *args, **kwargs)

    def team_url(self) -> str:
        return reverse("teams:detail", args=[self.workspace.slug, self.team.pk])


class TeamDetailView(TeamMixin, TemplateView):
    required_capability = "view_members"
    template_name = "workspaces/teams_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ws_perms = context["ws_perms"]
        can_manage = "manage_teams" in ws_perms
        can_grant = any(code in ws_perms for code in GRANT_CAPABILITIES)
        query = self.request.GET
        q = search_text(query)
        grants = paged(team_grants(self.team), query, "gpage")
        grants["page"].object_list = with_extra_caps(grants["page"].object_list)
        context.update(
            team=self.team,
            q=q,
            members_pager=paged(team_members_matching(self.team, q), query),
            grants_pager=grants,
            can_manage=can_manage,
            can_grant=can_grant,
        )
        if can_manage:
            context["member_form"] = TeamMemberForm()
            context["team_form"] = TeamForm(initial={"name": self.team.name, "description": self.team.description})
        if can_grant:
            context.update(self._grant_form_context(query))
        return context

    def _grant_form_context(self, query) -> dict:
        """The grant form with the sites of the site search (``site_q``), at most ``SITES_SHOWN``."""
        site_q = search_text(query, "site_q")
        sites, more = sites_to_offer(self.workspace, site_q, SITES_SHOWN)
        return {
            "grant_form": TeamGrantForm(workspace=self.workspace, sites=sites, prefix="grant"),
            "site_q": site_q,
            "sites_offered": sites,
            "more_sites": more,
            "sites_shown": SITES_SHOWN,
        }


class TeamActionView(TeamMixin, WorkspaceActionView):
    """A POST on one team that ends on the team's page with a message."""

    def done_url(self) -> str:
        return self.team_url()


class TeamUpdateView(TeamActionView):
    required_capability = "manage_teams"

    def act(self, request) -> None:
        form = TeamForm(request.POST)
        require_valid(form)
        team_update(actor=request.user, team=self.team, **form.cleaned_data)
        messages.success(request, f"The team “{self.team.name}” is saved.")


class TeamDeleteView(ConfirmMixin, TeamMixin, TemplateView):
    """GET asks for confirmation; only the POST deletes."""

    required_capability = "manage_teams"
    template_name = "workspaces/teams_confirm_delete.html"

    def get_context_data(self, **kwargs):
        grants, members = team_size(self.team)
        return super().get_context_data(team=self.team, grant_count=grants, member_count=members, **kwargs)

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Delete the team “{self.team.name}”?", button="Delete the team", cancel_url=self.team_url()
        )

    def confirmed(self, request, *args, **kwargs):
        name = self.team.name
        team_delete(actor=request.user, team=self.team)
        messages.success(request, f"The team “{name}” is deleted; its members keep their other access.")
        return redirect("teams:index", self.workspace.slug)


class TeamMemberAddView(TeamActionView):
    required_capability = "manage_teams"

    def act(self, request) -> None:
        form = TeamMemberForm(request.POST)
        require_valid(form)
        address = form.address()
        membership = member_by_address(self.workspace, address)
        if membership is None:
            raise ValidationError(f"No member of this workspace has the address {address}.")
        if is_in_team(self.team, membership):
            raise ValidationError(f"{membership.user.display_name} is already in the team “{self.team.name}”.")
        team_add_member(actor=request.user, team=self.team, membership=membership)
        messages.success(request, f"{membership.user.display_name} is in the team “{self.team.name}” now.")


class TeamMemberRemoveView(ConfirmMixin, TeamActionView):
    required_capability = "manage_teams"

    @cached_property
    def link(self):
        return team_link_in(self.team, self.kwargs["membership_pk"])

    def confirmation(self) -> Confirmation:
        name = self.link.membership.user.display_name
        return Confirmation(
            title=f"Remove {name} from the team “{self.team.name}”?",
            button=f"Remove {name} from the team",
            cancel_url=self.team_url(),
            consequences=[
                f"{name} loses the site access the team gives, at once. They stay a member of {self.workspace}.",
            ],
        )

    def act(self, request) -> None:
        link = self.link
        team_remove_member(actor=request.user, team=self.team, membership=link.membership)
        messages.success(request, f"{link.membership.user.display_name} is no longer in the team “{self.team.name}”.")


class TeamGrantMixin(TeamMixin):
    """Team grants: ``manage_teams`` or ``manage_site_access`` (seed 002: "add projects to teams")."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.team  # noqa: B018 -- 404 first
            if not self.access.has_any(GRANT_CAPABILITIES, self.workspace):
                teams, access = (catalog.CAPABILITIES[code].label for code in ("manage_teams", "manage_site_access"))
                raise PermissionDenied(f"You need the “{teams}” or “{access}” capability.")
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def grant(self) -> SiteGrant:
        return team_grant_in(self.team, self.kwargs["grant_pk"])


class TeamGrantSetView(TeamGrantMixin, TeamActionView):
    def act(self, request) -> None:
        form = TeamGrantForm(request.POST, workspace=self.workspace, prefix="grant")
        require_valid(form)
        site = form.cleaned_data["site"]
        site.workspace = self.workspace
        grant = site_grant_set(actor=request.user, site=site, team=self.team, **form.grant_arguments())
        messages.success(request, f"The team “{self.team.name}” has the role {grant.role.name} on {site.name} now.")


class TeamGrantEditView(TeamGrantMixin, TemplateView):
    """Change the role and extra capabilities of one of the team's grants."""

    template_name = "workspaces/teams_grant_form.html"

    def get_form(self, data=None) -> GrantForm:
        codes = extra_codes(self.grant)
        initial = {"role": self.grant.role_id, "extra": codes}
        return GrantForm(data, workspace=self.workspace, initial=initial)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(team=self.team, grant=self.grant, **kwargs)

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                site_grant_set(actor=request.user, site=self.grant.site, team=self.team, **form.grant_arguments())
            except RuleViolation as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, f"The team's grant on {self.grant.site.name} is saved.")
                return redirect(self.team_url())
        return self.render_to_response(self.get_context_data(form=form))


class TeamGrantRevokeView(ConfirmMixin, TeamGrantMixin, TeamActionView):
    def confirmation(self) -> Confirmation:
        site, role = self.grant.site.name, self.grant.role.name
        return Confirmation(
            title=f"Revoke the team's grant on {site}?",
            button="Revoke the grant",
            cancel_url=self.team_url(),
            consequences=[
                f"Every member of the team “{self.team.name}” loses the role {role} on {site} that the team "
                "gives, at once. Their own grants and workspace roles stay.",
            ],
        )

    def act(self, request) -> None:
        site_name = self.grant.site.name
        site_grant_revoke(actor=request.user, grant=self.grant)
        messages.success(request, f"The team “{self.team.name}” no longer has a grant on {site_name}.")
