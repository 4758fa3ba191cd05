"""The API's short way through the middleware (portal/sessionless.py): key-authenticated views are
called past the session middleware, keep every response header, and nothing else takes that way."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from permissions.keys import key_create
from portal.sessionless import API_PREFIX

URL = "/api/v1/check"
HEADERS = ("Content-Security-Policy", "Permissions-Policy", "X-Frame-Options", "X-Content-Type-Options")


def _views(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + str(entry.pattern), entry.callback


def test_only_the_apis_key_authenticated_views_skip_the_session_middleware():
    marked = {path: view for path, view in _views(get_resolver().url_patterns) if getattr(view, "sessionless", False)}
    assert "/api/v1/check" in marked and "/api/v1/openapi.json" in marked
    assert "/api/v1/docs" not in marked  # the browsable page is a page like any other
    for path, view in marked.items():
        assert path.startswith(API_PREFIX), path
        assert getattr(view, "login_required", True) is False, path  # never a page behind sign-in
        assert getattr(view, "csrf_exempt", False), path  # nothing a cookie could authorise


def test_a_signed_in_browser_calling_the_api_costs_no_session_query(
    client, workspace, owner, django_assert_num_queries
):
    """With a session cookie, the session and its user would be read by the middleware below; the
    API reads only its key (and counts the call): the session is neither read nor needed."""
    raw = key_create(actor=None, workspace=workspace, name="Platform")[1]
    client.force_login(owner)
    question = {"user": owner.email, "permission": "view_workspace"}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(URL, question, **auth).json() == {"allowed": True}
    with django_assert_num_queries(2):  # the key with its access version, the day's count
        response = client.get(URL, question, **auth)
    assert response.json() == {"allowed": True}
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.get("Vary", "")
    assert client.get(URL, question).status_code == 401  # the session is no credential here


def test_api_answers_keep_every_response_header(client, workspace):
    raw = key_create(actor=None, workspace=workspace, name="Platform")[1]
    answered = client.get(
        URL, {"user": "a@acme.test", "permission": "view_workspace"}, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    refused = client.get(URL, {"user": "a@acme.test", "permission": "view_workspace"})
    document = client.get("/api/v1/openapi.json")
    page = client.get("/healthz")
    for response in (answered, refused, document):
        for header in HEADERS:
            assert response.get(header) == page.get(header), (response.status_code, header)
    assert answered.status_code == 200 and refused.status_code == 401 and document.status_code == 200


def test_an_unknown_api_path_is_the_usual_404(client):
    assert client.get("/api/v1/nothing-here").status_code == 404
    assert client.get("/api/v2/check").status_code == 404
