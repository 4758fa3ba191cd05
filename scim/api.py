"""The SCIM 2.0 endpoints at /scim/v2/ (RFC 7644), for a workspace's identity provider.

A workspace's SCIM token in ``Authorization: Bearer <token>`` authenticates the caller and names
the workspace: every lookup is scoped to it, so another workspace's ids answer 404 like ids that
never existed. The views only translate HTTP to ``services`` and ``selectors`` and back; every
change is made as the system and recorded with the token's name as the actor.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from audit.context import system_acting
from permissions.api_input import BadInput, check_params, load_json

from . import resources, selectors, services
from .protocol import (
    ScimError,
    apply_patch,
    group_data,
    invalid,
    list_response,
    paging,
    parse_filter,
    select_attributes,
    user_data,
)
from .tokens import authenticate_token

CONTENT_TYPE = "application/scim+json"
USER_FILTERS = {"username": "userName", "externalid": "externalId", "emails.value": "emails.value"}
GROUP_FILTERS = {"displayname": "displayName", "externalid": "externalId"}


def _json(body, status: int = 200, **headers) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE, headers=headers)


def _error(error: ScimError, **headers) -> HttpResponse:
    return _json(error.body(), error.status, **headers)


def _bearer_token(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _base(request) -> str:
    return request.build_absolute_uri("/scim/v2").rstrip("/")


def scim_api(*methods: str):
    """Decorate a SCIM view: a SCIM error for other methods, for a missing, bad or revoked token and
    for hostile text; the view receives the token's workspace. Refusals of the rules are SCIM
    errors too: nothing the client sends makes a 500."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            token = authenticate_token(_bearer_token(request))
            if token is None:
                return _error(
                    ScimError(401, "Send a valid SCIM token of the workspace as “Authorization: Bearer <token>”."),
                    **{"WWW-Authenticate": 'Bearer realm="scim"'},
                )
            if request.method not in methods:
                return _error(ScimError(405, "Method not allowed."), Allow=", ".join(methods))
            try:
                check_params(((k, v) for k, vs in request.GET.lists() for v in vs), "query parameter")
                check_params(((name, str(value)) for name, value in kwargs.items()), "path")
            except BadInput as exc:
                return _error(invalid(str(exc)))
            request.scim_token = token
            try:
                with system_acting(f"SCIM token “{token.name}”"):
                    return view(request, token.workspace, *args, **kwargs)
            except ScimError as exc:
                return _error(exc)
            except ValidationError as exc:  # a rule of the portal (RuleViolation) or a field's validation
                return _error(invalid(" ".join(exc.messages), "mutability"))

        return csrf_exempt(login_not_required(never_cache(wrapper)))

    return decorate


def _body(request):
    try:
        return load_json(request.body)
    except BadInput as exc:
        raise invalid(str(exc), "invalidSyntax") from exc


def _not_found(what: str) -> ScimError:
    return ScimError(404, f"No such {what}.")


# --- discovery ------------------------------------------------------------------------------------


@scim_api("GET")
def service_provider_config(request, workspace):
    return _json(resources.service_provider_config(_base(request)))


@scim_api("GET")
def resource_types(request, workspace, name=None):
    found = resources.resource_types(_base(request))
    if name is None:
        return _json(list_response(found, total=len(found), start=1))
    for item in found:
        if item["id"] == name:
            return _json(item)
    raise _not_found("resource type")


@scim_api("GET")
def schemas(request, workspace, schema_id=None):
    found = resources.schemas(_base(request))
    if schema_id is None:
        return _json(list_response(found, total=len(found), start=1))
    for item in found:
        if item["id"] == schema_id:
            return _json(item)
    raise _not_found("schema")


