"""Site pages: the list, add, view, edit, delete, and the session-capture switch.

Every page finds the site inside the URL's workspace (another workspace's slug is a 404) and
checks its capability on that site (403 for a member without it). The services check again.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.paging import clean_text, page_links
from kernel.views import WorkspaceMixin
from permissions import catalog
from workspaces.overview.forms import SessionCaptureForm, SiteForm, TypedConfirmationForm
from workspaces.overview.views import add_rule_violation
from workspaces.selectors import site_in
from workspaces.sites.selectors import sites_listed
from workspaces.sites.services import site_create, site_delete, site_reset, site_set_session_capture, site_update

SITES_PER_PAGE = 50


class SiteMixin(WorkspaceMixin):
    """Looks the site up in the URL's workspace once and requires ``site_capability`` on it."""

    site_capability = "view_site"

    @cached_property
    def site(self):
        return site_in(self.workspace, self.kwargs["site_slug"])

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            # self.site looks the workspace up first, so outsiders get 404 before anything else.
            self.access.require(self.site_capability, self.site)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(site=self.site, site_perms=self.access.perms(self.site), **kwargs)


class SiteListView(WorkspaceMixin, TemplateView):
    """The sites the person may see, ``SITES_PER_PAGE`` at a time, by name, narrowed by ``q`` (name
    or address); the search and the page are in the URL. A fixed number of queries at any size."""

    template_name = "workspaces/site_list.html"

    def get_context_data(self, **kwargs):
        text = clean_text(self.request.GET.get("q", ""))
        sites = Paginator(sites_listed(self.access, self.workspace, text), SITES_PER_PAGE)
        page = sites.get_page(self.request.GET.get("page"))
        return super().get_context_data(
            sites=page, sites_pager=page_links(self.request.GET, page, "page"), search=text, **kwargs
        )


class SiteCreateView(WorkspaceMixin, FormView):
    required_capability = "add_site"
    template_name = "workspaces/site_form.html"
    form_class = SiteForm

    def form_valid(self, form):
        try:
            site = site_create(actor=self.request.user, workspace=self.workspace, **form.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The site “{site.name}” is added. You are its site owner.")
        return redirect(site)


class SiteDetailView(SiteMixin, TemplateView):
    template_name = "workspaces/site_detail.html"

    def get_context_data(self, **kwargs):
        held = self.access.perms(self.site)
        areas = [(area, [cap for cap in caps if cap.codename in held]) for area, caps in catalog.areas(catalog.SITE)]
        return super().get_context_data(capability_areas=areas, **kwargs)


class SiteEditView(SiteMixin, FormView):
    site_capability = "change_site"
    template_name = "workspaces/site_form.html"
    form_class = SiteForm

    def get_initial(self):
        return SiteForm.initial_from(self.site)

    def form_valid(self, form):
        try:
            site_update(actor=self.request.user, site=self.site, **form.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The site “{self.site.name}” is saved.")
        return redirect(self.site)


class SiteDeleteView(ConfirmMixin, SiteMixin, TemplateView):
    """GET asks for confirmation; only the POST deletes."""

    site_capability = "delete_site"
    template_name = "workspaces/site_confirm_delete.html"

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Delete {self.site.name}?", button="Delete site", cancel_url=self.site.get_absolute_url()
        )

    def confirmed(self, request, *args, **kwargs):
        name = self.site.name
        site_delete(actor=request.user, site=self.site)
        messages.success(request, f"The site “{name}” is deleted.")
        return redirect(self.workspace)


class SiteResetView(SiteMixin, FormView):
    """GET says what a reset does and asks for the site's name; only a POST with that name resets."""

    site_capability = "reset_site"
    template_name = "workspaces/site_confirm_reset.html"
    form_class = TypedConfirmationForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "expected": self.site.name, "what": "this site"}

    def form_valid(self, form):
        site_reset(actor=self.request.user, site=self.site)
        messages.success(
            self.request,
            f"The data of “{self.site.name}” is reset: the platform starts afresh from now. "
            "Access, settings and experiences are unchanged.",
        )
        return redirect(self.site)


class SiteSessionCaptureView(SiteMixin, View):
    site_capability = "manage_session_capture"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = SessionCaptureForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose whether session capture is on or off.")
            return redirect(self.site)
        site_set_session_capture(actor=request.user, site=self.site, enabled=form.turn_on)
        state = "on" if form.turn_on else "off"
        messages.success(request, f"Session capture is {state} for “{self.site.name}”.")
        return redirect(self.site)
