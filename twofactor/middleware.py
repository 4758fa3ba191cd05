"""Leads people to the two-factor page they owe before any other page.

Three cases, for a signed-in person, in this order:

1. Signed in with the password but the code is still owed (``session.PENDING``): every page but
   the code page, sign-out, static files and the key-authenticated API leads to the code page.
2. The admin, when the deployment requires two-factor authentication for staff
   (``ADMIN_REQUIRE_TWO_FACTOR``) and the session is not verified: to set-up or the code page.
3. A page under /w/<slug>/ of a workspace that requires two-factor authentication, for a member
   whose session is not verified (a code or passkey, or the workspace's trusted identity provider's
   multi-factor sign-in: ``session.is_verified_for``): to set-up (no second factor yet) or the code
   page (an authenticator app or a passkey, not used in this session yet; the page offers the
   passkey). A password session always owes it here, whatever ``permissions.policy`` lets the
   member hold.
   Finding out costs no extra query: the one query that reads the requirement also loads the
   person's membership, which the page would have loaded anyway (see ``workspace_requirement``).

Each redirect carries ``next=`` back to the page asked for.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse

from sso.models import SSORequirement
from workspaces.models import Membership

from . import devices, session
from .models import WorkspaceSecurity

WORKSPACE_PREFIX = "/w/"


def _url(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _always_open(path: str) -> bool:
    """Pages a person owing a code may still open."""
    open_paths = (
        reverse("two_factor:verify"),
        reverse("accounts:logout"),
        "/" + settings.STATIC_URL.lstrip("/"),
        "/api/",
    )
    return path.startswith(open_paths)


def workspace_requirement(request, workspace_slug: str) -> Membership | None:
    """The person's membership of the workspace, with ``two_factor_required``, ``sso_required``
    (read by ``sso.middleware``) and ``workspace`` on it, in one query; None for non-members (the
    page answers 404 for them).

    The membership is handed to ``request.access``, so the page's own membership check reuses it
    instead of asking the database again.
    """
    user = request.user
    if not user.is_active:
        return None
    required = WorkspaceSecurity.objects.filter(workspace=OuterRef("workspace_id"), two_factor_required=True)
    membership = (
        Membership.objects.select_related("role", "workspace")
        .filter(workspace__slug=workspace_slug, user_id=user.pk)
        .annotate(
            two_factor_required=Exists(required),
            sso_required=Exists(SSORequirement.objects.filter(workspace=OuterRef("workspace_id"), required=True)),
        )
        .first()
    )
    if membership is not None:
        request.access.remember_membership(membership)
    return membership


def redirect_to_two_factor(request, who: str) -> HttpResponseRedirect:
    """To set-up (no second factor yet) or the code page (an app or a passkey, not used in this session).
    ``who`` names what requires it ("Acme", "The admin") in the message."""
    next_url = request.get_full_path()
    if devices.has_two_factor(request.user):
        # A person whose only second factor is a passkey goes here too: the page offers it.
        messages.info(request, f"{who} requires two-factor authentication: enter a code or use a passkey to continue.")
        return HttpResponseRedirect(_url("two_factor:verify", next_url))
    messages.warning(request, f"{who} requires two-factor authentication. Set it up to continue.")
    return HttpResponseRedirect(_url("two_factor:setup", next_url))


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None  # LoginRequiredMiddleware (or the page itself) deals with that
        path = request.path_info
        if _always_open(path):
            return None
        if session.is_pending(request):
            return HttpResponseRedirect(_url("two_factor:verify", request.get_full_path()))
        if self._admin_needs_two_factor(request, path):
            return redirect_to_two_factor(request, "The admin")
        slug = view_kwargs.get("workspace_slug")
        if slug and path.startswith(WORKSPACE_PREFIX):
            membership = workspace_requirement(request, slug)
            if (
                membership is not None
                and membership.two_factor_required
                and not session.is_verified_for(request, membership.workspace_id)
            ):
                return redirect_to_two_factor(request, membership.workspace.name)
        return None

    @staticmethod
    def _admin_needs_two_factor(request, path: str) -> bool:
        return (
            settings.ADMIN_REQUIRE_TWO_FACTOR
            and request.user.is_staff
            and path.startswith("/" + settings.ADMIN_URL.lstrip("/"))
            and not session.is_verified(request.user)
        )
