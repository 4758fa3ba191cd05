"""The data & privacy pages (seed 002 "Data & Privacy"), under /w/<workspace_slug>/privacy/.

A person who may file a request (``request_data_export`` or ``request_data_deletion``) sees the
requests they filed and their status; a person who also runs the workspace's data-collection
policies (``manage_policies``) sees every request of the workspace. Others get 403, outsiders 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from kernel.confirm import Confirmation, ConfirmFormMixin
from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin
from workspaces.selectors import visible_sites

from .forms import DataRequestForm
from .models import DataRequest
from .selectors import data_requests
from .services import data_request_create

REQUEST_CAPABILITIES = tuple(DataRequest.CAPABILITY.values())
# Who sees every request of the workspace, not only their own.
OVERSEE_CAPABILITY = "manage_policies"


class PrivacyMixin(WorkspaceMixin):
    """Opens for anyone holding one of ``page_capabilities`` on the workspace."""

    page_capabilities: tuple[str, ...] = REQUEST_CAPABILITIES + (OVERSEE_CAPABILITY,)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.access.require_member(self.workspace)
            if not self.access.has_any(self.page_capabilities, self.workspace):
                raise PermissionDenied("You need a data & privacy capability.")
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def kinds(self) -> list[str]:
        """The request kinds the person may file."""
        return [kind for kind, code in DataRequest.CAPABILITY.items() if self.access.has(code, self.workspace)]


class PrivacyIndexView(PrivacyMixin, TemplateView):
    template_name = "privacy/index.html"

    def get_context_data(self, **kwargs):
        sees_all = self.access.has(OVERSEE_CAPABILITY, self.workspace)
        requests = data_requests(self.workspace, filed_by=None if sees_all else self.request.user)
        return super().get_context_data(
            data_requests=list(requests), sees_all=sees_all, can_file=bool(self.kinds), **kwargs
        )


class DataRequestCreateView(ConfirmFormMixin, PrivacyMixin, FormView):
    """A deletion request is confirmed first: once our staff carry it out, the data is gone."""

    page_capabilities = REQUEST_CAPABILITIES
    template_name = "privacy/request_form.html"
    form_class = DataRequestForm

    def confirmation(self) -> Confirmation | None:
        data = self.confirming_form.cleaned_data
        if data["kind"] != DataRequest.Kind.DELETION:
            return None
        return Confirmation(
            title=f"Ask to delete the data of {data['subject']} on {data['site'].name}?",
            button="Send the deletion request",
            cancel_url=reverse("privacy:index", args=[self.workspace.slug]),
            consequences=[
                f"Our staff delete everything {data['site'].name} recorded about {data['subject']}: it cannot be "
                "brought back.",
                "The request is recorded in the activity log under your name.",
            ],
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "kinds": self.kinds, "sites": visible_sites(self.access, self.workspace)}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            created = data_request_create(
                actor=self.request.user,
                workspace=self.workspace,
                site=data["site"],
                kind=data["kind"],
                subject=data["subject"],
                note=data["note"],
            )
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Your {created.kind} request for {created.site_name} is received. "
            "Its status is shown below as our staff work on it.",
        )
        return redirect("privacy:index", self.workspace.slug)