@scim_api("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found(request, workspace, rest=""):
    raise _not_found("endpoint")


@scim_api("POST")
def search(request, workspace, resource=None):
    """POST /.search (RFC 7644 3.4.3): not offered; a list with ``filter`` does the same."""
    raise ScimError(501, "Searching with POST /.search is not supported: list with GET and a filter instead.")


# --- users --------------------------------------------------------------------------------------


@scim_api("GET", "POST")
def users(request, workspace):
    base = _base(request)
    if request.method == "POST":
        identity = services.user_provision(token=request.scim_token, data=user_data(_body(request)))
        resource = resources.user_resource(identity, base)
        return _json(resource, 201, Location=resource["meta"]["location"])
    start, count = paging(request.GET)
    found = selectors.scim_users(workspace)
    chosen = parse_filter(request.GET.get("filter"), USER_FILTERS)
    if chosen is not None:
        attribute, value = chosen
        lookup = {"userName": "user_name__iexact", "externalId": "external_id", "emails.value": "user__email__iexact"}
        found = found.filter(**{lookup[attribute]: value})
    total = found.count()
    page = list(found[start - 1 : start - 1 + count]) if count else []
    items = [select_attributes(resources.user_resource(item, base), request.GET) for item in page]
    return _json(list_response(items, total=total, start=start))


def _identity(workspace, scim_id):
    identity = selectors.scim_user_in(workspace, scim_id)
    if identity is None:
        raise _not_found("user")
    return identity


@scim_api("GET", "PUT", "PATCH", "DELETE")
def user(request, workspace, scim_id):
    base = _base(request)
    identity = _identity(workspace, scim_id)
    if request.method == "DELETE":
        services.user_delete(identity=identity)
        return HttpResponse(status=204)
    if request.method == "PUT":
        identity = services.user_update(token=request.scim_token, identity=identity, data=user_data(_body(request)))
    elif request.method == "PATCH":
        body = _body(request)

        def patched(current):  # applied to the user as it is once the service holds its locks
            document = apply_patch(
                resources.user_document(current, base),
                body,
                multi_valued={"emails"},
                complex_={"name"},
                required=frozenset({"username", "emails", "active"}),
            )
            return user_data(document)

        identity = services.user_update(token=request.scim_token, identity=identity, data=patched)
    return _json(select_attributes(resources.user_resource(identity, base), request.GET))


# --- groups -------------------------------------------------------------------------------------


def _group_json(workspace, team, base: str, params) -> dict:
    members = selectors.provisioned_members(workspace, [team.pk]).get(team.pk, [])
    return select_attributes(resources.group_resource(team, members, base), params)


@scim_api("GET", "POST")
def groups(request, workspace):
    base = _base(request)
    if request.method == "POST":
        team = services.group_create(workspace=workspace, data=group_data(_body(request)))
        team = selectors.team_in(workspace, team.pk)
        resource = _group_json(workspace, team, base, {})
        return _json(resource, 201, Location=resource["meta"]["location"])
    start, count = paging(request.GET)
    found = selectors.teams(workspace)
    chosen = parse_filter(request.GET.get("filter"), GROUP_FILTERS)
    if chosen is not None:
        attribute, value = chosen
        lookup = {"displayName": "name__iexact", "externalId": "scim__external_id"}
        found = found.filter(**{lookup[attribute]: value})
    total = found.count()
    page = list(found[start - 1 : start - 1 + count]) if count else []
    members = selectors.provisioned_members(workspace, [team.pk for team in page])
    items = [
        select_attributes(resources.group_resource(team, members.get(team.pk, []), base), request.GET) for team in page
    ]
    return _json(list_response(items, total=total, start=start))


@scim_api("GET", "PUT", "PATCH", "DELETE")
def group(request, workspace, team_id):
    base = _base(request)
    team = selectors.team_in(workspace, team_id)
    if team is None:
        raise _not_found("group")
    if request.method == "DELETE":
        services.group_delete(team=team)
        return HttpResponse(status=204)
    if request.method == "PUT":
        services.group_update(team=team, data=group_data(_body(request)))
    elif request.method == "PATCH":
        body = _body(request)

        def patched(current, members):  # applied to the group as it is once the service holds its lock
            document = resources.group_document(current, members, base)
            return group_data(apply_patch(document, body, multi_valued={"members"}, complex_=set()))

        services.group_update(team=team, data=patched)
    team = selectors.team_in(workspace, team.pk)
    if team is None:
        raise _not_found("group")
    return _json(_group_json(workspace, team, base, request.GET))
