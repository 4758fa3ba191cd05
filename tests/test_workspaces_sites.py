"""Site pages: add, view, edit, delete, session capture; who sees which site."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import add_member, make_site
from workspaces.models import Site
from workspaces.sites.services import site_grant_set

pytestmark = pytest.mark.django_db


def url(name, workspace, site=None):
    args = [workspace.slug] + ([site.slug] if site is not None else [])
    return reverse(f"workspaces:{name}", args=args)


@pytest.fixture
def site(workspace):
    return make_site(workspace, "Shop", url="https://shop.example.com")


def grant(site, membership, role_key="editor"):
    return site_grant_set(actor=None, site=site, role=builtin_role(role_key, catalog.SITE), membership=membership)


# --- create ---


def test_add_site_form_has_the_contract_labels(client, workspace, owner):
    client.force_login(owner)
    page = client.get(url("site_create", workspace)).content.decode()
    assert '<label for="id_name">Name</label>' in page
    assert '<label for="id_url">Address</label>' in page
    assert '<label for="id_time_zone">Time zone</label>' in page
    assert '<button type="submit">Add site</button>' in page


def test_add_site_lands_on_the_site_page_with_me_as_owner(client, workspace, owner):
    client.force_login(owner)
    response = client.post(
        url("site_create", workspace),
        {"name": "Web shop", "url": "https://shop.example.com", "time_zone": "Europe/Berlin"},
        follow=True,
    )
    site = Site.objects.get(workspace=workspace)
    assert response.redirect_chain == [(url("site_detail", workspace, site), 302)]
    assert (site.name, site.slug, site.url, site.time_zone) == (
        "Web shop",
        "web-shop",
        "https://shop.example.com",
        "Europe/Berlin",
    )
    assert site.owner.user == owner
    page = response.content.decode()
    assert "<h1>Web shop</h1>" in page
    assert "is added" in page
    assert AuditEvent.objects.filter(action="site.create").count() == 1


def test_add_site_bad_input_shows_messages_and_writes_nothing(client, workspace, owner):
    client.force_login(owner)
    events = AuditEvent.objects.count()
    for data, message in (
        ({"name": "", "url": "", "time_zone": "UTC"}, "Give the site a name."),
        ({"name": "Shop", "url": "not a web address", "time_zone": "UTC"}, "Enter a valid URL."),
        ({"name": "Shop", "url": "", "time_zone": "Nowhere/Land"}, "Select a valid choice."),
    ):
        response = client.post(url("site_create", workspace), data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Site.objects.exists()
    assert AuditEvent.objects.count() == events


def test_workspace_page_offers_add_a_site_only_with_add_site(client, workspace, owner):
    client.force_login(owner)
    assert "Add a site" in client.get(url("detail", workspace)).content.decode()
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    page = client.get(url("detail", workspace)).content.decode()
    assert "Add a site" not in page
    assert client.get(url("site_create", workspace)).status_code == 403


# --- view ---


def test_site_page_shows_details_and_my_capabilities_by_area(client, workspace, site):
    member = add_member(workspace, catalog.MEMBER)
    grant(site, member, "site_viewer")
    client.force_login(member.user)
    response = client.get(url("site_detail", workspace, site))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Shop</h1>" in page
    assert "https://shop.example.com" in page and "UTC" in page
    assert site.owner.user.display_name in page
    areas = dict(response.context["capability_areas"])
    assert [cap.codename for cap in areas["Site"]] == ["view_site"]
    assert {cap.codename for cap in areas["Dashboards"]} == {"view_dashboards", "view_shared_dashboards"}
    assert areas["Analysis"] == []
    # No controls for what a site viewer may not do.
    assert "Edit site" not in page and "Delete site" not in page and "Turn session capture" not in page


def test_member_sees_only_the_sites_they_have_a_grant_on(client, workspace, site):
    blog = make_site(workspace, "Blog")
    make_site(workspace, "Archive")
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    assert list(client.get(url("detail", workspace)).context["sites"]) == []

    grant(blog, member)
    response = client.get(url("detail", workspace))
    assert [s.name for s in response.context["sites"]] == ["Blog"]
    page = response.content.decode()
    assert url("site_detail", workspace, blog) in page
    assert url("site_detail", workspace, site) not in page


# --- edit ---


def test_edit_site_saves_through_the_service(client, workspace, owner, site):
    client.force_login(owner)
    form = client.get(url("site_edit", workspace, site))
    assert form.context["form"].initial == {"name": "Shop", "url": "https://shop.example.com", "time_zone": "UTC"}
    response = client.post(
        url("site_edit", workspace, site), {"name": "Shop EU", "url": "https://eu.example.com", "time_zone": "UTC"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("site_detail", workspace, site)  # the slug stays
    site.refresh_from_db()
    assert (site.name, site.url) == ("Shop EU", "https://eu.example.com")
    event = AuditEvent.objects.get(action="site.update")
    assert event.before["name"] == "Shop" and event.after["name"] == "Shop EU"


def test_edit_site_bad_input_changes_nothing(client, workspace, owner, site):
    client.force_login(owner)
    response = client.post(url("site_edit", workspace, site), {"name": " ", "url": "ftp:/x", "time_zone": "UTC"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Give the site a name." in page and "Enter a valid URL." in page
    site.refresh_from_db()
    assert site.name == "Shop"
    assert not AuditEvent.objects.filter(action="site.update").exists()


def test_editor_grant_cannot_edit_site_admin_grant_can(client, workspace, site):
    member = add_member(workspace, catalog.MEMBER)
    grant(site, member, "editor")
    client.force_login(member.user)
    data = {"name": "Renamed", "url": "", "time_zone": "UTC"}
    assert client.post(url("site_edit", workspace, site), data).status_code == 403
    site.refresh_from_db()
    assert site.name == "Shop"
    grant(site, member, "site_admin")
    assert client.post(url("site_edit", workspace, site), data).status_code == 302
    site.refresh_from_db()
    assert site.name == "Renamed"


# --- delete ---


def test_delete_asks_first_then_deletes_on_post(client, workspace, owner, site):
    client.force_login(owner)
    confirm = client.get(url("site_delete", workspace, site))
    assert confirm.status_code == 200
    assert "Delete Shop?" in confirm.content.decode()
    assert Site.objects.filter(pk=site.pk).exists()
    response = client.post(url("site_delete", workspace, site), {"confirm": "yes"}, follow=True)
    assert response.redirect_chain == [(url("detail", workspace), 302)]
    assert "is deleted" in response.content.decode()
    assert not Site.objects.filter(pk=site.pk).exists()
    assert AuditEvent.objects.filter(action="site.delete").count() == 1


def test_site_admin_grant_cannot_delete(client, workspace, site):
    member = add_member(workspace, catalog.MEMBER)
    grant(site, member, "site_admin")
    client.force_login(member.user)
    assert "Delete site" not in client.get(url("site_detail", workspace, site)).content.decode()
    assert client.post(url("site_delete", workspace, site), {"confirm": "yes"}).status_code == 403
    assert Site.objects.filter(pk=site.pk).exists()


# --- session capture ---


def test_session_capture_toggle(client, workspace, owner, site):
    client.force_login(owner)
    page = client.get(url("site_detail", workspace, site)).content.decode()
    assert "Turn session capture on" in page
    assert client.post(url("site_session_capture", workspace, site), {"enabled": "on"}).status_code == 302
    site.refresh_from_db()
    assert site.session_capture
    assert "Turn session capture off" in client.get(url("site_detail", workspace, site)).content.decode()
    client.post(url("site_session_capture", workspace, site), {"enabled": "off"})
    site.refresh_from_db()
    assert not site.session_capture
    assert AuditEvent.objects.filter(action="site.session_capture").count() == 2


def test_session_capture_refused_without_capability_or_with_bad_input(client, workspace, owner, site):
    member = add_member(workspace, catalog.MEMBER)
    grant(site, member, "editor")
    client.force_login(member.user)
    assert client.post(url("site_session_capture", workspace, site), {"enabled": "on"}).status_code == 403
    client.force_login(owner)
    response = client.post(url("site_session_capture", workspace, site), {"enabled": "maybe"}, follow=True)
    assert "Choose whether session capture is on or off." in response.content.decode()
    assert client.get(url("site_session_capture", workspace, site)).status_code == 405
    site.refresh_from_db()
    assert not site.session_capture
    assert not AuditEvent.objects.filter(action="site.session_capture").exists()


def test_a_site_named_new_does_not_hide_behind_the_add_page(client, workspace, owner):
    client.force_login(owner)
    response = client.post(url("site_create", workspace), {"name": "New", "url": "", "time_zone": "UTC"}, follow=True)
    site = Site.objects.get(workspace=workspace)
    assert site.slug != "new"
    assert response.context["site"] == site
