"""The read APIs for the platform's services: key scopes and expiry, the settings reads, a member's
profile, and ETags with If-None-Match."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from permissions import catalog
from permissions.keys import CHECK, READ_MEMBERS, READ_SETTINGS, SCOPES, authenticate_key, key_create
from permissions.models import SCOPE_NAMES, AccessKey, check_scope_only
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspace_settings.services import integration_save, policy_update, user_attribute_set
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

SETTINGS_PATHS = [
    "/api/v1/settings/sites",
    "/api/v1/settings/ip-blocklist",
    "/api/v1/settings/policies",
    "/api/v1/settings/integrations",
    "/api/v1/settings/user-attributes",
]


def make_key(workspace, *scopes, lifetime_days=None) -> str:
    return key_create(
        actor=None, workspace=workspace, name="Service", scopes=list(scopes), lifetime_days=lifetime_days
    )[1]


def get(client, path: str, raw: str, **headers):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw}", **headers)


# --- scopes -------------------------------------------------------------------------------------


def test_every_scope_has_a_short_name_and_a_description():
    assert SCOPES.keys() == SCOPE_NAMES.keys() == {CHECK, READ_SETTINGS, READ_MEMBERS}


def test_keys_made_before_scopes_are_check_keys():
    """The migration gives existing rows the field's default: what they could always do, the check API."""
    assert check_scope_only() == [CHECK]
    assert AccessKey._meta.get_field("scopes").default is check_scope_only


@pytest.mark.parametrize("path", SETTINGS_PATHS)
def test_a_check_key_cannot_read_settings(client, workspace, path):
    response = get(client, path, make_key(workspace, CHECK))
    assert response.status_code == 403
    assert "Read settings" in response.json()["error"]


def test_a_settings_key_cannot_ask_the_check_api_or_read_members(client, workspace, owner):
    raw = make_key(workspace, READ_SETTINGS)
    assert get(client, "/api/v1/check?user=owner@acme.test&permission=view_workspace", raw).status_code == 403
    assert get(client, f"/api/v1/members/{owner.email}/permissions", raw).status_code == 403
    assert get(client, f"/api/v1/members/{owner.email}", raw).status_code == 403
    assert get(client, "/api/v1/settings/sites", raw).status_code == 200


def test_a_members_key_reads_profiles_only(client, workspace, owner):
    raw = make_key(workspace, READ_MEMBERS)
    assert get(client, f"/api/v1/members/{owner.email}", raw).status_code == 200
    assert get(client, "/api/v1/settings/sites", raw).status_code == 403


@pytest.mark.parametrize("scopes", [[], ["admin"], ["check", "everything"]])
def test_a_key_needs_known_scopes(workspace, scopes):
    with pytest.raises(Exception, match="scope|Choose"):
        key_create(actor=None, workspace=workspace, name="Bad", scopes=scopes)
    assert not AccessKey.objects.exists()


# --- expiry -------------------------------------------------------------------------------------


def test_an_expired_key_is_refused_like_a_revoked_one(client, workspace):
    raw = make_key(workspace, CHECK, lifetime_days=30)
    key = authenticate_key(raw)
    assert key.expires_at - timezone.now() > timedelta(days=29)
    AccessKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert authenticate_key(raw) is None
    assert get(client, "/api/v1/check?user=a@b.test&permission=view_workspace", raw).status_code == 401


@pytest.mark.parametrize("days", [0, -5])
def test_a_key_lives_at_least_a_day(workspace, days):
    with pytest.raises(Exception, match="at least one day"):
        make_key(workspace, CHECK, lifetime_days=days)


