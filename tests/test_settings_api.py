"""GET /api/v1/settings/ip-blocklist: the key's workspace's blocked networks, for the platform's
trackers; 401 without a valid key, like the check API; a query count that does not grow."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions.keys import READ_SETTINGS, key_create, key_revoke
from tests.factories import make_workspace
from workspace_settings.models import IPBlockRule
from workspace_settings.services import ip_rules_add

URL = "/api/v1/settings/ip-blocklist"


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def raw_key(workspace):
    return key_create(actor=None, workspace=workspace, name="Tracker", scopes=[READ_SETTINGS])[1]


def test_url_is_the_contract():
    assert reverse("api:ip_blocklist") == URL


def test_answers_the_keys_workspace_networks_in_address_order(client, workspace, owner, raw_key):
    ip_rules_add(actor=owner, workspace=workspace, text="2001:db8::/32\n10.0.0.0/8\n203.0.113.7\n192.0.2.0/24")
    elsewhere = make_workspace(owner, "Elsewhere")
    ip_rules_add(actor=owner, workspace=elsewhere, text="198.51.100.0/24")
    response = client.get(URL, **bearer(raw_key))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"networks": ["10.0.0.0/8", "192.0.2.0/24", "203.0.113.7/32", "2001:db8::/32"]}


def test_no_rules_is_an_empty_list(client, raw_key):
    assert client.get(URL, **bearer(raw_key)).json() == {"networks": []}


def test_needs_no_session_and_no_csrf(client, workspace, raw_key):
    client.logout()
    response = client.get(URL, **bearer(raw_key))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Bearer pk_not-a-key"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    ],
    ids=["no header", "empty", "unknown key", "not bearer"],
)
def test_missing_or_bad_key_gets_401_json(client, workspace, owner, headers):
    ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8")
    response = client.get(URL, **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="portal"'
    assert "error" in response.json() and "networks" not in response.json()


def test_revoked_key_gets_401(client, workspace, owner):
    key, raw = key_create(actor=None, workspace=workspace, name="Old", scopes=[READ_SETTINGS])
    key_revoke(actor=None, key=key)
    assert client.get(URL, **bearer(raw)).status_code == 401


def test_only_get(client, raw_key):
    response = client.post(URL, {}, **bearer(raw_key))
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_a_session_without_a_key_is_not_enough(client, workspace, owner):
    client.force_login(owner)
    assert client.get(URL).status_code == 401


# the key (its last use is written at most once a minute: here, the first use), its workspace's networks
API_QUERIES = 3


@pytest.mark.parametrize("size", [5, 300])
def test_query_count_does_not_grow_with_rules(client, workspace, raw_key, django_assert_num_queries, size):
    IPBlockRule.objects.bulk_create(
        IPBlockRule(workspace=workspace, network=f"10.{n // 256}.{n % 256}.0/24") for n in range(size)
    )
    with django_assert_num_queries(API_QUERIES):
        response = client.get(URL, **bearer(raw_key))
    assert len(response.json()["networks"]) == size
