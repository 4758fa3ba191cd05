"""SCIM 2.0 operations at /scim/v2/, one by one, through the services (what changes in the portal)."""

from __future__ import annotations

import pytest

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from scim.models import ScimUser
from tests.factories import UserFactory, add_member, make_site, make_team
from workspaces.models import Membership, Site, Team, TeamMembership

from .conftest import GROUP, user_body

pytestmark = pytest.mark.django_db


def _provision(scim, user_name="ann@acme.test", **fields):
    response = scim.post("Users", user_body(user_name, **fields))
    assert response.status_code == 201, response.content
    return response.json()


def _member(workspace, email):
    return Membership.objects.select_related("role").filter(workspace=workspace, user__email=email).first()


# --- discovery ----------------------------------------------------------------------------------


def test_service_provider_config_states_what_is_supported(scim):
    body = scim.get("ServiceProviderConfig").json()
    assert body["patch"]["supported"] is True
    assert body["filter"] == {"supported": True, "maxResults": 200}
    for feature in ("bulk", "sort", "etag", "changePassword"):
        assert body[feature]["supported"] is False
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_and_schemas(scim):
    types = scim.get("ResourceTypes").json()
    assert {item["id"] for item in types["Resources"]} == {"User", "Group"}
    assert scim.get("ResourceTypes/User").json()["endpoint"] == "/Users"
    assert scim.get("ResourceTypes/Nope").status_code == 404
    schemas = scim.get("Schemas").json()
    assert {item["name"] for item in schemas["Resources"]} == {"User", "Group"}
    user_schema = scim.get("Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
    assert "userName" in [attribute["name"] for attribute in user_schema["attributes"]]
    assert scim.get("Schemas/urn:nope").status_code == 404


def test_responses_are_scim_json(scim):
    response = scim.get("Users")
    assert response["Content-Type"] == "application/scim+json"
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]


# --- users --------------------------------------------------------------------------------------


def test_create_makes_the_account_and_a_member(scim, workspace):
    body = _provision(
        scim,
        externalId="00u1",
        name={"givenName": "Ann", "familyName": "Lee"},
        emails=[{"value": "ann@acme.test", "type": "work", "primary": True}],
    )
    assert body["userName"] == "ann@acme.test" and body["active"] is True and body["externalId"] == "00u1"
    membership = _member(workspace, "ann@acme.test")
    assert membership.role.key == catalog.MEMBER
    user = User.objects.get(email="ann@acme.test")
    assert user.full_name == "Ann Lee" and not user.has_usable_password()
    event = AuditEvent.objects.get(action="member.add", workspace=workspace)
    assert event.actor_id is None and event.actor_email == "SCIM token “Okta”"
    assert AuditEvent.objects.filter(action="scim_user.create", actor_email="SCIM token “Okta”").exists()


def test_create_with_an_existing_account_joins_it_and_keeps_its_name(scim, workspace):
    existing = UserFactory(email="bob@acme.test", full_name="Bob Own Name")
    _provision(scim, "bob@acme.test", name={"givenName": "Robert", "familyName": "X"})
    existing.refresh_from_db()
    assert existing.full_name == "Bob Own Name"
    assert _member(workspace, "bob@acme.test") is not None
    assert User.objects.filter(email__iexact="bob@acme.test").count() == 1


def test_a_user_name_that_is_not_an_address_uses_the_primary_email(scim, workspace):
    body = _provision(scim, "00u-ann", emails=[{"value": "Ann@ACME.test", "primary": True}])
    assert body["userName"] == "00u-ann"
    assert _member(workspace, "ann@acme.test") is not None


def test_no_address_at_all_is_refused(scim, workspace):
    response = scim.post("Users", user_body("not-an-address"))
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
    assert not ScimUser.objects.exists()


def test_an_existing_member_keeps_their_role(scim, workspace):
    add_member(workspace, catalog.ADMIN, user=UserFactory(email="cleo@acme.test"))
    _provision(scim, "cleo@acme.test")
    assert _member(workspace, "cleo@acme.test").role.key == catalog.ADMIN


def test_nothing_sent_makes_an_owner(scim, workspace):
    _provision(scim, "eve@acme.test", roles=[{"value": "owner", "primary": True}], userType="Owner")
    assert _member(workspace, "eve@acme.test").role.key == catalog.MEMBER
    user_id = scim.get("Users", filter='userName eq "eve@acme.test"').json()["Resources"][0]["id"]
    scim.put(f"Users/{user_id}", user_body("eve@acme.test", roles=[{"value": "owner"}]))
    scim.patch(f"Users/{user_id}", {"op": "add", "path": "roles", "value": [{"value": "owner"}]})
    assert _member(workspace, "eve@acme.test").role.key == catalog.MEMBER


def test_a_duplicate_user_name_is_a_conflict(scim):
    _provision(scim)
    response = scim.post("Users", user_body("ANN@acme.test"))
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"


