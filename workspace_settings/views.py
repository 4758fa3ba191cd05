"""The workspace settings pages, under /w/<slug>/settings/.

Each page requires its own capability (``required_capability``, checked by ``WorkspaceMixin``:
404 for outsiders, 403 for members without it); the services check it again on every write.
Views only translate between HTTP and the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin
from permissions import catalog
from workspaces.overview.forms import WorkspaceForm
from workspaces.overview.services import workspace_update
from workspaces.selectors import site_in
from workspaces.sites.services import site_set_session_capture

from . import attributes, integrations, selectors
from .cards import cards_for
from .forms import IntegrationForm, IPBlockForm, OnOffForm, PolicyForm
from .services import (
    integration_save,
    ip_rule_remove,
    ip_rules_add,
    policy_update,
    user_attribute_set,
)


class SettingsIndexView(WorkspaceMixin, TemplateView):
    """Cards for the settings pages the person may open, and only those."""

    required_capability = "view_workspace_settings"
    template_name = "workspace_settings/index.html"

    def get_context_data(self, **kwargs):
        session_capture = selectors.may_manage_session_capture(self.access, self.workspace)
        ws_perms = self.access.perms(self.workspace)
        return super().get_context_data(
            cards=cards_for(ws_perms, self.workspace.slug, session_capture=session_capture), **kwargs
        )


class DetailsView(WorkspaceMixin, FormView):
    required_capability = "change_workspace"
    template_name = "workspace_settings/details.html"
    form_class = WorkspaceForm

    def get_initial(self):
        workspace = self.workspace
        return {"name": workspace.name, "time_zone": workspace.time_zone, "description": workspace.description}

    def form_valid(self, form):
        try:
            workspace_update(actor=self.request.user, workspace=self.workspace, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, "The workspace details are saved.")
        return redirect("settings:details", self.workspace.slug)


# --- IP blocking -----------------------------------------------------------------------------------


class IPBlockingView(WorkspaceMixin, FormView):
    """The blocked addresses and ranges, and a form to add more."""

    required_capability = "manage_ip_blocking"
    template_name = "workspace_settings/ip_blocking.html"
    form_class = IPBlockForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(rules=selectors.ip_rules(self.workspace), **kwargs)

    def form_valid(self, form):
        try:
            rules = ip_rules_add(
                actor=self.request.user,
                workspace=self.workspace,
                text=form.cleaned_data["addresses"],
                note=form.cleaned_data["note"],
            )
        except RuleViolation as exc:
            form.add_error("addresses", exc.messages)
            return self.form_invalid(form)
        added = ", ".join(rule.network for rule in rules)
        messages.success(self.request, f"Visits from {added} are no longer tracked.")
        return redirect("settings:ip_blocking", self.workspace.slug)


class IPRuleRemoveView(ConfirmMixin, WorkspaceMixin, ContextMixin, View):
    required_capability = "manage_ip_blocking"

    @cached_property
    def rule(self):
        return selectors.ip_rule_in(self.workspace, self.kwargs["pk"])

    def confirmation(self) -> Confirmation:
        network = self.rule.network
        return Confirmation(
            title=f"Stop blocking {network}?",
            button=f"Track {network} again",
            cancel_url=reverse("settings:ip_blocking", args=[self.workspace.slug]),
            consequences=[
                f"Visits from {network} to the sites of {self.workspace} are tracked again.",
                *([f"Its note goes with it: “{self.rule.note}”."] if self.rule.note else []),
                "Visits made while it was blocked stay untracked.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        rule = self.rule
        ip_rule_remove(actor=request.user, rule=rule)
        messages.success(request, f"Visits from {rule.network} are tracked again.")
        return redirect("settings:ip_blocking", self.workspace.slug)


# --- integrations ----------------------------------------------------------------------------------


class IntegrationListView(WorkspaceMixin, TemplateView):
    required_capability = "manage_integrations"
    template_name = "workspace_settings/integrations.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(rows=selectors.integration_rows(self.workspace), **kwargs)


class IntegrationView(WorkspaceMixin, FormView):
    """One integration: its switch and its settings."""

    required_capability = "manage_integrations"
    template_name = "workspace_settings/integration_form.html"

    @cached_property
    def integration(self) -> integrations.Integration:
        found = integrations.BY_KEY.get(self.kwargs["key"])
        if found is None:
            raise Http404("No such integration.")
        return found

    def get_form(self, form_class=None):
        return IntegrationForm(self.integration, **self.get_form_kwargs())

    def get_initial(self):
        row = selectors.integration_row(self.workspace, self.integration)
        return {"enabled": row.enabled, **row.settings}

    def get_context_data(self, **kwargs):
        return super().get_context_data(integration=self.integration, **kwargs)

    def form_valid(self, form):
        try:
            row = integration_save(
                actor=self.request.user,
                workspace=self.workspace,
                key=self.integration.key,
                enabled=form.cleaned_data["enabled"],
                settings=form.settings,
            )
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        state = "on" if row is not None and row.enabled else "off"
        messages.success(self.request, f"{self.integration.name} is {state}; its settings are saved.")
        return redirect("settings:integrations", self.workspace.slug)


# --- user attributes -------------------------------------------------------------------------------


class UserAttributeListView(WorkspaceMixin, TemplateView):
    required_capability = "manage_user_attributes"
    template_name = "workspace_settings/user_attributes.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(rows=selectors.attribute_rows(self.workspace), **kwargs)


class UserAttributeSetView(WorkspaceMixin, View):
    required_capability = "manage_user_attributes"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        attribute = attributes.BY_KEY.get(kwargs["key"])
        if attribute is None:
            raise Http404("No such user attribute.")
        form = OnOffForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose whether the attribute is collected or not.")
        else:
            user_attribute_set(actor=request.user, workspace=self.workspace, key=attribute.key, enabled=form.turn_on)
            state = "collected" if form.turn_on else "no longer collected"
            messages.success(request, f"{attribute.name} is {state}.")
        return redirect("settings:user_attributes", self.workspace.slug)


# --- policies --------------------------------------------------------------------------------------


class PolicyView(WorkspaceMixin, FormView):
    required_capability = "manage_policies"
    template_name = "workspace_settings/policies.html"
    form_class = PolicyForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": selectors.policy_of(self.workspace)}

    def form_valid(self, form):
        values = {name: form.cleaned_data[name] for name in PolicyForm.Meta.fields}
        try:
            policy_update(actor=self.request.user, workspace=self.workspace, **values)
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, "The data-collection policies are saved.")
        return redirect("settings:policies", self.workspace.slug)


# --- session capture -------------------------------------------------------------------------------


class SessionCaptureView(WorkspaceMixin, TemplateView):
    """The sites on which the person may switch session capture; a site capability, so the page is
    for anyone holding it on a site of the workspace (or on every site, through their role)."""

    template_name = "workspace_settings/session_capture.html"

    def get(self, request, *args, **kwargs):
        sites = list(selectors.session_capture_sites(self.access, self.workspace))
        if not selectors.may_manage_session_capture(self.access, self.workspace, sites):
            label = catalog.CAPABILITIES["manage_session_capture"].label
            raise PermissionDenied(f"You need the “{label}” capability on a site of this workspace.")
        return self.render_to_response(self.get_context_data(sites=sites))


class SessionCaptureSetView(WorkspaceMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        site = site_in(self.workspace, kwargs["site_slug"])
        self.access.require("manage_session_capture", site)
        form = OnOffForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose whether session capture is on or off.")
        else:
            site_set_session_capture(actor=request.user, site=site, enabled=form.turn_on)
            state = "on" if form.turn_on else "off"
            messages.success(request, f"Session capture is {state} for “{site.name}”.")
        return redirect("settings:session_capture", self.workspace.slug)
