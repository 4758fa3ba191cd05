"""The check API (docs/RULES.md 5.1) for the platform's other services, and ``KeyAuth``, the door of
every operation under /api/v1/ (``portal.api`` gathers the apps' django-ninja routers).

A workspace access key in ``Authorization: Bearer <key>`` authenticates the caller, so these
operations need no session, no login and no CSRF token. They only translate HTTP to ``checks`` and
back. Their query parameters and bodies are read by the portal's own parsers (``checks``,
``api_input``), whose refusals say exactly what is wrong; the schemas below describe them for the
OpenAPI document at /api/v1/openapi.json.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.encoding import escape_uri_path
from django.utils.http import parse_etags
from ninja import Router, Schema
from ninja.security.base import AuthBase

from . import api_limits
from .api_input import BadInput, check_params, load_json
from .check_cache import cached_checks
from .checks import MAX_BATCH, CheckError, parse_batch, parse_check
from .keys import CHECK, authenticate_key
from .member_permissions import PAGE_DEFAULT, PAGE_MAX, member_permissions, parse_page
from .models import SCOPE_NAMES


class ApiError(Exception):
    """A refusal: ``{"error": message}`` with ``status`` and ``headers`` (``portal.api`` answers it)."""

    def __init__(self, status: int, message: str, **headers: str):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class Error(Schema):
    error: str


# Every refusal a key-authenticated operation may answer, for the OpenAPI document.
REFUSALS = {400: Error, 401: Error, 403: Error, 429: Error}


def error_response(exc: ApiError) -> JsonResponse:
    return JsonResponse({"error": exc.message}, status=exc.status, headers=exc.headers)


def _bearer_token(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _refuse_if_limited(limited: api_limits.Limited | None) -> None:
    if limited:
        raise ApiError(429, limited.message, **{"Retry-After": str(limited.retry_after)})


class KeyAuth(AuthBase):
    """The door of an operation: the rate limits (``api_limits``), a key that is not missing, wrong,
    revoked or expired (401), its ``scope`` (403), and clean text in the query and the path (400),
    in that order. The operation finds the key in ``request.auth`` and its workspace on it."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __init__(self, scope: str = CHECK):
        self.scope = scope
        super().__init__()

    def __call__(self, request):
        token = _bearer_token(request)
        _refuse_if_limited(api_limits.before_key(request, token))
        key = authenticate_key(token)
        if key is None:
            _refuse_if_limited(api_limits.after_bad_key(request))
            raise ApiError(
                401,
                "Send a valid workspace access key as “Authorization: Bearer <key>”.",
                **{"WWW-Authenticate": 'Bearer realm="portal"'},
            )
        _refuse_if_limited(api_limits.after_key(request, key))
        if self.scope not in key.scopes:
            raise ApiError(
                403,
                f"This key may not do that: it needs the “{SCOPE_NAMES[self.scope]}” scope. Make a key with it "
                "on the workspace's access keys page.",
            )
        path_parts = request.resolver_match.kwargs.items() if request.resolver_match else ()
        try:
            check_params(((k, v) for k, vs in request.GET.lists() for v in vs), "query parameter")
            check_params(((name, str(value)) for name, value in path_parts), "path")
        except BadInput as exc:
            raise ApiError(400, str(exc)) from None
        request.access_key = key
        return key


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


router = Router(tags=["Checks"])


def _query(name: str, description: str, *, required: bool = False, schema: dict | None = None) -> dict:
    return {
        "in": "query",
        "name": name,
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


class Question(Schema):
    user: str
    permission: str
    site: str | None = None
    experience: int | None = None


class Batch(Schema):
    checks: list[Question]


class Answer(Schema):
    allowed: bool


class Answers(Schema):
    results: list[bool]


class MemberPermissions(Schema):
    workspace: list[str]
    sites: dict[str, list[str]]
    experiences: dict[str, list[str]]
    next: str | None


QUESTION_PARAMETERS = [
    _query("user", "The person's e-mail address (any case).", required=True),
    _query("permission", "A capability's codename (docs/CAPABILITIES.md).", required=True),
    _query("site", "A site's short name, for a site capability."),
    _query("experience", "An experience's id, for an experience capability.", schema={"type": "integer"}),
]


@router.get(
    "check",
    auth=KeyAuth(CHECK),
    url_name="check",
    summary="May this person do this?",
    response={200: Answer, 404: Error, **REFUSALS},
    openapi_extra={"parameters": QUESTION_PARAMETERS},
)
def check(request):
    try:
        question = parse_check(request.GET)
        key = request.auth
        (allowed,) = cached_checks(key.workspace, key.access_version, [question], key=key)
    except CheckError as exc:
        raise ApiError(exc.status, exc.message) from None
    return JsonResponse({"allowed": allowed})


@router.post(
    "check",
    auth=KeyAuth(CHECK),
    url_name="check",
    summary=f"Up to {MAX_BATCH} questions at once",
    description="The answers come in the order of the questions.",
    response={200: Answers, 404: Error, **REFUSALS},
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": Batch.model_json_schema()}}}
    },
)
def check_batch(request):
    try:
        body = load_json(request.body)
    except BadInput as exc:
        raise ApiError(400, str(exc)) from None
    try:
        results = cached_checks(
            request.auth.workspace, request.auth.access_version, parse_batch(body), key=request.auth
        )
    except CheckError as exc:
        raise ApiError(exc.status, exc.describe()) from None
    return JsonResponse({"results": results})


@router.get(
    "members/{email}/permissions",
    auth=KeyAuth(CHECK),
    url_name="member_permissions",
    summary="Everything one member holds, a page at a time",
    description="`next` is the path of the next page (send it with the same key), or null on the last.",
    response={200: MemberPermissions, 404: Error, **REFUSALS},
    openapi_extra={
        "parameters": [
            _query("cursor", "The cursor of a previous page's `next`."),
            _query(
                "limit",
                f"Objects per page (default {PAGE_DEFAULT}).",
                schema={"type": "integer", "minimum": 1, "maximum": PAGE_MAX},
            ),
        ]
    },
)
def member_permissions_view(request, email: str):
    try:
        position, limit = parse_page(request.GET)
    except CheckError as exc:
        raise ApiError(exc.status, exc.message) from None
    page = member_permissions(request.auth.workspace, email, position, limit)
    if page is None:
        raise ApiError(404, "No member with that e-mail address in this workspace.")
    following = None
    if page.next is not None:
        params = {"cursor": page.next.cursor(), **({"limit": limit} if "limit" in request.GET else {})}
        following = f"{escape_uri_path(request.path)}?{urlencode(params)}"
    body = {"workspace": page.workspace, "sites": page.sites, "experiences": page.experiences, "next": following}
    return json_with_etag(request, body)
