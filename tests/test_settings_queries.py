"""Each settings page costs a fixed number of queries: the same with few and with many rows
(sites for session capture; saved settings for the catalogue pages, whose lists are fixed)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import add_member, make_site
from workspace_settings import attributes, integrations
from workspace_settings.models import IntegrationSetting, UserAttributeSetting
from workspace_settings.services import policy_update
from workspaces.sites.services import site_grant_set

# session, user, membership with its workspace, workspace permissions
BASE = 4


def url(workspace, name: str, *args) -> str:
    return reverse(f"settings:{name}", args=[workspace.slug, *args])


def make_sites(workspace, size: int, member=None):
    admin_role = builtin_role(catalog.SITE_ADMIN, catalog.SITE)
    for n in range(size):
        site = make_site(workspace, f"Site {n}")
        if member is not None:
            site_grant_set(actor=None, site=site, role=admin_role, membership=member)


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize("who", ["owner", "site admin member"])
def test_session_capture_page(client, workspace, owner, django_assert_num_queries, size, who):
    member = add_member(workspace, catalog.MEMBER)
    make_sites(workspace, size, member)
    client.force_login(owner if who == "owner" else member.user)
    with django_assert_num_queries(BASE + 1):  # + the sites the person may switch
        response = client.get(url(workspace, "session_capture"))
    assert response.content.decode().count('Turn on<span class="visually-hidden"> session capture for') == size


@pytest.mark.parametrize("size", [0, 5, 60])
def test_overview(client, workspace, owner, django_assert_num_queries, size):
    make_sites(workspace, size)
    client.force_login(owner)
    # + the sites where the person may switch capture; with none, whether their role gives it everywhere
    with django_assert_num_queries(BASE + (2 if size == 0 else 1)):
        response = client.get(url(workspace, "index"))
    assert url(workspace, "session_capture") in response.content.decode()


@pytest.mark.parametrize("saved", [False, True])
def test_integrations_list(client, workspace, owner, django_assert_num_queries, saved):
    if saved:
        IntegrationSetting.objects.bulk_create(
            IntegrationSetting(workspace=workspace, key=integration.key, enabled=True)
            for integration in integrations.INTEGRATIONS
        )
    client.force_login(owner)
    with django_assert_num_queries(BASE + 1):
        response = client.get(url(workspace, "integrations"))
    assert response.content.decode().count(">On<") == (len(integrations.INTEGRATIONS) if saved else 0)


@pytest.mark.parametrize("saved", [False, True])
def test_user_attributes_list(client, workspace, owner, django_assert_num_queries, saved):
    if saved:
        UserAttributeSetting.objects.bulk_create(
            UserAttributeSetting(workspace=workspace, key=attribute.key, enabled=True)
            for attribute in attributes.ATTRIBUTES
        )
    client.force_login(owner)
    with django_assert_num_queries(BASE + 1):
        response = client.get(url(workspace, "user_attributes"))
    assert response.content.decode().count(">On<") == (len(attributes.ATTRIBUTES) if saved else 1)


@pytest.mark.parametrize("saved", [False, True])
def test_single_form_pages(client, workspace, owner, django_assert_num_queries, saved):
    if saved:
        policy_update(
            actor=owner,
            workspace=workspace,
            retention_days=30,
            anonymize_ip=False,
            respect_do_not_track=False,
            require_cookie_consent=True,
            mask_text_input=False,
        )
    client.force_login(owner)
    for name, args, extra in [
        ("details", [], 0),
        ("policies", [], 1),
        ("integration", ["google_analytics"], 1),
    ]:
        with django_assert_num_queries(BASE + extra):
            assert client.get(url(workspace, name, *args)).status_code == 200
