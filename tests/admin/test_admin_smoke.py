"""Every registered model's admin pages open for staff: changelist, search, add, change.

The list comes from ``admin.site._registry`` so a newly registered model cannot be missed."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from tests.admin.conftest import admin_url

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_changelist_search_add_and_change_pages_open(staff_client, staff, world, model):
    model_admin = admin.site._registry[model]
    assert model.objects.exists(), f"the world fixture has no {model._meta.label}"

    assert staff_client.get(admin_url(model, "changelist")).status_code == 200
    assert staff_client.get(admin_url(model, "changelist"), {"q": "x"}).status_code == 200

    request = RequestFactory().get("/")
    request.user = staff
    if model_admin.has_add_permission(request):
        assert staff_client.get(admin_url(model, "add")).status_code == 200
    else:
        assert staff_client.get(admin_url(model, "add")).status_code == 403

    for obj in model.objects.all()[:3]:
        assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200


def test_the_workspace_page_counts_and_links_what_it_holds(staff_client, world):
    import re

    workspace = world["workspace"]
    page = staff_client.get(admin_url(type(workspace), "change", workspace.pk)).content.decode()
    for text in ("2 members", "1 sites", "1 experiences", "1 teams", "1 pending invites", "1 custom roles"):
        assert text in page
    links = re.findall(r'href="(/admin/[^"]+\?workspace__id__exact=[^"]+)"', page)
    assert len(links) == 11
    for url in links:
        response = staff_client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, url  # a lookup the admin refuses redirects to ?e=1


def test_computed_fields_show_their_values(staff_client, world):
    from django.contrib.auth.models import Group

    from permissions.models import Role
    from permissions.roles import builtin_role
    from workspaces.models import Membership

    member = world["member"]
    page = staff_client.get(admin_url(Membership, "change", member.pk)).content.decode()
    assert "1 site(s)" in page  # the member owns Shop
    page = staff_client.get(admin_url(Role, "change", builtin_role("viewer").pk)).content.decode()
    assert "view_all_analytics" in page and "on every site: view_basic_performance" in page
    group = Group.objects.filter(team=world["team"]).get()
    page = staff_client.get(admin_url(Group, "change", group.pk)).content.decode()
    assert "team Growth" in page and member.user.email in page
    event = type(world["event"]).objects.get(action="workspace.create")
    page = staff_client.get(admin_url(type(event), "change", event.pk)).content.decode()
    assert "&quot;name&quot;: &quot;Acme&quot;" in page


@pytest.mark.parametrize("kind", ["workspace", "site", "experience"])
def test_object_permission_pages_open_read_only(staff_client, world, kind):
    obj = world[kind]
    page = staff_client.get(admin_url(type(obj), "permissions", obj.pk))
    assert page.status_code == 200
    assert "This page is read-only." in page.content.decode()
    change_page = staff_client.get(admin_url(type(obj), "change", obj.pk)).content.decode()
    assert admin_url(type(obj), "permissions", obj.pk) in change_page
