"""Access-key pages: list, create (key shown once, not cached), revoke; refused without the capability."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.keys import authenticate_key, key_create
from permissions.models import AccessKey
from tests.factories import UserFactory, add_member, make_workspace


def urls(workspace, key=None) -> dict[str, str]:
    found = {
        "list": reverse("access_keys:list", args=[workspace.slug]),
        "create": reverse("access_keys:create", args=[workspace.slug]),
    }
    if key is not None:
        found["revoke"] = reverse("access_keys:revoke", args=[workspace.slug, key.pk])
    return found


def test_urls_are_under_the_workspace_settings(workspace):
    assert urls(workspace)["list"] == f"/w/{workspace.slug}/settings/access-keys/"


def test_list_shows_keys_without_secrets(client, workspace, owner):
    key, raw = key_create(actor=owner, workspace=workspace, name="Dashboards")
    key_create(actor=None, workspace=workspace, name="Recordings")
    client.force_login(owner)
    response = client.get(urls(workspace)["list"])
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Dashboards", "Recordings", key.prefix, owner.display_name, "never", "Active"):
        assert text in page
    assert raw not in page and key.key_hash not in page
    assert reverse("access_keys:revoke", args=[workspace.slug, key.pk]) in page


# session, user, membership with its workspace, workspace permissions, the count and a page of keys
# with their creators
LIST_QUERIES = 6


@pytest.mark.parametrize("count", [1, 60])
def test_list_query_count_does_not_grow(client, workspace, owner, django_assert_num_queries, count):
    creators = [add_member(workspace, catalog.ADMIN).user for _ in range(3)]
    for n in range(count):
        key_create(actor=creators[n % 3], workspace=workspace, name=f"Key {n:02d}")
    client.force_login(owner)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(urls(workspace)["list"])
    assert response.content.decode().count("<tr>") == min(count, 50) + 1


def test_keys_are_paged_newest_first(client, workspace, owner):
    for n in range(53):
        key_create(actor=None, workspace=workspace, name=f"Key {n:02d}")
    client.force_login(owner)
    first = client.get(urls(workspace)["list"])
    assert [key.name for key in first.context["keys_pager"]["page"]][:2] == ["Key 52", "Key 51"]
    assert "?page=2" in first.content.decode() and "(53 keys)" in first.content.decode()
    second = client.get(urls(workspace)["list"], {"page": "2"})
    assert [key.name for key in second.context["keys_pager"]["page"]] == ["Key 02", "Key 01", "Key 00"]


@pytest.mark.parametrize("page", ["abc", "-1", "0", "9" * 5000, "\x00", "99999999999999999999"])
def test_hostile_page_numbers_never_break_the_list(client, workspace, owner, page):
    key_create(actor=None, workspace=workspace, name="Only")
    client.force_login(owner)
    response = client.get(urls(workspace)["list"], {"page": page, "q": "\x00" + "x" * 10_000})
    assert response.status_code == 200 and "Only" in response.content.decode()


def test_create_shows_the_key_once_and_not_cached(client, workspace, owner):
    client.force_login(owner)
    form = client.get(urls(workspace)["create"])
    assert form.status_code == 200
    assert b'name="name"' in form.content and b"csrfmiddlewaretoken" in form.content
    response = client.post(urls(workspace)["create"], {"name": "Experiments service", "scopes": ["check"]})
    assert response.status_code == 200
    key = AccessKey.objects.get()
    raw = response.context["raw_key"]
    assert authenticate_key(raw) == key
    page = response.content.decode()
    assert page.count(raw) == 1
    assert "will not be shown again" in page
    assert "no-store" in response["Cache-Control"]
    assert key.created_by == owner
    listing = client.get(urls(workspace)["list"]).content.decode()
    assert raw not in listing
    assert raw not in str(list(AuditEvent.objects.values_list("before", "after", "target_repr")))


def test_create_with_blank_name_shows_the_error_and_writes_nothing(client, workspace, owner):
    client.force_login(owner)
    response = client.post(urls(workspace)["create"], {"name": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not AccessKey.objects.exists()


def test_revoke(client, workspace, owner):
    key, raw = key_create(actor=None, workspace=workspace, name="Dashboards")
    client.force_login(owner)
    response = client.post(urls(workspace, key)["revoke"], {"confirm": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == urls(workspace)["list"]
    assert "is revoked" in response.content.decode()
    assert "Revoked" in response.content.decode()
    assert authenticate_key(raw) is None
    assert AuditEvent.objects.filter(action="access_key.revoke", actor=owner).count() == 1


def test_revoke_asks_first(client, workspace, owner):
    key, raw = key_create(actor=None, workspace=workspace, name="Dashboards")
    client.force_login(owner)
    for response in (client.get(urls(workspace, key)["revoke"]), client.post(urls(workspace, key)["revoke"])):
        assert response.status_code == 200 and "Revoke the access key “Dashboards”?" in response.content.decode()
    assert authenticate_key(raw) == key


def test_admin_may_use_the_pages(client, workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    client.force_login(admin)
    assert client.get(urls(workspace)["list"]).status_code == 200
    assert client.post(urls(workspace)["create"], {"name": "Admin's", "scopes": ["check"]}).status_code == 200
    assert AccessKey.objects.get().created_by == admin


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_member_without_the_capability_gets_403(client, workspace, role):
    key, raw = key_create(actor=None, workspace=workspace, name="Dashboards")
    client.force_login(add_member(workspace, role).user)
    pages = urls(workspace, key)
    assert client.get(pages["list"]).status_code == 403
    assert client.get(pages["create"]).status_code == 403
    assert client.post(pages["create"], {"name": "Mine"}).status_code == 403
    assert client.post(pages["revoke"], {"confirm": "yes"}).status_code == 403
    assert AccessKey.objects.count() == 1
    assert authenticate_key(raw) == key


def test_non_member_gets_404(client, workspace):
    key, raw = key_create(actor=None, workspace=workspace, name="Dashboards")
    outsider = make_workspace(UserFactory(), "Elsewhere").memberships.get().user
    client.force_login(outsider)
    pages = urls(workspace, key)
    assert client.get(pages["list"]).status_code == 404
    assert client.get(pages["create"]).status_code == 404
    assert client.post(pages["create"], {"name": "Mine"}).status_code == 404
    assert client.post(pages["revoke"], {"confirm": "yes"}).status_code == 404
    assert AccessKey.objects.count() == 1
    assert authenticate_key(raw) == key


def test_another_workspaces_key_gets_404(client, workspace, owner):
    elsewhere = make_workspace(owner, "Elsewhere")
    theirs, raw = key_create(actor=None, workspace=elsewhere, name="Theirs")
    client.force_login(owner)  # owner of both, but the URL names the wrong workspace
    response = client.post(reverse("access_keys:revoke", args=[workspace.slug, theirs.pk]))
    assert response.status_code == 404
    assert authenticate_key(raw) == theirs


def test_signed_out_visitor_is_sent_to_sign_in(client, workspace):
    response = client.get(urls(workspace)["list"])
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
