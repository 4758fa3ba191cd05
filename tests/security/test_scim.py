"""SCIM from the attacker's side: tokens, other workspaces' ids, hostile filters and bodies."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permissions import catalog
from permissions.roles import builtin_role
from scim.models import ScimToken, ScimUser
from scim.tokens import scim_token_create, scim_token_revoke
from tests.factories import UserFactory, make_team, make_workspace
from tests.scim.conftest import GROUP, Scim, user_body, verify_domain
from workspaces.models import Membership, Team

pytestmark = pytest.mark.django_db

ENDPOINTS = ("ServiceProviderConfig", "ResourceTypes", "Schemas", "Users", "Groups", "Users/x", "Groups/1", "Nope")


@pytest.fixture
def token(workspace):
    # SCIM provisions only addresses at verified domains: acme.test, and b.test for the hostile bodies.
    verify_domain(workspace, "acme.test")
    verify_domain(workspace, "b.test")
    return scim_token_create(actor=None, workspace=workspace, name="Okta")


@pytest.fixture
def scim(client, token) -> Scim:
    return Scim(client, token[1])


@pytest.fixture
def theirs():
    """Workspace B, with a provisioned user and a team, and its own token."""
    workspace = make_workspace(UserFactory(email="owner@other.test"), "Other corp")
    verify_domain(workspace, "other.test")
    _token, raw = scim_token_create(actor=None, workspace=workspace, name="B's IdP")
    other = Scim(None, raw)
    return workspace, raw, other


def _b_objects(client, raw):
    b = Scim(client, raw)
    user = b.post("Users", user_body("bea@other.test")).json()
    group = b.post("Groups", {"schemas": [GROUP], "displayName": "B team", "members": [{"value": user["id"]}]}).json()
    return user["id"], group["id"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer \x00", "Bearer " + "a" * 5000],
)
def test_a_missing_or_garbled_token_is_401(client, path, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get(f"/scim/v2/{path}", **extra)
    assert response.status_code == 401
    assert response.json()["status"] == "401"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(client, workspace, token):
    record, raw = token
    assert Scim(client, raw).get("Users").status_code == 200
    scim_token_revoke(actor=None, token=record)
    for method in ("get", "post", "put", "patch", "delete"):
        assert getattr(client, method)("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_only_a_hash_of_the_token_is_stored(token):
    record, raw = token
    stored = ScimToken.objects.filter(pk=record.pk).values()[0]
    assert raw not in json.dumps(stored, default=str)


def test_a_token_of_a_cannot_see_or_change_b(client, scim, workspace, theirs):
    b_workspace, b_raw, _ = theirs
    b_user, b_group = _b_objects(client, b_raw)
    assert scim.get("Users").json()["totalResults"] == 0
    assert scim.get("Groups").json()["totalResults"] == 0
    assert scim.get("Users", filter='userName eq "bea@other.test"').json()["totalResults"] == 0
    for response in (
        scim.get(f"Users/{b_user}"),
        scim.put(f"Users/{b_user}", user_body("bea@other.test", active=False)),
        scim.patch(f"Users/{b_user}", {"op": "replace", "path": "active", "value": False}),
        scim.delete(f"Users/{b_user}"),
        scim.get(f"Groups/{b_group}"),
        scim.put(f"Groups/{b_group}", {"schemas": [GROUP], "displayName": "Mine"}),
        scim.patch(f"Groups/{b_group}", {"op": "replace", "path": "displayName", "value": "Mine"}),
        scim.delete(f"Groups/{b_group}"),
    ):
        assert response.status_code == 404
    # B's user in A's group is refused like an id that never existed.
    response = scim.post("Groups", {"schemas": [GROUP], "displayName": "Grab", "members": [{"value": b_user}]})
    assert response.status_code == 400
    assert Membership.objects.filter(workspace=b_workspace, user__email="bea@other.test").exists()
    assert Team.objects.get(pk=b_group).name == "B team"
    assert not Team.objects.filter(workspace=workspace).exists()


def test_provisioning_an_address_of_b_in_a_does_not_touch_b(client, scim, workspace, theirs):
    """A's directory sends the address of one of B's people (B's verified domain): refused, and
    nothing of B's changes."""
    b_workspace, b_raw, _ = theirs
    _b_objects(client, b_raw)
    response = scim.post("Users", user_body("bea@other.test", name={"givenName": "Renamed"}))
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
    assert not ScimUser.objects.filter(workspace=workspace).exists()
    assert not Membership.objects.filter(workspace=workspace, user__email="bea@other.test").exists()
    assert Membership.objects.filter(workspace=b_workspace, user__email="bea@other.test").exists()
    assert ScimUser.objects.filter(workspace=b_workspace).count() == 1


def test_a_may_not_move_the_address_of_someone_b_knows(client, scim, workspace, theirs):
    """Someone at A's domain who is also a member of B: A provisions them, but may not change the
    sign-in address B knows them by."""
    b_workspace, _, _ = theirs
    shared = UserFactory(email="sam@acme.test")
    Membership.objects.create(workspace=b_workspace, user=shared, role=builtin_role(catalog.MEMBER))
    response = scim.post("Users", user_body("sam@acme.test", name={"givenName": "Renamed"}))
    assert response.status_code == 201
    a_id = response.json()["id"]
    response = scim.patch(f"Users/{a_id}", {"op": "replace", "path": "userName", "value": "mine@acme.test"})
    assert response.status_code == 400
    assert scim.delete(f"Users/{a_id}").status_code == 204
    shared.refresh_from_db()
    assert shared.email == "sam@acme.test" and shared.full_name != "Renamed"
    assert Membership.objects.filter(workspace=b_workspace, user=shared).exists()


def test_team_ids_of_b_are_not_found_whatever_their_shape(scim, theirs):
    b_team = make_team(theirs[0], "Theirs")
    for team_id in (str(b_team.pk), "١", "0x1", "-1", "1e3", "9" * 40, "..", "1 OR 1=1", "%2e%2e"):
        assert scim.get(f"Groups/{team_id}").status_code == 404
    assert scim.get("Groups/%00").status_code == 400  # a NUL in the path is refused before any lookup


HOSTILE_FILTERS = [
    'userName eq "a" or 1 eq 1',
    'userName eq "a" and externalId eq "b"',
    "userName eq a",
    'userName co "a"',
    'password eq "x"',
    'meta.created gt "2020"',
    'userName eq "\\u0000"',
    'userName eq "' + "x" * 2000 + '"',
    '"',
    "(",
    "",
    " ",
    'emails[type eq "work"].value eq "x"',
    'userName eq "\\"); DROP TABLE accounts_user; --"',
    'userName eq "\\ud800"',
]


@pytest.mark.parametrize("text", HOSTILE_FILTERS)
@pytest.mark.parametrize("path", ["Users", "Groups"])
def test_hostile_filters_never_500(scim, text, path):
    response = scim.get(path, filter=text)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json()["scimType"] in ("invalidFilter", "invalidValue")


@pytest.mark.parametrize(
    "params",
    [
        {"startIndex": "abc"},
        {"count": "1e9"},
        {"count": "-5"},
        {"startIndex": "-3"},
        {"count": "99999999999999999999"},
        {"startIndex": "١"},
        {"attributes": "\x00"},
    ],
)
def test_hostile_paging_never_500(scim, params):
    assert scim.get("Users", **params).status_code in (200, 400)


HOSTILE_BODIES = [
    "",
    "not json",
    "[]",
    "null",
    "1",
    '"text"',
    "{}",
    '{"userName": 5}',
    '{"userName": ["a@b.test"]}',
    '{"userName": "a@b.test", "active": "maybe"}',
    '{"userName": "a@b.test", "emails": "x"}',
    '{"userName": "a@b.test", "emails": [1, 2]}',
    '{"userName": "a@b.test", "emails": [{"value": "a@b.test", "primary": true}, '
    '{"value": "c@b.test", "primary": true}]}',
    '{"userName": "a@b.test", "name": "Ann"}',
    '{"userName": "a@b.test", "name": {"givenName": {"x": 1}}}',
    '{"userName": "' + "a" * 300 + '@b.test"}',
    '{"userName": "a@b.test", "name": {"givenName": "' + "x" * 500 + '"}}',
    '{"userName": "a\\u0000@b.test"}',
    '{"userName": "\\ud800@b.test"}',
    '{"displayName": null, "members": "all"}',
    '{"displayName": "' + "x" * 200 + '"}',
    '{"displayName": "T", "members": [{"value": null}]}',
    '{"displayName": "T", "members": [{"value": "../../Users"}]}',
    "[" * 100 + "]" * 100,
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_hostile_bodies_never_500(scim, body):
    for path in ("Users", "Groups"):
        response = scim.call("post", path, body)
        assert response.status_code in (201, 400, 409), (path, body, response.content)


HOSTILE_PATCHES = [
    {},
    {"schemas": ["x"], "Operations": [{"op": "replace", "value": {"active": False}}]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": "all"},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "explode"}]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove"}]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "value": 1}]},
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "x[", "value": 1}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name.givenName.x", "value": 1}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": 5, "value": 1}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "emails", "value": [{"value": {"$ne": 1}}]}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "userName"}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name", "value": 3}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": 'members[value eq "x"].display', "value": "x"}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": "sometimes"}],
    },
]


@pytest.mark.parametrize("body", HOSTILE_PATCHES)
def test_hostile_patches_never_500_and_change_nothing(scim, workspace, body):
    user = scim.post("Users", user_body("pat@acme.test")).json()
    group = scim.post("Groups", {"schemas": [GROUP], "displayName": "Pats", "members": [{"value": user["id"]}]}).json()
    for path in (f"Users/{user['id']}", f"Groups/{group['id']}"):
        response = scim.call("patch", path, body)
        assert response.status_code in (200, 400), (path, response.content)
    assert Membership.objects.filter(workspace=workspace, user__email="pat@acme.test").exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["userName", "emails", "value", "name", "active", "displayName", "members", "x"]),
                inner,
                max_size=5,
            )
        ),
        max_leaves=12,
    )
)
def test_fuzzed_bodies_never_500(scim, body):
    for method, path in (("post", "Users"), ("post", "Groups"), ("put", "Users/00000000-0000-0000-0000-000000000000")):
        response = scim.call(method, path, json.dumps(body))
        assert response.status_code < 500, (method, path, body, response.content)
