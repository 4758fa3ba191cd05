"""The API's short way through the middleware: views marked ``sessionless`` are called straight
from ``SessionlessMiddleware``, which stands below the middleware that sets the response headers
and above everything that serves people signed in by a session.

Every operation under /api/v1/ is authenticated by a workspace access key in the Authorization
header (``permissions.api.KeyAuth``), never by a session: it reads and sets no cookie, no CSRF
token applies to it, and the session, sign-in, two-factor, single sign-on, messages and lockout
middleware have nothing to do for it. Going through them anyway cost every call about 135 µs of
CPU, a sixth of a cached check. What a response of any view carries (security headers, the
Content-Security-Policy, Permissions-Policy, X-Frame-Options) still comes from the middleware
above. Only a view that says so takes the short way (``portal.api`` marks the API's operations and
its OpenAPI document, not its browsable page), so a new view goes the long way unless it is marked;
``tests/test_sessionless.py`` checks every marked view needs no login and no CSRF token.
"""

from __future__ import annotations

from django.urls import Resolver404, get_resolver

API_PREFIX = "/api/"


def sessionless(view):
    """Mark ``view`` to be called by ``SessionlessMiddleware``, past the session middleware."""
    view.sessionless = True
    return view


class SessionlessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            try:
                match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "sessionless", False):
                request.resolver_match = match
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
