"""The site access page: who has access to one site and how, and the forms that change it.

Needs ``manage_site_access`` on the workspace (the capability that grants and revokes site roles
and sets site owners). Access to a site comes from three places (docs/RULES.md 2.3): workspace roles
whose site capabilities reach every site, the members' own grants, and the teams' grants. The
services apply rule 2 (the site owner is a member of the workspace) and rule 3 (nobody grants what
they do not hold on that site); their refusals are shown as messages and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.views import WorkspaceActionView, WorkspaceMixin
from workspaces.models import Membership, SiteGrant, Team
from workspaces.selectors import site_in
from workspaces.sites.forms_access import GrantForm, SiteGrantForm, SiteOwnerForm, require_valid, site_roles_of
from workspaces.sites.selectors import grant_candidates, grant_teams, site_grant_in, site_grants, workspace_wide_roles
from workspaces.sites.services import site_grant_revoke, site_grant_set, site_owner_set
from workspaces.teams.selectors import extra_codes


class SiteAccessMixin(WorkspaceMixin):
    required_capability = "manage_site_access"

    @cached_property
    def site(self):
        return site_in(self.workspace, self.kwargs["site_slug"])

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.site  # noqa: B018 -- outsiders and unknown sites get 404 before any 403
        return super().dispatch(request, *args, **kwargs)

    def page_url(self) -> str:
        return reverse("site_access:index", args=[self.workspace.slug, self.site.slug])

    @cached_property
    def memberships(self) -> list[Membership]:
        return grant_candidates(self.workspace)

    @cached_property
    def teams(self) -> list[Team]:
        return grant_teams(self.workspace)

    def grant_form(self, data=None) -> SiteGrantForm:
        givable = self.access.givable_roles(site_roles_of(self.workspace), self.site)
        return SiteGrantForm(
            data,
            workspace=self.workspace,
            memberships=self.memberships,
            teams=self.teams,
            givable=givable,
            prefix="grant",
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(site=self.site, **kwargs)


class SiteAccessView(SiteAccessMixin, TemplateView):
    template_name = "workspaces/site_access.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            wide_roles=workspace_wide_roles(self.workspace),
            member_grants=site_grants(self.site, teams=False),
            team_grants=site_grants(self.site, teams=True),
            grant_form=self.grant_form(),
            owner_form=SiteOwnerForm(memberships=self.memberships, initial={"owner": str(self.site.owner_id)}),
            **kwargs,
        )


class SiteAccessActionView(SiteAccessMixin, WorkspaceActionView):
    """A POST that ends on the access page with a message."""

    def done_url(self) -> str:
        return self.page_url()


class SiteGrantSetView(SiteAccessActionView):
    def act(self, request) -> None:
        form = self.grant_form(request.POST)
        require_valid(form)
        grant = site_grant_set(actor=request.user, site=self.site, **form.grant_arguments())
        who = grant.team.name if grant.team_id else grant.membership.user.display_name
        messages.success(request, f"{who} has the role {grant.role.name} on {self.site.name} now.")


class SiteOwnerSetView(SiteAccessActionView):
    def act(self, request) -> None:
        form = SiteOwnerForm(request.POST, memberships=self.memberships)
        require_valid(form)
        site_owner_set(actor=request.user, site=self.site, owner=form.chosen_owner)
        messages.success(request, f"{form.chosen_owner.user.display_name} is the site owner of {self.site.name} now.")


class SiteGrantMixin(SiteAccessMixin):
    @cached_property
    def grant(self) -> SiteGrant:
        return site_grant_in(self.site, self.kwargs["grant_pk"])

    def grantee_name(self) -> str:
        grant = self.grant
        return f"the team “{grant.team.name}”" if grant.team_id else grant.membership.user.display_name


class SiteGrantEditView(SiteGrantMixin, TemplateView):
    """Change the role and extra capabilities of one grant on the site."""

    template_name = "workspaces/site_access_grant_form.html"

    def get_form(self, data=None) -> GrantForm:
        codes = extra_codes(self.grant)
        return GrantForm(data, workspace=self.workspace, initial={"role": self.grant.role_id, "extra": codes})

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(grant=self.grant, grantee=self.grantee_name(), **kwargs)

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if form.is_valid():
            grantee = {"team": self.grant.team} if self.grant.team_id else {"membership": self.grant.membership}
            try:
                site_grant_set(actor=request.user, site=self.site, **grantee, **form.grant_arguments())
            except RuleViolation as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, f"The grant of {self.grantee_name()} on {self.site.name} is saved.")
                return redirect(self.page_url())
        return self.render_to_response(self.get_context_data(form=form))


class SiteGrantRevokeView(ConfirmMixin, SiteGrantMixin, SiteAccessActionView):
    def confirmation(self) -> Confirmation:
        who, role = self.grantee_name(), self.grant.role.name
        return Confirmation(
            title=f"Revoke the grant of {who} on {self.site.name}?",
            button="Revoke the grant",
            cancel_url=self.page_url(),
            consequences=[
                f"{who} loses the role {role} on {self.site.name}, with its extra capabilities, at once.",
                "Access that comes from a workspace role or another grant stays.",
            ],
        )

    def act(self, request) -> None:
        who = self.grantee_name()
        site_grant_revoke(actor=request.user, grant=self.grant)
        messages.success(request, f"The grant of {who} on {self.site.name} is revoked.")
