"""Checks are cached for one request; a change takes effect on the next request."""

from django.test import RequestFactory

from permissions import catalog
from permissions.middleware import AccessMiddleware
from permissions.roles import builtin_role
from tests.factories import add_member, make_site
from workspaces.people.services import member_change_role


def test_repeated_checks_in_one_access_query_once(workspace, django_assert_num_queries):
    site = make_site(workspace)
    viewer = add_member(workspace, catalog.VIEWER)
    request = RequestFactory().get("/")
    request.user = viewer.user
    AccessMiddleware(lambda r: None)(request)
    access = request.access
    with django_assert_num_queries(1):  # own rows and group rows in one query, once
        for code in catalog.codenames(catalog.SITE):
            access.has(code, site)
    with django_assert_num_queries(0):
        assert access.has("view_site", site)


def test_change_shows_on_next_request_not_within_the_current_one(workspace, owner):
    site = make_site(workspace)
    viewer = add_member(workspace, catalog.VIEWER)

    def new_request():
        request = RequestFactory().get("/")
        request.user = viewer.user
        AccessMiddleware(lambda r: None)(request)
        return request

    first = new_request()
    assert first.access.has("view_site", site)
    member_change_role(actor=owner, membership=viewer, role=builtin_role(catalog.MEMBER))
    assert first.access.has("view_site", site), "answers stay stable within one request"
    assert not new_request().access.has("view_site", site)


def test_the_site_page_reflects_a_role_change_on_the_next_request(client, workspace, owner):
    site = make_site(workspace)
    viewer = add_member(workspace, catalog.VIEWER)
    client.force_login(viewer.user)
    url = site.get_absolute_url()
    assert client.get(url).status_code == 200
    member_change_role(actor=owner, membership=viewer, role=builtin_role(catalog.MEMBER))
    assert client.get(url).status_code == 403
