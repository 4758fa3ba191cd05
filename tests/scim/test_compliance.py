"""scim2-tester, a SCIM 2.0 compliance checker, run against the running server.

It reads the discovery documents, then creates, reads, lists, replaces, patches and deletes Users
and Groups with random values. Every check of what the portal says it supports must pass; the
summary is printed (``pytest -s``) for the record.

The portal provisions only addresses at the workspace's verified domains, and the tester makes up
its addresses as ``<uuid>@<uuid>.com`` with no setting to change that. So its random generator is
wrapped to put the same random local part at the workspace's verified domain: everything else it
sends (userNames, names, externalIds, groups, PATCH operations) stays its own.
"""

from __future__ import annotations

from collections import Counter

import pytest
import scim2_tester.checkers.patch_add
import scim2_tester.checkers.patch_replace
import scim2_tester.filling
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from scim.tokens import scim_token_create
from tests.factories import make_workspace

from .conftest import verify_domain

pytestmark = pytest.mark.django_db(transaction=True)

FAILED = {Status.ERROR, Status.CRITICAL}


DOMAIN = "compliance.test"
GENERATORS = (scim2_tester.filling, scim2_tester.checkers.patch_add, scim2_tester.checkers.patch_replace)


@pytest.fixture
def addresses_at_the_verified_domain(monkeypatch):
    generate = scim2_tester.filling.generate_random_value

    def at_domain(*args, **kwargs):
        value = generate(*args, **kwargs)
        if isinstance(value, str) and "@" in value:
            return f"{value.partition('@')[0]}@{DOMAIN}"
        if isinstance(value, list):
            return [f"{v.partition('@')[0]}@{DOMAIN}" if isinstance(v, str) and "@" in v else v for v in value]
        return value

    for module in GENERATORS:
        monkeypatch.setattr(module, "generate_random_value", at_domain)


def test_scim2_tester_finds_no_failure(live_server, addresses_at_the_verified_domain):
    workspace = make_workspace(name="Compliance")
    verify_domain(workspace, DOMAIN)
    _token, raw = scim_token_create(actor=None, workspace=workspace, name="scim2-tester")
    # Closed at the end, so no kept-alive connection holds a server thread (and its database
    # connection) past the test.
    with Client(base_url=f"{live_server.url}/scim/v2", headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
        results = check_server(SyncSCIMClient(http))
    counts = Counter(result.status.name for result in results)
    print(f"\nscim2-tester: {len(results)} checks: {dict(sorted(counts.items()))}")
    failures = [f"{r.title} [{r.resource_type}]: {r.reason}" for r in results if r.status in FAILED]
    for line in failures:
        print("  FAILED", line)
    assert not failures
