"""Hostile input to the key-authenticated API (/api/v1/): never a 500, always a 400 with a message.

A NUL byte, a lone UTF-16 surrogate or a deeply nested JSON body used to reach the database driver or
the JSON parser's recursion limit and come back as a server error, for anyone holding a valid key.
"""

from __future__ import annotations

import json

import pytest

from permissions.keys import key_create
from tests.factories import make_site

CHECK = "/api/v1/check"


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def raw_key(workspace):
    make_site(workspace, "Shop")
    return key_create(actor=None, workspace=workspace, name="Attacker's key")[1]


def assert_refused(response):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


@pytest.mark.parametrize(
    "query",
    [
        "user=a%00b@x.test&permission=view_site&site=shop",
        "user=owner@acme.test&permission=view_site&site=sh%00op",
        "user=owner@acme.test&permission=view_%00site&site=shop",
        "user=owner@acme.test&permission=change_experience&experience=1%00",
        "user=owner@acme.test&permission=view_site&site=shop&extra%00=1",
    ],
)
def test_nul_byte_in_check_query_is_a_400(client, raw_key, query):
    assert_refused(client.get(f"{CHECK}?{query}", **bearer(raw_key)))


@pytest.mark.parametrize("email", ["%00", "a%00b@x.test", "owner@acme.test%00"])
def test_nul_byte_in_member_path_is_a_400(client, raw_key, email):
    assert_refused(client.get(f"/api/v1/members/{email}/permissions", **bearer(raw_key)))


@pytest.mark.parametrize(
    "item",
    [
        '{"user": "\\ud800@x.test", "permission": "view_site", "site": "shop"}',
        '{"user": "owner@acme.test", "permission": "view_site", "site": "\\udfff"}',
        '{"user": "owner@acme.test", "permission": "view_\\ud800site", "site": "shop"}',
        '{"user": "a\\u0000b@x.test", "permission": "view_site", "site": "shop"}',
        '{"user": "owner@acme.test", "permission": "view_site", "site": "sh\\u0000op"}',
    ],
)
def test_lone_surrogate_or_nul_in_json_body_is_a_400(client, raw_key, item):
    body = '{"checks": [' + item + "]}"
    assert_refused(client.post(CHECK, body, content_type="application/json", **bearer(raw_key)))


@pytest.mark.parametrize("depth", [3_000, 100_000])
@pytest.mark.parametrize("brackets", ["[]", "{}"])
def test_deeply_nested_json_body_is_a_400(client, raw_key, depth, brackets):
    opening, closing = brackets
    body = '{"a":' * depth + "1" + "}" * depth if opening == "{" else opening * depth + closing * depth
    assert_refused(client.post(CHECK, body, content_type="application/json", **bearer(raw_key)))


def test_nested_checks_item_is_a_400(client, raw_key):
    body = json.dumps({"checks": [{"user": "owner@acme.test", "permission": "view_site", "site": "shop"}]})
    body = body.replace('"shop"', "[" * 3_000 + "]" * 3_000)
    assert_refused(client.post(CHECK, body, content_type="application/json", **bearer(raw_key)))


def test_body_that_is_not_utf8_is_a_400(client, raw_key):
    assert_refused(client.post(CHECK, b'{"checks": [\xff]}', content_type="application/json", **bearer(raw_key)))


def test_ordinary_questions_still_answer(client, raw_key):
    response = client.get(f"{CHECK}?user=owner@acme.test&permission=view_site&site=shop", **bearer(raw_key))
    assert response.json() == {"allowed": True}
    body = json.dumps({"checks": [{"user": "owner@acme.test", "permission": "view_site", "site": "shop"}]})
    response = client.post(CHECK, body, content_type="application/json", **bearer(raw_key))
    assert response.json() == {"results": [True]}


@pytest.mark.parametrize("experience", ["١", "𝟏", "+1", " 1", "1_0", "¹"])
def test_experience_id_takes_ascii_digits_only(client, raw_key, workspace, owner, experience):
    from tests.factories import make_experience

    make_experience(workspace, creator=owner)  # some id exists, so a lenient parse would answer 200
    query = {"user": owner.email, "permission": "change_experience", "experience": experience}
    assert_refused(client.get(CHECK, query, **bearer(raw_key)))
    body = json.dumps({"checks": [query]})
    assert_refused(client.post(CHECK, body, content_type="application/json", **bearer(raw_key)))
