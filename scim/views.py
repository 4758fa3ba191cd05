"""The SCIM tokens page in the workspace settings: list (paged, newest first), create (the token is
shown once), revoke. Every page needs ``manage_sso``; the services check it again on every write."""

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
from kernel.views import WorkspaceMixin

from .selectors import token_in, workspace_tokens
from .tokens import scim_token_create, scim_token_revoke


def scim_base_url(request) -> str:
    return request.build_absolute_uri(reverse("scim:service_provider_config")).rsplit("/", 1)[0]


class ScimTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses the token, e.g. “Okta”, so you can tell tokens apart.")


class ScimTokenListView(WorkspaceMixin, TemplateView):
    required_capability = "manage_sso"
    template_name = "scim/tokens.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tokens_pager=paged(workspace_tokens(self.workspace), self.request.GET),
            scim_url=scim_base_url(self.request),
            **kwargs,
        )


class ScimTokenCreateView(WorkspaceMixin, FormView):
    required_capability = "manage_sso"
    template_name = "scim/tokens_form.html"
    form_class = ScimTokenForm

    def form_valid(self, form):
        try:
            token, raw = scim_token_create(
                actor=self.request.user, workspace=self.workspace, name=form.cleaned_data["name"]
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