def test_read_and_list_with_filter_and_pages(scim):
    created = [_provision(scim, f"p{n}@acme.test") for n in range(5)]
    assert scim.get(f"Users/{created[0]['id']}").json()["userName"] == "p0@acme.test"
    page = scim.get("Users", startIndex=2, count=2).json()
    assert page["totalResults"] == 5 and page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert [item["userName"] for item in page["Resources"]] == ["p1@acme.test", "p2@acme.test"]
    found = scim.get("Users", filter='userName eq "P3@acme.test"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == created[3]["id"]
    assert scim.get("Users", filter='userName eq "nobody@acme.test"').json()["totalResults"] == 0
    assert scim.get("Users", count=0).json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 5,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    only = scim.get("Users", attributes="userName").json()["Resources"][0]
    assert set(only) == {"schemas", "id", "userName", "meta"}


def test_patch_name_and_email_of_an_account_it_created(scim, workspace):
    user_id = _provision(scim, "00u-dan", emails=[{"value": "dan@acme.test", "type": "work", "primary": True}])["id"]
    response = scim.patch(
        f"Users/{user_id}",
        {"op": "replace", "path": "name.givenName", "value": "Daniel"},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "daniel@acme.test"},
    )
    assert response.status_code == 200, response.content
    user = User.objects.get(scim_identities__scim_id=user_id)
    assert user.email == "daniel@acme.test" and user.full_name == "Daniel"
    assert AuditEvent.objects.filter(action="account.update", actor_email="SCIM token “Okta”").exists()


def test_an_address_another_account_has_is_a_conflict(scim, workspace):
    UserFactory(email="taken@acme.test")
    user_id = _provision(scim, "lou@acme.test")["id"]
    response = scim.patch(f"Users/{user_id}", {"op": "replace", "path": "userName", "value": "taken@acme.test"})
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"
    assert User.objects.filter(scim_identities__scim_id=user_id, email="lou@acme.test").exists()


def test_the_address_of_an_account_others_know_is_not_changed(scim, workspace):
    UserFactory(email="fay@acme.test")
    user_id = _provision(scim, "fay@acme.test")["id"]
    response = scim.patch(f"Users/{user_id}", {"op": "replace", "path": "userName", "value": "fay2@acme.test"})
    assert response.status_code == 400 and response.json()["scimType"] == "mutability"
    assert User.objects.filter(email="fay@acme.test").exists()


def test_patch_active_false_removes_the_membership_and_true_brings_it_back(scim, workspace):
    user_id = _provision(scim, "gus@acme.test")["id"]
    team = make_team(workspace, "Ops")
    scim.patch(f"Groups/{team.pk}", {"op": "add", "path": "members", "value": [{"value": user_id}]})
    response = scim.patch(f"Users/{user_id}", {"op": "replace", "value": {"active": False}})  # Entra ID's form
    assert response.status_code == 200 and response.json()["active"] is False
    assert _member(workspace, "gus@acme.test") is None
    assert User.objects.filter(email="gus@acme.test").exists()
    assert scim.get(f"Users/{user_id}").json()["active"] is False
    assert AuditEvent.objects.filter(action="member.remove", actor_email="SCIM token “Okta”").exists()
    response = scim.patch(f"Users/{user_id}", {"op": "replace", "path": "active", "value": True})
    assert response.json()["active"] is True
    membership = _member(workspace, "gus@acme.test")
    assert membership.role.key == catalog.MEMBER
    assert TeamMembership.objects.filter(team=team, membership=membership).exists()


def test_put_replaces_the_identity(scim, workspace):
    user_id = _provision(scim, "hal@acme.test", externalId="1")["id"]
    response = scim.put(f"Users/{user_id}", user_body("hal@acme.test", externalId="2", active=False))
    assert response.status_code == 200 and response.json()["externalId"] == "2"
    assert _member(workspace, "hal@acme.test") is None


def test_delete_removes_the_membership_and_keeps_the_account(scim, workspace):
    user_id = _provision(scim, "ida@acme.test")["id"]
    assert scim.delete(f"Users/{user_id}").status_code == 204
    assert _member(workspace, "ida@acme.test") is None
    assert User.objects.filter(email="ida@acme.test").exists()
    assert scim.get(f"Users/{user_id}").status_code == 404
    assert AuditEvent.objects.filter(action="scim_user.delete", actor_email="SCIM token “Okta”").exists()


def test_a_site_owner_s_sites_go_to_the_longest_standing_owner(scim, workspace, owner):
    user_id = _provision(scim, "jo@acme.test")["id"]
    site = make_site(workspace, "Blog", owner=_member(workspace, "jo@acme.test"))
    assert scim.delete(f"Users/{user_id}").status_code == 204
    assert Site.objects.get(pk=site.pk).owner.user == owner
    assert AuditEvent.objects.filter(action="site.owner_change", actor_email="SCIM token “Okta”").exists()


