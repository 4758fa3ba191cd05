"""Join-domain pages in the workspace settings: list and add, one domain (its DNS record, verify,
edit), remove. Mounted at /w/<workspace_slug>/settings/join-domains/ (namespace "join_domains").

Every page needs ``manage_auto_join`` (403 for a member without it, 404 for outsiders and for
another workspace's domain ids); the services check it again on every write.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin
from permissions.forms import role_choice_label
from workspaces.joining.dns import txt_record_value, unicode_form
from workspaces.joining.selectors import domain_status, join_domain_in, joinable_roles, workspace_join_domains
from workspaces.joining.services import (
    join_domain_add,
    join_domain_remove,
    join_domain_update,
    join_domain_verify_dns,
)
from workspaces.models import JoinDomain
from workspaces.overview.views import add_rule_violation


class JoinDomainEditForm(forms.Form):
    role = forms.ModelChoiceField(
        label="Role",
        queryset=None,
        empty_label="Choose…",
        help_text="The workspace role people get when they join through this domain.",
        error_messages={"required": "Choose the role people get when they join."},
    )
    mode = forms.ChoiceField(
        label="When someone with an address at this domain verifies it",
        choices=JoinDomain.Mode.choices,
        widget=forms.RadioSelect,
        initial=JoinDomain.Mode.AUTOMATIC,
    )
    include_subdomains = forms.BooleanField(
        label="Also admit addresses at its subdomains (e.g. eu.acme.com for acme.com)", required=False
    )

    def __init__(self, *args, workspace, access, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the roles the person may give (rule 3, as the policy answers it); the service checks again.
        roles = access.givable_roles(
            joinable_roles(workspace).prefetch_related("permissions", "site_permissions"), workspace
        )
        self.fields["role"].queryset = joinable_roles(workspace).filter(pk__in=[role.pk for role in roles])
        # Rendering would iterate the queryset once per use; list the choices once instead.
        self.fields["role"].choices = [("", "Choose…"), *((role.pk, role_choice_label(role)) for role in roles)]


class JoinDomainAddForm(JoinDomainEditForm):
    domain = forms.CharField(
        label="Domain",
        max_length=253,
        help_text="The part of your colleagues' addresses after the @, e.g. acme.com.",
        error_messages={"required": "Enter a domain name, e.g. acme.com."},
    )
    field_order = ["domain", "role", "mode", "include_subdomains"]


class JoinDomainMixin(WorkspaceMixin):
    required_capability = "manage_auto_join"

    @cached_property
    def join_domain(self) -> JoinDomain:
        return join_domain_in(self.workspace, self.kwargs["pk"])

    def done(self):
        return redirect("join_domains:index", self.workspace.slug)


class JoinDomainListView(JoinDomainMixin, FormView):
    """The workspace's join domains, and the form that adds one."""

    template_name = "workspaces/join_domains.html"
    form_class = JoinDomainAddForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "workspace": self.workspace, "access": self.access}

    def get_initial(self):
        # No role is chosen for the person, and new joiners ask first unless they choose otherwise.
        return {"mode": JoinDomain.Mode.REQUEST}

    def get_context_data(self, **kwargs):
        rows = [
            (found, domain_status(found), unicode_form(found.domain))
            for found in workspace_join_domains(self.workspace)
        ]
        return super().get_context_data(rows=rows, **kwargs)

    def form_valid(self, form):
        try:
            added = join_domain_add(actor=self.request.user, workspace=self.workspace, **form.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        shown = unicode_form(added.domain)
        if added.verified_at:
            messages.success(
                self.request, f"{shown} is verified by your own address: people who verify an address there join now."
            )
            return self.done()
        messages.success(self.request, f"{shown} is added. Publish its DNS record to verify it.")
        return redirect("join_domains:detail", self.workspace.slug, added.pk)


class JoinDomainDetailView(JoinDomainMixin, FormView):
    """One domain: its status, the TXT record that verifies it, and its settings."""

    template_name = "workspaces/join_domain_detail.html"
    form_class = JoinDomainEditForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "workspace": self.workspace, "access": self.access}

    def get_initial(self):
        found = self.join_domain
        return {"role": found.role_id, "mode": found.mode, "include_subdomains": found.include_subdomains}

    def get_context_data(self, **kwargs):
        found = self.join_domain
        return super().get_context_data(
            join_domain=found,
            status=domain_status(found),
            shown=unicode_form(found.domain),
            txt_value=txt_record_value(found.verification_token),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            join_domain_update(actor=self.request.user, domain=self.join_domain, **form.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The settings of {unicode_form(self.join_domain.domain)} are saved.")
        return self.done()


class JoinDomainVerifyView(JoinDomainMixin, View):
    """Look the TXT record up now (a POST: it may change the domain's status)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        shown = unicode_form(self.join_domain.domain)
        try:
            join_domain_verify_dns(actor=request.user, domain=self.join_domain)
        except RuleViolation as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("join_domains:detail", self.workspace.slug, self.join_domain.pk)
        messages.success(request, f"{shown} is verified: people who verify an address there join now.")
        return self.done()


class JoinDomainRemoveView(ConfirmMixin, JoinDomainMixin, TemplateView):
    """GET asks for confirmation; only the POST removes."""

    template_name = "workspaces/join_domain_confirm_remove.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            join_domain=self.join_domain, shown=unicode_form(self.join_domain.domain), **kwargs
        )

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Remove {unicode_form(self.join_domain.domain)}?",
            button="Remove domain",
            cancel_url=reverse("join_domains:index", args=[self.workspace.slug]),
        )

    def confirmed(self, request, *args, **kwargs):
        join_domain_remove(actor=request.user, domain=self.join_domain)
        messages.success(
            request, f"{unicode_form(self.join_domain.domain)} is removed: nobody joins through it any more."
        )
        return self.done()
