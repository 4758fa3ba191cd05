"""The site access page: who has access to one site and how, and the forms that change it.

Needs ``manage_site_access`` on the workspace (the capability that grants and revokes site roles
and sets site owners). Access to a site comes from three places (docs/RULES.md 2.3): workspace roles
whose site capabilities reach every site, the members' own grants, and the teams' grants. The
services apply rule 2 (the site owner is a member of the workspace) and rule 3 (nobody grants what
they do not hold on that site); their refusals are shown as messages and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.paging import clean_text, page_links
from kernel.pickers import Picker, PickerViewMixin
from kernel.views import WorkspaceActionView, WorkspaceMixin
from permissions.roles import load_codes
from workspaces.models import SiteGrant
from workspaces.pickers.forms import grantee_search, member_search
from workspaces.pickers.selectors import workspace_members
from workspaces.selectors import site_in
from workspaces.sites.forms_access import GrantForm, SiteGrantForm, SiteOwnerForm, require_valid, site_roles_of
from workspaces.sites.selectors import site_grant_in, site_grants, workspace_wide_roles
from workspaces.sites.services import site_grant_revoke, site_grant_set, site_owner_set
from workspaces.teams.selectors import extra_codes, with_extra_caps

GRANTS_PER_PAGE = 50  # member grants, and team grants, per page


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

    def grant_form(self, data=None) -> SiteGrantForm:
        roles = list(site_roles_of(self.workspace).prefetch_related(None))
        load_codes(roles)  # capabilities of custom roles only, in one query (built-in ones: none)
        givable = self.access.givable_roles(roles, self.site)
        return SiteGrantForm(data, workspace=self.workspace, givable=givable, prefix="grant")

    def get_context_data(self, **kwargs):
        return super().get_context_data(site=self.site, **kwargs)


class SiteAccessView(PickerViewMixin, SiteAccessMixin, TemplateView):
    """Who has access, a page of member grants and of team grants at a time (``page``, ``tpage``),
    narrowed by ``q``; the grant form picks its member or team, and the owner form its member, with
    a picker (a search, never a list of every member)."""

    template_name = "workspaces/site_access.html"

    @cached_property
    def grantee_picker(self) -> Picker:
        return Picker(
            self.request.GET,
            name="grantee",
            field="grant-grantee",
            label="Member or team",
            search=grantee_search(self.workspace),
            anchor="grant-heading",
        )

    @cached_property
    def owner_picker(self) -> Picker:
        return Picker(
            self.request.GET,
            name="owner",
            field="owner",
            label="Site owner",
            search=member_search(workspace_members(self.workspace)),
            help_text=SiteOwnerForm.base_fields["owner"].help_text,
            selected=str(self.site.owner_id),
            anchor="owner-heading",
        )

    def pickers(self) -> list[Picker]:
        return [self.grantee_picker, self.owner_picker]

    def get_context_data(self, **kwargs):
        query = self.request.GET
        text = clean_text(query.get("q", ""))
        member_grants = Paginator(site_grants(self.site, teams=False, text=text), GRANTS_PER_PAGE).get_page(
            query.get("page")
        )
        team_grants = Paginator(site_grants(self.site, teams=True, text=text), GRANTS_PER_PAGE).get_page(
            query.get("tpage")
        )
        return super().get_context_data(
            wide_roles=workspace_wide_roles(self.workspace),
            search=text,
            member_grants=with_extra_caps(member_grants.object_list),
            member_grants_pager=page_links(query, member_grants, "page"),
            team_grants=with_extra_caps(team_grants.object_list),
            team_grants_pager=page_links(query, team_grants, "tpage"),
            grant_form=self.grant_form(),
            grantee_picker=self.grantee_picker,
            owner_picker=self.owner_picker,
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
        form = SiteOwnerForm(request.POST, workspace=self.workspace)
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