def test_the_last_owner_cannot_be_deprovisioned(scim, workspace, owner):
    user_id = _provision(scim, owner.email)["id"]
    for response in (
        scim.patch(f"Users/{user_id}", {"op": "replace", "path": "active", "value": False}),
        scim.put(f"Users/{user_id}", user_body(owner.email, active=False)),
        scim.delete(f"Users/{user_id}"),
    ):
        assert response.status_code == 400
        assert response.json()["scimType"] == "mutability"
        assert "last owner" in response.json()["detail"]
    assert _member(workspace, owner.email).role.key == catalog.OWNER
    assert ScimUser.objects.filter(scim_id=user_id).exists()


def test_an_owner_may_be_deprovisioned_while_another_owner_remains(scim, workspace, owner):
    add_member(workspace, catalog.OWNER, user=UserFactory(email="second@acme.test"))
    user_id = _provision(scim, owner.email)["id"]
    assert scim.delete(f"Users/{user_id}").status_code == 204
    assert _member(workspace, owner.email) is None


# --- groups -------------------------------------------------------------------------------------


def _group(scim, name="Growth", members=()):
    response = scim.post(
        "Groups", {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_group_create_read_list_filter(scim, workspace):
    ann = _provision(scim, "ann@acme.test")["id"]
    group = _group(scim, "Growth", [ann])
    team = Team.objects.get(pk=group["id"], workspace=workspace)
    assert TeamMembership.objects.filter(team=team, membership__user__email="ann@acme.test").exists()
    assert [m["value"] for m in scim.get(f"Groups/{group['id']}").json()["members"]] == [ann]
    _group(scim, "Sales")
    found = scim.get("Groups", filter='displayName eq "sales"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["displayName"] == "Sales"
    assert scim.get("Groups").json()["totalResults"] == 2
    assert AuditEvent.objects.filter(action="team.create", actor_email="SCIM token “Okta”").count() == 2


def test_group_patch_members_add_and_remove(scim, workspace):
    ann, bob = (_provision(scim, f"{n}@acme.test")["id"] for n in ("ann", "bob"))
    group = _group(scim, "Growth", [ann])
    response = scim.patch(f"Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": bob}]})
    assert sorted(m["value"] for m in response.json()["members"]) == sorted([ann, bob])
    response = scim.patch(f"Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{ann}"]'})
    assert [m["value"] for m in response.json()["members"]] == [bob]
    team = Team.objects.get(pk=group["id"])
    assert list(TeamMembership.objects.filter(team=team).values_list("membership__user__email", flat=True)) == [
        "bob@acme.test"
    ]
    response = scim.patch(f"Groups/{group['id']}", {"op": "replace", "path": "displayName", "value": "Grow"})
    assert response.json()["displayName"] == "Grow"


def test_group_put_replaces_members_and_keeps_hand_added_ones(scim, workspace):
    ann, bob = (_provision(scim, f"{n}@acme.test")["id"] for n in ("ann", "bob"))
    group = _group(scim, "Growth", [ann])
    team = Team.objects.get(pk=group["id"])
    by_hand = add_member(workspace, catalog.MEMBER, user=UserFactory(email="hand@acme.test"))
    TeamMembership.objects.create(team=team, membership=by_hand)
    response = scim.put(f"Groups/{team.pk}", {"schemas": [GROUP], "displayName": "Growth", "members": [{"value": bob}]})
    assert [m["value"] for m in response.json()["members"]] == [bob]
    emails = set(TeamMembership.objects.filter(team=team).values_list("membership__user__email", flat=True))
    assert emails == {"bob@acme.test", "hand@acme.test"}


def test_group_delete_deletes_the_team(scim, workspace):
    group = _group(scim)
    assert scim.delete(f"Groups/{group['id']}").status_code == 204
    assert not Team.objects.filter(pk=group["id"]).exists()
    assert scim.get(f"Groups/{group['id']}").status_code == 404


def test_a_duplicate_group_name_is_a_conflict(scim, workspace):
    make_team(workspace, "Growth")
    response = scim.post("Groups", {"schemas": [GROUP], "displayName": "growth"})
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"


def test_entra_id_style_patch_with_capitalised_ops(scim, workspace):
    user_id = _provision(scim, "kim@acme.test", emails=[{"value": "kim@acme.test", "type": "work", "primary": True}])[
        "id"
    ]
    response = scim.patch(
        f"Users/{user_id}",
        {"op": "Replace", "path": "externalId", "value": "e-1"},
        {"op": "Add", "path": "name.familyName", "value": "Park"},
        {"op": "Replace", "path": "active", "value": "False"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["externalId"] == "e-1" and body["name"]["familyName"] == "Park" and body["active"] is False
    assert _member(workspace, "kim@acme.test") is None
