"""The error pages: a 403 that says what was refused, which capability it needs and whom to ask
(members only), 404, 500, 400 and CSRF failures inside the portal's look, and the favicon."""

from __future__ import annotations

from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import bad_request, server_error

from permissions import catalog
from tests.factories import UserFactory, add_member, make_workspace


def test_a_member_without_the_capability_learns_which_and_whom_to_ask(client, workspace, owner):
    add_member(workspace, catalog.ADMIN, user=UserFactory(full_name="Adam Admin"))
    add_member(workspace, catalog.VIEWER, user=UserFactory(full_name="Vera Viewer"))
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    response = client.get(reverse("roles:create", args=[workspace.slug]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "<strong>Manage custom roles</strong> capability" in page
    assert "your role in Acme, Member, does not give" in page
    assert 'Olivia Owner <span class="muted">(Owner)</span>' in page
    assert 'Adam Admin <span class="muted">(Admin)</span>' in page
    assert "Vera Viewer" not in page  # holds nothing to give
    assert 'aria-label="Workspace"' in page  # inside the layout, with the member's navigation
    assert "owner@acme.test" not in page  # names, not addresses


def test_only_the_holders_are_named(client, workspace, owner):
    add_member(workspace, catalog.ADMIN, user=UserFactory(full_name="Adam Admin"))
    admin = add_member(workspace, catalog.ADMIN, user=UserFactory(full_name="Alma Admin"))
    client.force_login(admin.user)
    response = client.get(reverse("billing:index", args=[workspace.slug]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "<strong>Manage the plan, billing and invoices</strong>" in page
    assert "Olivia Owner" in page
    assert "Adam Admin" not in page  # admins do not hold Manage billing


def test_a_refusal_without_a_capability_shows_its_own_message(client, workspace):
    member = add_member(workspace, catalog.MEMBER)
    other = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    response = client.get(reverse("explain:index", args=[workspace.slug]), {"member": other.pk})
    assert response.status_code == 403
    assert "to explain another member&#x27;s access" in response.content.decode()


def test_another_workspace_is_a_404_that_names_nothing(client, workspace, owner):
    stranger = UserFactory(full_name="Sam Stranger")  # a random name could be the owner's Olivia
    make_workspace(stranger, "Elsewhere")
    client.force_login(stranger)
    response = client.get(reverse("roles:create", args=[workspace.slug]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no page here" in page
    assert "Acme" not in page and "Olivia" not in page


def test_an_unknown_address_is_the_portal_404(client, owner):
    client.force_login(owner)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "There is no page here" in response.content.decode()
    assert 'href="/static/css/portal.css"' in response.content.decode()


def test_the_500_page_renders_without_a_database_or_a_user():
    # No ``db`` fixture: any query would raise here.
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and "portal.css" in page


def test_the_400_page():
    response = bad_request(RequestFactory().get("/"), Exception("bad"))
    assert response.status_code == 400
    assert "could not read this request" in response.content.decode()


def test_a_form_without_its_csrf_token_explains_itself(db):
    response = Client(enforce_csrf_checks=True).post(reverse("accounts:login"), {"username": "a@b.test"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_the_favicon_is_served_at_the_root_without_signing_in(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
