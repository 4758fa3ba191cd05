"""The OpenAPI document describes the API as it answers: schemathesis generates requests for every
operation of /api/v1/openapi.json and sends them to the running server (pytest-django's live
server), with a key that holds every scope, then checks each answer against the document: no 5xx,
only documented status codes, JSON where JSON is promised, bodies that match their schemas, and
refusals of input the document rules out. Examples are bounded and the seed is fixed, so a run is
repeatable.

Not checked: that every schema-valid request is accepted. The document cannot say that a question
names a site or an experience but not both, nor which of the many possible addresses and slugs
exist; such requests are rightly refused with a 400 or 404.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from permissions import catalog
from permissions.keys import SCOPES, key_create
from tests.factories import UserFactory, add_member, make_experience, make_site, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


@pytest.fixture
def raw_key():
    owner = UserFactory(email="owner@acme.test")
    workspace = make_workspace(owner, "Acme")
    make_site(workspace, "Shop")
    make_experience(workspace, creator=add_member(workspace, catalog.MEMBER).user)
    return key_create(actor=None, workspace=workspace, name="Schemathesis", scopes=list(SCOPES))[1]


def test_every_operation_answers_as_documented(live_server, raw_key):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    headers = {"Authorization": f"Bearer {raw_key}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers_as_documented(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_as_documented()


def test_the_document_and_its_page(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/check",
        "/api/v1/members/{email}/permissions",
        "/api/v1/members/{email}",
        "/api/v1/settings/sites",
        "/api/v1/settings/ip-blocklist",
        "/api/v1/settings/policies",
        "/api/v1/settings/integrations",
        "/api/v1/settings/user-attributes",
    }
    assert document["components"]["securitySchemes"] == {"KeyAuth": {"type": "http", "scheme": "bearer"}}
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert "script-src 'self'" in page["Content-Security-Policy"]


def test_other_workspaces_data_never_appears_in_generated_answers(client):
    """A sanity check of the fixture the fuzzing uses: the key sees its workspace only."""
    other = make_workspace(UserFactory(email="them@other.test"), "Other")
    make_site(other, "Theirs")
    owner = UserFactory(email="me@acme.test")
    mine = make_workspace(owner, "Mine")
    raw = key_create(actor=None, workspace=mine, name="Mine", scopes=list(SCOPES))[1]
    sites = client.get("/api/v1/settings/sites", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["sites"]
    assert sites == []
