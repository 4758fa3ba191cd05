"""The API under /api/v1/: one django-ninja ``NinjaAPI`` gathering each app's router, its OpenAPI 3
document at /api/v1/openapi.json and a browsable page at /api/v1/docs (Swagger UI, served from the
portal's own static files, so the Content-Security-Policy holds).

django-ninja was chosen over Django REST framework: the API is a handful of read and check
operations whose inputs the portal parses itself, and ninja describes them from type hints with
little more than the functions, without a second request/response layer.

What every operation shares is set here, once: JSON refusals (``{"error": "..."}``, also for
methods an operation does not take), no login redirect (the key is the credential) and the cache
headers (an answer with an ETag may be kept and revalidated; every other answer is never stored).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.urls import path
from django.utils.cache import add_never_cache_headers, patch_cache_control
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, ValidationError

from permissions import api as checks_api
from permissions.api import ApiError, error_response
from portal.sessionless import sessionless
from workspace_settings import api as settings_api
from workspaces.people import api as people_api

api = NinjaAPI(
    title="Portal API",
    version="1",
    description=(
        "Ask whether a person may do something in a workspace, and read the workspace's settings and "
        "members. Authenticate with a workspace access key: `Authorization: Bearer <key>`. A key's scopes "
        "say which operations it may call; past a rate limit the answer is 429 with Retry-After."
    ),
    urls_namespace="api",
    openapi_url="openapi.json",
    docs_url="docs",
    docs=Swagger(settings={"persistAuthorization": False, "tryItOutEnabled": False}),
)
for router in (checks_api.router, settings_api.router, people_api.router):
    api.add_router("", router)


@api.exception_handler(ApiError)
def _refused(request, exc: ApiError):
    return error_response(exc)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(ApiError(401, "Send a valid workspace access key as “Authorization: Bearer <key>”."))


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    return error_response(ApiError(400, "The request does not have the form this operation takes."))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(ApiError(404, "Not found."))


def _answer_methods_and_cache(view):
    """The ninja view of one path, with a JSON 405 for other methods and the cache headers."""

    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            response = error_response(ApiError(405, "Method not allowed.", Allow=allowed))
        if response.has_header("ETag"):
            patch_cache_control(response, private=True, no_cache=True)
        else:
            add_never_cache_headers(response)
        return response

    wrapper.csrf_exempt = True
    return login_not_required(wrapper)


# The browsable page is for people: it goes through the session middleware like every page.
_WITH_SESSION = {"openapi-view"}


def urlpatterns() -> list:
    """Every path of ``api``; the key-authenticated operations and the OpenAPI document skip the
    session middleware (``portal.sessionless``)."""
    patterns, _app_name, _namespace = api.urls
    urls = []
    for pattern in patterns:
        view = _answer_methods_and_cache(pattern.callback)
        urls.append(
            path(str(pattern.pattern), view if pattern.name in _WITH_SESSION else sessionless(view), name=pattern.name)
        )
    return urls
