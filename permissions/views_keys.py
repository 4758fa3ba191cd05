"""Access-key pages in the workspace settings: list (paged, newest first), create (the key is
shown once), revoke.

Every page needs ``view_access_keys``; the services check it again on every write.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.views.generic import FormView, TemplateView, View

from kernel.paging import paged
from kernel.views import WorkspaceMixin

from .keys import key_create, key_revoke
from .selectors import key_in, workspace_keys


class AccessKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses the key, e.g. “Dashboards service”, so you can tell keys apart."
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
            key, raw = key_create(actor=self.request.user, workspace=self.workspace, name=form.cleaned_data["name"])
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


class AccessKeyRevokeView(WorkspaceMixin, View):
    required_capability = "view_access_keys"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        key = key_in(self.workspace, kwargs["pk"])
        if key.revoked_at is None:
            key_revoke(actor=request.user, key=key)
            messages.success(request, f"The key “{key.name}” is revoked; calls with it are refused from now on.")
        else:
            messages.info(request, f"The key “{key.name}” was already revoked.")
        return redirect("access_keys:list", self.workspace.slug)
