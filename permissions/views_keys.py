"""Access-key pages in the workspace settings: list (paged, newest first), create (the key is
shown once), revoke.

Every page needs ``view_access_keys``; the services check it again on every write.
"""

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

from .keys import CHECK, LIFETIMES, SCOPES, key_create, key_revoke
from .selectors import key_in, workspace_keys


class AccessKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses the key, e.g. “Dashboards service”, so you can tell keys apart."
    )
    scopes = forms.MultipleChoiceField(
        label="The key may",
        choices=list(SCOPES.items()),
        initial=[CHECK],
        widget=forms.CheckboxSelectMultiple,
        help_text="Give a service only what it needs.",
    )
    lifetime = forms.TypedChoiceField(
        label="Expires",
        choices=[("" if days is None else days, label) for days, label in LIFETIMES.items()],
        coerce=int,
        empty_value=None,
        required=False,
    )


class AccessKeyListView(WorkspaceMixin, TemplateView):
    """The workspace's keys, revoked ones too, a page at a time (``?page=``)."""

    required_capability = "view_access_keys"
    template_name = "permissions/access_keys.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(keys_pager=paged(workspace_keys(self.workspace), self.request.GET), **kwargs)


class AccessKeyCreateView(WorkspaceMixin, FormView):
    required_capability = "view_access_keys"
    template_name = "permissions/access_keys_form.html"
    form_class = AccessKeyForm

    def form_valid(self, form):
        try:
            key, raw = key_create(
                actor=self.request.user,
                workspace=self.workspace,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                lifetime_days=form.cleaned_data["lifetime"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        # Rendered, not redirected: the raw key must never be stored, not even in the session.
        response = self.response_class(
            request=self.request,
            template="permissions/access_keys_created.html",
            context=self.get_context_data(key=key, raw_key=raw),
        )
        add_never_cache_headers(response)
        return response


class AccessKeyRevokeView(ConfirmMixin, WorkspaceMixin, ContextMixin, View):
    """Revoking breaks every integration that calls with the key, so it is confirmed first."""

    required_capability = "view_access_keys"

    @cached_property
    def key(self):
        return key_in(self.workspace, self.kwargs["pk"])

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Revoke the access key “{self.key.name}”?",
            button="Revoke the key",
            cancel_url=reverse("access_keys:list", args=[self.workspace.slug]),
            consequences=[
                "Every call to the API with this key is refused from now on: the services using it stop "
                "getting answers until they are given a new key.",
                "A revoked key cannot be turned back on.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        key = self.key
        if key.revoked_at is None:
            key_revoke(actor=request.user, key=key)
            messages.success(request, f"The key “{key.name}” is revoked; calls with it are refused from now on.")
        else:
            messages.info(request, f"The key “{key.name}” was already revoked.")
        return redirect("access_keys:list", self.workspace.slug)
