"""SCIM tokens: the command, the settings pages (manage_sso), revocation, the audit log."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from scim.models import ScimToken
from scim.tokens import hash_token, scim_token_create
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


def test_the_command_prints_the_token_alone_on_the_last_line(workspace, client):
    out = StringIO()
    call_command("create_scim_token", workspace=workspace.slug, name="Okta", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    token = ScimToken.objects.get(workspace=workspace)
    assert token.token_hash == hash_token(raw) and token.name == "Okta" and raw.startswith(token.prefix)
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    event = AuditEvent.objects.get(action="scim_token.create")
    assert raw not in str(event.after) and event.workspace_id == workspace.pk


def test_the_command_refuses_an_unknown_workspace_and_an_empty_name(workspace):
    with pytest.raises(CommandError):
        call_command("create_scim_token", workspace="nope", name="Okta", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_scim_token", workspace=workspace.slug, name="  ", stdout=StringIO())
    assert not ScimToken.objects.exists()


def test_an_owner_creates_a_token_in_the_browser_and_sees_it_once(client, workspace, owner):
    client.force_login(owner)
    member = builtin_role(catalog.MEMBER)
    url = reverse("scim_tokens:create", args=[workspace.slug])
    response = client.post(url, {"name": "Entra ID", "role": member.pk})
    assert response.status_code == 200
    token = ScimToken.objects.get(workspace=workspace)
    page = response.content.decode()
    raw = page.split('<p class="secret" aria-labelledby="raw-token-label"><code>')[1].split("</code>")[0]
    assert token.token_hash == hash_token(raw)
    assert "no-store" in response["Cache-Control"]
    listing = client.get(reverse("scim_tokens:list", args=[workspace.slug])).content.decode()
    assert "Entra ID" in listing and raw not in listing and "/scim/v2" in listing
    assert AuditEvent.objects.get(action="scim_token.create").actor == owner


def test_the_list_shows_name_created_and_last_used(client, workspace, owner):
    token, raw = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {raw}")
    token.refresh_from_db()
    assert token.last_used_at is not None
    client.force_login(owner)
    page = client.get(reverse("scim_tokens:list", args=[workspace.slug])).content.decode()
    assert "Okta" in page and '<span class="muted">never</span>' not in page


def test_revoking_asks_first_then_refuses_the_token(client, workspace, owner):
    token, raw = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    client.force_login(owner)
    url = reverse("scim_tokens:revoke", args=[workspace.slug, token.pk])
    assert "Revoke the SCIM token “Okta”?" in client.post(url).content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    client.post(url, {"confirm": "yes"})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="scim_token.revoke", actor=owner).count() == 1
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


@pytest.mark.parametrize("role", [catalog.ADMIN, catalog.BILLING_ADMIN, catalog.MEMBER, catalog.VIEWER])
def test_only_manage_sso_opens_the_pages(client, workspace, owner, role):
    token, _raw = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    person = add_member(workspace, role, user=UserFactory()).user
    client.force_login(person)
    for url in (
        reverse("scim_tokens:list", args=[workspace.slug]),
        reverse("scim_tokens:create", args=[workspace.slug]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("scim_tokens:create", args=[workspace.slug]), {"name": "Mine"}).status_code == 403
    client.post(reverse("scim_tokens:revoke", args=[workspace.slug, token.pk]), {"confirm": "yes"})
    token.refresh_from_db()
    assert token.revoked_at is None and ScimToken.objects.count() == 1


def test_the_settings_hub_has_the_card_for_owners(client, workspace, owner):
    client.force_login(owner)
    page = client.get(reverse("settings:index", args=[workspace.slug])).content.decode()
    assert reverse("scim_tokens:list", args=[workspace.slug]) in page
