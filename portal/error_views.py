"""The 403 page: what was refused, which capability it needs, and whom in the workspace to ask.

Django renders ``templates/404.html``, ``500.html``, ``400.html`` and ``403_csrf.html`` itself; a
403 comes here (``handler403`` in ``portal.urls``). The refusal's message is the policy's ("You need
the “Manage roles” capability."). For a member of the workspace the page was in, it also shows the
workspace's navigation and names the owners and admins who hold the capability; nobody else learns
anything about a workspace from it (non-members get 404 before any capability is asked, and a
refusal that reaches here for a non-member shows its message only).
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

from kernel.errors import CapabilityMissing
from permissions import catalog
from permissions.selectors import capability_holders


def _membership_of_page(request):
    """The person's membership of the workspace named by the refused page's URL, or None."""
    match = request.resolver_match
    slug = match.kwargs.get("workspace_slug") if match else None
    if not slug or not request.user.is_authenticated or not hasattr(request, "access"):
        return None
    try:
        return request.access.membership_in(slug)
    except Http404:
        return None


@requires_csrf_token
def permission_denied(request, exception=None):
    reason = str(exception) if exception is not None and exception.args else ""
    context = {"reason": reason}
    membership = _membership_of_page(request)
    if membership is not None:
        context.update(workspace=membership.workspace, membership=membership)
    if isinstance(exception, CapabilityMissing) and membership and membership.workspace_id == exception.workspace_id:
        context.update(
            capability=catalog.CAPABILITIES[exception.capability],
            holders=capability_holders(exception.workspace_id, exception.capability),
        )
    return render(request, "403.html", context, status=403)
