"""What every workspace page shares: find the workspace once, check access once.

``WorkspaceMixin`` looks the workspace up from the URL's ``workspace_slug`` (404 for anyone who is
not a member, so other workspaces' pages do not even admit they exist), checks
``required_capability`` on it (403 for a member without it), and puts ``workspace``,
``membership`` and ``ws_perms`` (the capabilities the person holds on the workspace) in the
template context, so templates show only the controls the person may use. The server checks
again in the service on every write.
"""

from __future__ import annotations

from django.utils.functional import cached_property

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
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            workspace=self.workspace,
            membership=self.membership,
            ws_perms=self.access.perms(self.workspace),
        )
        return context
