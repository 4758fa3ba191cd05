"""Join requests (auto-join by domain in "request" mode): the pending list, approve, decline.

Mounted at /w/<workspace_slug>/join-requests/ (namespace "join_requests"); everything needs
``invite_members``. The team page shows the same requests with buttons posting here; a ``next``
field in the POST sends the person back to the page they came from.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import ListView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin
from workspaces.joining.selectors import join_request_in, pending_join_requests
from workspaces.joining.services import join_request_approve, join_request_decline
from workspaces.models import JoinRequest


class JoinRequestListView(WorkspaceMixin, ListView):
    required_capability = "invite_members"
    template_name = "workspaces/join_domain_requests.html"
    context_object_name = "join_requests"

    def get_queryset(self):
        return pending_join_requests(self.workspace)


class JoinRequestDecisionView(WorkspaceMixin, View):
    """POST only. Subclasses name the service and the message."""

    required_capability = "invite_members"
    http_method_names = ["post"]

    @cached_property
    def join_request(self) -> JoinRequest:
        return join_request_in(self.workspace, self.kwargs["pk"])

    def decide(self, join_request: JoinRequest) -> str:
        raise NotImplementedError

    def back_url(self) -> str:
        """The ``next`` the form names when it is a page of this site, else the requests list."""
        request = self.request
        target = request.POST.get("next", "") or request.GET.get("next", "")
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return target
        return reverse("join_requests:index", args=[self.workspace.slug])

    def post(self, request, *args, **kwargs):
        try:
            messages.success(request, self.decide(self.join_request))
        except RuleViolation as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect(self.back_url())


class JoinRequestApproveView(JoinRequestDecisionView):
    def decide(self, join_request: JoinRequest) -> str:
        membership = join_request_approve(actor=self.request.user, join_request=join_request)
        return f"{join_request.user.email} is now a member of {self.workspace.name}, as {membership.role.name}."


class JoinRequestDeclineView(ConfirmMixin, JoinRequestDecisionView, ContextMixin):
    """Declining is confirmed first: the person is told, and only a new request can undo it."""

    def confirmation(self) -> Confirmation:
        email = self.join_request.user.email
        return Confirmation(
            title=f"Decline the request of {email}?",
            button="Decline the request",
            cancel_url=self.back_url(),
            consequences=[
                f"{email} does not join {self.workspace.name}; their request is closed.",
                "They receive an e-mail saying the request was declined, if they accept e-mail about workspaces.",
                "To let them in later, invite them.",
            ],
        )

    def decide(self, join_request: JoinRequest) -> str:
        join_request_decline(actor=self.request.user, join_request=join_request)
        return f"The request of {join_request.user.email} is declined."
