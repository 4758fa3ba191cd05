"""What every workspace page shares: find the workspace once, check access once.

``WorkspaceMixin`` looks the workspace up from the URL's ``workspace_slug`` (404 for anyone who is
not a member, so other workspaces' pages do not even admit they exist), checks
``required_capability`` on it (403 for a member without it), and puts ``workspace``,
``membership`` and ``ws_perms`` (the capabilities the person holds on the workspace) in the
template context, so templates show only the controls the person may use. The server checks
again in the service on every write. A person who chose no time zone sees the workspace's.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import View
from django.views.generic.base import ContextMixin

from workspaces.models import Workspace


class WorkspaceMixin:
    required_capability: str = "view_workspace"

    @cached_property
    def membership(self):
        """The person's membership with its workspace and role: one query (none when the two-factor
        middleware loaded it), 404 for non-members whether or not the workspace exists."""
        return self.request.access.membership_in(self.kwargs["workspace_slug"])

    @cached_property
    def workspace(self) -> Workspace:
        return self.membership.workspace

    @property
    def access(self):
        return self.request.access

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.access.require(self.required_capability, self.workspace)
            if not request.user.time_zone:
                # No zone of their own: the workspace's (accounts.middleware resets it after the request).
                timezone.activate(ZoneInfo(self.workspace.time_zone))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            workspace=self.workspace,
            membership=self.membership,
            ws_perms=self.access.perms(self.workspace),
        )
        return context


def flash_errors(request, errors) -> None:
    """Each message of a refusal, as an error message on the next page."""
    for message in errors:
        messages.error(request, message)


class WorkspaceActionView(ContextMixin, View):
    """A POST-only control that does one thing and ends on a page with a message.

    Subclasses (after their workspace mixin) define ``act(request)``, which calls one service, and
    ``done_url()``, the page to go back to. Bad input and a rule's refusal (a ValidationError, which
    ``RuleViolation`` is) are shown as messages; nothing was written. A destructive one puts
    ``kernel.confirm.ConfirmMixin`` first in its bases (its page needs the context this class gives).
    """

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            self.act(request)
        except ValidationError as exc:
            flash_errors(request, exc.messages)
        return redirect(self.done_url())

    def act(self, request) -> None:
        raise NotImplementedError

    def done_url(self) -> str:
        raise NotImplementedError
