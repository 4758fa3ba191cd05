"""The webhook pages in the workspace settings: endpoints (list, add, change), an endpoint's page with
its delivery log and *Redeliver*, rotating the secret and removing (both confirmed). Every page needs
``manage_webhooks``; the services check it again on every write. The secret is shown once, on the
page that answers its creation or rotation, rendered and never redirected or stored in the session."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.paging import paged
from kernel.views import WorkspaceMixin

from .forms import EndpointForm
from .selectors import delivery_in, endpoint_deliveries, endpoint_in, workspace_endpoints
from .services import delivery_redeliver, endpoint_add, endpoint_remove, endpoint_rotate_secret, endpoint_update


def _secret_page(view, endpoint, secret: str, *, rotated: bool):
    response = TemplateResponse(
        view.request,
        "webhooks/secret.html",
        view.get_context_data(endpoint=endpoint, secret=secret, rotated=rotated),
    )
    add_never_cache_headers(response)
    return response


class EndpointListView(WorkspaceMixin, TemplateView):
    required_capability = "manage_webhooks"
    template_name = "webhooks/list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(endpoints=workspace_endpoints(self.workspace), **kwargs)


class EndpointCreateView(WorkspaceMixin, FormView):
    required_capability = "manage_webhooks"
    template_name = "webhooks/form.html"
    form_class = EndpointForm

    def form_valid(self, form):
        try:
            endpoint, secret = endpoint_add(
                actor=self.request.user,
                workspace=self.workspace,
                url=form.cleaned_data["url"],
                event_types=form.chosen_types(),
                description=form.cleaned_data["description"],
                enabled=form.cleaned_data["enabled"],
            )
        except ValidationError as exc:
            form.add_error("url", exc)
            return self.form_invalid(form)
        return _secret_page(self, endpoint, secret, rotated=False)


class EndpointMixin(WorkspaceMixin):
    required_capability = "manage_webhooks"

    @cached_property
    def endpoint(self):
        return endpoint_in(self.workspace, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        kwargs.setdefault("endpoint", self.endpoint)
        return super().get_context_data(**kwargs)


class EndpointDetailView(EndpointMixin, TemplateView):
    template_name = "webhooks/detail.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(deliveries_pager=paged(endpoint_deliveries(self.endpoint), self.request.GET))


class EndpointUpdateView(EndpointMixin, FormView):
    template_name = "webhooks/form.html"
    form_class = EndpointForm

    def get_initial(self):
        endpoint = self.endpoint
        return {
            "url": endpoint.url,
            "description": endpoint.description,
            "all_events": not endpoint.event_types,
            "event_types": endpoint.event_types,
            "enabled": endpoint.enabled,
        }

    def form_valid(self, form):
        try:
            endpoint_update(
                actor=self.request.user,
                endpoint=self.endpoint,
                url=form.cleaned_data["url"],
                event_types=form.chosen_types(),
                description=form.cleaned_data["description"],
                enabled=form.cleaned_data["enabled"],
            )
        except ValidationError as exc:
            form.add_error("url", exc)
            return self.form_invalid(form)
        messages.success(self.request, "The webhook endpoint is saved.")
        return redirect("webhooks:detail", self.workspace.slug, self.endpoint.pk)


class EndpointRotateView(ConfirmMixin, EndpointMixin, ContextMixin, View):
    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Rotate the secret of {self.endpoint}?",
            button="Rotate the secret",
            cancel_url=reverse("webhooks:detail", args=[self.workspace.slug, self.endpoint.pk]),
            consequences=[
                "Events are signed with a new secret from now on, retries of earlier events included.",
                "Your service refuses them until it verifies with the new secret, shown once on the next page.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        secret = endpoint_rotate_secret(actor=request.user, endpoint=self.endpoint)
        return _secret_page(self, self.endpoint, secret, rotated=True)


class EndpointRemoveView(ConfirmMixin, EndpointMixin, ContextMixin, View):
    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Remove the webhook endpoint {self.endpoint}?",
            button="Remove the endpoint",
            cancel_url=reverse("webhooks:detail", args=[self.workspace.slug, self.endpoint.pk]),
            consequences=[
                "No event is sent to it any more, including those still waiting to be delivered.",
                "Its delivery log is deleted.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        name = str(self.endpoint)
        endpoint_remove(actor=request.user, endpoint=self.endpoint)
        messages.success(request, f"The webhook endpoint {name} is removed.")
        return redirect("webhooks:list", self.workspace.slug)


class RedeliverView(EndpointMixin, ContextMixin, View):
    def post(self, request, *args, **kwargs):
        delivery = delivery_in(self.endpoint, self.kwargs["delivery_pk"])
        delivery_redeliver(actor=request.user, delivery=delivery)
        messages.success(request, f"The event {delivery.event.webhook_id} is queued for delivery again.")
        return redirect("webhooks:detail", self.workspace.slug, self.endpoint.pk)
