"""Resetting a site's data (reset_site): typed confirmation of the site's name, one audit event,
the moment the platform reads from /api/v1/settings/sites; access and settings stay."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.keys import READ_SETTINGS, key_create
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspaces.models import Site
from workspaces.sites.services import site_grant_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(workspace):
    return make_site(workspace, "Shop")


def reset_url(site):
    return reverse("workspaces:site_reset", args=[site.workspace.slug, site.slug])


def test_the_owner_resets_after_typing_the_sites_name(client, workspace, owner, site):
    member = add_member(workspace, catalog.MEMBER)
    site_grant_set(actor=owner, site=site, role=builtin_role(catalog.SITE_ADMIN, catalog.SITE), membership=member)
    client.force_login(owner)
    page = client.get(reverse("workspaces:site_detail", args=[workspace.slug, site.slug])).content.decode()
    assert reset_url(site) in page and "never reset" in page
    assert "What stays" in client.get(reset_url(site)).content.decode()
    response = client.post(reset_url(site), {"confirmation": "Shop"}, follow=True)
    assert "The data of “Shop” is reset" in response.content.decode()
    site.refresh_from_db()
    assert site.data_reset_at is not None
    event = AuditEvent.objects.get(action="site.reset")
    assert (event.actor, event.before, event.after) == (
        owner,
        {"data_reset_at": None},
        {"data_reset_at": site.data_reset_at.isoformat()},
    )
    assert site.grants.count() == 1 and site.owner.user == owner  # access stays


@pytest.mark.parametrize("typed", ["", "shop", "Shop!", "Blog"])
def test_a_wrong_name_resets_nothing(client, owner, site, typed):
    client.force_login(owner)
    assert client.post(reset_url(site), {"confirmation": typed}).status_code == 200
    assert Site.objects.get(pk=site.pk).data_reset_at is None
    assert not AuditEvent.objects.filter(action="site.reset").exists()


@pytest.mark.parametrize("role", [catalog.BILLING_ADMIN, catalog.MEMBER, catalog.VIEWER])
def test_roles_without_reset_site_get_403(client, workspace, site, role):
    client.force_login(add_member(workspace, role).user)
    assert client.post(reset_url(site), {"confirmation": "Shop"}).status_code == 403
    assert Site.objects.get(pk=site.pk).data_reset_at is None


def test_an_admin_resets_too(client, workspace, site):
    client.force_login(add_member(workspace, catalog.ADMIN).user)
    assert client.post(reset_url(site), {"confirmation": "Shop"}).status_code == 302
    assert Site.objects.get(pk=site.pk).data_reset_at is not None


def test_a_site_admin_grant_does_not_reset(client, workspace, owner, site):
    member = add_member(workspace, catalog.MEMBER)
    site_grant_set(actor=owner, site=site, role=builtin_role(catalog.SITE_ADMIN, catalog.SITE), membership=member)
    client.force_login(member.user)
    assert client.post(reset_url(site), {"confirmation": "Shop"}).status_code == 403


def test_another_workspaces_site_is_a_404(client, site):
    client.force_login(make_workspace(UserFactory(), "Other").memberships.get().user)
    assert client.post(reset_url(site), {"confirmation": "Shop"}).status_code == 404


def test_the_platform_reads_the_reset(client, workspace, owner, site):
    _, raw = key_create(actor=None, workspace=workspace, name="Tracker", scopes=[READ_SETTINGS])
    other = make_workspace(UserFactory(), "Other")
    make_site(other, "Theirs")
    answer = client.get("/api/v1/settings/sites", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    (only,) = answer["sites"]
    assert (only["slug"], only["data_reset_at"]) == ("shop", None)
    client.force_login(owner)
    client.post(reset_url(site), {"confirmation": "Shop"})
    site.refresh_from_db()
    answer = client.get("/api/v1/settings/sites", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert answer["sites"][0]["data_reset_at"] == site.data_reset_at.isoformat()
    assert client.get("/api/v1/settings/sites", HTTP_AUTHORIZATION="Bearer pk_wrong").status_code == 401