def test_the_key_form_sets_scopes_and_lifetime_and_the_list_shows_them(client, workspace, owner):
    client.force_login(owner)
    create = reverse("access_keys:create", args=[workspace.slug])
    assert b'name="scopes"' in client.get(create).content
    response = client.post(create, {"name": "Trackers", "scopes": [READ_SETTINGS, CHECK], "lifetime": "90"})
    assert response.status_code == 200
    key = AccessKey.objects.get()
    assert key.scopes == [CHECK, READ_SETTINGS]
    assert timedelta(days=89) < key.expires_at - timezone.now() <= timedelta(days=90)
    listing = client.get(reverse("access_keys:list", args=[workspace.slug])).content.decode()
    assert "Check, Read settings" in listing and "Active until" in listing
    AccessKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert "Expired" in client.get(reverse("access_keys:list", args=[workspace.slug])).content.decode()


def test_the_key_form_refuses_no_scope_and_an_unknown_one(client, workspace, owner):
    client.force_login(owner)
    create = reverse("access_keys:create", args=[workspace.slug])
    assert client.post(create, {"name": "None"}).context["form"].errors["scopes"]
    assert client.post(create, {"name": "Root", "scopes": ["superuser"]}).context["form"].errors["scopes"]
    assert client.post(create, {"name": "Odd", "scopes": [CHECK], "lifetime": "7"}).context["form"].errors["lifetime"]
    assert not AccessKey.objects.exists()


def test_the_command_takes_scopes_and_an_expiry(workspace, capsys):
    call_command("create_access_key", workspace=workspace.slug, name="Ops", scopes=[READ_MEMBERS], expires_in_days=7)
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    key = authenticate_key(raw)
    assert key.scopes == [READ_MEMBERS]
    assert key.expires_at is not None


# --- the settings reads -------------------------------------------------------------------------


def test_sites_carry_address_time_zone_capture_and_owner(client, workspace, owner):
    make_site(workspace, "Shop", url="https://shop.acme.test", time_zone="Europe/Paris")
    other = make_workspace(UserFactory(), "Other")
    make_site(other, "Theirs")
    (site,) = get(client, "/api/v1/settings/sites", make_key(workspace, READ_SETTINGS)).json()["sites"]
    assert site == {
        "slug": "shop",
        "name": "Shop",
        "address": "https://shop.acme.test",
        "time_zone": "Europe/Paris",
        "session_capture": False,
        "owner": owner.email,
        "data_reset_at": None,
    }


def test_policies_integrations_and_attributes_as_the_workspace_set_them(client, workspace, owner):
    raw = make_key(workspace, READ_SETTINGS)
    assert get(client, "/api/v1/settings/policies", raw).json()["policies"]["retention_days"] == 365
    policy_update(
        actor=owner,
        workspace=workspace,
        retention_days=90,
        anonymize_ip=False,
        respect_do_not_track=True,
        require_cookie_consent=True,
        mask_text_input=True,
    )
    integration_save(
        actor=owner,
        workspace=workspace,
        key="google_analytics",
        enabled=True,
        settings={"measurement_id": "G-ABC123XYZ9"},
    )
    user_attribute_set(actor=owner, workspace=workspace, key="user_id", enabled=False)
    policies = get(client, "/api/v1/settings/policies", raw).json()["policies"]
    assert (policies["retention_days"], policies["anonymize_ip"], policies["require_cookie_consent"]) == (
        90,
        False,
        True,
    )
    integrations = {row["key"]: row for row in get(client, "/api/v1/settings/integrations", raw).json()["integrations"]}
    assert integrations["google_analytics"]["enabled"] is True
    assert integrations["google_analytics"]["settings"] == {"measurement_id": "G-ABC123XYZ9"}
    assert integrations["hubspot"]["enabled"] is False
    attributes = {
        row["key"]: row["collected"]
        for row in get(client, "/api/v1/settings/user-attributes", raw).json()["attributes"]
    }
    assert attributes["user_id"] is False


def test_another_workspaces_settings_never_show(client, workspace, owner):
    other = make_workspace(UserFactory(), "Other")
    integration_save(
        actor=None, workspace=other, key="google_analytics", enabled=True, settings={"measurement_id": "G-OTHER12345"}
    )
    body = get(client, "/api/v1/settings/integrations", make_key(workspace, READ_SETTINGS)).content.decode()
    assert "G-OTHER12345" not in body


# --- a member's profile -------------------------------------------------------------------------


