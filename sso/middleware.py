"""Required single sign-on: a workspace that requires it (``models.SSORequirement``) opens its pages,
to a member whose address is at a domain of one of its enabled connections, only in a session its
own identity provider signed in (``sessions.signed_in_through``). Any other session -- a password,
or another workspace's identity provider -- gets a page that explains and continues to the
provider, with ``next`` back to the page asked for; never a 403.

- Members at other domains (contractors, say) are not concerned.
- Owners keep a way back in if the provider fails: a session verified by two-factor
  authentication opens the workspace, and that is audited (``sso.bypass``, once per session).
- Access keys are not sessions: the API is not concerned.

It runs after ``twofactor.middleware.TwoFactorMiddleware``, which has read the person's membership
of the workspace, with whether the workspace requires single sign-on (``sso_required``), in its one
query and handed it to ``request.access``: a workspace that does not require it costs no query here.
"""

from __future__ import annotations

from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from requests import RequestException

from permissions import catalog
from twofactor import devices
from twofactor import session as two_factor_session

from .oidc import start
from .selectors import connection_for_email
from .services import sso_bypass_record, sso_refusal_record
from .sessions import bypass_first_time, signed_in_through

WORKSPACE_PREFIX = "/w/"


def _is_owner(membership) -> bool:
    return membership.role.builtin and membership.role.key == catalog.OWNER


class RequiredSSOMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("workspace_slug")
        if not slug or not request.user.is_authenticated or not request.path_info.startswith(WORKSPACE_PREFIX):
            return None
        try:
            membership = request.access.membership_in(slug)
        except Http404:
            return None  # the page answers outsiders
        if not getattr(membership, "sso_required", False):
            return None
        workspace = membership.workspace
        if signed_in_through(request) == workspace.pk:
            return None
        connection = connection_for_email(request.user.email)
        if connection is None or connection.workspace_id != workspace.pk:
            return None  # an address at a domain no enabled connection of this workspace admits
        if _is_owner(membership) and two_factor_session.is_verified(request.user):
            if bypass_first_time(request, workspace.pk):
                sso_bypass_record(user=request.user, workspace=workspace, connection=connection)
            return None
        return required_page(request, connection, membership)


def required_page(request, connection, membership):
    """The page that explains and continues to the identity provider (a link, followed at once by
    a ``meta`` refresh, as on the sign-in page); an owner is offered two-factor authentication
    instead and is not sent on at once."""
    next_url = request.get_full_path() if request.method == "GET" else membership.workspace.get_absolute_url()
    owner = _is_owner(membership)
    context = {"connection": connection, "workspace": membership.workspace, "owner": owner, "next_url": next_url}
    if owner:
        context["has_two_factor"] = devices.has_two_factor(request.user)
    try:
        response = start(request, connection, email=request.user.email, next_url=next_url)
    except (OAuth2Error, RequestException, ValueError, KeyError):
        sso_refusal_record(connection=connection, reason="discovery", email=request.user.email)
        return TemplateResponse(request, "sso/required.html", {**context, "unreachable": True}, status=503)
    if not isinstance(response, HttpResponseRedirect):
        return response  # allauth's own error page
    return TemplateResponse(request, "sso/required.html", {**context, "continue_url": response["Location"]})
