"""The JSON check API (docs/RULES.md 5.1), for the platform's other services, and ``key_api``, the
door of every view under /api/v1/.

A workspace access key in ``Authorization: Bearer <key>`` authenticates the caller, so these views
need no session, no login and no CSRF token. They only translate HTTP to ``checks`` and back.
"""

from __future__ import annotations

import hashlib
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.encoding import escape_uri_path
from django.utils.http import parse_etags
from django.views.decorators.csrf import csrf_exempt

from . import api_limits
from .api_input import BadInput, check_params, load_json
from .checks import CheckError, parse_batch, parse_check, run_checks
from .keys import CHECK, authenticate_key, count_check_call
from .member_permissions import member_permissions, parse_page
from .models import SCOPE_NAMES


def _error(message: str, status: int, **headers) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers)


def _too_many(limited: api_limits.Limited) -> JsonResponse:
    return _error(limited.message, 429, **{"Retry-After": str(limited.retry_after)})


def _bearer_token(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def key_api(*methods: str, scope: str = CHECK):
    """Decorate an API view: JSON errors for other methods, for a missing, bad, revoked or expired
    key, past a rate limit (``api_limits``: 429 with Retry-After) and for a key without ``scope``
    (403); the view receives the key's workspace. Answers that carry an ETag may be kept by the
    caller and revalidated; every other answer is never cached."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                return _error("Method not allowed.", 405, Allow=", ".join(methods))
            if limited := api_limits.before_key(request):
                return _too_many(limited)
            key = authenticate_key(_bearer_token(request))
            if key is None:
                if limited := api_limits.after_bad_key(request):
                    return _too_many(limited)
                return _error(
                    "Send a valid workspace access key as “Authorization: Bearer <key>”.",
                    401,
                    **{"WWW-Authenticate": 'Bearer realm="portal"'},
                )
            if limited := api_limits.after_key(request, key):
                return _too_many(limited)
            if scope not in key.scopes:
                return _error(
                    f"This key may not do that: it needs the “{SCOPE_NAMES[scope]}” scope. Make a key with it "
                    "on the workspace's access keys page.",
                    403,
                )
            try:
                check_params(((k, v) for k, vs in request.GET.lists() for v in vs), "query parameter")
                check_params(((name, str(value)) for name, value in kwargs.items()), "path")
            except BadInput as exc:
                return _error(str(exc), 400)
            request.access_key = key
            return view(request, key.workspace, *args, **kwargs)

        @wraps(view)
        def cache_headers(request, *args, **kwargs):
            response = wrapper(request, *args, **kwargs)
            if response.has_header("ETag"):
                patch_cache_control(response, private=True, no_cache=True)
            else:
                add_never_cache_headers(response)
            return response

        return csrf_exempt(login_not_required(cache_headers))

    return decorate


def json_with_etag(request, body: dict) -> HttpResponse:
    """``body`` as JSON with a strong ETag of its bytes; 304 with no body when the caller's
    ``If-None-Match`` already names it, so a service that polls pays for the answer only when it
    changed. The answer is computed either way: the ETag saves bandwidth and parsing, not queries."""
    response = JsonResponse(body)
    etag = f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    known = parse_etags(request.headers.get("If-None-Match", ""))
    if etag in known or "*" in known:
        response = HttpResponseNotModified()
    response["ETag"] = etag
    return response


@key_api("GET", "POST")
def check(request, workspace):
    if request.method == "POST":
        return _check_batch(request, workspace)
    try:
        question = parse_check(request.GET)
        (allowed,) = run_checks(workspace, [question])
    except CheckError as exc:
        return _error(exc.message, exc.status)
    count_check_call(request.access_key, checks=1)
    return JsonResponse({"allowed": allowed})


def _check_batch(request, workspace) -> JsonResponse:
    try:
        body = load_json(request.body)
    except BadInput as exc:
        return _error(str(exc), 400)
    try:
        results = run_checks(workspace, parse_batch(body))
    except CheckError as exc:
        return _error(exc.describe(), exc.status)
    count_check_call(request.access_key, checks=len(results))
    return JsonResponse({"results": results})


@key_api("GET")
def member_permissions_view(request, workspace, email: str):
    """One page of what a member holds; ``next`` is the path of the next page, or null."""
    try:
        position, limit = parse_page(request.GET)
    except CheckError as exc:
        return _error(exc.message, exc.status)
    page = member_permissions(workspace, email, position, limit)
    if page is None:
        return _error("No member with that e-mail address in this workspace.", 404)
    following = None
    if page.next is not None:
        params = {"cursor": page.next.cursor(), **({"limit": limit} if "limit" in request.GET else {})}
        following = f"{escape_uri_path(request.path)}?{urlencode(params)}"
    body = {"workspace": page.workspace, "sites": page.sites, "experiences": page.experiences, "next": following}
    return json_with_etag(request, body)
