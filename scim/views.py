"""The SCIM tokens page in the workspace settings: list (paged, newest first, with the domains SCIM
may provision), create with the role its people join with (the token is shown once), change that
role, revoke. Every page needs ``manage_sso``; the services check it again on every write, and
the role pickers offer only the roles the person may give (rule 3, as the policy answers it)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.paging import paged
from kernel.views import WorkspaceActionView, WorkspaceMixin, flash_errors
from permissions import catalog
from permissions.forms import role_choice_label
from permissions.roles import builtin_role_id

from .selectors import provisioning_roles, token_in, verified_domains, workspace_tokens
from .tokens import scim_token_create, scim_token_revoke, scim_token_set_role


def scim_base_url(request) -> str:
    return request.build_absolute_uri(reverse("scim:service_provider_config")).rsplit("/", 1)[0]


class ScimRoleForm(forms.Form):
    role = forms.ModelChoiceField(
        label="Role of the people it provisions",
        queryset=None,
        empty_label=None,
        help_text="The workspace role people join with when this token provisions them (never Owner). People "
        "already in the workspace keep their role.",
        error_messages={"invalid_choice": "Choose one of the roles you may give."},
    )

    def __init__(self, *args, workspace, access, **kwargs):
        super().__init__(*args, **kwargs)
        roles = access.givable_roles(provisioning_roles(workspace), workspace)
        self.fields["role"].queryset = provisioning_roles(workspace).filter(pk__in=[role.pk for role in roles])
        self.fields["role"].choices = [(role.pk, role_choice_label(role)) for role in roles]


class ScimTokenForm(ScimRoleForm):
    name = forms.CharField(max_length=100, help_text="What uses the token, e.g. “Okta”, so you can tell tokens apart.")
    field_order = ["name", "role"]


class ScimTokenListView(WorkspaceMixin, TemplateView):
    required_capability = "manage_sso"
    template_name = "scim/tokens.html"

    def get_context_data(self, **kwargs):
        pager = paged(workspace_tokens(self.workspace), self.request.GET)
        roles = self.access.givable_roles(provisioning_roles(self.workspace), self.workspace)
        return super().get_context_data(
            tokens_pager=pager,
            scim_url=scim_base_url(self.request),
            verified_domains=verified_domains(self.workspace),
            role_choices=[(role.pk, role_choice_label(role)) for role in roles],
            givable_role_ids={role.pk for role in roles},
            **kwargs,
        )


class ScimTokenCreateView(WorkspaceMixin, FormView):
    required_capability = "manage_sso"
    template_name = "scim/tokens_form.html"
    form_class = ScimTokenForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "workspace": self.workspace, "access": self.access}

    def get_initial(self):
        return {"role": builtin_role_id(catalog.MEMBER)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(verified_domains=verified_domains(self.workspace), **kwargs)

    def form_valid(self, form):
        try:
            token, raw = scim_token_create(
                actor=self.request.user,
                workspace=self.workspace,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        # Rendered, not redirected: the raw token must never be stored, not even in the session.
        response = self.response_class(
            request=self.request,
            template="scim/tokens_created.html",
            context=self.get_context_data(token=token, raw_token=raw, scim_url=scim_base_url(self.request)),
        )
        add_never_cache_headers(response)
        return response


class ScimTokenRoleView(WorkspaceMixin, WorkspaceActionView):
    """POST: the role the token's newly provisioned people join with."""

    required_capability = "manage_sso"

    def act(self, request) -> None:
        token = token_in(self.workspace, self.kwargs["pk"])
        form = ScimRoleForm(request.POST, workspace=self.workspace, access=self.access)
        if not form.is_valid():
            flash_errors(request, [message for errors in form.errors.values() for message in errors])
            return
        token = scim_token_set_role(actor=request.user, token=token, role=form.cleaned_data["role"])
        messages.success(
            request, f"People the SCIM token “{token.name}” provisions from now on join as {token.role.name}."
        )

    def done_url(self) -> str:
        return reverse("scim_tokens:list", args=[self.workspace.slug])


class ScimTokenRevokeView(ConfirmMixin, WorkspaceMixin, ContextMixin, View):
    """Revoking stops the identity provider's provisioning, so it is confirmed first."""

    required_capability = "manage_sso"

    @cached_property
    def token(self):
        return token_in(self.workspace, self.kwargs["pk"])

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Revoke the SCIM token “{self.token.name}”?",
            button="Revoke the token",
            cancel_url=reverse("scim_tokens:list", args=[self.workspace.slug]),
            consequences=[
                "Every SCIM call with this token is refused from now on: the identity provider using it can no "
                "longer add or remove people until it is given a new token.",
                "The people and teams it provisioned stay as they are.",
                "A revoked token cannot be turned back on.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        token = self.token
        if token.revoked_at is None:
            scim_token_revoke(actor=request.user, token=token)
            messages.success(
                request, f"The SCIM token “{token.name}” is revoked; calls with it are refused from now on."
            )
        else:
            messages.info(request, f"The SCIM token “{token.name}” was already revoked.")
        return redirect("scim_tokens:list", self.workspace.slug)