def test_a_members_profile_holds_role_teams_and_grants(client, workspace, owner):
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="Mia@Acme.test", full_name="Mia Member"))
    team_add_member(actor=None, team=make_team(workspace, "Growth"), membership=member)
    site = make_site(workspace, "Shop")
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=member)
    profile = get(client, "/api/v1/members/MIA@acme.test", make_key(workspace, READ_MEMBERS)).json()
    assert profile["email"] == "mia@acme.test"
    assert profile["name"] == "Mia Member"
    assert profile["role"] == {"key": catalog.MEMBER, "name": "Member"}
    assert profile["teams"] == ["Growth"]
    assert profile["site_grants"] == [{"site": "shop", "role": {"key": catalog.EDITOR, "name": "Editor"}}]


def test_no_profile_for_outsiders_deactivated_people_or_other_workspaces_members(client, workspace):
    raw = make_key(workspace, READ_MEMBERS)
    other = make_workspace(UserFactory(email="them@other.test"), "Other")
    add_member(other, catalog.MEMBER, UserFactory(email="only-there@other.test"))
    gone = add_member(workspace, catalog.MEMBER, UserFactory(email="gone@acme.test")).user
    gone.is_active = False
    gone.save()
    for email in ("them@other.test", "only-there@other.test", "gone@acme.test", "nobody@acme.test", "%00"):
        response = get(client, f"/api/v1/members/{email}", raw)
        assert response.status_code in (400, 404), email
        assert "error" in response.json()


def _profile_with(workspace, teams: int, sites: int):
    member = add_member(workspace, catalog.MEMBER)
    for n in range(teams):
        team_add_member(actor=None, team=make_team(workspace, f"Team {n}"), membership=member)
    for n in range(sites):
        site = make_site(workspace, f"Site {n}")
        site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=member)
    return member.user.email


@pytest.mark.parametrize("teams, sites", [(1, 1), (8, 12)])
def test_a_profile_costs_the_same_queries_however_many_teams_and_grants(
    client, workspace, teams, sites, django_assert_max_num_queries
):
    email = _profile_with(workspace, teams, sites)
    raw = make_key(workspace, READ_MEMBERS)
    with django_assert_max_num_queries(6):
        response = get(client, f"/api/v1/members/{email}", raw)
    assert len(response.json()["site_grants"]) == sites


# --- ETags --------------------------------------------------------------------------------------


def test_an_unchanged_answer_is_a_304_until_something_changes(client, workspace, owner):
    raw = make_key(workspace, READ_SETTINGS)
    first = get(client, "/api/v1/settings/policies", raw)
    etag = first["ETag"]
    assert etag.startswith('"') and "no-cache" in first["Cache-Control"] and "no-store" not in first["Cache-Control"]
    again = get(client, "/api/v1/settings/policies", raw, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
    assert get(client, "/api/v1/settings/policies", raw, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    policy_update(
        actor=owner,
        workspace=workspace,
        retention_days=30,
        anonymize_ip=True,
        respect_do_not_track=True,
        require_cookie_consent=False,
        mask_text_input=True,
    )
    changed = get(client, "/api/v1/settings/policies", raw, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


@pytest.mark.parametrize("path", [*SETTINGS_PATHS, "/api/v1/members/owner@acme.test"])
def test_every_read_answers_with_an_etag(client, workspace, path):
    raw = make_key(workspace, READ_SETTINGS, READ_MEMBERS)
    response = get(client, path, raw)
    assert response.status_code == 200 and response.has_header("ETag")
    assert get(client, path, raw, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_check_answers_are_never_cached(client, workspace):
    response = get(client, "/api/v1/check?user=owner@acme.test&permission=view_workspace", make_key(workspace, CHECK))
    assert response.status_code == 200
    assert not response.has_header("ETag") and "no-store" in response["Cache-Control"]


def test_a_refusal_carries_no_etag(client, workspace):
    response = get(client, "/api/v1/settings/sites", make_key(workspace, CHECK))
    assert response.status_code == 403 and not response.has_header("ETag")
